#include "model/vpu/vpu_core.h"

#include <array>
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

float nan_f32() {
  return std::bit_cast<float>(num::kCanonicalNanBits);
}

// ---- FP64 building blocks (internal): each a fixed sequence of IEEE operations. ----

// 1/n! for n = 0 .. 17, each a correctly rounded compile-time quotient of exact integers.
constexpr std::array<double, 18> kInvFact = [] {
  std::array<double, 18> a{};
  double f = 1.0;  // n! is exact in FP64 up to 18!
  for (int n = 0; n < 18; ++n) {
    if (n > 0) f *= n;
    a[static_cast<std::size_t>(n)] = 1.0 / f;
  }
  return a;
}();

// fdlibm's split of ln 2: kLn2HiD has 21 trailing zero bits, so k * kLn2HiD is exact for |k| <
// 2^11, and x - k * kLn2HiD is exact (the two are within a factor of 2).
constexpr double kLog2eD = 1.44269504088896338700e+00;
constexpr double kLn2HiD = 6.93147180369123816490e-01;
constexpr double kLn2LoD = 1.90821492927058770002e-10;

// exp(x) for -700 <= x <= 700 (normal FP64 results): Cody-Waite reduction x = k ln2 + r,
// |r| <= 0.3466, then the Taylor polynomial of degree 13 (truncation < 2^-57 relative) by Horner
// with FMA, scaled by 2^k exactly. Relative error a few 2^-53.
double exp_f64(double x) {
  const double k = std::nearbyint(x * kLog2eD);
  const double r = std::fma(-k, kLn2LoD, std::fma(-k, kLn2HiD, x));
  double p = kInvFact[13];
  for (int n = 12; n >= 0; --n) p = std::fma(p, r, kInvFact[static_cast<std::size_t>(n)]);
  return std::ldexp(p, static_cast<int>(k));
}

// expm1(r) for |r| <= 0.5: r * sum_{n=0..15} r^n / (n+1)! by Horner with FMA (truncation
// < 2^-64 relative); no cancellation, so tiny r keep full relative accuracy.
double expm1_small(double r) {
  double q = kInvFact[16];
  for (int n = 15; n >= 1; --n) q = std::fma(q, r, kInvFact[static_cast<std::size_t>(n)]);
  return q * r;
}

// sigmoid(x) in FP64 without cancellation for either sign (|x| clamped to 700: the clamped
// values are 1 and e^-700, both far beyond FP32 resolution of the true values).
double sigmoid_f64(double x) {
  if (x >= 0.0) return 1.0 / (1.0 + exp_f64(-std::fmin(x, 700.0)));
  const double t = exp_f64(std::fmax(x, -700.0));
  return t / (1.0 + t);
}

constexpr double kSqrt2OverPi = 0.79788456080286535588;  // sqrt(2 / pi)
constexpr double kInvSqrt2 = 0.70710678118654752440;     // 1 / sqrt(2)
constexpr double kInvSqrtPi = 0.56418958354775628695;    // 1 / sqrt(pi)
constexpr double kTwoOverSqrtPi = 1.12837916709551257390;
constexpr double kErfSplit = 2.5;  // below: Taylor series of erf; above: erfc continued fraction

// erf(z) for 0 <= z < 2.5: (2/sqrt(pi)) sum_{n=0..47} (-1)^n z^(2n+1) / (n! (2n+1)); zz = z^2.
// Terms fall below 2^-60 of the sum by n = 40 at z = 2.5; the largest term (about 16) bounds the
// cancellation error to about 2^-49 absolute, i.e. < 2^-38 relative to erfc(2.5) = 4.07e-4.
double erf_series(double z, double zz) {
  double t = z, sum = z;
  for (int n = 1; n < 48; ++n) {
    t *= -zz / n;
    sum += t / (2 * n + 1);
  }
  return kTwoOverSqrtPi * sum;
}

// erfc(z) for z >= 2.5: exp(-z^2) / sqrt(pi) / K(z), K the Laplace continued fraction
// z + (1/2) / (z + 1 / (z + (3/2) / (z + ...))) evaluated bottom-up from depth 50 (converged to
// 2^-53 at z = 2.5). zz = z^2 (exact when z = |x| / sqrt 2: the callers pass x^2 / 2).
double erfc_cf(double z, double zz) {
  double f = z;
  for (int n = 50; n >= 1; --n) f = z + (0.5 * n) / f;
  return exp_f64(-zz) * kInvSqrtPi / f;
}
}  // namespace

float exp_f32(float x) {
  if (std::isnan(x)) return nan_f32();
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

float rsqrt_f32(float x, float eps) {
  // eps = 0: x itself (so that rsqrt(-0) = -Inf as IEEE rSqrt; -0 + 0 would be +0).
  const double d = eps == 0.0F ? static_cast<double>(x) : static_cast<double>(x) + eps;
  if (std::isnan(d) || d < 0.0) return nan_f32();
  if (d == 0.0) return std::copysign(std::numeric_limits<float>::infinity(), static_cast<float>(d));
  return static_cast<float>(1.0 / std::sqrt(d));  // +Inf gives +0
}

float tanh_f32(float x) {
  if (std::isnan(x)) return nan_f32();
  const double a = std::fabs(static_cast<double>(x));
  if (a > 10.0) return std::copysign(1.0F, x);
  const double d = 2.0 * a;
  const double e = d < 0.5 ? expm1_small(d) : exp_f64(d) - 1.0;  // e >= 0.648 in the second case
  return std::copysign(static_cast<float>(e / (e + 2.0)), x);
}

float sigmoid_f32(float x) {
  if (std::isnan(x)) return nan_f32();
  return static_cast<float>(sigmoid_f64(x));
}

float silu_f32(float x) {
  if (std::isnan(x)) return nan_f32();
  if (std::isinf(x)) return x > 0 ? x : -0.0F;
  const double xd = x;
  return static_cast<float>(xd * sigmoid_f64(xd));
}

float gelu_tanh_f32(float x) {
  if (std::isnan(x)) return nan_f32();
  if (std::isinf(x)) return x > 0 ? x : -0.0F;
  const double xd = x;
  const double u = kSqrt2OverPi * (xd + 0.044715 * (xd * xd * xd));  // |x|^3 < 2^385: finite
  return static_cast<float>(xd * sigmoid_f64(2.0 * u));
}

float gelu_erf_f32(float x) {
  if (std::isnan(x)) return nan_f32();
  if (x > 10.0F) return x;       // erfc(10 / sqrt 2) < 2^-75: 0.5 x (1 + erf) rounds to x
  if (x < -20.0F) return -0.0F;  // |result| < 2^-280
  const double xd = x;
  const double z = std::fabs(xd) * kInvSqrt2;
  const double zz = 0.5 * (xd * xd);  // z^2, exact
  if (z < kErfSplit) {
    const double erf = erf_series(z, zz);
    return static_cast<float>(0.5 * xd * (xd >= 0.0 ? 1.0 + erf : 1.0 - erf));
  }
  const double erfc = erfc_cf(z, zz);
  return static_cast<float>(xd >= 0.0 ? xd * (1.0 - 0.5 * erfc) : 0.5 * xd * erfc);
}

SoftmaxState online_softmax_row(std::span<const float> x, float m, float s, std::span<float> p) {
  float mn = m;
  for (const float v : x) mn = max_nan(mn, v);
  SoftmaxState out;
  out.m = mn;
  if (std::isnan(mn)) {
    for (float& v : p) v = nan_f32();
    out.s = out.alpha = nan_f32();
    return out;
  }
  if (mn == -std::numeric_limits<float>::infinity()) {
    for (float& v : p) v = 0.0F;
    out.s = s;
    out.alpha = 1.0F;
    return out;
  }
  // exp of a difference <= 0 (or NaN when x and m' are both +Inf); below -700 the FP32 result
  // is +0 and the FP64 sum is unaffected (its first term, exp(0) = 1, dwarfs e^-700).
  const auto exp_diff = [](double d) {
    if (std::isnan(d)) return d;
    return d < -700.0 ? 0.0 : exp_f64(d);
  };
  const double md = mn;
  const double alpha = exp_diff(static_cast<double>(m) - md);
  double sum = static_cast<double>(s) * alpha;
  for (std::size_t c = 0; c < x.size(); ++c) {
    const double e = exp_diff(static_cast<double>(x[c]) - md);
    sum += e;
    p[c] = canonical(static_cast<float>(e));
  }
  out.alpha = canonical(static_cast<float>(alpha));
  out.s = canonical(static_cast<float>(sum));
  return out;
}

std::uint16_t to_bf16(float x) {
  const auto b = std::bit_cast<std::uint32_t>(x);
  if ((b & 0x7FFFFFFFu) > 0x7F800000u) return 0x7FC0;
  const std::uint32_t rounded = b + 0x7FFFu + ((b >> 16) & 1u);
  return static_cast<std::uint16_t>(rounded >> 16);
}

float from_bf16(std::uint16_t b) {
  return std::bit_cast<float>(std::uint32_t{b} << 16);
}

float canonical(float v) {
  return std::isnan(v) ? nan_f32() : v;
}

float sum_ordered(std::span<const float> v) {
  float s = 0.0F;
  for (const float x : v) s += x;
  return s;
}

float max_nan(float a, float b) {
  if (std::isnan(a) || std::isnan(b)) return nan_f32();
  return a > b ? a : (b > a ? b : (std::signbit(a) ? b : a));  // max(+0, -0) = +0
}

}  // namespace mxemu::vpu
