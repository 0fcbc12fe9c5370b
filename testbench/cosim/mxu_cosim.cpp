// mxemu-cosim: lock-step co-simulation of a Verilated systolic tile (rtl/mxu/mxu_tile.sv; sizes
// and PE latencies among those built, --size / --pe-latency) against the model/mxu core on the
// default stimulus -- the directed corner folds (random_folds.h: subnormal results, overflow,
// NaN/Inf, cancellation, ties, scale extremes) mixed with random GEMM folds -- optionally dumping
// the RTL's signals as FST or VCD for GTKWave (8x8, latency 1: the traced models). Exit 0: every
// output bit- and cycle-exact; 1: mismatches (reported); 2: bad option.
#include <verilated.h>
#include <verilated_fst_c.h>
#include <verilated_vcd_c.h>

#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include <fstream>
#include <memory>
#include <random>
#include <type_traits>

#include "Vmxu_tile16.h"
#include "Vmxu_tile4.h"
#include "Vmxu_tile4p1.h"
#include "Vmxu_tile8.h"
#include "Vmxu_tile8_fst.h"
#include "Vmxu_tile8_vcd.h"
#include "Vmxu_tile8p1.h"
#include "model/common/error.h"
#include "testbench/cosim/random_folds.h"
#include "testbench/cosim/tile_harness.h"

using namespace mxemu;

namespace {

constexpr int kTracedSize = 8;  // the size the traced models were Verilated at

struct Options {
  std::string fst, vcd;
  int size = 8, pe_latency = 1;
  int folds = 6;
  bool no_directed = false;
  std::uint64_t seed = 1;
  std::size_t max_m = 24;
};

// No waveform: Trace is void.
template <typename Top, typename Trace = void>
cosim::CosimReport run(const Options& o, const std::string& wave, std::size_t& folds) {
  mxu::SystolicConfig cfg;
  cfg.rows = cfg.cols = o.size;
  cfg.pe_latency_cycles = o.pe_latency;
  std::mt19937_64 rng(o.seed);
  std::vector<cosim::FoldData> data;
  if (o.no_directed) {
    for (int f = 0; f < o.folds; ++f)
      data.push_back(cosim::random_fold(rng, cfg, 1 + rng() % o.max_m));
  } else {
    data = cosim::stimulus(rng, cfg, static_cast<std::size_t>(o.folds), o.max_m);
  }
  folds = data.size();
  std::vector<mxu::FoldSpec> specs;
  specs.reserve(data.size());
  for (auto& d : data) specs.push_back(d.spec());
  auto ctx = std::make_unique<VerilatedContext>();
  ctx->traceEverOn(!wave.empty());
  auto top = std::make_unique<Top>(ctx.get(), "tile");
  cosim::CosimOptions opt;
  if constexpr (std::is_void_v<Trace>) {
    auto rep = cosim::cosim_tile(*top, cfg, specs, opt);
    top->final();
    return rep;
  } else {
    auto tfp = std::make_unique<Trace>();
    top->trace(tfp.get(), 99);
    tfp->open(wave.c_str());
    if (!tfp->isOpen()) throw_bad_input("cannot open waveform file {}", wave);
    // Two samples per cycle: clock low (inputs applied) and clock high (registers updated).
    opt.on_eval = [&](std::uint64_t cycle, bool high) { tfp->dump(2 * cycle + (high ? 1 : 0)); };
    auto rep = cosim::cosim_tile(*top, cfg, specs, opt);
    tfp->close();
    top->final();
    return rep;
  }
}

cosim::CosimReport run_any(const Options& o, std::size_t& folds) {
  const int s = o.size, l = o.pe_latency;
  if (!o.fst.empty() || !o.vcd.empty()) {
    if (s != kTracedSize || l != 1) {
      throw_bad_input(
          "--fst / --vcd: the traced tile is {0}x{0} with PE latency 1 (got --size {1} "
          "--pe-latency {2})",
          kTracedSize, s, l);
    }
    return o.fst.empty() ? run<Vmxu_tile8_vcd, VerilatedVcdC>(o, o.vcd, folds)
                         : run<Vmxu_tile8_fst, VerilatedFstC>(o, o.fst, folds);
  }
  if (s == 4 && l == 1) return run<Vmxu_tile4>(o, "", folds);
  if (s == 4 && l == 2) return run<Vmxu_tile4p1>(o, "", folds);
  if (s == 8 && l == 1) return run<Vmxu_tile8>(o, "", folds);
  if (s == 8 && l == 2) return run<Vmxu_tile8p1>(o, "", folds);
  if (s == 16 && l == 1) return run<Vmxu_tile16>(o, "", folds);
  throw_bad_input(
      "no Verilated tile of {0}x{0} with PE latency {1} in this build (built: 4 and 8 with "
      "--pe-latency 1 or 2, 16 with 1)",
      s, l);
}

int cosim_main(int argc, char** argv) {
  CLI::App app{"Co-simulate a Verilated systolic tile against the model/mxu core"};
  Options o;
  app.add_option("--fst", o.fst, "dump the RTL's signals to this FST file (8x8 tile)");
  app.add_option("--vcd", o.vcd, "dump the RTL's signals to this VCD file (8x8 tile)");
  app.add_option("--size", o.size, "tile rows and columns (4, 8, 16)")->capture_default_str();
  app.add_option("--pe-latency", o.pe_latency, "PE latency in cycles (NumPipeRegs + 1: 1, 2)")
      ->capture_default_str();
  app.add_option("--folds", o.folds,
                 "number of random folds (weight loads), back to back, mixed with the directed "
                 "corner folds")
      ->check(CLI::Range(1, 100000));
  app.add_flag("--no-directed", o.no_directed, "random folds only (no directed corner folds)");
  app.add_option("--seed", o.seed, "random seed");
  app.add_option("--max-m", o.max_m, "largest number of activation rows per fold")
      ->check(CLI::Range(1, 100000));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    fmt::print(stderr, "{}{}\n", kErrorPrefix, e.what());
    return static_cast<int>(ExitCode::kBadInput);
  }
  try {
    if (!o.fst.empty() && !o.vcd.empty()) throw_bad_input("give either --fst or --vcd, not both");
    for (const auto* f : {&o.fst, &o.vcd}) {
      if (!f->empty() && !std::ofstream(*f)) throw_bad_input("cannot write waveform file {}", *f);
    }
    std::size_t folds = 0;
    const auto rep = run_any(o, folds);
    for (const auto& m : rep.mismatches) fmt::print(stderr, "{}\n", m);
    fmt::print(
        "cosim {}x{} tile (PE latency {}): {} folds ({} directed), {} outputs over {} cycles, {} "
        "mismatches: {}\n",
        o.size, o.size, o.pe_latency, folds, folds - static_cast<std::size_t>(o.folds),
        rep.outputs_checked, rep.cycles, rep.mismatch_count, rep.ok() ? "PASS" : "FAIL");
    return rep.ok() ? 0 : 1;
  } catch (const Error& e) {
    fmt::print(stderr, "{}{}\n", kErrorPrefix, e.what());
    return static_cast<int>(e.code());
  }
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return cosim_main(argc, argv);
  } catch (const std::exception& e) {  // anything but an Error (CLI11 setup, I/O): a bug here
    fmt::print(stderr, "{}internal: {}\n", kErrorPrefix, e.what());
    return static_cast<int>(ExitCode::kInternal);
  }
}
