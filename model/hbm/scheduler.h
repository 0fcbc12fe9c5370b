// Command scheduling of one pseudo-channel behind a small interface. The controller hands the
// scheduler the request queue (oldest first), the bank state and timing (through the Checker) and
// the refresh demand; the scheduler names the next command and when it may issue.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include "model/hbm/checker.h"
#include "model/hbm/config.h"
#include "model/hbm/types.h"

namespace mxemu::hbm {

// A request waiting in a pseudo-channel queue.
struct QueuedRequest {
  std::uint64_t id = 0;
  std::uint64_t seq = 0;  // arrival order in this pseudo-channel (smaller = older)
  Cycle arrival = 0;      // not schedulable before
  Cycle accepted = 0;
  std::uint32_t bank = 0;  // flat bank within the pseudo-channel
  std::uint32_t row = 0;
  std::uint32_t column = 0;
  bool is_write = false;
  std::uint32_t bypassed = 0;  // younger requests served before this one
};

// What the refresh manager wants now.
struct RefreshDemand {
  bool active = false;  // a refresh command may be scheduled (not before `due`)
  bool forced = false;  // it must go next: block new activates to `bank` (all if REFab)
  Command cmd = Command::kRefPb;
  std::uint32_t bank = 0;  // target of REFpb
  Cycle due = 0;
};

struct Decision {
  enum class Kind : std::uint8_t { kCommand, kReevaluate } kind = Kind::kCommand;
  Command cmd = Command::kAct;
  std::uint32_t bank = 0;
  std::uint32_t row = 0;
  Cycle at = 0;
  int queue_index = -1;       // the request served or prepared; -1 for refresh / page closing
  std::uint8_t priority = 0;  // scheduler-private tie-break data (kept for pick_after_arrival)
  std::uint64_t seq = 0;
};

inline bool operator==(const RefreshDemand& a, const RefreshDemand& b) {
  return a.active == b.active && a.forced == b.forced && a.cmd == b.cmd && a.bank == b.bank &&
         a.due == b.due;
}

// The controller serves one queue at a time (reads, or writes while draining): `queue` is that
// one, oldest first. Requests of the other queue are invisible to the scheduler.
struct SchedulerInput {
  const Checker& checker;
  std::span<const QueuedRequest> queue;
  Cycle now;  // no command before this cycle
  RefreshDemand refresh;
  PagePolicy page_policy;
  bool oldest_starving;  // queue.front() has waited past the starvation limit (controller's rule)
};

class Scheduler {
 public:
  virtual ~Scheduler() = default;
  // The next command (earliest legal cycle first, then priority), or nullopt when nothing waits.
  virtual std::optional<Decision> pick(const SchedulerInput& in) const = 0;
  // The same answer as pick(in) when the only change since `before` = pick(in without it) is
  // the request appended last to the queue (same cycle, same refresh demand). A scheduler may
  // compute it incrementally; the default does not.
  virtual std::optional<Decision> pick_after_arrival(
      const SchedulerInput& in, const std::optional<Decision>& /*before*/) const {
    return pick(in);
  }
};

// FR-FCFS: among the commands legal at the earliest cycle, refresh work first, then row hits
// (column commands), then the oldest request; a row with queued hits is not closed. While the
// oldest request is starving (SchedulerInput::oldest_starving), its commands go before row hits
// and no other request may use its bank until it is served.
std::unique_ptr<Scheduler> make_frfcfs_scheduler();

}  // namespace mxemu::hbm
