#include "model/numerics/mx.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace mxemu::num {

std::uint8_t mx_block_scale(std::span<const float> block, Fp8Format elem, MxScaleMode mode) {
  float amax = 0.0F;
  for (const float v : block) {
    if (!std::isfinite(v)) return kUe8m0Nan;
    amax = std::fmax(amax, std::fabs(v));
  }
  if (amax == 0.0F) return kUnitScaleCode;
  const FormatInfo fi = format_info(elem);
  int e = std::ilogb(amax) - fi.emax;  // floor(log2 amax) - emax, exact (subnormals included)
  if (mode == MxScaleMode::kCeil) {
    // amax <= max_finite * 2^e ? Both sides are exact in double.
    const auto max_finite = static_cast<double>(decode(elem, fi.max_finite_code));
    if (static_cast<double>(amax) > std::ldexp(max_finite, e)) ++e;
  }
  if (e < -kUe8m0Bias) e = -kUe8m0Bias;
  if (e > kUe8m0Bias) e = kUe8m0Bias;
  return static_cast<std::uint8_t>(e + kUe8m0Bias);
}

void mx_quantize(std::span<const float> values, std::size_t rows, std::size_t cols, int block,
                 Fp8Format elem, MxScaleMode mode, std::span<std::uint8_t> codes,
                 std::span<std::uint8_t> scales) {
  if (block <= 0 || cols % static_cast<std::size_t>(block) != 0) {
    throw std::invalid_argument("mx_quantize: cols (" + std::to_string(cols) +
                                ") is not a multiple of the block (" + std::to_string(block) + ")");
  }
  const std::size_t nb = cols / static_cast<std::size_t>(block);
  if (values.size() < rows * cols || codes.size() < rows * cols || scales.size() < rows * nb) {
    throw std::invalid_argument("mx_quantize: buffer smaller than rows x cols");
  }
  const auto bs = static_cast<std::size_t>(block);
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t j = 0; j < nb; ++j) {
      const std::span<const float> blk = values.subspan(r * cols + j * bs, bs);
      const std::uint8_t s = mx_block_scale(blk, elem, mode);
      scales[r * nb + j] = s;
      const int scale_exp = s == kUe8m0Nan ? 0 : static_cast<int>(s) - kUe8m0Bias;
      for (std::size_t i = 0; i < bs; ++i) {
        codes[r * cols + j * bs + i] = encode_scaled(elem, blk[i], scale_exp, SatMode::kSatFinite);
      }
    }
  }
}

}  // namespace mxemu::num
