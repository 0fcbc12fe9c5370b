#include "model/core/core_module.h"

#include <algorithm>
#include <cmath>

#include "model/common/clock.h"

namespace mxemu::core {

namespace {
constexpr int kSigInt = 2, kSigIll = 4, kSigTrap = 5;
}  // namespace

CoreModule::CoreModule(const sc_core::sc_module_name& name, Machine& machine,
                       std::uint64_t max_cycles, DebugAgent* debugger,
                       std::function<void()> on_done)
    : sc_core::sc_module(name),
      m_(machine),
      hart_(machine.hart()),
      max_cycles_(max_cycles == 0 ? ~std::uint64_t{0} : max_cycles),
      dbg_(debugger),
      on_done_(std::move(on_done)),
      period_(static_cast<double>(Clock::from_hz(machine.config().clock_hz).period_ps),
              sc_core::SC_PS),
      chunk_cycles_(machine.config().lockstep ? 1 : machine.config().quantum_cycles) {
  qk_.set_local_quantum(period_ * static_cast<double>(chunk_cycles_));
  qk_.reset();
  synced_cycle_ = hart_.cycle();
  hart_.set_sync_hook(this);
  SC_THREAD(thread);
}

void CoreModule::halt() {
  if (done_ || halt_) return;
  halt_ = true;
  hart_.request_stop();
  irq_event_.notify(sc_core::SC_ZERO_TIME);  // wakes a hart sleeping in WFI
  release_event_.notify(sc_core::SC_ZERO_TIME);
}

std::uint64_t CoreModule::synced_now() const {
  return static_cast<std::uint64_t>(std::ceil(sc_core::sc_time_stamp() / period_));
}

void CoreModule::set_external_irq(bool level) {
  hart_.set_external_irq(level);
  if (level) irq_event_.notify(sc_core::SC_ZERO_TIME);
}

void CoreModule::account() {
  qk_.set(period_ * static_cast<double>(hart_.cycle() - synced_cycle_));
  if (qk_.need_sync()) {
    qk_.sync();
    synced_cycle_ = hart_.cycle();
  }
}

void CoreModule::sync_before(std::uint64_t cycle) {
  // The access happens one delta cycle into `cycle`, in every mode: after the engines' own
  // wake-ups at that time stamp (a retire's DONE and semaphore signal, a dispatch), whose order
  // against a timed wake-up of the core is the kernel's tie order and depends on when each wait
  // was issued. In lock-step the core already stands at `cycle` (woken by a timed wait at the
  // end of the previous instruction) and the keeper's zero wait is that delta; decoupled, the
  // timed wait brings it to `cycle` and the extra zero wait makes the access land where a
  // lock-step run's does (docs/CORE.md "fast == exact").
  const bool timed = cycle > synced_cycle_;
  qk_.set(period_ * static_cast<double>(cycle - synced_cycle_));
  qk_.sync();
  if (timed) sc_core::wait(sc_core::SC_ZERO_TIME);
  synced_cycle_ = cycle;
  if (on_sync_) on_sync_(cycle, hart_.pc());
}

std::uint64_t CoreModule::stall_after(std::uint64_t cycle) {
  const sc_core::sc_time waited = sc_core::sc_time_stamp() - period_ * static_cast<double>(cycle);
  const auto stall = static_cast<std::uint64_t>(std::ceil(waited / period_));
  synced_cycle_ = cycle + stall;
  if (synced_cycle_ > cycle) {
    // Align SystemC time to a whole cycle so later syncs stay on cycle boundaries.
    const sc_core::sc_time edge = period_ * static_cast<double>(synced_cycle_);
    if (edge > sc_core::sc_time_stamp()) sc_core::wait(edge - sc_core::sc_time_stamp());
  }
  return stall;
}

void CoreModule::sleep_in_wfi() {
  // Bring SystemC time to the core, then sleep until the external irq or the timer.
  sync_before(hart_.cycle());
  const std::uint64_t wake = hart_.timer_wake_cycle();
  if (wake == ~std::uint64_t{0}) {
    sleeping_forever_ = true;
    sc_core::wait(irq_event_);
    sleeping_forever_ = false;
  } else {
    sc_core::wait(period_ * static_cast<double>(wake - hart_.cycle()), irq_event_);
  }
  const auto now_cycle = static_cast<std::uint64_t>(std::ceil(sc_core::sc_time_stamp() / period_));
  hart_.sleep_until(now_cycle);
  synced_cycle_ = hart_.cycle();
  if (now_cycle * period_ > sc_core::sc_time_stamp())
    sc_core::wait(now_cycle * period_ - sc_core::sc_time_stamp());
}

void CoreModule::thread() {
  while (parked_ && !halt_) sc_core::wait(release_event_);
  if (parked_ || halt_) {
    reason_ = StopReason::kStopRequest;
    done_ = true;
    return;  // never started: nothing to report
  }
  // The core starts at the cycle it was released at (a spare joining a running pod).
  if (hart_.cycle() < synced_now()) {
    hart_.sleep_until(synced_now());
    const sc_core::sc_time edge = period_ * static_cast<double>(hart_.cycle());
    if (edge > sc_core::sc_time_stamp()) sc_core::wait(edge - sc_core::sc_time_stamp());
  }
  synced_cycle_ = hart_.cycle();
  // Resuming from the debugger never re-hits a breakpoint at the pc it stopped at. Before the
  // debugger looks, SystemC time is brought up to the core's cycle (as before an MMIO access), so
  // what it reads of the chip (queues, semaphores, CYCLE) is the state at the stopped
  // instruction; like any sync this changes no result (decoupled and lock-step runs agree).
  auto ask = [this](int signal) {
    if (period_ * static_cast<double>(hart_.cycle()) > sc_core::sc_time_stamp()) {
      sync_before(hart_.cycle());
    }
    const DebugAgent::Resume m = dbg_->on_stop(signal);
    hart_.skip_breakpoint_once();
    return m;
  };
  DebugAgent::Resume mode = DebugAgent::Resume::kContinue;
  if (dbg_ != nullptr) mode = ask(kSigTrap);
  int exit_signal = 0;
  for (;;) {
    if (halt_) {
      reason_ = StopReason::kStopRequest;
      break;
    }
    if (mode == DebugAgent::Resume::kKill) {
      reason_ = StopReason::kStopRequest;
      killed_ = true;
      break;
    }
    if (mode == DebugAgent::Resume::kDetach) {
      dbg_ = nullptr;
      hart_.clear_breakpoints();  // nobody would handle a hit any more
      mode = DebugAgent::Resume::kContinue;
    }
    const bool step = mode == DebugAgent::Resume::kStep;
    const std::uint64_t until = std::min(max_cycles_, hart_.cycle() + chunk_cycles_);
    const StopReason r = hart_.run(step ? ~std::uint64_t{0} : until, step);
    account();
    if (on_sync_) on_sync_(hart_.cycle(), hart_.pc());
    if (r == StopReason::kBudget) {
      if (hart_.cycle() >= max_cycles_) {
        reason_ = r;
        break;
      }
      if (dbg_ != nullptr && dbg_->interrupt_requested()) mode = ask(kSigInt);
      continue;
    }
    if (r == StopReason::kStep || r == StopReason::kBreakpoint) {
      if (dbg_ != nullptr) mode = ask(kSigTrap);
      continue;
    }
    if (r == StopReason::kWfi) {
      sleep_in_wfi();
      continue;
    }
    if (r == StopReason::kStopRequest && m_.htif_error().empty()) continue;
    reason_ = r;
    if (r == StopReason::kFault && dbg_ != nullptr) {
      // Let the user look at the faulting state before the run ends.
      const bool illegal = hart_.fault().rfind("illegal", 0) == 0;
      exit_signal = illegal ? kSigIll : 11;
      if (period_ * static_cast<double>(hart_.cycle()) > sc_core::sc_time_stamp()) {
        sync_before(hart_.cycle());
      }
      dbg_->on_stop(exit_signal);
    }
    break;
  }
  // Final sync: SystemC time stands at the core's last cycle.
  sync_before(hart_.cycle());
  if (dbg_ != nullptr && !killed_) {
    if (reason_ == StopReason::kExit) {
      dbg_->on_exit(hart_.exit_code(), 0);
    } else {
      dbg_->on_exit(0, exit_signal != 0 ? exit_signal : 9);
    }
  }
  done_ = true;
  done_event_.notify(sc_core::SC_ZERO_TIME);
  if (on_done_) on_done_();
}

}  // namespace mxemu::core
