#include "model/hbm/scheduler.h"

#include <algorithm>
#include <array>

namespace mxemu::hbm {

namespace {

// Priority classes: smaller wins among commands legal in the same cycle.
constexpr std::uint64_t bit(std::uint32_t b) {
  return std::uint64_t{1} << b;
}

enum Priority : std::uint8_t { kRefresh = 0, kStarved = 1, kHit = 2, kMiss = 3, kClose = 4 };

class FrFcfs final : public Scheduler {
 public:
  std::optional<Decision> pick(const SchedulerInput& in) const override {
    const Checker& ck = in.checker;
    std::optional<Decision> best;
    std::uint8_t best_prio = 0;
    std::uint64_t best_seq = 0;
    auto consider = [&](Command c, std::uint32_t bank, std::uint32_t row, int qi, std::uint8_t prio,
                        std::uint64_t seq, Cycle not_before) {
      const Cycle at = std::max({ck.earliest(c, bank).cycle, in.now, not_before});
      if (!best || at < best->at ||
          (at == best->at && (prio < best_prio || (prio == best_prio && seq < best_seq)))) {
        best = Decision{Decision::Kind::kCommand, c, bank, row, at, qi};
        best_prio = prio;
        best_seq = seq;
      }
    };

    const RefreshDemand& rf = in.refresh;
    const std::uint32_t nbanks = ck.bank_count();
    // Banks that refresh keeps closed: every bank for a forced REFab, the target of a forced REFpb.
    auto blocked = [&](std::uint32_t b) {
      return rf.active && rf.forced && (rf.cmd == Command::kRefAb || rf.bank == b);
    };
    if (rf.active) {
      if (rf.cmd == Command::kRefAb) {
        if (ck.all_closed()) {
          consider(Command::kRefAb, 0, 0, -1, kRefresh, 0, rf.due);
        } else if (rf.forced) {
          for (std::uint32_t b = 0; b < nbanks; ++b) {
            if (ck.is_open(b)) consider(Command::kPre, b, 0, -1, kRefresh, 0, rf.due);
          }
        }
      } else if (!ck.is_open(rf.bank)) {
        consider(Command::kRefPb, rf.bank, 0, -1, kRefresh, 0, rf.due);
      } else {  // the target is idle, or refresh is forced: close it first
        consider(Command::kPre, rf.bank, 0, -1, kRefresh, 0, rf.due);
      }
    }

    const auto q = in.queue;
    // Banks whose open row has a queued hit: FR-FCFS does not close them.
    std::uint64_t has_hit = 0;
    for (const QueuedRequest& r : q) {
      if (ck.is_hit(r.bank, r.row)) has_hit |= bit(r.bank);
    }
    // A starving oldest request goes before row hits, and no other request may use its bank.
    const bool starving = !q.empty() && q.front().bypassed >= in.starvation_cap;
    // Among requests that have arrived, only the oldest one per (command, bank) can win: the
    // command's earliest cycle is the same for all of them and age breaks the tie.
    std::array<std::uint64_t, kCommandCount> seen{};
    for (std::size_t i = 0; i < q.size(); ++i) {
      const QueuedRequest& r = q[i];
      if (blocked(r.bank)) continue;
      const bool first = i == 0;
      if (starving && !first && r.bank == q.front().bank) continue;
      const bool urgent = starving && first;
      Command c;
      std::uint8_t prio;
      if (ck.is_open(r.bank)) {
        if (ck.is_hit(r.bank, r.row)) {
          c = r.is_write ? Command::kWr : Command::kRd;
          prio = urgent ? kStarved : kHit;
        } else if (!(has_hit & bit(r.bank)) || urgent) {
          c = Command::kPre;
          prio = urgent ? kStarved : kMiss;
        } else {
          continue;
        }
      } else {
        c = Command::kAct;
        prio = urgent ? kStarved : kMiss;
      }
      std::uint64_t& s = seen[static_cast<int>(c)];
      if (r.arrival <= in.now) {
        if (s & bit(r.bank)) continue;
        s |= bit(r.bank);
      }
      consider(c, r.bank, c == Command::kPre ? 0 : r.row, static_cast<int>(i), prio, r.seq,
               r.arrival);
    }
    if (in.page_policy == PagePolicy::kClosed) {
      for (std::uint32_t b = 0; b < nbanks; ++b) {
        if (ck.is_open(b) && !(has_hit & bit(b))) consider(Command::kPre, b, 0, -1, kClose, 0, 0);
      }
    }
    return best;
  }
};

}  // namespace

std::unique_ptr<Scheduler> make_frfcfs_scheduler() {
  return std::make_unique<FrFcfs>();
}

}  // namespace mxemu::hbm
