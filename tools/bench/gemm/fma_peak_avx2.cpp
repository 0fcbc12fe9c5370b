// FMA peak loop, AVX2 + FMA (compiled with -mavx2 -mfma; called only on hosts that have them).
#include <immintrin.h>

#include "tools/bench/gemm/fma_peak.h"

namespace mxemu::bench {

float fma_loop_avx2(std::uint64_t iters, std::uint64_t& fmas) {
  constexpr int kChains = 12;
  __m256 acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm256_set1_ps(static_cast<float>(i));
  const __m256 x = _mm256_set1_ps(0.999999f);
  const __m256 y = _mm256_set1_ps(1e-6f);
  for (std::uint64_t it = 0; it < iters; ++it) {
#pragma GCC unroll 12
    for (auto& a : acc) a = _mm256_fmadd_ps(a, x, y);
  }
  __m256 s = acc[0];
  for (int i = 1; i < kChains; ++i) s = _mm256_add_ps(s, acc[i]);
  alignas(32) float out[8];
  _mm256_store_ps(out, s);
  float r = 0.0f;
  for (float v : out) r += v;
  fmas = iters * kChains * 8;
  return r;
}

}  // namespace mxemu::bench
