#include "rtl/loop/convert_check.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "Vfp8_cvt_lanes.h"
#include "model/common/error.h"
#include "testbench/cosim/cvt_harness.h"

namespace mxemu::rtl {

ConvertCheckRtl::ConvertCheckRtl(std::string where, std::string origin)
    : where_(std::move(where)),
      origin_(std::move(origin)),
      cvt_(std::make_unique<cosim::Converter<Vfp8_cvt_lanes>>()) {}

ConvertCheckRtl::~ConvertCheckRtl() = default;

std::string ConvertCheckRtl::description() const {
  return fmt::format("Verilated fp8_from_fp32 under every CONVERT element{}", origin_);
}

void ConvertCheckRtl::convert(num::Fp8Format fmt, num::SatMode sat,
                              std::span<const std::uint32_t> in, std::span<const std::uint8_t> out,
                              std::uint64_t row) {
  if (row == 0) ++ops_;
  // The harness's outputs: e4m3 sat, e4m3 nonsat, e5m2 sat, e5m2 nonsat, then UE8M0.
  const std::size_t k =
      (fmt == num::Fp8Format::kE5M2 ? 2 : 0) + (sat == num::SatMode::kNonSat ? 1 : 0);
  std::vector<std::uint32_t> chunk;
  std::vector<cosim::CvtOuts> got;
  for (std::size_t base = 0; base < in.size(); base += cosim::kCvtLanes) {
    const std::size_t n = std::min<std::size_t>(cosim::kCvtLanes, in.size() - base);
    chunk.assign(in.begin() + static_cast<std::ptrdiff_t>(base),
                 in.begin() + static_cast<std::ptrdiff_t>(base + n));
    cvt_->run(chunk, got);
    for (std::size_t l = 0; l < n; ++l) {
      if (got[l][k] == out[base + l]) continue;
      throw Error(ExitCode::kSimFault,
                  fmt::format("RTL mismatch in {} ({}): CONVERT number {} of the run, row {} col "
                              "{}: input 0x{:08x} "
                              "to {}: the model gave 0x{:02x}, the RTL 0x{:02x}",
                              where_, description(), ops_, row, base + l, chunk[l],
                              cosim::kCvtNames[k], out[base + l], got[l][k]));
    }
    checked_ += n;
  }
}

}  // namespace mxemu::rtl
