// Reference MXFP8 GEMM implementing DESIGN §3 exactly: C = C_init + sum_k A*B*2^(sA+sB-254), one
// FP32 RNE rounding per k step, k in increasing order. Two implementations with identical bits:
// gemm_exact (a naive loop over fused_step, the definition) and gemm (the fast, register-blocked,
// multithreaded kernel that the simulator and the benchmarks use).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "model/numerics/fp8.h"

namespace mxemu::num {

// Row-major operands. A is M x K, B is K x N, C is M x N. Scales are optional (empty span = every
// scale is 2^0): sA is M x (K/block), sB is (K/block) x N. C_init is optional (empty = +0.0).
struct GemmProblem {
  std::size_t m = 0, n = 0, k = 0;
  Fp8Format fmt_a = Fp8Format::kE4M3;
  Fp8Format fmt_b = Fp8Format::kE4M3;
  std::span<const std::uint8_t> a;
  std::span<const std::uint8_t> b;
  std::span<const std::uint8_t> scale_a;
  std::span<const std::uint8_t> scale_b;
  int block = 32;
  std::span<const float> c_init;
};

// Which kernel gemm() uses. kAuto picks the widest ISA the host supports at run time.
enum class GemmIsa : std::uint8_t { kAuto, kPortable, kAvx2, kAvx512 };
std::string_view isa_name(GemmIsa isa);
GemmIsa detect_best_isa();

struct GemmOptions {
  GemmIsa isa = GemmIsa::kAuto;
  int threads = 0;              // 0: one per hardware thread
  bool force_exact = false;     // route every block through the exact-step fallback
};

// Throws std::invalid_argument naming the problem (shape/scale/buffer mismatch).
void validate(const GemmProblem& p, std::span<const float> c);

// The definition: a naive triple loop over fused_step_bits.
void gemm_exact(const GemmProblem& p, std::span<float> c);

// The fast path: bit-identical to gemm_exact (tests prove it for every ISA level and path).
void gemm(const GemmProblem& p, std::span<float> c, const GemmOptions& opt = {});

}  // namespace mxemu::num
