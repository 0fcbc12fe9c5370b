// The fast reference GEMM: bit-identical to gemm_exact (DESIGN §3), fast enough for the simulator.
//
// Why FMA is exact here: a dequantised operand A' = decode(a) * 2^(sa-127) has at most 4
// significant bits; when both A' and B' are FP32 values, fma(A', B', acc) forms the exact product
// (even outside FP32's range) and rounds acc + A'B' once, RNE, with gradual underflow and overflow
// to Inf: exactly the fused step. The IEEE special cases agree too (NaN in, Inf*0, Inf-Inf -> NaN;
// signed zeros; exact cancellation -> +0), and NaN results are canonicalised at the end.
// Where a scaled operand is not an FP32 value (below 2^-149 precision or above the range), the
// (micro-tile, scale block) goes through fused_step_bits instead, in the same k order.
//
// Structure: dequantise and pack A into MR-row slivers and B into NR-column panels (k-major, the
// FP32 values plus a per-(sliver|panel, block) "not exact" flag), then every thread owns whole
// macro tiles of C and walks K in chunks in increasing order; the accumulators live in a padded
// C buffer between chunks, so chunking never changes a bit. Each output element is computed by
// exactly one thread, so the result does not depend on the thread count.
//
// Floating-point environment: every thread runs the arithmetic with MXCSR = 0x1F80 (round to
// nearest even, no FTZ/DAZ, exceptions masked) and restores its previous value afterwards; nothing
// is set globally.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#if defined(MXEMU_GEMM_X86)
#include <xmmintrin.h>
#else
#include <cfenv>
#endif

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
template <typename Fn>
void run_parallel(int n, const Fn& fn) {
  std::vector<std::thread> workers;
  workers.reserve(static_cast<std::size_t>(n > 1 ? n - 1 : 0));
  for (int t = 1; t < n; ++t) {
    workers.emplace_back([&fn, t] {
      const IeeeEnvGuard env;
      fn(t);
    });
  }
  {
    const IeeeEnvGuard env;
    fn(0);
  }
  for (auto& w : workers) w.join();
}

// One FP8 code as a float plus the exponents of its lowest and highest set bit, so that the
// exactness of code * 2^d is two comparisons. Zeros, Inf and NaN stay exact under any scale.
struct CodeInfo {
  float val;
  int lo;
  int hi;
};
constexpr int kExpNone = 100000;
constexpr int kMinSubnormalExp = -149;  // FP32: 2^-149
constexpr int kMaxTopExp = 127;         // FP32: largest exponent of a finite value's top bit

std::vector<CodeInfo> code_table(Fp8Format f) {
  std::vector<CodeInfo> t(256);
  for (int code = 0; code < 256; ++code) {
    const auto c = static_cast<std::uint8_t>(code);
    CodeInfo ci{decode(f, c), kExpNone, -kExpNone};
    if (!is_nan(f, c) && !is_inf(f, c)) {
      const Fp8Exact x = decode_exact(f, c);
      if (x.sig != 0) {
        ci.lo = x.exp + std::countr_zero(x.sig);
        ci.hi = x.exp + 31 - std::countl_zero(x.sig);
      }
    }
    t[static_cast<std::size_t>(code)] = ci;
  }
  return t;
}

// Dequantises one scale block of `len` codes into dst (stride `step`); returns whether any value
// is not an exact FP32 value. Must run under IeeeEnvGuard (the multiply by 2^-127 is subnormal).
bool dequant_block(const std::vector<CodeInfo>& tab, const std::uint8_t* src, std::size_t src_step,
                   std::size_t len, std::uint8_t scale, float* dst, std::size_t dst_step) {
  const float sf = decode_ue8m0(scale);
  const int d = static_cast<int>(scale) - kUe8m0Bias;
  const bool nan_scale = scale == kUe8m0Nan;
  bool bad = false;
  for (std::size_t k = 0; k < len; ++k) {
    const CodeInfo& ci = tab[src[k * src_step]];
    dst[k * dst_step] = ci.val * sf;  // exact unless flagged below; NaN scale -> NaN
    bad |= ci.lo + d < kMinSubnormalExp || ci.hi + d > kMaxTopExp;
  }
  return bad && !nan_scale;
}

struct Plan {
  const GemmProblem* p;
  KernelInfo ki;
  std::size_t mr, nr;
  std::size_t slivers, panels;  // ceil(M/mr), ceil(N/nr)
  std::size_t ldc;              // padded C row stride = panels * nr
  std::size_t seg;              // k granularity of the exactness flags (scale block, or K)
  std::size_t nseg;             // K / seg
  std::size_t kc;               // K chunk per pass over a macro tile
  std::size_t mc_slivers, nc_panels;
  std::size_t item_rows, item_cols;  // macro-tile grid
  bool force_exact;
  bool any_bad = false;
  std::vector<float> apack, bpack, cbuf;
  float* cb = nullptr;                   // cbuf.data(): threads write disjoint tiles
  std::vector<std::uint8_t> abad, bbad;  // [sliver][seg], [panel][seg]
};

void pack_a_sliver(Plan& pl, const std::vector<CodeInfo>& tab, std::size_t s) {
  const GemmProblem& p = *pl.p;
  float* dst = pl.apack.data() + s * pl.mr * p.k;
  for (std::size_t ii = 0; ii < pl.mr; ++ii) {
    const std::size_t r = s * pl.mr + ii;
    if (r >= p.m) {
      for (std::size_t k = 0; k < p.k; ++k) dst[k * pl.mr + ii] = 0.0f;
      continue;
    }
    for (std::size_t g = 0; g < pl.nseg; ++g) {
      const std::uint8_t sc = p.scale_a.empty() ? kUnitScale : p.scale_a[r * pl.nseg + g];
      if (dequant_block(tab, p.a.data() + r * p.k + g * pl.seg, 1, pl.seg, sc,
                        dst + g * pl.seg * pl.mr + ii, pl.mr)) {
        pl.abad[s * pl.nseg + g] = 1;
      }
    }
  }
}

void pack_b_panel(Plan& pl, const std::vector<CodeInfo>& tab, std::size_t pn) {
  const GemmProblem& p = *pl.p;
  float* dst = pl.bpack.data() + pn * pl.nr * p.k;
  for (std::size_t jj = 0; jj < pl.nr; ++jj) {
    const std::size_t j = pn * pl.nr + jj;
    if (j >= p.n) {
      for (std::size_t k = 0; k < p.k; ++k) dst[k * pl.nr + jj] = 0.0f;
      continue;
    }
    for (std::size_t g = 0; g < pl.nseg; ++g) {
      const std::uint8_t sc = p.scale_b.empty() ? kUnitScale : p.scale_b[g * p.n + j];
      if (dequant_block(tab, p.b.data() + g * pl.seg * p.n + j, p.n, pl.seg, sc,
                        dst + g * pl.seg * pl.nr + jj, pl.nr)) {
        pl.bbad[pn * pl.nseg + g] = 1;
      }
    }
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
  float* cb = pl.cb;
  for (std::size_t i = s * pl.mr; i < i_end; ++i) {
    for (std::size_t j = pn * pl.nr; j < j_end; ++j) {
      std::uint32_t acc = f32_bits(cb[i * pl.ldc + j]);
      for (std::size_t k = k0; k < k1; ++k) {
        const std::size_t g = k / pl.seg;
        const std::uint8_t sa = p.scale_a.empty() ? kUnitScale : p.scale_a[i * pl.nseg + g];
        const std::uint8_t sb = p.scale_b.empty() ? kUnitScale : p.scale_b[g * p.n + j];
        acc = fused_step_bits(acc, p.fmt_a, p.a[i * p.k + k], p.fmt_b, p.b[k * p.n + j], sa, sb);
      }
      cb[i * pl.ldc + j] = f32_from_bits(acc);
    }
  }
}

void fast_unit(const Plan& pl, std::size_t s, std::size_t pn, std::size_t k0, std::size_t k1) {
  const std::size_t k = pl.p->k;
  float* cb = pl.cb;
  pl.ki.fn(pl.apack.data() + s * pl.mr * k + k0 * pl.mr,
           pl.bpack.data() + pn * pl.nr * k + k0 * pl.nr, cb + s * pl.mr * pl.ldc + pn * pl.nr,
           pl.ldc, k1 - k0);
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
  std::size_t k = k0;
  while (k < k1) {
    const auto bad_at = [&](std::size_t kk) {
      const std::size_t g = kk / pl.seg;
      return pl.abad[s * pl.nseg + g] != 0 || pl.bbad[pn * pl.nseg + g] != 0;
    };
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

void run_item(const Plan& pl, std::size_t item, Counters& cnt) {
  const GemmProblem& p = *pl.p;
  const std::size_t s0 = (item / pl.item_cols) * pl.mc_slivers;
  const std::size_t s1 = std::min(pl.slivers, s0 + pl.mc_slivers);
  const std::size_t p0 = (item % pl.item_cols) * pl.nc_panels;
  const std::size_t p1 = std::min(pl.panels, p0 + pl.nc_panels);
  float* cb = pl.cb;
  // Accumulators start at C_init (or +0), padding included.
  for (std::size_t i = s0 * pl.mr; i < s1 * pl.mr; ++i) {
    for (std::size_t j = p0 * pl.nr; j < p1 * pl.nr; ++j) {
      cb[i * pl.ldc + j] = (i < p.m && j < p.n && !p.c_init.empty()) ? p.c_init[i * p.n + j] : 0.0f;
    }
  }
  for (std::size_t k0 = 0; k0 < p.k; k0 += pl.kc) {
    const std::size_t k1 = std::min(p.k, k0 + pl.kc);
    for (std::size_t pn = p0; pn < p1; ++pn) {
      for (std::size_t s = s0; s < s1; ++s) run_unit(pl, s, pn, k0, k1, cnt);
    }
  }
}

KernelInfo select_kernel(GemmIsa isa) {
  if (isa == GemmIsa::kAuto) isa = detect_best_isa();
  if (!isa_supported(isa)) {
    throw std::invalid_argument("gemm: ISA '" + std::string(isa_name(isa)) +
                                "' was requested but this host CPU does not support it");
  }
  switch (isa) {
#if defined(MXEMU_GEMM_X86)
    case GemmIsa::kAvx512:
      return detail::kernel_avx512();
    case GemmIsa::kAvx2:
      return detail::kernel_avx2();
#endif
    default:
      return detail::kernel_portable();
  }
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
  pl.mr = static_cast<std::size_t>(pl.ki.mr);
  pl.nr = static_cast<std::size_t>(pl.ki.nr);
  pl.slivers = (p.m + pl.mr - 1) / pl.mr;
  pl.panels = (p.n + pl.nr - 1) / pl.nr;
  pl.ldc = pl.panels * pl.nr;
  const bool scaled = !p.scale_a.empty() || !p.scale_b.empty();
  pl.seg = scaled ? static_cast<std::size_t>(p.block) : p.k;
  pl.nseg = p.k / pl.seg;
  pl.force_exact = opt.force_exact;
  // Cache blocking: a KC x NR B micro-panel stays in L1 while MR x KC A slivers stream from L2.
  pl.kc = 192;
  pl.mc_slivers = std::max<std::size_t>(1, 240 / pl.mr);
  pl.nc_panels = std::max<std::size_t>(1, 512 / pl.nr);

  int threads = opt.threads;
  if (threads == 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  // Enough macro tiles for every thread; smaller tiles change the work split, never a bit.
  const auto tu = static_cast<std::size_t>(threads);
  auto grid = [&] {
    pl.item_rows = (pl.slivers + pl.mc_slivers - 1) / pl.mc_slivers;
    pl.item_cols = (pl.panels + pl.nc_panels - 1) / pl.nc_panels;
  };
  grid();
  if (pl.item_rows * pl.item_cols < tu) {
    pl.mc_slivers = std::max<std::size_t>(1, (pl.slivers + tu - 1) / tu);
    grid();
    if (pl.item_rows * pl.item_cols < tu) {
      pl.nc_panels = std::max<std::size_t>(1, (pl.panels + tu - 1) / tu);
      grid();
    }
  }
  const std::size_t items = pl.item_rows * pl.item_cols;
  threads = static_cast<int>(std::min<std::size_t>(tu, items));
  stats.threads = threads;
  const auto nthreads = static_cast<std::size_t>(threads);

  pl.apack.resize(pl.slivers * pl.mr * p.k);
  pl.bpack.resize(pl.panels * pl.nr * p.k);
  pl.cbuf.resize(pl.slivers * pl.mr * pl.ldc);
  pl.cb = pl.cbuf.data();
  pl.abad.assign(pl.slivers * pl.nseg, 0);
  pl.bbad.assign(pl.panels * pl.nseg, 0);
  const std::vector<CodeInfo> tab_a = code_table(p.fmt_a);
  const std::vector<CodeInfo> tab_b = code_table(p.fmt_b);

  // Phase 1: dequantise and pack (slivers and panels split across threads; disjoint writes).
  const std::size_t pack_jobs = pl.slivers + pl.panels;
  run_parallel(threads, [&](int t) {
    for (std::size_t job = static_cast<std::size_t>(t); job < pack_jobs; job += nthreads) {
      if (job < pl.slivers) {
        pack_a_sliver(pl, tab_a, job);
      } else {
        pack_b_panel(pl, tab_b, job - pl.slivers);
      }
    }
  });
  pl.any_bad = std::find(pl.abad.begin(), pl.abad.end(), 1) != pl.abad.end() ||
               std::find(pl.bbad.begin(), pl.bbad.end(), 1) != pl.bbad.end();

  // Phase 2: each thread owns a contiguous range of macro tiles (whole output elements).
  std::vector<Counters> counters(nthreads);
  run_parallel(threads, [&](int t) {
    const auto ut = static_cast<std::size_t>(t);
    const std::size_t i0 = items * ut / nthreads;
    const std::size_t i1 = items * (ut + 1) / nthreads;
    Counters& cnt = counters[ut];
    for (std::size_t item = i0; item < i1; ++item) {
      run_item(pl, item, cnt);
      // Copy the finished tile out, canonicalising NaN (x86 makes 0xFFC00000 for Inf*0).
      const std::size_t r0 = (item / pl.item_cols) * pl.mc_slivers * pl.mr;
      const std::size_t r1 = std::min(p.m, r0 + pl.mc_slivers * pl.mr);
      const std::size_t c0 = (item % pl.item_cols) * pl.nc_panels * pl.nr;
      const std::size_t c1 = std::min(p.n, c0 + pl.nc_panels * pl.nr);
      for (std::size_t i = r0; i < r1; ++i) {
        for (std::size_t j = c0; j < c1; ++j) {
          const float v = pl.cbuf[i * pl.ldc + j];
          c[i * p.n + j] = std::isnan(v) ? f32_from_bits(kCanonicalNanBits) : v;
        }
      }
    }
  });
  for (const Counters& cnt : counters) {
    stats.fast_units += cnt.fast;
    stats.exact_units += cnt.exact;
  }
}

}  // namespace mxemu::num
