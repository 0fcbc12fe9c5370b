// The MXU's fused step (DESIGN §3): acc + a*b*2^(sa+sb-254), the product and scaling exact, one
// round-to-nearest-even into FP32 with gradual underflow, overflow to +-Inf, and the NaN rules.
#pragma once

#include <cstdint>

#include "model/numerics/fp8.h"

namespace mxemu::num {

constexpr std::uint8_t kUnitScale = kUnitScaleCode;

// Bit-exact reference. acc_bits and the result are FP32 bit patterns; a NaN result is always
// kCanonicalNanBits.
std::uint32_t fused_step_bits(std::uint32_t acc_bits, Fp8Format fa, std::uint8_t a, Fp8Format fb,
                              std::uint8_t b, std::uint8_t sa = kUnitScale,
                              std::uint8_t sb = kUnitScale);

inline float fused_step(float acc, Fp8Format fa, std::uint8_t a, Fp8Format fb, std::uint8_t b,
                        std::uint8_t sa = kUnitScale, std::uint8_t sb = kUnitScale) {
  return f32_from_bits(fused_step_bits(f32_bits(acc), fa, a, fb, b, sa, sb));
}

// Rounds (-1)^sign * (mag + s) * 2^exp to FP32 (RNE), where s is 0 if !sticky and some value in
// (0, 1) otherwise. The building block of the fused step, exposed for the vector unit and tests.
// Requires: if sticky, mag has at least 26 significant bits above the FP32 rounding point.
std::uint32_t round_to_f32_bits(bool sign, std::uint64_t mag, int exp, bool sticky);

}  // namespace mxemu::num
