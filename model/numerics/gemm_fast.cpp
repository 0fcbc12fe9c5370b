// The fast reference GEMM: bit-identical to gemm_exact (DESIGN §3), fast enough for the simulator.
//
// Why FMA is exact here: a dequantised operand A' = decode(a) * 2^(sa-127) has at most 4
// significant bits; when both A' and B' are FP32 values, fma(A', B', acc) forms the exact product
// (even outside FP32's range) and rounds acc + A'B' once, RNE, with gradual underflow and overflow
// to Inf: exactly the fused step. The IEEE special cases agree too (NaN in, Inf*0, Inf-Inf -> NaN;
// signed zeros; exact cancellation -> +0), and NaN results are canonicalised at the end.
// Where a scaled operand is not an FP32 value, the (micro-tile, scale block) goes through
// fused_step_bits instead, in the same k order. With the OCP formats that happens only above the
// range (e.g. E4M3 448 with scale 2^127: 448 * 2^127 > FLT_MAX, while 448 * 2^127 * 2^-127 is a
// fine product); the low end cannot lose bits (the smallest bit is 2^-16 * 2^-127 = 2^-143), but
// the check covers it anyway.
//
// Structure: dequantise and pack A into MR-row slivers and B into NR-column panels (k-major, the
// FP32 values plus a per-(sliver|panel, block) "not exact" flag), then every thread owns whole
// macro tiles of C and walks K in chunks in increasing order; the accumulators live in C itself
// between chunks (edge tiles in a local copy per call), so chunking never changes a bit. Each
// output element is computed by exactly one thread, so the result does not depend on the thread
// count.
//
// Floating-point environment: every thread runs the arithmetic with MXCSR = 0x1F80 (round to
// nearest even, no FTZ/DAZ, exceptions masked) and restores its previous value afterwards; nothing
// is set globally.
#include <algorithm>
#include <atomic>
#include <barrier>
#include <bit>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#endif
#if defined(MXEMU_GEMM_X86)
#include <xmmintrin.h>
#else
#include <cfenv>
#endif

#include "model/common/thread_pool.h"
#include "model/numerics/fused.h"
#include "model/numerics/gemm.h"
#include "model/numerics/gemm_internal.h"

namespace mxemu::num {

namespace detail {

namespace {

constexpr int kPortableMr = 4;
constexpr int kPortableNr = 8;

// Plain C++ kernel for hosts without AVX2: std::fma is mandatory (a*b+c would round twice).
void portable_kernel(const float* a, const float* b, float* c, std::size_t ldc, std::size_t kc) {
  float acc[kPortableMr][kPortableNr];
  for (int i = 0; i < kPortableMr; ++i) {
    for (int j = 0; j < kPortableNr; ++j) acc[i][j] = c[i * ldc + j];
  }
  for (std::size_t k = 0; k < kc; ++k) {
    for (int i = 0; i < kPortableMr; ++i) {
      for (int j = 0; j < kPortableNr; ++j) acc[i][j] = std::fma(a[i], b[j], acc[i][j]);
    }
    a += kPortableMr;
    b += kPortableNr;
  }
  for (int i = 0; i < kPortableMr; ++i) {
    for (int j = 0; j < kPortableNr; ++j) c[i * ldc + j] = acc[i][j];
  }
}

}  // namespace

KernelInfo kernel_portable() {
  return {GemmIsa::kPortable, kPortableMr, kPortableNr, &portable_kernel};
}

}  // namespace detail

namespace {

using detail::KernelInfo;

// Largest register block of any kernel (bounds the local tiles below).
constexpr int kMaxMr = 16;
constexpr int kMaxNr = 32;
// Cache blocking (tuned on AMD EPYC Zen 4, 1 MB L2, 32 KB L1D; see docs/PERFORMANCE.md).
constexpr std::size_t kKChunk = 192;
constexpr std::size_t kMacroRows = 240;
constexpr std::size_t kMacroCols = 512;

// Scoped IEEE default environment for the calling thread (see the file comment).
class IeeeEnvGuard {
 public:
#if defined(MXEMU_GEMM_X86)
  IeeeEnvGuard() : saved_(_mm_getcsr()) {
    _mm_setcsr(kIeeeMxcsr);
  }
  ~IeeeEnvGuard() {
    _mm_setcsr(saved_);
  }

 private:
  static constexpr unsigned kIeeeMxcsr = 0x1F80u;  // RNE, FTZ/DAZ off, all exceptions masked
  unsigned saved_;
#else
  IeeeEnvGuard() : saved_(std::fegetround()) {
    std::fesetround(FE_TONEAREST);
  }
  ~IeeeEnvGuard() {
    std::fesetround(saved_);
  }

 private:
  int saved_;
#endif
 public:
  IeeeEnvGuard(const IeeeEnvGuard&) = delete;
  IeeeEnvGuard& operator=(const IeeeEnvGuard&) = delete;
};

// Runs fn(t) for t in [0, n) on n threads (the caller is thread 0), each under IeeeEnvGuard.
// The workers start only once all of them exist, so that a failure to create a thread (reported
// as std::system_error) never leaves the others waiting at a barrier inside fn.
template <typename Fn>
void run_parallel(std::size_t n, const Fn& fn, ThreadPool* pool) {
  if (pool != nullptr) {
    pool->run(n, [&fn](std::size_t t) {
      const IeeeEnvGuard env;
      fn(t);
    });
    return;
  }
  enum : int { kWait, kGo, kAbort };
  std::atomic<int> state{kWait};
  std::vector<std::thread> workers;
  try {
    workers.reserve(n > 1 ? n - 1 : 0);
    for (std::size_t t = 1; t < n; ++t) {
      workers.emplace_back([&fn, &state, t] {
        state.wait(kWait);
        if (state.load() != kGo) return;
        const IeeeEnvGuard env;
        fn(t);
      });
    }
  } catch (...) {
    state.store(kAbort);
    state.notify_all();
    for (auto& w : workers) w.join();
    throw;
  }
  state.store(kGo);
  state.notify_all();
  {
    const IeeeEnvGuard env;
    fn(std::size_t{0});
  }
  for (auto& w : workers) w.join();
}

// The codes of one format as floats, plus what decides whether code * 2^d is an FP32 value: the
// exponents of each code's lowest and highest set bit (zeros, Inf and NaN are exact under any
// scale), and the extremes over all codes, so that most scale blocks need no per-element check.
struct CodeTable {
  float val[256];
  int lo[256];
  int hi[256];
  int min_lo;
  int max_hi;
};
constexpr int kExpNone = 100000;
constexpr int kMinSubnormalExp = -149;  // FP32: 2^-149
constexpr int kMaxTopExp = 127;         // FP32: largest exponent of a finite value's top bit

CodeTable code_table(Fp8Format f) {
  CodeTable t{};
  t.min_lo = kExpNone;
  t.max_hi = -kExpNone;
  for (int code = 0; code < 256; ++code) {
    const auto c = static_cast<std::uint8_t>(code);
    t.val[code] = decode(f, c);
    t.lo[code] = kExpNone;
    t.hi[code] = -kExpNone;
    if (!is_nan(f, c) && !is_inf(f, c)) {
      const Fp8Exact x = decode_exact(f, c);
      if (x.sig != 0) {
        t.lo[code] = x.exp + std::countr_zero(x.sig);
        t.hi[code] = x.exp + 31 - std::countl_zero(x.sig);
      }
    }
    t.min_lo = std::min(t.min_lo, t.lo[code]);
    t.max_hi = std::max(t.max_hi, t.hi[code]);
  }
  return t;
}

// One operand's scale for a block: the factor, and whether some code may be inexact under it.
struct BlockScale {
  float factor;
  int d;
  bool check;
};

BlockScale block_scale(const CodeTable& tab, std::uint8_t scale) {
  const int d = static_cast<int>(scale) - kUe8m0Bias;
  // A NaN scale makes every product NaN, exactly as the fused step does: nothing to check.
  const bool check =
      scale != kUe8m0Nan && (tab.min_lo + d < kMinSubnormalExp || tab.max_hi + d > kMaxTopExp);
  return {decode_ue8m0(scale), d, check};
}

bool inexact(const CodeTable& tab, std::uint8_t code, int d) {
  return tab.lo[code] + d < kMinSubnormalExp || tab.hi[code] + d > kMaxTopExp;
}

// Packed-operand storage: uninitialised (the packing writes every element), and for large
// operands 2 MiB aligned and marked for transparent huge pages, since a 16 MiB operand otherwise
// costs thousands of page faults per call (a per-allocation hint; nothing global changes).
class PackBuffer {
 public:
  PackBuffer() = default;
  explicit PackBuffer(std::size_t count) {
    const std::size_t bytes = std::max<std::size_t>(count, 1) * sizeof(float);
    if (bytes >= kHugePage) {
      const std::size_t rounded = (bytes + kHugePage - 1) / kHugePage * kHugePage;
      data_ = static_cast<float*>(std::aligned_alloc(kHugePage, rounded));
#if defined(__linux__)
      if (data_ != nullptr) madvise(data_, rounded, MADV_HUGEPAGE);
#endif
    } else {
      data_ = static_cast<float*>(std::aligned_alloc(64, (bytes + 63) / 64 * 64));
    }
    if (data_ == nullptr) throw std::bad_alloc();
  }
  PackBuffer(const PackBuffer&) = delete;
  PackBuffer& operator=(const PackBuffer&) = delete;
  PackBuffer(PackBuffer&& o) noexcept : data_(std::exchange(o.data_, nullptr)) {}
  PackBuffer& operator=(PackBuffer&& o) noexcept {
    std::swap(data_, o.data_);
    return *this;
  }
  ~PackBuffer() {
    std::free(data_);
  }
  float* get() const {
    return data_;
  }

 private:
  static constexpr std::size_t kHugePage = std::size_t{2} << 20;
  float* data_ = nullptr;
};

struct Plan {
  const GemmProblem* p;
  KernelInfo ki;
  std::size_t mr, nr;
  std::size_t slivers, panels;       // ceil(M/mr), ceil(N/nr)
  std::size_t seg;                   // k granularity of the exactness flags (scale block, or K)
  std::size_t nseg;                  // K / seg
  std::size_t kc;                    // K chunk per pass over a macro tile
  std::size_t item_rows, item_cols;  // macro-tile grid; slivers and panels spread evenly
  bool force_exact;
  bool any_bad = false;
  PackBuffer apack, bpack;
  std::vector<std::uint8_t> abad, bbad;  // [sliver][seg], [panel][seg]
  float* c = nullptr;                    // the output, row stride N; threads own disjoint tiles
};

// Scales of one block for up to kMaxNr rows (A) or columns (B); returns whether any needs the
// per-element exactness check.
template <typename ScaleAt>
bool block_scales(const CodeTable& tab, std::size_t count, const ScaleAt& scale_at, float* factor,
                  int* d, bool* check) {
  bool any = false;
  for (std::size_t x = 0; x < count; ++x) {
    const BlockScale bs = block_scale(tab, scale_at(x));
    factor[x] = bs.factor;
    d[x] = bs.d;
    check[x] = bs.check;
    any = any || bs.check;
  }
  return any;
}

// Packed sliver s: for each k, the mr dequantised values of rows s*mr.. (0 beyond M).
void pack_a_sliver(Plan& pl, const CodeTable& tab, std::size_t s) {
  const GemmProblem& p = *pl.p;
  float* dst = pl.apack.get() + s * pl.mr * p.k;
  const std::size_t r0 = s * pl.mr;
  const std::size_t rows = std::min(pl.mr, p.m - r0);
  const std::size_t mr = pl.mr;
  float factor[kMaxNr];
  int d[kMaxNr];
  bool check[kMaxNr];
  for (std::size_t g = 0; g < pl.nseg; ++g) {
    const std::size_t k0 = g * pl.seg, k1 = k0 + pl.seg;
    const bool any = block_scales(
        tab, rows,
        [&](std::size_t ii) {
          return p.scale_a.empty() ? kUnitScale : p.scale_a[(r0 + ii) * pl.nseg + g];
        },
        factor, d, check);
    bool bad = false;
    for (std::size_t ii = 0; ii < rows; ++ii) {
      const std::uint8_t* src = p.a.data() + (r0 + ii) * p.k;
      const float f = factor[ii];
      // Exact unless flagged below; a NaN scale gives NaN (as the fused step does).
      for (std::size_t k = k0; k < k1; ++k) dst[k * mr + ii] = tab.val[src[k]] * f;
      if (any && check[ii]) {
        for (std::size_t k = k0; k < k1; ++k) bad = bad || inexact(tab, src[k], d[ii]);
      }
    }
    for (std::size_t ii = rows; ii < mr; ++ii) {
      for (std::size_t k = k0; k < k1; ++k) dst[k * mr + ii] = 0.0f;
    }
    pl.abad[s * pl.nseg + g] = bad ? 1 : 0;
  }
}

// Packed panel pn: for each k, the nr dequantised values of columns pn*nr.. (0 beyond N).
void pack_b_panel(Plan& pl, const CodeTable& tab, std::size_t pn) {
  const GemmProblem& p = *pl.p;
  float* dst = pl.bpack.get() + pn * pl.nr * p.k;
  const std::size_t j0 = pn * pl.nr;
  const std::size_t cols = std::min(pl.nr, p.n - j0);
  float factor[kMaxNr];
  int d[kMaxNr];
  bool check[kMaxNr];
  for (std::size_t g = 0; g < pl.nseg; ++g) {
    const std::size_t k0 = g * pl.seg, k1 = k0 + pl.seg;
    const bool any = block_scales(
        tab, cols,
        [&](std::size_t jj) {
          return p.scale_b.empty() ? kUnitScale : p.scale_b[g * p.n + j0 + jj];
        },
        factor, d, check);
    for (std::size_t jj = cols; jj < pl.nr; ++jj) factor[jj] = 0.0f;
    bool bad = false;
    for (std::size_t k = k0; k < k1; ++k) {
      float* out = dst + k * pl.nr;
      const std::uint8_t* src = p.b.data() + k * p.n + j0;
      for (std::size_t jj = 0; jj < cols; ++jj) out[jj] = tab.val[src[jj]] * factor[jj];
      for (std::size_t jj = cols; jj < pl.nr; ++jj) out[jj] = 0.0f;
      if (any) {
        for (std::size_t jj = 0; jj < cols; ++jj) {
          bad = bad || (check[jj] && inexact(tab, src[jj], d[jj]));
        }
      }
    }
    pl.bbad[pn * pl.nseg + g] = bad ? 1 : 0;
  }
}

struct Counters {
  std::uint64_t fast = 0, exact = 0;
};

// The exact step for one micro-tile over [k0, k1): the definition, on the raw codes.
void exact_unit(const Plan& pl, std::size_t s, std::size_t pn, std::size_t k0, std::size_t k1) {
  const GemmProblem& p = *pl.p;
  const std::size_t i_end = std::min(p.m, (s + 1) * pl.mr);
  const std::size_t j_end = std::min(p.n, (pn + 1) * pl.nr);
  for (std::size_t i = s * pl.mr; i < i_end; ++i) {
    for (std::size_t j = pn * pl.nr; j < j_end; ++j) {
      std::uint32_t acc = f32_bits(pl.c[i * p.n + j]);
      for (std::size_t k = k0; k < k1; ++k) {
        const std::size_t g = k / pl.seg;
        const std::uint8_t sa = p.scale_a.empty() ? kUnitScale : p.scale_a[i * pl.nseg + g];
        const std::uint8_t sb = p.scale_b.empty() ? kUnitScale : p.scale_b[g * p.n + j];
        acc = fused_step_bits(acc, p.fmt_a, p.a[i * p.k + k], p.fmt_b, p.b[k * p.n + j], sa, sb);
      }
      pl.c[i * p.n + j] = f32_from_bits(acc);
    }
  }
}

// The FMA kernel for one micro-tile over [k0, k1). Edge tiles run on a local copy of their
// valid part (the padding lanes compute on zero operands and are discarded).
void fast_unit(const Plan& pl, std::size_t s, std::size_t pn, std::size_t k0, std::size_t k1) {
  const GemmProblem& p = *pl.p;
  const float* a = pl.apack.get() + (s * p.k + k0) * pl.mr;
  const float* b = pl.bpack.get() + (pn * p.k + k0) * pl.nr;
  const std::size_t i0 = s * pl.mr, j0 = pn * pl.nr;
  float* c = pl.c + i0 * p.n + j0;
  if (i0 + pl.mr <= p.m && j0 + pl.nr <= p.n) {
    pl.ki.fn(a, b, c, p.n, k1 - k0);
    return;
  }
  const std::size_t rows = std::min(pl.mr, p.m - i0), cols = std::min(pl.nr, p.n - j0);
  alignas(64) float tile[kMaxMr * kMaxNr] = {};
  for (std::size_t i = 0; i < rows; ++i) {
    std::memcpy(tile + i * pl.nr, c + i * p.n, cols * sizeof(float));
  }
  pl.ki.fn(a, b, tile, pl.nr, k1 - k0);
  for (std::size_t i = 0; i < rows; ++i) {
    std::memcpy(c + i * p.n, tile + i * pl.nr, cols * sizeof(float));
  }
}

// One micro-tile over [k0, k1): FMA on runs of clean scale blocks, the exact step on the others.
void run_unit(const Plan& pl, std::size_t s, std::size_t pn, std::size_t k0, std::size_t k1,
              Counters& cnt) {
  if (pl.force_exact) {
    exact_unit(pl, s, pn, k0, k1);
    ++cnt.exact;
    return;
  }
  if (!pl.any_bad) {
    fast_unit(pl, s, pn, k0, k1);
    ++cnt.fast;
    return;
  }
  const auto bad_at = [&](std::size_t kk) {
    const std::size_t g = kk / pl.seg;
    return pl.abad[s * pl.nseg + g] != 0 || pl.bbad[pn * pl.nseg + g] != 0;
  };
  std::size_t k = k0;
  while (k < k1) {
    const bool bad = bad_at(k);
    std::size_t end = std::min(k1, (k / pl.seg + 1) * pl.seg);
    while (end < k1 && bad_at(end) == bad) end = std::min(k1, (end / pl.seg + 1) * pl.seg);
    if (bad) {
      exact_unit(pl, s, pn, k, end);
      ++cnt.exact;
    } else {
      fast_unit(pl, s, pn, k, end);
      ++cnt.fast;
    }
    k = end;
  }
}

// One macro tile of C, start to finish: C_init (or +0), all K chunks in increasing order, then
// NaN canonicalisation (x86 FMA makes the default NaN 0xFFC00000 for Inf*0 and Inf-Inf).
void run_item(const Plan& pl, std::size_t item, Counters& cnt) {
  const GemmProblem& p = *pl.p;
  const std::size_t row = item / pl.item_cols, col = item % pl.item_cols;
  const std::size_t s0 = row * pl.slivers / pl.item_rows;
  const std::size_t s1 = (row + 1) * pl.slivers / pl.item_rows;
  const std::size_t p0 = col * pl.panels / pl.item_cols;
  const std::size_t p1 = (col + 1) * pl.panels / pl.item_cols;
  const std::size_t r0 = s0 * pl.mr, r1 = std::min(p.m, s1 * pl.mr);
  const std::size_t c0 = p0 * pl.nr, c1 = std::min(p.n, p1 * pl.nr);
  for (std::size_t i = r0; i < r1; ++i) {
    float* row = pl.c + i * p.n;
    if (p.c_init.empty()) {
      std::fill(row + c0, row + c1, 0.0f);
    } else {
      // memmove: C_init may be C itself (accumulate in place).
      std::memmove(row + c0, p.c_init.data() + i * p.n + c0, (c1 - c0) * sizeof(float));
    }
  }
  for (std::size_t k0 = 0; k0 < p.k; k0 += pl.kc) {
    const std::size_t k1 = std::min(p.k, k0 + pl.kc);
    for (std::size_t pn = p0; pn < p1; ++pn) {
      for (std::size_t s = s0; s < s1; ++s) run_unit(pl, s, pn, k0, k1, cnt);
    }
  }
  for (std::size_t i = r0; i < r1; ++i) {
    float* row = pl.c + i * p.n;
    for (std::size_t j = c0; j < c1; ++j) {
      if (std::isnan(row[j])) row[j] = f32_from_bits(kCanonicalNanBits);
    }
  }
}

KernelInfo select_kernel(GemmIsa isa) {
  if (isa == GemmIsa::kAuto) isa = detect_best_isa();
  if (!isa_supported(isa)) {
    throw std::invalid_argument("gemm: ISA '" + std::string(isa_name(isa)) +
                                "' was requested but this host CPU does not support it");
  }
  KernelInfo ki = detail::kernel_portable();
#if defined(MXEMU_GEMM_X86)
  if (isa == GemmIsa::kAvx512) ki = detail::kernel_avx512();
  if (isa == GemmIsa::kAvx2) ki = detail::kernel_avx2();
#endif
  if (ki.mr > kMaxMr || ki.nr > kMaxNr) throw std::logic_error("gemm: kernel block too large");
  return ki;
}

}  // namespace

bool isa_supported(GemmIsa isa) {
  switch (isa) {
    case GemmIsa::kAuto:
    case GemmIsa::kPortable:
      return true;
#if defined(MXEMU_GEMM_X86)
    case GemmIsa::kAvx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case GemmIsa::kAvx512:
      return __builtin_cpu_supports("avx512f");
#endif
    default:
      return false;
  }
}

GemmIsa detect_best_isa() {
  if (isa_supported(GemmIsa::kAvx512)) return GemmIsa::kAvx512;
  if (isa_supported(GemmIsa::kAvx2)) return GemmIsa::kAvx2;
  return GemmIsa::kPortable;
}

void gemm(const GemmProblem& p, std::span<float> c, const GemmOptions& opt) {
  GemmStats stats;
  gemm(p, c, opt, stats);
}

void gemm(const GemmProblem& p, std::span<float> c, const GemmOptions& opt, GemmStats& stats) {
  validate(p, c);
  if (opt.threads < 0) {
    throw std::invalid_argument("gemm: threads must be >= 0 (0 = one per hardware thread), got " +
                                std::to_string(opt.threads));
  }
  Plan pl;
  pl.p = &p;
  pl.ki = select_kernel(opt.isa);
  stats = GemmStats{};
  stats.isa = pl.ki.isa;
  stats.mr = pl.ki.mr;
  stats.nr = pl.ki.nr;
  if (p.m == 0 || p.n == 0) return;
  if (p.k == 0) {  // no step at all: C is C_init bit for bit (or +0)
    for (std::size_t i = 0; i < p.m * p.n; ++i) c[i] = p.c_init.empty() ? 0.0f : p.c_init[i];
    return;
  }
  pl.c = c.data();
  pl.mr = static_cast<std::size_t>(pl.ki.mr);
  pl.nr = static_cast<std::size_t>(pl.ki.nr);
  pl.slivers = (p.m + pl.mr - 1) / pl.mr;
  pl.panels = (p.n + pl.nr - 1) / pl.nr;
  const bool scaled = !p.scale_a.empty() || !p.scale_b.empty();
  pl.seg = scaled ? static_cast<std::size_t>(p.block) : p.k;
  pl.nseg = p.k / pl.seg;
  pl.force_exact = opt.force_exact;
  // Cache blocking: a kc x nr B micro-panel stays in L1 while the mr x kc A slivers of a macro
  // tile stream from L2; any blocking gives the same bits.
  pl.kc = kKChunk;
  const std::size_t max_mc = std::max<std::size_t>(1, kMacroRows / pl.mr);
  const std::size_t max_nc = std::max<std::size_t>(1, kMacroCols / pl.nr);

  int threads = opt.threads;
  if (opt.pool != nullptr) {
    const int pool_threads = static_cast<int>(opt.pool->size());
    threads = threads == 0 ? pool_threads : std::min(threads, pool_threads);
  } else if (threads == 0) {
    threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  }
  // Macro-tile grid: row blocks a multiple of the thread count (each thread then gets the same
  // number of whole grid rows, balanced to one sliver); with fewer slivers than threads, the
  // columns are split too. The split changes who computes an element, never its bits.
  const auto tu = static_cast<std::size_t>(threads);
  const auto ceil_div = [](std::size_t a, std::size_t b) { return (a + b - 1) / b; };
  pl.item_cols = ceil_div(pl.panels, max_nc);
  if (pl.slivers >= tu) {
    pl.item_rows = std::min(pl.slivers, tu * ceil_div(pl.slivers, tu * max_mc));
  } else {
    pl.item_rows = pl.slivers;
    pl.item_cols = std::min(pl.panels, std::max(pl.item_cols, ceil_div(tu, pl.item_rows)));
  }
  const std::size_t items = pl.item_rows * pl.item_cols;
  const std::size_t nthreads = std::min(tu, items);
  stats.threads = static_cast<int>(nthreads);

  pl.apack = PackBuffer(pl.slivers * pl.mr * p.k);
  pl.bpack = PackBuffer(pl.panels * pl.nr * p.k);
  pl.abad.assign(pl.slivers * pl.nseg, 0);
  pl.bbad.assign(pl.panels * pl.nseg, 0);
  const CodeTable tab_a = code_table(p.fmt_a);
  const CodeTable tab_b = code_table(p.fmt_b);

  // One parallel region, two phases. Phase 1: dequantise and pack (slivers and panels split
  // across threads; disjoint writes). The barrier's completion step (run once, before any thread
  // continues) sees every exactness flag. Phase 2: each thread owns a contiguous range of macro
  // tiles, i.e. whole output elements.
  const std::size_t pack_jobs = pl.slivers + pl.panels;
  std::vector<Counters> counters(nthreads);
  const auto flags_done = [&pl]() noexcept {
    pl.any_bad = std::find(pl.abad.begin(), pl.abad.end(), 1) != pl.abad.end() ||
                 std::find(pl.bbad.begin(), pl.bbad.end(), 1) != pl.bbad.end();
  };
  std::barrier packed(static_cast<std::ptrdiff_t>(nthreads), flags_done);
  run_parallel(
      nthreads,
      [&](std::size_t t) {
        for (std::size_t job = t; job < pack_jobs; job += nthreads) {
          if (job < pl.slivers) {
            pack_a_sliver(pl, tab_a, job);
          } else {
            pack_b_panel(pl, tab_b, job - pl.slivers);
          }
        }
        packed.arrive_and_wait();
        for (std::size_t item = items * t / nthreads; item < items * (t + 1) / nthreads; ++item) {
          run_item(pl, item, counters[t]);
        }
      },
      opt.pool);
  for (const Counters& cnt : counters) {
    stats.fast_units += cnt.fast;
    stats.exact_units += cnt.exact;
  }
}

}  // namespace mxemu::num
