// The HBM timing engine: plain C++, no SystemC, driven event by event. Requests are submitted with
// an arrival cycle; `advance` runs the per-pseudo-channel schedulers up to a cycle; completions
// come out with their completion cycles. Every pseudo-channel is independent (own queues, banks,
// command buses, data bus, refresh), so each one runs lazily up to the next arrival that concerns
// it: the result is the same as stepping every pseudo-channel cycle by cycle. With queues per
// channel (HbmConfig::queue_scope) only the room in the shared queue couples the pseudo-channels
// of a channel: a request for a full one brings them all to its arrival and then commits their
// commands in time order until one frees a slot.
//
// Cycle semantics: a request that arrives at cycle a is visible to the scheduler for commands at
// cycles >= a. Each pseudo-channel (or channel) has a read queue and a write queue (HbmConfig
// depths); a request finds room when its queue is not full, otherwise it is accepted the cycle
// after a column command of its kind frees a slot (in-order front end: the caller's next request
// comes after that); with accept_per_cycle, at most that many requests are accepted per cycle. The
// scheduler serves one queue at a time: reads, or writes during a drain (HbmConfig: watermarks,
// write_max_wait_ns, idle drain). A read completes when its last data beat has left (RD + nCL +
// nBL), a write when its data has been written (WR + nCWL + nBL); phy_latency_cycles is added
// to both.
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
#include "model/hbm/latency_histogram.h"
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
  // Split by direction (model/hbm/stats.h turns them into the report).
  std::uint64_t read_row_hits = 0, write_row_hits = 0;
  LatencyHistogram read_latency, write_latency;  // cycles, accepted -> done
  // Bank-cycles blocked by refresh: nRFC x banks per REFab, nRFCpb per REFpb.
  std::uint64_t refresh_bank_cycles = 0;
  // Write drains: how many started, and cycles spent in them (closed drains; an open one is
  // added by HbmCore::drain_cycles()).
  std::uint64_t drains = 0;
  Cycle closed_drain_cycles = 0;
  // Data-bus turnarounds: direction changes between consecutive accesses of a pseudo-channel,
  // and the data-bus cycles they cost (the idle gap between the last burst of one direction and
  // the first of the other, at most what tRTW / tWTR + nCL force).
  std::uint64_t turnarounds = 0;
  Cycle turnaround_cycles = 0;
  std::uint32_t active_pcs = 0;  // pseudo-channels that served at least one access
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
  // Cycles spent draining writes, summed over pseudo-channels, including drains still open at
  // each pseudo-channel's last decision.
  Cycle drain_cycles() const;
  // Issued commands (only with config.record_commands).
  const std::vector<CommandRecord>& command_log() const { return log_; }
  // Data-bus peak in bytes per cycle (every pseudo-channel streaming).
  double peak_bytes_per_cycle() const;
  // Off: the scheduler recomputes every decision from scratch instead of updating the previous
  // one when a request arrives (tests prove both give the same cycles).
  void set_incremental_pick(bool on) { incremental_ = on; }

 private:
  enum class Drain : std::uint8_t { kNone, kIdle, kBatch };
  // What a cached scheduler answer depends on besides the queue and the bank state.
  struct PickKey {
    RefreshDemand demand;
    bool write_mode = false, starving = false;
    bool operator==(const PickKey& o) const {
      return demand == o.demand && write_mode == o.write_mode && starving == o.starving;
    }
  };
  struct Pc {
    Pc(Checker c, std::uint32_t banks)
        : checker(std::move(c)),
          accesses_since_act(banks, 0),
          queued_per_bank(banks, 0),
          last_access(banks, 0) {}
    Checker checker;
    std::vector<QueuedRequest> reads, writes;  // oldest first
    std::vector<std::uint32_t> accesses_since_act;
    std::vector<std::uint32_t> queued_per_bank;  // requests in both queues per bank
    std::vector<Cycle> last_access;              // per bank: cycle of the last RD/WR
    std::uint64_t queued_mask = 0;               // bit per bank with queued requests
    Cycle cursor = 0;  // no command before this cycle (the last decision's, or an arrival)
    Cycle floor = 0;   // arrivals are moved up to this cycle
    std::uint64_t next_seq = 0;
    // Refresh bookkeeping.
    std::uint64_t refreshes_issued = 0;
    std::uint64_t refreshed_mask = 0;  // banks refreshed in the current round
    std::uint32_t refreshed_count = 0;
    // Write drain.
    Drain drain = Drain::kNone;  // kNone: serving reads
    Cycle drain_since = 0;
    // Scheduler cache.
    std::optional<Decision> next;  // cached pick, valid while `next_valid`
    bool next_valid = false;
    std::optional<Decision> raw;  // the scheduler's answer behind `next`, and its inputs
    PickKey key;
    bool arrival_only = false;   // since `raw`, only one request was appended...
    bool arrival_write = false;  // ... to this queue
    // Statistics.
    bool served_any = false;
    bool any_column = false, last_column_write = false;
    std::uint32_t last_column_group = 0;
    Cycle last_data_end = 0;
    std::uint32_t index = 0, channel = 0;
  };

  std::size_t queued(const Pc& pc) const { return pc.reads.size() + pc.writes.size(); }
  bool write_aged(const Pc& pc, Cycle now) const;
  void update_drain(Pc& pc, Cycle now);
  RefreshDemand refresh_demand(const Pc& pc, Cycle now, Cycle* force_time) const;
  const std::optional<Decision>& pick(Pc& pc);
  void commit(Pc& pc, const Decision& d);
  void run(Pc& pc, Cycle until);

  HbmConfig config_;
  AddressMap map_;
  Storage storage_;
  std::unique_ptr<Scheduler> scheduler_;
  std::vector<Pc> pcs_;
  Cycle refresh_interval_ = 0;                  // between refresh commands of one pseudo-channel
  Cycle write_wait_cycles_ = 0;                 // 0: no bound
  Cycle starvation_age_cycles_ = 0;             // 0: no age limit
  std::size_t write_high_ = 0, write_low_ = 0;  // the watermarks in requests
  Cycle accept_cycle_ = 0;               // front-end limit: the cycle of the last acceptance...
  std::uint32_t accepted_in_cycle_ = 0;  // ... and how many were accepted in it
  bool keep_completions_ = false;
  bool incremental_ = true;
  std::priority_queue<Completion, std::vector<Completion>, std::greater<>> completions_;
  std::size_t pending_ = 0;
  HbmStats stats_;
  bool any_arrival_ = false;
  std::vector<CommandRecord> log_;
};

}  // namespace mxemu::hbm
