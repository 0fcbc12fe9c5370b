#include "model/numerics/fused.h"

#include <bit>

namespace mxemu::num {

namespace {

constexpr std::uint32_t kInfBits = 0x7F800000u;
constexpr std::uint32_t kSignBit = 0x80000000u;

int bit_length(std::uint64_t v) {
  return 64 - std::countl_zero(v);
}

// A finite exact value (-1)^sign * mag * 2^exp.
struct Exact {
  bool sign;
  std::uint64_t mag;
  int exp;
};

// Shift mag left (k >= 0) or right with sticky (k < 0) into units of 2^(exp + (-k)).
std::uint64_t align(std::uint64_t mag, int k, bool& sticky) {
  if (k >= 0) return mag << k;
  const int r = -k;
  if (r >= 64) {
    sticky = sticky || mag != 0;
    return 0;
  }
  sticky = sticky || (mag & ((std::uint64_t{1} << r) - 1)) != 0;
  return mag >> r;
}

}  // namespace

std::uint32_t round_to_f32_bits(bool sign, std::uint64_t mag, int exp, bool sticky) {
  const std::uint32_t sign_bits = sign ? kSignBit : 0u;
  if (mag == 0) return sign_bits;  // (sticky alone would be below any representable value)
  const int len = bit_length(mag);
  const int top = exp + len - 1;
  // Quantum of the result: 24 significant bits for normals, 2^-149 for subnormals.
  const int qe = top >= -126 ? top - 23 : -149;
  const int shift = qe - exp;
  std::uint64_t q = 0;
  if (shift <= 0) {
    q = mag << -shift;  // exact; no sticky possible here (see the requirement in fused.h)
  } else if (shift <= 64) {
    q = shift == 64 ? 0 : mag >> shift;
    const std::uint64_t rem = shift == 64 ? mag : mag & ((std::uint64_t{1} << shift) - 1);
    const std::uint64_t half = std::uint64_t{1} << (shift - 1);
    if (rem > half || (rem == half && (sticky || (q & 1u) != 0))) ++q;
  }  // else: below half the smallest subnormal -> signed zero
  if (q == 0) return sign_bits;
  // Biased exponent and mantissa in one add (carry rolls into the exponent).
  const std::uint64_t bits = (static_cast<std::uint64_t>(qe + 149) << 23) + q;
  if (bits >= kInfBits) return sign_bits | kInfBits;
  return sign_bits | static_cast<std::uint32_t>(bits);
}

std::uint32_t fused_step_bits(std::uint32_t acc_bits, Fp8Format fa, std::uint8_t a, Fp8Format fb,
                              std::uint8_t b, std::uint8_t sa, std::uint8_t sb) {
  const std::uint32_t acc_abs = acc_bits & ~kSignBit;
  const bool acc_sign = (acc_bits & kSignBit) != 0;
  if (acc_abs > kInfBits || is_nan(fa, a) || is_nan(fb, b) || sa == kUe8m0Nan || sb == kUe8m0Nan) {
    return kCanonicalNanBits;
  }
  const bool term_sign = ((a ^ b) & 0x80) != 0;
  const bool a_inf = is_inf(fa, a);
  const bool b_inf = is_inf(fb, b);
  const bool a_zero = (a & 0x7F) == 0;
  const bool b_zero = (b & 0x7F) == 0;
  if (a_inf || b_inf) {
    if (a_zero || b_zero) return kCanonicalNanBits;                              // Inf * 0
    if (acc_abs == kInfBits && acc_sign != term_sign) return kCanonicalNanBits;  // Inf - Inf
    return (term_sign ? kSignBit : 0u) | kInfBits;
  }
  if (acc_abs == kInfBits) return acc_bits;  // Inf + finite
  if (a_zero || b_zero) {
    // acc + (+-0): IEEE sum; two zeros give -0 only if both are -0.
    if (acc_abs == 0) return (acc_sign && term_sign) ? kSignBit : 0u;
    return acc_bits;
  }
  // Exact term: sig_a * sig_b * 2^(ea + eb + sa + sb - 254).
  const Fp8Exact xa = decode_exact(fa, a);
  const Fp8Exact xb = decode_exact(fb, b);
  Exact t{term_sign, static_cast<std::uint64_t>(xa.sig) * xb.sig,
          xa.exp + xb.exp + static_cast<int>(sa) + static_cast<int>(sb) - 2 * kUe8m0Bias};
  // Exact accumulator.
  const std::uint32_t acc_e = acc_abs >> 23;
  Exact c{acc_sign, acc_abs & 0x7FFFFFu, -149};
  if (acc_e != 0) {
    c.mag |= 0x800000u;
    c.exp = static_cast<int>(acc_e) - 150;
  }
  if (c.mag == 0) return round_to_f32_bits(t.sign, t.mag, t.exp, false);
  // Align both to a common exponent that keeps 62 bits below the larger leading bit; only the
  // smaller operand can lose bits, which become a sticky bit.
  const int top_t = t.exp + bit_length(t.mag);
  const int top_c = c.exp + bit_length(c.mag);
  const int e0 = (top_t > top_c ? top_t : top_c) - 62;
  bool sticky = false;
  const std::uint64_t mt = align(t.mag, t.exp - e0, sticky);
  const std::uint64_t mc = align(c.mag, c.exp - e0, sticky);
  if (t.sign == c.sign) return round_to_f32_bits(t.sign, mt + mc, e0, sticky);
  if (mt == mc) return 0u;  // exact cancellation -> +0 (no sticky possible: equal tops)
  const bool t_big = mt > mc;
  const std::uint64_t big = t_big ? mt : mc;
  const std::uint64_t small = t_big ? mc : mt;
  // With a sticky remainder s in (0,1) on the smaller operand: big - (small + s)
  // = (big - small - 1) + (1 - s), again a value with a sticky fraction.
  const std::uint64_t diff = sticky ? big - small - 1 : big - small;
  return round_to_f32_bits(t_big ? t.sign : c.sign, diff, e0, sticky);
}

}  // namespace mxemu::num
