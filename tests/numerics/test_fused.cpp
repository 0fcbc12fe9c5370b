// The fused step against an independent exact integer model on >= 1,000,000 random cases that
// include subnormal results, overflow, cancellation to zero, signed zeros, NaN/Inf and the scales
// 0x00, 0xFE and 0xFF. The test decodes FP8 from the format definitions itself.
#include <fmt/core.h>
#include <catch2/catch.hpp>

#include <random>

#include "model/numerics/fused.h"
#include "tests/numerics/exact_ref.h"

using mxemu::num::Fp8Format;
using mxemu::test::Fixed;

namespace {

constexpr std::uint32_t kNan = 0x7FC00000u;

struct Val {  // a decoded input: NaN, Inf, or an exact finite value
  bool nan = false, inf = false, neg = false;
  std::uint64_t mag = 0;
  int exp = 0;
};

Val fp8_value(Fp8Format f, std::uint8_t c) {
  const int eb = f == Fp8Format::kE4M3 ? 4 : 5;
  const int mb = 7 - eb;
  const int bias = f == Fp8Format::kE4M3 ? 7 : 15;
  Val v;
  v.neg = (c >> 7) != 0;
  const int e = (c >> mb) & ((1 << eb) - 1);
  const int m = c & ((1 << mb) - 1);
  if (f == Fp8Format::kE4M3 && e == 15 && m == 7) v.nan = true;
  if (f == Fp8Format::kE5M2 && e == 31) (m == 0 ? v.inf : v.nan) = true;
  if (e == 0) {
    v.mag = static_cast<std::uint64_t>(m);
    v.exp = 1 - bias - mb;
  } else {
    v.mag = static_cast<std::uint64_t>(m) + (std::uint64_t{1} << mb);
    v.exp = e - bias - mb;
  }
  return v;
}

Val f32_value(std::uint32_t b) {
  Val v;
  v.neg = (b >> 31) != 0;
  const int e = static_cast<int>((b >> 23) & 0xFF);
  const std::uint32_t m = b & 0x7FFFFF;
  if (e == 255) (m == 0 ? v.inf : v.nan) = true;
  v.mag = e == 0 ? m : (m | 0x800000u);
  v.exp = e == 0 ? -149 : e - 150;
  return v;
}

// The step as DESIGN §3 states it, with IEEE 754 rules for the special cases.
std::uint32_t model_step(std::uint32_t acc, Fp8Format fa, std::uint8_t a, Fp8Format fb,
                         std::uint8_t b, std::uint8_t sa, std::uint8_t sb) {
  const Val c = f32_value(acc), x = fp8_value(fa, a), y = fp8_value(fb, b);
  if (c.nan || x.nan || y.nan || sa == 0xFF || sb == 0xFF) return kNan;
  const bool tneg = x.neg != y.neg;
  const bool x0 = !x.inf && x.mag == 0, y0 = !y.inf && y.mag == 0;
  if (x.inf || y.inf) {
    if (x0 || y0) return kNan;
    if (c.inf && c.neg != tneg) return kNan;
    return (tneg ? 0x80000000u : 0u) | 0x7F800000u;
  }
  if (c.inf) return acc;
  const Fixed ft = Fixed::from(tneg, x.mag * y.mag, x.exp + y.exp + sa + sb - 254);
  const Fixed fc = Fixed::from(c.neg, c.mag, c.exp);
  const Fixed sum = fc + ft;
  if (sum.is_zero()) {
    // Exact zero: -0 only when both addends are -0 (round to nearest).
    const bool t_zero = x0 || y0;
    const bool c_zero = c.mag == 0;
    return (t_zero && c_zero && tneg && c.neg) ? 0x80000000u : 0u;
  }
  return sum.to_f32_bits();
}

std::uint8_t pick_code(std::mt19937_64& rng, Fp8Format f) {
  const auto r = rng() % 100;
  if (r < 4) return f == Fp8Format::kE4M3 ? (rng() & 1 ? 0x7F : 0xFF) : 0x7D | ((rng() & 1) << 7);
  if (r < 8 && f == Fp8Format::kE5M2) return (rng() & 1) ? 0x7C : 0xFC;
  if (r < 14) return (rng() & 1) ? 0x00 : 0x80;
  if (r < 30) return static_cast<std::uint8_t>((rng() & 0x87));  // subnormals / small
  return static_cast<std::uint8_t>(rng());
}

std::uint8_t pick_scale(std::mt19937_64& rng) {
  const auto r = rng() % 100;
  if (r < 10) return 0x00;
  if (r < 20) return 0xFE;
  if (r < 22) return 0xFF;
  if (r < 40) return 127;
  if (r < 50) return static_cast<std::uint8_t>(rng() % 8);         // tiny
  if (r < 60) return static_cast<std::uint8_t>(0xF6 + rng() % 9);  // huge
  return static_cast<std::uint8_t>(rng() % 255);
}

}  // namespace

TEST_CASE("fused step equals the exact integer model on 1.2M random cases", "[numerics][fused]") {
  std::mt19937_64 rng(0x5EEDF00Du);
  std::size_t n_sub = 0, n_ovf = 0, n_cancel = 0, n_negzero = 0, n_nan = 0, n_inf_in = 0, n_bad = 0;
  constexpr std::size_t kCases = 1'200'000;
  for (std::size_t i = 0; i < kCases; ++i) {
    const Fp8Format fa = (rng() & 1) ? Fp8Format::kE4M3 : Fp8Format::kE5M2;
    const Fp8Format fb = (rng() & 1) ? Fp8Format::kE4M3 : Fp8Format::kE5M2;
    const std::uint8_t a = pick_code(rng, fa), b = pick_code(rng, fb);
    const std::uint8_t sa = pick_scale(rng), sb = pick_scale(rng);
    std::uint32_t acc = 0;
    const auto kind = rng() % 100;
    if (kind < 25) {
      acc = static_cast<std::uint32_t>(rng());  // any bits (NaN/Inf included)
    } else if (kind < 35) {
      acc = static_cast<std::uint32_t>(rng() % 0x800000u) | ((rng() & 1) << 31);  // subnormal
    } else if (kind < 42) {
      acc = (rng() & 1) ? 0x80000000u : 0u;  // signed zero
    } else if (kind < 45) {
      acc = ((rng() & 1) << 31) | 0x7F800000u;  // Inf
    } else if (kind < 55) {
      acc = ((rng() & 1) << 31) | (0x7F000000u + static_cast<std::uint32_t>(rng() % 0x800000u));
    } else {
      // Near or exact cancellation: acc = -round(term) (+- a few ulps), term from the model.
      const std::uint32_t t = model_step(0x80000000u, fa, a, fb, b, sa, sb);
      const std::int32_t d = static_cast<std::int32_t>(rng() % 5) - 2;
      acc = (t ^ 0x80000000u) + static_cast<std::uint32_t>(kind < 80 ? 0 : d);
    }
    const std::uint32_t want = model_step(acc, fa, a, fb, b, sa, sb);
    const std::uint32_t got = mxemu::num::fused_step_bits(acc, fa, a, fb, b, sa, sb);
    if (got != want && ++n_bad <= 10) {
      FAIL_CHECK(fmt::format(
          "{}x{} a=0x{:02x} b=0x{:02x} sa=0x{:02x} sb=0x{:02x} acc=0x{:08x}: "
          "got 0x{:08x} want 0x{:08x}",
          mxemu::num::format_name(fa), mxemu::num::format_name(fb), a, b, sa, sb, acc, got, want));
    }
    const Val r = f32_value(want), in = f32_value(acc);
    if (!r.nan && !r.inf && r.mag != 0 && r.mag < 0x800000u) ++n_sub;
    if (r.inf && !in.inf && !fp8_value(fa, a).inf && !fp8_value(fb, b).inf) ++n_ovf;
    if (want == 0 && in.mag != 0 && !in.inf && !in.nan) ++n_cancel;
    if (want == 0x80000000u) ++n_negzero;
    if (want == kNan) ++n_nan;
    if (in.inf || fp8_value(fa, a).inf || fp8_value(fb, b).inf) ++n_inf_in;
  }
  CHECK(n_bad == 0);
  INFO(fmt::format("subnormal {} overflow {} cancel {} -0 {} nan {} inf-in {}", n_sub, n_ovf,
                   n_cancel, n_negzero, n_nan, n_inf_in));
  // The generator must actually reach every corner the contract names.
  CHECK(n_sub > 10000);
  CHECK(n_ovf > 1000);
  CHECK(n_cancel > 10000);
  CHECK(n_negzero > 1000);
  CHECK(n_nan > 10000);
  CHECK(n_inf_in > 10000);
}

TEST_CASE("fused step worked corners", "[numerics][fused]") {
  using mxemu::num::fused_step_bits;
  const auto E4 = Fp8Format::kE4M3;
  const auto E5 = Fp8Format::kE5M2;
  // 1.0 (0x38) * 1.0 + 0 = 1.0
  CHECK(fused_step_bits(0, E4, 0x38, E4, 0x38) == 0x3F800000u);
  // Max E4M3 squared with scales 2^127 each: 448^2 * 2^254 overflows FP32 -> +Inf.
  CHECK(fused_step_bits(0, E4, 0x7E, E4, 0x7E, 0xFE, 0xFE) == 0x7F800000u);
  // Smallest subnormals with scale 2^-127 each: 2^-9 * 2^-9 * 2^-254 underflows to +0 ...
  CHECK(fused_step_bits(0, E4, 0x01, E4, 0x01, 0x00, 0x00) == 0u);
  // ... and to -0 with a negative product.
  CHECK(fused_step_bits(0x80000000u, E4, 0x81, E4, 0x01, 0x00, 0x00) == 0x80000000u);
  // E5M2 Inf * 0 = NaN; Inf * -1 = -Inf; -Inf + Inf = NaN.
  CHECK(fused_step_bits(0, E5, 0x7C, E5, 0x00) == kNan);
  CHECK(fused_step_bits(0, E5, 0x7C, E5, 0xBC) == 0xFF800000u);
  CHECK(fused_step_bits(0xFF800000u, E5, 0x7C, E5, 0x3C) == kNan);
  // Scale NaN poisons even a zero product.
  CHECK(fused_step_bits(0, E4, 0x00, E4, 0x00, 0xFF, 127) == kNan);
}
