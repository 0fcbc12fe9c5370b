// An engine with its in-order descriptor queue (DESIGN §4). The dispatch thread takes descriptors
// in order, waits on and takes their semaphore, and asks the concrete engine (execute) when the
// work starts, when the next descriptor may dispatch and when this one completes; the retire
// thread completes descriptors in order and signals their semaphores. Functional effects happen
// at dispatch; firmware orders engines through semaphores, so results do not depend on when
// within its interval an effect lands.
#pragma once

#include <systemc>

#include <cstdint>
#include <deque>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "model/chip/chip_state.h"
#include "model/chip/desc_loop.h"

namespace mxemu::chip {

struct EngineStats {
  std::uint64_t descriptors = 0;
  std::uint64_t busy_cycles = 0;                      // cycles doing work (engine-specific)
  std::map<std::string, std::uint64_t> stall_cycles;  // cycles a ready descriptor waited, by cause
};

class Engine : public sc_core::sc_module {
 public:
  Engine(const sc_core::sc_module_name& name, ChipState& state, std::uint32_t queue_index,
         std::string queue_name);

  // Enqueues a descriptor; false when the queue is full.
  bool push(const Desc& d);
  std::uint32_t queue_index() const { return queue_index_; }
  const std::string& queue_name() const { return queue_name_; }
  // Counts the descriptors a running LOOP has still to generate.
  std::uint64_t queued_or_running() const {
    return queue_.size() + in_flight_ + (loop_ ? loop_->remaining() : 0);
  }
  std::uint64_t done() const { return done_; }
  bool full() const { return queue_.size() >= state_.cfg.queue.depth; }
  bool idle() const { return queue_.empty() && in_flight_ == 0 && !loop_; }
  // Set while the head descriptor waits for its semaphore (for deadlock reports).
  const std::optional<std::pair<std::uint32_t, std::uint32_t>>& blocked_on() const {
    return blocked_on_;
  }
  const EngineStats& stats() const { return stats_; }
  // For the waveforms (chip_waves.h): descriptors waiting in the queue, and the one the dispatcher
  // took from it last (its number and opcode; none before the first).
  std::size_t queue_depth() const { return queue_.size(); }
  const std::optional<std::pair<std::uint64_t, std::uint32_t>>& last_taken() const {
    return last_taken_;
  }
  // Descriptors dispatched plus completed: grows whenever the engine moves (deadlock watchdog).
  virtual std::uint64_t progress() const { return next_seq_ + done_; }
  // True while a descriptor executes or waits for its completion cycle: the engine will move
  // again without help (a descriptor waiting on a semaphore does not count).
  virtual bool busy() const { return executing_ || !retire_.empty(); }
  // What the engine waits for, when it waits on something outside the chip ("" otherwise).
  virtual std::string waiting_on() const { return {}; }
  // For the debugger (`monitor queues`; reading changes nothing): the descriptors not yet
  // retired, oldest first: those dispatched (waiting for their semaphore, executing, or until
  // their completion) and then those still in the queue.
  struct DescriptorView {
    std::uint64_t seq = 0;  // number in this queue, from 0
    Desc desc{};
    std::string label;  // the timeline's name ("DMA HBM->VMEM 64 KiB"), or the opcode's name
    std::string state;  // "queued", "executing", "completes at cycle N", ...
  };
  std::vector<DescriptorView> debug_view() const;
  // Body descriptors a LOOP at the head still waits for (they are not pushed yet; deadlocks).
  std::uint32_t loop_body_pending() const { return loop_body_pending_; }
  // The engine's statistics as JSON: descriptors, busy and stall cycles, plus its own counters.
  nlohmann::json stats_json() const;
  // Checks that end with the run (e.g. RTL in the loop draining what it still holds), called
  // when the firmware exits normally. Throws mxemu::Error (kSimFault) when one fails.
  virtual void end_checks() {}

 protected:
  // A completion that execute() cannot know yet (it depends on other chips): the engine calls
  // complete_async(seq, cycle) when it happens; descriptors still retire in order.
  static constexpr std::uint64_t kAsync = ~std::uint64_t{0};
  struct Timing {
    std::uint64_t dispatch_next = 0;  // cycle at which the next descriptor may dispatch
    std::uint64_t complete = 0;       // cycle at which this descriptor completes, or kAsync
  };
  // The sequence number of the descriptor execute() is running.
  std::uint64_t current_seq() const { return current_seq_; }
  void complete_async(std::uint64_t seq, std::uint64_t cycle);
  // Faults the engine from outside execute() (e.g. a packet that contradicts its descriptor).
  void raise(std::uint64_t seq, std::uint32_t opcode, const EngineError& e);
  // Performs the descriptor's functional effect and returns its timing (absolute cycles, both
  // >= now). Throws EngineError for an invalid descriptor. NOPs are handled by the base class.
  virtual Timing execute(const Desc& d, std::uint64_t now) = 0;
  virtual std::string op_name(std::uint32_t opcode) const = 0;
  // The timeline slice's name: the operation and its size ("DMA HBM->VMEM 64 KiB", "VPU add
  // 1x8192", "MXU matmul M=500", "ICI send 32 KiB to chip 3"); NOPs and unknown opcodes: op_name.
  virtual std::string slice_name(const Desc& d) const;
  // slice_name, or "NOP" / "LOOP 32 x 2" for the descriptors every engine has.
  std::string descriptor_label(const Desc& d) const;
  // Adds the engine's own counters (bytes, elements, MACs) to its statistics.
  virtual void extra_stats(nlohmann::json& /*j*/) const {}

  ChipState& state_;
  EngineStats stats_;

 private:
  void dispatch_thread();
  void retire_thread();
  void fault(std::uint64_t seq, std::uint32_t opcode, std::uint64_t cycle, regs::Fault code,
             std::string message);
  void wait_until(std::uint64_t cycle);  // to the start of chip cycle `cycle` (absolute)
  // The next descriptor to dispatch: the running LOOP's next one, or the queue's head (a LOOP
  // at the head is taken as it is; start_loop then takes its body), and whether a LOOP made it.
  std::pair<Desc, bool> next_descriptor();
  // Takes a LOOP (already popped, numbered seq) and its body from the queue; false on a fault.
  bool start_loop(const Desc& d, std::uint64_t seq);
  // This queue's head starts (waits) or stops waiting on semaphore `sem` (ChipState::sem_shared).
  void note_waiting(std::uint32_t sem, bool waits);

  std::optional<LoopSequencer> loop_;    // a running LOOP (docs/CHIP.md "LOOP")
  std::vector<Desc> loop_body_;          // the body a LOOP is still taking from the queue
  std::uint32_t loop_body_pending_ = 0;  // body descriptors a LOOP still waits for (debug view)
  std::uint64_t loop_ready_at_ = 0;      // cycle the sequencer's next descriptor is ready
  std::uint64_t loops_ = 0, loop_generated_ = 0;

  std::uint32_t queue_index_;
  std::string queue_name_;
  std::deque<Desc> queue_;
  struct Pending {
    std::uint64_t complete;
    Desc desc;
    std::uint64_t seq;
    std::uint64_t start;
  };
  std::deque<Pending> retire_;
  sc_core::sc_event retire_event_;
  std::uint64_t in_flight_ = 0;
  std::uint64_t done_ = 0;
  std::uint64_t next_seq_ = 0;
  std::uint64_t last_complete_ = 0;
  bool executing_ = false;
  std::uint64_t current_seq_ = 0;
  std::uint64_t retired_at_ = 0;
  std::map<std::uint64_t, std::uint64_t> async_done_;  // seq -> completion cycle
  std::optional<std::pair<std::uint32_t, std::uint32_t>> blocked_on_;
  // The descriptor the dispatch thread holds (taken from the queue, not yet handed to the retire
  // thread): for debug_view only.
  std::optional<std::pair<std::uint64_t, Desc>> dispatching_;
  std::optional<std::pair<std::uint64_t, std::uint32_t>> last_taken_;
};

// "64 KiB", "3 MiB", "100 B": a size for slice names.
std::string size_label(std::uint64_t bytes);

}  // namespace mxemu::chip
