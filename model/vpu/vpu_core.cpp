#include "model/vpu/vpu_core.h"

#include <bit>
#include <cmath>
#include <limits>

namespace mxemu::vpu {

namespace {
constexpr float kLog2e = 1.44269504088896341F;
// ln 2 split so that n * kLn2Hi is exact for |n| < 2^9 (kLn2Hi has 9 trailing zero bits).
constexpr float kLn2Hi = 0.693145752F;
constexpr float kLn2Lo = 1.42860677e-06F;
constexpr float kExpOverflow = 88.7228394F;    // above: +Inf
constexpr float kExpUnderflow = -103.972084F;  // below: +0
}  // namespace

float exp_f32(float x) {
  if (std::isnan(x)) return std::bit_cast<float>(num::kCanonicalNanBits);
  if (x > kExpOverflow) return std::numeric_limits<float>::infinity();
  if (x < kExpUnderflow) return 0.0F;
  const float n = std::nearbyint(x * kLog2e);
  const float r = std::fma(-n, kLn2Lo, std::fma(-n, kLn2Hi, x));  // |r| <= ~0.347
  // Taylor coefficients 1/k! for k = 7..0 (Horner with FMA); truncation < 2^-27 relative.
  float p = 1.98412698e-4F;
  p = std::fma(p, r, 1.38888889e-3F);
  p = std::fma(p, r, 8.33333377e-3F);
  p = std::fma(p, r, 4.16666679e-2F);
  p = std::fma(p, r, 1.66666672e-1F);
  p = std::fma(p, r, 0.5F);
  p = std::fma(p, r, 1.0F);
  p = std::fma(p, r, 1.0F);
  // p * 2^n in two exact steps where possible (n may be below -126).
  const int ni = static_cast<int>(n);
  if (ni < -120) return std::ldexp(std::ldexp(p, -120), ni + 120);
  return std::ldexp(p, ni);
}

std::uint16_t to_bf16(float x) {
  const auto b = std::bit_cast<std::uint32_t>(x);
  if ((b & 0x7FFFFFFFu) > 0x7F800000u) return 0x7FC0;
  const std::uint32_t rounded = b + 0x7FFFu + ((b >> 16) & 1u);
  return static_cast<std::uint16_t>(rounded >> 16);
}

float sum_ordered(std::span<const float> v) {
  float s = 0.0F;
  for (const float x : v) s += x;
  return s;
}

float max_nan(float a, float b) {
  if (std::isnan(a) || std::isnan(b)) return std::bit_cast<float>(num::kCanonicalNanBits);
  return a > b ? a : (b > a ? b : (std::signbit(a) ? b : a));  // max(+0, -0) = +0
}

}  // namespace mxemu::vpu
