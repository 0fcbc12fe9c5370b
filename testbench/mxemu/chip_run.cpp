#include "testbench/mxemu/chip_run.h"

#include <fmt/core.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <random>

#include "model/common/error.h"
#include "model/common/npy.h"
#include "model/numerics/fused.h"
#include "model/numerics/gemm.h"
#include "model/numerics/mx.h"
#include "model/sim/runner.h"
#include "model/sim/sim_config.h"
#include "testbench/mxemu/bundled.h"
#include "testbench/mxemu/options.h"

namespace mxemu::cli {

namespace {

std::pair<std::string, std::string> split_eq(const std::string& s, const char* option) {
  const auto eq = s.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == s.size()) {
    throw_bad_input("{} expects NAME=VALUE, got '{}'", option, s);
  }
  return {s.substr(0, eq), s.substr(eq + 1)};
}

std::vector<std::uint8_t> read_binary(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_bad_input("cannot open firmware file '{}'", path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void console_to_stdout(char c) {
  std::fputc(c, stdout);
  if (c == '\n') std::fflush(stdout);
}

// A per-chip option's value: "C:rest" names chip C; anything else applies to every chip.
struct ChipArg {
  std::optional<std::uint32_t> chip;
  std::string value;
};

ChipArg chip_arg(const std::string& s, const char* option, std::uint32_t chips) {
  const auto colon = s.find(':');
  if (colon == std::string::npos || colon == 0 || s.find_first_not_of("0123456789") != colon) {
    return {std::nullopt, s};
  }
  unsigned long v = 0;
  try {
    v = std::stoul(s.substr(0, colon));
  } catch (const std::exception&) {
    v = ~0ul;
  }
  if (v >= chips) {
    throw_bad_input("{} {}: chip {} does not exist (the pod has {} chip{}: 0..{})", option, s,
                    s.substr(0, colon), chips, chips == 1 ? "" : "s", chips - 1);
  }
  return {static_cast<std::uint32_t>(v), s.substr(colon + 1)};
}

std::uint32_t parse_u32(const std::string& value, const std::string& what) {
  std::size_t used = 0;
  unsigned long v = 0;
  try {
    v = std::stoul(value, &used, 0);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != value.size() || value.empty() || value[0] == '-' || v > 0xFFFFFFFFul) {
    throw_bad_input("{}: '{}' is not a 32-bit unsigned integer", what, value);
  }
  return static_cast<std::uint32_t>(v);
}

// "x_{chip}.npy" for chip 3: "x_3.npy".
std::string per_chip(const std::string& pattern, std::uint32_t chip) {
  std::string s = pattern;
  for (std::size_t at = s.find("{chip}"); at != std::string::npos; at = s.find("{chip}", at)) {
    s.replace(at, 6, std::to_string(chip));
  }
  return s;
}

// "4x4x4", "4x4" or "8": chips along x, y, z.
std::vector<std::uint32_t> parse_shape(const std::string& text) {
  std::vector<std::uint32_t> shape;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t x = text.find('x', start);
    const std::string part =
        text.substr(start, x == std::string::npos ? std::string::npos : x - start);
    shape.push_back(static_cast<std::uint32_t>(parse_uint_option(part, "--pod", 1, 16384)));
    if (x == std::string::npos) break;
    start = x + 1;
  }
  if (shape.size() > 3) throw_bad_input("--pod {}: at most three dimensions (XxYxZ)", text);
  while (shape.size() < 3) shape.push_back(1);
  return shape;
}

ici::TopologyKind parse_topology(const std::string& t) {
  if (t == "ring") return ici::TopologyKind::kRing;
  if (t == "mesh") return ici::TopologyKind::kMesh;
  if (t == "torus") return ici::TopologyKind::kTorus;
  if (t == "twisted") return ici::TopologyKind::kTwisted;
  throw_bad_input("--topology {}: expected ring, mesh, torus or twisted", t);
}

}  // namespace

std::string exit_line(const std::string& who, int code, std::uint64_t cycles,
                      std::uint64_t instret) {
  if (code == 0) {
    return fmt::format("mxemu: {}firmware passed (exit 0) in {} cycles, {} instructions", who,
                       cycles, instret);
  }
  // riscv-tests report a failure of test n as tohost = (n << 1) | 1, i.e. exit code n.
  return fmt::format(
      "mxemu: {}firmware failed with code {} (riscv-tests: test {}) in {} cycles, {} "
      "instructions",
      who, code, code, cycles, instret);
}

int run_firmware_on_chip(const ChipRunArgs& a) {
  sim::PodJob job;
  job.config = sim::load_sim_config(a.config);
  sim::PodConfig& pod = job.config->pod;
  if (a.chips > 0 && !a.pod.empty()) throw_bad_input("give --chips or --pod, not both");
  if (a.chips > 0) {
    pod.shape = {a.chips, 1, 1};
    pod.topology = ici::TopologyKind::kRing;
  }
  if (!a.pod.empty()) pod.shape = parse_shape(a.pod);
  if (!a.topology.empty()) pod.topology = parse_topology(a.topology);
  if (pod.chips() > sim::PodConfig::kMaxChips) {
    throw_bad_input("a pod of {} chips is more than the limit ({})", pod.chips(),
                    sim::PodConfig::kMaxChips);
  }
  const std::uint32_t n = pod.chips();
  job.max_cycles = a.max_cycles;
  job.max_seconds = a.max_seconds;
  job.cycle_accurate = a.cycle_accurate;
  job.threads = a.threads;
  job.timeline_path = a.timeline;
  job.stats_path = a.stats;
  job.progress = true;
  job.interrupt = a.interrupt;
  job.on_gdb_listen = [](std::uint16_t port) {
    fmt::print(stderr, "mxemu: gdb stub listening on 127.0.0.1:{}\n", port);
    std::fflush(stderr);
  };
  if (!a.gdb.empty()) {
    const ChipArg g = chip_arg(a.gdb, "--gdb", n);
    const std::uint32_t port = parse_u32(g.value, "--gdb");
    job.gdb_port = static_cast<int>(std::min<std::uint32_t>(port, 1u << 20));
    job.gdb_chip = g.chip.value_or(0);
  }

  // One program per chip, filled from the options (a chip prefix targets one chip).
  std::vector<sim::ChipProgram> progs(n);
  std::vector<std::string> fw(n);
  if (!a.kernel.empty()) {
    const std::vector<std::uint8_t> elf = bundled::elf(a.kernel);
    if (elf.empty())
      throw_bad_input("no bundled kernel '{}' (gemm, linear_relu, quantize)", a.kernel);
    for (auto& p : progs) {
      p.firmware_name = a.kernel + " (bundled)";
      p.firmware_elf = elf;
    }
  }
  for (const std::string& f : a.firmware) {
    const ChipArg c = chip_arg(f, "--firmware", n);
    for (std::uint32_t i = 0; i < n; ++i) {
      if (!c.chip || *c.chip == i) fw[i] = c.value;
    }
  }
  std::map<std::string, std::vector<std::uint8_t>> elf_cache;
  for (std::uint32_t i = 0; i < n; ++i) {
    if (!a.kernel.empty()) continue;
    if (fw[i].empty()) throw_bad_input("chip {} has no firmware: give --firmware {}:F.elf", i, i);
    auto it = elf_cache.find(fw[i]);
    if (it == elf_cache.end()) it = elf_cache.emplace(fw[i], read_binary(fw[i])).first;
    progs[i].firmware_name = n == 1 ? fw[i] : fmt::format("{} (chip {})", fw[i], i);
    progs[i].firmware_elf = it->second;
  }
  for (std::uint32_t i = 0; i < n; ++i) {
    progs[i].console_sink = console_to_stdout;
  }
  for (const std::string& in : a.inputs) {
    const ChipArg c = chip_arg(in, "--in", n);
    auto [name, file] = split_eq(c.value, "--in");
    if (file.find("{chip}") != std::string::npos) {  // one file per chip
      for (std::uint32_t i = 0; i < n; ++i) {
        if (!c.chip || *c.chip == i)
          progs[i].inputs.emplace_back(name, read_npy(per_chip(file, i)));
      }
      continue;
    }
    const NpyArray arr = read_npy(file);
    for (std::uint32_t i = 0; i < n; ++i) {
      if (!c.chip || *c.chip == i) progs[i].inputs.emplace_back(name, arr);
    }
  }
  for (const std::string& in : a.stacked_inputs) {
    auto [name, file] = split_eq(in, "--in-stack");
    const NpyArray arr = read_npy(file);
    if (arr.shape.size() < 2 || arr.shape[0] != n) {
      throw_bad_input("--in-stack {}: {} has shape {}; its leading axis must be the {} chips", in,
                      file, arr.shape_str(), n);
    }
    const std::size_t per = arr.data.size() / n;
    for (std::uint32_t i = 0; i < n; ++i) {
      NpyArray slice;
      slice.dtype = arr.dtype;
      slice.shape.assign(arr.shape.begin() + 1, arr.shape.end());
      slice.data.assign(arr.data.begin() + static_cast<std::ptrdiff_t>(i * per),
                        arr.data.begin() + static_cast<std::ptrdiff_t>((i + 1) * per));
      progs[i].inputs.emplace_back(name, std::move(slice));
    }
  }
  struct Out {
    std::uint32_t chip;
    std::string name, file;
  };
  std::vector<Out> outs;
  for (const std::string& out : a.outputs) {
    const ChipArg c = chip_arg(out, "--out", n);
    auto [name, file] = split_eq(c.value, "--out");
    const bool each = file.find("{chip}") != std::string::npos;
    if (!c.chip && n > 1 && !each) {
      throw_bad_input(
          "--out {}: say which chip's output (e.g. --out 0:{}), or write every chip's with "
          "{{chip}} in the file name",
          out, out);
    }
    for (std::uint32_t i = 0; i < n; ++i) {
      if (c.chip ? *c.chip != i : (n > 1 && !each) ? i != 0 : false) continue;
      outs.push_back(Out{i, name, each ? per_chip(file, i) : file});
      progs[i].read_back.push_back(name);
    }
  }
  for (const std::string& sc : a.scalars) {
    const ChipArg c = chip_arg(sc, "--scalar", n);
    auto [name, value] = split_eq(c.value, "--scalar");
    const std::uint32_t v = parse_u32(value, "--scalar " + name);
    for (std::uint32_t i = 0; i < n; ++i) {
      if (!c.chip || *c.chip == i) progs[i].scalars.emplace_back(name, v);
    }
  }
  job.programs = std::move(progs);

  const sim::PodResult r = sim::run_pod_job(job);
  std::fflush(stdout);
  const bool single = n == 1;
  for (const Out& o : outs) {
    const auto& res = r.chips[o.chip];
    if (res.end.kind == chip::ChipEnd::Kind::kExit) write_npy(o.file, res.outputs.at(o.name));
  }

  // The status: mxemu's own failures first (the first chip that failed), then firmware failures.
  int status = 0;
  for (std::uint32_t i = 0; i < n; ++i) {
    const sim::ChipJobResult& c = r.chips[i];
    const std::string who = single ? std::string() : fmt::format("chip {}: ", i);
    if (c.end.kind == chip::ChipEnd::Kind::kExit) {
      if (!a.quiet) {
        fmt::print(stderr, "{}\n",
                   exit_line(who, c.end.exit_code, c.total_cycles,
                             c.stats["core"]["instret"].get<std::uint64_t>()));
      }
    } else if (c.end.failed() && !single) {
      fmt::print(stderr, "{}{}{}\n", kErrorPrefix, who, c.end.message);
    }
  }
  if (r.first_failure) {
    const chip::ChipEnd& e = r.chips[*r.first_failure].end;
    if (single) throw Error(e.error, e.message);  // printed once, by main
    return static_cast<int>(e.error);
  }
  for (const sim::ChipJobResult& c : r.chips) {
    if (c.end.kind != chip::ChipEnd::Kind::kExit || c.end.exit_code == 0) continue;
    if (a.exit_mode == ExitCodeMode::kPassthrough) return c.end.exit_code;
    status = kFirmwareFailedStatus;
    break;
  }
  return status;
}

int chip_demo(std::uint64_t seed, const std::string& config) {
  constexpr std::size_t kM = 1024, kN = 1024, kK = 1024;
  constexpr int kBlock = num::kDefaultMxBlock;
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> dist(0.0F, 1.0F);
  std::vector<float> a_f32(kM * kK), bt_f32(kN * kK);
  for (float& v : a_f32) v = dist(rng);
  for (float& v : bt_f32) v = dist(rng);
  // MXFP8 E4M3 with UE8M0 scales per 32 along K: A row-wise, B column-wise (quantise B^T).
  std::vector<std::uint8_t> a(kM * kK), sa(kM * kK / kBlock), bt(kN * kK), sbt(kN * kK / kBlock);
  num::mx_quantize(a_f32, kM, kK, kBlock, num::Fp8Format::kE4M3, num::MxScaleMode::kFloor, a, sa);
  num::mx_quantize(bt_f32, kN, kK, kBlock, num::Fp8Format::kE4M3, num::MxScaleMode::kFloor, bt,
                   sbt);
  std::vector<std::uint8_t> b(kK * kN), sb(kK / kBlock * kN);
  for (std::size_t k = 0; k < kK; ++k)
    for (std::size_t n = 0; n < kN; ++n) b[k * kN + n] = bt[n * kK + k];
  for (std::size_t j = 0; j < kK / kBlock; ++j)
    for (std::size_t n = 0; n < kN; ++n) sb[j * kN + n] = sbt[n * (kK / kBlock) + j];

  sim::GemmJob g;
  g.a = make_u8({kM, kK}, a);
  g.b = make_u8({kK, kN}, b);
  g.sa = make_u8({kM, kK / kBlock}, sa);
  g.sb = make_u8({kK / kBlock, kN}, sb);
  g.block = kBlock;
  sim::ChipJob job = sim::make_gemm_job(g, bundled::elf("gemm"));
  job.config_path = config;
  job.console_sink = console_to_stdout;
  const sim::ChipJobResult r = sim::run_chip_job(job);
  const std::vector<float> c = r.outputs.at("C").as_f32();

  // The numerics library on the same operands: the fast GEMM on every output, and the exact
  // fused-step loop (the definition) on a sample.
  num::GemmProblem p;
  p.m = kM;
  p.n = kN;
  p.k = kK;
  p.a = a;
  p.b = b;
  p.scale_a = sa;
  p.scale_b = sb;
  p.block = kBlock;
  std::vector<float> ref(kM * kN);
  num::gemm(p, ref);
  std::size_t mismatches = 0;
  for (std::size_t i = 0; i < c.size(); ++i) {
    if (num::f32_bits(c[i]) != num::f32_bits(ref[i])) ++mismatches;
  }
  std::size_t exact_bad = 0;
  for (int s = 0; s < 32; ++s) {
    const std::size_t i = rng() % kM, j = rng() % kN;
    std::uint32_t acc = 0;
    for (std::size_t k = 0; k < kK; ++k) {
      acc = num::fused_step_bits(acc, num::Fp8Format::kE4M3, a[i * kK + k], num::Fp8Format::kE4M3,
                                 b[k * kN + j], sa[i * (kK / kBlock) + k / kBlock],
                                 sb[(k / kBlock) * kN + j]);
    }
    if (acc != num::f32_bits(c[i * kN + j])) ++exact_bad;
  }
  // How far MXFP8 is from FP64 on the unquantised data (the format's error, not the chip's).
  double max_rel = 0.0;
  for (std::size_t i = 0; i < kM; i += 37) {
    for (std::size_t j = 0; j < kN; j += 29) {
      double ref64 = 0.0, mag = 0.0;
      for (std::size_t k = 0; k < kK; ++k) {
        const double t = static_cast<double>(a_f32[i * kK + k]) * bt_f32[j * kK + k];
        ref64 += t;
        mag += std::abs(t);
      }
      max_rel = std::max(max_rel, std::abs(c[i * kN + j] - ref64) / mag);
    }
  }
  const auto& s = r.stats;
  fmt::print("mxemu demo on chip '{}' (seed {})\n", s["chip"].get<std::string>(), seed);
  fmt::print(
      "  job: C = A.B, {}x{}x{} MXFP8 (E4M3, UE8M0 scale per {} along K) by the bundled "
      "gemm firmware\n",
      kM, kN, kK, kBlock);
  fmt::print("  cycles: {} ({:.1f} us at {:.2f} GHz); core instructions: {}\n",
             s["total_cycles"].get<std::uint64_t>(),
             static_cast<double>(s["total_cycles"].get<std::uint64_t>()) / 1e3, 1.0,
             s["core"]["instret"].get<std::uint64_t>());
  fmt::print("  MXU utilisation: {:.1f} % of peak ({} MACs; busy {} array-cycles)\n",
             100.0 * s["mxu_utilization"].get<double>(), s["mxu_macs"].get<std::uint64_t>(),
             s["mxu_busy_cycles"].get<std::uint64_t>());
  fmt::print("  HBM: {} bytes read, {} written, {:.1f} GB/s, row hits {:.1f} %\n",
             s["hbm_bytes_read"].get<std::uint64_t>(), s["hbm_bytes_written"].get<std::uint64_t>(),
             s["hbm_bandwidth_gbps"].get<double>(), 100.0 * s["hbm"]["row_hit_rate"].get<double>());
  fmt::print(
      "  check: {} of {} outputs differ from the numerics library; {} of 32 sampled "
      "outputs differ from the exact fused-step loop\n",
      mismatches, c.size(), exact_bad);
  fmt::print("  MXFP8 vs FP64 on the unquantised inputs: max |err| / sum|a*b| = {:.2e}\n", max_rel);
  fmt::print("  simulated in {:.2f} s of host time\n", r.host_seconds);
  const bool ok = mismatches == 0 && exact_bad == 0;
  fmt::print("{}\n", ok ? "PASS" : "FAIL");
  return ok ? 0 : 1;
}

}  // namespace mxemu::cli
