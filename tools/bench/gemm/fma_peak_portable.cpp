// FMA peak loop in plain C++ (std::fma): what the portable GEMM kernel can reach at best.
#include <cmath>

#include "tools/bench/gemm/fma_peak.h"

namespace mxemu::bench {

float fma_loop_portable(std::uint64_t iters, std::uint64_t& fmas) {
  constexpr int kChains = 8;
  float acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = static_cast<float>(i);
  for (std::uint64_t it = 0; it < iters; ++it) {
    for (float& a : acc) a = std::fma(a, 0.999999f, 1e-6f);
  }
  float r = 0.0f;
  for (float a : acc) r += a;
  fmas = iters * kChains;
  return r;
}

}  // namespace mxemu::bench
