// The chip's waveform probe ([waves] file, docs/SIM.md "Waveforms"): the model's state as signals
// under the chip's scope (pod > chip0 > mxu0 ...), recorded into a waves::Recorder.
//
// Where values come from, without parallel bookkeeping:
// - engines, queues, semaphores: a method woken by ChipState::changed (which every semaphore,
//   queue and engine change notifies) compares them with their last values;
// - MXU folds: the fold's closed-form schedule (mxu::FoldTiming) as the engine computes it;
// - the core's pc: the core's sync points (CoreModule::set_on_sync);
// - HBM: each access's accept cycle (ChipHbm::set_on_accept) and, after the run, the
//   controller's command log; ICI ports: the router's busy spans and link log (states, credits,
//   resends; kept only when a probe exists), after the run.
// Nothing here changes the model's state or schedule: results, cycles and statistics are those
// of a run without waveforms (test chip_waves). With [waves] off no probe exists.
#pragma once

#include <systemc>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "model/chip/chip_state.h"
#include "model/hbm/types.h"
#include "model/mxu/systolic.h"
#include "model/waves/recorder.h"

namespace mxemu::ici {
class Router;
}

namespace mxemu::chip {

class Engine;
class ChipHbm;

// Small enum signals (values documented in docs/SIM.md).
enum class StallCode : std::uint8_t { kNone = 0, kSemaphore = 1, kPeer = 2 };
enum class ArrayStall : std::uint8_t { kNone = 0, kWaitInput = 1, kWaitWeights = 2 };
enum class BankState : std::uint8_t { kEmpty = 0, kLoading = 1, kLoaded = 2, kReading = 3 };
enum class HbmCmd : std::uint8_t { kNone = 0, kAct = 1, kRd = 2, kWr = 3, kPre = 4, kRef = 5 };

class ChipWaves : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(ChipWaves);
  // scope: the chip's hierarchical name ("pod.chip0"), split at dots into the file's scopes.
  ChipWaves(const sc_core::sc_module_name& name, const std::string& scope, ChipState& state,
            const std::vector<std::unique_ptr<Engine>>& engines, ChipHbm& hbm, ici::Router& router);

  const waves::Recorder& recorder() const { return rec_; }

  // The core's next instruction at `cycle` (at each of its syncs).
  void core_pc(std::uint64_t cycle, std::uint32_t pc);
  // An HBM access accepted by the controller's queue at HBM cycle `accepted`.
  void hbm_accept(std::uint64_t address, hbm::Cycle accepted);
  // MXU `mxu` scheduled a fold: its timing, the tile's K_used x N_used, the end of the previous
  // fold's stream and the MATMUL's dispatch cycle (the stall causes as the statistics count them).
  void mxu_fold(std::uint32_t mxu, const mxu::FoldTiming& t, std::uint32_t k, std::uint32_t n,
                std::uint64_t prev_stream_end, std::uint64_t now);
  // After the run (the chip's last cycle): HBM commands, ICI port spans, the banks' last states.
  void finish(std::uint64_t end_cycle);

 private:
  void poll();
  std::uint64_t to_chip(hbm::Cycle c) const;
  std::vector<std::string> scope(const std::string& unit) const;

  struct EngineSignals {
    const Engine* engine;
    waves::SignalId queue, inflight, busy, stall, op, seq;
  };
  struct MxuSignals {
    waves::SignalId load, stream, rows, cols, stall;
    std::array<waves::SignalId, 2> bank;
    std::array<std::uint64_t, 2> read_done{0, 0};  // pending "loaded" after the last read
    std::array<bool, 2> pending{false, false};
  };

  std::vector<std::string> chip_scope_;
  ChipState& state_;
  ChipHbm& hbm_;
  ici::Router& router_;
  waves::Recorder rec_;
  std::vector<EngineSignals> engines_;
  std::vector<MxuSignals> mxus_;
  std::array<waves::SignalId, regs::kNumSemaphores> sems_{};
  waves::SignalId pc_ = 0;
  struct Accept {
    hbm::Cycle cycle;
    std::uint32_t pc;
  };
  std::vector<Accept> accepts_;
  std::uint32_t rows_ = 0, latency_ = 1;
};

}  // namespace mxemu::chip
