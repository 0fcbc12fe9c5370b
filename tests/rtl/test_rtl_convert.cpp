// The converter RTL (rtl/fp8/fp8_from_fp32.sv, ue8m0_from_fp32.sv; Verilated as 32 parallel
// lanes, each converting to every format and mode) against every row of the shared golden vectors
// (../shared/vectors, CUDA columns) and against the C++ reference on the directed corners of
// testbench/cosim/cvt_harness.h and on 10,000,000 random FP32 inputs (uniform bit patterns and
// values concentrated around the FP8 ranges).
#include <fmt/core.h>
#include <catch2/catch.hpp>

#include <memory>
#include <random>

#include "Vfp8_cvt_lanes.h"
#include "model/numerics/fp8.h"
#include "testbench/cosim/cvt_harness.h"
#include "tests/common/vectors.h"

using namespace mxemu;

namespace {

constexpr int kLanes = cosim::kCvtLanes;
using Converter = cosim::Converter<Vfp8_cvt_lanes>;
using cosim::CvtOuts;

// Runs a golden table's rows through the RTL: `cols` names (column, index into CvtOuts) pairs.
void check_table(const std::string& file, const std::vector<std::pair<std::string, int>>& cols) {
  const auto t = test::read_table(file);
  REQUIRE(t.rows.size() > 1000);
  const std::size_t in_col = t.col("in_f32");
  Converter cvt;
  std::uint64_t mismatches = 0;
  std::vector<std::uint32_t> in;
  std::vector<CvtOuts> out;
  for (std::size_t base = 0; base < t.rows.size(); base += kLanes) {
    in.clear();
    for (std::size_t r = base; r < std::min(t.rows.size(), base + kLanes); ++r) {
      in.push_back(test::hex(t.rows[r][in_col]));
    }
    cvt.run(in, out);
    for (std::size_t l = 0; l < in.size(); ++l) {
      for (const auto& [name, k] : cols) {
        const auto want = static_cast<std::uint8_t>(test::hex(t.rows[base + l][t.col(name)]));
        const std::uint8_t got = out[l][static_cast<std::size_t>(k)];
        if (got != want && ++mismatches <= 10) {
          FAIL_CHECK(fmt::format("{} column {}: input {:08x}: expected {:02x}, got {:02x}", file,
                                 name, in[l], want, got));
        }
      }
    }
  }
  CHECK(mismatches == 0);
}

}  // namespace

TEST_CASE("FP32 -> E4M3 RTL equals every row of fp32_to_e4m3.tsv", "[rtl][convert]") {
  check_table("fp32_to_e4m3.tsv", {{"cuda_sat", 0}, {"cuda_nosat", 1}});
}

TEST_CASE("FP32 -> E5M2 RTL equals every row of fp32_to_e5m2.tsv", "[rtl][convert]") {
  check_table("fp32_to_e5m2.tsv", {{"cuda_sat", 2}, {"cuda_nosat", 3}});
}

TEST_CASE("FP32 -> UE8M0 RTL equals every row of fp32_to_ue8m0.tsv", "[rtl][convert]") {
  check_table("fp32_to_ue8m0.tsv",
              {{"cuda_rz_sat", 4}, {"cuda_rz_nosat", 5}, {"cuda_rp_sat", 6}, {"cuda_rp_nosat", 7}});
}

TEST_CASE("converter RTL equals the C++ reference on the directed corners", "[rtl][convert]") {
  Converter cvt;
  const std::vector<std::uint32_t> in = cosim::converter_corners();
  cosim::CvtReport rep;
  cosim::check_converter(cvt, in, rep);
  for (const auto& m : rep.mismatches) FAIL_CHECK(m);
  CHECK(rep.checked == in.size() * 8);
  CHECK(in.size() > 2000);
  CHECK(rep.ok());
}

TEST_CASE("converter RTL equals the C++ reference on 10,000,000 random FP32 inputs",
          "[rtl][convert]") {
  std::mt19937_64 rng(2024);
  Converter cvt;
  std::vector<std::uint32_t> in(kLanes);
  cosim::CvtReport rep;
  constexpr std::uint64_t kInputs = 10'000'000;
  for (std::uint64_t base = 0; base < kInputs; base += kLanes) {
    for (auto& x : in) {
      const std::uint64_t r = rng();
      auto bits = static_cast<std::uint32_t>(r);
      if ((r >> 32) % 2 == 0) {
        // Half the inputs near the FP8 ranges: biased exponents 100..160 (2^-27 .. 2^33).
        const std::uint32_t e = 100 + static_cast<std::uint32_t>((r >> 40) % 61);
        bits = (bits & 0x807FFFFFu) | (e << 23);
      }
      x = bits;
    }
    cosim::check_converter(cvt, in, rep);
  }
  for (const auto& m : rep.mismatches) FAIL_CHECK(m);
  CHECK(rep.checked == kInputs * 8);
  CHECK(rep.ok());
}
