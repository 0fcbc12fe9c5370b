// Chip-level timing and modes: an isolated GEMM's MXU cycles equal the closed form of
// docs/TIMING.md; fast and cycle-by-cycle mode give identical C and identical cycle counts.
#include <fmt/core.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "model/chip/regs.h"
#include "model/numerics/fp8.h"
#include "testbench/mxemu/bundled.h"
#include "tests/chip/chip_test_util.h"

using namespace mxemu;

namespace {

struct MxuEvent {
  std::string name;
  std::uint64_t start, end;
};

std::vector<MxuEvent> mxu0_events(const std::string& timeline) {
  const auto j = nlohmann::json::parse(timeline);
  std::vector<MxuEvent> ev;
  for (const auto& e : j["traceEvents"]) {
    if (e["ph"] != "X" || e["args"]["queue"] != chip::regs::kQueueMxu0) continue;
    ev.push_back({e["args"]["op"], e["args"]["start_cycle"], e["args"]["end_cycle"]});
  }
  return ev;
}

}  // namespace

TEST_CASE("isolated GEMM on one MXU takes the closed-form cycles", "[chip][timing]") {
  constexpr std::uint64_t R = 128, C = 128;  // mx1
  struct Shape {
    std::size_t m, k, n;
  };
  for (const Shape s :
       {Shape{500, 384, 128}, Shape{500, 300, 100}, Shape{40, 256, 128}, Shape{1, 32, 1}}) {
    INFO(fmt::format("M={} K={} N={}", s.m, s.k, s.n));
    std::mt19937_64 rng(s.m * 7 + s.k);
    const sim::GemmJob g = test::random_gemm(rng, s.m, s.k, s.n, 0);
    sim::ChipJob job = sim::make_gemm_job(g, test::test_firmware("chip_mxu_folds"));
    job.record_timeline = true;
    const sim::ChipJobResult r = test::run_job(job);
    REQUIRE(r.exit_code == 0);
    // Values: the closed form only counts if the result is right.
    test::require_bit_exact(r.outputs.at("C"), g);

    // The recurrence of docs/TIMING.md, written out here: weight loads S_f, streams T_f.
    test::require_well_nested(r.timeline_json);
    const auto ev = mxu0_events(r.timeline_json);
    std::vector<MxuEvent> loads, mms;
    for (const auto& e : ev)
      (e.name == "MXU_LOAD_W" ? loads : e.name == "MXU_MATMUL" ? mms : loads).push_back(e);
    loads.erase(std::remove_if(loads.begin(), loads.end(),
                               [](const MxuEvent& e) { return e.name != "MXU_LOAD_W"; }),
                loads.end());
    const std::size_t folds = (s.k + R - 1) / R;
    REQUIRE(loads.size() == folds);
    REQUIRE(mms.size() == folds);
    const std::uint64_t m = s.m;
    std::vector<std::uint64_t> S(folds), T(folds), last_read(folds);
    for (std::size_t f = 0; f < folds; ++f) {
      S[f] = f == 0 ? loads[0].start : std::max(S[f - 1] + R, f >= 2 ? last_read[f - 2] : 0);
      T[f] = f == 0 ? S[f] + R : std::max(S[f] + R, T[f - 1] + m);
      last_read[f] = T[f] + (m - 1) + (R - 1) + (C - 1);
      const std::uint64_t done = T[f] + R + (m - 1) + (C - 1) + 1;  // last output leaves, +1
      CHECK(mms[f].end == done);
    }
    if (s.m >= 2 * R + C - 3 && s.k % R == 0) {
      // Back to back with loads hidden: R + F*m + R + C - 1 cycles in all.
      CHECK(mms.back().end - loads[0].start == R + folds * m + R + C - 1);
    }
  }
}

TEST_CASE("fast and cycle-by-cycle mode: identical C and identical cycles", "[chip][modes]") {
  // A small array keeps the cycle-stepped MXU affordable: 16 x 16, two MXUs.
  const std::string cfg =
      test::temp_config("mxemu_small_mxu.toml", "[mxu]\nrows = 16\ncols = 16\ncount = 2\n");
  std::mt19937_64 rng(5);
  sim::GemmJob g = test::random_gemm(rng, 37, 96, 50, 16, true);
  g.fmt_b = "e5m2";
  sim::ChipJob job = sim::make_gemm_job(g, bundled::elf("gemm"));
  job.config_path = cfg;
  const sim::ChipJobResult fast = test::run_job(job);
  job.cycle_accurate = true;
  const sim::ChipJobResult exact = test::run_job(job);
  REQUIRE(fast.exit_code == 0);
  REQUIRE(exact.exit_code == 0);
  CHECK(fast.outputs.at("C").data == exact.outputs.at("C").data);
  CHECK(fast.total_cycles == exact.total_cycles);
  CHECK(fast.stats["engines"] == exact.stats["engines"]);
  CHECK(fast.stats["core"]["instret"] == exact.stats["core"]["instret"]);
  test::require_bit_exact(fast.outputs.at("C"), g);
}

TEST_CASE("HBM through its TLM-2.0 AT socket (default) gives the cycles of the direct path",
          "[chip][modes][hbm]") {
  const std::string cfg = test::temp_config("mxemu_hbm_direct.toml", "[dma]\nhbm_tlm = false\n");
  std::mt19937_64 rng(17);
  const std::size_t m = 300, k = 384, n = 260;
  sim::GemmJob g = test::random_gemm(rng, m, k, n, 32);
  g.c0 = make_f32({m, n}, std::vector<float>(m * n, 0.5F));
  sim::ChipJob job = sim::make_gemm_job(g, bundled::elf("gemm"));
  const sim::ChipJobResult tlm = test::run_job(job);
  job.config_path = cfg;
  const sim::ChipJobResult direct = test::run_job(job);
  REQUIRE(direct.exit_code == 0);
  REQUIRE(tlm.exit_code == 0);
  CHECK(direct.outputs.at("C").data == tlm.outputs.at("C").data);
  CHECK(direct.total_cycles == tlm.total_cycles);
  CHECK(direct.stats["engines"] == tlm.stats["engines"]);
  CHECK(direct.stats["hbm"] == tlm.stats["hbm"]);
  CHECK(direct.stats["hbm_bytes_read"] == tlm.stats["hbm_bytes_read"]);
}

TEST_CASE("runs are deterministic: same inputs, same outputs, cycles and statistics",
          "[chip][determinism]") {
  std::mt19937_64 rng(23);
  const sim::GemmJob g = test::random_gemm(rng, 130, 160, 200, 32, true, true);
  sim::ChipJob job = sim::make_gemm_job(g, bundled::elf("gemm"));
  job.record_timeline = true;
  sim::ChipJobResult a = test::run_job(job);
  sim::ChipJobResult b = test::run_job(job);
  CHECK(a.outputs.at("C").data == b.outputs.at("C").data);
  CHECK(a.timeline_json == b.timeline_json);
  for (sim::ChipJobResult* r : {&a, &b}) {  // host time is the only thing allowed to differ
    r->stats.erase("host_seconds");
    r->stats["core"].erase("host_mips");
  }
  CHECK(a.stats == b.stats);
}
