// The FP8 datapath RTL under every MAC of the chip's MXU folds ([rtl] mxu = "datapath"): each
// output C[i][n] of a fold is recomputed as the chain acc = fused(acc, A[i][k], W[k][n], sA, sB),
// k = 0..R-1 from the partial sum that entered the column, with every step evaluated by the
// Verilated rtl/fp8/fp8_fused.sv (the 32-lane harness fp8_fused_lanes, one output per lane), and
// compared bit for bit with the model's output. No clock: the cycles are the model's (the "tile"
// mode checks those); any array size works, the full-size 128 x 128 MXU included.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "model/mxu/fold_check.h"
#include "model/mxu/systolic.h"

class Vfp8_fused_lanes;
class VerilatedContext;

namespace mxemu::rtl {

class DatapathCheck final : public mxu::FoldCheck {
 public:
  DatapathCheck(const mxu::SystolicConfig& cfg, std::string where, std::string origin = "");
  ~DatapathCheck() override;
  DatapathCheck(const DatapathCheck&) = delete;
  DatapathCheck& operator=(const DatapathCheck&) = delete;

  void fold(const mxu::FoldSpec& f, const mxu::FoldTiming& t, std::span<const float> out,
            std::uint64_t now) override;
  void drain() override {}
  std::uint64_t outputs_checked() const override { return outputs_; }
  std::uint64_t macs_checked() const override { return macs_; }
  std::uint64_t cycles_evaluated() const override { return 0; }
  std::string description() const override;

 private:
  mxu::SystolicConfig cfg_;
  std::string where_;
  std::string origin_;  // appended to description()
  std::unique_ptr<VerilatedContext> ctx_;
  std::unique_ptr<Vfp8_fused_lanes> top_;
  std::uint64_t folds_ = 0, outputs_ = 0, macs_ = 0;
};

}  // namespace mxemu::rtl
