// The vector unit's arithmetic (plain C++, no SystemC): elementwise FP32 operations, row and column
// reductions, exp, divide, rsqrt, the activation functions and an online-softmax step, and
// conversions (FP32 -> E4M3/E5M2/BF16, MX block quantisation). Every function is a documented
// algorithm of IEEE FP32 or FP64 operations (+, -, *, /, sqrt, fma: all correctly rounded by
// IEEE 754) in a fixed order, never the host's libm transcendental functions, so results are
// deterministic and host-independent. The library builds with -ffp-contract=off so the compiler
// cannot fuse a multiply and an add on its own; fused steps are explicit std::fma. Error bounds
// are in ulp of the FP32 result (at the exact value's binade; 2^-149 in the subnormal range) and
// are measured against higher-precision references in tests/chip/test_vpu_core.cpp. Timing lives
// in the engine shell. docs/VPU.md tables every function.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "model/numerics/fp8.h"
#include "model/numerics/mx.h"

namespace mxemu::vpu {

// exp(x) in FP32 from range reduction and a degree-7 polynomial (FMA only, no libm): at most
// kExpMaxUlp ulp from the correctly rounded exp for results in the FP32 normal range; results in
// the subnormal range are within 1 ulp of the subnormal grid plus that error; x > 88.72284 gives
// +Inf, x < -103.97208 gives +0, NaN gives the canonical NaN.
inline constexpr int kExpMaxUlp = 2;
float exp_f32(float x);

// The functions below evaluate a formula without cancellation in FP64 (relative error a few
// 2^-53) and round once to FP32, so they are within kFp64EvalMaxUlp of the exact value: half an
// ulp from the final rounding plus far less than 10^-3 ulp from the FP64 evaluation. NaN inputs
// give the canonical NaN (0x7FC00000).
inline constexpr double kFp64EvalMaxUlp = 0.501;

// 1 / sqrt(x + eps) (eps: an epsilon for normalisations, 0 for plain rsqrt): FP64 sum, square
// root and division, one rounding to FP32 (eps = 0: x itself). x + eps < 0 gives NaN, +0 gives
// +Inf, -0 gives -Inf, +Inf gives +0.
float rsqrt_f32(float x, float eps);

// tanh(x) = e / (e + 2) with e = expm1(2|x|) in FP64 (sign restored); |x| > 10 gives +-1 (the
// correctly rounded value there).
float tanh_f32(float x);

// sigmoid(x) = 1 / (1 + exp(-x)) for x >= 0, exp(x) / (1 + exp(x)) for x < 0 (FP64); +-Inf give
// 1 and +0.
float sigmoid_f32(float x);

// SiLU(x) = x * sigmoid(x) in FP64, one rounding; +Inf gives +Inf, -Inf gives -0.
float silu_f32(float x);

// GELU, tanh form: 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3), evaluated as
// x * sigmoid(2u) (the same value, without the cancellation of 1 + tanh(u) for x < 0) in FP64.
// +Inf gives +Inf, -Inf gives -0.
float gelu_tanh_f32(float x);

// GELU, erf form: 0.5 x (1 + erf(x / sqrt 2)) = 0.5 x erfc(-x / sqrt 2) in FP64: erf by its Taylor
// series (48 terms) for |x / sqrt 2| < 2.5, erfc by its Laplace continued fraction (depth 50)
// above; x > 10 gives x, x < -20 gives -0 (both the correctly rounded values). +Inf gives +Inf,
// -Inf gives -0.
float gelu_erf_f32(float x);

// One block of an online (flash-attention style) softmax on one row. In: the running maximum m
// and sum s of the earlier blocks (m = -Inf, s = 0 before the first), the block's scores x. Out:
//   m' = max(m, max_c x[c])                     exact (NaN anywhere gives NaN)
//   p[c] = exp(x[c] - m')                       (the block's unnormalised probabilities)
//   alpha = exp(m - m')                         (rescales what was accumulated with m)
//   s' = s * alpha + sum_c exp(x[c] - m')       (FP64, increasing c, one rounding to FP32)
// The exps are the FP64 exp of the FP64 difference, each rounded once: p, alpha and s' are within
// kFp64EvalMaxUlp (s' for up to 2^20 columns). A row whose m' is -Inf (no finite score yet) gives
// p = +0, alpha = 1, s' = s. `p` may alias `x`.
struct SoftmaxState {
  float m = 0.0F, s = 0.0F, alpha = 0.0F;
};
SoftmaxState online_softmax_row(std::span<const float> x, float m, float s, std::span<float> p);

// FP32 -> BF16 bit pattern, round to nearest even; NaN -> 0x7FC0.
std::uint16_t to_bf16(float x);
// BF16 bit pattern -> FP32 (exact: the upper half of an FP32).
float from_bf16(std::uint16_t b);

// The canonical NaN for NaN results of arithmetic (host FPUs differ in the NaN they produce).
float canonical(float v);

// Reductions over a row-major rows x cols matrix with row stride `ld` elements. Sums run in
// increasing index order with one rounding per addition (documented order = reproducible result).
// max follows IEEE maxNum except that any NaN input gives NaN.
float sum_ordered(std::span<const float> v);
float max_nan(float a, float b);

}  // namespace mxemu::vpu
