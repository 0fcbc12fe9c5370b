#include "model/hbm/scheduler.h"

#include <algorithm>
#include <array>
#include <bit>

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
      const Cycle at = std::max({ck.earliest_cycle(c, bank), in.now, not_before});
      if (!best || at < best->at ||
          (at == best->at && (prio < best_prio || (prio == best_prio && seq < best_seq)))) {
        best = Decision{Decision::Kind::kCommand, c, bank, row, at, qi, prio, seq};
        best_prio = prio;
        best_seq = seq;
      }
    };

    const RefreshDemand& rf = in.refresh;
    const std::uint32_t nbanks = ck.bank_count();
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
    // Banks refresh keeps closed: every bank for a forced REFab, the target of a forced REFpb.
    const std::uint64_t blocked = !(rf.active && rf.forced)   ? 0
                                  : rf.cmd == Command::kRefAb ? ~std::uint64_t{0}
                                                              : bit(rf.bank);
    // A starving oldest request goes before row hits, and no other request may use its bank.
    const bool starving = !q.empty() && in.oldest_starving;
    const std::uint64_t starved_bank = starving ? bit(q.front().bank) : 0;
    // One pass over the queue (oldest first). Among requests that have arrived, only the oldest
    // one per (command, bank) can win: the command's earliest cycle is the same for all of them
    // and age breaks the tie. has_hit: banks whose open row has a queued hit, which FR-FCFS does
    // not close.
    const std::uint64_t skip = blocked | starved_bank;
    std::uint64_t has_hit = 0, rd = 0, wr = 0, miss = 0;
    int rd_i[64], wr_i[64], miss_i[64];  // read only where the bank's bit is set
    int late[64];
    int n_late = 0;
    for (std::size_t i = starving ? 1 : 0; i < q.size(); ++i) {
      const QueuedRequest& r = q[i];
      const std::uint64_t b = bit(r.bank);
      const bool hit = ck.is_hit(r.bank, r.row);
      if (hit) has_hit |= b;
      if (skip & b) continue;
      if (r.arrival > in.now) {
        if (n_late < 64) late[n_late++] = static_cast<int>(i);
        continue;
      }
      if (hit) {
        std::uint64_t& seen = r.is_write ? wr : rd;
        if (!(seen & b)) {
          seen |= b;
          (r.is_write ? wr_i : rd_i)[r.bank] = static_cast<int>(i);
        }
      } else if (!(miss & b)) {
        miss |= b;
        miss_i[r.bank] = static_cast<int>(i);
      }
    }
    auto request = [&](int i, std::uint8_t hit_prio, std::uint8_t miss_prio, bool may_close) {
      const QueuedRequest& r = q[static_cast<std::size_t>(i)];
      if (ck.is_open(r.bank)) {
        if (ck.is_hit(r.bank, r.row)) {
          consider(r.is_write ? Command::kWr : Command::kRd, r.bank, r.row, i, hit_prio, r.seq,
                   r.arrival);
        } else if (may_close || !(has_hit & bit(r.bank))) {
          consider(Command::kPre, r.bank, 0, i, miss_prio, r.seq, r.arrival);
        }
      } else {
        consider(Command::kAct, r.bank, r.row, i, miss_prio, r.seq, r.arrival);
      }
    };
    if (starving && !(blocked & starved_bank)) {
      has_hit |= ck.is_hit(q.front().bank, q.front().row) ? starved_bank : 0;
      request(0, kStarved, kStarved, true);
    }
    for (std::uint64_t m = rd | wr | miss; m != 0; m &= m - 1) {
      const auto b = static_cast<std::uint32_t>(std::countr_zero(m));
      if (rd & bit(b)) request(rd_i[b], kHit, kMiss, false);
      if (wr & bit(b)) request(wr_i[b], kHit, kMiss, false);
      if (miss & bit(b)) request(miss_i[b], kHit, kMiss, false);
    }
    for (int k = 0; k < n_late; ++k) request(late[k], kHit, kMiss, false);
    if (in.page_policy == PagePolicy::kClosed) {
      for (std::uint32_t b = 0; b < nbanks; ++b) {
        if (ck.is_open(b) && !(has_hit & bit(b))) consider(Command::kPre, b, 0, -1, kClose, 0, 0);
      }
    }
    return best;
  }

  // The new request only adds its own candidate, and only suppresses candidates on its own bank
  // (a queued hit keeps the row open; a queued request makes the bank non-idle): so when the
  // previous choice is on another bank, the answer is the better of the two.
  std::optional<Decision> pick_after_arrival(const SchedulerInput& in,
                                             const std::optional<Decision>& before) const override {
    const auto q = in.queue;
    if (!before || before->kind != Decision::Kind::kCommand || q.size() < 2) return pick(in);
    const QueuedRequest& r = q.back();
    if (before->bank == r.bank || before->cmd == Command::kRefAb) return pick(in);
    const Checker& ck = in.checker;
    const RefreshDemand& rf = in.refresh;
    if (rf.active && rf.forced && (rf.cmd == Command::kRefAb || rf.bank == r.bank)) return before;
    if (in.oldest_starving && q.front().bank == r.bank) return before;
    Command c;
    if (ck.is_open(r.bank)) {
      if (ck.is_hit(r.bank, r.row)) {
        c = r.is_write ? Command::kWr : Command::kRd;
      } else {
        for (const QueuedRequest& o : q) {
          if (o.bank == r.bank && ck.is_hit(o.bank, o.row)) return before;  // kept open
        }
        c = Command::kPre;
      }
    } else {
      c = Command::kAct;
    }
    const std::uint8_t prio = is_column_command(c) ? kHit : kMiss;
    const Cycle at = std::max({ck.earliest_cycle(c, r.bank), in.now, r.arrival});
    if (at < before->at ||
        (at == before->at &&
         (prio < before->priority || (prio == before->priority && r.seq < before->seq)))) {
      return Decision{
          Decision::Kind::kCommand,       c,    r.bank, c == Command::kPre ? 0 : r.row, at,
          static_cast<int>(q.size() - 1), prio, r.seq};
    }
    return before;
  }
};

}  // namespace

std::unique_ptr<Scheduler> make_frfcfs_scheduler() {
  return std::make_unique<FrFcfs>();
}

}  // namespace mxemu::hbm
