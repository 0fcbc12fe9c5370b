// An MXU engine: the systolic array of model/mxu behind a descriptor queue.
// MXU_LOAD_W reads a K x N weight tile (and its scales) from VMEM into the engine's weight staging,
// one row per cycle; MXU_MATMUL streams M activation rows through the most recently loaded tile
// and accumulates into this MXU's accumulators. Array timing (weight double-buffering, skew,
// drain) is model/mxu's FoldScheduler (docs/TIMING.md); values come from its fast path, or, with
// [mxu] cycle_accurate, from the cycle-stepped array, which must agree in values and cycles.
// With [rtl] mxu = "tile" or "datapath", every fold also runs through Verilated RTL (a
// mxu::FoldCheck from the chip's RtlPlugins) that checks the model's outputs bit for bit.
#pragma once

#include <memory>

#include "model/chip/engine.h"
#include "model/mxu/fold_check.h"
#include "model/mxu/systolic.h"

namespace mxemu::chip {

class MxuEngine : public Engine {
 public:
  MxuEngine(const sc_core::sc_module_name& name, ChipState& state, std::uint32_t index);
  std::uint64_t macs() const { return macs_; }  // useful MACs (K_used x N_used per row)
  std::uint64_t stream_cycles() const { return stream_cycles_; }  // array busy streaming
  std::uint64_t last_out_cycle() const { return last_out_; }
  void end_checks() override;

 protected:
  Timing execute(const Desc& d, std::uint64_t now) override;
  std::string op_name(std::uint32_t opcode) const override;
  std::string slice_name(const Desc& d) const override;
  void extra_stats(nlohmann::json& j) const override;

 private:
  Timing load_weights(const Desc& d, std::uint64_t now);
  Timing matmul(const Desc& d, std::uint64_t now);

  std::uint32_t index_;
  mxu::SystolicConfig sys_cfg_;
  mxu::SystolicCore core_;
  std::unique_ptr<mxu::FoldCheck> rtl_;  // RTL in the loop ([rtl] mxu), or none
  // The staged weight tile, padded to rows x cols (zeros outside K_used x N_used).
  struct Staged {
    bool valid = false;
    num::Fp8Format fmt = num::Fp8Format::kE4M3;
    std::uint32_t k = 0, n = 0;
    bool scaled = false;
    std::uint32_t block = 0;
    std::vector<std::uint8_t> w, ws;
    std::uint64_t ready_cycle = 0;  // first cycle the array may start loading it
  } staged_;
  std::uint64_t staging_free_ = 0;  // first cycle the staging may be refilled
  std::uint64_t stream_end_ = 0;    // end of the previous fold's activation stream
  std::uint64_t last_out_ = 0;
  std::uint64_t macs_ = 0;
  std::uint64_t stream_cycles_ = 0;
  std::vector<std::uint8_t> a_, sa_;
  std::vector<float> psum_, out_;
};

}  // namespace mxemu::chip
