// The vector unit's arithmetic (plain C++, no SystemC): elementwise FP32 operations, row and column
// reductions, exp with a documented error bound, and conversions (FP32 -> E4M3/E5M2/BF16, MX block
// quantisation). Every operation is IEEE FP32 with round-to-nearest-even per operation, in a fixed
// order, so results are deterministic and host-independent. Timing lives in the engine shell.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "model/numerics/fp8.h"
#include "model/numerics/mx.h"

namespace mxemu::vpu {

// exp(x) in FP32 from range reduction and a degree-7 polynomial (FMA only, no libm): at most
// kExpMaxUlp ulp from the correctly rounded exp for results in the FP32 normal range; results in
// the subnormal range are within 1 ulp of the subnormal grid plus that error; x > 88.72284 gives
// +Inf, x < -103.97208 gives +0, NaN gives the canonical NaN.
inline constexpr int kExpMaxUlp = 2;
float exp_f32(float x);

// FP32 -> BF16 bit pattern, round to nearest even; NaN -> 0x7FC0.
std::uint16_t to_bf16(float x);

// Reductions over a row-major rows x cols matrix with row stride `ld` elements. Sums run in
// increasing index order with one rounding per addition (documented order = reproducible result).
// max follows IEEE maxNum except that any NaN input gives NaN.
float sum_ordered(std::span<const float> v);
float max_nan(float a, float b);

}  // namespace mxemu::vpu
