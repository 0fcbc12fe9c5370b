// Benchmark: simulated cycles per host second of the Verilated 16x16 systolic tile against the
// baseline Verilated tile (Vmxu_tile16_base: the RTL and Verilator options before the speed work
// of issue 12, tools/bench/tile/CMakeLists.txt) and the model/mxu fast path
// (SystolicCore::run_fold) on the same GEMM, all measured in one run.
//
// The GEMM is --folds folds of a 16x16 weight tile with --m activation rows each, back to back
// (double-buffered). The RTL runs are driven from port values precomputed per cycle, so only the
// Verilated eval()s are timed; the fast path is timed over all its folds (values and schedule).
// Before timing, untimed lock-step runs check that both tiles give the model's bits on the model's
// cycles. Each repetition times the three in turn; the best of each is reported.
#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "Vmxu_tile16.h"
#include "Vmxu_tile16_base.h"
#include "model/common/error.h"
#include "testbench/cosim/random_folds.h"
#include "testbench/cosim/tile_harness.h"

using namespace mxemu;
using Clock = std::chrono::steady_clock;

namespace {

// Port values of one cycle, packed as the Verilated ports hold them.
struct Ports {
  bool wv, wb, wf, av, ab, af;
  std::uint32_t w[4], ws[4], a[4], as[4], psum[16];
};

// Seconds to clock a fresh `Top` through `prog` (two eval()s per cycle, one output read).
template <typename Top>
double time_tile(const std::vector<Ports>& prog, std::uint32_t& sink) {
  auto top = std::make_unique<Top>();
  top->rst_ni = 0;
  top->clk_i = 0;
  top->eval();
  top->rst_ni = 1;
  top->eval();
  const auto t0 = Clock::now();
  for (std::size_t c = 0; c < prog.size(); ++c) {
    const Ports& p = prog[c];
    top->w_valid_i = p.wv;
    top->w_bank_i = p.wb;
    top->w_fmt_i = p.wf;
    top->a_valid_i = p.av;
    top->a_bank_i = p.ab;
    top->a_fmt_i = p.af;
    for (int i = 0; i < 4; ++i) {
      top->w_i[i] = p.w[i];
      top->ws_i[i] = p.ws[i];
      top->a_i[i] = p.a[i];
      top->as_i[i] = p.as[i];
    }
    for (int n = 0; n < 16; ++n) top->psum_i[n] = p.psum[n];
    top->clk_i = 0;
    top->eval();
    sink ^= top->out_o[c % 16];
    top->clk_i = 1;
    top->eval();
  }
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Untimed lock-step check of one tile against the model; false (reported) on a mismatch.
template <typename Top>
bool agrees(const char* name, const mxu::SystolicConfig& cfg,
            const std::vector<mxu::FoldSpec>& specs) {
  auto top = std::make_unique<Top>();
  const auto rep = cosim::cosim_tile(*top, cfg, specs);
  if (rep.ok()) return true;
  for (const auto& s : rep.mismatches) fmt::print(stderr, "{}\n", s);
  fmt::print(stderr, "{}{} and the model disagree\n", kErrorPrefix, name);
  return false;
}

int bench_main(int argc, char** argv) {
  CLI::App app{
      "Verilated 16x16 tile vs its pre-issue-12 baseline and the model/mxu fast path: simulated "
      "cycles per host second"};
  int folds = 16;
  std::size_t m = 256;
  int repeats = 3;
  app.add_option("--folds", folds, "folds (weight loads) in the GEMM")->check(CLI::Range(1, 4096));
  app.add_option("--m", m, "activation rows per fold")->check(CLI::Range(1, 65536));
  app.add_option("--repeats", repeats, "timed repetitions (best is reported)")
      ->check(CLI::Range(1, 100));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    fmt::print(stderr, "{}{}\n", kErrorPrefix, e.what());
    return static_cast<int>(ExitCode::kBadInput);
  }

  mxu::SystolicConfig cfg;
  cfg.rows = cfg.cols = 16;
  cfg.gemm_threads = 1;
  std::mt19937_64 rng(42);
  std::vector<cosim::FoldData> data;
  data.reserve(static_cast<std::size_t>(folds));
  for (int f = 0; f < folds; ++f) data.push_back(cosim::random_fold(rng, cfg, m, 0));
  std::vector<mxu::FoldSpec> specs;
  specs.reserve(data.size());
  for (auto& d : data) specs.push_back(d.spec());

  // Untimed: both tiles agree with the model.
  if (!agrees<Vmxu_tile16>("the Verilated tile", cfg, specs)) return 1;
  if (!agrees<Vmxu_tile16_base>("the baseline Verilated tile", cfg, specs)) return 1;

  // Port values per cycle.
  mxu::SystolicCore sched_core(cfg);
  mxu::FoldDriver driver(cfg);
  std::vector<float> scratch;
  for (auto& s : specs) {
    scratch.resize(s.m * cfg.cols);
    driver.add(s, sched_core.run_fold(s, scratch));
  }
  const std::uint64_t cycles = driver.end_cycle();
  std::vector<Ports> prog(cycles);
  mxu::CycleInputs in;
  for (std::uint64_t c = 0; c < cycles; ++c) {
    driver.inputs_at(c, in);
    Ports& p = prog[c];
    p.wv = in.w_valid;
    p.wb = in.w_bank != 0;
    p.wf = in.w_fmt == num::Fp8Format::kE5M2;
    p.av = in.a_valid;
    p.ab = in.a_bank != 0;
    p.af = in.a_fmt == num::Fp8Format::kE5M2;
    for (int i = 0; i < 4; ++i) {
      p.w[i] = p.ws[i] = p.a[i] = p.as[i] = 0;
      for (int j = 0; j < 4; ++j) {
        p.w[i] |= std::uint32_t{in.w[4 * i + j]} << (8 * j);
        p.ws[i] |= std::uint32_t{in.ws[4 * i + j]} << (8 * j);
        p.a[i] |= std::uint32_t{in.a[4 * i + j]} << (8 * j);
        p.as[i] |= std::uint32_t{in.as[4 * i + j]} << (8 * j);
      }
    }
    for (int n = 0; n < 16; ++n) p.psum[n] = in.psum[n];
  }

  double best_base = 1e30, best_rtl = 1e30, best_fast = 1e30;
  std::uint32_t sink = 0;
  for (int r = 0; r < repeats; ++r) {
    best_base = std::min(best_base, time_tile<Vmxu_tile16_base>(prog, sink));
    best_rtl = std::min(best_rtl, time_tile<Vmxu_tile16>(prog, sink));

    mxu::SystolicCore core(cfg);
    std::vector<std::vector<float>> outs(specs.size());
    for (std::size_t f = 0; f < specs.size(); ++f) outs[f].resize(specs[f].m * cfg.cols);
    const auto t1 = Clock::now();
    std::uint64_t fast_cycles = 0;
    for (std::size_t f = 0; f < specs.size(); ++f) {
      fast_cycles = core.run_fold(specs[f], outs[f]).last_out_cycle() + 1;
    }
    best_fast = std::min(best_fast, std::chrono::duration<double>(Clock::now() - t1).count());
    if (fast_cycles != cycles) {
      fmt::print(stderr, "{}cycle counts differ\n", kErrorPrefix);
      return 1;
    }
    sink ^= num::f32_bits(outs.back().back());
  }
  const double base_cps = static_cast<double>(cycles) / best_base;
  const double rtl_cps = static_cast<double>(cycles) / best_rtl;
  const double fast_cps = static_cast<double>(cycles) / best_fast;
  fmt::print("GEMM: {} folds x (16x16 weights, m = {}), {} simulated cycles, {} MACs\n", folds, m,
             cycles, static_cast<std::uint64_t>(folds) * m * 256);
  fmt::print("baseline Verilated 16x16 tile : {:12.0f} cycles/s ({:.3f} s)\n", base_cps, best_base);
  fmt::print("Verilated 16x16 tile          : {:12.0f} cycles/s ({:.3f} s)\n", rtl_cps, best_rtl);
  fmt::print("model/mxu fast path           : {:12.0f} cycles/s ({:.6f} s)\n", fast_cps, best_fast);
  fmt::print("tile / baseline               : {:.1f}x\n", rtl_cps / base_cps);
  fmt::print("fast path / tile              : {:.0f}x   (checksum {:08x})\n", fast_cps / rtl_cps,
             sink);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return bench_main(argc, argv);
  } catch (const std::exception& e) {  // CLI11 setup, fmt, I/O: report, do not terminate
    fmt::print(stderr, "{}{}\n", kErrorPrefix, e.what());
    return static_cast<int>(ExitCode::kInternal);
  }
}
