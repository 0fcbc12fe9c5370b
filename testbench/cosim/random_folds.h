// Stimulus for co-simulation and benchmarks: random folds (weights, activations, scales, partial
// sums; deterministic for a seed; mostly ordinary values with a sprinkling of zeros, subnormals,
// maxima, NaN/Inf codes, extreme and NaN scales and special partial sums) and directed folds
// that put every MAC corner of corner_macs() -- subnormal results, overflow, NaN/Inf,
// cancellation, ties, scale extremes -- under one PE each. stimulus() mixes the two: it is what
// the cosim bench and the RTL tests run by default (a random fold alone needed some 2,000 folds to
// hit a flush-to-zero bug; the directed folds hit it in the first few).
#pragma once

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "model/mxu/systolic.h"
#include "model/numerics/fp8.h"

namespace mxemu::cosim {

struct FoldData {
  num::Fp8Format fmt_a = num::Fp8Format::kE4M3, fmt_b = num::Fp8Format::kE4M3;
  std::size_t m = 0;
  int block = 1;
  std::vector<std::uint8_t> w, ws, a, as;
  std::vector<float> psum;
  mxu::FoldSpec spec() const {
    mxu::FoldSpec s;
    s.fmt_a = fmt_a;
    s.fmt_b = fmt_b;
    s.m = m;
    s.block = block;
    s.weights = w;
    s.weight_scales = ws;
    s.acts = a;
    s.act_scales = as;
    s.psum_in = psum;
    return s;
  }
};

// special_pct: percent of elements drawn from the special values.
inline FoldData random_fold(std::mt19937_64& rng, const mxu::SystolicConfig& cfg, std::size_t m,
                            int special_pct = 3) {
  FoldData d;
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<std::uint64_t>(n)); };
  d.fmt_a = pick(2) ? num::Fp8Format::kE5M2 : num::Fp8Format::kE4M3;
  d.fmt_b = pick(2) ? num::Fp8Format::kE5M2 : num::Fp8Format::kE4M3;
  d.m = m;
  d.block = pick(3) == 0 ? cfg.rows : 1;
  const auto rows = static_cast<std::size_t>(cfg.rows);
  const auto cols = static_cast<std::size_t>(cfg.cols);
  const std::size_t kb = rows / static_cast<std::size_t>(d.block);
  auto code = [&]() -> std::uint8_t {
    if (pick(100) < special_pct) {
      static constexpr std::uint8_t kSpecial[] = {0x00, 0x80, 0x01, 0x81, 0x7E, 0xFE,
                                                  0x7F, 0x7B, 0x7C, 0xFC, 0x7D, 0x04};
      return kSpecial[pick(sizeof(kSpecial))];
    }
    // Keep most magnitudes moderate so sums do not all saturate.
    const int exp_span = pick(4) == 0 ? 0x7F : 0x5F;
    return static_cast<std::uint8_t>((pick(2) << 7) | (0x10 + pick(exp_span - 0x10)));
  };
  auto scale = [&]() -> std::uint8_t {
    if (pick(100) < special_pct) {
      static constexpr std::uint8_t kSpecial[] = {0x00, 0x01, 0xFE, 0xFF, 0x40, 0xC0};
      return kSpecial[pick(sizeof(kSpecial))];
    }
    return static_cast<std::uint8_t>(120 + pick(15));
  };
  d.w.resize(rows * cols);
  for (auto& x : d.w) x = code();
  d.a.resize(m * rows);
  for (auto& x : d.a) x = code();
  if (pick(4) != 0) {
    d.ws.resize(kb * cols);
    for (auto& x : d.ws) x = scale();
    d.as.resize(m * kb);
    for (auto& x : d.as) x = scale();
  }
  if (pick(4) != 0) {
    d.psum.resize(m * cols);
    std::normal_distribution<float> nd(0.0f, 64.0f);
    for (auto& x : d.psum) {
      if (pick(100) < special_pct) {
        static constexpr std::uint32_t kSpecial[] = {0x00000000, 0x80000000, 0x00000001,
                                                     0x807FFFFF, 0x7F7FFFFF, 0xFF800000,
                                                     0x7F800000, 0x7FC00000, 0x4B800000};
        x = num::f32_from_bits(kSpecial[pick(sizeof(kSpecial) / sizeof(kSpecial[0]))]);
      } else {
        x = nd(rng);
      }
    }
  }
  return d;
}

// One multiply-accumulate corner: the partial sum entering a PE, its two FP8 operands with their
// formats and their UE8M0 scales (the fused step acc + a * b * 2^(sa + sb - 254), DESIGN §3).
struct MacCorner {
  std::uint32_t acc;
  num::Fp8Format fa, fb;
  std::uint8_t a, b, sa, sb;
};

// The directed corners. Codes: E4M3 0x38 = 1.0, 0x39 = 1.125, 0x3C = 1.5, 0x7E = 448 (max),
// 0x7F NaN, 0x01 = 2^-9; E5M2 0x3C = 1.0, 0x7B = 57344 (max), 0x7C = Inf, 0x7D NaN. Scales
// sa + sb = 254 + e give a product of 2^e.
inline std::vector<MacCorner> corner_macs() {
  using F = num::Fp8Format;
  constexpr F k4 = F::kE4M3, k5 = F::kE5M2;
  return {
      // Subnormal results, gradual underflow and rounding at the subnormal LSB.
      {0x00000000, k4, k4, 0x38, 0x38, 57, 57},    // 2^-140
      {0x00000000, k4, k4, 0x3C, 0x38, 52, 53},    // 1.5 * 2^-149: tie -> 2^-148 (even)
      {0x00000000, k4, k4, 0x38, 0x38, 52, 52},    // 2^-150: tie -> +0 (even)
      {0x00000000, k4, k4, 0x39, 0x38, 52, 52},    // 1.125 * 2^-150: above the tie -> 2^-149
      {0x00800000, k4, k4, 0xB8, 0x38, 63, 64},    // 2^-126 - 2^-127: normal -> subnormal
      {0x00000001, k4, k4, 0x38, 0x38, 52, 53},    // 2^-149 + 2^-149
      {0x807FFFFF, k4, k4, 0x38, 0x38, 52, 53},    // -max subnormal + 2^-149
      {0x00000000, k4, k4, 0x01, 0x01, 70, 70},    // FP8 subnormals: 2^-18 * 2^-114
      {0x00400000, k5, k5, 0x01, 0x81, 100, 100},  // subnormal acc - E5M2 subnormals
      // Overflow: to Inf, with the tie at the top (max's mantissa is odd: rounds up).
      {0x7F7FFFFF, k4, k4, 0x38, 0x38, 179, 179},    // max + 2^104 -> +Inf
      {0x7F7FFFFF, k4, k4, 0x38, 0x38, 178, 179},    // max + 2^103 (half an ulp) -> +Inf
      {0x7F7FFFFF, k4, k4, 0x38, 0x38, 178, 178},    // max + 2^102 -> max
      {0xFF7FFFFF, k4, k4, 0xB8, 0x38, 179, 179},    // -max - 2^104 -> -Inf
      {0x00000000, k4, k4, 0x7E, 0x7E, 0xFE, 0xFE},  // 448^2 * 2^254 -> +Inf
      {0x00000000, k5, k5, 0xFB, 0x7B, 0xFE, 0xC0},  // -57344^2 * 2^191 -> -Inf
      // NaN and Inf: operands, scales, partial sums, Inf * 0, Inf - Inf.
      {0x3F800000, k4, k4, 0x7F, 0x38, 127, 127},   // E4M3 NaN operand
      {0x3F800000, k5, k5, 0x38, 0x7D, 127, 127},   // E5M2 NaN operand
      {0x3F800000, k4, k5, 0x00, 0x7C, 127, 127},   // 0 * Inf -> NaN
      {0xFF800000, k4, k5, 0x38, 0x7C, 127, 127},   // -Inf + Inf -> NaN
      {0x00000000, k4, k5, 0x38, 0xFC, 127, 127},   // -Inf
      {0x7F800000, k4, k4, 0x38, 0x38, 127, 127},   // Inf + 1
      {0x7FC00001, k4, k4, 0x38, 0x38, 127, 127},   // non-canonical NaN partial sum
      {0x3F800000, k4, k4, 0x38, 0x38, 0xFF, 127},  // NaN scale of A
      {0x3F800000, k4, k4, 0x38, 0x38, 127, 0xFF},  // NaN scale of B
      {0x3F800000, k4, k4, 0x38, 0x00, 127, 0xFF},  // NaN scale of B, zero product
      {0x3F800000, k5, k5, 0x7B, 0x38, 127, 0xFF},  // NaN scale of B, E5M2
      // Cancellation: exact zeros are +0; large renormalising shifts.
      {0xBF800000, k4, k4, 0x38, 0x38, 127, 127},  // -1 + 1 -> +0
      {0x3F800000, k4, k4, 0xB8, 0x38, 127, 127},  // 1 - 1 -> +0
      {0xBF800001, k4, k4, 0x38, 0x38, 127, 127},  // -(1 + 2^-23) + 1 -> -2^-23
      {0x3F7FFFFF, k4, k4, 0xB8, 0x38, 127, 127},  // (1 - 2^-24) - 1 -> -2^-24
      {0xC3600000, k4, k4, 0x7E, 0x38, 127, 127},  // -224 + 448 -> 224
      {0x00000000, k4, k4, 0x80, 0x38, 127, 127},  // +0 + (-0) -> +0
      // Ties to even at the FP32 LSB (and just off them).
      {0x3F800000, k4, k4, 0x38, 0x38, 115, 115},  // 1 + 2^-24: tie -> 1
      {0x3F800001, k4, k4, 0x38, 0x38, 115, 115},  // tie -> 1 + 2^-22 (even)
      {0xBF800000, k4, k4, 0xB8, 0x38, 115, 115},  // -1 - 2^-24: tie -> -1
      {0x3F800000, k4, k4, 0x39, 0x38, 115, 115},  // 1 + 1.125 * 2^-24 -> 1 + 2^-23
      {0x4B800000, k4, k4, 0x38, 0x38, 127, 127},  // 2^24 + 1: tie -> 2^24
      {0x4B800000, k5, k5, 0x3E, 0x40, 127, 127},  // 2^24 + 3: tie -> 2^24 + 4
      {0x4B800001, k4, k4, 0xB8, 0x38, 127, 127},  // (2^24 + 2) - 1: tie -> 2^24
      // Scale extremes 0x00 / 0xFE (and 0xFF above).
      {0x00000000, k4, k4, 0x38, 0x38, 0x00, 0xFE},  // 2^-127 (subnormal)
      {0x00000000, k4, k4, 0x38, 0x38, 0xFE, 0xFE},  // 2^254 -> +Inf
      {0x00000000, k4, k4, 0x38, 0x38, 0x00, 0x00},  // 2^-254 -> +0
      {0x3F800000, k4, k4, 0x38, 0x38, 0x00, 0x00},  // 1 + 2^-254 -> 1
      {0x00000000, k5, k5, 0x7B, 0x7B, 0x00, 0x00},  // 57344^2 * 2^-254 -> +0
      {0x00000000, k4, k4, 0x38, 0x38, 0xFE, 0x00},  // 2^0
      {0x00000000, k4, k4, 0x01, 0x01, 0xFE, 0x01},  // 2^-18 * 2^1
  };
}

// True when a corner's A side (its operand or its scale) is NaN or Inf: such an A element
// poisons every column of its row (x * 0 with x NaN/Inf is NaN), so it gets a fold of its own.
inline bool poisons_row(const MacCorner& c) {
  return c.sa == 0xFF || num::is_nan(c.fa, c.a) || num::is_inf(c.fa, c.a);
}

// Directed folds (one activation row each, block 1): the corner of column n sits on the
// diagonal PE(n, n) -- A[0][n], W[n][n], their scales and the partial sum entering column n --
// while every other weight W[k][n] is the zero that makes A[0][k] * W[k][n] = -0 (scale 2^0):
// -0 is the additive identity under RNE (+0 + -0 = +0, -0 + -0 = -0), so column n's output is
// exactly the corner's fused step, signed zeros included. Corners are grouped by format pair;
// columns without a corner carry 1.0 + 0 * 0.
inline std::vector<FoldData> directed_folds(const mxu::SystolicConfig& cfg) {
  const auto rows = static_cast<std::size_t>(cfg.rows);
  const auto cols = static_cast<std::size_t>(cfg.cols);
  const std::size_t per_fold = std::min(rows, cols);
  std::vector<FoldData> out;
  const std::vector<MacCorner> all = corner_macs();
  for (int pair = 0; pair < 4; ++pair) {
    const auto fa = (pair & 1) != 0 ? num::Fp8Format::kE5M2 : num::Fp8Format::kE4M3;
    const auto fb = (pair & 2) != 0 ? num::Fp8Format::kE5M2 : num::Fp8Format::kE4M3;
    std::vector<std::vector<MacCorner>> groups(1);
    for (const MacCorner& c : all) {
      if (c.fa != fa || c.fb != fb) continue;
      if (poisons_row(c)) {
        groups.push_back({c});
        continue;
      }
      if (groups.front().size() == per_fold)
        groups.insert(groups.begin(), std::vector<MacCorner>{});
      groups.front().push_back(c);
    }
    for (const auto& g : groups) {
      if (g.empty()) continue;
      FoldData d;
      d.fmt_a = fa;
      d.fmt_b = fb;
      d.m = 1;
      d.block = 1;
      d.w.assign(rows * cols, 0x00);
      d.ws.assign(rows * cols, num::kUnitScaleCode);
      d.a.assign(rows, 0x00);
      d.as.assign(rows, num::kUnitScaleCode);
      d.psum.assign(cols, 1.0F);
      for (std::size_t n = 0; n < g.size(); ++n) {
        const MacCorner& c = g[n];
        d.a[n] = c.a;
        d.as[n] = c.sa;
        d.psum[n] = num::f32_from_bits(c.acc);
      }
      for (std::size_t k = 0; k < rows; ++k) {
        // The sign bit of both formats is bit 7: a positive A[0][k] meets -0, a negative one +0.
        const std::uint8_t neg_zero = (d.a[k] & 0x80) != 0 ? 0x00 : 0x80;
        for (std::size_t n = 0; n < cols; ++n) d.w[k * cols + n] = neg_zero;
      }
      for (std::size_t n = 0; n < g.size(); ++n) {
        d.w[n * cols + n] = g[n].b;
        d.ws[n * cols + n] = g[n].sb;
      }
      out.push_back(std::move(d));
    }
  }
  return out;
}

// The default stimulus: every directed fold, each followed by a random fold (so the corners
// also meet weight reloads back to back), then random folds up to `random` of them in all.
// Activation rows per random fold: 1 .. max_m.
inline std::vector<FoldData> stimulus(std::mt19937_64& rng, const mxu::SystolicConfig& cfg,
                                      std::size_t random, std::size_t max_m) {
  std::vector<FoldData> directed = directed_folds(cfg);
  std::vector<FoldData> out;
  out.reserve(directed.size() + random);
  std::size_t r = 0;
  for (FoldData& d : directed) {
    out.push_back(std::move(d));
    if (r < random) {
      out.push_back(random_fold(rng, cfg, 1 + rng() % max_m));
      ++r;
    }
  }
  for (; r < random; ++r) out.push_back(random_fold(rng, cfg, 1 + rng() % max_m));
  return out;
}

}  // namespace mxemu::cosim
