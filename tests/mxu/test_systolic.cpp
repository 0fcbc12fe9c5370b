// model/mxu: the fast path (SystolicCore::run_fold) and the cycle-stepped path (SystolicArraySim)
// agree on every output bit and every output cycle; the schedule matches the closed form of
// docs/TIMING.md computed here by hand; the schedule's hazard constraints are tight (one cycle
// earlier gives wrong results in the stepped array); bad folds are refused with clear errors.
#include <fmt/core.h>
#include <catch2/catch.hpp>

#include <random>

#include "model/common/error.h"
#include "model/mxu/systolic.h"
#include "model/numerics/fused.h"
#include "testbench/cosim/random_folds.h"

using namespace mxemu;
using mxemu::cosim::FoldData;
using mxemu::cosim::random_fold;

namespace {

// Values straight from the definition (DESIGN §3): a loop over the fused step per output.
std::vector<std::uint32_t> definition(const mxu::SystolicConfig& cfg, const mxu::FoldSpec& s) {
  const auto R = static_cast<std::size_t>(cfg.rows), C = static_cast<std::size_t>(cfg.cols);
  const std::size_t kb = R / static_cast<std::size_t>(s.block);
  std::vector<std::uint32_t> out(s.m * C);
  for (std::size_t i = 0; i < s.m; ++i) {
    for (std::size_t n = 0; n < C; ++n) {
      std::uint32_t acc = s.psum_in.empty() ? 0u : num::f32_bits(s.psum_in[i * C + n]);
      for (std::size_t k = 0; k < R; ++k) {
        const std::uint8_t sa = s.act_scales.empty() ? 0x7F : s.act_scales[i * kb + k / s.block];
        const std::uint8_t sb =
            s.weight_scales.empty() ? 0x7F : s.weight_scales[(k / s.block) * C + n];
        acc = num::fused_step_bits(acc, s.fmt_a, s.acts[i * R + k], s.fmt_b, s.weights[k * C + n],
                                   sa, sb);
      }
      out[i * C + n] = acc;
    }
  }
  return out;
}

}  // namespace

TEST_CASE("fast and stepped paths agree bit for bit and cycle for cycle", "[mxu]") {
  std::mt19937_64 rng(12345);
  const int shapes[][3] = {{1, 1, 1}, {2, 3, 1}, {3, 2, 2}, {4, 4, 1},  {4, 4, 3},
                           {8, 8, 1}, {5, 7, 2}, {8, 4, 1}, {16, 16, 1}};
  const std::size_t ms[] = {1, 2, 3, 5, 8, 17, 40, 1, 64};
  for (const auto& sh : shapes) {
    mxu::SystolicConfig cfg;
    cfg.rows = sh[0];
    cfg.cols = sh[1];
    cfg.pe_latency_cycles = sh[2];
    mxu::SystolicCore core(cfg);
    std::vector<FoldData> data;
    for (std::size_t f = 0; f < 9; ++f)
      data.push_back(random_fold(rng, cfg, ms[(f * 7 + sh[0]) % 9]));
    std::vector<mxu::FoldSpec> specs;
    std::vector<mxu::FoldTiming> timings;
    std::vector<std::vector<float>> fast;
    for (auto& d : data) {
      specs.push_back(d.spec());
      fast.emplace_back(d.m * cfg.cols);
      // Some folds wait for their weights (earliest > the port's free cycle).
      const std::uint64_t earliest = (rng() % 4 == 0) ? 300 * specs.size() : 0;
      timings.push_back(core.run_fold(specs.back(), fast.back(), earliest));
    }
    const auto stepped = mxu::run_stepped(cfg, specs, timings);
    for (std::size_t f = 0; f < specs.size(); ++f) {
      const auto def = definition(cfg, specs[f]);
      for (std::size_t i = 0; i < specs[f].m; ++i) {
        for (int n = 0; n < cfg.cols; ++n) {
          const std::size_t idx = i * cfg.cols + n;
          const std::uint32_t fb = num::f32_bits(fast[f][idx]);
          INFO(fmt::format("{}x{} L={} fold {} row {} col {}", cfg.rows, cfg.cols,
                           cfg.pe_latency_cycles, f, i, n));
          REQUIRE(fb == def[idx]);
          REQUIRE(stepped.outs[f][idx] == fb);
          REQUIRE(stepped.cycles[f][idx] == timings[f].out_cycle(i, n));
        }
      }
    }
  }
}

TEST_CASE("schedule equals the closed form of docs/TIMING.md", "[mxu]") {
  mxu::SystolicConfig cfg;
  cfg.rows = 8;
  cfg.cols = 6;
  cfg.pe_latency_cycles = 1;
  const std::uint64_t R = 8, C = 6, L = 1;
  SECTION("one fold: R load cycles, then skew, stream and drain") {
    mxu::FoldScheduler s(cfg);
    const auto t = s.schedule(10);
    CHECK(t.load_start == 0);
    CHECK(t.stream_start == R);
    CHECK(t.out_cycle(0, 0) == R + R * L);
    // Total cycles (0 .. last output) = M + 2R + C - 1 for L = 1 (SCALE-Sim: M + 2R + C - 2).
    CHECK(t.last_out_cycle() + 1 == 10 + 2 * R + C - 1);
  }
  SECTION("long folds stream back to back: loads hide behind the previous fold") {
    mxu::FoldScheduler s(cfg);
    const std::uint64_t M = 2 * R + C;  // >= R + (R-1)L + C - 2: loads fully hidden
    auto prev = s.schedule(M);
    for (int f = 1; f < 6; ++f) {
      const auto t = s.schedule(M);
      CHECK(t.stream_start == prev.stream_start + M);
      prev = t;
    }
  }
  SECTION("short folds: a bank is reloaded once the fold two back has drained") {
    mxu::FoldScheduler s(cfg);
    const std::uint64_t M = 2;
    std::vector<mxu::FoldTiming> t;
    t.reserve(6);
    for (int f = 0; f < 6; ++f) t.push_back(s.schedule(M));
    for (int f = 2; f < 6; ++f) {
      const auto& two_back = t[f - 2];
      const std::uint64_t drained = two_back.stream_start + (M - 1) + (R - 1) * L + (C - 1);
      CHECK(t[f].load_start == std::max(drained, t[f - 1].load_start + R));
      CHECK(t[f].stream_start == std::max(t[f].load_start + R, t[f - 1].stream_start + M));
    }
    // Steady state: two folds per (M - 1) + (R - 1)L + (C - 1) + R cycles here.
    CHECK(t[5].stream_start - t[3].stream_start == (M - 1) + (R - 1) * L + (C - 1) + R);
  }
}

TEST_CASE("the schedule's constraints are tight: one cycle earlier corrupts results", "[mxu]") {
  std::mt19937_64 rng(777);
  mxu::SystolicConfig cfg;
  cfg.rows = 4;
  cfg.cols = 4;
  cfg.pe_latency_cycles = 1;
  std::vector<FoldData> data;
  data.reserve(3);
  for (int f = 0; f < 3; ++f) data.push_back(random_fold(rng, cfg, 2, 0));
  std::vector<mxu::FoldSpec> specs;
  specs.reserve(data.size());
  for (auto& d : data) specs.push_back(d.spec());
  mxu::FoldScheduler s(cfg);
  std::vector<mxu::FoldTiming> t;
  t.reserve(specs.size());
  for (auto& sp : specs) t.push_back(s.schedule(sp.m));
  const auto ok = mxu::run_stepped(cfg, specs, t);
  for (std::size_t f = 0; f < specs.size(); ++f) CHECK(ok.outs[f] == definition(cfg, specs[f]));
  SECTION("streaming before the last weight row has settled") {
    auto bad = t;
    bad[0].stream_start -= 1;
    bad[0].out_base -= 1;
    CHECK(mxu::run_stepped(cfg, specs, bad).outs[0] != ok.outs[0]);
  }
  SECTION("reloading a bank while the fold two back still reads it") {
    auto bad = t;
    REQUIRE(bad[2].load_start == t[0].last_read_cycle(cfg.rows, cfg.pe_latency_cycles));
    bad[2].load_start -= 1;
    CHECK(mxu::run_stepped(cfg, specs, bad).outs[0] != ok.outs[0]);
  }
}

TEST_CASE("bad folds are refused with a message naming the cause", "[mxu]") {
  mxu::SystolicConfig cfg;
  cfg.rows = 4;
  cfg.cols = 4;
  mxu::SystolicCore core(cfg);
  std::vector<std::uint8_t> w(16), a(8);
  std::vector<float> out(8);
  mxu::FoldSpec s;
  s.m = 2;
  s.weights = w;
  s.acts = a;
  CHECK_NOTHROW(core.run_fold(s, out));
  std::vector<std::uint8_t> short_w(15);
  s.weights = short_w;
  CHECK_THROWS_WITH(core.run_fold(s, out), "fold: weights has 15 elements, expected 16");
  s.weights = w;
  s.block = 3;
  CHECK_THROWS_WITH(core.run_fold(s, out), "fold: MX block 3 does not divide the array's 4 rows");
  s.block = 1;
  s.m = 0;
  CHECK_THROWS_AS(core.run_fold(s, out), mxemu::Error);
  mxu::SystolicConfig bad = cfg;
  bad.pe_latency_cycles = 0;
  CHECK_THROWS_WITH(mxu::SystolicCore(bad), "PE latency must be at least 1 cycle (got 0)");
}
