// Every row of the shared golden vectors, bit-exact (NaN by class where the README says so).
#include <fmt/core.h>
#include <catch2/catch.hpp>

#include <cmath>

#include "model/numerics/fp8.h"
#include "model/numerics/fused.h"
#include "tests/common/vectors.h"

using namespace mxemu::num;
using mxemu::test::hex;
using mxemu::test::read_table;

TEST_CASE("decode every FP8 and UE8M0 code", "[numerics][vectors]") {
  const auto t = read_table("fp8_decode.tsv");
  REQUIRE(t.rows.size() == 256);
  for (const auto& r : t.rows) {
    const auto code = static_cast<std::uint8_t>(hex(r[t.col("code")]));
    const auto check = [&](float got, const std::string& want_hex, const std::string& cls,
                           const char* what) {
      INFO(fmt::format("{} code 0x{:02x}: got 0x{:08x} want {} ({})", what, code, f32_bits(got),
                       want_hex, cls));
      if (cls.find("nan") != std::string::npos) {
        CHECK(std::isnan(got));
      } else {
        CHECK(f32_bits(got) == hex(want_hex));
      }
    };
    check(decode(Fp8Format::kE4M3, code), r[t.col("e4m3_f32")], r[t.col("e4m3_class")], "e4m3");
    check(decode(Fp8Format::kE5M2, code), r[t.col("e5m2_f32")], r[t.col("e5m2_class")], "e5m2");
    check(decode_ue8m0(code), r[t.col("ue8m0_f32")], r[t.col("ue8m0_class")], "ue8m0");
  }
}

namespace {
void check_fp8_conversion(const char* file, Fp8Format f) {
  const auto t = read_table(file);
  REQUIRE(t.rows.size() == 20000);
  const std::size_t in = t.col("in_f32"), sat = t.col("cuda_sat"), nosat = t.col("cuda_nosat"),
                    tag = t.col("tag");
  std::size_t bad = 0;
  for (const auto& r : t.rows) {
    const float x = f32_from_bits(hex(r[in]));
    const auto got_sat = encode(f, x, SatMode::kSatFinite);
    const auto got_nosat = encode(f, x, SatMode::kNonSat);
    if (got_sat != hex(r[sat]) || got_nosat != hex(r[nosat])) {
      if (++bad <= 10) {
        FAIL_CHECK(
            fmt::format("{} in 0x{} ({}): sat got 0x{:02x} want 0x{}, nonsat got 0x{:02x} "
                        "want 0x{}",
                        format_name(f), r[in], r[tag], got_sat, r[sat], got_nosat, r[nosat]));
      }
    }
  }
  CHECK(bad == 0);
}
}  // namespace

TEST_CASE("FP32 -> E4M3 matches every vector row", "[numerics][vectors]") {
  check_fp8_conversion("fp32_to_e4m3.tsv", Fp8Format::kE4M3);
}

TEST_CASE("FP32 -> E5M2 matches every vector row", "[numerics][vectors]") {
  check_fp8_conversion("fp32_to_e5m2.tsv", Fp8Format::kE5M2);
}

TEST_CASE("FP32 -> UE8M0 matches every vector row", "[numerics][vectors]") {
  const auto t = read_table("fp32_to_ue8m0.tsv");
  REQUIRE(t.rows.size() == 6725);
  std::size_t bad = 0;
  for (const auto& r : t.rows) {
    const float x = f32_from_bits(hex(r[t.col("in_f32")]));
    const std::uint32_t want[4] = {hex(r[t.col("cuda_rz_sat")]), hex(r[t.col("cuda_rz_nosat")]),
                                   hex(r[t.col("cuda_rp_sat")]), hex(r[t.col("cuda_rp_nosat")])};
    const std::uint32_t got[4] = {encode_ue8m0(x, Ue8m0Round::kTowardZero, true),
                                  encode_ue8m0(x, Ue8m0Round::kTowardZero, false),
                                  encode_ue8m0(x, Ue8m0Round::kUp, true),
                                  encode_ue8m0(x, Ue8m0Round::kUp, false)};
    for (int i = 0; i < 4; ++i) {
      if (got[i] != want[i] && ++bad <= 10) {
        FAIL_CHECK(fmt::format("ue8m0 in 0x{} ({}), mode {}: got 0x{:02x} want 0x{:02x}",
                               r[t.col("in_f32")], r[t.col("tag")], i, got[i], want[i]));
      }
    }
  }
  CHECK(bad == 0);
}

TEST_CASE("all 196,608 FP8 products are exact (fused step with acc = +0, unit scales)",
          "[numerics][vectors]") {
  const auto t = read_table("fp8_products.tsv");
  REQUIRE(t.rows.size() == 196608);
  std::size_t bad = 0;
  for (const auto& r : t.rows) {
    const Fp8Format fa = *parse_format(r[t.col("fmt_a")]);
    const Fp8Format fb = *parse_format(r[t.col("fmt_b")]);
    const auto a = static_cast<std::uint8_t>(hex(r[t.col("a")]));
    const auto b = static_cast<std::uint8_t>(hex(r[t.col("b")]));
    const std::uint32_t want = hex(r[t.col("prod_f32")]);
    // The product alone: -0 accumulator, so that (-0) + p keeps p's sign for p = +-0 too.
    const std::uint32_t got = fused_step_bits(0x80000000u, fa, a, fb, b);
    const bool want_nan = (want & 0x7FFFFFFFu) > 0x7F800000u;
    const bool ok = want_nan ? got == kCanonicalNanBits : got == want;
    if (!ok && ++bad <= 10) {
      FAIL_CHECK(fmt::format("{}x{} a=0x{:02x} b=0x{:02x}: got 0x{:08x} want 0x{:08x}",
                             format_name(fa), format_name(fb), a, b, got, want));
    }
  }
  CHECK(bad == 0);
}
