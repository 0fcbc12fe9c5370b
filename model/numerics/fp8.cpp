#include "model/numerics/fp8.h"

#include <cmath>
#include <limits>

namespace mxemu::num {

std::optional<Fp8Format> parse_format(std::string_view name) {
  if (name == "e4m3" || name == "E4M3") return Fp8Format::kE4M3;
  if (name == "e5m2" || name == "E5M2") return Fp8Format::kE5M2;
  return std::nullopt;
}

bool is_nan(Fp8Format f, std::uint8_t code) {
  const std::uint8_t mag = code & 0x7F;
  return f == Fp8Format::kE4M3 ? mag == 0x7F : mag > 0x7C;
}

bool is_inf(Fp8Format f, std::uint8_t code) {
  return f == Fp8Format::kE5M2 && (code & 0x7F) == 0x7C;
}

Fp8Exact decode_exact(Fp8Format f, std::uint8_t code) {
  const FormatInfo fi = format_info(f);
  const bool sign = (code & 0x80) != 0;
  const std::uint32_t mag = code & 0x7Fu;
  const std::uint32_t e = mag >> fi.man_bits;
  const std::uint32_t m = mag & ((1u << fi.man_bits) - 1u);
  if (e == 0) return {sign, m, fi.emin - fi.man_bits};  // subnormal or zero
  return {sign, m | (1u << fi.man_bits), static_cast<int>(e) - fi.bias - fi.man_bits};
}

float decode(Fp8Format f, std::uint8_t code) {
  if (is_nan(f, code)) return f32_from_bits(kCanonicalNanBits);
  const bool neg = (code & 0x80) != 0;
  if (is_inf(f, code)) {
    return neg ? -std::numeric_limits<float>::infinity() : std::numeric_limits<float>::infinity();
  }
  const Fp8Exact x = decode_exact(f, code);
  const float v = std::ldexp(static_cast<float>(x.sig), x.exp);  // exact: within FP32 normals
  return neg ? -v : v;
}

float decode_ue8m0(std::uint8_t code) {
  if (code == kUe8m0Nan) return f32_from_bits(kCanonicalNanBits);
  if (code == 0) return f32_from_bits(0x00400000u);  // 2^-127, an FP32 subnormal
  return f32_from_bits(static_cast<std::uint32_t>(code) << 23);
}

namespace {

// Round (-1)^sign * sig * 2^p (sig < 2^24, exact) to FP8 with RNE and the given overflow mode.
std::uint8_t encode_exact(Fp8Format f, bool sign, std::uint32_t sig, int p, SatMode mode) {
  const FormatInfo fi = format_info(f);
  const std::uint8_t sign_bit = sign ? 0x80 : 0x00;
  if (sig == 0) return sign_bit;
  const int top = p + 31 - std::countl_zero(sig);  // exponent of the leading bit
  // Exponent of the result's last mantissa bit (quantum): subnormals share the smallest one.
  const int q = (top > fi.emin ? top : fi.emin) - fi.man_bits;
  std::uint64_t rounded = 0;
  const int shift = q - p;
  if (shift <= 0) {
    rounded = static_cast<std::uint64_t>(sig) << -shift;  // exact (cannot happen for FP32 inputs)
  } else if (shift < 40) {
    const std::uint64_t s = sig;
    rounded = s >> shift;
    const std::uint64_t rem = s & ((std::uint64_t{1} << shift) - 1);
    const std::uint64_t half = std::uint64_t{1} << (shift - 1);
    if (rem > half || (rem == half && (rounded & 1u) != 0)) ++rounded;
  }  // else: far below half the smallest subnormal -> rounds to zero
  // Exponent field and mantissa in one add: a mantissa carry rolls into the exponent.
  const std::uint64_t code =
      (static_cast<std::uint64_t>(q + fi.man_bits - fi.emin) << fi.man_bits) + rounded;
  if (rounded == 0) return sign_bit;
  if (code > fi.max_finite_code) {
    return sign_bit | (mode == SatMode::kSatFinite ? fi.max_finite_code : fi.overflow_code);
  }
  return sign_bit | static_cast<std::uint8_t>(code);
}

// Split finite FP32 bits into sign, integer significand and exponent of its last bit.
void split_f32(std::uint32_t bits, bool& sign, std::uint32_t& sig, int& p) {
  sign = (bits >> 31) != 0;
  const std::uint32_t e = (bits >> 23) & 0xFFu;
  const std::uint32_t m = bits & 0x7FFFFFu;
  if (e == 0) {
    sig = m;
    p = -149;
  } else {
    sig = m | 0x800000u;
    p = static_cast<int>(e) - 150;
  }
}

}  // namespace

std::uint8_t encode_scaled(Fp8Format f, float x, int scale_exp, SatMode mode) {
  const FormatInfo fi = format_info(f);
  const std::uint32_t bits = f32_bits(x);
  const std::uint32_t abs = bits & 0x7FFFFFFFu;
  const std::uint8_t sign_bit = (bits >> 31) != 0 ? 0x80 : 0x00;
  if (abs > 0x7F800000u) return fi.nan_code;  // NaN: one canonical code, sign dropped
  if (abs == 0x7F800000u) {
    return sign_bit | (mode == SatMode::kSatFinite ? fi.max_finite_code : fi.overflow_code);
  }
  bool sign = false;
  std::uint32_t sig = 0;
  int p = 0;
  split_f32(bits, sign, sig, p);
  return encode_exact(f, sign, sig, p - scale_exp, mode);
}

std::uint8_t encode(Fp8Format f, float x, SatMode mode) {
  return encode_scaled(f, x, 0, mode);
}

std::uint8_t encode_ue8m0(float x, Ue8m0Round round, bool saturate) {
  const std::uint32_t abs = f32_bits(x) & 0x7FFFFFFFu;
  if (abs > 0x7F800000u) return kUe8m0Nan;
  if (abs == 0x7F800000u) return saturate ? 0xFE : kUe8m0Nan;
  const std::uint32_t e = abs >> 23;
  const std::uint32_t m = abs & 0x7FFFFFu;
  if (e == 0) {
    // Subnormal or zero: code 0x00 is 2^-127 (= mantissa 0x400000). Toward zero clamps to it.
    return (round == Ue8m0Round::kUp && m > 0x400000u) ? 0x01 : 0x00;
  }
  std::uint32_t code = e;
  if (round == Ue8m0Round::kUp && m != 0) ++code;
  if (code > 0xFEu) return saturate ? 0xFE : kUe8m0Nan;
  return static_cast<std::uint8_t>(code);
}

}  // namespace mxemu::num
