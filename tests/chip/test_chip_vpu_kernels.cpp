// The bundled vector-unit kernels softmax, layernorm, rmsnorm and gelu, each against a host
// reference written here: softmax against the long double softmax of the FP32 inputs within its
// documented bound; layernorm and rmsnorm bit for bit against an FP32 replica of their documented
// operation order, and within a derived bound of the long double definition; gelu (both forms)
// against the long double GELU within its ulp bound, specials exactly. Shapes include ones that are
// not multiples of the 128 lanes and ones that take several VMEM chunks; bad tensors are refused.
#include <fmt/core.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <optional>
#include <random>
#include <vector>

#include "model/common/error.h"
#include "model/numerics/fp8.h"
#include "testbench/mxemu/bundled.h"
#include "tests/chip/chip_test_util.h"

using namespace mxemu;

namespace {

using LD = long double;

struct Shape {
  std::size_t rows, cols;
};

double ulp_err(float got, LD want) {
  const int e = want == 0 ? -126 : std::max(std::ilogb(want), -126);
  return static_cast<double>(std::fabs(static_cast<LD>(got) - want) / std::ldexp(1.0L, e - 23));
}

sim::ChipJobResult run_kernel(const std::string& name, const std::vector<float>& x, Shape s,
                              const std::vector<std::pair<std::string, std::vector<float>>>& vecs,
                              const std::vector<std::pair<std::string, std::uint32_t>>& scalars) {
  sim::ChipJob job;
  job.firmware_name = name;
  job.firmware_elf = bundled::elf(name);
  REQUIRE_FALSE(job.firmware_elf.empty());
  job.inputs.emplace_back("X", make_f32({s.rows, s.cols}, x));
  for (const auto& [n, v] : vecs) job.inputs.emplace_back(n, make_f32({v.size()}, v));
  job.outputs.emplace_back("Y", make_f32({s.rows, s.cols}, std::vector<float>(s.rows * s.cols)));
  job.read_back = {"Y"};
  for (const auto& sc : scalars) job.scalars.push_back(sc);
  sim::ChipJobResult r = test::run_job(job);
  REQUIRE(r.exit_code == 0);
  return r;
}

// The documented bound of the softmax kernel: P and s within 0.501 ulp, i.e. relative errors of
// at most about 2^-24 each; their quotient is off by at most 2^-23 relative before the correctly
// rounded division, which is up to 2 ulp of a result whose significand is near 2, plus 0.5 ulp
// for the division's own rounding.
constexpr double kSoftmaxMaxUlp = 2.51;

}  // namespace

TEST_CASE("softmax kernel against the long double softmax", "[chip][kernels][vpu]") {
  // 700 x 1000 floats = 2.8 MB: two chunks of the kernel's 2 MiB buffers.
  for (const Shape s :
       {Shape{1, 1}, Shape{3, 77}, Shape{17, 300}, Shape{8, 4096}, Shape{700, 1000}}) {
    for (const float scale : {1.0F, 0.125F}) {
      INFO(fmt::format("{}x{} scale {}", s.rows, s.cols, scale));
      std::mt19937_64 rng(s.rows * 131 + s.cols);
      std::normal_distribution<float> d(0.0F, 8.0F);
      std::vector<float> x(s.rows * s.cols);
      for (auto& v : x) v = d(rng);
      if (s.cols > 4) {
        x[1] = -std::numeric_limits<float>::infinity();  // a masked score
        x[2] = 300.0F;                                   // a dominant one
      }
      std::vector<std::pair<std::string, std::uint32_t>> sc;
      if (scale != 1.0F) sc.emplace_back("scale", std::bit_cast<std::uint32_t>(scale));
      const auto y = run_kernel("softmax", x, s, {}, sc).outputs.at("Y").as_f32();
      double worst = 0;
      for (std::size_t r = 0; r < s.rows; ++r) {
        // The kernel scales in FP32 first (one rounding), then takes the softmax of that.
        std::vector<float> xs(s.cols);
        for (std::size_t c = 0; c < s.cols; ++c) xs[c] = x[r * s.cols + c] * scale;
        LD m = -std::numeric_limits<LD>::infinity(), sum = 0;
        for (const float v : xs) m = std::max(m, static_cast<LD>(v));
        for (const float v : xs) sum += std::exp(static_cast<LD>(v) - m);
        for (std::size_t c = 0; c < s.cols; ++c) {
          worst = std::max(worst, ulp_err(y[r * s.cols + c], std::exp(xs[c] - m) / sum));
        }
      }
      fmt::print("softmax {}x{} scale {}: worst {:.4f} ulp\n", s.rows, s.cols, scale, worst);
      CHECK(worst <= kSoftmaxMaxUlp);
    }
  }
  // A fully masked row has no softmax: NaN, as 0 / 0.
  const float inf = std::numeric_limits<float>::infinity();
  const auto y = run_kernel("softmax", {-inf, -inf, -inf, 1, 2, 3}, Shape{2, 3}, {}, {})
                     .outputs.at("Y")
                     .as_f32();
  CHECK(std::isnan(y[0]));
  CHECK(std::isnan(y[2]));
  CHECK(std::fabs(y[3] + y[4] + y[5] - 1.0F) < 1e-6F);
}

namespace {

// The FP32 operations of the layernorm / rmsnorm kernel in their documented order (firmware/
// kernels/layernorm/layernorm.c): ordered sums from +0, SCALE by 1/cols rounded once, RSQRT as
// FP64 1/sqrt(v + eps) rounded once (docs/VPU.md), then the elementwise products and sums.
std::vector<float> norm_replica(const std::vector<float>& x, Shape s, bool rms,
                                const std::vector<float>* gamma, const std::vector<float>* beta,
                                float eps) {
  const float inv = 1.0F / static_cast<float>(s.cols);
  std::vector<float> y(x.size()), d(s.cols);
  for (std::size_t r = 0; r < s.rows; ++r) {
    float mean = 0.0F;
    if (!rms) {
      for (std::size_t c = 0; c < s.cols; ++c) mean += x[r * s.cols + c];
      mean *= inv;
    }
    float ss = 0.0F;
    for (std::size_t c = 0; c < s.cols; ++c) {
      d[c] = rms ? x[r * s.cols + c] : x[r * s.cols + c] - mean;
      const float sq = d[c] * d[c];
      ss += sq;
    }
    ss *= inv;
    const auto rstd = static_cast<float>(1.0 / std::sqrt(static_cast<double>(ss) + eps));
    for (std::size_t c = 0; c < s.cols; ++c) {
      float v = d[c] * rstd;
      if (gamma != nullptr) v *= (*gamma)[c];
      if (beta != nullptr) v += (*beta)[c];
      y[r * s.cols + c] = v;
    }
  }
  return y;
}

}  // namespace

TEST_CASE("layernorm and rmsnorm kernels against their FP32 order and long double",
          "[chip][kernels][vpu]") {
  for (const bool rms : {false, true}) {
    for (const Shape s : {Shape{1, 1}, Shape{3, 77}, Shape{17, 300}, Shape{600, 1024}}) {
      for (const bool affine : {false, true}) {
        INFO(fmt::format("{} {}x{} affine {}", rms ? "rmsnorm" : "layernorm", s.rows, s.cols,
                         affine));
        std::mt19937_64 rng(s.rows * 7 + s.cols + (rms ? 1 : 0));
        std::normal_distribution<float> d(0.0F, 1.0F);
        std::vector<float> x(s.rows * s.cols), g(s.cols), b(s.cols);
        for (std::size_t r = 0; r < s.rows; ++r) {
          const float mu = 4.0F * d(rng), sigma = std::exp2(d(rng) * 2.0F);  // per-row stats
          for (std::size_t c = 0; c < s.cols; ++c) x[r * s.cols + c] = mu + sigma * d(rng);
        }
        for (auto& v : g) v = 1.0F + 0.5F * d(rng);
        for (auto& v : b) v = d(rng);
        const float eps = 1e-5F;
        std::vector<std::pair<std::string, std::vector<float>>> vecs;
        if (affine) {
          vecs.emplace_back("gamma", g);
          if (!rms) vecs.emplace_back("beta", b);
        }
        const auto y =
            run_kernel(rms ? "rmsnorm" : "layernorm", x, s, vecs, {}).outputs.at("Y").as_f32();
        const std::vector<float> want =
            norm_replica(x, s, rms, affine ? &g : nullptr, affine && !rms ? &b : nullptr, eps);
        for (std::size_t i = 0; i < y.size(); ++i) {
          INFO(fmt::format("element {}", i));
          REQUIRE(std::bit_cast<std::uint32_t>(y[i]) == std::bit_cast<std::uint32_t>(want[i]));
        }
        // Accuracy against the definition in long double. The FP32 sums of n terms err by at
        // most (n - 1) 2^-24 of the sum of magnitudes; everything else by a few 2^-24. The bound
        // below is that, in units of the output's scale.
        double worst = 0, worst_abs = 0;
        for (std::size_t r = 0; r < s.rows; ++r) {
          LD mean = 0, ss = 0, mag = 0;
          for (std::size_t c = 0; c < s.cols; ++c) {
            mean += x[r * s.cols + c];
            mag += std::fabs(static_cast<LD>(x[r * s.cols + c]));
          }
          mean = rms ? 0 : mean / s.cols;
          for (std::size_t c = 0; c < s.cols; ++c) {
            const LD dv = x[r * s.cols + c] - mean;
            ss += dv * dv;
          }
          const LD rstd = 1.0L / std::sqrt(ss / s.cols + static_cast<LD>(eps));
          // Worst case: the mean's error n 2^-24 mean|x| in units of the output (x rstd), the
          // variance's n 2^-24 relative, a few roundings more; 4x slack for the constants.
          const LD n = static_cast<LD>(s.cols);
          const LD tol = 4.0L * (n * (mag / n) * rstd + n + 16.0L) * std::ldexp(1.0L, -24);
          for (std::size_t c = 0; c < s.cols; ++c) {
            LD v = (x[r * s.cols + c] - mean) * rstd;
            const LD gc = affine ? static_cast<LD>(g[c]) : 1.0L;
            const LD bc = affine && !rms ? static_cast<LD>(b[c]) : 0.0L;
            v = v * gc + bc;
            const LD err = std::fabs(static_cast<LD>(y[r * s.cols + c]) - v);
            worst_abs = std::max(worst_abs, static_cast<double>(err));
            const LD scale = std::fabs(gc) * tol + std::fabs(v) * 8 * std::ldexp(1.0L, -24) +
                             std::ldexp(1.0L, -40);
            worst = std::max(worst, static_cast<double>(err / scale));
          }
        }
        fmt::print("{} {}x{} affine {}: worst error {:.3g} ({:.3f} of the bound)\n",
                   rms ? "rmsnorm" : "layernorm", s.rows, s.cols, affine, worst_abs, worst);
        CHECK(worst <= 1.0);
      }
    }
  }
}

namespace {

// GELU in long double: the erf form by erfc (no cancellation for x < 0), the tanh form as
// x / (1 + e^(-2u)), the same value as 0.5 x (1 + tanh(u)) without its cancellation.
LD gelu_ref(LD x, bool erf_form) {
  if (erf_form) return 0.5L * x * std::erfc(-x / std::sqrt(2.0L));
  const LD sqrt_2_over_pi = std::sqrt(2.0L / 3.141592653589793238462643383279502884L);
  const LD u = sqrt_2_over_pi * (x + 0.044715L * x * x * x);
  return x / (1.0L + std::exp(-2.0L * u));
}

// The documented bound of the gelu kernel: the VPU's GELU_TANH / GELU_ERF (an FP64 evaluation
// rounded once, docs/VPU.md); the kernel adds no arithmetic.
constexpr double kGeluMaxUlp = 0.501;

// Corner values first, then normal(0, 3) values, values over every binade and random bit
// patterns (NaN and Inf included).
std::vector<float> gelu_inputs(std::size_t n, std::uint64_t seed) {
  const float inf = std::numeric_limits<float>::infinity();
  const float mx = std::numeric_limits<float>::max();
  const float dmin = std::numeric_limits<float>::denorm_min();
  const float nmin = std::numeric_limits<float>::min();
  std::vector<float> v = {0.0F,  -0.0F,  dmin, -dmin, nmin - dmin, -(nmin - dmin), nmin,  -nmin,
                          1.0F,  -1.0F,  3.0F, -3.0F, 10.0F,       -10.0F,         20.0F, -20.0F,
                          1e20F, -1e20F, mx,   -mx,   inf,         -inf,           NAN,   -NAN};
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> d(0.0F, 3.0F);
  std::uniform_int_distribution<int> ex(-150, 10);
  std::uniform_real_distribution<float> mant(1.0F, 2.0F);
  while (v.size() < n) {
    const auto kind = rng() % 10;
    if (kind < 7) {
      v.push_back(d(rng));
    } else if (kind < 9) {
      const float m = std::ldexp(mant(rng), ex(rng));
      v.push_back((rng() & 1U) != 0 ? -m : m);
    } else {
      v.push_back(std::bit_cast<float>(static_cast<std::uint32_t>(rng())));
    }
  }
  v.resize(n);
  return v;
}

sim::ChipJob gelu_job(const std::vector<std::size_t>& dims, const std::vector<float>& x,
                      std::uint32_t form) {
  sim::ChipJob job;
  job.firmware_name = "gelu";
  job.firmware_elf = bundled::elf("gelu");
  REQUIRE_FALSE(job.firmware_elf.empty());
  job.inputs.emplace_back("X", make_f32(dims, x));
  job.outputs.emplace_back("Y", make_f32(dims, std::vector<float>(x.size())));
  job.read_back = {"Y"};
  job.scalars.emplace_back("form", form);
  return job;
}

}  // namespace

TEST_CASE("gelu kernel against the long double GELU", "[chip][kernels][vpu]") {
  // 700 x 1000 floats = 2.8 MB: two of the kernel's 2 MiB chunks.
  const std::vector<std::vector<std::size_t>> shapes = {
      {1}, {24}, {5, 77}, {2, 3, 130}, {700, 1000}};
  for (const auto& dims : shapes) {
    std::size_t n = 1;
    for (const std::size_t d : dims) n *= d;
    const std::vector<float> x = gelu_inputs(n, n);
    for (const std::uint32_t form : {0U, 1U}) {
      INFO(fmt::format("{} elements, form {}", n, form));
      const sim::ChipJobResult r = test::run_job(gelu_job(dims, x, form));
      REQUIRE(r.exit_code == 0);
      CHECK(r.outputs.at("Y").shape == dims);
      const auto y = r.outputs.at("Y").as_f32();
      CHECK(r.stats["engines"]["VPU"]["elements"].get<std::uint64_t>() == n);
      double worst = 0;
      std::size_t finite = 0;
      for (std::size_t i = 0; i < n; ++i) {
        INFO(fmt::format("x = {:a}, y = {:a}", x[i], y[i]));
        if (std::isnan(x[i])) {
          REQUIRE(num::f32_bits(y[i]) == 0x7FC00000U);  // the canonical NaN
        } else if (std::isinf(x[i])) {
          REQUIRE(num::f32_bits(y[i]) == num::f32_bits(x[i] > 0 ? x[i] : -0.0F));
        } else if (x[i] == 0.0F) {
          REQUIRE(num::f32_bits(y[i]) == num::f32_bits(x[i]));  // the sign of zero is kept
        } else {
          const double e = ulp_err(y[i], gelu_ref(x[i], form == 1));
          REQUIRE(e <= kGeluMaxUlp);
          worst = std::max(worst, e);
          ++finite;
        }
      }
      fmt::print("gelu {} {} elements: worst {:.6f} ulp over {} finite inputs\n",
                 form == 0 ? "tanh" : "erf", n, worst, finite);
    }
  }
}

TEST_CASE("gelu kernel: fast and cycle-by-cycle mode agree", "[chip][kernels][vpu][modes]") {
  const std::vector<float> x = gelu_inputs(3000, 9);
  sim::ChipJob job = gelu_job({30, 100}, x, 1);
  const sim::ChipJobResult fast = test::run_job(job);
  job.cycle_accurate = true;
  const sim::ChipJobResult exact = test::run_job(job);
  REQUIRE(fast.exit_code == 0);
  REQUIRE(exact.exit_code == 0);
  CHECK(fast.outputs.at("Y").data == exact.outputs.at("Y").data);
  CHECK(fast.total_cycles == exact.total_cycles);
  CHECK(fast.stats["engines"] == exact.stats["engines"]);
}

TEST_CASE("vector kernels refuse tensors of the wrong dtype or shape", "[chip][kernels][vpu]") {
  const auto error_of = [](const std::string& name, NpyArray x,
                           std::optional<NpyArray> gamma) -> std::string {
    sim::ChipJob job;
    job.firmware_name = name;
    job.firmware_elf = bundled::elf(name);
    job.inputs.emplace_back("X", std::move(x));
    if (gamma) job.inputs.emplace_back("gamma", std::move(*gamma));
    try {
      const sim::ChipJobResult r = test::run_job(job);
      return fmt::format("exit {}: {}", r.exit_code, r.console);
    } catch (const Error& e) {
      return fmt::format("error: {}: {}", e.what(), "");
    }
  };
  const std::string u8 = error_of("softmax", make_u8({2, 8}, std::vector<std::uint8_t>(16)), {});
  CHECK_THAT(u8, Catch::Contains("exit 2"));
  CHECK_THAT(u8, Catch::Contains("softmax: error: X must be a 2-D float32 array (got uint8"));
  const std::string g = error_of("layernorm", make_f32({2, 8}, std::vector<float>(16, 1.0F)),
                                 make_f32({7}, std::vector<float>(7, 1.0F)));
  CHECK_THAT(g, Catch::Contains("layernorm: error: gamma must be 8 float32 values"));
  const std::string d1 = error_of("rmsnorm", make_f32({16}, std::vector<float>(16, 1.0F)), {});
  CHECK_THAT(d1, Catch::Contains("rmsnorm: error: X must be a 2-D float32 array (got float32, 1"));
}

TEST_CASE("gelu kernel refuses bad tensors and scalars", "[chip][kernels][vpu]") {
  const auto error_of = [](std::optional<NpyArray> x, std::optional<NpyArray> y,
                           std::optional<std::uint32_t> form) -> std::string {
    sim::ChipJob job;
    job.firmware_name = "gelu";
    job.firmware_elf = bundled::elf("gelu");
    if (x) job.inputs.emplace_back("X", std::move(*x));
    if (y) job.outputs.emplace_back("Y", std::move(*y));
    if (form) job.scalars.emplace_back("form", *form);
    try {
      const sim::ChipJobResult r = test::run_job(job);
      return fmt::format("exit {}: {}", r.exit_code, r.console);
    } catch (const Error& e) {
      return fmt::format("error: {}", e.what());
    }
  };
  const auto f32 = [](const std::vector<std::size_t>& dims) {
    std::size_t n = 1;
    for (const std::size_t d : dims) n *= d;
    return make_f32(dims, std::vector<float>(n, 1.0F));
  };
  const std::string u8 = error_of(make_u8({2, 8}, std::vector<std::uint8_t>(16)), {}, 0);
  CHECK_THAT(u8, Catch::Contains("exit 2"));
  CHECK_THAT(u8, Catch::Contains("gelu: error: X must be a float32 array of 1 to 4 dimensions "
                                 "(got uint8, 2 dimensions)"));
  const std::string none = error_of({}, {}, 0);
  CHECK_THAT(none, Catch::Contains("exit 2"));
  CHECK_THAT(none, Catch::Contains("gelu: error: launch block lacks X"));
  const std::string no_form = error_of(f32({4, 4}), {}, {});
  CHECK_THAT(no_form, Catch::Contains("exit 2"));
  CHECK_THAT(no_form, Catch::Contains("gelu: error: missing scalar form: 0 (tanh) or 1 (erf)"));
  const std::string bad_form = error_of(f32({4, 4}), {}, 2);
  CHECK_THAT(bad_form, Catch::Contains("gelu: error: scalar form must be 0 (tanh) or 1 (erf), "
                                       "got 2"));
  const std::string shape = error_of(f32({4, 4}), f32({4, 5}), 1);
  CHECK_THAT(shape, Catch::Contains("exit 2"));
  CHECK_THAT(shape, Catch::Contains("gelu: error: Y must be a float32 array of X's shape"));
  // Without a Y from the runner the kernel declares one of X's shape.
  sim::ChipJob job = gelu_job({3, 5}, std::vector<float>(15, 1.0F), 0);
  job.outputs.clear();
  const sim::ChipJobResult r = test::run_job(job);
  REQUIRE(r.exit_code == 0);
  CHECK(r.outputs.at("Y").shape == std::vector<std::size_t>{3, 5});
  CHECK(ulp_err(r.outputs.at("Y").as_f32()[7], gelu_ref(1.0L, false)) <= kGeluMaxUlp);
}
