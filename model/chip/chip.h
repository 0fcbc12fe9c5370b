// The chip of DESIGN §2, assembled: control core (model/core) with the accelerator MMIO window,
// DMA, VPU and N MXU engines sharing VMEM, accumulators, semaphores and HBM (model/hbm).
//
// A Chip is an sc_module with an identity in its pod (index, coordinates) and hierarchical names
// (`pod.chip3.mxu1`); several live in one SystemC context. It never stops the simulation: when
// its run ends (firmware exit, a fault, a deadlock found by its progress watchdog, the cycle
// limit) it records a ChipEnd, halts its core and engines, and reports to its owner
// (model/sim's Simulation), which alone calls sc_start/sc_stop.
#pragma once

#include <systemc>

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "model/chip/accel_mmio.h"
#include "model/chip/chip_config.h"
#include "model/chip/chip_waves.h"
#include "model/chip/engine.h"
#include "model/chip/hbm_backend.h"
#include "model/common/error.h"
#include "model/core/config.h"
#include "model/core/core_module.h"
#include "model/core/machine.h"
#include "model/hbm/config.h"
#include "model/ici/ici_config.h"
#include "model/ici/router.h"

namespace mxemu {
class ThreadPool;
}

namespace mxemu::chip {

// How a chip's run ended.
struct ChipEnd {
  enum class Kind : std::uint8_t {
    kExit,      // the firmware exited (exit_code)
    kFault,     // a core or engine fault, or an exit with work pending (error = kSimFault)
    kDeadlock,  // the watchdog saw no progress while the chip waited (error = kSimFault)
    kLimit,     // the cycle limit (error = kLimit)
    kKilled,    // the debugger ended the run
    kStopped,   // the simulation stopped it because another chip failed
    kFailed,    // the chip itself failed (an injected fault); a spare may take its place
    kSpare,     // a spare chip that was never needed
  };
  Kind kind = Kind::kExit;
  int exit_code = 0;               // the firmware's (kExit)
  ExitCode error = ExitCode::kOk;  // mxemu's status for the other kinds
  std::string message;             // what happened (the error text, without the prefix)
  std::uint64_t cycle = 0;         // the chip cycle of the end
  bool failed() const {
    return kind != Kind::kExit && kind != Kind::kKilled && kind != Kind::kSpare;
  }
};
const char* kind_name(ChipEnd::Kind k);

// The chip's owner, as the chip sees it (model/sim's Simulation).
class ChipObserver {
 public:
  virtual ~ChipObserver() = default;
  virtual void chip_ended(std::uint32_t chip_index, const ChipEnd& end) = 0;
};

class Chip : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(Chip);
  // Elaborates the chip (every submodule is its child). pool: host threads for the MXUs' GEMMs
  // (nullptr: none). owner: told when the run ends (nullptr: nobody). rtl: the Verilated RTL
  // the [rtl] table may put in the loop (nullptr: none; a config asking for RTL is refused).
  Chip(const sc_core::sc_module_name& name, const ChipIdentity& id, const ChipConfig& chip,
       const core::CoreConfig& core, const hbm::HbmConfig& hbm, const ici::IciConfig& ici,
       std::uint64_t max_cycles, ChipObserver* owner = nullptr, ThreadPool* pool = nullptr,
       const RtlPlugins* rtl = nullptr);

  // Attaches a debugger (the GDB stub) to the core; before the simulation starts.
  void set_debugger(core::DebugAgent* debugger) { core_->set_debugger(debugger); }

  ChipState& state() { return state_; }
  ChipHbm& hbm() { return *hbm_; }
  ici::Router& router() { return *router_; }
  core::Machine& machine() { return machine_; }
  const core::Machine& machine() const { return machine_; }
  const ChipConfig& config() const { return cfg_; }
  const ChipIdentity& identity() const { return state_.id; }
  // The engines, in queue order (the registry the MMIO window, statistics, timeline and deadlock
  // report iterate over).
  const std::vector<std::unique_ptr<Engine>>& engines() const { return engines_; }
  // The waveform probe ([waves] file), or nullptr.
  ChipWaves* waves() { return waves_.get(); }

  // The end of this chip's run, once it has one.
  const std::optional<ChipEnd>& end() const { return end_; }
  // Ends a chip that is still running (the owner's decision): records `end` and halts the chip
  // without reporting back. No effect on a chip that has ended.
  void stop(const ChipEnd& end);
  // Ends a chip that is still running from outside (a wall-clock limit) and reports the end.
  void end_run(const ChipEnd& end) { finish(end); }

  // A spare: its core waits, parked, until activate() gives it a failed chip's place.
  void park() { core_->park(); }
  bool parked() const { return core_->parked(); }
  void activate(const ChipIdentity& id);
  // Writes this chip's identity into the launch block's header (ABI v2).
  void write_identity_header();
  // The end of a chip still running when nothing in the simulation can happen any more: a
  // deadlock (or, for a core waiting in WFI with nothing to wake it, the core's report).
  ChipEnd starved_end() const;

  bool killed() const { return end_ && end_->kind == ChipEnd::Kind::kKilled; }
  std::uint64_t cycles() const;
  nlohmann::json stats() const;
  // Appends this chip's trace events (process = chip index, a track per engine) to `events`.
  void timeline_events(nlohmann::json& events) const;

 private:
  void core_done();
  void engine_fault();
  void watchdog_thread();
  void finish(ChipEnd end);
  bool waiting() const;
  std::uint64_t progress() const;
  std::string deadlock_report() const;
  ChipEnd deadlock_end() const;

  ChipConfig cfg_;
  ici::IciConfig ici_cfg_;
  std::unique_ptr<ChipHbm> hbm_;
  std::unique_ptr<ici::Router> router_;
  ChipState state_;
  core::Machine machine_;
  std::vector<std::unique_ptr<Engine>> engines_;
  std::unique_ptr<AccelMmio> mmio_;
  std::unique_ptr<core::CoreModule> core_;
  std::uint64_t max_cycles_;
  ChipObserver* owner_;
  std::optional<ChipEnd> end_;
  std::unique_ptr<ChipWaves> waves_;  // last: it refers to the units above
};

}  // namespace mxemu::chip
