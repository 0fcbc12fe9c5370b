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

namespace mxemu {
class ThreadPool;
}

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
  // Worker threads. Without a pool: threads started for this call (0: one per hardware thread).
  // With a pool: at most this many of its threads (0: all of them), none started.
  int threads = 0;
  bool force_exact = false;  // route every block through the exact-step fallback
  ThreadPool* pool = nullptr;
};

// What one gemm() call did (for tests and benchmarks). A unit is one micro-tile (the kernel's
// MR x NR register block) over one contiguous k range. Exact units went through fused_step_bits:
// every unit of a force_exact call, and the (micro-tile, scale block) pairs whose dequantised
// operands are not exact FP32 values (scaled values below FP32 subnormal precision or above its
// range). Fast units went through the FMA micro-kernel.
struct GemmStats {
  GemmIsa isa = GemmIsa::kAuto;  // the kernel that ran (never kAuto after a call with K > 0)
  int threads = 0;               // worker threads used
  int mr = 0, nr = 0;            // the kernel's register block
  std::uint64_t fast_units = 0;
  std::uint64_t exact_units = 0;
};

// Whether this host can run the kernel for `isa` (kAuto and kPortable: always).
bool isa_supported(GemmIsa isa);

// Throws std::invalid_argument naming the problem (shape/scale/buffer mismatch).
void validate(const GemmProblem& p, std::span<const float> c);

// The definition: a naive triple loop over fused_step_bits.
void gemm_exact(const GemmProblem& p, std::span<float> c);

// The fast path: bit-identical to gemm_exact (tests prove it for every ISA level and path).
// Throws std::invalid_argument for a bad problem (see validate), threads < 0, or an ISA the host
// does not support.
void gemm(const GemmProblem& p, std::span<float> c, const GemmOptions& opt = {});
void gemm(const GemmProblem& p, std::span<float> c, const GemmOptions& opt, GemmStats& stats);

}  // namespace mxemu::num
