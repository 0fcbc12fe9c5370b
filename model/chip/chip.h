// The chip of DESIGN §2, assembled: control core (model/core) with the accelerator MMIO window,
// DMA, VPU and N MXU engines sharing VMEM, accumulators, semaphores and HBM (model/hbm).
// Instantiation and binding only; the engines and memories live in their own files.
#pragma once

#include <systemc>

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "model/chip/accel_mmio.h"
#include "model/chip/chip_config.h"
#include "model/chip/dma_engine.h"
#include "model/chip/hbm_backend.h"
#include "model/chip/mxu_engine.h"
#include "model/chip/vpu_engine.h"
#include "model/core/config.h"
#include "model/core/core_module.h"
#include "model/core/machine.h"
#include "model/hbm/config.h"

namespace mxemu::chip {

struct ChipRunOptions {
  std::string firmware;     // ELF path
  std::string config_path;  // TOML ("" = embedded mx1)
  std::uint64_t max_cycles = 20'000'000'000ull;
  bool fast = true;  // false: cycle-by-cycle (core lock-step, stepped MXU)
  bool record_timeline = false;
  std::function<void(char)> console_sink;
};

struct ChipRunReport {
  int exit_code = 0;
  std::uint64_t total_cycles = 0;
  std::string console;
  nlohmann::json stats;
  std::vector<TimelineEvent> timeline;
  double host_seconds = 0;
};

class Chip {
 public:
  // Must be constructed inside a fresh SystemC context (sc_main or a test's sc_simcontext).
  Chip(const ChipConfig& chip, const core::CoreConfig& core, const hbm::HbmConfig& hbm,
       std::uint64_t max_cycles);
  Chip(const Chip&) = delete;
  Chip& operator=(const Chip&) = delete;

  // Elaborates the core's SystemC shell, optionally under a debugger (the GDB stub). Call once,
  // after the firmware is loaded and before run().
  void attach_core(core::DebugAgent* debugger = nullptr);

  ChipState& state() { return state_; }
  ChipHbm& hbm() { return *hbm_; }
  core::Machine& machine() { return machine_; }
  const ChipConfig& config() const { return cfg_; }

  // Runs to the firmware's exit. Throws mxemu::Error: an engine fault or a deadlock (3, naming the
  // queue, descriptor and cycle), a core fault (3), the cycle limit (4). A run the debugger
  // killed returns 0 with killed() set.
  int run();
  bool killed() const { return core_ && core_->killed(); }
  std::uint64_t cycles() const;
  nlohmann::json stats() const;
  std::string timeline_json() const;  // Chrome / Perfetto trace-event JSON

 private:
  std::string deadlock_report() const;

  ChipConfig cfg_;
  std::unique_ptr<ChipHbm> hbm_;
  ChipState state_;
  core::Machine machine_;
  std::unique_ptr<DmaEngine> dma_;
  std::unique_ptr<VpuEngine> vpu_;
  std::vector<std::unique_ptr<MxuEngine>> mxus_;
  std::unique_ptr<AccelMmio> mmio_;
  std::unique_ptr<core::CoreModule> core_;
  std::uint64_t max_cycles_;
};

// Loads all three configs from one TOML file ("" = defaults): the chip's own tables, [core] and
// [hbm].
struct AllConfigs {
  ChipConfig chip;
  core::CoreConfig core;
  hbm::HbmConfig hbm;
};
AllConfigs load_all_configs(const std::string& path);

}  // namespace mxemu::chip
