// The thin SystemC shell around the plain-C++ hart: one SC_THREAD that lets the hart run ahead of
// SystemC time by up to a quantum (tlm_utils::tlm_quantumkeeper, temporal decoupling) or, in
// lock-step mode, syncs after every instruction. Cycle counts do not depend on the mode: the hart
// counts cycles itself and SystemC time follows it (sc_time_stamp() == cycle * period at syncs).
#pragma once

#include <systemc>
#include <tlm>
// (after <systemc>: the quantum keeper header relies on it)
#include <tlm_utils/tlm_quantumkeeper.h>

#include <cstdint>
#include <functional>

#include "model/core/machine.h"

namespace mxemu::core {

// A debugger attached to the core (the GDB stub). All calls come from the core's SC_THREAD.
class DebugAgent {
 public:
  enum class Resume { kContinue, kStep, kKill, kDetach };
  virtual ~DebugAgent() = default;
  // The hart stopped (signal: 5 trap/step/breakpoint, 2 interrupt, 4 illegal, 11 segv). Blocks
  // until the debugger resumes it.
  virtual Resume on_stop(int signal) = 0;
  // Polled between quanta while the hart runs: true when the debugger asked for an interrupt.
  virtual bool interrupt_requested() = 0;
  // The firmware exited (code) or the run ended with a fault (signal != 0).
  virtual void on_exit(int code, int signal) = 0;
};

// The core's own quantum (CoreConfig::quantum_cycles) as the keeper's local quantum, so the
// process-wide tlm_global_quantum stays free for the chip's other initiators.
class CoreQuantumKeeper : public tlm_utils::tlm_quantumkeeper {
 public:
  void set_local_quantum(const sc_core::sc_time& q) { quantum_ = q; }

 protected:
  sc_core::sc_time compute_local_quantum() override {
    if (quantum_ == sc_core::SC_ZERO_TIME) return quantum_;
    const sc_core::sc_time::value_type now = sc_core::sc_time_stamp().value();
    return sc_core::sc_time::from_value(quantum_.value() - now % quantum_.value());
  }

 private:
  sc_core::sc_time quantum_ = sc_core::SC_ZERO_TIME;
};

class CoreModule : public sc_core::sc_module, private SyncHook {
 public:
  SC_HAS_PROCESS(CoreModule);
  // max_cycles 0: no limit. The core never stops the simulation: when it is done (exit, fault,
  // cycle limit, debugger kill, halt) it calls on_done, and its owner decides.
  CoreModule(const sc_core::sc_module_name& name, Machine& machine, std::uint64_t max_cycles,
             DebugAgent* debugger = nullptr, std::function<void()> on_done = {});

  // Attaches a debugger; only before the simulation starts.
  void set_debugger(DebugAgent* debugger) { dbg_ = debugger; }
  void set_on_done(std::function<void()> on_done) { on_done_ = std::move(on_done); }
  // Called with (cycle, pc of the next instruction) at each sync with SystemC time: after every
  // instruction in lock-step, after every quantum and at every MMIO access when decoupled (the
  // chip's waveforms). None by default.
  void set_on_sync(std::function<void(std::uint64_t, std::uint32_t)> f) { on_sync_ = std::move(f); }
  // Stops the core at its next sync point (its chip's run has ended); it reports done.
  void halt();
  // A parked core (a spare chip's) does not start running until released.
  void park() { parked_ = true; }
  void release() {
    parked_ = false;
    release_event_.notify(sc_core::SC_ZERO_TIME);
  }
  bool parked() const { return parked_; }
  bool halted() const { return halt_; }
  // True while the hart sleeps in WFI with no timer to wake it (only an interrupt can).
  bool sleeping_forever() const { return sleeping_forever_; }

  bool done() const { return done_; }
  bool killed() const { return killed_; }  // the debugger killed the run
  StopReason stop_reason() const { return reason_; }
  const sc_core::sc_event& done_event() const { return done_event_; }
  sc_core::sc_time period() const { return period_; }
  // Raises/lowers the machine external interrupt line (chip); wakes a hart sleeping in WFI.
  void set_external_irq(bool level);

 private:
  void thread();
  void account();  // hands the cycles run since the last sync to the quantum keeper
  void sync_before(std::uint64_t cycle) override;
  std::uint64_t stall_after(std::uint64_t cycle) override;
  void sleep_in_wfi();
  std::uint64_t synced_now() const;  // the core cycle SystemC time stands at (rounded up)

  Machine& m_;
  Hart& hart_;
  std::uint64_t max_cycles_;
  DebugAgent* dbg_;
  std::function<void()> on_done_;
  std::function<void(std::uint64_t, std::uint32_t)> on_sync_;
  sc_core::sc_time period_;
  std::uint64_t chunk_cycles_;
  CoreQuantumKeeper qk_;
  std::uint64_t synced_cycle_ = 0;  // the core cycle that SystemC time + qk local time stand for
  sc_core::sc_event irq_event_, done_event_;
  bool done_ = false;
  bool killed_ = false;
  bool halt_ = false;
  bool parked_ = false;
  sc_core::sc_event release_event_;
  bool sleeping_forever_ = false;
  StopReason reason_ = StopReason::kBudget;
};

}  // namespace mxemu::core
