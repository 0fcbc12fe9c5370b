#include "testbench/mxemu/chip_run.h"

#include <fmt/core.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <random>

#include "model/chip/runner.h"
#include "model/common/error.h"
#include "model/common/npy.h"
#include "model/numerics/fused.h"
#include "model/numerics/gemm.h"
#include "model/numerics/mx.h"
#include "testbench/mxemu/bundled.h"

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

void write_text(const std::string& path, const std::string& text, const char* what) {
  std::ofstream f(path);
  if (!f) throw_bad_input("cannot write {} file '{}'", what, path);
  f << text;
}

}  // namespace

int run_firmware_on_chip(const ChipRunArgs& a) {
  chip::ChipJob job;
  if (!a.kernel.empty()) {
    job.firmware_name = a.kernel + " (bundled)";
    job.firmware_elf = bundled::elf(a.kernel);
    if (job.firmware_elf.empty()) {
      throw_bad_input("no bundled kernel '{}' (gemm, linear_relu, quantize)", a.kernel);
    }
  } else {
    job.firmware_name = a.firmware;
    job.firmware_elf = read_binary(a.firmware);
  }
  job.config_path = a.config;
  job.max_cycles = a.max_cycles;
  job.cycle_accurate = a.cycle_accurate;
  job.record_timeline = !a.timeline.empty();
  job.stats_path = a.stats;
  job.gdb_port = a.gdb_port;
  job.console_sink = console_to_stdout;
  job.on_gdb_listen = [](std::uint16_t port) {
    fmt::print(stderr, "mxemu: gdb stub listening on 127.0.0.1:{}\n", port);
    std::fflush(stderr);
  };
  for (const std::string& in : a.inputs) {
    auto [name, file] = split_eq(in, "--in");
    job.inputs.emplace_back(name, read_npy(file));
  }
  std::vector<std::pair<std::string, std::string>> outs;
  for (const std::string& out : a.outputs) {
    outs.push_back(split_eq(out, "--out"));
    job.read_back.push_back(outs.back().first);
  }
  for (const std::string& sc : a.scalars) {
    auto [name, value] = split_eq(sc, "--scalar");
    std::size_t used = 0;
    unsigned long v = 0;
    try {
      v = std::stoul(value, &used, 0);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != value.size() || v > 0xFFFFFFFFul) {
      throw_bad_input("--scalar {}: '{}' is not a 32-bit unsigned integer", name, value);
    }
    job.scalars.emplace_back(name, static_cast<std::uint32_t>(v));
  }
  const chip::ChipJobResult r = chip::run_chip_job(job);
  std::fflush(stdout);
  for (const auto& [name, file] : outs) write_npy(file, r.outputs.at(name));
  if (!a.timeline.empty()) write_text(a.timeline, r.timeline_json, "timeline");
  return r.exit_code;
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

  chip::GemmJob g;
  g.a = make_u8({kM, kK}, a);
  g.b = make_u8({kK, kN}, b);
  g.sa = make_u8({kM, kK / kBlock}, sa);
  g.sb = make_u8({kK / kBlock, kN}, sb);
  g.block = kBlock;
  chip::ChipJob job = chip::make_gemm_job(g, bundled::elf("gemm"));
  job.config_path = config;
  job.console_sink = console_to_stdout;
  const chip::ChipJobResult r = chip::run_chip_job(job);
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
