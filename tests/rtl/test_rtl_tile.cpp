// The Verilated systolic tile (rtl/mxu/mxu_tile.sv) against the model/mxu core in lock step:
// 4x4, 8x8 and 16x16 tiles (and a 4x4 with a pipelined PE, latency 2) on random GEMM folds of
// several M, weight reloads back to back (double-buffered, scheduled by the closed form), every
// output bit-exact and on the same cycle. Also: a deliberately wrong expectation is reported with
// formats, operands, scales, expected, got and cycle.
#include <fmt/core.h>
#include <catch2/catch.hpp>

#include <memory>
#include <random>

#include "Vmxu_tile16.h"
#include "Vmxu_tile4.h"
#include "Vmxu_tile4p1.h"
#include "Vmxu_tile8.h"
#include "testbench/cosim/random_folds.h"
#include "testbench/cosim/tile_harness.h"

using namespace mxemu;

namespace {

template <typename Top>
void run_tile(int size, int latency, std::uint64_t seed) {
  mxu::SystolicConfig cfg;
  cfg.rows = size;
  cfg.cols = size;
  cfg.pe_latency_cycles = latency;
  std::mt19937_64 rng(seed);
  // M values: single rows, shorter than the load, around the hiding threshold 2R + C, longer.
  const auto r = static_cast<std::size_t>(size);
  const std::vector<std::size_t> ms = {1, 2, r - 1, r, 3 * r, 2 * r + 1, 7, 5 * r, 1, 3, 4 * r};
  std::vector<cosim::FoldData> data;
  data.reserve(ms.size());
  for (std::size_t m : ms) data.push_back(cosim::random_fold(rng, cfg, m));
  std::vector<mxu::FoldSpec> specs;
  specs.reserve(data.size());
  for (auto& d : data) specs.push_back(d.spec());
  auto top = std::make_unique<Top>();
  const auto rep = cosim::cosim_tile(*top, cfg, specs);
  for (const auto& m : rep.mismatches) FAIL_CHECK(m);
  std::size_t outputs = 0;
  for (auto m : ms) outputs += m * r;
  INFO(fmt::format("{}x{} tile: {} outputs over {} cycles", size, size, rep.outputs_checked,
                   rep.cycles));
  CHECK(rep.outputs_checked == outputs);
  CHECK(rep.ok());
}

}  // namespace

TEST_CASE("4x4 tile equals model/mxu bit- and cycle-exactly", "[rtl][tile]") {
  for (std::uint64_t seed = 1; seed <= 8; ++seed) run_tile<Vmxu_tile4>(4, 1, seed);
}

TEST_CASE("4x4 tile with a pipelined PE (latency 2) equals model/mxu", "[rtl][tile]") {
  for (std::uint64_t seed = 11; seed <= 14; ++seed) run_tile<Vmxu_tile4p1>(4, 2, seed);
}

TEST_CASE("8x8 tile equals model/mxu bit- and cycle-exactly", "[rtl][tile]") {
  for (std::uint64_t seed = 21; seed <= 28; ++seed) run_tile<Vmxu_tile8>(8, 1, seed);
}

TEST_CASE("16x16 tile equals model/mxu bit- and cycle-exactly", "[rtl][tile]") {
  for (std::uint64_t seed = 31; seed <= 38; ++seed) run_tile<Vmxu_tile16>(16, 1, seed);
}

TEST_CASE("a mismatch is reported with formats, operands, scales, expected, got, cycle",
          "[rtl][tile]") {
  mxu::SystolicConfig cfg;
  cfg.rows = 4;
  cfg.cols = 4;
  // The RTL multiplies by weights 2.0 while the expectation assumes 1.0 (E4M3 0x40 / 0x38).
  std::vector<std::uint8_t> acts(8, 0x38), w_one(16, 0x38), w_two(16, 0x40);
  mxu::FoldSpec driven;
  driven.m = 2;
  driven.acts = acts;
  driven.weights = w_two;
  mxu::FoldSpec expected = driven;
  expected.weights = w_one;
  const std::vector<mxu::FoldSpec> exp_folds{expected};
  cosim::CosimOptions opt;
  opt.expect_from = &exp_folds;
  opt.max_reports = 100;
  auto top = std::make_unique<Vmxu_tile4>();
  const auto rep = cosim::cosim_tile(*top, cfg, std::vector<mxu::FoldSpec>{driven}, opt);
  CHECK_FALSE(rep.ok());
  CHECK(rep.mismatch_count == 8);
  REQUIRE(!rep.mismatches.empty());
  const std::string& msg = rep.mismatches.front();
  // The report names the operands the RTL was driven with. Output (row 0, col 0) leaves at
  // cycle R (load) + R * L = 8: 8.0 (0x41000000), not 4.0.
  CHECK(msg ==
        "4x4 tile mismatch: fold 0 row 0 col 0 fmt_a=e4m3 fmt_b=e4m3 psum=00000000 "
        "k0:a=38,b=40,sa=7f,sb=7f k1:a=38,b=40,sa=7f,sb=7f k2:a=38,b=40,sa=7f,sb=7f "
        "k3:a=38,b=40,sa=7f,sb=7f: expected 40800000 at cycle 8, got 41000000 at cycle 8");
}
