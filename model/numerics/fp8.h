// FP8 (OCP OFP8 E4M3 / E5M2) and UE8M0 (OCP MX scale) formats: decode and conversions from FP32.
// This is the reference every other part of mxemu (MXU model, vector unit, RTL) is checked
// against; the contract is DESIGN §3 and docs/NUMERICS.md. Plain C++, no SystemC.
#pragma once

#include <bit>
#include <cstdint>
#include <optional>
#include <string_view>

namespace mxemu::num {

enum class Fp8Format : std::uint8_t { kE4M3, kE5M2 };

// FP32 -> FP8 overflow handling. kSatFinite: overflow and +-Inf go to +-max finite.
// kNonSat: overflow (and +-Inf) go to E4M3 S.1111.111 (NaN) / E5M2 +-Inf.
enum class SatMode : std::uint8_t { kSatFinite, kNonSat };

// FP32 -> UE8M0 rounding: toward zero, or up (toward +Inf on the magnitude).
enum class Ue8m0Round : std::uint8_t { kTowardZero, kUp };

// A format as a typed table row (cvfpu style): everything else derives from these fields.
struct FormatInfo {
  int exp_bits;
  int man_bits;
  int bias;
  std::uint8_t max_finite_code;  // largest positive finite code
  std::uint8_t nan_code;         // canonical NaN produced by conversions
  std::uint8_t overflow_code;    // nonsat overflow code (before the sign bit): NaN or Inf
  int emax;                      // unbiased exponent of the largest finite value
  int emin;                      // unbiased exponent of the smallest normal value (1 - bias)
};

constexpr FormatInfo format_info(Fp8Format f) {
  return f == Fp8Format::kE4M3 ? FormatInfo{4, 3, 7, 0x7E, 0x7F, 0x7F, 8, -6}
                               : FormatInfo{5, 2, 15, 0x7B, 0x7F, 0x7C, 15, -14};
}

constexpr std::string_view format_name(Fp8Format f) {
  return f == Fp8Format::kE4M3 ? "e4m3" : "e5m2";
}
std::optional<Fp8Format> parse_format(std::string_view name);  // "e4m3" / "e5m2"

constexpr std::uint32_t kCanonicalNanBits = 0x7FC00000u;  // NaN produced by arithmetic
constexpr std::uint8_t kUe8m0Nan = 0xFF;
constexpr int kUe8m0Bias = 127;
constexpr std::uint8_t kUnitScaleCode = 127;  // UE8M0 code of 2^0 ("no scales")

inline std::uint32_t f32_bits(float x) {
  return std::bit_cast<std::uint32_t>(x);
}
inline float f32_from_bits(std::uint32_t b) {
  return std::bit_cast<float>(b);
}

// Classification of FP8 codes (no decode needed).
bool is_nan(Fp8Format f, std::uint8_t code);
bool is_inf(Fp8Format f, std::uint8_t code);  // E5M2 only; E4M3 has no Inf

// FP8 code -> FP32 value (exact; NaN codes give the canonical NaN).
float decode(Fp8Format f, std::uint8_t code);
// UE8M0 code -> FP32 value 2^(code-127) (0x00 is the FP32 subnormal 2^-127; 0xFF is NaN).
float decode_ue8m0(std::uint8_t code);

// FP8 code as an exact integer significand and power of two: value = (-1)^sign * sig * 2^exp.
// Only for finite codes. sig == 0 for zeros.
struct Fp8Exact {
  bool sign;
  std::uint32_t sig;
  int exp;
};
Fp8Exact decode_exact(Fp8Format f, std::uint8_t code);

// FP32 -> FP8, round to nearest even (DESIGN §3; equals CUDA's __nv_cvt_float_to_fp8).
std::uint8_t encode(Fp8Format f, float x, SatMode mode = SatMode::kSatFinite);
// FP32 x * 2^-scale_exp -> FP8 with a single rounding (the MX element conversion V / X with
// X = 2^scale_exp; the division is exact and never rounds twice, even into FP32 subnormals).
std::uint8_t encode_scaled(Fp8Format f, float x, int scale_exp, SatMode mode = SatMode::kSatFinite);

// FP32 -> UE8M0 (equals CUDA's __nv_cvt_float_to_e8m0). The sign is ignored (magnitude); NaN ->
// 0xFF; zero and values at or below 2^-127 -> 0x00 (round up takes values above 2^-127 to 0x01).
// Saturating: +-Inf and round-up beyond 2^127 give 0xFE; non-saturating gives 0xFF.
std::uint8_t encode_ue8m0(float x, Ue8m0Round round, bool saturate = true);

}  // namespace mxemu::num
