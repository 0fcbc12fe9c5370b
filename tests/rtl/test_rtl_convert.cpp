// The converter RTL (rtl/fp8/fp8_from_fp32.sv, ue8m0_from_fp32.sv; Verilated as 32 parallel
// lanes, each converting to every format and mode) against every row of the shared golden vectors
// (../shared/vectors, CUDA columns) and against the C++ reference on 10,000,000 random FP32
// inputs (uniform bit patterns and values concentrated around the FP8 ranges).
#include <fmt/core.h>
#include <catch2/catch.hpp>

#include <memory>
#include <random>

#include "Vfp8_cvt_lanes.h"
#include "model/numerics/fp8.h"
#include "testbench/cosim/tile_harness.h"
#include "tests/common/vectors.h"

using namespace mxemu;
using num::Fp8Format;
using num::SatMode;
using num::Ue8m0Round;

namespace {

constexpr int kLanes = 32;

struct Outs {
  std::uint8_t e4m3_sat, e4m3_nonsat, e5m2_sat, e5m2_nonsat, rz_sat, rz_nonsat, rp_sat, rp_nonsat;
};

template <typename Port>
std::uint8_t byte_of(const Port& p, int lane) {
  return static_cast<std::uint8_t>(p[static_cast<std::size_t>(lane / 4)] >> (8 * (lane % 4)));
}

// Converts up to kLanes inputs in one eval.
class Converter {
 public:
  Converter() : top_(std::make_unique<Vfp8_cvt_lanes>()) {}
  void run(const std::vector<std::uint32_t>& in, std::vector<Outs>& out) {
    std::vector<std::uint32_t> words(kLanes, 0);
    std::copy(in.begin(), in.end(), words.begin());
    cosim::put_words(top_->f32_i, words);
    top_->eval();
    out.resize(in.size());
    for (std::size_t l = 0; l < in.size(); ++l) {
      const int i = static_cast<int>(l);
      out[l] = {byte_of(top_->e4m3_sat_o, i),     byte_of(top_->e4m3_nonsat_o, i),
                byte_of(top_->e5m2_sat_o, i),     byte_of(top_->e5m2_nonsat_o, i),
                byte_of(top_->ue8m0_rz_sat_o, i), byte_of(top_->ue8m0_rz_nonsat_o, i),
                byte_of(top_->ue8m0_rp_sat_o, i), byte_of(top_->ue8m0_rp_nonsat_o, i)};
    }
  }

 private:
  std::unique_ptr<Vfp8_cvt_lanes> top_;
};

// Runs a golden table's rows through the RTL: `cols` names (column, getter) pairs.
template <typename Get>
void check_table(const std::string& file, const std::vector<std::pair<std::string, Get>>& cols) {
  const auto t = test::read_table(file);
  REQUIRE(t.rows.size() > 1000);
  const std::size_t in_col = t.col("in_f32");
  Converter cvt;
  std::uint64_t mismatches = 0;
  std::vector<std::uint32_t> in;
  std::vector<Outs> out;
  for (std::size_t base = 0; base < t.rows.size(); base += kLanes) {
    in.clear();
    for (std::size_t r = base; r < std::min(t.rows.size(), base + kLanes); ++r) {
      in.push_back(test::hex(t.rows[r][in_col]));
    }
    cvt.run(in, out);
    for (std::size_t l = 0; l < in.size(); ++l) {
      for (const auto& [name, get] : cols) {
        const auto want = static_cast<std::uint8_t>(test::hex(t.rows[base + l][t.col(name)]));
        const std::uint8_t got = get(out[l]);
        if (got != want && ++mismatches <= 10) {
          FAIL_CHECK(fmt::format("{} column {}: input {:08x}: expected {:02x}, got {:02x}", file,
                                 name, in[l], want, got));
        }
      }
    }
  }
  CHECK(mismatches == 0);
}

using Get = std::uint8_t (*)(const Outs&);

}  // namespace

TEST_CASE("FP32 -> E4M3 RTL equals every row of fp32_to_e4m3.tsv", "[rtl][convert]") {
  check_table<Get>("fp32_to_e4m3.tsv",
                   {{"cuda_sat", [](const Outs& o) { return o.e4m3_sat; }},
                    {"cuda_nosat", [](const Outs& o) { return o.e4m3_nonsat; }}});
}

TEST_CASE("FP32 -> E5M2 RTL equals every row of fp32_to_e5m2.tsv", "[rtl][convert]") {
  check_table<Get>("fp32_to_e5m2.tsv",
                   {{"cuda_sat", [](const Outs& o) { return o.e5m2_sat; }},
                    {"cuda_nosat", [](const Outs& o) { return o.e5m2_nonsat; }}});
}

TEST_CASE("FP32 -> UE8M0 RTL equals every row of fp32_to_ue8m0.tsv", "[rtl][convert]") {
  check_table<Get>("fp32_to_ue8m0.tsv",
                   {{"cuda_rz_sat", [](const Outs& o) { return o.rz_sat; }},
                    {"cuda_rz_nosat", [](const Outs& o) { return o.rz_nonsat; }},
                    {"cuda_rp_sat", [](const Outs& o) { return o.rp_sat; }},
                    {"cuda_rp_nosat", [](const Outs& o) { return o.rp_nonsat; }}});
}

TEST_CASE("converter RTL equals the C++ reference on 10,000,000 random FP32 inputs",
          "[rtl][convert]") {
  std::mt19937_64 rng(2024);
  Converter cvt;
  std::vector<std::uint32_t> in(kLanes);
  std::vector<Outs> out;
  std::uint64_t checked = 0, mismatches = 0;
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
    cvt.run(in, out);
    for (int l = 0; l < kLanes; ++l) {
      const float f = num::f32_from_bits(in[l]);
      const Outs want{num::encode(Fp8Format::kE4M3, f, SatMode::kSatFinite),
                      num::encode(Fp8Format::kE4M3, f, SatMode::kNonSat),
                      num::encode(Fp8Format::kE5M2, f, SatMode::kSatFinite),
                      num::encode(Fp8Format::kE5M2, f, SatMode::kNonSat),
                      num::encode_ue8m0(f, Ue8m0Round::kTowardZero, true),
                      num::encode_ue8m0(f, Ue8m0Round::kTowardZero, false),
                      num::encode_ue8m0(f, Ue8m0Round::kUp, true),
                      num::encode_ue8m0(f, Ue8m0Round::kUp, false)};
      const Outs& got = out[l];
      const std::uint8_t* w = &want.e4m3_sat;
      const std::uint8_t* g = &got.e4m3_sat;
      static constexpr const char* kNames[] = {
          "e4m3 satfinite", "e4m3 nonsat",     "e5m2 satfinite", "e5m2 nonsat",
          "ue8m0 rz sat",   "ue8m0 rz nonsat", "ue8m0 rp sat",   "ue8m0 rp nonsat"};
      for (int k = 0; k < 8; ++k) {
        ++checked;
        if (w[k] != g[k] && ++mismatches <= 10) {
          FAIL_CHECK(fmt::format("{}: input {:08x}: expected {:02x}, got {:02x}", kNames[k], in[l],
                                 w[k], g[k]));
        }
      }
    }
  }
  CHECK(checked == kInputs * 8);
  CHECK(mismatches == 0);
}
