// Internals of the fast reference GEMM (gemm_fast.cpp): the micro-kernel interface shared by the
// per-ISA translation units. Not part of the public API.
#pragma once

#include <cstddef>

#include "model/numerics/gemm.h"

namespace mxemu::num::detail {

// C[0..mr)[0..nr) (row stride ldc) += the product of a packed A sliver and a packed B panel over
// kc steps, one FMA per (element, k) in increasing k: acc = fma(a[k*mr + i], b[k*nr + j], acc).
// Each element's k order is sequential, so the result is the fused step's whenever the packed
// operands are the exactly dequantised values. The accumulators are loaded from C and stored back,
// which lets the caller split K into chunks (in increasing order) without changing any bit.
using MicroKernel = void (*)(const float* a, const float* b, float* c, std::size_t ldc,
                             std::size_t kc);

struct KernelInfo {
  GemmIsa isa;
  int mr;  // rows per A sliver (packed k-major: mr floats per k)
  int nr;  // columns per B panel (packed k-major: nr floats per k)
  MicroKernel fn;
};

KernelInfo kernel_portable();
#if defined(MXEMU_GEMM_X86)
KernelInfo kernel_avx2();    // gemm_kernel_avx2.cpp (-mavx2 -mfma)
KernelInfo kernel_avx512();  // gemm_kernel_avx512.cpp (-mavx512f)
#endif

}  // namespace mxemu::num::detail
