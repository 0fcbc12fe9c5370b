// Chip benchmark (not a test): an MXFP8 GEMM through the bundled gemm firmware on mx1, and in the
// same run the numerics library's fast GEMM on the same operands (the host baseline).
// Prints modelled MXU utilisation, simulated MACs and cycles per host second, and the ratio of
// simulation speed to the host GEMM. Checks a sample of C against the exact reference.
//   bench_chip [M N K] [--cycle-accurate] [--config C.toml]
#include <fmt/core.h>
#include <systemc>

#include <chrono>
#include <cstdlib>
#include <random>
#include <string>

#include "model/numerics/fused.h"
#include "model/numerics/gemm.h"
#include "model/sim/runner.h"
#include "testbench/mxemu/bundled.h"

using namespace mxemu;

int sc_main(int argc, char* argv[]) {
  std::size_t m = 2048, n = 2048, k = 2048;
  bool cycle_accurate = false;
  std::string config;
  int pos = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--cycle-accurate") {
      cycle_accurate = true;
    } else if (a == "--config" && i + 1 < argc) {
      config = argv[++i];
    } else if (pos < 3) {
      const std::size_t v = std::stoul(a);
      (pos == 0 ? m : pos == 1 ? n : k) = v;
      ++pos;
    } else {
      fmt::print(stderr, "usage: bench_chip [M N K] [--cycle-accurate] [--config C.toml]\n");
      return 2;
    }
  }
  constexpr int kBlock = 32;
  if (k % kBlock != 0) {
    fmt::print(stderr, "bench_chip: K must be a multiple of {}\n", kBlock);
    return 2;
  }
  std::mt19937_64 rng(2048);
  const auto codes = [&](std::size_t count) {
    std::vector<std::uint8_t> v(count);
    for (auto& c : v) {
      c = static_cast<std::uint8_t>(rng());
      if ((c & 0x78) == 0x78) c &= 0xB7;  // finite E4M3
    }
    return v;
  };
  const auto scales = [&](std::size_t count) {
    std::vector<std::uint8_t> v(count);
    for (auto& s : v) s = static_cast<std::uint8_t>(120 + rng() % 15);
    return v;
  };
  sim::GemmJob g;
  g.a = make_u8({m, k}, codes(m * k));
  g.b = make_u8({k, n}, codes(k * n));
  g.sa = make_u8({m, k / kBlock}, scales(m * k / kBlock));
  g.sb = make_u8({k / kBlock, n}, scales(k / kBlock * n));
  g.block = kBlock;

  sim::ChipJob job = sim::make_gemm_job(g, bundled::elf("gemm"));
  job.cycle_accurate = cycle_accurate;
  job.config_path = config;
  const auto t0 = std::chrono::steady_clock::now();
  const sim::ChipJobResult r = sim::run_chip_job(job);
  const double sim_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  // Baseline in the same run: the numerics library's fast GEMM on the same operands.
  num::GemmProblem p;
  p.m = m;
  p.n = n;
  p.k = k;
  p.a = g.a.data;
  p.b = g.b.data;
  p.scale_a = g.sa->data;
  p.scale_b = g.sb->data;
  p.block = kBlock;
  std::vector<float> ref(m * n);
  const auto t1 = std::chrono::steady_clock::now();
  num::gemm(p, ref);
  const double ref_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();

  // Bit-exactness on a sample of outputs against the exact fused-step loop.
  const auto c = r.outputs.at("C").as_f32();
  std::size_t bad = 0;
  for (int s = 0; s < 256; ++s) {
    const std::size_t i = rng() % m, j = rng() % n;
    std::uint32_t acc = 0;
    for (std::size_t kk = 0; kk < k; ++kk) {
      acc = num::fused_step_bits(acc, num::Fp8Format::kE4M3, g.a.data[i * k + kk],
                                 num::Fp8Format::kE4M3, g.b.data[kk * n + j],
                                 g.sa->data[i * (k / kBlock) + kk / kBlock],
                                 g.sb->data[(kk / kBlock) * n + j]);
    }
    if (num::f32_bits(c[i * n + j]) != acc || num::f32_bits(ref[i * n + j]) != acc) ++bad;
  }
  const double macs = static_cast<double>(m) * n * k;
  const auto cycles = r.total_cycles;
  fmt::print("chip GEMM {}x{}x{} MXFP8 (E4M3, block {}) on {}, {} mode{}\n", m, n, k, kBlock,
             r.stats["chip"].get<std::string>(), cycle_accurate ? "cycle-by-cycle" : "fast",
             config.empty() ? "" : ", config " + config);
  fmt::print("  modelled: {} cycles, MXU utilisation {:.1f} % of peak, HBM {:.1f} GB/s\n", cycles,
             100.0 * r.stats["mxu_utilization"].get<double>(),
             r.stats["hbm_bandwidth_gbps"].get<double>());
  fmt::print("  simulation: {:.3f} s host, {:.3g} simulated MAC/s, {:.3g} simulated cycles/s\n",
             sim_s, macs / sim_s, static_cast<double>(cycles) / sim_s);
  fmt::print(
      "  baseline (same run): numerics fast GEMM {:.3f} s = {:.3g} MAC/s; "
      "simulation/baseline speed ratio {:.2f}\n",
      ref_s, macs / ref_s, ref_s / sim_s);
  fmt::print("  sampled outputs vs exact fused-step reference: {} of 256 differ\n", bad);
  return bad == 0 ? 0 : 1;
}
