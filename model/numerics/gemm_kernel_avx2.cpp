// AVX2 + FMA micro-kernel of the fast reference GEMM. Compiled with -mavx2 -mfma (this file only)
// and called only after the run-time check in gemm_fast.cpp. 6 x 16 register block: 12 ymm
// accumulators, two B vectors and one broadcast A element, 15 of the 16 ymm registers.
#include <immintrin.h>

#include "model/numerics/gemm_internal.h"

namespace mxemu::num::detail {

namespace {

constexpr int kMr = 6;
constexpr int kNr = 16;

void kernel(const float* a, const float* b, float* c, std::size_t ldc, std::size_t kc) {
  __m256 acc[kMr][2];
#pragma GCC unroll 6
  for (int i = 0; i < kMr; ++i) {
    acc[i][0] = _mm256_loadu_ps(c + i * ldc);
    acc[i][1] = _mm256_loadu_ps(c + i * ldc + 8);
  }
  for (std::size_t k = 0; k < kc; ++k) {
    const __m256 b0 = _mm256_loadu_ps(b);
    const __m256 b1 = _mm256_loadu_ps(b + 8);
#pragma GCC unroll 6
    for (int i = 0; i < kMr; ++i) {
      const __m256 ai = _mm256_broadcast_ss(a + i);
      acc[i][0] = _mm256_fmadd_ps(ai, b0, acc[i][0]);  // one rounding: the fused step
      acc[i][1] = _mm256_fmadd_ps(ai, b1, acc[i][1]);
    }
    a += kMr;
    b += kNr;
  }
#pragma GCC unroll 6
  for (int i = 0; i < kMr; ++i) {
    _mm256_storeu_ps(c + i * ldc, acc[i][0]);
    _mm256_storeu_ps(c + i * ldc + 8, acc[i][1]);
  }
}

}  // namespace

KernelInfo kernel_avx2() {
  return {GemmIsa::kAvx2, kMr, kNr, &kernel};
}

}  // namespace mxemu::num::detail
