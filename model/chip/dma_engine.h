// DMA: 3-D strided copies between VMEM, the MXUs' accumulators and HBM (DMA_COPY).
// Timing: setup_cycles, then the transfer: on-chip bandwidth bytes_per_cycle, and for HBM the
// HBM controller's timing of the request stream (hbm_request_bytes each, paced at the DMA's
// bandwidth). A descriptor completes when its last byte lands; the next dispatches after that.
#pragma once

#include "model/chip/engine.h"

namespace mxemu::chip {

class DmaEngine : public Engine {
 public:
  DmaEngine(const sc_core::sc_module_name& name, ChipState& state);
  std::uint64_t bytes_moved() const { return bytes_moved_; }

 protected:
  Timing execute(const Desc& d, std::uint64_t now) override;
  std::string op_name(std::uint32_t opcode) const override;
  std::string slice_name(const Desc& d) const override;
  void extra_stats(nlohmann::json& j) const override { j["bytes"] = bytes_moved_; }

 private:
  std::uint64_t bytes_moved_ = 0;
  std::vector<std::uint8_t> buf_;
  std::vector<std::uint64_t> addrs_;
};

}  // namespace mxemu::chip
