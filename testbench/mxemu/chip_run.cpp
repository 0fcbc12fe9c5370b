#include "testbench/mxemu/chip_run.h"

#include <fmt/core.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <systemc>

#include "model/common/error.h"
#include "model/common/npy.h"
#include "model/numerics/fused.h"
#include "model/numerics/gemm.h"
#include "model/numerics/mx.h"
#include "model/sim/partition.h"
#include "model/sim/runner.h"
#include "model/sim/sc_context.h"
#include "model/sim/sim_config.h"
#include "model/sim/transport.h"
#include "testbench/mxemu/bundled.h"
#include "testbench/mxemu/options.h"
#include "testbench/mxemu/rtl_option.h"

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

// A --scalar value: a 32-bit unsigned integer, or a negative one down to -2^31 given as its
// two's complement (a kernel's signed parameter, e.g. attention's causal_offset).
std::uint32_t parse_scalar(const std::string& value, const std::string& what) {
  if (value.empty() || value[0] != '-') return parse_u32(value, what);
  std::size_t used = 0;
  long long v = 0;
  try {
    v = std::stoll(value, &used, 0);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != value.size() || v < -(1LL << 31)) {
    throw_bad_input("{}: '{}' is not a 32-bit integer", what, value);
  }
  return static_cast<std::uint32_t>(static_cast<std::int32_t>(v));
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
  apply_rtl_option(a.rtl, *job.config);
  apply_rtl_waves(a.rtl_waves, a.trace_window, *job.config);
  apply_model_waves(a.vcd, a.fst, *job.config);
  const std::unique_ptr<chip::RtlPlugins> rtl = make_rtl_plugins();
  job.rtl = rtl.get();
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

  // Started by mpirun: the pod is shared out among the ranks (docs/DISTRIBUTED.md); rank 0
  // prints, writes the files and reports, every rank leaves with the same status.
  std::unique_ptr<sim::PodTransport> transport;
  if (sim::launched_by_mpi()) {
    transport = sim::load_mpi_transport();
    job.transport = transport.get();
    job.partition = a.partition;
    job.crash_rank = a.crash_rank;
  } else if (a.partition != "auto" || a.crash_rank >= 0) {
    throw_bad_input("--partition and --crash-rank need a run started by mpirun");
  }
  // A rank reads the inputs of its own chips only (a spare's are its failed chip's, same rank).
  std::vector<bool> mine(n, true);
  if (transport && transport->size() > 1) {
    const sim::Partition part =
        sim::make_partition(pod, static_cast<std::uint32_t>(transport->size()), a.partition);
    for (std::uint32_t i = 0; i < n; ++i) {
      mine[i] = part.rank_of[i] == static_cast<std::uint32_t>(transport->rank());
    }
  }

  // One program per chip, filled from the options (a chip prefix targets one chip).
  std::vector<sim::ChipProgram> progs(n);
  std::vector<std::string> fw(n);
  if (!a.kernel.empty()) {
    const std::vector<std::uint8_t> elf = bundled::elf(a.kernel);
    if (elf.empty())
      throw_bad_input("no bundled kernel '{}' (bundled: {})", a.kernel, MXEMU_BUNDLED_KERNELS);
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
  // A pod's chips print at the same time: each chip's console goes out a whole line at a time,
  // so lines of different chips do not interleave (a chip's unfinished line is written when the
  // run ends). One chip's goes out as it comes.
  std::vector<std::shared_ptr<std::string>> lines(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    if (n == 1) {
      progs[i].console_sink = console_to_stdout;
      continue;
    }
    lines[i] = std::make_shared<std::string>();
    progs[i].console_sink = [line = lines[i]](char c) {
      *line += c;
      if (c != '\n') return;
      std::fwrite(line->data(), 1, line->size(), stdout);
      std::fflush(stdout);
      line->clear();
    };
  }
  for (const std::string& in : a.inputs) {
    const ChipArg c = chip_arg(in, "--in", n);
    auto [name, file] = split_eq(c.value, "--in");
    if (file.find("{chip}") != std::string::npos) {  // one file per chip
      for (std::uint32_t i = 0; i < n; ++i) {
        if ((!c.chip || *c.chip == i) && mine[i])
          progs[i].inputs.emplace_back(name, read_npy(per_chip(file, i)));
      }
      continue;
    }
    const NpyArray arr = read_npy(file);
    for (std::uint32_t i = 0; i < n; ++i) {
      if ((!c.chip || *c.chip == i) && mine[i]) progs[i].inputs.emplace_back(name, arr);
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
      if (!mine[i]) continue;
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
    const std::uint32_t v = parse_scalar(value, "--scalar " + name);
    for (std::uint32_t i = 0; i < n; ++i) {
      if (!c.chip || *c.chip == i) progs[i].scalars.emplace_back(name, v);
    }
  }
  job.programs = std::move(progs);

  const sim::PodResult r = sim::run_pod_job(job);
  for (const auto& line : lines) {
    if (line && !line->empty()) std::fwrite(line->data(), 1, line->size(), stdout);
  }
  std::fflush(stdout);
  const bool single = n == 1;
  const bool speak = r.rank == 0;
  if (speak && !r.partition.empty() && !a.quiet) fmt::print(stderr, "mxemu: pod {}\n", r.partition);
  for (const Out& o : outs) {
    if (!speak) break;
    const auto& res = r.chips[o.chip];
    if (res.end.kind != chip::ChipEnd::Kind::kExit) continue;
    const auto it = res.outputs.find(o.name);
    if (it != res.outputs.end()) {
      write_npy(o.file, it->second);
    } else if (!a.quiet) {  // only when the firmware failed (sim::read_outputs)
      fmt::print(stderr,
                 "mxemu: {}no output '{}' written: the firmware failed before declaring it\n",
                 single ? std::string() : fmt::format("chip {}: ", o.chip), o.name);
    }
  }

  // The status: mxemu's own failures first (the first chip that failed), then firmware failures.
  int status = 0;
  for (std::uint32_t i = 0; i < n; ++i) {
    const sim::ChipJobResult& c = r.chips[i];
    const std::string who = single ? std::string() : fmt::format("chip {}: ", i);
    if (!speak) break;
    if (!a.quiet && c.stats.contains("semaphores_shared")) {
      for (const auto& x : c.stats["semaphores_shared"]) {
        std::string queues;
        for (const auto& q : x["queues"])
          queues += (queues.empty() ? "" : " and ") + q.get<std::string>();
        fmt::print(stderr,
                   "mxemu: warning: {}semaphore {} was waited on by {} at once (first at cycle "
                   "{}): whichever looks first after a signal takes it, so which one proceeds "
                   "is a race (docs/CHIP.md \"Semaphores\")\n",
                   who, x["semaphore"].get<std::uint32_t>(), queues,
                   x["cycle"].get<std::uint64_t>());
      }
    }
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
  // What the interconnect did: faults, spares, OCS programs (pod.ici.events).
  if (speak && !a.quiet && r.stats.contains("pod") && r.stats["pod"].contains("ici")) {
    for (const auto& e : r.stats["pod"]["ici"]["events"]) {
      fmt::print(stderr, "mxemu: pod: at {} ns: {}\n", e["at_ns"].get<double>(),
                 e["event"].get<std::string>());
    }
  }
  if (r.first_failure) {
    const chip::ChipEnd& e = r.chips[*r.first_failure].end;
    if (single) throw Error(e.error, e.message);  // printed once, by main
    return static_cast<int>(e.error);             // the same on every rank
  }
  for (const sim::ChipJobResult& c : r.chips) {
    if (c.end.kind != chip::ChipEnd::Kind::kExit || c.end.exit_code == 0) continue;
    if (a.exit_mode == ExitCodeMode::kPassthrough) return c.end.exit_code;
    status = kFirmwareFailedStatus;
    break;
  }
  return status;
}

namespace {

// Random MXFP8 operands of C = A.B: E4M3 codes with UE8M0 scales per `block` along K, A row-wise
// and B column-wise (B^T quantised), and the FP32 data they came from.
struct MxOperands {
  std::size_t m = 0, n = 0, k = 0;
  std::vector<float> a_f32, bt_f32;
  std::vector<std::uint8_t> a, sa, b, sb;
};

MxOperands random_mx_operands(std::mt19937_64& rng, std::size_t m, std::size_t n, std::size_t k,
                              int block) {
  MxOperands o;
  o.m = m;
  o.n = n;
  o.k = k;
  std::normal_distribution<float> dist(0.0F, 1.0F);
  o.a_f32.resize(m * k);
  o.bt_f32.resize(n * k);
  for (float& v : o.a_f32) v = dist(rng);
  for (float& v : o.bt_f32) v = dist(rng);
  const std::size_t kb = k / static_cast<std::size_t>(block);
  o.a.resize(m * k);
  o.sa.resize(m * kb);
  std::vector<std::uint8_t> bt(n * k), sbt(n * kb);
  num::mx_quantize(o.a_f32, m, k, block, num::Fp8Format::kE4M3, num::MxScaleMode::kFloor, o.a,
                   o.sa);
  num::mx_quantize(o.bt_f32, n, k, block, num::Fp8Format::kE4M3, num::MxScaleMode::kFloor, bt, sbt);
  o.b.resize(k * n);
  o.sb.resize(kb * n);
  for (std::size_t i = 0; i < k; ++i) {
    for (std::size_t j = 0; j < n; ++j) o.b[i * n + j] = bt[j * k + i];
  }
  for (std::size_t i = 0; i < kb; ++i) {
    for (std::size_t j = 0; j < n; ++j) o.sb[i * n + j] = sbt[j * kb + i];
  }
  return o;
}

sim::GemmJob gemm_job_of(const MxOperands& o, int block) {
  sim::GemmJob g;
  const std::size_t kb = o.k / static_cast<std::size_t>(block);
  g.a = make_u8({o.m, o.k}, o.a);
  g.b = make_u8({o.k, o.n}, o.b);
  g.sa = make_u8({o.m, kb}, o.sa);
  g.sb = make_u8({kb, o.n}, o.sb);
  g.block = block;
  return g;
}

// C by the numerics library (the reference of the chip's GEMM).
std::vector<float> reference_gemm(const MxOperands& o, int block) {
  num::GemmProblem p;
  p.m = o.m;
  p.n = o.n;
  p.k = o.k;
  p.a = o.a;
  p.b = o.b;
  p.scale_a = o.sa;
  p.scale_b = o.sb;
  p.block = block;
  std::vector<float> ref(o.m * o.n);
  num::gemm(p, ref);
  return ref;
}

}  // namespace

int chip_demo(std::uint64_t seed, const std::string& config) {
  constexpr std::size_t kM = 1024, kN = 1024, kK = 1024;
  constexpr int kBlock = num::kDefaultMxBlock;
  std::mt19937_64 rng(seed);
  const MxOperands o = random_mx_operands(rng, kM, kN, kK, kBlock);
  const std::vector<float>&a_f32 = o.a_f32, &bt_f32 = o.bt_f32;
  const std::vector<std::uint8_t>&a = o.a, &sa = o.sa, &b = o.b, &sb = o.sb;
  sim::ChipJob job = sim::make_gemm_job(gemm_job_of(o, kBlock), bundled::elf("gemm"));
  job.config_path = config;
  job.console_sink = console_to_stdout;
  const sim::ChipJobResult r = sim::run_chip_job(job);
  const std::vector<float> c = r.outputs.at("C").as_f32();

  // The numerics library on the same operands: the fast GEMM on every output, and the exact
  // fused-step loop (the definition) on a sample.
  const std::vector<float> ref = reference_gemm(o, kBlock);
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

namespace mxemu::cli {

namespace {

// A pod job in a SystemC context of its own (a process elaborates once per context), deleted
// after the run (the model's modules are gone by then).
sim::PodResult run_pod_in_own_context(const sim::PodJob& job) {
  const sim::OwnScContext context;
  return sim::run_pod_job(job);
}

}  // namespace

int pod_demo(std::uint64_t seed, const std::string& config, unsigned threads) {
  // A data-parallel step: chip i multiplies its own micro-batch (A_i . B_i, MXFP8), then the
  // pod all-reduces the FP32 results (the gradient sum of data-parallel training).
  constexpr std::size_t kM = 512, kN = 512, kK = 1024;
  constexpr int kBlock = num::kDefaultMxBlock;
  sim::SimConfig cfg = sim::load_sim_config(config);
  cfg.pod.shape = {2, 2, 2};
  cfg.pod.topology = ici::TopologyKind::kTorus;
  const std::uint32_t chips = 8;
  std::mt19937_64 rng(seed);
  std::vector<MxOperands> ops;
  for (std::uint32_t i = 0; i < chips; ++i)
    ops.push_back(random_mx_operands(rng, kM, kN, kK, kBlock));

  // Under mpirun the pod is shared out among the ranks (docs/DISTRIBUTED.md): each rank feeds
  // its own chips' GEMM results into the all-reduce; rank 0 has every result, checks and prints.
  std::unique_ptr<sim::PodTransport> transport;
  if (sim::launched_by_mpi()) transport = sim::load_mpi_transport();
  const bool speak = !transport || transport->rank() == 0;

  // Phase 1: the GEMMs.
  sim::PodJob gj;
  gj.config = cfg;
  gj.threads = threads;
  gj.transport = transport.get();
  const std::vector<std::uint8_t> gemm_elf = bundled::elf("gemm");
  for (const MxOperands& o : ops) {
    gj.programs.push_back(sim::make_gemm_job(gemm_job_of(o, kBlock), gemm_elf));
  }
  const sim::PodResult g = run_pod_in_own_context(gj);
  if (g.first_failure) {
    const chip::ChipEnd& e = g.chips[*g.first_failure].end;
    throw Error(e.error, fmt::format("chip {}: {}", *g.first_failure, e.message));
  }
  std::size_t gemm_bad = 0;
  std::vector<std::vector<float>> c(chips);
  for (std::uint32_t i = 0; i < chips; ++i) {
    const auto it = g.chips[i].outputs.find("C");
    if (it == g.chips[i].outputs.end()) continue;  // another rank's chip (rank 0 has them all)
    c[i] = it->second.as_f32();
    if (!speak) continue;
    const std::vector<float> ref = reference_gemm(ops[i], kBlock);
    for (std::size_t e = 0; e < ref.size(); ++e) {
      if (num::f32_bits(c[i][e]) != num::f32_bits(ref[e])) ++gemm_bad;
    }
  }

  // Phase 2: all-reduce of C over the 2x2x2 torus (the collective kernel, torus algorithm).
  sim::PodJob aj;
  aj.config = cfg;
  aj.threads = threads;
  aj.transport = transport.get();
  const std::vector<std::uint8_t> coll_elf = bundled::elf("collective");
  for (std::uint32_t i = 0; i < chips; ++i) {
    sim::ChipProgram p;
    p.firmware_name = "collective";
    p.firmware_elf = coll_elf;
    if (!c[i].empty()) p.inputs.emplace_back("X", make_f32({kM * kN}, c[i]));
    p.scalars = {{"op", 0}, {"algo", 2}, {"dtype", 0}, {"reduce", 0}};
    p.read_back = {"Y"};
    aj.programs.push_back(std::move(p));
  }
  const sim::PodResult ar = run_pod_in_own_context(aj);
  if (ar.first_failure) {
    const chip::ChipEnd& e = ar.chips[*ar.first_failure].end;
    throw Error(e.error, fmt::format("chip {}: {}", *ar.first_failure, e.message));
  }
  if (!speak) return 0;  // rank 0 reports (and fails the job when a check fails)
  // Every chip holds the same bits; each element is within FP32 rounding of the exact sum
  // (eight terms added in some order: |error| <= 7 u sum|c_i|, u = 2^-24).
  std::size_t differ = 0, off = 0;
  const std::vector<float> y0 = ar.chips[0].outputs.at("Y").as_f32();
  for (std::uint32_t i = 1; i < chips; ++i) {
    const std::vector<float> y = ar.chips[i].outputs.at("Y").as_f32();
    for (std::size_t e = 0; e < y.size(); ++e) {
      if (num::f32_bits(y[e]) != num::f32_bits(y0[e])) ++differ;
    }
  }
  for (std::size_t e = 0; e < y0.size(); ++e) {
    double exact = 0, mag = 0;
    for (std::uint32_t i = 0; i < chips; ++i) {
      exact += c[i][e];
      mag += std::abs(static_cast<double>(c[i][e]));
    }
    if (std::abs(y0[e] - exact) > 7.0 * std::ldexp(1.0, -24) * mag) ++off;
  }

  const auto sum_over = [](const sim::PodResult& r, const auto& get) {
    double t = 0;
    for (const sim::ChipJobResult& ch : r.chips) t += get(ch.stats);
    return t;
  };
  const auto cycles_of = [](const sim::PodResult& r) {
    std::uint64_t t = 0;
    for (const sim::ChipJobResult& ch : r.chips) t = std::max(t, ch.total_cycles);
    return t;
  };
  // The collective's own span: from the last chip's first descriptor to the last chip's end (the
  // kernel prints "collective: cycles START END"; before START it plans its descriptors).
  std::uint64_t coll_start = 0, coll_end = 0;
  for (const sim::ChipJobResult& ch : ar.chips) {
    unsigned long long t0 = 0, t1 = 0;
    const auto at = ch.console.find("collective: cycles ");
    if (at == std::string::npos ||
        std::sscanf(ch.console.c_str() + at, "collective: cycles %llu %llu", &t0, &t1) != 2) {
      throw Error(ExitCode::kSimFault, "pod demo: the collective kernel printed no cycle counts");
    }
    coll_start = std::max<std::uint64_t>(coll_start, t0);
    coll_end = std::max<std::uint64_t>(coll_end, t1);
  }
  double link_bytes = 0, retries = 0;
  std::size_t directions = 0;
  for (const auto& l : ar.stats["pod"]["ici"]["links"]) {
    for (const auto& d : l["directions"]) {
      link_bytes += d["payload_bytes"].get<double>();
      retries += d["retransmissions"].get<double>();
      ++directions;
    }
  }
  fmt::print("mxemu pod demo: 2x2x2 torus of '{}' chips (seed {})\n",
             g.chips[0].stats["chip"].get<std::string>(), seed);
  fmt::print(
      "  step 1: every chip C_i = A_i.B_i, {}x{}x{} MXFP8 (E4M3, UE8M0 per {}), gemm firmware\n",
      kM, kN, kK, kBlock);
  fmt::print(
      "    cycles: {} (slowest chip); MXU utilisation {:.1f} % (mean); HBM {:.1f} MB moved\n",
      cycles_of(g),
      100.0 *
          sum_over(g, [](const nlohmann::json& s) { return s["mxu_utilization"].get<double>(); }) /
          chips,
      sum_over(g, [](const nlohmann::json& s) {
        return s["hbm_bytes_read"].get<double>() + s["hbm_bytes_written"].get<double>();
      }) / 1e6);
  fmt::print("  step 2: all-reduce (sum) of the {} KiB C_i, torus algorithm, collective firmware\n",
             kM * kN * 4 / 1024);
  const auto coll_ns = static_cast<double>(coll_end - coll_start);
  fmt::print(
      "    cycles: {} of collective ({} in all, with its plan); links: {:.1f} MB over {} "
      "directions, {:.1f} GB/s per direction on average, {} retransmissions\n",
      coll_end - coll_start, cycles_of(ar), link_bytes / 1e6, directions,
      link_bytes / static_cast<double>(directions) / coll_ns, retries);
  fmt::print(
      "  check: {} of {} GEMM outputs differ from the numerics library; {} all-reduced "
      "elements differ between chips; {} are outside FP32 rounding of the exact sum\n",
      gemm_bad, chips * kM * kN, differ, off);
  fmt::print("  simulated in {:.2f} s of host time{}\n", g.host_seconds + ar.host_seconds,
             ar.partition.empty() ? std::string() : "; pod " + ar.partition);
  const bool ok = gemm_bad == 0 && differ == 0 && off == 0;
  fmt::print("{}\n", ok ? "PASS" : "FAIL");
  return ok ? 0 : 1;
}

}  // namespace mxemu::cli
