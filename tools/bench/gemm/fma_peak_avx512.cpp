// FMA peak loop, AVX-512 (compiled with -mavx512f; called only on hosts that have it).
#include <immintrin.h>

#include "tools/bench/gemm/fma_peak.h"

namespace mxemu::bench {

float fma_loop_avx512(std::uint64_t iters, std::uint64_t& fmas) {
  constexpr int kChains = 16;  // >= latency x throughput of the FMA pipes
  __m512 acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm512_set1_ps(static_cast<float>(i));
  const __m512 x = _mm512_set1_ps(0.999999f);
  const __m512 y = _mm512_set1_ps(1e-6f);
  for (std::uint64_t it = 0; it < iters; ++it) {
#pragma GCC unroll 16
    for (auto& a : acc) a = _mm512_fmadd_ps(a, x, y);
  }
  __m512 s = acc[0];
  for (int i = 1; i < kChains; ++i) s = _mm512_add_ps(s, acc[i]);
  fmas = iters * kChains * 16;
  alignas(64) float out[16];
  _mm512_store_ps(out, s);
  float r = 0.0f;
  for (float v : out) r += v;
  return r;
}

}  // namespace mxemu::bench
