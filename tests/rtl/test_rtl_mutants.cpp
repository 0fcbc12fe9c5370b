// Mutation test: deliberately broken RTL (tests/rtl/mutants.txt: flush-to-zero, the wrong tie
// rule, wrong NaN handling, saturating overflow, a dropped sticky bit, ...), each Verilated from a
// directory of its own through the same mechanism as -DMXEMU_RTL_DIR, must be caught by the
// default stimulus: the cosim bench's (directed corner folds mixed with random folds, seed 1) for
// the tile mutants, the directed converter corners for the converter mutants. The bundled RTL
// passes both, so what is caught is the mutation. The oracle is model/mxu and model/numerics
// (themselves checked against ../shared/vectors and the exhaustive fused-step sweep).
#include <verilated.h>

#include <fmt/core.h>
#include <catch2/catch.hpp>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "Vfp8_cvt_lanes.h"
#include "Vmxu_tile4.h"
#include "mutants.h"
#include "testbench/cosim/cvt_harness.h"
#include "testbench/cosim/random_folds.h"
#include "testbench/cosim/tile_harness.h"

using namespace mxemu;

namespace {

enum class Stimulus { kDefault, kDirected, kRandom };

// The cosim bench's default run (seed 1, 6 random folds of up to 24 rows) on a 4x4 tile.
template <typename Top>
cosim::CosimReport run_tile(Stimulus s) {
  mxu::SystolicConfig cfg;
  cfg.rows = cfg.cols = 4;
  std::mt19937_64 rng(1);
  std::vector<cosim::FoldData> data;
  if (s == Stimulus::kDefault) data = cosim::stimulus(rng, cfg, 6, 24);
  if (s == Stimulus::kDirected) data = cosim::directed_folds(cfg);
  if (s == Stimulus::kRandom) {
    for (int f = 0; f < 6; ++f) data.push_back(cosim::random_fold(rng, cfg, 1 + rng() % 24));
  }
  std::vector<mxu::FoldSpec> specs;
  specs.reserve(data.size());
  for (const auto& d : data) specs.push_back(d.spec());
  // A context of its own: Verilator's thread context may be a deleted one (cvt_harness.h).
  auto ctx = std::make_unique<VerilatedContext>();
  auto top = std::make_unique<Top>(ctx.get(), "tile");
  cosim::CosimReport rep = cosim::cosim_tile(*top, cfg, specs);
  top->final();
  return rep;
}

template <typename Top>
cosim::CvtReport run_cvt() {
  cosim::Converter<Top> cvt;
  cosim::CvtReport rep;
  cosim::check_converter(cvt, cosim::converter_corners(), rep);
  return rep;
}

}  // namespace

TEST_CASE("the bundled RTL passes the default stimulus", "[rtl][mutants]") {
  const cosim::CosimReport tile = run_tile<Vmxu_tile4>(Stimulus::kDefault);
  for (const auto& m : tile.mismatches) FAIL_CHECK(m);
  CHECK(tile.ok());
  CHECK(tile.outputs_checked > 0);
  const cosim::CvtReport cvt = run_cvt<Vfp8_cvt_lanes>();
  for (const auto& m : cvt.mismatches) FAIL_CHECK(m);
  CHECK(cvt.ok());
}

TEST_CASE("the default stimulus catches every tile mutant", "[rtl][mutants]") {
  int mutants = 0;
#define MXEMU_CHECK_TILE(Top, name, what)                                                          \
  {                                                                                                \
    ++mutants;                                                                                     \
    const cosim::CosimReport d = run_tile<Top>(Stimulus::kDefault);                                \
    const cosim::CosimReport r = run_tile<Top>(Stimulus::kRandom);                                 \
    INFO(name ": " what);                                                                          \
    CHECK(!d.ok());                                                                                \
    CHECK(!run_tile<Top>(Stimulus::kDirected).ok());                                               \
    fmt::print("mutant {:22} caught: default stimulus {} mismatches, random folds alone {}{}\n",   \
               name, d.mismatch_count, r.mismatch_count,                                           \
               d.mismatches.empty() ? "" : "\n    first: " + d.mismatches.front().substr(0, 160)); \
  }
  MXEMU_TILE_MUTANTS(MXEMU_CHECK_TILE)
#undef MXEMU_CHECK_TILE
  CHECK(mutants >= 5);
}

TEST_CASE("the converter corners catch every converter mutant", "[rtl][mutants]") {
  int mutants = 0;
#define MXEMU_CHECK_CVT(Top, name, what)                                                         \
  {                                                                                              \
    ++mutants;                                                                                   \
    const cosim::CvtReport rep = run_cvt<Top>();                                                 \
    INFO(name ": " what);                                                                        \
    CHECK(!rep.ok());                                                                            \
    fmt::print("mutant {:22} caught: {} of {} conversions differ{}\n", name, rep.mismatch_count, \
               rep.checked,                                                                      \
               rep.mismatches.empty() ? "" : "\n    first: " + rep.mismatches.front());          \
  }
  MXEMU_CVT_MUTANTS(MXEMU_CHECK_CVT)
#undef MXEMU_CHECK_CVT
  CHECK(mutants >= 3);
}
