// mxemu-cosim: lock-step co-simulation of the Verilated 8x8 systolic tile (rtl/mxu/mxu_tile.sv)
// against the model/mxu core on random GEMM folds, optionally dumping the RTL's signals as FST
// or VCD for GTKWave. Exit 0: every output bit- and cycle-exact; 1: mismatches (reported);
// 2: bad option.
#include <verilated.h>
#include <verilated_fst_c.h>
#include <verilated_vcd_c.h>

#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include <fstream>
#include <memory>
#include <random>

#include "Vmxu_tile8_fst.h"
#include "Vmxu_tile8_vcd.h"
#include "model/common/error.h"
#include "testbench/cosim/random_folds.h"
#include "testbench/cosim/tile_harness.h"

using namespace mxemu;

namespace {

constexpr int kTileSize = 8;  // the size the traced models were Verilated at

struct Options {
  std::string fst, vcd;
  int folds = 6;
  std::uint64_t seed = 1;
  std::size_t max_m = 24;
};

template <typename Top, typename Trace>
cosim::CosimReport run(const Options& o, const std::string& wave) {
  mxu::SystolicConfig cfg;
  cfg.rows = cfg.cols = kTileSize;
  std::mt19937_64 rng(o.seed);
  std::vector<cosim::FoldData> data;
  data.reserve(static_cast<std::size_t>(o.folds));
  for (int f = 0; f < o.folds; ++f) {
    data.push_back(cosim::random_fold(rng, cfg, 1 + rng() % o.max_m));
  }
  std::vector<mxu::FoldSpec> specs;
  specs.reserve(data.size());
  for (auto& d : data) specs.push_back(d.spec());
  auto ctx = std::make_unique<VerilatedContext>();
  ctx->traceEverOn(!wave.empty());
  auto top = std::make_unique<Top>(ctx.get(), "tile");
  std::unique_ptr<Trace> tfp;
  cosim::CosimOptions opt;
  if (!wave.empty()) {
    tfp = std::make_unique<Trace>();
    top->trace(tfp.get(), 99);
    tfp->open(wave.c_str());
    if (!tfp->isOpen()) throw_bad_input("cannot open waveform file {}", wave);
    // Two samples per cycle: clock low (inputs applied) and clock high (registers updated).
    opt.on_eval = [&](std::uint64_t cycle, bool high) { tfp->dump(2 * cycle + (high ? 1 : 0)); };
  }
  auto rep = cosim::cosim_tile(*top, cfg, specs, opt);
  if (tfp) tfp->close();
  top->final();
  return rep;
}

int cosim_main(int argc, char** argv) {
  CLI::App app{"Co-simulate the Verilated 8x8 systolic tile against the model/mxu core"};
  Options o;
  app.add_option("--fst", o.fst, "dump the RTL's signals to this FST file");
  app.add_option("--vcd", o.vcd, "dump the RTL's signals to this VCD file");
  app.add_option("--folds", o.folds, "number of folds (weight loads), back to back")
      ->check(CLI::Range(1, 100000));
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
    const auto rep = o.fst.empty() ? run<Vmxu_tile8_vcd, VerilatedVcdC>(o, o.vcd)
                                   : run<Vmxu_tile8_fst, VerilatedFstC>(o, o.fst);
    for (const auto& m : rep.mismatches) fmt::print(stderr, "{}\n", m);
    fmt::print("cosim {}x{} tile: {} folds, {} outputs over {} cycles, {} mismatches: {}\n",
               kTileSize, kTileSize, o.folds, rep.outputs_checked, rep.cycles, rep.mismatch_count,
               rep.ok() ? "PASS" : "FAIL");
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
