// The bundled mlp kernel, Y = quant(GELU(X.W1)).W2 in MXFP8, against a host reference built here:
// the exact GEMM of the numerics library (DESIGN §3) for X.W1, a long double GELU rounded once,
// num::mx_quantize (floor scales; its scale rule re-checked here) for the intermediate, and the
// exact GEMM again for .W2. The intermediate must equal the reference bit for bit (except where
// the long double GELU lies within the VPU's 0.001 ulp of slack from a rounding midpoint), Y must
// equal the exact GEMM of that intermediate bit for bit, and Y stays within a bound derived from
// the quantisation rules of the long double MLP without quantisation.
#include <fmt/core.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "model/common/error.h"
#include "model/numerics/fp8.h"
#include "model/numerics/mx.h"
#include "testbench/mxemu/bundled.h"
#include "tests/chip/chip_test_util.h"

using namespace mxemu;

namespace {

using LD = long double;

LD gelu_ref(LD x, bool erf_form) {
  if (erf_form) return 0.5L * x * std::erfc(-x / std::sqrt(2.0L));
  const LD sqrt_2_over_pi = std::sqrt(2.0L / 3.141592653589793238462643383279502884L);
  const LD u = sqrt_2_over_pi * (x + 0.044715L * x * x * x);
  return x / (1.0L + std::exp(-2.0L * u));
}

// |got - want| in ulp of FP32 at want's binade (2^-149 below the normal range).
LD ulp_err(float got, LD want) {
  const int e = want == 0 ? -126 : std::max(std::ilogb(want), -126);
  return std::fabs(static_cast<LD>(got) - want) / std::ldexp(1.0L, e - 23);
}

using test::Mx;
using test::mx_normal;

struct Case {
  std::size_t m, k, h, n;
  int block;
  std::uint32_t form;  // 0 tanh, 1 erf
  num::Fp8Format fx, fw1, fw2, fh;
  bool wide;  // random codes over the whole range (saturation, huge GELU inputs, a NaN)
  std::string config;
};

struct Operands {
  NpyArray x, sx, w1, sw1, w2, sw2;
};

Operands make_operands(const Case& c, std::mt19937_64& rng) {
  const auto kb = c.k / static_cast<std::size_t>(c.block);
  const auto hb = c.h / static_cast<std::size_t>(c.block);
  if (c.wide) {
    Operands o{make_u8({c.m, c.k}, test::random_codes(rng, c.m * c.k, false)),
               make_u8({c.m, kb}, test::random_scales(rng, c.m * kb, false)),
               make_u8({c.k, c.h}, test::random_codes(rng, c.k * c.h, false)),
               make_u8({kb, c.h}, test::random_scales(rng, kb * c.h, false)),
               make_u8({c.h, c.n}, test::random_codes(rng, c.h * c.n, false)),
               make_u8({hb, c.n}, test::random_scales(rng, hb * c.n, false))};
    o.x.data[0] = 0x7F;  // NaN in both formats: row 0 of everything after it is NaN
    return o;
  }
  // Activations ~ N(0, 1), weights ~ N(0, 1/sqrt(fan-in)): X.W1 ~ N(0, 1), GELU's own range.
  const Mx x = mx_normal(rng, c.m, c.k, c.block, c.fx, 1.0F, false);
  const Mx w1 =
      mx_normal(rng, c.h, c.k, c.block, c.fw1, 1.0F / std::sqrt(static_cast<float>(c.k)), true);
  const Mx w2 =
      mx_normal(rng, c.n, c.h, c.block, c.fw2, 1.0F / std::sqrt(static_cast<float>(c.h)), true);
  return {make_u8({c.m, c.k}, x.codes),  make_u8({c.m, kb}, x.scales),
          make_u8({c.k, c.h}, w1.codes), make_u8({kb, c.h}, w1.scales),
          make_u8({c.h, c.n}, w2.codes), make_u8({hb, c.n}, w2.scales)};
}

std::uint32_t fmt_code(num::Fp8Format f) {
  return f == num::Fp8Format::kE5M2 ? 1U : 0U;
}

std::string fmt_name(num::Fp8Format f) {
  return std::string(num::format_name(f));
}

sim::ChipJob mlp_job(const Case& c, const Operands& o) {
  sim::ChipJob job;
  job.firmware_name = "mlp";
  job.firmware_elf = bundled::elf("mlp");
  REQUIRE_FALSE(job.firmware_elf.empty());
  job.inputs = {{"X", o.x},     {"SX", o.sx}, {"W1", o.w1},
                {"SW1", o.sw1}, {"W2", o.w2}, {"SW2", o.sw2}};
  const auto hb = c.h / static_cast<std::size_t>(c.block);
  job.outputs.emplace_back("Y", make_f32({c.m, c.n}, std::vector<float>(c.m * c.n)));
  job.outputs.emplace_back("HQ", make_u8({c.m, c.h}, std::vector<std::uint8_t>(c.m * c.h)));
  job.outputs.emplace_back("HS", make_u8({c.m, hb}, std::vector<std::uint8_t>(c.m * hb)));
  job.read_back = {"Y", "HQ", "HS"};
  job.scalars = {{"form", c.form},
                 {"block", static_cast<std::uint32_t>(c.block)},
                 {"fmt_x", fmt_code(c.fx)},
                 {"fmt_w1", fmt_code(c.fw1)},
                 {"fmt_w2", fmt_code(c.fw2)},
                 {"fmt_h", fmt_code(c.fh)}};
  job.config_path = c.config;
  return job;
}

// The UE8M0 scale of a block by DESIGN §3's floor rule, written out: 2^(floor(log2 amax) - emax)
// clamped to [2^-127, 2^127]; 0xFF for NaN or Inf in the block, 2^0 for an all-zero block.
std::uint8_t floor_scale(const float* v, std::size_t n, num::Fp8Format f) {
  float amax = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!std::isfinite(v[i])) return 0xFF;
    amax = std::max(amax, std::fabs(v[i]));
  }
  if (amax == 0) return 127;
  const int emax = f == num::Fp8Format::kE4M3 ? 8 : 15;
  return static_cast<std::uint8_t>(std::clamp(std::ilogb(amax) - emax + 127, 0, 254));
}

// The largest error of one element's FP8 code under scale 2^se (DESIGN §3: RNE, satfinite):
// half a code step at |g| / 2^se's binade, or the clipping above the largest finite code.
LD quant_bound(float g, int se, num::Fp8Format f) {
  const bool e4 = f == num::Fp8Format::kE4M3;
  const LD maxf = e4 ? 448.0L : 57344.0L;
  const int mbits = e4 ? 3 : 2, emin = e4 ? -6 : -14;
  const LD v = std::fabs(static_cast<LD>(g)) * std::ldexp(1.0L, -se);
  if (v > maxf) return (v - maxf) * std::ldexp(1.0L, se);
  const int e = v == 0 ? emin : std::max(std::ilogb(v), emin);
  return std::ldexp(1.0L, e - mbits - 1 + se);
}

void check_mlp(const Case& c, std::uint64_t seed) {
  INFO(fmt::format("{}x{}x{}x{} block {} form {} fmt {}/{}/{}/{} wide {}", c.m, c.k, c.h, c.n,
                   c.block, c.form, fmt_name(c.fx), fmt_name(c.fw1), fmt_name(c.fw2),
                   fmt_name(c.fh), c.wide));
  std::mt19937_64 rng(seed);
  const Operands o = make_operands(c, rng);
  const sim::ChipJobResult r = test::run_job(mlp_job(c, o));
  REQUIRE(r.exit_code == 0);
  const auto hb = c.h / static_cast<std::size_t>(c.block);
  const auto bs = static_cast<std::size_t>(c.block);

  // 1. The intermediate: mx_quantize of the correctly rounded long double GELU of the exact GEMM.
  sim::GemmJob g1;
  g1.a = o.x, g1.sa = o.sx, g1.b = o.w1, g1.sb = o.sw1;
  g1.fmt_a = fmt_name(c.fx), g1.fmt_b = fmt_name(c.fw1), g1.block = c.block;
  const std::vector<float> c1 = test::reference(g1);
  std::vector<LD> gl(c1.size());
  std::vector<float> g(c1.size());
  std::vector<bool> tie(c1.size(), false);  // the VPU may round either way (0.501 ulp)
  for (std::size_t i = 0; i < c1.size(); ++i) {
    if (std::isnan(c1[i])) {
      gl[i] = std::numeric_limits<LD>::quiet_NaN();
      g[i] = NAN;
      continue;
    }
    gl[i] = gelu_ref(c1[i], c.form == 1);
    g[i] = static_cast<float>(gl[i]);
    tie[i] = ulp_err(g[i], gl[i]) >= 0.499L;
  }
  std::vector<std::uint8_t> q(c.m * c.h), s(c.m * hb);
  num::mx_quantize(g, c.m, c.h, c.block, c.fh, num::MxScaleMode::kFloor, q, s);
  const NpyArray& hq = r.outputs.at("HQ");
  const NpyArray& hs = r.outputs.at("HS");
  std::size_t mismatched_blocks = 0, ties = 0;
  for (std::size_t row = 0; row < c.m; ++row) {
    for (std::size_t b = 0; b < hb; ++b) {
      const std::size_t i0 = row * c.h + b * bs;
      REQUIRE(floor_scale(&g[i0], bs, c.fh) == s[row * hb + b]);
      const bool same = hs.data[row * hb + b] == s[row * hb + b] &&
                        std::equal(q.begin() + static_cast<std::ptrdiff_t>(i0),
                                   q.begin() + static_cast<std::ptrdiff_t>(i0 + bs),
                                   hq.data.begin() + static_cast<std::ptrdiff_t>(i0));
      const auto nt = static_cast<std::size_t>(
          std::count(tie.begin() + static_cast<std::ptrdiff_t>(i0),
                     tie.begin() + static_cast<std::ptrdiff_t>(i0 + bs), true));
      ties += nt;
      if (!same) {
        INFO(fmt::format("intermediate row {} block {}", row, b));
        REQUIRE(nt > 0);  // a difference only where the GELU's rounding is a near-tie
        ++mismatched_blocks;
      }
    }
  }

  // 2. Y: the exact GEMM of the chip's intermediate (checked above) with W2, bit for bit.
  sim::GemmJob g2;
  g2.a = hq, g2.sa = hs, g2.b = o.w2, g2.sb = o.sw2;
  g2.fmt_a = fmt_name(c.fh), g2.fmt_b = fmt_name(c.fw2), g2.block = c.block;
  test::require_bit_exact(r.outputs.at("Y"), g2);

  // 3. Accuracy against the long double MLP without quantisation, Y* = GELU(C1) . W2:
  //    |Y - Y*| <= sum_h (q_h + 0.501 ulp(g_h)) |w2_h| + H 2^-24 sum_h |hq_h w2_h|,
  //    q_h the element's quantisation bound (quant_bound) and the last term the FP32 sum's.
  const std::vector<float> y = r.outputs.at("Y").as_f32();
  double worst = 0, worst_rel = 0;
  for (std::size_t row = 0; row < c.m; ++row) {
    if (std::isnan(c1[row * c.h])) continue;  // the NaN row (wide case): checked bit for bit
    for (std::size_t col = 0; col < c.n; ++col) {
      LD want = 0, bound = 0, mag = 0, gmag = 0;
      for (std::size_t hh = 0; hh < c.h; ++hh) {
        const std::size_t b = hh / bs;
        const LD w = static_cast<LD>(num::decode(c.fw2, o.w2.data[hh * c.n + col])) *
                     std::ldexp(1.0L, o.sw2.data[b * c.n + col] - 127);
        const std::size_t i = row * c.h + hh;
        const int se = hs.data[row * hb + b] - 127;
        const LD hv = static_cast<LD>(num::decode(c.fh, hq.data[i])) * std::ldexp(1.0L, se);
        const LD ulp = std::ldexp(1.0L, std::max(std::ilogb(g[i] == 0 ? 1e-38F : g[i]), -126) - 23);
        want += gl[i] * w;
        bound += (quant_bound(g[i], se, c.fh) + 0.501L * ulp) * std::fabs(w);
        mag += std::fabs(hv * w);
        gmag += std::fabs(gl[i] * w);
      }
      bound += static_cast<LD>(c.h) * std::ldexp(1.0L, -24) * mag;
      const LD err = std::fabs(static_cast<LD>(y[row * c.n + col]) - want);
      worst = std::max(worst, static_cast<double>(err / bound));
      if (gmag > 0) worst_rel = std::max(worst_rel, static_cast<double>(err / gmag));
    }
  }
  fmt::print(
      "mlp {}x{}x{}x{} block {} {} h {}: intermediate {} of {} blocks differ ({} near-ties); "
      "|Y - Y*| at most {:.3f} of the bound, {:.3g} of sum |GELU . W2|; {} cycles\n",
      c.m, c.k, c.h, c.n, c.block, c.form == 0 ? "tanh" : "erf", fmt_name(c.fh), mismatched_blocks,
      c.m * hb, ties, worst, worst_rel, r.total_cycles);
  CHECK(worst <= 1.0);
}

const std::string& small_mxu_config() {
  // 16 x 16 arrays, two MXUs, 4 KiB accumulators: 32-row panels, so M = 70 takes three.
  static const std::string p = test::temp_config(
      "mxemu_mlp_small.toml", "[mxu]\nrows = 16\ncols = 16\ncount = 2\nacc_bytes = 4096\n");
  return p;
}

}  // namespace

TEST_CASE("mlp kernel against quant(GELU(X.W1)).W2 on the host", "[chip][kernels][mlp]") {
  using F = num::Fp8Format;
  const F e4 = F::kE4M3, e5 = F::kE5M2;
  const Case cases[] = {
      {70, 192, 160, 96, 32, 0, e4, e4, e4, e4, false, ""},
      {37, 128, 256, 300, 32, 1, e4, e5, e4, e5, false, ""},
      {130, 256, 384, 130, 128, 1, e4, e4, e5, e4, false, ""},
      {20, 64, 128, 64, 32, 1, e4, e4, e4, e4, true, ""},
      {70, 48, 80, 40, 16, 0, e4, e4, e4, e4, false, small_mxu_config()},
  };
  std::uint64_t seed = 1;
  for (const Case& c : cases) check_mlp(c, seed++);
}

TEST_CASE("mlp kernel: fast and cycle-by-cycle mode agree", "[chip][kernels][mlp][modes]") {
  const Case c{37,
               48,
               80,
               40,
               16,
               1,
               num::Fp8Format::kE4M3,
               num::Fp8Format::kE4M3,
               num::Fp8Format::kE4M3,
               num::Fp8Format::kE4M3,
               false,
               small_mxu_config()};
  std::mt19937_64 rng(3);
  const Operands o = make_operands(c, rng);
  sim::ChipJob job = mlp_job(c, o);
  const sim::ChipJobResult fast = test::run_job(job);
  job.cycle_accurate = true;
  const sim::ChipJobResult exact = test::run_job(job);
  REQUIRE(fast.exit_code == 0);
  REQUIRE(exact.exit_code == 0);
  for (const char* name : {"Y", "HQ", "HS"}) {
    CHECK(fast.outputs.at(name).data == exact.outputs.at(name).data);
  }
  CHECK(fast.total_cycles == exact.total_cycles);
  CHECK(fast.stats["engines"] == exact.stats["engines"]);
}

TEST_CASE("mlp kernel refuses bad tensors and scalars", "[chip][kernels][mlp]") {
  const Case c{8,
               64,
               32,
               16,
               32,
               0,
               num::Fp8Format::kE4M3,
               num::Fp8Format::kE4M3,
               num::Fp8Format::kE4M3,
               num::Fp8Format::kE4M3,
               false,
               ""};
  std::mt19937_64 rng(4);
  const Operands good = make_operands(c, rng);
  const auto error_of = [&](const std::function<void(sim::ChipJob&)>& spoil) -> std::string {
    sim::ChipJob job = mlp_job(c, good);
    spoil(job);
    return test::outcome(job);
  };
  const auto drop = [](sim::ChipJob& j, const std::string& name) {
    std::erase_if(j.inputs, [&](const auto& t) { return t.first == name; });
  };
  const std::string sw2 = error_of([&](sim::ChipJob& j) { drop(j, "SW2"); });
  CHECK_THAT(sw2, Catch::Contains("exit 2"));
  CHECK_THAT(sw2, Catch::Contains("mlp: error: launch block lacks SW2"));
  const std::string f32 = error_of([&](sim::ChipJob& j) {
    test::replace_input(j, "X", make_f32({8, 64}, std::vector<float>(8 * 64)));
  });
  CHECK_THAT(f32, Catch::Contains("mlp: error: X must be a 2-D uint8 array (got float32, 2"));
  const std::string rows = error_of([&](sim::ChipJob& j) {
    test::replace_input(j, "W1", make_u8({32, 32}, std::vector<std::uint8_t>(32 * 32)));
  });
  CHECK_THAT(rows, Catch::Contains("mlp: error: W1 is 32 x 32, expected 64 x 32"));
  const std::string scales = error_of([&](sim::ChipJob& j) {
    test::replace_input(j, "SX", make_u8({8, 3}, std::vector<std::uint8_t>(8 * 3)));
  });
  CHECK_THAT(scales, Catch::Contains("mlp: error: SX is 8 x 3, expected 8 x 2"));
  const std::string form = error_of([](sim::ChipJob& j) {
    std::erase_if(j.scalars, [](const auto& s) { return s.first == "form"; });
  });
  CHECK_THAT(form, Catch::Contains("exit 2"));
  CHECK_THAT(form, Catch::Contains("mlp: error: missing scalar form: 0 (tanh) or 1 (erf)"));
  const std::string block = error_of([](sim::ChipJob& j) {
    for (auto& s : j.scalars) {
      if (s.first == "block") s.second = 48;
    }
  });
  CHECK_THAT(block, Catch::Contains("mlp: error: block 48 must divide the MXU columns (128)"));
  const std::string y = error_of([](sim::ChipJob& j) {
    j.outputs.front().second = make_f32({8, 15}, std::vector<float>(8 * 15));
  });
  CHECK_THAT(y, Catch::Contains("mlp: error: Y must be a 8 x 16 float32 array"));
}
