// bench_gemm: throughput of the fast reference MXFP8 GEMM (mxemu::num::gemm, E4M3, block-32
// scales) against, in the same run, OpenBLAS SGEMM on the dequantised FP32 matrices (same shapes,
// same thread count) and the host's measured FMA peak (register-resident FMA loops on all
// threads). Before timing, the GEMM result is checked bit for bit against gemm_exact on a random
// sample of output elements. Not a test: run by hand, see docs/PERFORMANCE.md.
#include <cblas.h>

#include <fmt/core.h>
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "model/numerics/fp8.h"
#include "model/numerics/gemm.h"
#include "model/numerics/mx.h"
#include "tools/bench/gemm/fma_peak.h"

namespace num = mxemu::num;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

double wall_seconds() {
  return std::chrono::duration<double>(Clock::now().time_since_epoch()).count();
}

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Best time of each of two functions over `reps` interleaved runs (so that both see the same
// machine conditions on a shared host), measured with `clock` (seconds).
template <typename F, typename G, typename C = double (*)()>
std::pair<double, double> best_of_interleaved(int reps, const F& f, const G& g,
                                              C clock = wall_seconds) {
  double bf = 1e300, bg = 1e300;
  for (int r = 0; r < reps; ++r) {
    double t0 = clock();
    f();
    bf = std::min(bf, clock() - t0);
    t0 = clock();
    g();
    bg = std::min(bg, clock() - t0);
  }
  return {bf, bg};
}

// A (M x K) and B (K x N) quantised to MXFP8 E4M3 with block-32 scales along K, plus the exactly
// dequantised FP32 copies that OpenBLAS multiplies.
struct Operands {
  std::size_t m, n, k;
  int block;
  std::vector<std::uint8_t> a, b, sa, sb;
  std::vector<float> af, bf;
};

Operands make_operands(std::size_t m, std::size_t n, std::size_t k, int block, std::uint64_t seed) {
  Operands o{m, n, k, block, {}, {}, {}, {}, {}, {}};
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  const std::size_t kb = k / static_cast<std::size_t>(block);
  std::vector<float> v(m * k);
  for (auto& x : v) x = nd(rng);
  o.a.resize(m * k);
  o.sa.resize(m * kb);
  num::mx_quantize(v, m, k, block, num::Fp8Format::kE4M3, num::MxScaleMode::kFloor, o.a, o.sa);
  // B is quantised along K as B^T (N x K), then transposed into the K x N layout.
  std::vector<float> vt(n * k);
  for (auto& x : vt) x = nd(rng);
  std::vector<std::uint8_t> bt(n * k), sbt(n * kb);
  num::mx_quantize(vt, n, k, block, num::Fp8Format::kE4M3, num::MxScaleMode::kFloor, bt, sbt);
  o.b.resize(k * n);
  o.sb.resize(kb * n);
  for (std::size_t j = 0; j < n; ++j) {
    for (std::size_t kk = 0; kk < k; ++kk) o.b[kk * n + j] = bt[j * k + kk];
    for (std::size_t g = 0; g < kb; ++g) o.sb[g * n + j] = sbt[j * kb + g];
  }
  // Exact dequantisation (the scales here are moderate, so every value is an FP32 value).
  const auto deq = [](std::uint8_t code, std::uint8_t scale) {
    return static_cast<float>(static_cast<double>(num::decode(num::Fp8Format::kE4M3, code)) *
                              static_cast<double>(num::decode_ue8m0(scale)));
  };
  o.af.resize(m * k);
  o.bf.resize(k * n);
  for (std::size_t i = 0; i < m; ++i) {
    for (std::size_t kk = 0; kk < k; ++kk)
      o.af[i * k + kk] = deq(o.a[i * k + kk], o.sa[i * kb + kk / block]);
  }
  for (std::size_t kk = 0; kk < k; ++kk) {
    for (std::size_t j = 0; j < n; ++j)
      o.bf[kk * n + j] = deq(o.b[kk * n + j], o.sb[(kk / block) * n + j]);
  }
  return o;
}

num::GemmProblem problem(const Operands& o) {
  num::GemmProblem p;
  p.m = o.m;
  p.n = o.n;
  p.k = o.k;
  p.a = o.a;
  p.b = o.b;
  p.scale_a = o.sa;
  p.scale_b = o.sb;
  p.block = o.block;
  return p;
}

// Checks `samples` random output elements against gemm_exact on the 1 x 1 x K sub-problem.
std::size_t count_mismatches(const Operands& o, const std::vector<float>& c, int samples,
                             std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  const std::size_t kb = o.k / static_cast<std::size_t>(o.block);
  std::vector<std::uint8_t> col(o.k), scol(kb);
  std::size_t bad = 0;
  for (int s = 0; s < samples; ++s) {
    const std::size_t i = rng() % o.m, j = rng() % o.n;
    for (std::size_t kk = 0; kk < o.k; ++kk) col[kk] = o.b[kk * o.n + j];
    for (std::size_t g = 0; g < kb; ++g) scol[g] = o.sb[g * o.n + j];
    num::GemmProblem p;
    p.m = 1;
    p.n = 1;
    p.k = o.k;
    p.a = std::span<const std::uint8_t>(o.a.data() + i * o.k, o.k);
    p.b = col;
    p.scale_a = std::span<const std::uint8_t>(o.sa.data() + i * kb, kb);
    p.scale_b = scol;
    p.block = o.block;
    float want = 0.0f;
    num::gemm_exact(p, std::span<float>(&want, 1));
    if (num::f32_bits(want) != num::f32_bits(c[i * o.n + j])) ++bad;
  }
  return bad;
}

std::string load_average() {
  std::ifstream f("/proc/loadavg");
  std::string a, b, c;
  f >> a >> b >> c;
  return a + " " + b + " " + c;
}

// Host FMA peak for one ISA: the loop on `threads` threads at once; GFMA/s (scalar FMAs). Each
// thread's rate is taken over its own CPU time, so other processes on a shared machine lower
// the figure less than wall time would (the sum is the peak with every thread on its own core).
double fma_peak(num::GemmIsa isa, int threads) {
  const auto loop = [isa](std::uint64_t iters, std::uint64_t& fmas) -> float {
    switch (isa) {
#if defined(MXEMU_BENCH_X86)
      case num::GemmIsa::kAvx512:
        return mxemu::bench::fma_loop_avx512(iters, fmas);
      case num::GemmIsa::kAvx2:
        return mxemu::bench::fma_loop_avx2(iters, fmas);
#endif
      default:
        return mxemu::bench::fma_loop_portable(iters, fmas);
    }
  };
  // Calibrate on one thread to about 0.3 s, then run on all threads together (best of 3).
  std::uint64_t iters = 1 << 16, fmas = 0;
  for (;;) {
    const auto t0 = Clock::now();
    volatile float sink = loop(iters, fmas);
    (void)sink;
    if (seconds_since(t0) > 0.05) break;
    iters *= 2;
  }
  iters *= 6;
  double best = 0.0;
  for (int rep = 0; rep < 3; ++rep) {
    std::vector<double> rates(static_cast<std::size_t>(threads));
    std::vector<float> sinks(static_cast<std::size_t>(threads));
    std::vector<std::thread> ts;
    ts.reserve(static_cast<std::size_t>(threads));
    for (int t = 0; t < threads; ++t) {
      ts.emplace_back([&, t] {
        const auto ut = static_cast<std::size_t>(t);
        std::uint64_t n = 0;
        const double c0 = thread_cpu_seconds();
        sinks[ut] = loop(iters, n);
        rates[ut] = static_cast<double>(n) / (thread_cpu_seconds() - c0) / 1e9;
      });
    }
    for (auto& t : ts) t.join();
    double total = 0.0;
    for (double r : rates) total += r;
    best = std::max(best, total);
  }
  return best;
}

int bench_main(int argc, char** argv) {
  CLI::App app{"bench_gemm: reference MXFP8 GEMM vs OpenBLAS SGEMM and the host FMA peak"};
  int threads = 2;
  int reps = 5;
  int samples = 2000;
  std::vector<std::size_t> sizes{512, 2048};
  std::string isa_text = "auto";
  app.add_option("--threads", threads, "threads for both GEMMs and the FMA peak")
      ->check(CLI::Range(1, 1024));
  app.add_option("--reps", reps, "timed repetitions (best is reported)")
      ->check(CLI::Range(1, 1000));
  app.add_option("--sizes", sizes, "square sizes M = N = K (multiples of 32)");
  app.add_option("--samples", samples, "output elements checked against gemm_exact")
      ->check(CLI::Range(1, 1000000));
  app.add_option("--isa", isa_text, "gemm kernel: auto, portable, avx2, avx512")
      ->check(CLI::IsMember({"auto", "portable", "avx2", "avx512"}));
  CLI11_PARSE(app, argc, argv);
  num::GemmIsa isa = num::GemmIsa::kAuto;
  for (num::GemmIsa c : {num::GemmIsa::kPortable, num::GemmIsa::kAvx2, num::GemmIsa::kAvx512}) {
    if (num::isa_name(c) == isa_text) isa = c;
  }
  for (std::size_t s : sizes) {
    if (s == 0 || s % 32 != 0) {
      fmt::print(stderr, "bench_gemm: error: size {} is not a positive multiple of 32\n", s);
      return 2;
    }
  }

  openblas_set_num_threads(threads);
  // NOLINTNEXTLINE(concurrency-mt-unsafe): read before any thread starts
  const char* coretype_env = std::getenv("OPENBLAS_CORETYPE");
  fmt::print("OpenBLAS: core {} | config {} | OPENBLAS_CORETYPE={}\n", openblas_get_corename(),
             openblas_get_config(), coretype_env != nullptr ? coretype_env : "(unset)");
  fmt::print("load average at the start: {}\n", load_average());
  fmt::print("threads {} | hardware threads {} | gemm ISA requested {} (best on host {})\n",
             threads, std::thread::hardware_concurrency(), num::isa_name(isa),
             num::isa_name(num::detect_best_isa()));

  double peak_best = 0.0;
  for (num::GemmIsa c : {num::GemmIsa::kPortable, num::GemmIsa::kAvx2, num::GemmIsa::kAvx512}) {
    if (!num::isa_supported(c)) continue;
    const double g = fma_peak(c, threads);
    peak_best = std::max(peak_best, g);
    fmt::print("FMA peak {:>8}: {:8.1f} GFMA/s ({} threads)\n", num::isa_name(c), g, threads);
  }

  int status = 0;
  for (std::size_t s : sizes) {
    const Operands o = make_operands(s, s, s, 32, 1234 + s);
    const num::GemmProblem p = problem(o);
    const double macs = static_cast<double>(s) * static_cast<double>(s) * static_cast<double>(s);
    std::vector<float> c(s * s);
    num::GemmStats st;
    const num::GemmOptions opt{isa, threads, false};
    num::gemm(p, c, opt, st);  // warm-up, and the result that is checked
    const std::size_t bad = count_mismatches(o, c, samples, 99 + s);
    std::vector<float> cb(s * s);
    const auto n = static_cast<blasint>(s);
    const auto sgemm = [&] {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, o.af.data(), n,
                  o.bf.data(), n, 0.0f, cb.data(), n);
    };
    sgemm();  // warm-up
    const auto [t_ref, t_blas] = best_of_interleaved(
        reps, [&] { num::gemm(p, c, opt, st); }, sgemm);
    // The same on one thread, timed in that thread's CPU seconds: much less sensitive to other
    // processes on a shared machine than wall time (both libraries then run in this thread).
    openblas_set_num_threads(1);
    const num::GemmOptions opt1{isa, 1, false};
    num::GemmStats st1;
    const auto [t_ref1, t_blas1] = best_of_interleaved(
        reps, [&] { num::gemm(p, c, opt1, st1); }, sgemm, thread_cpu_seconds);
    openblas_set_num_threads(threads);
    const double g_ref1 = macs / t_ref1 / 1e9, g_blas1 = macs / t_blas1 / 1e9;
    const double g_ref = macs / t_ref / 1e9, g_blas = macs / t_blas / 1e9;
    fmt::print(
        "{0}x{0}x{0} MXFP8 E4M3 block 32: reference gemm [{1}, {2} threads, {3} exact units] "
        "{4:7.1f} GMAC/s ({5:.1f} ms) | OpenBLAS SGEMM {6:7.1f} GMAC/s ({7:.1f} ms) | "
        "ref/OpenBLAS {8:.2f} | ref/peak {9:.2f} | OpenBLAS/peak {10:.2f} | bit-exact sample "
        "{11}/{12}{13}\n",
        s, num::isa_name(st.isa), st.threads, st.exact_units, g_ref, t_ref * 1e3, g_blas,
        t_blas * 1e3, g_ref / g_blas, g_ref / peak_best, g_blas / peak_best, samples - bad, samples,
        bad == 0 ? "" : "  MISMATCH");
    fmt::print(
        "{0}x{0}x{0} one thread, CPU time: reference gemm {1:7.1f} GMAC/s | OpenBLAS SGEMM "
        "{2:7.1f} GMAC/s | ref/OpenBLAS {3:.2f} | ref/peak-per-thread {4:.2f}\n",
        s, g_ref1, g_blas1, g_ref1 / g_blas1, g_ref1 / (peak_best / threads));
    if (bad != 0) status = 1;
  }
  fmt::print("load average at the end: {}\n", load_average());
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return bench_main(argc, argv);
  } catch (const std::exception& e) {  // CLI11 setup, fmt, I/O: report, do not terminate
    fmt::print(stderr, "bench_gemm: error: {}\n", e.what());
    return 1;
  }
}
