// The timing engine: closed-form latencies of single accesses, issued command logs that pass the
// checker and the independent pairwise reference, streaming efficiency, the tFAW/tRRD bound of
// random reads, refresh rate, closed-page policy, starvation by age and by count, the front end
// (queue full, queues shared per channel, accept rate), how far the queue looks ahead in
// streaming, write drain (watermarks, bounded wait, idle drain yielding to reads),
// mixed read/write bandwidth between bounds from the timing set, incremental = full decisions,
// progress on configs at the edge of the refresh rules, and the JSON statistics.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <random>
#include <vector>

#include "model/common/error.h"
#include "model/hbm/checker.h"
#include "model/hbm/controller.h"
#include "model/hbm/stats.h"
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
  // write to another bank group). Reads have priority: the write waits until no read is queued.
  HbmCore core(cfg);
  core.keep_completions(true);
  core.submit({1, at(core, 0, 0, 5, 0), false, 0});
  core.submit({2, at(core, 0, 0, 5, 1), false, 0});
  core.submit({3, at(core, 0, 0, 6, 0), false, 0});
  core.submit({4, at(core, 1, 0, 9, 0), true, 0});
  core.drain();
  const auto done = done_by_id(core);
  // ACT bank 0 at 0 (oldest); the hit follows the first read at tCCD_L.
  const Cycle rd1 = t.nRCDRD;
  const Cycle rd2 = rd1 + t.nCCDL;
  // Only then (no queued hit left) the conflict precharges: tRAS and tRTP; ACT after tRP, tRC.
  const Cycle pre = std::max<Cycle>(t.nRAS, rd2 + t.nRTP);
  const Cycle act = std::max<Cycle>(pre + t.nRP, t.nRC);
  const Cycle rd3 = act + t.nRCDRD;
  // With no read left the write drains: ACT bank group 1 at rd3, WR after tRCD_WR and tRTW.
  const Cycle wr = std::max<Cycle>(rd3 + t.nRCDWR, rd3 + t.nRTW);
  REQUIRE(done.at(1) == rd1 + t.nCL + t.nBL);
  REQUIRE(done.at(2) == rd2 + t.nCL + t.nBL);
  REQUIRE(done.at(3) == rd3 + t.nCL + t.nBL);
  REQUIRE(done.at(4) == wr + t.nCWL + t.nBL);
  require_legal(core);
  REQUIRE(core.stats().row_hits == 1);
  // The PHY / controller latency adds to every completion and nothing else.
  HbmConfig slow = cfg;
  slow.phy_latency_cycles = 13;
  HbmCore late(slow);
  late.keep_completions(true);
  late.submit({1, at(late, 0, 0, 5), false, 0});
  late.submit({2, at(late, 3, 2, 5), true, 100});
  late.drain();
  const auto late_done = done_by_id(late);
  REQUIRE(late_done.at(1) == t.nRCDRD + t.nCL + t.nBL + 13);
  REQUIRE(late_done.at(2) == 100 + t.nRCDWR + t.nCWL + t.nBL + 13);
}

TEST_CASE("Random mixed traffic: every issued command log is legal (checker and pairwise)") {
  struct Variant {
    const char* standard;
    RefreshPolicy refresh;
    PagePolicy page;
    bool small_queues;  // 4-deep queues, early drains, short starvation limits, accept limit
    QueueScope scope = QueueScope::kPseudoChannel;
    std::uint32_t sids = 1;  // stack IDs (tCCD_R between them)
  };
  const Variant variants[] = {
      {"HBM3", RefreshPolicy::kPerBank, PagePolicy::kOpen, false},
      {"HBM3", RefreshPolicy::kAllBank, PagePolicy::kOpen, false},
      {"HBM3", RefreshPolicy::kPerBank, PagePolicy::kClosed, false},
      {"HBM3", RefreshPolicy::kAllBank, PagePolicy::kClosed, true},
      {"HBM3", RefreshPolicy::kPerBank, PagePolicy::kOpen, true},
      {"HBM2", RefreshPolicy::kAllBank, PagePolicy::kOpen, false},
      {"HBM2", RefreshPolicy::kPerBank, PagePolicy::kOpen, true},
      {"HBM2E", RefreshPolicy::kPerBank, PagePolicy::kClosed, false},
      {"HBM3E", RefreshPolicy::kAllBank, PagePolicy::kOpen, false},
      {"HBM3E", RefreshPolicy::kPerBank, PagePolicy::kOpen, true},
      {"HBM3", RefreshPolicy::kAllBank, PagePolicy::kOpen, false, QueueScope::kChannel},
      {"HBM3", RefreshPolicy::kPerBank, PagePolicy::kClosed, true, QueueScope::kChannel},
      {"HBM2", RefreshPolicy::kAllBank, PagePolicy::kOpen, true, QueueScope::kChannel},
      {"HBM3", RefreshPolicy::kAllBank, PagePolicy::kOpen, false, QueueScope::kPseudoChannel, 2},
      {"HBM3E", RefreshPolicy::kPerBank, PagePolicy::kOpen, true, QueueScope::kChannel, 4},
  };
  for (const Variant& v : variants) {
    INFO(v.standard << " refresh " << static_cast<int>(v.refresh) << " page "
                    << static_cast<int>(v.page) << " small " << v.small_queues << " scope "
                    << static_cast<int>(v.scope) << " sids " << v.sids);
    HbmConfig cfg = preset_config(v.standard);
    cfg.org.stacks = 1;
    cfg.org.channels_per_stack = 2;
    cfg.refresh = v.refresh;
    cfg.page_policy = v.page;
    cfg.queue_scope = v.scope;
    cfg.org.sids = v.sids;
    if (v.sids > 1) cfg.mapping = "RoBaSiCoBgStChPc";
    cfg.record_commands = true;
    if (v.small_queues) {
      cfg.read_queue_depth = cfg.write_queue_depth = 4;
      cfg.write_high_watermark = 0.5;
      cfg.write_low_watermark = 0.25;
      cfg.write_max_wait_ns = 100;
      cfg.starvation_age_ns = 60;
      cfg.starvation_cap = 6;
      cfg.accept_per_cycle = 2;
    }
    HbmCore core(cfg);
    std::mt19937_64 rng(7);
    Cycle now = 0;
    for (std::uint64_t i = 0; i < 12000; ++i) {
      now += rng() % 3;
      // A few hot rows (hits and conflicts) plus random rows.
      const std::uint64_t addr = (rng() % 4 == 0)
                                     ? (rng() % (1u << 20)) * 32
                                     : (rng() % (core.address_map().capacity_bytes() / 32)) * 32;
      now = core.submit({i, addr, rng() % 3 == 0, now});
    }
    core.drain();
    core.advance(core.stats().last_done + 1);
    REQUIRE(core.stats().reads + core.stats().writes == 12000);
    require_legal(core);
  }
}

TEST_CASE("Sequential reads reach the data-bus peak less the all-bank refresh time") {
  {
    const HbmConfig cfg;  // mx1; 200,000 reads take less than one tREFI
    HbmCore core(cfg);
    std::vector<TraceEntry> trace(200000);
    for (std::size_t i = 0; i < trace.size(); ++i) trace[i].address = i * 32;
    const ReplayReport r = replay(core, trace);
    // Peak from the organisation and timing set: every pseudo-channel moves 32 B per nBL cycles.
    const double peak = 128.0 * 32 / cfg.timing.nBL / (cfg.timing.tck_ps / 1000.0);
    REQUIRE(r.peak_gbps == Approx(peak));
    REQUIRE(peak == Approx(4 * 819.2));
    INFO("efficiency " << r.efficiency);
    REQUIRE(r.bandwidth_gbps >= 0.95 * peak);
  }
  // One stack, many tREFI: each REFab leaves the data bus idle for tRFC at least, so the
  // efficiency is at most 1 - refreshes x tRFC / cycles, and the controller stays within 3 % of
  // that (row switches and closing the banks before each REFab).
  HbmConfig cfg;
  cfg.org.stacks = 1;
  HbmCore core(cfg);
  std::vector<TraceEntry> trace(400000);
  for (std::size_t i = 0; i < trace.size(); ++i) trace[i].address = i * 32;
  const ReplayReport r = replay(core, trace);
  const double refresh_per_pc = static_cast<double>(r.refreshes) / cfg.org.pc_count();
  const double bound = 1 - refresh_per_pc * cfg.timing.nRFC / static_cast<double>(r.cycles);
  INFO("efficiency " << r.efficiency << ", refresh bound " << bound);
  REQUIRE(refresh_per_pc >= 3);
  REQUIRE(r.efficiency <= bound);
  REQUIRE(r.efficiency >= bound - 0.03);
  REQUIRE(r.efficiency <= 0.97);
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
    cfg.starvation_age_ns = 0;  // count only
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

TEST_CASE("Starvation by age: a row conflict goes first once it has waited starvation_age_ns") {
  HbmConfig cfg = one_pc();
  cfg.starvation_age_ns = 250;  // 400 cycles of 0.625 ns
  const Cycle age = 400;
  REQUIRE(cfg.starvation_age_cycles() == age);
  const TimingSet& t = cfg.timing;
  HbmCore core(cfg);
  core.keep_completions(true);
  core.submit({0, at(core, 0, 0, 1, 0), false, 0});  // opens row 1
  core.submit({1, at(core, 0, 0, 2, 0), false, 0});  // conflict, arrives at cycle 0
  // An endless supply of hits to row 1 (more than the queue holds: the front end waits).
  for (std::uint64_t i = 2; i < 400; ++i) {
    core.submit({i, at(core, 0, 0, 1, static_cast<std::uint32_t>(i % 32)), false, 0});
  }
  core.drain();
  const auto& log = core.command_log();
  // The first PRE closes row 1 for the conflict: not before its age limit, and then as soon as
  // tRTP after the last read allows (no other request may use the bank meanwhile).
  const auto pre = std::find_if(log.begin(), log.end(),
                                [](const CommandRecord& c) { return c.cmd == Command::kPre; });
  REQUIRE(pre != log.end());
  Cycle last_rd = 0;
  for (auto it = log.begin(); it != pre; ++it) {
    if (it->cmd == Command::kRd) last_rd = it->cycle;
  }
  REQUIRE(last_rd <= age);           // hits flowed until the limit...
  REQUIRE(last_rd + t.nCCDL > age);  // ... and up to it
  REQUIRE(pre->cycle == std::max<Cycle>(age, last_rd + t.nRTP));
  const Cycle act = pre->cycle + t.nRP;
  REQUIRE(done_by_id(core).at(1) == act + t.nRCDRD + t.nCL + t.nBL);
  require_legal(core);
}

TEST_CASE("Queue full: acceptance waits for a column command, in order") {
  HbmConfig cfg = one_pc();
  cfg.read_queue_depth = 4;
  HbmCore core(cfg);
  std::vector<Cycle> acc;
  for (std::uint64_t i = 0; i < 6; ++i) acc.push_back(core.submit({i, i * 32 * 4, false, 0}));
  REQUIRE(acc[0] == 0);
  REQUIRE(acc[3] == 0);
  REQUIRE(acc[4] > 0);
  REQUIRE(acc[5] >= acc[4]);
  // The write queue is separate: a write finds room while reads wait.
  REQUIRE(core.submit({6, 0, true, 0}) == acc[5]);
  REQUIRE_THROWS_AS(core.submit({9, core.address_map().capacity_bytes(), false, 0}), mxemu::Error);
}

TEST_CASE("Per-channel queues: a request waits while its channel's queue is full") {
  for (const QueueScope scope : {QueueScope::kPseudoChannel, QueueScope::kChannel}) {
    HbmConfig cfg = one_pc();
    cfg.org.pseudo_channels = 2;
    cfg.read_queue_depth = 4;
    cfg.queue_scope = scope;
    HbmCore core(cfg);
    core.keep_completions(true);
    const TimingSet& t = cfg.timing;
    auto addr = [&](std::uint32_t pc, std::uint32_t col) {
      DecodedAddress d;
      d.pseudo_channel = PseudoChannel{pc};
      d.column = Column{col};
      return core.address_map().encode(d);
    };
    // Four reads fill pseudo-channel 0's queue, or the channel's shared one.
    for (std::uint32_t i = 0; i < 4; ++i) REQUIRE(core.submit({i, addr(0, i), false, 0}) == 0);
    // Pseudo-channel 0 opens the row at 0 and reads from nRCDRD: with a shared queue the read for
    // pseudo-channel 1 is accepted the cycle after that first RD frees a slot.
    const Cycle expect = scope == QueueScope::kChannel ? Cycle{t.nRCDRD} + 1 : 0;
    INFO("scope " << static_cast<int>(scope));
    REQUIRE(core.submit({4, addr(1, 0), false, 0}) == expect);
    // The write queue is separate and has room; the in-order front end accepts it no earlier.
    REQUIRE(core.submit({5, addr(1, 1), true, 0}) == expect);
    core.drain();
    core.advance(core.stats().last_done + 1);
    const auto done = done_by_id(core);
    REQUIRE(done.at(0) == t.nRCDRD + t.nCL + t.nBL);
    REQUIRE(done.at(4) == expect + t.nRCDRD + t.nCL + t.nBL);
    require_legal(core);
  }
}

TEST_CASE("Streaming: row switches are hidden only as far as the queue looks ahead") {
  // Sequential reads under the default mapping: each pseudo-channel changes bank (an old row
  // open in it) every bank_groups x columns accesses, which take that many x nCCDS cycles of
  // data. The first request for the new bank enters the queue when the queue ahead of it holds
  // s - 1 requests (s: the pseudo-channel's queue, or its half of a shared per-channel queue),
  // i.e. (s - 1) x nCCDS cycles of data before it is needed, and needs PRE, tRP, ACT, tRCD: the
  // data bus idles for max(0, tRP + tRCD - (s - 1) x nCCDS) cycles per switch.
  HbmConfig base;
  base.org.stacks = 1;
  base.refresh = RefreshPolicy::kNone;  // row switches alone
  const TimingSet& t = base.timing;
  const double per_switch = static_cast<double>(base.org.bank_groups) * base.org.columns * t.nCCDS;
  auto streaming = [](const HbmConfig& cfg) {
    HbmCore core(cfg);
    std::vector<TraceEntry> trace(400000);
    for (std::size_t i = 0; i < trace.size(); ++i) trace[i].address = i * 32;
    return replay(core, trace).efficiency;
  };
  for (const std::uint32_t s : {8u, 16u, 24u, 32u}) {
    const double idle =
        std::max(0.0, static_cast<double>(t.nRP) + t.nRCDRD - static_cast<double>(s - 1) * t.nCCDS);
    const double predicted = per_switch / (per_switch + idle);
    HbmConfig own = base;
    own.read_queue_depth = s;
    HbmConfig shared = base;
    shared.queue_scope = QueueScope::kChannel;
    shared.read_queue_depth = 2 * s;
    const double e_own = streaming(own), e_shared = streaming(shared);
    INFO("s " << s << ": predicted " << predicted << ", own queue " << e_own << ", shared "
              << e_shared);
    REQUIRE(e_own == Approx(predicted).margin(0.01));
    // Balanced traffic: a shared queue of 2s looks ahead as far as an own queue of s.
    REQUIRE(e_shared == Approx(e_own).margin(0.005));
  }
}

TEST_CASE("Stack IDs: reads that alternate them issue tCCD_R apart; FR-FCFS groups them") {
  const TimingSet& t = HbmConfig{}.timing;
  REQUIRE(t.nCCDR > t.nCCDS);
  // One pseudo-channel with two stack IDs, a one-entry read queue (each read is accepted the
  // cycle after the previous RD, so nothing can be reordered): reads alternating between bank
  // group 0 of stack ID 0 and of stack ID 1 issue nCCDR apart once both rows are open; the same
  // alternation between two bank groups of one stack ID, nCCDS apart.
  for (const bool across : {true, false}) {
    HbmConfig cfg = one_pc();
    cfg.org.sids = 2;
    cfg.mapping = "RoBaSiCoBgStChPc";
    cfg.read_queue_depth = 1;
    HbmCore core(cfg);
    for (std::uint64_t i = 0; i < 40; ++i) {
      DecodedAddress d;
      const auto k = static_cast<std::uint32_t>(i % 2);
      d.sid = StackId{across ? k : 0};
      d.bank_group = BankGroup{across ? 0 : k};
      d.column = Column{static_cast<std::uint32_t>(i / 2)};
      core.submit({i, core.address_map().encode(d), false, 0});
    }
    core.drain();
    std::vector<Cycle> rd;
    for (const CommandRecord& c : core.command_log()) {
      if (c.cmd == Command::kRd) rd.push_back(c.cycle);
    }
    REQUIRE(rd.size() == 40);
    // The second row opens nRRD after the first: from the third read on, the stream is steady.
    for (std::size_t i = 3; i < rd.size(); ++i) {
      INFO("across " << across << " read " << i);
      REQUIRE(rd[i] - rd[i - 1] == (across ? t.nCCDR : t.nCCDS));
    }
    require_legal(core);
  }
  // A stream laid out to switch stack ID every 4 accesses (Si just above the bank groups), with
  // the default 32-entry queues: the scheduler serves the queued accesses of one stack ID before
  // switching, so the stream stays within 2 % of a layout that switches once a row (Si above
  // the columns), where in order it would lose 2 (nCCDR - nCCDS) per 8 accesses (11 %).
  HbmConfig cfg;
  cfg.org.stacks = 1;
  cfg.org.sids = 2;
  cfg.org.rows = 16384;
  cfg.refresh = RefreshPolicy::kNone;
  auto streaming = [](HbmConfig c, const char* mapping) {
    c.mapping = mapping;
    c.record_commands = true;
    HbmCore core(c);
    std::vector<TraceEntry> trace(200000);
    for (std::size_t i = 0; i < trace.size(); ++i) trace[i].address = i * 32;
    const double e = replay(core, trace).efficiency;
    require_legal(core);
    return e;
  };
  const double e_alt = streaming(cfg, "RoBaCoSiBgStChPc");
  const double e_row = streaming(cfg, "RoBaSiCoBgStChPc");
  INFO("alternating " << e_alt << ", once a row " << e_row);
  REQUIRE(e_row >= 0.99);
  REQUIRE(e_alt >= e_row - 0.02);
}

TEST_CASE("Front end: accept_per_cycle requests per cycle, in order") {
  HbmConfig cfg;
  cfg.accept_per_cycle = 2;
  HbmCore core(cfg);
  std::vector<Cycle> acc;
  // Seven requests at cycle 0 to seven pseudo-channels: two per cycle.
  for (std::uint64_t i = 0; i < 7; ++i) acc.push_back(core.submit({i, i * 32, i % 2 == 0, 0}));
  REQUIRE(acc == std::vector<Cycle>{0, 0, 1, 1, 2, 2, 3});
  // Without a limit all are accepted at once.
  HbmCore free_core(HbmConfig{});
  for (std::uint64_t i = 0; i < 7; ++i) REQUIRE(free_core.submit({i, i * 32, false, 0}) == 0);
}

namespace {

// One pseudo-channel, no refresh, no write-age bound: drain behaviour in closed form.
HbmConfig drain_pc() {
  HbmConfig c = one_pc();
  c.write_max_wait_ns = 0;
  c.starvation_age_ns = 0;
  return c;
}

// Indices in the log of the column commands, in order.
std::vector<std::size_t> columns(const std::vector<CommandRecord>& log) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < log.size(); ++i) {
    if (is_column_command(log[i].cmd)) out.push_back(i);
  }
  return out;
}

}  // namespace

TEST_CASE("Write drain starts at the high watermark and stops at the low one") {
  const HbmConfig cfg = drain_pc();
  const std::uint32_t high = cfg.write_high_count(), low = cfg.write_low_count();
  REQUIRE(high == 20);  // 0.625 and 0.25 of 32
  REQUIRE(low == 8);
  const TimingSet& t = cfg.timing;
  HbmCore core(cfg);
  std::uint64_t id = 0;
  Cycle now = 0;
  // Reads to one open row keep the read queue full (the front end waits for slots).
  auto reads = [&](int n) {
    for (int i = 0; i < n; ++i) {
      now = core.submit({id++, at(core, 0, 0, 1, static_cast<std::uint32_t>(id % 32)), false, now});
    }
  };
  auto writes = [&](std::uint32_t n) {
    for (std::uint32_t i = 0; i < n; ++i) {
      now = core.submit({id++, at(core, 1, 0, 2, i % 32), true, now});
    }
  };
  reads(100);
  writes(high - 1);  // one short of the watermark: no drain
  const Cycle t_short = now;
  reads(100);
  writes(1);  // the watermark: the drain starts now
  const Cycle t_high = now;
  reads(100);
  core.drain();
  const auto& log = core.command_log();
  const auto col = columns(log);
  std::size_t first_wr = 0;
  while (log[col[first_wr]].cmd != Command::kWr) ++first_wr;
  const CommandRecord& wr0 = log[col[first_wr]];
  const CommandRecord& rd_before = log[col[first_wr - 1]];
  REQUIRE(t_short < rd_before.cycle);  // reads went on with high - 1 writes queued
  REQUIRE(rd_before.cycle < t_high);   // up to the cycle the 20th write arrived
  // Then the write's row opens (ACT at t_high) and the first WR waits for tRCD_WR and tRTW.
  REQUIRE(wr0.cycle == std::max<Cycle>(t_high + t.nRCDWR, rd_before.cycle + t.nRTW));
  // Exactly high - low writes, then reads again; the low ones wait until the reads end.
  std::size_t k = first_wr;
  while (log[col[k]].cmd == Command::kWr) ++k;
  REQUIRE(k - first_wr == high - low);
  std::size_t last_rd = col.size() - 1;
  while (log[col[last_rd]].cmd != Command::kRd) --last_rd;
  std::size_t writes_after = 0;
  for (std::size_t j = k; j < col.size(); ++j) {
    if (log[col[j]].cmd == Command::kWr) {
      ++writes_after;
      REQUIRE(j > last_rd);
    }
  }
  REQUIRE(writes_after == low);
  REQUIRE(core.stats().drains == 2);  // the watermark batch, then the idle drain at the end
  require_legal(core);
}

TEST_CASE("A write waits at most write_max_wait_ns while reads keep coming") {
  HbmConfig cfg = drain_pc();
  cfg.write_max_wait_ns = 200;
  const Cycle bound = 320;  // 200 ns at 0.625 ns
  REQUIRE(cfg.write_max_wait_cycles() == bound);
  const TimingSet& t = cfg.timing;
  HbmCore core(cfg);
  core.keep_completions(true);
  std::uint64_t id = 0;
  Cycle now = 0;
  for (int i = 0; i < 50; ++i) {
    now = core.submit({id++, at(core, 0, 0, 1, static_cast<std::uint32_t>(i % 32)), false, now});
  }
  const std::uint64_t w = id++;
  const Cycle t_w = core.submit({w, at(core, 1, 0, 2, 0), true, now});
  for (int i = 0; i < 400; ++i) {  // reads arriving with the write; their acceptance is not needed
    core.submit({id++, at(core, 0, 0, 1, static_cast<std::uint32_t>(i % 32)), false, t_w});
  }
  core.drain();
  const auto& log = core.command_log();
  const auto wr = std::find_if(log.begin(), log.end(),
                               [](const CommandRecord& c) { return c.cmd == Command::kWr; });
  REQUIRE(wr != log.end());
  Cycle last_rd = 0;
  for (auto it = log.begin(); it != wr; ++it) {
    if (it->cmd == Command::kRd) last_rd = it->cycle;
  }
  // Reads ran up to the bound; then the drain opens the write's row and writes it.
  REQUIRE(last_rd <= t_w + bound);
  REQUIRE(last_rd + t.nCCDL > t_w + bound);
  REQUIRE(wr->cycle == std::max<Cycle>(t_w + bound + t.nRCDWR, last_rd + t.nRTW));
  const Cycle latency = done_by_id(core).at(w) - t_w;
  REQUIRE(latency <= bound + std::max(t.nRCDWR, t.nRTW + t.nCCDL) + t.nCWL + t.nBL);
  // Reads continued after it, and more reads than writes were served meanwhile.
  REQUIRE(std::any_of(wr, log.end(), [](const CommandRecord& c) { return c.cmd == Command::kRd; }));
  require_legal(core);
}

TEST_CASE("A drain started because no read was queued yields to the next read") {
  const HbmConfig cfg = drain_pc();
  const TimingSet& t = cfg.timing;
  HbmCore core(cfg);
  core.keep_completions(true);
  for (std::uint32_t i = 0; i < 15; ++i) core.submit({i, at(core, 1, 0, 2, i), true, 0});
  const Cycle t_rd = 60;
  core.submit({100, at(core, 0, 0, 3, 0), false, t_rd});
  core.drain();
  const auto& log = core.command_log();
  const auto rd = std::find_if(log.begin(), log.end(),
                               [](const CommandRecord& c) { return c.cmd == Command::kRd; });
  REQUIRE(rd != log.end());
  Cycle last_wr = 0;
  std::size_t writes_before = 0;
  for (auto it = log.begin(); it != rd; ++it) {
    if (it->cmd == Command::kWr) {
      last_wr = it->cycle;
      ++writes_before;
    }
  }
  REQUIRE(last_wr < t_rd);  // no write issued after the read arrived
  REQUIRE(writes_before < 15);
  // ACT for the read at its arrival; RD after tRCD_RD and tWTR_S after the last write's data.
  REQUIRE(rd->cycle == std::max<Cycle>(t_rd + t.nRCDRD, last_wr + t.nCWL + t.nBL + t.nWTRS));
  // Then the remaining writes, after tRTW.
  const auto next_wr =
      std::find_if(rd, log.end(), [](const CommandRecord& c) { return c.cmd == Command::kWr; });
  REQUIRE(next_wr != log.end());
  REQUIRE(next_wr->cycle == rd->cycle + t.nRTW);
  REQUIRE(core.stats().writes == 15);
  require_legal(core);
}

namespace {

// Three sequential streams interleaved A, B, C (A and B read, C written), 32 bytes per request, as
// fast as accepted, on one pseudo-channel. `same_bank`: the streams differ only in the row (every
// access of the three goes to the same bank); otherwise in the bank too.
struct Mixed {
  std::unique_ptr<HbmCore> core;
  ReplayReport report;
};
Mixed mixed(const HbmConfig& cfg, bool same_bank, std::size_t n) {
  Mixed m{std::make_unique<HbmCore>(cfg), {}};
  std::vector<TraceEntry> trace(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto s = static_cast<std::uint32_t>(i % 3);
    DecodedAddress base;
    base.bank = Bank{same_bank ? 0 : s};
    base.row = Row{1000 * s};
    trace[i].address = m.core->address_map().encode(base) + (i / 3) * 32;
    trace[i].is_write = s == 2;
  }
  m.report = replay(*m.core, trace);
  return m;
}

}  // namespace

TEST_CASE("Mixed 2:1 traffic: bandwidth between the bounds of turnaround and drain batch") {
  HbmConfig cfg = one_pc();
  cfg.record_commands = false;
  const TimingSet& t = cfg.timing;
  // Per drain the controller writes one batch of W = high - low writes and, in steady 2:1
  // traffic, reads 2W: (3W) x nBL data-bus cycles, plus one RD -> WR turnaround (nRTW + nCWL -
  // nCL - nBL idle cycles) and one WR -> RD (at least tWTR_S + nCL).
  const double w = cfg.write_high_count() - cfg.write_low_count();
  const double busy = 3 * w * t.nBL;
  const double turn = (t.nRTW + t.nCWL - t.nCL - t.nBL) + (t.nWTRS + t.nCL);
  const double upper = busy / (busy + turn);
  const Mixed d = mixed(cfg, false, 60000);
  const ReplayReport& diff = d.report;
  INFO("different banks: efficiency " << diff.efficiency << ", bound " << upper);
  REQUIRE(diff.efficiency <= upper);
  // Streams in different banks hide their activates: the controller stays within 15 % of the
  // bound (row switches every 32 accesses and queue effects take the rest).
  REQUIRE(diff.efficiency >= 0.85 * upper);
  const std::uint64_t drains = d.core->stats().drains;
  REQUIRE(static_cast<double>(drains) >= 20000 / w);  // every write in a batch of at most w
  REQUIRE(static_cast<double>(drains) <= 20000 / w + 2);
  // Streams sharing one bank also pay row switches: at worst one access per tRC in each of the
  // four bank groups, at best the turnaround bound. Rows are not thrashed: most reads hit.
  const Mixed sb = mixed(cfg, true, 60000);
  const ReplayReport& same = sb.report;
  INFO("same bank: efficiency " << same.efficiency);
  REQUIRE(same.efficiency <= upper);
  REQUIRE(same.efficiency >= 4.0 * t.nBL / t.nRC);
  REQUIRE(same.efficiency < diff.efficiency);
  REQUIRE(stats_json(*sb.core)["read"]["row_hit_rate"].get<double>() >= 0.75);
  // The age limit does not break up the streams' row hits: without it the result is the same.
  HbmConfig no_age = cfg;
  no_age.starvation_age_ns = 0;
  REQUIRE(mixed(no_age, true, 60000).report.efficiency == Approx(same.efficiency).epsilon(0.01));
}

namespace {

std::vector<Request> random_traffic(const HbmCore& core, std::uint64_t seed, std::size_t n) {
  std::mt19937_64 rng(seed);
  std::vector<Request> out(n);
  Cycle now = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t gap = rng() % 10;
    now += gap < 7 ? 0 : gap < 9 ? rng() % 8 : rng() % 4000;  // bursts and idle gaps
    const std::uint64_t addr = (rng() % 3 == 0)
                                   ? (rng() % 64) * 32  // a few hot rows
                                   : (rng() % (core.address_map().capacity_bytes() / 32)) * 32;
    out[i] = Request{i, addr, rng() % 3 == 0, now};
  }
  return out;
}

void play(HbmCore& core, const std::vector<Request>& reqs) {
  Cycle accepted = 0;
  for (Request r : reqs) {
    r.arrival = std::max(r.arrival, accepted);
    accepted = core.submit(r);
  }
  core.drain();
}

}  // namespace

TEST_CASE("Incremental decisions on arrival give the cycles of full decisions") {
  for (const bool small : {false, true}) {
    HbmConfig cfg;
    cfg.org.stacks = 1;
    cfg.org.channels_per_stack = 2;
    cfg.record_commands = true;
    if (small) {
      cfg.refresh = RefreshPolicy::kPerBank;
      cfg.read_queue_depth = cfg.write_queue_depth = 6;
      cfg.starvation_age_ns = 80;
      cfg.write_max_wait_ns = 150;
      cfg.starvation_cap = 5;
    }
    HbmCore fast(cfg), exact(cfg);
    fast.keep_completions(true);
    exact.keep_completions(true);
    exact.set_incremental_pick(false);
    const auto reqs = random_traffic(fast, 21, 20000);
    play(fast, reqs);
    play(exact, reqs);
    REQUIRE(done_by_id(fast) == done_by_id(exact));
    const auto& a = fast.command_log();
    const auto& b = exact.command_log();
    REQUIRE(a.size() == b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
      INFO("command " << i);
      REQUIRE(a[i].cycle == b[i].cycle);
      REQUIRE(a[i].cmd == b[i].cmd);
      REQUIRE(a[i].pc == b[i].pc);
      REQUIRE(a[i].bank_group * 16 + a[i].bank == b[i].bank_group * 16 + b[i].bank);
      REQUIRE(a[i].row == b[i].row);
    }
  }
}

TEST_CASE("Configs at the edge of the refresh rules make progress and keep refresh legal") {
  // Random timing sets that satisfy every JEDEC relation, with tREFI at the smallest value the
  // refresh rules allow (refresh work = half of tREFI): every request completes, every command
  // log passes both checkers (including no refresh gap beyond the postponement limit).
  std::mt19937_64 rng(99);
  auto pick = [&rng](std::uint32_t lo, std::uint32_t hi) {
    return lo + static_cast<std::uint32_t>(rng() % (hi - lo + 1));
  };
  for (int k = 0; k < 120; ++k) {
    HbmConfig c;
    c.org.stacks = c.org.channels_per_stack = 1;
    c.org.pseudo_channels = pick(1, 2);
    c.org.sids = pick(1, 2);
    if (c.org.sids > 1) c.mapping = "RoBaCoSiBgStChPc";
    c.queue_scope = rng() % 2 ? QueueScope::kChannel : QueueScope::kPseudoChannel;
    c.org.bank_groups = 1u << pick(0, 2);
    c.org.banks_per_group = 1u << pick(0, 2);
    c.org.rows = 1024;
    c.org.columns = 1u << pick(3, 5);
    TimingSet& t = c.timing;
    t.nBL = pick(1, 4);
    t.nCCDS = t.nBL + pick(0, 2);
    t.nCCDL = t.nCCDS + pick(0, 4);
    t.nCCDR = t.nCCDS + pick(0, 3);
    t.nCL = pick(3, 40);
    t.nCWL = pick(2, 20);
    t.nRCDRD = pick(3, 40);
    t.nRCDWR = pick(3, 40);
    t.nRP = pick(3, 40);
    t.nRAS = std::max(t.nRCDRD, t.nRCDWR) + pick(0, 30);
    t.nRC = t.nRAS + t.nRP + pick(0, 10);
    t.nWR = pick(3, 40);
    t.nRTP = pick(2, 15);
    t.nRRDS = pick(1, 8);
    t.nRRDL = t.nRRDS + pick(0, 4);
    t.nFAW = std::max(t.nRRDS, pick(1, 40));
    t.nWTRS = pick(1, 12);
    t.nWTRL = t.nWTRS + pick(0, 8);
    t.nRTW = std::max(pick(1, 30), t.nCL + t.nBL > t.nCWL ? t.nCL + t.nBL - t.nCWL : 1);
    t.nRFCpb = pick(10, 400);
    t.nRFC = t.nRFCpb + pick(0, 400);
    t.nRREFD = pick(1, 12);
    t.nACT = pick(1, 4);
    c.refresh = rng() % 2 ? RefreshPolicy::kAllBank : RefreshPolicy::kPerBank;
    const std::uint64_t banks = c.org.banks_per_pc();
    t.nREFI = static_cast<std::uint32_t>(
        std::max({2 * refresh_work_cycles(t, c.refresh, c.org.banks_per_pc()),
                  2 * std::uint64_t{t.nRREFD} * banks, std::uint64_t{t.nRFC} + 1}) +
        pick(0, 3));
    c.page_policy = rng() % 3 ? PagePolicy::kOpen : PagePolicy::kClosed;
    c.read_queue_depth = pick(1, 8);
    c.write_queue_depth = pick(1, 8);
    c.write_high_watermark = 1.0;
    c.write_low_watermark = 0.0;
    c.write_max_wait_ns = rng() % 2 ? 0 : pick(1, 500);
    c.starvation_age_ns = rng() % 2 ? 0 : pick(1, 500);
    c.starvation_cap = rng() % 2 ? 0 : pick(1, 8);
    c.accept_per_cycle = pick(0, 2);
    c.refresh_postpone_max = pick(1, 8);
    c.record_commands = true;
    INFO("config " << k << ": nREFI " << t.nREFI << " nRFC " << t.nRFC << " nRFCpb " << t.nRFCpb
                   << " nRREFD " << t.nRREFD << " banks " << banks << " refresh "
                   << static_cast<int>(c.refresh));
    REQUIRE_NOTHROW(validate(c));
    HbmCore core(c);
    const auto reqs = random_traffic(core, 1000 + k, 1500);
    play(core, reqs);
    REQUIRE(core.stats().reads + core.stats().writes == reqs.size());
    REQUIRE(core.pending() == 0);
    core.advance(core.stats().last_done + 1);
    require_legal(core);
  }
}

TEST_CASE("JSON statistics: split by direction, closed-form latencies, time shares") {
  HbmConfig cfg = one_pc();
  const TimingSet& t = cfg.timing;
  const double tck = t.tck_ps / 1000.0;
  HbmCore core(cfg);
  core.submit({0, at(core, 0, 0, 5), false, 0});
  core.submit({1, at(core, 2, 1, 5), true, 200});  // alone: an idle drain of one write
  core.drain();
  const nlohmann::json j = stats_json(core);
  const Cycle rd_lat = t.nRCDRD + t.nCL + t.nBL;
  const Cycle wr_lat = t.nRCDWR + t.nCWL + t.nBL;
  const Cycle cycles = 200 + wr_lat;
  REQUIRE(j["requests"] == 2);
  REQUIRE(j["cycles"] == cycles);
  REQUIRE(j["read"]["requests"] == 1);
  REQUIRE(j["write"]["requests"] == 1);
  REQUIRE(j["read"]["latency_ns"]["mean"].get<double>() == Approx(rd_lat * tck));
  REQUIRE(j["read"]["latency_ns"]["p99"].get<double>() == Approx(rd_lat * tck));
  REQUIRE(j["write"]["latency_ns"]["p50"].get<double>() == Approx(wr_lat * tck));
  REQUIRE(j["p99_latency_ns"].get<double>() == Approx(rd_lat * tck));  // the larger one
  REQUIRE(j["read"]["bandwidth_gbps"].get<double>() == Approx(32.0 / (cycles * tck)));
  REQUIRE(j["bandwidth_gbps"].get<double>() == Approx(64.0 / (cycles * tck)));
  REQUIRE(j["read"]["row_hit_rate"] == 0.0);
  // One bin of each histogram, the power-of-two range holding the latency.
  const auto& h = j["write"]["latency_histogram"];
  REQUIRE(h.size() == 1);
  REQUIRE(h[0]["count"] == 1);
  REQUIRE(h[0]["lo_ns"].get<double>() <= wr_lat * tck);
  REQUIRE(h[0]["hi_ns"].get<double>() > wr_lat * tck);
  REQUIRE(h[0]["hi_ns"].get<double>() == Approx(2 * h[0]["lo_ns"].get<double>()));
  // The drain lasted from the write's arrival to its WR (tRCD_WR); one RD -> WR turnaround, of
  // which only the part tRTW forces counts (the accesses were far apart).
  REQUIRE(j["drains"] == 1);
  REQUIRE(j["time_share"]["drain"].get<double>() == Approx(double(t.nRCDWR) / cycles));
  REQUIRE(j["turnarounds"] == 1);
  REQUIRE(j["time_share"]["turnaround"].get<double>() ==
          Approx(double(t.nRTW + t.nCWL - t.nCL - t.nBL) / cycles));
  REQUIRE(j["time_share"]["refresh"] == 0.0);
  REQUIRE(j["active_pseudo_channels"] == 1);
  // All-bank refresh on a busy pseudo-channel: the refresh share is tRFC per tREFI.
  HbmConfig ref = one_pc(RefreshPolicy::kAllBank);
  HbmCore busy(ref);
  const Cycle end = 20 * Cycle{ref.timing.nREFI};
  std::uint64_t id = 0;
  for (Cycle now = 0; now < end; now += 8)
    now = busy.submit({id++, (id % 512) * 32 * 16, false, now});
  busy.drain();
  const nlohmann::json b = stats_json(busy);
  const double expect =
      double(busy.stats().refreshes) * ref.timing.nRFC / b["cycles"].get<double>();
  REQUIRE(b["time_share"]["refresh"].get<double>() == Approx(expect));
  REQUIRE(expect == Approx(double(ref.timing.nRFC) / ref.timing.nREFI).epsilon(0.1));
}
