#include "rtl/loop/convert_check.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <utility>
#include <vector>

#include "Vfp8_cvt_lanes.h"
#include "model/common/error.h"
#include "model/numerics/fp8.h"
#include "testbench/cosim/cvt_harness.h"

namespace mxemu::rtl {

ConvertCheckRtl::ConvertCheckRtl(std::string where, std::string origin)
    : where_(std::move(where)),
      origin_(std::move(origin)),
      cvt_(std::make_unique<cosim::Converter<Vfp8_cvt_lanes>>()) {}

ConvertCheckRtl::~ConvertCheckRtl() = default;

std::string ConvertCheckRtl::description() const {
  return fmt::format(
      "Verilated fp8_from_fp32 under every CONVERT and MX_QUANT element, ue8m0_from_fp32 under "
      "every MX_QUANT scale{}",
      origin_);
}

namespace {

// The harness's outputs: e4m3 sat, e4m3 nonsat, e5m2 sat, e5m2 nonsat, then UE8M0.
std::size_t cvt_index(num::Fp8Format fmt, num::SatMode sat) {
  return (fmt == num::Fp8Format::kE5M2 ? 2 : 0) + (sat == num::SatMode::kNonSat ? 1 : 0);
}

}  // namespace

void ConvertCheckRtl::run(std::span<const std::uint32_t> in) {
  static_assert(std::is_same_v<cosim::CvtOuts, std::array<std::uint8_t, 8>>);
  got_.resize(in.size());
  std::vector<std::uint32_t> chunk;
  std::vector<cosim::CvtOuts> lanes;
  for (std::size_t base = 0; base < in.size(); base += cosim::kCvtLanes) {
    const std::size_t n = std::min<std::size_t>(cosim::kCvtLanes, in.size() - base);
    chunk.assign(in.begin() + static_cast<std::ptrdiff_t>(base),
                 in.begin() + static_cast<std::ptrdiff_t>(base + n));
    cvt_->run(chunk, lanes);
    std::copy_n(lanes.begin(), n, got_.begin() + static_cast<std::ptrdiff_t>(base));
  }
}

void ConvertCheckRtl::convert(num::Fp8Format fmt, num::SatMode sat,
                              std::span<const std::uint32_t> in, std::span<const std::uint8_t> out,
                              std::uint64_t row) {
  if (row == 0) ++ops_;
  const std::size_t k = cvt_index(fmt, sat);
  run(in);
  for (std::size_t c = 0; c < in.size(); ++c) {
    if (got_[c][k] == out[c]) continue;
    throw Error(ExitCode::kSimFault,
                fmt::format("RTL mismatch in {} ({}): CONVERT number {} of the run, row {} col "
                            "{}: input 0x{:08x} to {}: the model gave 0x{:02x}, the RTL 0x{:02x}",
                            where_, description(), ops_, row, c, in[c], cosim::kCvtNames[k], out[c],
                            got_[c][k]));
  }
  checked_ += in.size();
}

void ConvertCheckRtl::mx_quant(num::Fp8Format elem, std::uint32_t block,
                               std::span<const std::uint32_t> in,
                               std::span<const std::uint8_t> codes,
                               std::span<const std::uint8_t> scales, std::uint64_t row) {
  if (row == 0) ++quants_;
  constexpr std::size_t kUe8m0RzNonsat = 5;  // kCvtNames
  constexpr std::uint32_t kMag = 0x7FFFFFFFU, kInf = 0x7F800000U;
  const std::size_t blocks = in.size() / block;
  // The block scales: amax through ue8m0_from_fp32, then the unit's emax subtraction and clamp.
  std::vector<std::uint32_t> amax(blocks, 0);
  for (std::size_t j = 0; j < blocks; ++j) {
    for (std::size_t i = 0; i < block; ++i) {
      const std::uint32_t m = in[j * block + i] & kMag;
      if (m >= kInf) {  // NaN or Inf: the block's scale is NaN
        amax[j] = m;
        break;
      }
      amax[j] = std::max(amax[j], m);  // magnitudes of finite floats order as integers
    }
  }
  run(amax);
  const int emax = num::format_info(elem).emax;
  std::vector<int> scale_exp(blocks, 0);
  for (std::size_t j = 0; j < blocks; ++j) {
    const std::uint8_t e = got_[j][kUe8m0RzNonsat];
    std::uint8_t want = num::kUnitScaleCode;
    if (e == num::kUe8m0Nan) {
      want = num::kUe8m0Nan;
    } else if (amax[j] != 0) {
      want = static_cast<std::uint8_t>(std::clamp(int{e} - emax, 0, 254));
    }
    if (want != scales[j]) {
      throw Error(ExitCode::kSimFault,
                  fmt::format("RTL mismatch in {} ({}): MX_QUANT number {} of the run, row {} "
                              "block {} ({} elements from col {}, {}): amax 0x{:08x}, "
                              "ue8m0_from_fp32 0x{:02x}: the model's scale 0x{:02x}, the RTL's "
                              "0x{:02x}",
                              where_, description(), quants_, row, j, block, j * block,
                              num::format_name(elem), amax[j], e, scales[j], want));
    }
    scale_exp[j] = want == num::kUe8m0Nan ? 0 : int{want} - num::kUe8m0Bias;
  }
  // The elements, scaled by 2^-scale, through fp8_from_fp32 satfinite.
  std::vector<std::uint32_t> scaled(in.size());
  for (std::size_t c = 0; c < in.size(); ++c) {
    const float x = num::f32_from_bits(in[c]);
    scaled[c] = num::f32_bits(std::ldexp(x, -scale_exp[c / block]));
  }
  run(scaled);
  const std::size_t k = cvt_index(elem, num::SatMode::kSatFinite);
  for (std::size_t c = 0; c < in.size(); ++c) {
    if (got_[c][k] == codes[c]) continue;
    throw Error(ExitCode::kSimFault,
                fmt::format("RTL mismatch in {} ({}): MX_QUANT number {} of the run, row {} col "
                            "{}: input 0x{:08x}, scale 2^{} (0x{:08x} scaled), to {}: the model "
                            "gave 0x{:02x}, the RTL 0x{:02x}",
                            where_, description(), quants_, row, c, in[c], scale_exp[c / block],
                            scaled[c], cosim::kCvtNames[k], codes[c], got_[c][k]));
  }
  checked_ += in.size() + blocks;
}

}  // namespace mxemu::rtl
