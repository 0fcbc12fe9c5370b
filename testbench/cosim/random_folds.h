// Random folds (weights, activations, scales, partial sums) for co-simulation and benchmarks.
// Deterministic for a seed. Mostly ordinary values with a sprinkling of zeros, subnormals,
// maxima, NaN/Inf codes, extreme and NaN scales and special partial sums.
#pragma once

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

}  // namespace mxemu::cosim
