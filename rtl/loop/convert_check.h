// The converter RTL under the VPU's CONVERT ([rtl] vpu = "convert"): every FP32 -> E4M3 / E5M2
// element the model converted is converted again by the Verilated rtl/fp8/fp8_from_fp32.sv (the
// 32-lane harness fp8_cvt_lanes, which converts to every format and mode at once) and the codes
// are compared. No clock: the VPU's cycles are the model's.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "model/chip/rtl_plugins.h"

class Vfp8_cvt_lanes;

namespace mxemu::cosim {
template <typename Top>
class Converter;
}

namespace mxemu::rtl {

class ConvertCheckRtl final : public chip::ConvertCheck {
 public:
  ConvertCheckRtl(std::string where, std::string origin = "");
  ~ConvertCheckRtl() override;
  ConvertCheckRtl(const ConvertCheckRtl&) = delete;
  ConvertCheckRtl& operator=(const ConvertCheckRtl&) = delete;

  void convert(num::Fp8Format fmt, num::SatMode sat, std::span<const std::uint32_t> in,
               std::span<const std::uint8_t> out, std::uint64_t row) override;
  std::uint64_t conversions_checked() const override { return checked_; }
  std::string description() const override;

 private:
  std::string where_;
  std::string origin_;  // appended to description()
  std::unique_ptr<cosim::Converter<Vfp8_cvt_lanes>> cvt_;
  std::uint64_t ops_ = 0, checked_ = 0;
};

}  // namespace mxemu::rtl
