// The fused-step RTL (rtl/fp8/fp8_fused.sv, Verilated as 32 parallel lanes) against the C++
// reference num::fused_step_bits, exhaustively: every one of the 65,536 operand pairs of a format
// pair, each against 64 partial sums and 16 scale pairs chosen to hit rounding ties (at 2^24 and
// in the subnormals), subnormal results, overflow to Inf, signed zeros, cancellation and NaN/Inf.
// One test case per format pair (ctest runs them as three tests, in parallel).
#include <fmt/core.h>
#include <catch2/catch.hpp>

#include <array>
#include <memory>

#include "Vfp8_fused_lanes.h"
#include "model/numerics/fused.h"
#include "testbench/cosim/tile_harness.h"

using mxemu::num::Fp8Format;

namespace {

constexpr int kLanes = 32;  // NumLanes of the Verilated harness

// Partial sums: signed zeros, subnormals (min, tie partners, max), FLT_MIN, values whose ulp
// makes small products land on ties (2^24, 2^24 + 2, 2^23 + 1), ordinary values, the largest
// finite values (overflow), Inf, NaNs (quiet, signalling-pattern, negative).
constexpr std::array<std::uint32_t, 64> kPsums = {
    0x00000000, 0x80000000, 0x00000001, 0x80000001, 0x00000002, 0x00000003, 0x00400000, 0x807FFFFF,
    0x007FFFFF, 0x00800000, 0x80800000, 0x00800001, 0x3F800000, 0xBF800000, 0x3FC00000, 0x3F800001,
    0xBF7FFFFF, 0x4B800000, 0xCB800000, 0x4B800001, 0x4B000001, 0x4B7FFFFF, 0x43E00000, 0xC3E00000,
    0x47600000, 0xC7600000, 0x3B000000, 0xBB000000, 0x37800000, 0x33800000, 0x34000000, 0xB4000000,
    0x7F7FFFFF, 0xFF7FFFFF, 0x7F000000, 0xFEFFFFFF, 0x7F800000, 0xFF800000, 0x7FC00000, 0x7F800001,
    0xFFC00000, 0x40490FDB, 0xC2F6E979, 0x3DCCCCCD, 0x461C4000, 0xC61C4000, 0x4E6E6B28, 0x1E3CE508,
    0x0C000000, 0x8C000000, 0x01000000, 0x81000000, 0x00100000, 0x80000400, 0x5F000000, 0xDF000000,
    0x3E800000, 0xBE800000, 0x42C80000, 0x3A800000, 0x38000000, 0xB8000000, 0x7E800000, 0x00000100};

// Scale pairs (sa, sb): unit, the extremes (2^-254 underflow, 2^254 overflow), NaN scales,
// products landing on subnormal ties (sa + sb = 104 / 105 put 1 * 1 at 2^-150 / 2^-149), large
// and small shifts, and asymmetric pairs.
constexpr std::array<std::array<std::uint8_t, 2>, 16> kScales = {{{0x7F, 0x7F},
                                                                  {0x00, 0x00},
                                                                  {0xFE, 0xFE},
                                                                  {0xFF, 0x7F},
                                                                  {0x7F, 0xFF},
                                                                  {0x34, 0x34},
                                                                  {0x35, 0x34},
                                                                  {0x3C, 0x3C},
                                                                  {0xC8, 0xB4},
                                                                  {0x96, 0x96},
                                                                  {0xFE, 0x00},
                                                                  {0x00, 0xFE},
                                                                  {0x7F, 0x96},
                                                                  {0x80, 0x7E},
                                                                  {0x64, 0x64},
                                                                  {0xAA, 0xAA}}};

void run_pair(Fp8Format fa, Fp8Format fb) {
  auto top = std::make_unique<Vfp8_fused_lanes>();
  std::uint64_t checked = 0, mismatches = 0;
  std::vector<std::uint8_t> a8(kLanes), b8(kLanes), sa8(kLanes), sb8(kLanes);
  std::vector<std::uint32_t> acc(kLanes);
  const std::uint32_t fa_bits = fa == Fp8Format::kE5M2 ? 0xFFFFFFFFu : 0u;
  const std::uint32_t fb_bits = fb == Fp8Format::kE5M2 ? 0xFFFFFFFFu : 0u;
  top->fmt_a_i = fa_bits;
  top->fmt_b_i = fb_bits;
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) {
      std::fill(a8.begin(), a8.end(), static_cast<std::uint8_t>(a));
      std::fill(b8.begin(), b8.end(), static_cast<std::uint8_t>(b));
      mxemu::cosim::put_bytes(top->a_i, a8);
      mxemu::cosim::put_bytes(top->b_i, b8);
      for (const auto& sc : kScales) {
        std::fill(sa8.begin(), sa8.end(), sc[0]);
        std::fill(sb8.begin(), sb8.end(), sc[1]);
        mxemu::cosim::put_bytes(top->sa_i, sa8);
        mxemu::cosim::put_bytes(top->sb_i, sb8);
        for (std::size_t base = 0; base < kPsums.size(); base += kLanes) {
          for (int l = 0; l < kLanes; ++l) acc[l] = kPsums[base + l];
          mxemu::cosim::put_words(top->acc_i, acc);
          top->eval();
          for (int l = 0; l < kLanes; ++l) {
            const std::uint32_t got = top->res_o[l];
            const std::uint32_t want =
                mxemu::num::fused_step_bits(acc[l], fa, static_cast<std::uint8_t>(a), fb,
                                            static_cast<std::uint8_t>(b), sc[0], sc[1]);
            ++checked;
            if (got != want && ++mismatches <= 10) {
              FAIL_CHECK(fmt::format(
                  "fused step mismatch: fmt_a={} fmt_b={} a={:02x} b={:02x} sa={:02x} sb={:02x} "
                  "psum={:08x}: expected {:08x}, got {:08x} (cycle 0, combinational)",
                  mxemu::num::format_name(fa), mxemu::num::format_name(fb), a, b, sc[0], sc[1],
                  acc[l], want, got));
            }
          }
        }
      }
    }
  }
  INFO(fmt::format("{} cases checked, {} mismatches", checked, mismatches));
  CHECK(checked == 65536ull * kScales.size() * kPsums.size());
  CHECK(mismatches == 0);
}

}  // namespace

TEST_CASE("fused step RTL, exhaustive E4M3 x E4M3", "[e4m3xe4m3]") {
  run_pair(Fp8Format::kE4M3, Fp8Format::kE4M3);
}
TEST_CASE("fused step RTL, exhaustive E5M2 x E5M2", "[e5m2xe5m2]") {
  run_pair(Fp8Format::kE5M2, Fp8Format::kE5M2);
}
TEST_CASE("fused step RTL, exhaustive E4M3 x E5M2", "[e4m3xe5m2]") {
  run_pair(Fp8Format::kE4M3, Fp8Format::kE5M2);
}
