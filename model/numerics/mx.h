// MX block quantisation (OCP MX v1.0): FP32 blocks -> one UE8M0 scale + FP8 elements per block.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "model/numerics/fp8.h"

namespace mxemu::num {

// How a block's shared scale derives from its largest magnitude amax.
// kFloor: OCP, X = 2^(floor(log2 amax) - emax_elem) (may clip the largest elements to max finite).
// kCeil: the smallest power of two with amax / X <= max finite (never clips).
enum class MxScaleMode : std::uint8_t { kFloor, kCeil };

inline constexpr int kDefaultMxBlock = 32;

// Shared scale code for one block. NaN or Inf anywhere in the block -> 0xFF (NaN block); amax == 0
// -> 127 (2^0); otherwise the exponent is clamped to the UE8M0 range [2^-127, 2^127].
std::uint8_t mx_block_scale(std::span<const float> block, Fp8Format elem, MxScaleMode mode);

// Quantise `values` (rows x cols, row-major) in blocks of `block` consecutive elements along each
// row (cols must be a multiple of block). Writes rows x cols codes and rows x (cols/block) scales.
// Elements convert with a single RNE rounding of V / X, satfinite (a NaN scale gives NaN
// elements' codes only where the element itself is NaN; the block decodes as NaN via its scale).
void mx_quantize(std::span<const float> values, std::size_t rows, std::size_t cols, int block,
                 Fp8Format elem, MxScaleMode mode, std::span<std::uint8_t> codes,
                 std::span<std::uint8_t> scales);

}  // namespace mxemu::num
