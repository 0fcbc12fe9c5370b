// AVX-512 micro-kernel of the fast reference GEMM. Compiled with -mavx512f (this file only) and
// called only after the run-time check in gemm_fast.cpp. 12 x 32 register block: 24 zmm
// accumulators, two B vectors per k and one broadcast A element per row (an embedded broadcast
// operand of the FMA), which keeps the FMA pipes busy on both Intel and AMD (Zen 4) cores.
#include <immintrin.h>

#include "model/numerics/gemm_internal.h"

namespace mxemu::num::detail {

namespace {

constexpr int kMr = 12;
constexpr int kNr = 32;

void kernel(const float* a, const float* b, float* c, std::size_t ldc, std::size_t kc) {
  __m512 acc[kMr][2];
#pragma GCC unroll 12
  for (int i = 0; i < kMr; ++i) {
    acc[i][0] = _mm512_loadu_ps(c + i * ldc);
    acc[i][1] = _mm512_loadu_ps(c + i * ldc + 16);
  }
  for (std::size_t k = 0; k < kc; ++k) {
    const __m512 b0 = _mm512_loadu_ps(b);
    const __m512 b1 = _mm512_loadu_ps(b + 16);
#pragma GCC unroll 12
    for (int i = 0; i < kMr; ++i) {
      const __m512 ai = _mm512_set1_ps(a[i]);
      acc[i][0] = _mm512_fmadd_ps(ai, b0, acc[i][0]);  // one rounding: the fused step
      acc[i][1] = _mm512_fmadd_ps(ai, b1, acc[i][1]);
    }
    a += kMr;
    b += kNr;
  }
#pragma GCC unroll 12
  for (int i = 0; i < kMr; ++i) {
    _mm512_storeu_ps(c + i * ldc, acc[i][0]);
    _mm512_storeu_ps(c + i * ldc + 16, acc[i][1]);
  }
}

}  // namespace

KernelInfo kernel_avx512() {
  return {GemmIsa::kAvx512, kMr, kNr, &kernel};
}

}  // namespace mxemu::num::detail
