// Vector-unit arithmetic: exp against FP64 exp within the documented bound over a dense sweep;
// BF16 rounding against an exact closed form (nearest of the two BF16 neighbours, ties to even);
// rsqrt, tanh, sigmoid, SiLU, both GELUs and the online-softmax step against long double
// references over sweeps with every special value.
#include <fmt/core.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

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

// ---- Activation functions, rsqrt, online softmax: against long double references. ----
//
// The references are the host's long double libm (x87 extended: 64-bit significand, about 2^-63
// relative) applied to formulas written here, never the model's FP64 kernels. Errors are in ulp
// of FP32 at the exact value's binade (2^-149 below the normal range).

namespace {

using LD = long double;

double ulp_error_ld(float got, LD want) {
  const int e = want == 0 ? -126 : std::max(std::ilogb(want), -126);
  return static_cast<double>(std::fabs(static_cast<LD>(got) - want) / std::ldexp(1.0L, e - 23));
}

bool is_canonical_nan(float v) {
  return std::bit_cast<std::uint32_t>(v) == 0x7FC00000u;
}

// Inputs for a sweep: every special and boundary value, a dense grid over [-lim, lim], random
// values with random exponents (all binades, subnormals included) and random bit patterns.
std::vector<float> sweep_inputs(float lim, std::uint32_t seed) {
  std::vector<float> v = {0.0F,
                          -0.0F,
                          std::numeric_limits<float>::denorm_min(),
                          -std::numeric_limits<float>::denorm_min(),
                          std::bit_cast<float>(0x007FFFFFu),  // largest subnormal
                          std::bit_cast<float>(0x807FFFFFu),
                          std::numeric_limits<float>::min(),
                          -std::numeric_limits<float>::min(),
                          std::numeric_limits<float>::max(),
                          -std::numeric_limits<float>::max(),
                          1.0F,
                          -1.0F,
                          1e-20F,
                          -1e-20F,
                          1e30F,
                          -1e30F};
  // Boundaries of the algorithms' branches (and the float neighbours of each).
  for (const float b : {0.25F, 2.5F * 1.41421356F, 10.0F, 20.0F, 9.0F, 87.0F, 88.7F, 104.0F}) {
    for (const float s : {1.0F, -1.0F}) {
      const float x = s * b;
      v.push_back(x);
      v.push_back(std::nextafter(x, 0.0F));
      v.push_back(std::nextafter(x, 2.0F * x));
    }
  }
  constexpr int kGrid = 400'000;
  for (int i = 0; i <= kGrid; ++i) v.push_back(-lim + 2.0F * lim * static_cast<float>(i) / kGrid);
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> ex(-150, 10);
  std::uniform_real_distribution<float> mant(1.0F, 2.0F);
  for (int i = 0; i < 300'000; ++i) {
    const float m = std::ldexp(mant(rng), ex(rng));
    v.push_back((rng() & 1u) != 0 ? -m : m);
  }
  for (int i = 0; i < 200'000; ++i) {
    const auto f = std::bit_cast<float>(static_cast<std::uint32_t>(rng()));
    if (!std::isnan(f)) v.push_back(f);
  }
  return v;
}

struct Sweep {
  double worst = 0.0;
  float worst_x = 0.0F;
  std::size_t n = 0;
};

// Measures f against ref over the finite inputs whose reference is finite; specials are checked
// by each test case separately.
template <typename F, typename R>
Sweep measure(const std::vector<float>& xs, F f, R ref) {
  Sweep s;
  for (const float x : xs) {
    if (!std::isfinite(x)) continue;
    const LD want = ref(static_cast<LD>(x));
    if (!std::isfinite(want) || std::fabs(want) >= std::ldexp(1.0L, 128)) continue;
    const double e = ulp_error_ld(f(x), want);
    ++s.n;
    if (e > s.worst || std::isnan(e)) {
      s.worst = std::isnan(e) ? 1e9 : e;
      s.worst_x = x;
    }
  }
  return s;
}

void report(const std::string& name, const Sweep& s) {
  // The measured worst cases quoted in docs/VPU.md come from these lines.
  fmt::print("VPU {}: worst {:.6f} ulp at x = {:a} over {} inputs\n", name, s.worst, s.worst_x,
             s.n);
}

LD sigmoid_ref(LD x) {
  return 1.0L / (1.0L + std::exp(-x));
}

}  // namespace

TEST_CASE("VPU tanh, sigmoid, SiLU and both GELUs stay within their ulp bound", "[chip][vpu]") {
  const std::vector<float> xs = sweep_inputs(30.0F, 21);
  const LD sqrt_2_over_pi = std::sqrt(2.0L / 3.141592653589793238462643383279502884L);
  struct Fn {
    const char* name;
    float (*f)(float);
    std::function<LD(LD)> ref;
  };
  const Fn fns[] = {
      {"tanh", vpu::tanh_f32, [](LD x) { return std::tanh(x); }},
      {"sigmoid", vpu::sigmoid_f32, sigmoid_ref},
      {"silu", vpu::silu_f32, [](LD x) { return x * sigmoid_ref(x); }},
      // 0.5 x (1 + tanh(u)) written as x / (1 + e^(-2u)) so that the reference itself does not
      // cancel for x < 0.
      {"gelu_tanh", vpu::gelu_tanh_f32,
       [&](LD x) {
         const LD u = sqrt_2_over_pi * (x + 0.044715L * x * x * x);
         return x / (1.0L + std::exp(-2.0L * u));
       }},
      {"gelu_erf", vpu::gelu_erf_f32,
       [](LD x) { return 0.5L * x * std::erfc(-x / std::sqrt(2.0L)); }},
  };
  for (const Fn& fn : fns) {
    const Sweep s = measure(xs, fn.f, fn.ref);
    report(fn.name, s);
    INFO(fmt::format("{}: worst {:.6f} ulp at x = {:a}", fn.name, s.worst, s.worst_x));
    CHECK(s.worst <= vpu::kFp64EvalMaxUlp);
    CHECK(s.n > 800'000);
    // NaN in, canonical NaN out; signs of zero kept where the function is odd or x-scaled.
    CHECK(is_canonical_nan(fn.f(std::numeric_limits<float>::quiet_NaN())));
    CHECK(is_canonical_nan(fn.f(-std::numeric_limits<float>::quiet_NaN())));
  }
  const float inf = std::numeric_limits<float>::infinity();
  CHECK(vpu::tanh_f32(inf) == 1.0F);
  CHECK(vpu::tanh_f32(-inf) == -1.0F);
  CHECK(std::signbit(vpu::tanh_f32(-0.0F)));
  CHECK(vpu::sigmoid_f32(inf) == 1.0F);
  CHECK(vpu::sigmoid_f32(-inf) == 0.0F);
  CHECK(vpu::sigmoid_f32(0.0F) == 0.5F);
  for (float (*f)(float) : {vpu::silu_f32, vpu::gelu_tanh_f32, vpu::gelu_erf_f32}) {
    CHECK(f(inf) == inf);
    CHECK(f(-inf) == 0.0F);
    CHECK(std::signbit(f(-inf)));
    CHECK(std::signbit(f(-0.0F)));
    CHECK(f(0.0F) == 0.0F);
    CHECK(f(-1e30F) == 0.0F);
    CHECK(f(1e30F) == 1e30F);
  }
}

TEST_CASE("VPU rsqrt(x + eps) stays within its ulp bound", "[chip][vpu]") {
  const std::vector<float> xs = sweep_inputs(1000.0F, 22);
  for (const float eps : {0.0F, 1e-5F, 1.0F}) {
    const Sweep s = measure(
        xs, [&](float x) { return vpu::rsqrt_f32(x, eps); },
        [&](LD x) {
          const LD d = x + static_cast<LD>(eps);
          return d < 0 ? std::numeric_limits<LD>::quiet_NaN() : 1.0L / std::sqrt(d);
        });
    report(fmt::format("rsqrt(x + {})", eps), s);
    INFO(fmt::format("eps {}: worst {:.6f} ulp at x = {:a}", eps, s.worst, s.worst_x));
    CHECK(s.worst <= vpu::kFp64EvalMaxUlp);
  }
  const float inf = std::numeric_limits<float>::infinity();
  CHECK(vpu::rsqrt_f32(0.0F, 0.0F) == inf);
  CHECK(vpu::rsqrt_f32(-0.0F, 0.0F) == -inf);
  CHECK(vpu::rsqrt_f32(inf, 0.0F) == 0.0F);
  CHECK(vpu::rsqrt_f32(4.0F, 0.0F) == 0.5F);
  CHECK(is_canonical_nan(vpu::rsqrt_f32(-1.0F, 0.0F)));
  CHECK(is_canonical_nan(vpu::rsqrt_f32(-inf, 0.0F)));
  CHECK(is_canonical_nan(vpu::rsqrt_f32(std::numeric_limits<float>::quiet_NaN(), 0.0F)));
  CHECK(vpu::rsqrt_f32(-1.0F, 1.0F) == inf);  // x + eps = +0
}

namespace {
// The online-softmax step in long double, from its definition.
struct RefState {
  LD m, s, alpha;
  std::vector<LD> p;
};
RefState softmax_step_ref(const std::vector<float>& x, float m, float s) {
  RefState r{m, 0, 0, {}};
  for (const float v : x) r.m = std::max(r.m, static_cast<LD>(v));
  r.alpha = std::exp(static_cast<LD>(m) - r.m);
  r.s = static_cast<LD>(s) * r.alpha;
  for (const float v : x) {
    r.p.push_back(std::exp(static_cast<LD>(v) - r.m));
    r.s += r.p.back();
  }
  return r;
}
}  // namespace

TEST_CASE("VPU online-softmax step: running max exact, exps and sum within their bound",
          "[chip][vpu]") {
  std::mt19937 rng(23);
  double worst_p = 0, worst_alpha = 0, worst_s = 0, worst_total = 0;
  for (int trial = 0; trial < 400; ++trial) {
    const std::size_t cols = 1 + rng() % (trial < 20 ? 4000 : 300);
    const float spread = std::ldexp(1.0F, static_cast<int>(rng() % 12) - 3);  // 1/8 .. 256
    std::normal_distribution<float> d(static_cast<float>(rng() % 100) - 50.0F, spread);
    // Several blocks of one row, carrying (m, s) as firmware would; start from (-Inf, 0).
    float m = -std::numeric_limits<float>::infinity(), s = 0.0F;
    std::vector<float> all;
    const int blocks = 1 + static_cast<int>(rng() % 5);
    for (int b = 0; b < blocks; ++b) {
      std::vector<float> x(cols), p(cols);
      for (float& v : x) v = d(rng);
      if (trial % 7 == 0) x[rng() % cols] = -std::numeric_limits<float>::infinity();  // masked
      const RefState ref = softmax_step_ref(x, m, s);
      const vpu::SoftmaxState got = vpu::online_softmax_row(x, m, s, p);
      REQUIRE(static_cast<LD>(got.m) == ref.m);
      for (std::size_t c = 0; c < cols; ++c)
        worst_p = std::max(worst_p, ulp_error_ld(p[c], ref.p[c]));
      worst_alpha = std::max(worst_alpha, ulp_error_ld(got.alpha, ref.alpha));
      worst_s = std::max(worst_s, ulp_error_ld(got.s, ref.s));
      m = got.m;
      s = got.s;
      all.insert(all.end(), x.begin(), x.end());
    }
    // After every block: the softmax denominator of the whole row, one FP32 rounding per block.
    LD mm = -std::numeric_limits<LD>::infinity(), total = 0;
    for (const float v : all) mm = std::max(mm, static_cast<LD>(v));
    if (mm > -std::numeric_limits<LD>::infinity()) {
      for (const float v : all) total += std::exp(static_cast<LD>(v) - mm);
    }
    REQUIRE(static_cast<LD>(m) == mm);
    const double e = ulp_error_ld(s, total);
    worst_total = std::max(worst_total, e / blocks);
    CHECK(e <= blocks * vpu::kFp64EvalMaxUlp + 0.5 * (blocks - 1));
  }
  fmt::print(
      "VPU online softmax: worst p {:.6f}, alpha {:.6f}, s' {:.6f} ulp; whole row {:.6f} "
      "ulp per block\n",
      worst_p, worst_alpha, worst_s, worst_total);
  CHECK(worst_p <= vpu::kFp64EvalMaxUlp);
  CHECK(worst_alpha <= vpu::kFp64EvalMaxUlp);
  CHECK(worst_s <= vpu::kFp64EvalMaxUlp);

  // Corners: a row with no finite score yet; NaN; +Inf; the first block.
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> p(3);
  vpu::SoftmaxState st = vpu::online_softmax_row(std::vector<float>{-inf, -inf, -inf}, -inf, 0, p);
  CHECK(st.m == -inf);
  CHECK(st.s == 0.0F);
  CHECK(st.alpha == 1.0F);
  CHECK(p == std::vector<float>{0, 0, 0});
  st = vpu::online_softmax_row(std::vector<float>{1, NAN, 2}, 0.0F, 1.0F, p);
  CHECK(is_canonical_nan(st.m));
  CHECK(is_canonical_nan(st.s));
  CHECK(is_canonical_nan(p[0]));
  st = vpu::online_softmax_row(std::vector<float>{1, inf, 2}, 0.0F, 1.0F, p);
  CHECK(st.m == inf);
  CHECK(p[0] == 0.0F);
  CHECK(is_canonical_nan(p[1]));  // exp(Inf - Inf)
  CHECK(st.alpha == 0.0F);
  CHECK(is_canonical_nan(st.s));
  st = vpu::online_softmax_row(std::vector<float>{3, 1, 3}, -inf, 0.0F, p);
  CHECK(st.m == 3.0F);
  CHECK(st.alpha == 0.0F);
  CHECK(p[0] == 1.0F);
  CHECK(p[2] == 1.0F);
  // In place: p aliases x.
  std::vector<float> x = {0.5F, -1.0F, 2.0F};
  const RefState ref = softmax_step_ref(x, 1.0F, 2.0F);
  st = vpu::online_softmax_row(x, 1.0F, 2.0F, x);
  for (std::size_t c = 0; c < 3; ++c) CHECK(ulp_error_ld(x[c], ref.p[c]) <= vpu::kFp64EvalMaxUlp);
  CHECK(ulp_error_ld(st.s, ref.s) <= vpu::kFp64EvalMaxUlp);
}
