// The vector unit behind its queue (VPU_OP): elementwise operations (with broadcast operands),
// row/column reductions, exp, divide, rsqrt, activations, an online-softmax step, conversions and
// MX quantisation over a rows x cols region of VMEM or an accumulator (docs/VPU.md). Arithmetic
// is model/vpu; timing: latency_cycles + for each group of `lanes` elements of a row, the VMEM
// bank cycles of its accesses x the function's cycles per group ([vpu] exp_cycles, div_cycles,
// activation_cycles, gelu_erf_cycles), + reduce_latency_cycles per reduction.
// With [rtl] vpu = "convert", CONVERT's FP8 codes are also checked by Verilated RTL (a
// ConvertCheck from the chip's RtlPlugins).
#pragma once

#include <memory>

#include "model/chip/engine.h"
#include "model/chip/rtl_plugins.h"

namespace mxemu::chip {

class VpuEngine : public Engine {
 public:
  VpuEngine(const sc_core::sc_module_name& name, ChipState& state);
  std::uint64_t elements() const { return elements_; }

 protected:
  Timing execute(const Desc& d, std::uint64_t now) override;
  std::string op_name(std::uint32_t opcode) const override;
  std::string slice_name(const Desc& d) const override;
  void extra_stats(nlohmann::json& j) const override;

 private:
  std::uint64_t elements_ = 0;
  std::unique_ptr<ConvertCheck> rtl_;  // RTL in the loop ([rtl] vpu), or none
};

}  // namespace mxemu::chip
