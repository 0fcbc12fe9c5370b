// The Verilated RTL this build can put in the chip's loop (chip::RtlPlugins): the mxu_tile
// shapes of rtl/CMakeLists.txt for [rtl] mxu = "tile", fp8_fused for "datapath", and
// fp8_from_fp32 for [rtl] vpu = "convert".
#pragma once

#include <memory>
#include <string>

#include "model/chip/rtl_plugins.h"

namespace mxemu::rtl {

class VerilatedRtl final : public chip::RtlPlugins {
 public:
  std::unique_ptr<mxu::FoldCheck> mxu_check(const std::string& mode, const mxu::SystolicConfig& cfg,
                                            const std::string& where,
                                            const chip::RtlWaves& waves) const override;
  std::unique_ptr<chip::ConvertCheck> vpu_check(const std::string& mode,
                                                const std::string& where) const override;
  std::string available() const override;
};

}  // namespace mxemu::rtl
