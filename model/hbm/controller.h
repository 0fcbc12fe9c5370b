// The HBM timing engine: plain C++, no SystemC, driven event by event. Requests are submitted with
// an arrival cycle; `advance` runs the per-pseudo-channel schedulers up to a cycle; completions
// come out with their completion cycles. Every pseudo-channel is independent (own queue, banks,
// command buses, data bus, refresh), so each one runs lazily up to the next arrival that concerns
// it: the result is the same as stepping every pseudo-channel cycle by cycle.
//
// Cycle semantics: a request that arrives at cycle a is visible to the scheduler for commands at
// cycles >= a. A request finds room when its pseudo-channel queue holds fewer than queue_depth
// requests; otherwise it is accepted the cycle after a column command frees a slot (in-order
// front end: the caller's next request comes after that). A read completes when its last data
// beat has left (RD + nCL + nBL), a write when its data has been written (WR + nCWL + nBL).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <queue>
#include <utility>
#include <vector>

#include "model/hbm/address_map.h"
#include "model/hbm/checker.h"
#include "model/hbm/config.h"
#include "model/hbm/scheduler.h"
#include "model/hbm/storage.h"
#include "model/hbm/types.h"

namespace mxemu::hbm {

struct Request {
  std::uint64_t id = 0;
  std::uint64_t address = 0;  // any byte of the access; one access = org.access_bytes
  bool is_write = false;
  Cycle arrival = 0;
};

struct Completion {
  std::uint64_t id = 0;
  Cycle done = 0;
  Cycle accepted = 0;
  bool is_write = false;
  bool operator>(const Completion& o) const { return done != o.done ? done > o.done : id > o.id; }
};

struct ChannelStats {
  std::uint64_t reads = 0, writes = 0, row_hits = 0, activates = 0, precharges = 0, refreshes = 0;
  std::uint64_t latency_sum_cycles = 0;
};

struct HbmStats {
  std::uint64_t reads = 0, writes = 0, row_hits = 0, activates = 0, refreshes = 0;
  Cycle first_arrival = 0, last_done = 0;
  std::vector<std::uint32_t> latencies_cycles;  // per request, accepted -> done
  std::vector<ChannelStats> channels;           // per flat channel (stack * channels + channel)
};

class HbmCore {
 public:
  explicit HbmCore(const HbmConfig& config);
  HbmCore(const HbmCore&) = delete;
  HbmCore& operator=(const HbmCore&) = delete;

  const HbmConfig& config() const { return config_; }
  const AddressMap& address_map() const { return map_; }
  Storage& storage() { return storage_; }
  const Storage& storage() const { return storage_; }

  // Enqueues one access; returns the cycle at which it was accepted (>= arrival). Throws bad
  // input when the address is beyond capacity. Arrivals earlier than a pseudo-channel's committed
  // past are moved up to it.
  Cycle submit(const Request& r);
  // Commits every command of every pseudo-channel that issues before `until`.
  void advance(Cycle until);
  // Runs until every queued request has completed; returns the last completion cycle.
  Cycle drain();
  // The next cycle at which the pseudo-channel of a queued request issues a command (it is
  // committed by advance(cycle + 1)); nullopt when no request is queued.
  std::optional<Cycle> next_decision();
  // The done cycle of the earliest kept completion, if any.
  std::optional<Cycle> next_completion() const;
  // Completions are kept for `pop_completions` only when enabled (the SystemC shell does).
  void keep_completions(bool on) { keep_completions_ = on; }
  // Removes and returns the kept completions with done <= `through`, in (done, id) order. The
  // caller must have advanced past `through` first.
  std::vector<Completion> pop_completions(Cycle through);
  std::size_t pending() const { return pending_; }

  const HbmStats& stats() const { return stats_; }
  // Issued commands (only with config.record_commands).
  const std::vector<CommandRecord>& command_log() const { return log_; }
  // Data-bus peak in bytes per cycle (every pseudo-channel streaming).
  double peak_bytes_per_cycle() const;

 private:
  struct Pc {
    Pc(Checker c, std::uint32_t banks)
        : checker(std::move(c)),
          accesses_since_act(banks, 0),
          queued_per_bank(banks, 0),
          last_access(banks, 0) {}
    Checker checker;
    std::vector<QueuedRequest> queue;
    std::vector<std::uint32_t> accesses_since_act;
    std::vector<std::uint32_t> queued_per_bank;  // requests in `queue` per bank
    std::vector<Cycle> last_access;              // per bank: cycle of the last RD/WR
    std::uint64_t queued_mask = 0;               // bit per bank with queued requests
    Cycle cursor = 0;  // cycle of the last committed command (none before it)
    Cycle floor = 0;   // arrivals are moved up to this cycle
    std::uint64_t next_seq = 0;
    // Refresh bookkeeping.
    std::uint64_t refreshes_issued = 0;
    std::uint64_t refreshed_mask = 0;  // banks refreshed in the current round
    std::uint32_t refreshed_count = 0;
    std::optional<Decision> next;  // cached pick, valid while `next_valid`
    bool next_valid = false;
    std::optional<Decision> raw;  // the scheduler's answer behind `next`, and its input demand
    RefreshDemand demand;
    bool arrival_only = false;  // since `raw`, only one request was appended
    std::uint32_t index = 0, channel = 0;
  };

  RefreshDemand refresh_demand(const Pc& pc, Cycle now, Cycle* force_time) const;
  const std::optional<Decision>& pick(Pc& pc);
  void commit(Pc& pc, const Decision& d);
  void run(Pc& pc, Cycle until);

  HbmConfig config_;
  AddressMap map_;
  Storage storage_;
  std::unique_ptr<Scheduler> scheduler_;
  std::vector<Pc> pcs_;
  Cycle refresh_interval_ = 0;  // between refresh commands of one pseudo-channel
  bool keep_completions_ = false;
  std::priority_queue<Completion, std::vector<Completion>, std::greater<>> completions_;
  std::size_t pending_ = 0;
  HbmStats stats_;
  bool any_arrival_ = false;
  std::vector<CommandRecord> log_;
};

}  // namespace mxemu::hbm
