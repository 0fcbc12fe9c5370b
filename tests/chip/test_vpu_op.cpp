// The vector unit's functional core without SystemC: decoding, operand shapes, and the semantics
// of each function on host buffers against references written here.
#include <fmt/core.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "model/chip/regs.h"
#include "model/vpu/vpu_core.h"
#include "model/vpu/vpu_op.h"

using namespace mxemu;
namespace regs = chip::regs;
using regs::VpuFn;

namespace {

std::array<std::uint32_t, 16> desc(VpuFn fn, std::uint32_t rows, std::uint32_t cols,
                                   std::uint32_t out_fmt = 0, std::uint32_t block = 0) {
  std::array<std::uint32_t, 16> d{};
  d[0] = regs::kOpVpuOp;
  d[1] = static_cast<std::uint32_t>(fn) | out_fmt << 8 | block << 17;
  d[8] = rows;
  d[9] = cols;
  d[10] = d[11] = d[12] = cols * 4;
  return d;
}

std::string error_of(const std::array<std::uint32_t, 16>& d) {
  try {
    vpu::layout(vpu::decode(d));
  } catch (const chip::EngineError& e) {
    return e.message;
  }
  return "";
}

struct Buf {
  std::vector<float> v;
  vpu::View view(std::uint64_t cols) {
    return vpu::View{reinterpret_cast<std::uint8_t*>(v.data()), cols * 4};
  }
};

}  // namespace

TEST_CASE("VPU_OP decode refuses bad functions, formats, blocks and strides", "[chip][vpu]") {
  auto d = desc(VpuFn::kAdd, 2, 8);
  d[0] = 3;
  CHECK(error_of(d) == "unknown VPU opcode 3");
  d = desc(VpuFn::kAdd, 2, 8);
  d[1] = 99;
  CHECK(error_of(d) == "unknown VPU function 99");
  CHECK_THAT(error_of(desc(VpuFn::kAdd, 0, 8)), Catch::Contains("ADD: empty region 0x8"));
  CHECK_THAT(error_of(desc(VpuFn::kConvert, 1, 8, 7)), Catch::Contains("unknown OUT_FMT 7"));
  CHECK_THAT(error_of(desc(VpuFn::kMxQuant, 1, 48, 0, 32)),
             Catch::Contains("COLS 48 is not a multiple of BLOCK 32"));
  CHECK_THAT(error_of(desc(VpuFn::kMxQuant, 1, 64, 2, 32)), Catch::Contains("E4M3 or E5M2"));
  d = desc(VpuFn::kMul, 3, 8);
  d[11] = 16;  // Y rows overlap
  CHECK_THAT(error_of(d), Catch::Contains("MUL: input Y stride 16 < row bytes 32"));
}

TEST_CASE("VPU operand shapes follow the function", "[chip][vpu]") {
  const vpu::Layout rs = vpu::layout(vpu::decode(desc(VpuFn::kRowSum, 5, 7)));
  CHECK(rs.row_reduce);
  CHECK(rs.z.rows == 5);
  CHECK(rs.z.row_bytes == 4);
  CHECK_FALSE(rs.y.used);
  const vpu::Layout cm = vpu::layout(vpu::decode(desc(VpuFn::kColMax, 5, 7)));
  CHECK(cm.z.rows == 1);
  CHECK(cm.z.row_bytes == 28);
  const vpu::Layout bf = vpu::layout(vpu::decode(desc(VpuFn::kConvert, 2, 8, 2)));
  CHECK(bf.out_bytes == 2);
  CHECK(bf.z.row_bytes == 16);
  const vpu::Layout mq = vpu::layout(vpu::decode(desc(VpuFn::kMxQuant, 3, 64, 1, 32)));
  CHECK(mq.y.used);
  CHECK(mq.y.row_bytes == 2);  // one scale per block
  CHECK(mq.z.row_bytes == 64);
  const vpu::Layout ar = vpu::layout(vpu::decode(desc(VpuFn::kAddRow, 3, 8)));
  CHECK(ar.y.rows == 1);
}

TEST_CASE("VPU elementwise functions and reductions on host buffers", "[chip][vpu]") {
  constexpr std::uint32_t R = 3, C = 5;
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-4.0F, 4.0F);
  Buf x{std::vector<float>(R * C)}, y{std::vector<float>(R * C)};
  for (float& v : x.v) v = u(rng);
  for (float& v : y.v) v = u(rng);
  const auto run = [&](VpuFn fn, float imm = 0.0F) {
    auto d = desc(fn, R, C);
    d[13] = std::bit_cast<std::uint32_t>(imm);
    const vpu::Op op = vpu::decode(d);
    Buf z{std::vector<float>(R * C, -1.0F)};
    vpu::execute(op, x.view(C), y.view(C), z.view(C));
    return z.v;
  };
  const auto add = run(VpuFn::kAdd), mul = run(VpuFn::kMul), mx = run(VpuFn::kMax);
  const auto sc = run(VpuFn::kScale, 0.5F), relu = run(VpuFn::kRelu);
  for (std::size_t i = 0; i < R * C; ++i) {
    CHECK(add[i] == x.v[i] + y.v[i]);
    CHECK(mul[i] == x.v[i] * y.v[i]);
    CHECK(mx[i] == (x.v[i] > y.v[i] ? x.v[i] : y.v[i]));
    CHECK(sc[i] == x.v[i] * 0.5F);
    CHECK(relu[i] == (x.v[i] > 0 ? x.v[i] : 0.0F));
  }
  const auto rsum = run(VpuFn::kRowSum), csum = run(VpuFn::kColSum);
  for (std::uint32_t r = 0; r < R; ++r) {
    float s = 0.0F;  // increasing column order, one rounding per addition
    for (std::uint32_t c = 0; c < C; ++c) s = c == 0 ? x.v[r * C] : s + x.v[r * C + c];
    CHECK(std::bit_cast<std::uint32_t>(rsum[r * C]) == std::bit_cast<std::uint32_t>(s));
  }
  for (std::uint32_t c = 0; c < C; ++c) {
    CHECK(csum[c] == (x.v[c] + x.v[C + c]) + x.v[2 * C + c]);
  }
  // A NaN anywhere in a max reduction gives NaN.
  x.v[7] = std::numeric_limits<float>::quiet_NaN();
  CHECK(std::isnan(run(VpuFn::kRowMax)[1 * C]));
  CHECK(std::isnan(run(VpuFn::kColMax)[7 % C]));
}

TEST_CASE("VPU operations in place (Z == X) read before they write", "[chip][vpu]") {
  std::vector<float> x = {1, 2, 3, 4, 5, 6, 7, 8};
  const auto d = desc(VpuFn::kAdd, 2, 4);
  const vpu::Op op = vpu::decode(d);
  vpu::View v{reinterpret_cast<std::uint8_t*>(x.data()), 16};
  vpu::execute(op, v, v, v);  // x = x + x
  CHECK(x == std::vector<float>{2, 4, 6, 8, 10, 12, 14, 16});
  // CONVERT to BF16 in place: the FP32 row is read whole before its bytes are overwritten.
  std::vector<float> w = {1.0F, -2.5F, 3.0F, 65504.0F};
  const vpu::Op cv = vpu::decode(desc(VpuFn::kConvert, 1, 4, 2));
  vpu::View wv{reinterpret_cast<std::uint8_t*>(w.data()), 16};
  vpu::execute(cv, wv, vpu::View{}, wv);
  std::uint16_t b[4];
  std::memcpy(b, w.data(), 8);
  // BF16 is the top half of FP32 (these values are exact in BF16).
  CHECK(b[0] == 0x3F80);
  CHECK(b[1] == 0xC020);
  CHECK(b[2] == 0x4040);
  CHECK(b[3] == 0x4780);  // 65504 rounds to 65536 (nearest even of the two neighbours)
}

namespace {

// BF16 closed forms, independent of the model's bit tricks: the value of a pattern from its
// fields, and round-to-nearest-even of an FP32 value by comparing the two BF16 neighbours' exact
// distances (in double, where every FP32 and BF16 value is exact).
double bf16_value(std::uint16_t b) {
  const int e = (b >> 7) & 0xFF;
  const int m = b & 0x7F;
  const double s = (b & 0x8000) != 0 ? -1.0 : 1.0;
  if (e == 0xFF) return m == 0 ? s * std::numeric_limits<double>::infinity() : std::nan("");
  if (e == 0) return s * std::ldexp(m, -126 - 7);
  return s * std::ldexp(128 + m, e - 127 - 7);
}

std::uint16_t bf16_rne_reference(float f) {
  if (std::isnan(f)) return 0x7FC0;
  const auto bits = std::bit_cast<std::uint32_t>(f);
  const auto lo = static_cast<std::uint16_t>(bits >> 16);  // toward zero
  if ((bits & 0xFFFFu) == 0) return lo;
  const auto hi = static_cast<std::uint16_t>(lo + 1);  // away from zero (may become Inf)
  // Rounding treats Inf as the next value after the largest finite one: 2^128 (IEEE 754 §4.3).
  const double hv =
      (hi & 0x7FFF) == 0x7F80 ? std::copysign(std::ldexp(1.0, 128), f) : bf16_value(hi);
  const double v = f, dlo = std::abs(v - bf16_value(lo)), dhi = std::abs(hv - v);
  if (dlo < dhi) return lo;
  if (dhi < dlo) return hi;
  return (lo & 1) == 0 ? lo : hi;
}

}  // namespace

TEST_CASE("VPU BF16 functions: widen exactly, add with one FP32 then one BF16 rounding, max",
          "[chip][vpu]") {
  constexpr std::uint32_t C = 4096;
  std::mt19937 rng(16);
  std::vector<std::uint16_t> x(C), y(C);
  for (std::uint32_t i = 0; i < C; ++i) {
    x[i] = static_cast<std::uint16_t>(rng());
    y[i] = static_cast<std::uint16_t>(rng());
    // Mostly finite values of nearby magnitudes (so that sums round), some of every kind.
    if (i % 4 != 0) y[i] = static_cast<std::uint16_t>((y[i] & 0x807F) | (x[i] & 0x7F80));
    if ((x[i] & 0x7F80) == 0x7F80 && i % 16 != 0) x[i] &= 0xBFFF;
  }
  x[1] = 0x0000, y[1] = 0x8000;  // +0 and -0
  x[2] = 0x7F7F, y[2] = 0x7F7F;  // max finite + max finite overflows to Inf
  x[3] = 0x0001, y[3] = 0x8002;  // subnormals
  const auto run = [&](VpuFn fn, std::uint32_t out_bytes) {
    auto d = desc(fn, 1, C);
    d[10] = d[11] = C * 2;
    d[12] = C * out_bytes;
    const vpu::Op op = vpu::decode(d);
    const vpu::Layout l = vpu::layout(op);
    CHECK(l.in_bytes == 2);
    CHECK(l.x.row_bytes == C * 2);
    CHECK(l.out_bytes == out_bytes);
    CHECK(l.y.used == (fn != VpuFn::kWidenBf16));
    std::vector<std::uint8_t> z(C * out_bytes, 0xEE);
    vpu::execute(op, vpu::View{reinterpret_cast<std::uint8_t*>(x.data()), C * 2},
                 vpu::View{reinterpret_cast<std::uint8_t*>(y.data()), C * 2},
                 vpu::View{z.data(), C * out_bytes});
    return z;
  };
  const auto wide = run(VpuFn::kWidenBf16, 4), sum = run(VpuFn::kAddBf16, 2),
             mx = run(VpuFn::kMaxBf16, 2);
  std::uint32_t rounded = 0;
  for (std::uint32_t i = 0; i < C; ++i) {
    INFO("x " << x[i] << " y " << y[i]);
    float w;
    std::memcpy(&w, &wide[4 * i], 4);
    const double xv = bf16_value(x[i]), yv = bf16_value(y[i]);
    if (std::isnan(xv)) {
      CHECK(std::isnan(w));
    } else {
      CHECK(static_cast<double>(w) == xv);
      CHECK(std::signbit(w) == ((x[i] & 0x8000) != 0));
    }
    std::uint16_t s, m;
    std::memcpy(&s, &sum[2 * i], 2);
    std::memcpy(&m, &mx[2 * i], 2);
    const float fsum = static_cast<float>(xv) + static_cast<float>(yv);  // one FP32 rounding
    CHECK(s == bf16_rne_reference(fsum));
    rounded += bf16_value(s) != static_cast<double>(fsum) ? 1 : 0;
    if (std::isnan(xv) || std::isnan(yv)) {
      CHECK(m == 0x7FC0);
    } else if (xv != yv) {
      CHECK(m == (xv > yv ? x[i] : y[i]));
    } else {
      CHECK(m == ((x[i] & 0x8000) == 0 ? x[i] : y[i]));  // max(+0, -0) = +0
    }
  }
  CHECK(rounded > C / 8);  // the sums do round, so the rounding rule was exercised
  std::uint16_t inf;
  std::memcpy(&inf, &sum[4], 2);
  CHECK(inf == 0x7F80);
}

// ---- Broadcast operands, element formats, divide, the new functions, bad descriptors. ----

namespace {

// A descriptor with word 14 (BCAST, X_FMT, Y_FMT, Z_FMT) and strides given.
std::array<std::uint32_t, 16> desc14(VpuFn fn, std::uint32_t rows, std::uint32_t cols,
                                     regs::VpuBcast bcast, std::uint32_t xf, std::uint32_t yf,
                                     std::uint32_t zf) {
  auto d = desc(fn, rows, cols);
  d[14] = static_cast<std::uint32_t>(bcast) | xf << 4 | yf << 6 | zf << 8;
  return d;
}

// a / b correctly rounded to FP32 (nearest even) from exact integer arithmetic: the significands
// are normalised to [2^23, 2^24), their quotient taken to 39+ bits with a sticky remainder, and
// rounded at the FP32 quantum of the result's binade (2^-149 below the normal range).
float div_reference(float a, float b) {
  const bool neg = std::signbit(a) != std::signbit(b);
  const float inf = std::numeric_limits<float>::infinity();
  const auto nan = std::bit_cast<float>(0x7FC00000u);
  if (std::isnan(a) || std::isnan(b)) return nan;
  if (std::isinf(a)) return std::isinf(b) ? nan : (neg ? -inf : inf);
  if (std::isinf(b)) return neg ? -0.0F : 0.0F;
  if (b == 0) return a == 0 ? nan : (neg ? -inf : inf);
  if (a == 0) return neg ? -0.0F : 0.0F;
  const auto split = [](float f, std::uint64_t& m, int& e) {
    const auto bits = std::bit_cast<std::uint32_t>(f);
    const std::uint32_t be = (bits >> 23) & 0xFF;
    m = bits & 0x7FFFFFu;
    e = be == 0 ? -149 : static_cast<int>(be) - 150;
    if (be != 0) m |= 0x800000u;
    while (m < 0x800000u) m <<= 1, --e;  // normalise subnormals
  };
  std::uint64_t ma, mb;
  int ea, eb;
  split(a, ma, ea);
  split(b, mb, eb);
  const std::uint64_t q = (ma << 40) / mb;
  const bool sticky = (ma << 40) % mb != 0;
  const int q_exp = ea - eb - 40;  // a / b = (q + frac) * 2^q_exp
  const int lead = 63 - std::countl_zero(q);
  const int e = lead + q_exp;  // 2^e <= |a / b| < 2^(e+1)
  if (e > 127) return neg ? -inf : inf;
  if (e < -150) return neg ? -0.0F : 0.0F;
  const int quantum = std::max(e, -126) - 23;
  const int s = quantum - q_exp;  // bits of q below the quantum (1 .. lead + 1)
  std::uint64_t kept = q >> s;
  const std::uint64_t dropped = q & ((std::uint64_t{1} << s) - 1),
                      half = std::uint64_t{1} << (s - 1);
  if (dropped > half || (dropped == half && (sticky || (kept & 1u) != 0))) ++kept;
  const auto r =
      static_cast<float>(std::ldexp(static_cast<double>(kept), quantum));  // exact or Inf
  return neg ? -r : r;
}

// Random FP32 operands of every kind: specials, subnormals, and pairs whose quotient or product
// over- or underflows.
float random_operand(std::mt19937& rng) {
  switch (rng() % 8) {
    case 0:
      return std::bit_cast<float>(static_cast<std::uint32_t>(rng()));  // any pattern
    case 1:
      return std::bit_cast<float>(static_cast<std::uint32_t>(rng() & 0x807FFFFFu));  // subnormal
    case 2: {
      const float specials[] = {0.0F,
                                -0.0F,
                                std::numeric_limits<float>::infinity(),
                                -std::numeric_limits<float>::infinity(),
                                NAN,
                                std::numeric_limits<float>::max(),
                                1.0F,
                                -3.0F};
      return specials[rng() % 8];
    }
    default: {
      std::uniform_real_distribution<float> m(1.0F, 2.0F);
      const float v = std::ldexp(m(rng), static_cast<int>(rng() % 280) - 140);
      return (rng() & 1u) != 0 ? -v : v;
    }
  }
}

bool same_bits(float a, float b) {
  return std::bit_cast<std::uint32_t>(a) == std::bit_cast<std::uint32_t>(b);
}

}  // namespace

TEST_CASE("VPU_OP decode refuses bad broadcast modes, element formats and reserved bits",
          "[chip][vpu]") {
  using B = regs::VpuBcast;
  CHECK_THAT(error_of(desc14(VpuFn::kAdd, 2, 8, static_cast<B>(5), 0, 0, 0)),
             Catch::Contains("ADD: unknown BCAST 5 (0 NONE, 1 ROW, 2 COL, 3 SCALAR)"));
  CHECK_THAT(error_of(desc14(VpuFn::kExp, 2, 8, B::kRow, 0, 0, 0)),
             Catch::Contains("EXP: BCAST ROW needs a binary function (ADD, SUB, MUL, MAX, DIV)"));
  CHECK_THAT(error_of(desc14(VpuFn::kAddRow, 2, 8, B::kCol, 0, 0, 0)),
             Catch::Contains("ADD_ROW: BCAST COL needs a binary function"));
  CHECK_THAT(error_of(desc14(VpuFn::kTanh, 2, 8, B::kNone, 2, 0, 0)),
             Catch::Contains("TANH: unknown X_FMT 2 (0 FP32, 1 BF16)"));
  CHECK_THAT(error_of(desc14(VpuFn::kAdd, 2, 8, B::kNone, 0, 3, 0)),
             Catch::Contains("ADD: unknown Y_FMT 3"));
  CHECK_THAT(error_of(desc14(VpuFn::kAdd, 2, 8, B::kNone, 0, 0, 2)),
             Catch::Contains("ADD: unknown Z_FMT 2"));
  CHECK_THAT(error_of(desc14(VpuFn::kExp, 2, 8, B::kNone, 0, 1, 0)),
             Catch::Contains("EXP: Y_FMT BF16, but EXP reads no Y input"));
  CHECK_THAT(error_of(desc14(VpuFn::kOnlineSoftmax, 2, 8, B::kNone, 0, 1, 0)),
             Catch::Contains("ONLINE_SOFTMAX: Y_FMT BF16, but ONLINE_SOFTMAX reads no Y input"));
  CHECK_THAT(error_of(desc14(VpuFn::kConvert, 2, 8, B::kNone, 0, 0, 1)),
             Catch::Contains("CONVERT: Z_FMT must be FP32 (0): OUT_FMT sets the output format"));
  auto mq = desc14(VpuFn::kMxQuant, 1, 64, B::kNone, 0, 0, 1);
  mq[1] |= 32u << 17;
  CHECK_THAT(error_of(mq), Catch::Contains("MX_QUANT: Z_FMT must be FP32 (0)"));
  CHECK_THAT(error_of(desc14(VpuFn::kAddBf16, 2, 8, B::kNone, 1, 0, 0)),
             Catch::Contains("ADD_BF16: X_FMT, Y_FMT and Z_FMT must be 0"));
  auto res = desc(VpuFn::kAdd, 2, 8);
  res[14] = 1u << 12;
  CHECK_THAT(error_of(res), Catch::Contains("ADD: reserved bits 0x1000 of word 14 are set"));
  auto fn = desc(VpuFn::kAdd, 2, 8);
  fn[1] = 29;
  CHECK(error_of(fn) == "unknown VPU function 29");
  // Broadcast shapes: a column vector needs one element per row, the softmax state three.
  auto col = desc14(VpuFn::kDiv, 3, 8, B::kCol, 0, 0, 0);
  col[11] = 2;
  CHECK_THAT(error_of(col), Catch::Contains("DIV: column vector Y stride 2 < row bytes 4"));
  col[11] = 4;
  CHECK(error_of(col).empty());
  auto sm = desc(VpuFn::kOnlineSoftmax, 3, 8);
  sm[11] = 8;
  CHECK_THAT(error_of(sm),
             Catch::Contains("ONLINE_SOFTMAX: state Y (m, s, alpha) stride 8 < row bytes 12"));
}

TEST_CASE("VPU operand shapes of broadcast modes, element formats and the softmax state",
          "[chip][vpu]") {
  using B = regs::VpuBcast;
  const auto lay = [](const std::array<std::uint32_t, 16>& d) {
    return vpu::layout(vpu::decode(d));
  };
  const vpu::Layout none = lay(desc14(VpuFn::kSub, 5, 7, B::kNone, 1, 1, 1));
  CHECK(none.two_inputs);
  CHECK(none.in_bytes == 2);
  CHECK(none.y_bytes == 2);
  CHECK(none.out_bytes == 2);
  CHECK(none.x.row_bytes == 14);
  CHECK(none.y.rows == 5);
  CHECK(none.z.row_bytes == 14);
  const vpu::Layout row = lay(desc14(VpuFn::kMul, 5, 7, B::kRow, 0, 1, 0));
  CHECK_FALSE(row.two_inputs);
  CHECK(row.y.rows == 1);
  CHECK(row.y.row_bytes == 14);
  const vpu::Layout colv = lay(desc14(VpuFn::kDiv, 5, 7, B::kCol, 0, 0, 0));
  CHECK(colv.y.rows == 5);
  CHECK(colv.y.row_bytes == 4);
  const vpu::Layout sc = lay(desc14(VpuFn::kMax, 5, 7, B::kScalar, 0, 0, 0));
  CHECK(sc.y.rows == 1);
  CHECK(sc.y.row_bytes == 4);
  const vpu::Layout sm = lay(desc14(VpuFn::kOnlineSoftmax, 5, 7, B::kNone, 1, 0, 1));
  CHECK(sm.y.rows == 5);
  CHECK(sm.y.row_bytes == 12);
  CHECK(sm.z.row_bytes == 14);
  const vpu::Layout rs = lay(desc14(VpuFn::kRowSum, 5, 7, B::kNone, 1, 0, 1));
  CHECK(rs.z.row_bytes == 2);
  CHECK_FALSE(lay(desc(VpuFn::kTanh, 5, 7)).y.used);
  CHECK(vpu::unit(VpuFn::kDiv) == vpu::Unit::kDiv);
  CHECK(vpu::unit(VpuFn::kGeluErf) == vpu::Unit::kGeluErf);
  CHECK(vpu::unit(VpuFn::kSilu) == vpu::Unit::kActivation);
  CHECK(vpu::unit(VpuFn::kAdd) == vpu::Unit::kSimple);
}

TEST_CASE("VPU DIV and RECIP are correctly rounded: bit-exact against integer division",
          "[chip][vpu]") {
  constexpr std::uint32_t C = 1 << 16;
  std::mt19937 rng(31);
  std::vector<float> x(C), y(C);
  for (std::uint32_t i = 0; i < C; ++i) {
    x[i] = random_operand(rng);
    y[i] = random_operand(rng);
  }
  y[0] = std::numeric_limits<float>::denorm_min(), x[0] = 1.0F;  // 2^149: overflows
  x[1] = std::numeric_limits<float>::denorm_min(), y[1] = 3.0F;  // underflows, rounds to 0
  x[2] = std::numeric_limits<float>::denorm_min(), y[2] = 1.5F;  // 2/3 quantum: rounds up
  x[3] = std::bit_cast<float>(0x00000003u), y[3] = 2.0F;         // 1.5 quanta: tie to even (2)
  std::uint32_t tested = 0;
  for (int rep = 0; rep < 16; ++rep) {
    if (rep > 0) {
      for (std::uint32_t i = 0; i < C; ++i) {
        x[i] = random_operand(rng);
        y[i] = random_operand(rng);
      }
    }
    Buf xb{x}, yb{y}, zd{std::vector<float>(C)}, zr{std::vector<float>(C)};
    vpu::execute(vpu::decode(desc(VpuFn::kDiv, 1, C)), xb.view(C), yb.view(C), zd.view(C));
    vpu::execute(vpu::decode(desc(VpuFn::kRecip, 1, C)), yb.view(C), vpu::View{}, zr.view(C));
    for (std::uint32_t i = 0; i < C; ++i) {
      INFO(fmt::format("{:a} / {:a}", x[i], y[i]));
      REQUIRE(same_bits(zd.v[i], div_reference(x[i], y[i])));
      REQUIRE(same_bits(zr.v[i], div_reference(1.0F, y[i])));
      ++tested;
    }
  }
  CHECK(tested == 16 * C);
}

TEST_CASE("VPU binary functions with every broadcast mode and element format", "[chip][vpu]") {
  using B = regs::VpuBcast;
  constexpr std::uint32_t R = 5, C = 37;
  std::mt19937 rng(32);
  std::vector<std::uint32_t> xbits(R * C), ybits(R * C);
  for (auto& v : xbits) v = std::bit_cast<std::uint32_t>(random_operand(rng));
  for (auto& v : ybits) v = std::bit_cast<std::uint32_t>(random_operand(rng));
  // An operand in format f (1: BF16, the upper half of each random FP32 value).
  const auto buffer = [&](const std::vector<std::uint32_t>& bits, std::uint32_t f) {
    std::vector<std::uint8_t> b(bits.size() * (f != 0 ? 2 : 4));
    for (std::size_t i = 0; i < bits.size(); ++i) {
      if (f != 0) {
        const auto h = static_cast<std::uint16_t>(bits[i] >> 16);
        std::memcpy(&b[2 * i], &h, 2);
      } else {
        std::memcpy(&b[4 * i], &bits[i], 4);
      }
    }
    return b;
  };
  const auto value = [](const std::vector<std::uint32_t>& bits, std::size_t i, std::uint32_t f) {
    return f != 0 ? static_cast<float>(bf16_value(static_cast<std::uint16_t>(bits[i] >> 16)))
                  : std::bit_cast<float>(bits[i]);
  };
  const auto ref = [](VpuFn fn, float a, float b) {
    float r = 0.0F;
    switch (fn) {
      case VpuFn::kAdd:
        r = a + b;
        break;
      case VpuFn::kSub:
        r = a - b;
        break;
      case VpuFn::kMul:
        r = a * b;
        break;
      case VpuFn::kDiv:
        return div_reference(a, b);
      default:
        if (std::isnan(a) || std::isnan(b)) return std::bit_cast<float>(0x7FC00000u);
        r = a > b ? a : b > a ? b : std::signbit(a) ? b : a;
        break;
    }
    return std::isnan(r) ? std::bit_cast<float>(0x7FC00000u) : r;
  };
  int cases = 0;
  for (const VpuFn fn : {VpuFn::kAdd, VpuFn::kSub, VpuFn::kMul, VpuFn::kMax, VpuFn::kDiv}) {
    for (const B mode : {B::kNone, B::kRow, B::kCol, B::kScalar}) {
      for (std::uint32_t fmts = 0; fmts < 8; ++fmts) {
        const std::uint32_t xf = fmts & 1u, yf = (fmts >> 1) & 1u, zf = (fmts >> 2) & 1u;
        INFO(fmt::format("{} BCAST {} X_FMT {} Y_FMT {} Z_FMT {}",
                         vpu::fn_name(static_cast<std::uint32_t>(fn)), static_cast<int>(mode), xf,
                         yf, zf));
        auto d = desc14(fn, R, C, mode, xf, yf, zf);
        const std::uint32_t xs = C * (xf != 0 ? 2 : 4), zs = C * (zf != 0 ? 2 : 4);
        // Y's rows: a full matrix (NONE), one row (ROW, SCALAR) or one element per row, 12 bytes
        // apart (COL: a column of a wider buffer).
        const std::uint32_t ys = mode == B::kCol ? 12 : C * (yf != 0 ? 2 : 4);
        d[10] = xs, d[11] = ys, d[12] = zs;
        auto xb = buffer(xbits, xf), yb = buffer(ybits, yf);
        std::vector<std::uint8_t> z(R * zs, 0xEE);
        const vpu::Op op = vpu::decode(d);
        vpu::execute(op, vpu::View{xb.data(), xs}, vpu::View{yb.data(), ys},
                     vpu::View{z.data(), zs});
        for (std::uint32_t r = 0; r < R; ++r) {
          for (std::uint32_t c = 0; c < C; ++c) {
            // Y's element for (r, c), as an index into the packed Y buffer.
            std::size_t yi = r * C + c;
            if (mode == B::kRow) yi = c;
            if (mode == B::kScalar) yi = 0;
            if (mode == B::kCol) yi = r * ys / (yf != 0 ? 2 : 4);
            const float want = ref(fn, value(xbits, r * C + c, xf), value(ybits, yi, yf));
            if (zf != 0) {
              std::uint16_t got;
              std::memcpy(&got, &z[r * zs + 2 * c], 2);
              REQUIRE(got == bf16_rne_reference(want));
            } else {
              float got;
              std::memcpy(&got, &z[r * zs + 4 * c], 4);
              REQUIRE(same_bits(got, want));
            }
          }
        }
        ++cases;
      }
    }
  }
  CHECK(cases == 5 * 4 * 8);
}

TEST_CASE("VPU unary functions, reductions and softmax through execute: BF16 in and out, in place",
          "[chip][vpu]") {
  using B = regs::VpuBcast;
  constexpr std::uint32_t R = 4, C = 300;
  std::mt19937 rng(33);
  std::normal_distribution<float> nd(0.0F, 6.0F);
  std::vector<float> x(R * C);
  for (auto& v : x) v = nd(rng);
  x[3] = NAN, x[4] = std::numeric_limits<float>::infinity(), x[5] = -0.0F;
  struct U {
    VpuFn fn;
    float (*f)(float);
  };
  const U us[] = {{VpuFn::kTanh, vpu::tanh_f32},        {VpuFn::kSigmoid, vpu::sigmoid_f32},
                  {VpuFn::kSilu, vpu::silu_f32},        {VpuFn::kGeluTanh, vpu::gelu_tanh_f32},
                  {VpuFn::kGeluErf, vpu::gelu_erf_f32}, {VpuFn::kExp, vpu::exp_f32}};
  for (const U& u : us) {
    // FP32 in, BF16 out (RNE of the FP32 result); then BF16 in place (Z == X).
    auto d = desc14(u.fn, R, C, B::kNone, 0, 0, 1);
    d[12] = C * 2;
    Buf xb{x};
    std::vector<std::uint16_t> z(R * C);
    vpu::execute(vpu::decode(d), xb.view(C), vpu::View{},
                 vpu::View{reinterpret_cast<std::uint8_t*>(z.data()), C * 2});
    for (std::uint32_t i = 0; i < R * C; ++i) REQUIRE(z[i] == bf16_rne_reference(u.f(x[i])));
    auto d2 = desc14(u.fn, R, C, B::kNone, 1, 0, 1);
    d2[10] = d2[12] = C * 2;
    std::vector<std::uint16_t> w = z;
    vpu::View wv{reinterpret_cast<std::uint8_t*>(w.data()), C * 2};
    vpu::execute(vpu::decode(d2), wv, vpu::View{}, wv);
    for (std::uint32_t i = 0; i < R * C; ++i) {
      REQUIRE(w[i] == bf16_rne_reference(u.f(static_cast<float>(bf16_value(z[i])))));
    }
  }
  // RSQRT takes its epsilon from IMM.
  {
    auto d = desc(VpuFn::kRsqrt, R, C);
    d[13] = std::bit_cast<std::uint32_t>(0.25F);
    Buf xb{x}, zb{std::vector<float>(R * C)};
    vpu::execute(vpu::decode(d), xb.view(C), vpu::View{}, zb.view(C));
    for (std::uint32_t i = 0; i < R * C; ++i) {
      REQUIRE(same_bits(zb.v[i], vpu::rsqrt_f32(x[i], 0.25F)));
    }
  }
  // SUB with a column vector in place (Z == X): each row minus its own element.
  {
    std::vector<float> xv(x.begin(), x.end()), col = {1.5F, -2.0F, 1e30F, 0.0F};
    auto d = desc14(VpuFn::kSub, R, C, B::kCol, 0, 0, 0);
    d[11] = 4;
    vpu::View v{reinterpret_cast<std::uint8_t*>(xv.data()), C * 4};
    vpu::execute(vpu::decode(d), v, vpu::View{reinterpret_cast<std::uint8_t*>(col.data()), 4}, v);
    for (std::uint32_t r = 0; r < R; ++r) {
      for (std::uint32_t c = 0; c < C; ++c) {
        const float want = x[r * C + c] - col[r];
        REQUIRE((std::isnan(want) ? std::bit_cast<std::uint32_t>(xv[r * C + c]) == 0x7FC00000u
                                  : same_bits(xv[r * C + c], want)));
      }
    }
  }
  // ONLINE_SOFTMAX over two blocks with its state (m, s, alpha) in rows of 16 bytes; P in place.
  {
    std::vector<float> xv(x.begin(), x.end());
    for (auto& v : xv) {
      if (std::isnan(v) || std::isinf(v)) v = 1.0F;
    }
    const float inf = std::numeric_limits<float>::infinity();
    std::vector<float> state(R * 4);
    for (std::uint32_t r = 0; r < R; ++r) state[4 * r] = -inf, state[4 * r + 1] = 0.0F;
    std::vector<float> ms(R, -inf), ss(R, 0.0F), alphas(R);
    for (std::uint32_t half = 0; half < 2; ++half) {
      auto d = desc(VpuFn::kOnlineSoftmax, R, C / 2);
      d[10] = d[12] = C * 4;
      d[11] = 16;
      std::vector<float> before = xv;
      vpu::View xvw{reinterpret_cast<std::uint8_t*>(xv.data() + half * (C / 2)), C * 4};
      vpu::execute(vpu::decode(d), xvw,
                   vpu::View{reinterpret_cast<std::uint8_t*>(state.data()), 16}, xvw);
      for (std::uint32_t r = 0; r < R; ++r) {
        std::vector<float> in(before.begin() + r * C + half * (C / 2),
                              before.begin() + r * C + half * (C / 2) + C / 2),
            p(C / 2);
        const vpu::SoftmaxState st = vpu::online_softmax_row(in, ms[r], ss[r], p);
        ms[r] = st.m, ss[r] = st.s;
        REQUIRE(same_bits(state[4 * r], st.m));
        REQUIRE(same_bits(state[4 * r + 1], st.s));
        REQUIRE(same_bits(state[4 * r + 2], st.alpha));
        REQUIRE(state[4 * r + 3] == 0.0F);  // the padding is not touched
        for (std::uint32_t c = 0; c < C / 2; ++c) {
          REQUIRE(same_bits(xv[r * C + half * (C / 2) + c], p[c]));
        }
      }
    }
  }
}

TEST_CASE("VPU CAUSAL_MASK: -Inf where c > r + k, X elsewhere bit for bit; BF16, in place",
          "[chip][vpu]") {
  constexpr std::uint32_t R = 7, C = 40;
  std::mt19937 rng(8);
  std::vector<float> x(R * C);
  for (auto& v : x) v = random_operand(rng);
  x[1] = std::bit_cast<float>(0x7FA00001u);  // a NaN payload, kept where not masked
  x[3 * C + 39] = std::bit_cast<float>(0xFFC00123u);
  const float ninf = -std::numeric_limits<float>::infinity();
  // k: below, on and above the main diagonal, all masked, none masked, and the int32 extremes.
  for (const std::int32_t k :
       {0, 1, -1, 5, -6, 33, -7, 40, std::numeric_limits<std::int32_t>::min(),
        std::numeric_limits<std::int32_t>::max()}) {
    INFO("k = " << k);
    auto d = desc(VpuFn::kCausalMask, R, C);
    d[13] = static_cast<std::uint32_t>(k);
    const vpu::Op op = vpu::decode(d);
    CHECK(op.diagonal == k);
    CHECK(vpu::unit(op.func) == vpu::Unit::kSimple);
    Buf xb{x}, zb{std::vector<float>(R * C)};
    vpu::execute(op, xb.view(C), vpu::View{}, zb.view(C));
    std::uint32_t masked = 0;
    for (std::uint32_t r = 0; r < R; ++r) {
      for (std::uint32_t c = 0; c < C; ++c) {
        // Written out: kept when c - r <= k (as exact integers).
        const bool keep = static_cast<long long>(c) - static_cast<long long>(r) <= k;
        masked += keep ? 0 : 1;
        REQUIRE(std::bit_cast<std::uint32_t>(zb.v[r * C + c]) ==
                std::bit_cast<std::uint32_t>(keep ? x[r * C + c] : ninf));
      }
    }
    if (k == 0) CHECK(masked == C * R - R * (R + 1) / 2);  // all but the lower triangle
    // BF16 in place (Z == X): kept elements unchanged, masked ones BF16 -Inf (0xFF80).
    std::vector<std::uint16_t> w(R * C);
    for (std::uint32_t i = 0; i < R * C; ++i) w[i] = static_cast<std::uint16_t>(rng());
    const std::vector<std::uint16_t> w0 = w;
    auto db = desc14(VpuFn::kCausalMask, R, C, regs::VpuBcast::kNone, 1, 0, 1);
    db[10] = db[12] = C * 2;
    db[13] = static_cast<std::uint32_t>(k);
    vpu::View wv{reinterpret_cast<std::uint8_t*>(w.data()), C * 2};
    vpu::execute(vpu::decode(db), wv, vpu::View{}, wv);
    for (std::uint32_t r = 0; r < R; ++r) {
      for (std::uint32_t c = 0; c < C; ++c) {
        const bool keep = static_cast<long long>(c) - static_cast<long long>(r) <= k;
        const std::uint16_t was = w0[r * C + c];
        // A kept BF16 element goes through FP32 and back: exact; a NaN stores as 0x7FC0.
        const bool nan = (was & 0x7F80) == 0x7F80 && (was & 0x007F) != 0;
        const std::uint16_t want = !keep ? 0xFF80 : nan ? 0x7FC0 : was;
        INFO("r " << r << " c " << c << " was " << was);
        REQUIRE(w[r * C + c] == want);
      }
    }
  }
}

TEST_CASE("VPU_OP decode keeps addresses and strides for every function", "[chip][vpu]") {
  for (std::uint32_t fn = 1; fn <= static_cast<std::uint32_t>(VpuFn::kCausalMask); ++fn) {
    INFO(vpu::fn_name(fn));
    auto d = desc(static_cast<VpuFn>(fn), 2, 64, 0, fn == 12 ? 32 : 0);
    d[2] = 0x100, d[3] = 0x1, d[4] = 0x2000, d[5] = 0x2, d[6] = 0x30000, d[7] = 0x3;
    d[10] = 1000, d[11] = 2000, d[12] = 3000;
    const vpu::Op op = vpu::decode(d);
    CHECK(op.x_addr == 0x100000100ull);
    CHECK(op.y_addr == 0x200002000ull);
    CHECK(op.z_addr == 0x300030000ull);
    CHECK(op.x_stride == 1000);
    CHECK(op.y_stride == 2000);
    CHECK(op.z_stride == 3000);
  }
}
