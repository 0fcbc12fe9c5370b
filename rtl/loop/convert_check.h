// The converter RTL under the VPU's CONVERT and MX_QUANT ([rtl] vpu = "convert"): every FP32 ->
// E4M3 / E5M2 element the model converted is converted again by the Verilated
// rtl/fp8/fp8_from_fp32.sv, and every MX_QUANT block scale comes again from
// rtl/fp8/ue8m0_from_fp32.sv (both in the 32-lane harness fp8_cvt_lanes, which converts to every
// format and mode at once), and the codes are compared. No clock: the VPU's cycles are the
// model's.
//
// MX_QUANT as the scale unit computes it (docs/RTL.md): amax, the block's largest magnitude (a
// max tree; the first non-finite element instead if there is one), goes through ue8m0_from_fp32
// toward zero, not saturating (the exponent field: floor(log2 amax) + 127, NaN and Inf 0xFF); the
// unit subtracts the element format's emax and clamps to 0x00 .. 0xFE (2^-127 .. 2^127); an
// all-zero block takes 0x7F (2^0). Each element x then goes through fp8_from_fp32 satfinite as
// x * 2^-scale (exact in FP32 but where the product is below 2^-126, which every FP8 format
// encodes as a signed zero either way).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

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
  void mx_quant(num::Fp8Format elem, std::uint32_t block, std::span<const std::uint32_t> in,
                std::span<const std::uint8_t> codes, std::span<const std::uint8_t> scales,
                std::uint64_t row) override;
  std::uint64_t conversions_checked() const override { return checked_; }
  std::string description() const override;

 private:
  std::string where_;
  std::string origin_;  // appended to description()
  // Converts `in` through the RTL, kCvtLanes at a time, into got_.
  void run(std::span<const std::uint32_t> in);

  std::unique_ptr<cosim::Converter<Vfp8_cvt_lanes>> cvt_;
  std::vector<std::array<std::uint8_t, 8>> got_;  // cosim::CvtOuts per input
  std::uint64_t ops_ = 0, quants_ = 0, checked_ = 0;
};

}  // namespace mxemu::rtl
