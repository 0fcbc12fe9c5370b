// The vector unit's functional core without SystemC: decoding, operand shapes, and the semantics
// of each function on host buffers against references written here.
#include <catch2/catch.hpp>

#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "model/chip/regs.h"
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
  const double v = f, dlo = std::abs(v - bf16_value(lo)), dhi = std::abs(bf16_value(hi) - v);
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
