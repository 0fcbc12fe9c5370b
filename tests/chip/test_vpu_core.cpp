// Vector-unit arithmetic: exp against FP64 exp within the documented bound over a dense sweep;
// BF16 rounding against an exact closed form (nearest of the two BF16 neighbours, ties to even).
#include <fmt/core.h>
#include <catch2/catch.hpp>

#include <bit>
#include <cmath>
#include <random>

#include "model/vpu/vpu_core.h"

using namespace mxemu;

namespace {
// Distance in ulps between a float and an exact (double) value, at the float's exponent.
double ulp_error(float got, double want) {
  const double ulp = std::ldexp(1.0, std::max(std::ilogb(static_cast<float>(want)), -126) - 23);
  return std::fabs(static_cast<double>(got) - want) / ulp;
}
}  // namespace

TEST_CASE("VPU exp stays within its documented ulp bound", "[chip][vpu]") {
  double worst = 0.0;
  float worst_x = 0.0F;
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-87.0F, 88.7F);
  for (int i = 0; i < 2'000'000; ++i) {
    const float x = i < 1'000'000 ? -87.0F + 175.7F * static_cast<float>(i) / 1e6F : dist(rng);
    const double want = std::exp(static_cast<double>(x));
    const double e = ulp_error(vpu::exp_f32(x), want);
    if (e > worst) {
      worst = e;
      worst_x = x;
    }
  }
  INFO(fmt::format("worst {:.3f} ulp at x = {}", worst, worst_x));
  CHECK(worst <= vpu::kExpMaxUlp);
  CHECK(vpu::exp_f32(0.0F) == 1.0F);
  CHECK(std::isinf(vpu::exp_f32(89.0F)));
  CHECK(vpu::exp_f32(-104.0F) == 0.0F);
  CHECK(std::bit_cast<std::uint32_t>(vpu::exp_f32(NAN)) == num::kCanonicalNanBits);
  // Subnormal results: within one subnormal quantum (plus the bound) of the true value.
  for (int i = 0; i < 1650; ++i) {  // x from -103.9 to -87.41 in steps of 0.01
    const float x = -103.9F + 0.01F * static_cast<float>(i);
    const double want = std::exp(static_cast<double>(x));
    CHECK(std::fabs(vpu::exp_f32(x) - want) <=
          std::ldexp(1.0, -149) * (1 + vpu::kExpMaxUlp) + want * std::ldexp(1.0, -22));
  }
}

TEST_CASE("VPU BF16 conversion rounds to nearest even", "[chip][vpu]") {
  std::mt19937 rng(9);
  for (int i = 0; i < 1'000'000; ++i) {
    const std::uint32_t b = rng();
    const auto x = std::bit_cast<float>(b);
    const std::uint16_t got = vpu::to_bf16(x);
    if (std::isnan(x)) {
      CHECK(got == 0x7FC0);
      continue;
    }
    // The two BF16 candidates around x: truncation and truncation + 1 ulp.
    const auto lo = static_cast<std::uint16_t>(b >> 16);
    const std::uint32_t rem = b & 0xFFFFu;
    const std::uint16_t want =
        rem > 0x8000u || (rem == 0x8000u && (lo & 1u)) ? static_cast<std::uint16_t>(lo + 1) : lo;
    REQUIRE(got == want);
  }
}
