// The fast reference GEMM (gemm) against the definition (gemm_exact, a naive loop over the fused
// step, itself checked against an exact integer model in test_fused.cpp): bit-identical for every
// ISA level the host has, the FMA path and the exact-step fallback, 1 and several threads, random
// shapes that are multiples of nothing, scaled (several block sizes) and unscaled, with and
// without C_init, with NaN/Inf codes, subnormals and the scales 0x00, 0xFE and 0xFF. Plus
// closed-form cases whose results are known without any of the code under test.
#include <fmt/core.h>
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <random>
#include <stdexcept>
#include <vector>

#if defined(__x86_64__)
#include <xmmintrin.h>
#endif

#include "model/numerics/gemm.h"

using mxemu::num::f32_bits;
using mxemu::num::f32_from_bits;
using mxemu::num::Fp8Format;
using mxemu::num::GemmIsa;
using mxemu::num::GemmOptions;
using mxemu::num::GemmProblem;
using mxemu::num::GemmStats;

namespace {

constexpr std::uint32_t kNan = 0x7FC00000u;

struct Storage {
  std::vector<std::uint8_t> a, b, sa, sb;
  std::vector<float> c_init;
  GemmProblem p;
  void bind() {
    p.a = a;
    p.b = b;
    p.scale_a = sa;
    p.scale_b = sb;
    p.c_init = c_init;
  }
};

// How often the special values appear; 0 gives plain finite data.
struct Mix {
  double special = 0.0;    // NaN / Inf / zero codes
  double big_scale = 0.0;  // scales >= 0xF0 (operands that overflow FP32 when dequantised)
  double odd_scale = 0.0;  // 0x00, 0x01, 0xFE, 0xFF
};

std::uint8_t rand_code(std::mt19937_64& rng, Fp8Format f, const Mix& mix) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  const auto sign = static_cast<std::uint8_t>(rng() & 0x80);
  if (u(rng) < mix.special) {
    switch (rng() % 5) {
      case 0:
        return sign | 0x7F;  // NaN (both formats)
      case 1:
        return sign | (f == Fp8Format::kE5M2 ? 0x7C : 0x7E);  // Inf / max finite
      case 2:
        return sign;  // signed zero
      case 3:
        return sign | static_cast<std::uint8_t>(1 + rng() % 3);  // subnormal
      default:
        return sign | (f == Fp8Format::kE5M2 ? 0x7B : 0x7E);  // max finite
    }
  }
  if (u(rng) < mix.big_scale) {  // large elements: with scales >= 0xF0 they leave FP32's range
    return sign |
           static_cast<std::uint8_t>(f == Fp8Format::kE5M2 ? 0x70 + rng() % 12 : 0x70 + rng() % 15);
  }
  // Mostly moderate magnitudes so that sums neither saturate nor vanish.
  const int lo = f == Fp8Format::kE4M3 ? 0x20 : 0x30;
  return sign | static_cast<std::uint8_t>(lo + static_cast<int>(rng() % 0x20));
}

std::uint8_t rand_scale(std::mt19937_64& rng, const Mix& mix) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  const double x = u(rng);
  if (x < mix.odd_scale) {
    const std::uint8_t odd[] = {0x00, 0x01, 0xFE, 0xFF};
    return odd[rng() % 4];
  }
  if (x < mix.odd_scale + mix.big_scale) return static_cast<std::uint8_t>(0xF0 + rng() % 15);
  return static_cast<std::uint8_t>(117 + rng() % 21);
}

float rand_c_init(std::mt19937_64& rng, const Mix& mix) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  if (u(rng) < mix.special) {
    const std::uint32_t odd[] = {0x7FC00000u, 0xFFC00001u, 0x7F800001u /* sNaN */,
                                 0x7F800000u, 0xFF800000u, 0x80000000u,
                                 0x00000001u, 0x807FFFFFu};
    return f32_from_bits(odd[rng() % 8]);
  }
  std::normal_distribution<float> nd(0.0f, 4.0f);
  return nd(rng);
}

Storage make(std::mt19937_64& rng, std::size_t m, std::size_t n, std::size_t k, bool scaled,
             int block, bool with_c, const Mix& mix) {
  Storage s;
  s.p.m = m;
  s.p.n = n;
  s.p.k = k;
  s.p.fmt_a = (rng() & 1) ? Fp8Format::kE4M3 : Fp8Format::kE5M2;
  s.p.fmt_b = (rng() & 1) ? Fp8Format::kE4M3 : Fp8Format::kE5M2;
  s.p.block = block;
  s.a.resize(m * k);
  s.b.resize(k * n);
  for (auto& x : s.a) x = rand_code(rng, s.p.fmt_a, mix);
  for (auto& x : s.b) x = rand_code(rng, s.p.fmt_b, mix);
  if (scaled) {
    const std::size_t kb = k / static_cast<std::size_t>(block);
    s.sa.resize(m * kb);
    s.sb.resize(kb * n);
    for (auto& x : s.sa) x = rand_scale(rng, mix);
    for (auto& x : s.sb) x = rand_scale(rng, mix);
  }
  if (with_c) {
    s.c_init.resize(m * n);
    for (auto& x : s.c_init) x = rand_c_init(rng, mix);
  }
  s.bind();
  return s;
}

std::vector<GemmIsa> host_isas() {
  std::vector<GemmIsa> isas;
  for (GemmIsa isa : {GemmIsa::kPortable, GemmIsa::kAvx2, GemmIsa::kAvx512}) {
    if (mxemu::num::isa_supported(isa)) {
      isas.push_back(isa);
    } else {
      WARN("host lacks " << mxemu::num::isa_name(isa) << ": that kernel is not tested here");
    }
  }
  return isas;
}

// Runs every kernel / thread count / path and requires identical bits to gemm_exact.
// Returns the summed stats of the non-forced runs.
GemmStats check_all(const Storage& s, const std::string& what) {
  const GemmProblem& p = s.p;
  std::vector<float> want(p.m * p.n);
  mxemu::num::gemm_exact(p, want);
  GemmStats sum;
  for (GemmIsa isa : host_isas()) {
    for (int threads : {1, 2}) {
      for (bool force : {false, true}) {
        std::vector<float> got(p.m * p.n, f32_from_bits(0x12345678u));
        GemmStats st;
        mxemu::num::gemm(p, got, GemmOptions{isa, threads, force}, st);
        INFO(what << " isa=" << mxemu::num::isa_name(isa) << " threads=" << threads
                  << " force_exact=" << force);
        REQUIRE(st.isa == isa);
        if (p.k > 0 && p.m > 0 && p.n > 0) {
          // Two threads are used whenever there are two register blocks to share out.
          const std::size_t blocks = ((p.m + static_cast<std::size_t>(st.mr) - 1) / st.mr) *
                                     ((p.n + static_cast<std::size_t>(st.nr) - 1) / st.nr);
          REQUIRE(st.threads == (blocks >= 2 ? threads : 1));
        }
        if (p.k > 0 && p.m > 0 && p.n > 0) {
          if (force) {
            REQUIRE(st.fast_units == 0);
            REQUIRE(st.exact_units > 0);
          } else {
            REQUIRE(st.fast_units + st.exact_units > 0);
            sum.fast_units += st.fast_units;
            sum.exact_units += st.exact_units;
          }
        }
        std::size_t bad = 0;
        for (std::size_t i = 0; i < want.size(); ++i) {
          if (f32_bits(got[i]) != f32_bits(want[i])) {
            if (bad++ < 5) {
              UNSCOPED_INFO(fmt::format("C[{}][{}]: got {:08x} want {:08x}", i / p.n, i % p.n,
                                        f32_bits(got[i]), f32_bits(want[i])));
            }
          }
        }
        REQUIRE(bad == 0);
      }
    }
  }
  return sum;
}

std::size_t odd_dim(std::mt19937_64& rng) {
  return 1 + 2 * (rng() % 49);
}  // 1, 3, ..., 97

}  // namespace

TEST_CASE("gemm: unscaled random shapes are bit-identical to gemm_exact", "[gemm]") {
  std::mt19937_64 rng(1);
  std::uint64_t fast = 0;
  for (int it = 0; it < 12; ++it) {
    const std::size_t m = odd_dim(rng), n = odd_dim(rng), k = odd_dim(rng);
    const bool with_c = it % 2 == 0;
    const Storage s = make(rng, m, n, k, false, 32, with_c, Mix{});
    const GemmStats st = check_all(s, fmt::format("unscaled {}x{}x{} c_init={}", m, n, k, with_c));
    // Unscaled FP8 values are always exact FP32 values: no fallback is ever needed.
    REQUIRE(st.exact_units == 0);
    fast += st.fast_units;
  }
  REQUIRE(fast > 0);
}

TEST_CASE("gemm: unscaled with NaN/Inf/zero/subnormal codes and odd C_init", "[gemm]") {
  std::mt19937_64 rng(2);
  for (int it = 0; it < 8; ++it) {
    const std::size_t m = odd_dim(rng), n = odd_dim(rng), k = odd_dim(rng);
    const Storage s = make(rng, m, n, k, false, 32, true, Mix{0.01, 0.0, 0.0});
    const GemmStats st = check_all(s, fmt::format("unscaled specials {}x{}x{}", m, n, k));
    REQUIRE(st.exact_units == 0);
  }
}

TEST_CASE("gemm: scaled random shapes, blocks 32/128/others, fallback exercised", "[gemm]") {
  std::mt19937_64 rng(3);
  const int blocks[] = {32, 128, 1, 7, 16, 48};
  std::uint64_t exact = 0, fast = 0;
  for (int it = 0; it < 18; ++it) {
    const int block = blocks[it % 6];
    const std::size_t nb = 1 + rng() % (block >= 128 ? 2 : 4);
    const std::size_t k = nb * static_cast<std::size_t>(block);
    const std::size_t m = odd_dim(rng), n = odd_dim(rng);
    const bool with_c = (it / 6) % 2 == 0;
    // Thirds: plain scales, scales with big values (fallback), everything odd.
    const Mix mix = it % 3 == 0   ? Mix{}
                    : it % 3 == 1 ? Mix{0.0, 0.05, 0.0}
                                  : Mix{0.005, 0.02, 0.02};
    const Storage s = make(rng, m, n, k, true, block, with_c, mix);
    const GemmStats st = check_all(s, fmt::format("scaled {}x{}x{} block {} c_init={} mix={}", m, n,
                                                  k, block, with_c, it % 3));
    if (it % 3 == 0) REQUIRE(st.exact_units == 0);
    exact += st.exact_units;
    fast += st.fast_units;
  }
  REQUIRE(exact > 0);  // the fallback really ran ...
  REQUIRE(fast > 0);   // ... and so did the FMA kernel
}

TEST_CASE("gemm: several macro tiles and K chunks with sparse fallback blocks", "[gemm]") {
  // Larger than one macro tile in M and N and one K chunk, so tiling, chunking and the mixing of
  // fast and exact k ranges inside one output element are all exercised.
  std::mt19937_64 rng(4);
  const Storage s = make(rng, 263, 541, 416, true, 32, true, Mix{0.0005, 0.003, 0.001});
  const GemmStats st = check_all(s, "263x541x416 block 32");
  REQUIRE(st.exact_units > 0);
  REQUIRE(st.fast_units > st.exact_units);
}

TEST_CASE("gemm: one-scale-side problems and degenerate shapes", "[gemm]") {
  std::mt19937_64 rng(5);
  Storage s = make(rng, 17, 9, 64, true, 32, false, Mix{0.0, 0.1, 0.0});
  s.sb.clear();  // only A has scales
  s.bind();
  check_all(s, "scale_a only");
  s = make(rng, 5, 33, 96, true, 32, true, Mix{0.0, 0.1, 0.0});
  s.sa.clear();  // only B has scales
  s.bind();
  check_all(s, "scale_b only");
  // K = 0: C is C_init bit for bit (even a non-canonical NaN), or +0.
  s = make(rng, 3, 4, 0, false, 32, true, Mix{});
  s.c_init[0] = f32_from_bits(0xFFC00001u);
  s.c_init[1] = f32_from_bits(0x80000000u);
  s.bind();
  std::vector<float> c(12);
  mxemu::num::gemm(s.p, c);
  REQUIRE(f32_bits(c[0]) == 0xFFC00001u);
  REQUIRE(f32_bits(c[1]) == 0x80000000u);
  check_all(s, "K=0 with C_init");
  s = make(rng, 0, 5, 7, false, 32, false, Mix{});
  check_all(s, "M=0");
}

TEST_CASE("gemm: C_init may be the output buffer itself; any thread count", "[gemm]") {
  std::mt19937_64 rng(8);
  Storage s = make(rng, 37, 45, 96, true, 32, true, Mix{0.002, 0.01, 0.01});
  std::vector<float> want(s.p.m * s.p.n);
  mxemu::num::gemm_exact(s.p, want);
  for (GemmIsa isa : host_isas()) {
    for (int threads : {0, 1, 2, 3, 7}) {  // 0: one per hardware thread
      std::vector<float> c = s.c_init;
      GemmProblem p = s.p;
      p.c_init = c;
      mxemu::num::gemm(p, c, GemmOptions{isa, threads, false});
      INFO("isa=" << mxemu::num::isa_name(isa) << " threads=" << threads);
      REQUIRE(std::memcmp(c.data(), want.data(), want.size() * sizeof(float)) == 0);
    }
  }
}

namespace {

// A 1 x 1 x K problem from explicit codes and scales; returns the result bits and stats.
std::uint32_t one(Fp8Format fa, std::vector<std::uint8_t> a, Fp8Format fb,
                  std::vector<std::uint8_t> b, std::vector<std::uint8_t> sa,
                  std::vector<std::uint8_t> sb, int block, float c_init, GemmIsa isa,
                  GemmStats& st) {
  GemmProblem p;
  p.m = 1;
  p.n = 1;
  p.k = a.size();
  p.fmt_a = fa;
  p.fmt_b = fb;
  p.a = a;
  p.b = b;
  p.scale_a = sa;
  p.scale_b = sb;
  p.block = block;
  const std::vector<float> ci{c_init};
  p.c_init = ci;
  std::vector<float> c(1);
  mxemu::num::gemm(p, c, GemmOptions{isa, 1, false}, st);
  return f32_bits(c[0]);
}

}  // namespace

TEST_CASE("gemm: closed-form corner cases on every kernel", "[gemm]") {
  const Fp8Format e4 = Fp8Format::kE4M3, e5 = Fp8Format::kE5M2;
  for (GemmIsa isa : host_isas()) {
    INFO("isa=" << mxemu::num::isa_name(isa));
    GemmStats st;
    // E5M2 Inf * 0 -> canonical NaN (x86 FMA makes the negative default NaN 0xFFC00000).
    REQUIRE(one(e5, {0x7C}, e5, {0x00}, {}, {}, 32, 0.0f, isa, st) == kNan);
    REQUIRE(one(e5, {0xFC}, e4, {0x80}, {}, {}, 32, -1.0f, isa, st) == kNan);
    // Inf - Inf -> NaN; once NaN, stays NaN.
    REQUIRE(one(e5, {0x7C, 0xFC, 0x38}, e4, {0x38, 0x38, 0x38}, {}, {}, 32, 0.0f, isa, st) == kNan);
    // Inf * finite -> signed Inf; NaN scale -> NaN even on a zero element.
    REQUIRE(one(e5, {0x7C}, e4, {0xB8}, {}, {}, 32, 5.0f, isa, st) == 0xFF800000u);
    REQUIRE(one(e4, {0x00}, e4, {0x00}, {0xFF}, {127}, 1, 1.0f, isa, st) == kNan);
    // A NaN C_init with any payload comes out canonical.
    REQUIRE(one(e4, {0x38}, e4, {0x38}, {}, {}, 32, f32_from_bits(0xFF800123u), isa, st) == kNan);
    // Signed zeros: -0 + (-1 * +0) = -0; -0 + (+0) = +0; exact cancellation 1 - 1 = +0.
    REQUIRE(one(e4, {0xB8}, e4, {0x00}, {}, {}, 32, -0.0f, isa, st) == 0x80000000u);
    REQUIRE(one(e4, {0x38}, e4, {0x00}, {}, {}, 32, -0.0f, isa, st) == 0x00000000u);
    REQUIRE(one(e4, {0xB8}, e4, {0x38}, {}, {}, 32, 1.0f, isa, st) == 0x00000000u);
    // 448 * 2^127 is not an FP32 value, but 448 * 1 * 2^(254 - 254) = 448 is: the exact step.
    REQUIRE(one(e4, {0x7E}, e4, {0x38}, {0xFE}, {0x00}, 1, 0.0f, isa, st) == f32_bits(448.0f));
    REQUIRE(st.exact_units == 1);
    REQUIRE(st.fast_units == 0);
    // The same within a longer K: block 0 fast (1*1), block 1 exact (+448), block 2 fast (+2).
    REQUIRE(one(e4, {0x38, 0x7E, 0x38}, e4, {0x38, 0x38, 0x40}, {127, 0xFE, 127}, {127, 0x00, 127},
                1, 0.0f, isa, st) == f32_bits(451.0f));
    REQUIRE(st.exact_units == 1);
    REQUIRE(st.fast_units == 2);
    // 2^127 * 2^127 overflows to +Inf through the fast path (both operands exact).
    REQUIRE(one(e4, {0x38}, e4, {0x38}, {0xFE}, {0xFE}, 1, 0.0f, isa, st) == 0x7F800000u);
    REQUIRE(st.exact_units == 0);
    // Subnormal products: 2^-9 * 2^-127 (scale 0x00) times 1 = 2^-136, an FP32 subnormal; plus
    // 2^-149 gives 2^-136 + 2^-149 exactly. Products below half of 2^-149 round away to +-0.
    REQUIRE(one(e4, {0x01}, e4, {0x38}, {0x00}, {127}, 1, f32_from_bits(1u), isa, st) ==
            ((1u << 13) | 1u));
    REQUIRE(one(e4, {0x01}, e4, {0x01}, {0x00}, {0x00}, 1, 0.0f, isa, st) == 0x00000000u);
    REQUIRE(one(e4, {0x81}, e4, {0x01}, {0x00}, {0x00}, 1, 0.0f, isa, st) == 0x80000000u);
  }
}

#if defined(__x86_64__)
TEST_CASE("gemm: ignores FTZ/DAZ set by the caller and restores MXCSR", "[gemm]") {
  std::mt19937_64 rng(6);
  Storage s = make(rng, 13, 21, 64, true, 32, true, Mix{});
  // 2^-127 and 2^-11: dequantised A values, products and most sums are FP32 subnormals.
  for (auto& x : s.sa) x = 0x00;
  for (auto& x : s.sb) x = 0x74;
  for (auto& x : s.c_init) x = f32_from_bits(static_cast<std::uint32_t>(rng() % 0x800000u));
  s.bind();
  std::vector<float> want(s.p.m * s.p.n);
  mxemu::num::gemm_exact(s.p, want);
  std::size_t subnormal = 0;
  for (float v : want) subnormal += (f32_bits(v) & 0x7F800000u) == 0 && v != 0.0f;
  REQUIRE(subnormal > want.size() / 2);
  const unsigned saved = _mm_getcsr();
  const unsigned ftz_daz = saved | 0x8040u;  // FTZ (bit 15) and DAZ (bit 6)
  for (GemmIsa isa : host_isas()) {
    for (int threads : {1, 2}) {
      std::vector<float> got(want.size());
      _mm_setcsr(ftz_daz);
      mxemu::num::gemm(s.p, got, GemmOptions{isa, threads, false});
      const unsigned after = _mm_getcsr();
      _mm_setcsr(saved);
      INFO("isa=" << mxemu::num::isa_name(isa) << " threads=" << threads);
      REQUIRE((after & 0xFFC0u) == (ftz_daz & 0xFFC0u));  // modes restored (flags may differ)
      REQUIRE(std::memcmp(got.data(), want.data(), want.size() * sizeof(float)) == 0);
    }
  }
}
#endif

TEST_CASE("gemm: bad input is rejected with a clear message", "[gemm]") {
  std::mt19937_64 rng(7);
  Storage s = make(rng, 4, 5, 64, true, 32, false, Mix{});
  std::vector<float> c(20);
  const auto message_of = [&](const GemmProblem& p, std::span<float> out, const GemmOptions& o) {
    try {
      mxemu::num::gemm(p, out, o);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no exception");
  };
  std::vector<float> small_c(19);
  CHECK_THAT(message_of(s.p, small_c, {}), Catch::Contains("C has 19 elements, expected 20"));
  GemmProblem p = s.p;
  p.k = 60;  // A and B no longer match, nor does K match the block
  CHECK_THAT(message_of(p, c, {}), Catch::Contains("A has"));
  Storage t = make(rng, 4, 5, 48, true, 32, false, Mix{});  // K = 48 with block 32
  t.sa.resize(4);
  t.sb.resize(5);
  t.bind();
  CHECK_THAT(message_of(t.p, c, {}), Catch::Contains("not a multiple of the block"));
  p = s.p;
  p.scale_b = std::span<const std::uint8_t>(s.sb.data(), s.sb.size() - 1);
  CHECK_THAT(message_of(p, c, {}), Catch::Contains("scale_b"));
  CHECK_THAT(message_of(s.p, c, GemmOptions{GemmIsa::kAuto, -1, false}),
             Catch::Contains("threads"));
  for (GemmIsa isa : {GemmIsa::kAvx2, GemmIsa::kAvx512}) {
    if (!mxemu::num::isa_supported(isa)) {
      CHECK_THAT(message_of(s.p, c, GemmOptions{isa, 1, false}),
                 Catch::Contains("does not support"));
    }
  }
}
