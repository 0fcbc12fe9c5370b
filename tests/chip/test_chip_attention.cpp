// The bundled attention kernel, O = softmax(scale . Q.K^T).V in MXFP8 with a flash-attention
// K/V loop, against host references written here (no numerics-library results are used as
// golden data):
//  1. the raw scores S = Q.K^T (the optional output S) bit for bit against an exact GEMM written
//     here (exact FP8 products and scales, one correctly rounded FP32 addition per k, DESIGN §3);
//  2. O bit for bit against a replica of the kernel's documented algorithm built from that GEMM,
//     FP32 SCALE / MUL / DIV, long double exps rounded once (the VPU's ONLINE_SOFTMAX is within
//     0.501 ulp; a row where any of its exact values lies within 2^-16 ulp of a rounding midpoint
//     is left to check 3 and counted) and an MX quantiser written here (floor scales, RNE,
//     satfinite);
//  3. O within a bound derived in docs/KERNELS.md of the long double attention of the exact
//     operands (no rounding of S, no quantisation of P).
// With a causal mask (query i sees key j <= i + offset) the replica and the long double attention
// take the masked scores as -Inf; a query with no key is NaN.
#include <fmt/core.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "model/common/error.h"
#include "model/numerics/mx.h"
#include "testbench/mxemu/bundled.h"
#include "tests/chip/chip_test_util.h"

using namespace mxemu;

namespace {

using LD = long double;
constexpr LD kU = 5.9604644775390625e-8L;  // 2^-24, the unit roundoff of FP32

// FP8 code -> value, written out from the OCP formats (DESIGN §3); only finite codes occur here.
LD decode(bool e5m2, std::uint8_t c) {
  const LD sign = (c & 0x80) != 0 ? -1.0L : 1.0L;
  const int mb = e5m2 ? 2 : 3, bias = e5m2 ? 15 : 7;
  const int e = (c & 0x7F) >> mb, m = c & ((1 << mb) - 1);
  if (e == 0) return sign * std::ldexp(static_cast<LD>(m), 1 - bias - mb);
  return sign * std::ldexp(static_cast<LD>((1 << mb) + m), e - bias - mb);
}

// One accumulation step of DESIGN §3: round_fp32_rne(acc + t), t exact. The long double sum is
// exact or rounded (TwoSum gives the error); a float midpoint hit by the rounded sum is resolved
// by the error's sign, otherwise rounding the long double sum to float is correct.
float add_rne(float acc, LD t) {
  const LD a = acc, s = a + t, bb = s - a, err = (a - (s - bb)) + (t - bb);
  auto r = static_cast<float>(s);
  if (err != 0 && static_cast<LD>(r) != s) {
    const float other = std::nextafter(r, static_cast<LD>(r) < s ? INFINITY : -INFINITY);
    if (static_cast<LD>(r) + static_cast<LD>(other) == 2 * s) {  // s is the midpoint
      r = err > 0 ? std::max(r, other) : std::min(r, other);
    }
  }
  return r;
}

// |got - want| in ulp of FP32 at want's binade; a value whose exact form is within `w` ulp of a
// rounding midpoint may round either way on the chip (0.501 ulp bound).
bool near_tie(LD want, LD w) {
  const int e = want == 0 ? -126 : std::max(std::ilogb(want), -126);
  const LD ulp = std::ldexp(1.0L, e - 23);
  const LD frac = std::fabs(want) / ulp - std::floor(std::fabs(want) / ulp);
  return std::fabs(frac - 0.5L) < w;
}

using test::Mx;
using test::mx_normal;

// The MX quantiser of DESIGN §3 for non-negative values (P), written out: scale
// 2^(floor(log2 amax) - emax) clamped to [2^-127, 2^127] (2^0 for an all-zero block), each element
// v / scale rounded to the nearest finite code, ties to the even code, clipped to the largest.
struct Quantiser {
  bool e5m2;
  std::vector<LD> values;  // value of code c for c = 0 .. largest finite positive code
  explicit Quantiser(bool e5) : e5m2(e5) {
    const int last = e5 ? 0x7B : 0x7E;
    for (int c = 0; c <= last; ++c) values.push_back(decode(e5, static_cast<std::uint8_t>(c)));
  }
  int emax() const { return e5m2 ? 15 : 8; }
  std::uint8_t encode(LD v) const {  // v >= 0
    if (v >= values.back()) return static_cast<std::uint8_t>(values.size() - 1);
    const auto it = std::upper_bound(values.begin(), values.end(), v);
    const auto hi = static_cast<std::size_t>(it - values.begin()), lo = hi - 1;
    const LD dl = v - values[lo], dh = values[hi] - v;
    if (dl < dh) return static_cast<std::uint8_t>(lo);
    if (dh < dl) return static_cast<std::uint8_t>(hi);
    return static_cast<std::uint8_t>((lo & 1U) == 0 ? lo : hi);
  }
  // Scale exponent (unbiased) of a block with maximum amax.
  int scale_exp(LD amax) const {
    if (amax == 0) return 0;
    return std::clamp(std::ilogb(amax) - emax(), -127, 127);
  }
  // The largest error of quantising v under scale 2^se: half a code step at v / 2^se's binade,
  // or the clipping above the largest code.
  LD bound(LD v, int se) const {
    const LD maxf = values.back();
    const int mbits = e5m2 ? 2 : 3, emin = e5m2 ? -14 : -6;
    const LD x = v * std::ldexp(1.0L, -se);
    if (x > maxf) return (x - maxf) * std::ldexp(1.0L, se);
    const int e = x == 0 ? emin : std::max(std::ilogb(x), emin);
    return std::ldexp(1.0L, e - mbits - 1 + se);
  }
};

struct Case {
  std::size_t lq, d, lk, dv;
  int block;
  std::uint32_t kv_tile;  // 0: the kernel's default
  bool ek, ev, ep;        // E5M2 for K, V, P (else E4M3); Q is E4M3
  float sigma_q;          // spread of the scores (Q ~ N(0, sigma_q), K ~ N(0, 1))
  bool default_scale;     // no scale scalar: the kernel's 1/sqrt(d)
  bool with_s;            // request the raw scores S
  std::string config;
  bool causal = false;             // the scalar causal = 1
  std::int32_t causal_offset = 0;  // query i sees key j <= i + causal_offset
};

// Whether query i sees key k under the case's mask.
bool visible(const Case& c, std::size_t i, std::size_t k) {
  return !c.causal ||
         static_cast<std::int64_t>(k) <= static_cast<std::int64_t>(i) + c.causal_offset;
}

struct Operands {
  NpyArray q, sq, kt, skt, v, sv;
};

num::Fp8Format fmt(bool e5) {
  return e5 ? num::Fp8Format::kE5M2 : num::Fp8Format::kE4M3;
}

Operands make_operands(const Case& c, std::mt19937_64& rng) {
  const auto b = static_cast<std::size_t>(c.block);
  const Mx q = mx_normal(rng, c.lq, c.d, c.block, fmt(false), c.sigma_q, false);
  const Mx k = mx_normal(rng, c.lk, c.d, c.block, fmt(c.ek), 1.0F, true);   // d x Lk
  const Mx v = mx_normal(rng, c.dv, c.lk, c.block, fmt(c.ev), 1.0F, true);  // Lk x dv
  return {make_u8({c.lq, c.d}, q.codes),  make_u8({c.lq, c.d / b}, q.scales),
          make_u8({c.d, c.lk}, k.codes),  make_u8({c.d / b, c.lk}, k.scales),
          make_u8({c.lk, c.dv}, v.codes), make_u8({c.lk / b, c.dv}, v.scales)};
}

float scale_of(const Case& c) {
  return c.default_scale ? static_cast<float>(1.0L / std::sqrt(static_cast<LD>(c.d)))
                         : 0.7F / std::sqrt(static_cast<float>(c.d));
}

std::uint32_t f32_bits(float f) {
  std::uint32_t u = 0;
  std::memcpy(&u, &f, 4);
  return u;
}

sim::ChipJob attention_job(const Case& c, const Operands& o) {
  sim::ChipJob job;
  job.firmware_name = "attention";
  job.firmware_elf = bundled::elf("attention");
  REQUIRE_FALSE(job.firmware_elf.empty());
  job.inputs = {{"Q", o.q}, {"SQ", o.sq}, {"KT", o.kt}, {"SKT", o.skt}, {"V", o.v}, {"SV", o.sv}};
  job.outputs.emplace_back("O", make_f32({c.lq, c.dv}, std::vector<float>(c.lq * c.dv)));
  job.read_back = {"O"};
  if (c.with_s) {
    job.outputs.emplace_back("S", make_f32({c.lq, c.lk}, std::vector<float>(c.lq * c.lk)));
    job.read_back.emplace_back("S");
  }
  job.scalars = {{"verbose", 1U},
                 {"block", static_cast<std::uint32_t>(c.block)},
                 {"fmt_k", c.ek ? 1U : 0U},
                 {"fmt_v", c.ev ? 1U : 0U},
                 {"fmt_p", c.ep ? 1U : 0U}};
  if (!c.default_scale) job.scalars.emplace_back("scale", f32_bits(scale_of(c)));
  if (c.kv_tile != 0) job.scalars.emplace_back("kv_tile", c.kv_tile);
  if (c.causal) {
    job.scalars.emplace_back("causal", 1U);
    job.scalars.emplace_back("causal_offset", static_cast<std::uint32_t>(c.causal_offset));
  }
  job.config_path = c.config;
  return job;
}

// Decoded operands: element times 2^(scale - 127), exact in long double.
struct Decoded {
  std::vector<LD> q, kt, v;  // Lq x d, d x Lk, Lk x dv
};

Decoded decode_all(const Case& c, const Operands& o) {
  const auto b = static_cast<std::size_t>(c.block);
  Decoded r{std::vector<LD>(c.lq * c.d), std::vector<LD>(c.d * c.lk), std::vector<LD>(c.lk * c.dv)};
  for (std::size_t i = 0; i < c.lq; ++i) {
    for (std::size_t k = 0; k < c.d; ++k) {
      r.q[i * c.d + k] = decode(false, o.q.data[i * c.d + k]) *
                         std::ldexp(1.0L, o.sq.data[i * (c.d / b) + k / b] - 127);
    }
  }
  for (std::size_t k = 0; k < c.d; ++k) {
    for (std::size_t n = 0; n < c.lk; ++n) {
      r.kt[k * c.lk + n] = decode(c.ek, o.kt.data[k * c.lk + n]) *
                           std::ldexp(1.0L, o.skt.data[(k / b) * c.lk + n] - 127);
    }
  }
  for (std::size_t k = 0; k < c.lk; ++k) {
    for (std::size_t n = 0; n < c.dv; ++n) {
      r.v[k * c.dv + n] = decode(c.ev, o.v.data[k * c.dv + n]) *
                          std::ldexp(1.0L, o.sv.data[(k / b) * c.dv + n] - 127);
    }
  }
  return r;
}

// The K/V tile length the kernel reports on its console ("kv_tile N"): given, or its choice.
std::size_t tile_of(const Case& c, const std::string& console) {
  const auto at = console.find("kv_tile ");
  REQUIRE(at != std::string::npos);
  const std::size_t t = std::stoul(console.substr(at + 8));
  if (c.kv_tile != 0) REQUIRE(t == std::min<std::size_t>(c.kv_tile, c.lk));
  return t;
}

struct RowResult {
  std::vector<float> o;  // the replica's output row
  bool ambiguous = false;
  std::vector<LD> p;      // softmax of the chip's scaled scores (exact, long double)
  std::vector<LD> qterm;  // per position: quantisation bound times exp(m_t - M) / sum
  std::size_t tiles = 0;
};

// The replica of row i (the algorithm at the top of firmware/kernels/attention/attention.c; it
// runs every K/V tile: a tile wholly masked for the row, which the kernel may skip, leaves the
// state unchanged, alpha = 1 and P = 0).
RowResult replica_row(const Case& c, const Decoded& dd, const std::vector<float>& s_row,
                      float scale, std::size_t tk, std::size_t i) {
  const auto b = static_cast<std::size_t>(c.block);
  const Quantiser quant(c.ep);
  constexpr LD kWindow = 1.52587890625e-5L;  // 2^-16 ulp
  RowResult r;
  r.o.assign(c.dv, 0.0F);
  r.p.assign(c.lk, 0);
  r.qterm.assign(c.lk, 0);
  std::vector<float> x(c.lk);
  for (std::size_t k = 0; k < c.lk; ++k) x[k] = scale * s_row[k];  // SCALE: one FP32 product
  for (std::size_t k = 0; k < c.lk; ++k) {                         // CAUSAL_MASK
    if (!visible(c, i, k)) x[k] = -std::numeric_limits<float>::infinity();
  }
  const std::size_t nt = (c.lk + tk - 1) / tk;
  r.tiles = nt;
  float m =
      *std::max_element(x.begin(), x.begin() + static_cast<std::ptrdiff_t>(std::min(tk, c.lk)));
  float s = m * 0.0F;
  std::vector<LD> mt(nt);
  std::vector<std::uint8_t> codes(tk);
  for (std::size_t t = 0; t < nt; ++t) {
    const std::size_t k0 = t * tk, k1 = std::min(c.lk, k0 + tk);
    float m2 = m;
    for (std::size_t k = k0; k < k1; ++k) m2 = std::max(m2, x[k]);
    const LD alpha = std::exp(static_cast<LD>(m) - static_cast<LD>(m2));
    LD sum = static_cast<LD>(s) * alpha;
    std::vector<float> p(k1 - k0);
    for (std::size_t k = k0; k < k1; ++k) {
      const LD e = std::exp(static_cast<LD>(x[k]) - static_cast<LD>(m2));
      sum += e;
      if (near_tie(e, kWindow)) r.ambiguous = true;
      p[k - k0] = static_cast<float>(e);
      REQUIRE((p[k - k0] == 0 || p[k - k0] >= std::ldexp(1.0F, -126)));  // normal range: bound
    }
    if (t > 0 && near_tie(alpha, kWindow)) r.ambiguous = true;
    if (near_tie(sum, kWindow)) r.ambiguous = true;
    s = static_cast<float>(sum);
    if (t > 0) {
      const auto a = static_cast<float>(alpha);
      for (float& v : r.o) v = v * a;  // MUL by alpha, one FP32 product
    }
    mt[t] = m2;
    // MX_QUANT along the row in blocks, then O += PQ . V in increasing k (the MXU's order).
    for (std::size_t b0 = k0; b0 < k1; b0 += b) {
      LD amax = 0;
      for (std::size_t k = b0; k < b0 + b; ++k) amax = std::max<LD>(amax, p[k - k0]);
      const int se = quant.scale_exp(amax);
      // The quantisation bound, widened for a P one ulp off (ambiguous rows) and for a block
      // maximum next to a power of two (where the chip's scale could be the other one).
      const int se2 = quant.scale_exp(amax * (1 + 4 * kU));
      for (std::size_t k = b0; k < b0 + b; ++k) {
        const LD pv = p[k - k0];
        codes[k - k0] = quant.encode(pv * std::ldexp(1.0L, -se));
        r.qterm[k] = std::max({quant.bound(pv, se), quant.bound(pv * (1 + 4 * kU), se),
                               quant.bound(pv, se2), quant.bound(pv * (1 + 4 * kU), se2)});
      }
      for (std::size_t k = b0; k < b0 + b; ++k) {
        const LD qv = quant.values[codes[k - k0]] * std::ldexp(1.0L, se);
        for (std::size_t n = 0; n < c.dv; ++n) r.o[n] = add_rne(r.o[n], qv * dd.v[k * c.dv + n]);
      }
    }
    m = m2;
  }
  for (float& v : r.o) v = v / s;  // DIV, correctly rounded
  // The exact softmax of the chip's scores and the quantisation terms in O's units.
  const LD big = mt[nt - 1];
  LD total = 0;
  for (std::size_t k = 0; k < c.lk; ++k) total += std::exp(static_cast<LD>(x[k]) - big);
  for (std::size_t k = 0; k < c.lk; ++k) {
    r.p[k] = std::exp(static_cast<LD>(x[k]) - big) / total;
    r.qterm[k] *= std::exp(mt[k / tk] - big) / total;
  }
  return r;
}

// Runs case c and checks it; returns the run's cycles.
std::uint64_t check_attention(const Case& c, std::uint64_t seed) {
  INFO(fmt::format("Lq {} d {} Lk {} dv {} block {} kv_tile {} E5M2 k/v/p {}/{}/{}", c.lq, c.d,
                   c.lk, c.dv, c.block, c.kv_tile, c.ek, c.ev, c.ep));
  std::mt19937_64 rng(seed);
  const Operands o = make_operands(c, rng);
  const sim::ChipJobResult r = test::run_job(attention_job(c, o));
  INFO(r.console);
  REQUIRE(r.exit_code == 0);
  const Decoded dd = decode_all(c, o);
  const float scale = scale_of(c);
  const std::size_t tk = tile_of(c, r.console);

  // 1. The exact GEMM S = Q . K^T (DESIGN §3), and the chip's S bit for bit.
  std::vector<float> s(c.lq * c.lk);
  for (std::size_t i = 0; i < c.lq; ++i) {
    for (std::size_t n = 0; n < c.lk; ++n) {
      float acc = 0.0F;
      for (std::size_t k = 0; k < c.d; ++k)
        acc = add_rne(acc, dd.q[i * c.d + k] * dd.kt[k * c.lk + n]);
      s[i * c.lk + n] = acc;
    }
  }
  if (c.with_s) {
    const std::vector<float> got = r.outputs.at("S").as_f32();
    for (std::size_t i = 0; i < s.size(); ++i) {
      INFO(fmt::format("S[{}][{}]", i / c.lk, i % c.lk));
      REQUIRE(f32_bits(got[i]) == f32_bits(s[i]));
    }
  }

  // 2. and 3. O against the replica and against the long double attention.
  const std::vector<float> out = r.outputs.at("O").as_f32();
  const LD gd = static_cast<LD>(c.d) * kU / (1 - static_cast<LD>(c.d) * kU);
  std::size_t ambiguous = 0, tiles = 0, masked_rows = 0;
  double worst = 0, worst_rel = 0;
  for (std::size_t i = 0; i < c.lq; ++i) {
    const std::vector<float> s_row(s.begin() + static_cast<std::ptrdiff_t>(i * c.lk),
                                   s.begin() + static_cast<std::ptrdiff_t>((i + 1) * c.lk));
    if (!visible(c, i, 0)) {  // no key left: the row is NaN
      for (std::size_t n = 0; n < c.dv; ++n) {
        INFO(fmt::format("O[{}][{}]", i, n));
        REQUIRE(std::isnan(out[i * c.dv + n]));
      }
      ++masked_rows;
      continue;
    }
    const RowResult rr = replica_row(c, dd, s_row, scale, tk, i);
    tiles = rr.tiles;
    if (rr.ambiguous) {
      ++ambiguous;
    } else {
      for (std::size_t n = 0; n < c.dv; ++n) {
        INFO(fmt::format("O[{}][{}]", i, n));
        REQUIRE(f32_bits(out[i * c.dv + n]) == f32_bits(rr.o[n]));
      }
    }
    // The long double attention of the exact operands.
    std::vector<LD> xs(c.lk);
    LD delta = 0;
    for (std::size_t k = 0; k < c.lk; ++k) {
      if (!visible(c, i, k)) {
        xs[k] = -std::numeric_limits<LD>::infinity();
        continue;
      }
      LD dot = 0, mag = 0;
      for (std::size_t j = 0; j < c.d; ++j) {
        dot += dd.q[i * c.d + j] * dd.kt[j * c.lk + k];
        mag += std::fabs(dd.q[i * c.d + j] * dd.kt[j * c.lk + k]);
      }
      xs[k] = static_cast<LD>(scale) * dot;
      // |x - x*|: the GEMM's sequential FP32 sum, then SCALE's rounding.
      const LD e = std::fabs(static_cast<LD>(scale)) * gd * mag;
      delta = std::max(delta, e + kU * (std::fabs(xs[k]) + e));
    }
    const LD big = *std::max_element(xs.begin(), xs.end());
    LD total = 0;
    for (LD v : xs) total += std::exp(v - big);
    const auto nt = static_cast<LD>(tiles);
    const LD ur = 1.002L * kU;  // 0.501 ulp as a relative bound (normal range)
    const LD eta =
        std::pow(1 + ur, 2 * nt - 1) * std::pow(1 + kU, nt - 1) / (2 - std::pow(1 + ur, nt)) - 1;
    const LD n_acc = static_cast<LD>(c.lk) + nt;
    const LD g_acc = (1 + n_acc * kU / (1 - n_acc * kU)) * (1 + kU) - 1;
    const LD soft = std::expm1(2 * delta);
    for (std::size_t n = 0; n < c.dv; ++n) {
      LD want = 0, bound = 0, mag = 0, pmag = 0;
      for (std::size_t k = 0; k < c.lk; ++k) {
        const LD v = dd.v[k * c.dv + n], pstar = std::exp(xs[k] - big) / total;
        want += pstar * v;
        bound += std::fabs(v) * (pstar * soft + rr.p[k] * eta + rr.qterm[k] * (1 + eta));
        mag += std::fabs(v) * (rr.p[k] + rr.qterm[k]) * (1 + eta);
        pmag += std::fabs(v) * pstar;
      }
      bound += g_acc * mag + 1e-15L * pmag;  // + the long double references' own rounding
      const LD err = std::fabs(static_cast<LD>(out[i * c.dv + n]) - want);
      worst = std::max(worst, static_cast<double>(err / bound));
      if (pmag > 0) worst_rel = std::max(worst_rel, static_cast<double>(err / pmag));
    }
  }
  fmt::print(
      "attention Lq {} d {} Lk {} dv {} block {} ({} K/V tiles of {}): {} of {} rows left to the "
      "bound (near-ties); |O - O*| at most {:.3f} of the bound, {:.3g} of sum p*|v|; {} cycles{}\n",
      c.lq, c.d, c.lk, c.dv, c.block, tiles, tk, ambiguous, c.lq, worst, worst_rel, r.total_cycles,
      c.causal
          ? fmt::format(" (causal, offset {}, {} rows without a key)", c.causal_offset, masked_rows)
          : std::string());
  CHECK(worst <= 1.0);
  CHECK(ambiguous * 10 <= c.lq);  // the bit-exact check covers at least 90 % of the rows
  return r.total_cycles;
}

const std::string& small_config() {
  // 16 x 16 arrays, two MXUs, 4 KiB accumulators and 16 KiB of VMEM: K and V of Lk = 512
  // (28 KiB) do not fit, the default K/V tile shrinks to fit the accumulators.
  static const std::string p = test::temp_config(
      "mxemu_attention_small.toml",
      "[mxu]\nrows = 16\ncols = 16\ncount = 2\nacc_bytes = 4096\n[vmem]\nbytes = 16384\n");
  return p;
}

}  // namespace

TEST_CASE("attention kernel against exact GEMMs, a replica and the long double attention",
          "[chip][kernels][attention]") {
  const Case cases[] = {
      // one K/V tile, shapes off the array size, the default scale 1/sqrt(d)
      {70, 64, 96, 40, 32, 0, false, false, false, 1.0F, true, true, ""},
      // five K/V tiles of 64, two MXUs with a panel each, sharper scores
      {130, 64, 320, 64, 32, 64, false, false, false, 3.0F, false, true, ""},
      // d over two K tiles, dv over two N tiles, a short last K/V tile, E5M2 K and P
      {37, 160, 992, 130, 32, 256, true, false, true, 2.0F, false, true, ""},
      // block 128 (DeepSeek style), E5M2 V, three tiles
      {50, 128, 384, 72, 128, 128, false, true, false, 2.0F, false, true, ""},
      // a small chip: many panels and groups, K and V beyond VMEM, the default tile (shrunk to
      // fit the 4 KiB accumulators) and a forced one of one block
      {70, 32, 512, 24, 16, 0, false, false, false, 2.0F, false, true, small_config()},
      {45, 32, 256, 24, 16, 16, false, false, false, 2.0F, false, false, small_config()},
  };
  std::uint64_t seed = 11;
  for (const Case& c : cases) check_attention(c, seed++);
}

TEST_CASE("attention kernel with a causal mask", "[chip][kernels][attention][causal]") {
  // Query i sees key j <= i + offset: top left (PyTorch's is_causal), bottom right (offset
  // Lk - Lq, as FlashAttention aligns it) and a negative offset whose first rows see no key.
  Case square{96, 32, 96, 24, 16, 16, false, false, false, 2.0F, false, false, small_config()};
  square.causal = true;
  Case bottom_right{100, 64, 160, 40, 32, 32, false, false, true, 1.0F, true, false, ""};
  bottom_right.causal = true;
  bottom_right.causal_offset = 60;
  Case negative{40, 32, 64, 24, 32, 32, false, false, false, 2.0F, false, true, ""};
  negative.causal = true;
  negative.causal_offset = -5;
  std::uint64_t seed = 31;
  for (const Case& c : {square, bottom_right}) {
    // The wholly masked tiles are not computed: fewer cycles than the same run unmasked.
    const std::uint64_t masked = check_attention(c, seed);
    Case full = c;
    full.causal = false;
    const std::uint64_t unmasked = check_attention(full, seed++);
    CHECK(masked < unmasked);
  }
  check_attention(negative, seed);  // with S as an output: every tile computed, S raw
}

TEST_CASE("attention kernel: fast and cycle-by-cycle mode agree",
          "[chip][kernels][attention][modes]") {
  const Case c{37, 32, 160, 24, 16, 32, false, false, false, 2.0F, false, true, small_config()};
  std::mt19937_64 rng(5);
  const Operands o = make_operands(c, rng);
  sim::ChipJob job = attention_job(c, o);
  const sim::ChipJobResult fast = test::run_job(job);
  job.cycle_accurate = true;
  const sim::ChipJobResult exact = test::run_job(job);
  REQUIRE(fast.exit_code == 0);
  REQUIRE(exact.exit_code == 0);
  for (const char* name : {"O", "S"})
    CHECK(fast.outputs.at(name).data == exact.outputs.at(name).data);
  CHECK(fast.total_cycles == exact.total_cycles);
  CHECK(fast.stats["engines"] == exact.stats["engines"]);
  // The same O and S when the kernel declares both itself (scalar scores = 1, nothing allocated).
  job.cycle_accurate = false;
  job.outputs.clear();
  job.scalars.emplace_back("scores", 1U);
  const sim::ChipJobResult declared = test::run_job(job);
  REQUIRE(declared.exit_code == 0);
  for (const char* name : {"O", "S"}) {
    CHECK(declared.outputs.at(name).shape == fast.outputs.at(name).shape);
    CHECK(declared.outputs.at(name).data == fast.outputs.at(name).data);
  }
  // With a causal mask (tiles skipped, CAUSAL_MASK on the diagonal ones) likewise.
  Case cc = c;
  cc.with_s = false;
  cc.causal = true;
  sim::ChipJob cj = attention_job(cc, o);
  const sim::ChipJobResult cfast = test::run_job(cj);
  cj.cycle_accurate = true;
  const sim::ChipJobResult cexact = test::run_job(cj);
  REQUIRE(cfast.exit_code == 0);
  REQUIRE(cexact.exit_code == 0);
  CHECK(cfast.outputs.at("O").data == cexact.outputs.at("O").data);
  CHECK(cfast.total_cycles == cexact.total_cycles);
  CHECK(cfast.stats["engines"] == cexact.stats["engines"]);
  CHECK(cfast.outputs.at("O").data != fast.outputs.at("O").data);  // the mask changed O
}

TEST_CASE("attention kernel refuses bad tensors and scalars", "[chip][kernels][attention]") {
  const Case c{8, 64, 64, 16, 32, 0, false, false, false, 1.0F, false, false, ""};
  std::mt19937_64 rng(4);
  const Operands good = make_operands(c, rng);
  const auto error_of = [&](const std::function<void(sim::ChipJob&)>& spoil) -> std::string {
    sim::ChipJob job = attention_job(c, good);
    spoil(job);
    return test::outcome(job);
  };
  const std::string missing = error_of([](sim::ChipJob& j) {
    std::erase_if(j.inputs, [](const auto& t) { return t.first == "V"; });
  });
  CHECK_THAT(missing, Catch::Contains("exit 2"));
  CHECK_THAT(missing, Catch::Contains("attention: error: launch block lacks V"));
  const std::string f32 = error_of([](sim::ChipJob& j) {
    for (auto& t : j.inputs) {
      if (t.first == "Q") t.second = make_f32({8, 64}, std::vector<float>(8 * 64));
    }
  });
  CHECK_THAT(f32, Catch::Contains("attention: error: Q must be a 2-D uint8 array (got float32, 2"));
  const std::string kt = error_of([&](sim::ChipJob& j) {
    test::replace_input(j, "KT", make_u8({32, 64}, std::vector<std::uint8_t>(32 * 64)));
  });
  CHECK_THAT(kt, Catch::Contains("attention: error: KT is 32 x 64, expected 64 x 64"));
  const std::string sv = error_of([&](sim::ChipJob& j) {
    test::replace_input(j, "SV", make_u8({1, 16}, std::vector<std::uint8_t>(16)));
  });
  CHECK_THAT(sv, Catch::Contains("attention: error: SV is 1 x 16, expected 2 x 16"));
  const std::string lk = error_of([&](sim::ChipJob& j) {
    test::replace_input(j, "KT", make_u8({64, 48}, std::vector<std::uint8_t>(64 * 48)));
  });
  CHECK_THAT(lk, Catch::Contains("attention: error: V is 64 x 16, expected 48 x 16"));
  const std::string lk2 = error_of([&](sim::ChipJob& j) {
    test::replace_input(j, "KT", make_u8({64, 48}, std::vector<std::uint8_t>(64 * 48)));
    test::replace_input(j, "V", make_u8({48, 16}, std::vector<std::uint8_t>(48 * 16)));
  });
  CHECK_THAT(lk2,
             Catch::Contains("attention: error: d (64) and the sequence length Lk (48) must be "
                             "multiples of the block 32"));
  const std::string tile = error_of([](sim::ChipJob& j) { j.scalars.emplace_back("kv_tile", 40); });
  CHECK_THAT(tile,
             Catch::Contains("attention: error: kv_tile 40 must be a positive multiple of the "
                             "block 32"));
  const std::string fmtp = error_of([](sim::ChipJob& j) {
    for (auto& s : j.scalars) {
      if (s.first == "fmt_p") s.second = 2;
    }
  });
  CHECK_THAT(fmtp, Catch::Contains("attention: error: fmt_q, fmt_k, fmt_v and fmt_p must be 0"));
  const std::string scale = error_of([](sim::ChipJob& j) {
    for (auto& s : j.scalars) {
      if (s.first == "scale") s.second = 0x7F800000U;  // +Inf
    }
  });
  CHECK_THAT(scale, Catch::Contains("attention: error: scale must be a finite FP32 value"));
  const std::string out = error_of([](sim::ChipJob& j) {
    j.outputs.front().second = make_f32({8, 15}, std::vector<float>(8 * 15));
  });
  CHECK_THAT(out, Catch::Contains("attention: error: O must be a 8 x 16 float32 array"));
  const std::string causal = error_of([](sim::ChipJob& j) { j.scalars.emplace_back("causal", 2); });
  CHECK_THAT(causal, Catch::Contains("attention: error: causal must be 0 or 1"));
  const std::string offset =
      error_of([](sim::ChipJob& j) { j.scalars.emplace_back("causal_offset", 3); });
  CHECK_THAT(offset, Catch::Contains("attention: error: causal_offset needs causal = 1"));
}

// Not part of the suite (hidden tag): the figures of docs/KERNELS.md and docs/PERFORMANCE.md.
// `chip_attention "[.perf]"` runs one head on mx1 and, as the baseline in the same run, the
// bundled gemm kernel on the two matmuls of the same shapes (Q.K^T and P.V, MXFP8, block 32).
TEST_CASE("attention kernel: cycles on mx1 against the gemm kernel", "[.perf]") {
  const std::size_t shapes[][4] = {{512, 64, 512, 64}, {512, 128, 4096, 128}};
  for (const auto& sh : shapes) {
    const Case c{sh[0], sh[1], sh[2], sh[3], 32, 0, false, false, false, 1.0F, false, false, ""};
    std::mt19937_64 rng(7);
    const Operands o = make_operands(c, rng);
    sim::ChipJob job = attention_job(c, o);
    const sim::ChipJobResult plan = test::run_job(job);  // with the plan on the console
    REQUIRE(plan.exit_code == 0);
    std::erase_if(job.scalars, [](const auto& s) { return s.first == "verbose"; });
    const sim::ChipJobResult r = test::run_job(job);
    REQUIRE(r.exit_code == 0);
    REQUIRE(r.outputs.at("O").data == plan.outputs.at("O").data);
    std::uint64_t base = 0;
    for (int pass = 0; pass < 2; ++pass) {
      const std::size_t m = c.lq, k = pass == 0 ? c.d : c.lk, n = pass == 0 ? c.lk : c.dv;
      const sim::GemmJob g = test::random_gemm(rng, m, k, n, 32);
      const sim::ChipJobResult gr = test::run_job(sim::make_gemm_job(g, bundled::elf("gemm")));
      REQUIRE(gr.exit_code == 0);
      base += gr.total_cycles;
    }
    std::string busy;
    for (const auto& [name, e] : r.stats["engines"].items()) {
      busy +=
          fmt::format(" {} {:.1f} %", name,
                      100.0 * e["busy_cycles"].get<double>() / static_cast<double>(r.total_cycles));
    }
    fmt::print(
        "attention Lq {} d {} Lk {} dv {}: {} {} cycles, {:.1f} % of the MXU peak; busy:{}; "
        "gemm Q.K^T + gemm P.V: {} cycles; attention / gemms = {:.2f}; host {:.2f} s\n",
        c.lq, c.d, c.lk, c.dv, plan.console.substr(0, plan.console.find('\n')), r.total_cycles,
        100.0 * r.stats["mxu_utilization"].get<double>(), busy, base,
        static_cast<double>(r.total_cycles) / static_cast<double>(base), r.host_seconds);
  }
}
