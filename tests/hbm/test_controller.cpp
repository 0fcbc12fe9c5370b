// The timing engine: closed-form latencies of single accesses, issued command logs that pass the
// checker and the independent pairwise reference, streaming efficiency, the tFAW/tRRD bound of
// random reads, refresh rate, closed-page policy and the starvation cap.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <random>
#include <vector>

#include "model/common/error.h"
#include "model/hbm/checker.h"
#include "model/hbm/controller.h"
#include "model/hbm/trace.h"
#include "tests/hbm/pairwise_ref.h"

using namespace mxemu::hbm;

namespace {

HbmConfig one_pc(RefreshPolicy refresh = RefreshPolicy::kNone) {
  HbmConfig c;
  c.org.stacks = 1;
  c.org.channels_per_stack = 1;
  c.org.pseudo_channels = 1;
  c.refresh = refresh;
  c.record_commands = true;
  return c;
}

// Address of (bank group, bank, row, column) under the configured mapping.
std::uint64_t at(const HbmCore& core, std::uint32_t bg, std::uint32_t bank, std::uint32_t row,
                 std::uint32_t col = 0) {
  DecodedAddress d;
  d.bank_group = BankGroup{bg};
  d.bank = Bank{bank};
  d.row = Row{row};
  d.column = Column{col};
  return core.address_map().encode(d);
}

std::map<std::uint64_t, Cycle> done_by_id(HbmCore& core) {
  std::map<std::uint64_t, Cycle> m;
  for (const Completion& c : core.pop_completions(~Cycle{0})) m[c.id] = c.done;
  return m;
}

void require_legal(const HbmCore& core) {
  const auto v = check_command_log(core.config(), core.command_log());
  INFO((v.empty() ? std::string() : v.front().message));
  REQUIRE(v.empty());
  REQUIRE(test::pairwise_check(core.config(), core.command_log()) == "");
}

}  // namespace

TEST_CASE("Single accesses complete at the closed-form cycles") {
  const HbmConfig cfg = one_pc();
  const TimingSet& t = cfg.timing;
  {
    HbmCore core(cfg);
    core.keep_completions(true);
    core.submit({1, at(core, 0, 0, 5), false, 0});
    core.submit({2, at(core, 3, 2, 5), true, 100});
    core.drain();
    const auto done = done_by_id(core);
    REQUIRE(done.at(1) == t.nRCDRD + t.nCL + t.nBL);
    REQUIRE(done.at(2) == 100 + t.nRCDWR + t.nCWL + t.nBL);
    require_legal(core);
  }
  // Four requests at cycle 0: 1 (miss), 2 (hit behind 1), 3 (conflict in the same bank), 4 (a
  // write to another bank group). FR-FCFS issues, cycle by cycle:
  HbmCore core(cfg);
  core.keep_completions(true);
  core.submit({1, at(core, 0, 0, 5, 0), false, 0});
  core.submit({2, at(core, 0, 0, 5, 1), false, 0});
  core.submit({3, at(core, 0, 0, 6, 0), false, 0});
  core.submit({4, at(core, 1, 0, 9, 0), true, 0});
  core.drain();
  const auto done = done_by_id(core);
  // ACT bank 0 at 0 (oldest), ACT bank group 1 at tRRD_S; the write is ready first (tRCD_WR).
  const Cycle wr = t.nRRDS + t.nRCDWR;
  // The reads wait for tRCD and for tWTR_S after the write data; the hit follows at tCCD_L.
  const Cycle rd1 = std::max<Cycle>(t.nRCDRD, wr + t.nCWL + t.nBL + t.nWTRS);
  const Cycle rd2 = rd1 + t.nCCDL;
  // Only then (no queued hit left) the conflict precharges: tRAS and tRTP; ACT after tRP, tRC.
  const Cycle pre = std::max<Cycle>(t.nRAS, rd2 + t.nRTP);
  const Cycle act = std::max<Cycle>(pre + t.nRP, t.nRC);
  const Cycle rd3 = act + t.nRCDRD;
  REQUIRE(done.at(4) == wr + t.nCWL + t.nBL);
  REQUIRE(done.at(1) == rd1 + t.nCL + t.nBL);
  REQUIRE(done.at(2) == rd2 + t.nCL + t.nBL);
  REQUIRE(done.at(3) == rd3 + t.nCL + t.nBL);
  require_legal(core);
  REQUIRE(core.stats().row_hits == 1);
}

TEST_CASE("Random mixed traffic: every issued command log is legal (checker and pairwise)") {
  for (const RefreshPolicy rp : {RefreshPolicy::kPerBank, RefreshPolicy::kAllBank}) {
    for (const PagePolicy pp : {PagePolicy::kOpen, PagePolicy::kClosed}) {
      HbmConfig cfg;
      cfg.org.stacks = 1;
      cfg.org.channels_per_stack = 2;
      cfg.refresh = rp;
      cfg.page_policy = pp;
      cfg.record_commands = true;
      HbmCore core(cfg);
      std::mt19937_64 rng(7);
      Cycle now = 0;
      for (std::uint64_t i = 0; i < 20000; ++i) {
        now += rng() % 3;
        // A few hot rows (hits and conflicts) plus random rows.
        const std::uint64_t addr = (rng() % 4 == 0)
                                       ? (rng() % (1u << 20)) * 32
                                       : (rng() % (core.address_map().capacity_bytes() / 32)) * 32;
        now = core.submit({i, addr, rng() % 3 == 0, now});
      }
      core.drain();
      core.advance(core.stats().last_done + 1);
      REQUIRE(core.stats().reads + core.stats().writes == 20000);
      require_legal(core);
    }
  }
}

TEST_CASE("Sequential reads reach at least 90 % of the modelled data-bus peak") {
  const HbmConfig cfg;  // mx1, per-bank refresh on
  HbmCore core(cfg);
  std::vector<TraceEntry> trace(200000);
  for (std::size_t i = 0; i < trace.size(); ++i) trace[i].address = i * 32;
  const ReplayReport r = replay(core, trace);
  // Peak from the organisation and timing set: every pseudo-channel moves 32 B per nBL cycles.
  const double peak = 128.0 * 32 / cfg.timing.nBL / (cfg.timing.tck_ps / 1000.0);
  REQUIRE(r.peak_gbps == Approx(peak));
  REQUIRE(peak == Approx(4 * 819.2));
  INFO("efficiency " << r.efficiency);
  REQUIRE(r.bandwidth_gbps >= 0.90 * peak);
  REQUIRE(r.refreshes > 0);
}

TEST_CASE("Random 32-byte reads stay within the tFAW / tRRD activate bound") {
  HbmConfig cfg;
  cfg.org.stacks = 1;  // 32 pseudo-channels
  HbmCore core(cfg);
  std::mt19937_64 rng(3);
  std::vector<TraceEntry> trace(60000);
  for (auto& e : trace) e.address = (rng() % (core.address_map().capacity_bytes() / 32)) * 32;
  const ReplayReport r = replay(core, trace);
  const TimingSet& t = cfg.timing;
  // Each miss needs an ACT; a pseudo-channel issues at most 4 ACTs per tFAW and one per tRRD_S.
  const double acts_per_cycle = std::min(4.0 / t.nFAW, 1.0 / t.nRRDS);
  const double misses = static_cast<double>(r.requests) * (1 - r.row_hit_rate);
  const double min_cycles = misses / (acts_per_cycle * cfg.org.pc_count());
  INFO("cycles " << r.cycles << " bound " << min_cycles << " hit rate " << r.row_hit_rate);
  REQUIRE(r.row_hit_rate < 0.01);
  REQUIRE(static_cast<double>(r.cycles) >= min_cycles);
  // ... and the scheduler gets reasonably close to it (refresh and queueing cost the rest).
  REQUIRE(static_cast<double>(r.cycles) <= 1.6 * min_cycles);
}

TEST_CASE("Refresh: every bank is refreshed on average once per tREFI") {
  for (const RefreshPolicy rp : {RefreshPolicy::kPerBank, RefreshPolicy::kAllBank}) {
    HbmConfig cfg = one_pc(rp);
    HbmCore core(cfg);
    const TimingSet& t = cfg.timing;
    const Cycle end = 40 * Cycle{t.nREFI};
    std::mt19937_64 rng(11);
    std::uint64_t id = 0;
    for (Cycle now = 0; now < end; now += 5) {  // busy: about one request per 5 cycles
      now = core.submit(
          {id++, (rng() % (core.address_map().capacity_bytes() / 32)) * 32, rng() % 2 == 0, now});
    }
    core.drain();
    core.advance(end);
    require_legal(core);
    std::vector<std::uint64_t> per_bank(cfg.org.banks_per_pc(), 0);
    for (const CommandRecord& c : core.command_log()) {
      if (c.cycle >= end) continue;
      if (c.cmd == Command::kRefAb) {
        for (auto& n : per_bank) ++n;
      } else if (c.cmd == Command::kRefPb) {
        ++per_bank[c.bank_group * cfg.org.banks_per_group + c.bank];
      }
    }
    for (std::uint64_t n : per_bank) {
      INFO("refresh policy " << static_cast<int>(rp));
      REQUIRE(n >= 40 - 1);  // 40 intervals; the last may be owed (postponed)
      REQUIRE(n <= 40);
    }
  }
}

TEST_CASE("Closed-page policy precharges after the access; open-page keeps the row") {
  for (const PagePolicy pp : {PagePolicy::kClosed, PagePolicy::kOpen}) {
    HbmConfig cfg = one_pc();
    cfg.page_policy = pp;
    HbmCore core(cfg);
    core.submit({0, at(core, 2, 1, 77), false, 0});
    core.drain();
    core.advance(1000);
    const auto& log = core.command_log();
    const TimingSet& t = cfg.timing;
    if (pp == PagePolicy::kClosed) {
      REQUIRE(log.size() == 3);
      REQUIRE(log[2].cmd == Command::kPre);
      REQUIRE(log[2].cycle == std::max<Cycle>(t.nRAS, t.nRCDRD + t.nRTP));
    } else {
      REQUIRE(log.size() == 2);
    }
  }
}

TEST_CASE("Starvation cap: a row conflict waits for at most starvation_cap younger hits") {
  for (const std::uint32_t cap : {4u, 16u}) {
    HbmConfig cfg = one_pc();
    cfg.starvation_cap = cap;
    HbmCore core(cfg);
    core.keep_completions(true);
    core.submit({0, at(core, 0, 0, 1, 0), false, 0});  // opens row 1
    core.submit({1, at(core, 0, 0, 2, 0), false, 0});  // conflict, older than the hits below
    for (std::uint64_t i = 2; i < 30; ++i) {
      core.submit({i, at(core, 0, 0, 1, static_cast<std::uint32_t>(i)), false, 0});
    }
    core.drain();
    const auto done = done_by_id(core);
    std::uint64_t served_before = 0;
    for (std::uint64_t i = 2; i < 30; ++i) served_before += done.at(i) < done.at(1);
    REQUIRE(served_before == cap);
    require_legal(core);
  }
}

TEST_CASE("Queue full: acceptance waits for a column command, in order") {
  HbmConfig cfg = one_pc();
  cfg.queue_depth = 4;
  HbmCore core(cfg);
  std::vector<Cycle> acc;
  for (std::uint64_t i = 0; i < 6; ++i) acc.push_back(core.submit({i, i * 32 * 4, false, 0}));
  REQUIRE(acc[0] == 0);
  REQUIRE(acc[3] == 0);
  REQUIRE(acc[4] > 0);
  REQUIRE(acc[5] >= acc[4]);
  REQUIRE_THROWS_AS(core.submit({9, core.address_map().capacity_bytes(), false, 0}), mxemu::Error);
}
