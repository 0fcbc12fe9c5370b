// Every vector-unit function through the VPU engine (firmware chip_vpu_ops), checked against
// FP32 arithmetic written out here, the vector-checked conversions, exp's documented bound, and
// long double references for the activations and the online-softmax step; broadcast operands and
// BF16 formats; the VPU's timing against its closed form (bank conflicts, the iterative units'
// cycles per group from the config); bad descriptors fault with their cause.
#include <fmt/core.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <optional>
#include <string>

#include "model/chip/regs.h"
#include "model/common/error.h"
#include "model/numerics/fp8.h"
#include "model/numerics/mx.h"
#include "model/vpu/vpu_core.h"
#include "tests/chip/chip_test_util.h"

using namespace mxemu;
using regs_fn = chip::regs::VpuFn;
using regs_fmt = chip::regs::VpuFmt;

namespace {

struct Op {
  regs_fn fn;
  regs_fmt out_fmt = regs_fmt::kFp32;
  std::uint32_t nonsat = 0;
  float imm = 0.0F;
  std::uint32_t pad = 0, x_offset = 0;
};

sim::ChipJobResult run_op(const Op& op, std::size_t rows, std::size_t cols,
                          const std::vector<float>& x, const std::vector<float>& y,
                          std::size_t y_rows, const std::vector<std::size_t>& z_shape, bool z_f32,
                          bool scales = false, int block = 32) {
  sim::ChipJob job;
  job.firmware_name = "chip_vpu_ops";
  job.firmware_elf = test::test_firmware("chip_vpu_ops");
  job.record_timeline = true;
  job.inputs.emplace_back("X", make_f32({rows, cols}, x));
  if (!y.empty()) job.inputs.emplace_back("Y", make_f32({y_rows, cols}, y));
  std::size_t zn = 1;
  for (auto d : z_shape) zn *= d;
  if (z_f32) {
    job.outputs.emplace_back("Z", make_f32(z_shape, std::vector<float>(zn)));
  } else {
    job.outputs.emplace_back("Z", make_u8(z_shape, std::vector<std::uint8_t>(zn)));
  }
  job.read_back = {"Z"};
  if (scales) {
    job.outputs.emplace_back(
        "S", make_u8({rows, cols / block}, std::vector<std::uint8_t>(rows * cols / block)));
    job.read_back.emplace_back("S");
  }
  job.scalars = {{"func", static_cast<std::uint32_t>(op.fn)},
                 {"out_fmt", static_cast<std::uint32_t>(op.out_fmt)},
                 {"nonsat", op.nonsat},
                 {"block", static_cast<std::uint32_t>(block)},
                 {"imm", std::bit_cast<std::uint32_t>(op.imm)},
                 {"pad", op.pad},
                 {"x_offset", op.x_offset}};
  sim::ChipJobResult r = test::run_job(job);
  REQUIRE(r.exit_code == 0);
  return r;
}

std::uint64_t vpu_cycles(const sim::ChipJobResult& r) {
  const auto j = nlohmann::json::parse(r.timeline_json);
  for (const auto& e : j["traceEvents"]) {
    if (e["ph"] == "X" && e["args"]["queue"] == 1 && e["args"]["op"] != "NOP") {
      return e["args"]["end_cycle"].get<std::uint64_t>() -
             e["args"]["start_cycle"].get<std::uint64_t>();
    }
  }
  FAIL("no VPU event in the timeline");
  return 0;
}

bool same(float a, float b) {
  return std::isnan(a) ? std::isnan(b)
                       : std::bit_cast<std::uint32_t>(a) == std::bit_cast<std::uint32_t>(b);
}

float ref_max(float a, float b) {
  if (std::isnan(a) || std::isnan(b)) return NAN;
  if (a == b) return std::signbit(a) ? b : a;
  return a > b ? a : b;
}

}  // namespace

TEST_CASE("VPU elementwise, reductions and exp", "[chip][vpu]") {
  const std::size_t rows = 9, cols = 200;
  std::mt19937_64 rng(3);
  std::normal_distribution<float> d(0.0F, 10.0F);
  std::vector<float> x(rows * cols), y(rows * cols);
  for (auto& v : x) v = d(rng);
  for (auto& v : y) v = d(rng);
  x[5] = NAN;
  x[7] = -0.0F;
  y[7] = 0.0F;
  const auto elementwise = [&](regs_fn fn, float imm, auto f) {
    Op op{fn};
    op.imm = imm;
    const bool two = fn == regs_fn::kAdd || fn == regs_fn::kMul || fn == regs_fn::kMax;
    const auto r =
        run_op(op, rows, cols, x, two ? y : std::vector<float>{}, rows, {rows, cols}, true);
    const auto z = r.outputs.at("Z").as_f32();
    for (std::size_t i = 0; i < z.size(); ++i) {
      INFO(fmt::format("fn {} element {}", static_cast<int>(fn), i));
      REQUIRE(same(z[i], f(x[i], y[i])));
    }
  };
  elementwise(regs_fn::kAdd, 0, [](float a, float b) { return a + b; });
  elementwise(regs_fn::kMul, 0, [](float a, float b) { return a * b; });
  elementwise(regs_fn::kMax, 0, ref_max);
  elementwise(regs_fn::kScale, 0.375F, [](float a, float) { return a * 0.375F; });
  elementwise(regs_fn::kRelu, 0,
              [](float a, float) { return std::isnan(a) ? NAN : (a > 0 ? a : 0.0F); });
  elementwise(regs_fn::kCopy, 0, [](float a, float) { return a; });
  {
    const auto r = run_op(Op{regs_fn::kAddRow}, rows, cols, x,
                          std::vector<float>(y.begin(), y.begin() + cols), 1, {rows, cols}, true);
    const auto z = r.outputs.at("Z").as_f32();
    for (std::size_t i = 0; i < z.size(); ++i) REQUIRE(same(z[i], x[i] + y[i % cols]));
  }
  std::vector<float> xn = x;  // reductions without the NaN, then with it
  xn[5] = 1.0F;
  for (const bool with_nan : {false, true}) {
    const std::vector<float>& in = with_nan ? x : xn;
    const auto rs = run_op(Op{regs_fn::kRowSum}, rows, cols, in, {}, 0, {rows, 1}, true)
                        .outputs.at("Z")
                        .as_f32();
    const auto rm = run_op(Op{regs_fn::kRowMax}, rows, cols, in, {}, 0, {rows, 1}, true)
                        .outputs.at("Z")
                        .as_f32();
    for (std::size_t r = 0; r < rows; ++r) {
      float s = 0.0F, m = in[r * cols];
      for (std::size_t c = 0; c < cols; ++c) s += in[r * cols + c];
      for (std::size_t c = 1; c < cols; ++c) m = ref_max(m, in[r * cols + c]);
      REQUIRE(same(rs[r], s));
      REQUIRE(same(rm[r], m));
    }
    const auto cs = run_op(Op{regs_fn::kColSum}, rows, cols, in, {}, 0, {1, cols}, true)
                        .outputs.at("Z")
                        .as_f32();
    const auto cm = run_op(Op{regs_fn::kColMax}, rows, cols, in, {}, 0, {1, cols}, true)
                        .outputs.at("Z")
                        .as_f32();
    for (std::size_t c = 0; c < cols; ++c) {
      float s = in[c], m = in[c];
      for (std::size_t r = 1; r < rows; ++r) {
        s += in[r * cols + c];
        m = ref_max(m, in[r * cols + c]);
      }
      REQUIRE(same(cs[c], s));
      REQUIRE(same(cm[c], m));
    }
  }
  {
    std::vector<float> e(rows * cols);
    std::uniform_real_distribution<float> u(-80.0F, 80.0F);
    for (auto& v : e) v = u(rng);
    const auto z = run_op(Op{regs_fn::kExp}, rows, cols, e, {}, 0, {rows, cols}, true)
                       .outputs.at("Z")
                       .as_f32();
    for (std::size_t i = 0; i < z.size(); ++i) {
      const double want = std::exp(static_cast<double>(e[i]));
      const double ulp = std::ldexp(1.0, std::ilogb(static_cast<float>(want)) - 23);
      REQUIRE(std::fabs(z[i] - want) <= vpu::kExpMaxUlp * ulp);
    }
  }
}

TEST_CASE("VPU conversions and MX quantisation", "[chip][vpu]") {
  const std::size_t rows = 4, cols = 256;
  std::mt19937_64 rng(4);
  std::vector<float> x(rows * cols);
  for (auto& v : x) v = std::bit_cast<float>(static_cast<std::uint32_t>(rng()));  // any bits
  for (const auto f : {regs_fmt::kE4M3, regs_fmt::kE5M2}) {
    for (const std::uint32_t nonsat : {0u, 1u}) {
      Op op{regs_fn::kConvert, f, nonsat};
      const auto z = run_op(op, rows, cols, x, {}, 0, {rows, cols}, false).outputs.at("Z").data;
      const auto ff = f == regs_fmt::kE4M3 ? num::Fp8Format::kE4M3 : num::Fp8Format::kE5M2;
      for (std::size_t i = 0; i < z.size(); ++i) {
        REQUIRE(z[i] ==
                num::encode(ff, x[i], nonsat ? num::SatMode::kNonSat : num::SatMode::kSatFinite));
      }
    }
  }
  {
    const auto z = run_op(Op{regs_fn::kConvert, regs_fmt::kBf16}, rows, cols, x, {}, 0,
                          {rows, 2 * cols}, false)
                       .outputs.at("Z")
                       .data;
    for (std::size_t i = 0; i < rows * cols; ++i) {
      const auto b = std::bit_cast<std::uint32_t>(x[i]);
      auto want = static_cast<std::uint16_t>(b >> 16);
      const std::uint32_t rem = b & 0xFFFFu;
      if (std::isnan(x[i])) {
        want = 0x7FC0;
      } else if (rem > 0x8000u || (rem == 0x8000u && (want & 1u))) {
        ++want;
      }
      REQUIRE(static_cast<std::uint16_t>(z[2 * i] | (z[2 * i + 1] << 8)) == want);
    }
  }
  {
    std::normal_distribution<float> d(0.0F, 3.0F);
    std::vector<float> v(rows * cols);
    for (auto& e : v) e = d(rng);
    Op op{regs_fn::kMxQuant, regs_fmt::kE5M2};
    const auto r = run_op(op, rows, cols, v, {}, 0, {rows, cols}, false, true, 32);
    std::vector<std::uint8_t> q(rows * cols), s(rows * cols / 32);
    num::mx_quantize(v, rows, cols, 32, num::Fp8Format::kE5M2, num::MxScaleMode::kFloor, q, s);
    CHECK(r.outputs.at("Z").data == q);
    CHECK(r.outputs.at("S").data == s);
  }
}

TEST_CASE("VPU timing: bank conflicts follow the closed form", "[chip][vpu][timing]") {
  // mx1: 128 lanes, 32 banks of 8-byte words, latency 8. A group of n contiguous FP32 elements
  // at byte offset o touches w = floor((o + 4n - 1) / 8) - floor(o / 8) + 1 words, at most
  // ceil(w / 32) in one bank; RELU's group costs the worse of its input and output accesses.
  const std::size_t rows = 6, cols = 300;
  std::vector<float> x(rows * cols, 1.0F);
  const auto words = [](std::uint64_t o, std::uint64_t bytes) {
    return (o + bytes - 1) / 8 - o / 8 + 1;
  };
  for (const std::uint32_t offset : {0u, 4u, 12u}) {
    Op op{regs_fn::kRelu};
    op.x_offset = offset;
    const auto r = run_op(op, rows, cols, x, {}, 0, {rows, cols}, true);
    const std::uint64_t x_base = 64 + offset, z_base = 16u << 20;
    std::uint64_t want = 8;
    for (std::size_t row = 0; row < rows; ++row) {
      for (std::size_t c0 = 0; c0 < cols; c0 += 128) {
        const std::uint64_t n = std::min<std::size_t>(128, cols - c0);
        const auto wx = words(x_base + row * cols * 4 + c0 * 4, 4 * n);
        const auto wz = words(z_base + row * cols * 4 + c0 * 4, 4 * n);
        want += std::max((wx + 31) / 32, (wz + 31) / 32);
      }
    }
    INFO(fmt::format("x offset {}", offset));
    CHECK(vpu_cycles(r) == want);
  }
}

// ---- The functions of docs/VPU.md beyond the first set: broadcast operands, BF16 operands,
// divide, rsqrt, the activations and the online-softmax step, through firmware chip_vpu_ops. ----

namespace {

using LD = long double;
using regs_bcast = chip::regs::VpuBcast;

// One VPU_OP through the chip: X, Y (optional) as given, Z of z_shape read back, and Y after the
// operation as YO when read_y.
struct Case {
  regs_fn fn;
  NpyArray x;
  std::optional<NpyArray> y;
  std::vector<std::size_t> z_shape;
  bool z_f32 = true;
  regs_bcast bcast = regs_bcast::kNone;
  std::uint32_t x_fmt = 0, y_fmt = 0, z_fmt = 0;
  float imm = 0.0F;
  bool read_y = false;
  std::string config_path{};
};

sim::ChipJobResult run_case(const Case& k) {
  sim::ChipJob job;
  job.firmware_name = "chip_vpu_ops";
  job.firmware_elf = test::test_firmware("chip_vpu_ops");
  job.record_timeline = true;
  job.config_path = k.config_path;
  job.inputs.emplace_back("X", k.x);
  if (k.y) job.inputs.emplace_back("Y", *k.y);
  std::size_t zn = 1;
  for (auto d : k.z_shape) zn *= d;
  job.outputs.emplace_back("Z", k.z_f32 ? make_f32(k.z_shape, std::vector<float>(zn))
                                        : make_u8(k.z_shape, std::vector<std::uint8_t>(zn)));
  job.read_back = {"Z"};
  if (k.read_y) {
    job.outputs.emplace_back("YO", *k.y);
    job.read_back.emplace_back("YO");
  }
  job.scalars = {{"func", static_cast<std::uint32_t>(k.fn)},
                 {"imm", std::bit_cast<std::uint32_t>(k.imm)},
                 {"bcast", static_cast<std::uint32_t>(k.bcast)},
                 {"x_fmt", k.x_fmt},
                 {"y_fmt", k.y_fmt},
                 {"z_fmt", k.z_fmt}};
  sim::ChipJobResult r = test::run_job(job);
  REQUIRE(r.exit_code == 0);
  return r;
}

double ulp_err(float got, LD want) {
  const int e = want == 0 ? -126 : std::max(std::ilogb(want), -126);
  return static_cast<double>(std::fabs(static_cast<LD>(got) - want) / std::ldexp(1.0L, e - 23));
}

// BF16 pattern of an FP32 value, round to nearest even, from the two neighbours' distances in
// long double (exact for every FP32 and BF16 value); NaN -> 0x7FC0, overflow past the largest
// finite value + half an ulp -> Inf (2^128 acts as the next value).
std::uint16_t bf16_rne(float f) {
  if (std::isnan(f)) return 0x7FC0;
  const auto b = std::bit_cast<std::uint32_t>(f);
  const auto lo = static_cast<std::uint16_t>(b >> 16);
  if ((b & 0xFFFFu) == 0) return lo;
  const auto hi = static_cast<std::uint16_t>(lo + 1);
  const auto val = [](std::uint16_t h) {
    return (h & 0x7FFF) == 0x7F80
               ? std::copysign(std::ldexp(1.0L, 128), (h & 0x8000) ? -1.0L : 1.0L)
               : static_cast<LD>(std::bit_cast<float>(std::uint32_t{h} << 16));
  };
  const LD v = f, dlo = std::fabs(v - val(lo)), dhi = std::fabs(val(hi) - v);
  if (dlo != dhi) return dlo < dhi ? lo : hi;
  return (lo & 1u) == 0 ? lo : hi;
}

float bf16_to_f32(std::uint16_t h) {
  return std::bit_cast<float>(std::uint32_t{h} << 16);
}

NpyArray bf16_tensor(std::size_t rows, std::size_t cols, const std::vector<std::uint16_t>& v) {
  std::vector<std::uint8_t> bytes(v.size() * 2);
  std::memcpy(bytes.data(), v.data(), bytes.size());
  return make_u8({rows, cols * 2}, bytes);
}

std::vector<std::uint16_t> as_bf16(const NpyArray& a) {
  std::vector<std::uint16_t> v(a.data.size() / 2);
  std::memcpy(v.data(), a.data.data(), a.data.size());
  return v;
}

float canonical_ref(float v) {
  return std::isnan(v) ? std::bit_cast<float>(0x7FC00000u) : v;
}

}  // namespace

TEST_CASE("VPU broadcast operands and BF16 formats through the chip", "[chip][vpu]") {
  const std::size_t rows = 6, cols = 150;
  std::mt19937_64 rng(41);
  std::normal_distribution<float> d(0.0F, 4.0F);
  std::vector<float> x(rows * cols);
  for (auto& v : x) v = d(rng);
  x[3] = NAN, x[4] = -std::numeric_limits<float>::infinity(), x[5] = -0.0F;
  x[6] = std::numeric_limits<float>::denorm_min();
  {  // DIV by a column vector (one divisor per row, a zero among them): x[r][c] / y[r].
    std::vector<float> y = {3.0F, -0.5F, 0.0F, 1e-30F, 7.25F, -1e30F};
    Case k{regs_fn::kDiv, make_f32({rows, cols}, x), make_f32({rows, 1}, y), {rows, cols}};
    k.bcast = regs_bcast::kCol;
    const auto z = run_case(k).outputs.at("Z").as_f32();
    for (std::size_t i = 0; i < z.size(); ++i) {
      // FP64 division rounded to FP32 is the correctly rounded FP32 quotient (53 >= 2 * 24 + 2).
      const auto want = canonical_ref(static_cast<float>(static_cast<double>(x[i]) / y[i / cols]));
      INFO(fmt::format("element {}", i));
      REQUIRE(std::bit_cast<std::uint32_t>(z[i]) == std::bit_cast<std::uint32_t>(want));
    }
  }
  {  // SUB a row vector from every row.
    std::vector<float> y(cols);
    for (auto& v : y) v = d(rng);
    Case k{regs_fn::kSub, make_f32({rows, cols}, x), make_f32({1, cols}, y), {rows, cols}};
    k.bcast = regs_bcast::kRow;
    const auto z = run_case(k).outputs.at("Z").as_f32();
    for (std::size_t i = 0; i < z.size(); ++i) {
      REQUIRE(std::bit_cast<std::uint32_t>(z[i]) ==
              std::bit_cast<std::uint32_t>(canonical_ref(x[i] - y[i % cols])));
    }
  }
  {  // MUL by a scalar, BF16 in and out: widen exactly, one FP32 product, RNE to BF16.
    std::vector<std::uint16_t> xb(rows * cols);
    for (std::size_t i = 0; i < xb.size(); ++i) xb[i] = bf16_rne(x[i]);
    Case k{regs_fn::kMul, bf16_tensor(rows, cols, xb), make_f32({1, 1}, {0.7F}), {rows, 2 * cols}};
    k.bcast = regs_bcast::kScalar;
    k.x_fmt = k.z_fmt = 1;
    k.z_f32 = false;
    const auto z = as_bf16(run_case(k).outputs.at("Z"));
    for (std::size_t i = 0; i < z.size(); ++i) REQUIRE(z[i] == bf16_rne(bf16_to_f32(xb[i]) * 0.7F));
  }
  {  // ADD with a BF16 Y, FP32 out.
    std::vector<std::uint16_t> yb(rows * cols);
    for (auto& v : yb) v = bf16_rne(d(rng));
    Case k{regs_fn::kAdd, make_f32({rows, cols}, x), bf16_tensor(rows, cols, yb), {rows, cols}};
    k.y_fmt = 1;
    const auto z = run_case(k).outputs.at("Z").as_f32();
    for (std::size_t i = 0; i < z.size(); ++i) {
      REQUIRE(std::bit_cast<std::uint32_t>(z[i]) ==
              std::bit_cast<std::uint32_t>(canonical_ref(x[i] + bf16_to_f32(yb[i]))));
    }
  }
}

TEST_CASE("VPU divide, rsqrt, activations and the online-softmax step through the chip",
          "[chip][vpu]") {
  const std::size_t rows = 5, cols = 200;
  std::mt19937_64 rng(42);
  std::normal_distribution<float> d(0.0F, 5.0F);
  std::vector<float> x(rows * cols);
  for (auto& v : x) v = d(rng);
  const LD sqrt_2_over_pi = std::sqrt(2.0L / 3.141592653589793238462643383279502884L);
  struct Act {
    regs_fn fn;
    float imm;
    std::function<LD(LD)> ref;
  };
  const Act acts[] = {
      {regs_fn::kTanh, 0, [](LD v) { return std::tanh(v); }},
      {regs_fn::kSigmoid, 0, [](LD v) { return 1.0L / (1.0L + std::exp(-v)); }},
      {regs_fn::kSilu, 0, [](LD v) { return v / (1.0L + std::exp(-v)); }},
      {regs_fn::kGeluTanh, 0,
       [&](LD v) {
         return v / (1.0L + std::exp(-2.0L * sqrt_2_over_pi * (v + 0.044715L * v * v * v)));
       }},
      {regs_fn::kGeluErf, 0, [](LD v) { return 0.5L * v * std::erfc(-v / std::sqrt(2.0L)); }},
      {regs_fn::kRsqrt, 1e-3F,
       [](LD v) {
         return v + 1e-3L < 0 ? std::numeric_limits<LD>::quiet_NaN()
                              : 1.0L / std::sqrt(v + static_cast<LD>(1e-3F));
       }},
  };
  for (const Act& a : acts) {
    Case k{a.fn, make_f32({rows, cols}, x), std::nullopt, {rows, cols}};
    k.imm = a.imm;
    const auto z = run_case(k).outputs.at("Z").as_f32();
    double worst = 0;
    for (std::size_t i = 0; i < z.size(); ++i) {
      const LD want = a.ref(x[i]);
      if (std::isnan(want)) {
        REQUIRE(std::bit_cast<std::uint32_t>(z[i]) == 0x7FC00000u);
      } else {
        worst = std::max(worst, ulp_err(z[i], want));
      }
    }
    INFO(fmt::format("fn {}: worst {:.4f} ulp", static_cast<int>(a.fn), worst));
    CHECK(worst <= vpu::kFp64EvalMaxUlp);
  }
  {  // RECIP: correctly rounded (FP64 quotient rounded once).
    const auto z =
        run_case(Case{regs_fn::kRecip, make_f32({rows, cols}, x), std::nullopt, {rows, cols}})
            .outputs.at("Z")
            .as_f32();
    for (std::size_t i = 0; i < z.size(); ++i) REQUIRE(z[i] == static_cast<float>(1.0 / x[i]));
  }
  {  // ONLINE_SOFTMAX: state (m, s, alpha) per row in Y, updated in place; P in Z.
    const float inf = std::numeric_limits<float>::infinity();
    std::vector<float> st = {-inf, 0, 0, 3.0F, 2.5F, 0, -20.0F, 1.0F, 0, 40.0F, 7.0F, 0, 0, 1, 0};
    Case k{
        regs_fn::kOnlineSoftmax, make_f32({rows, cols}, x), make_f32({rows, 3}, st), {rows, cols}};
    k.read_y = true;
    const auto r = run_case(k);
    const auto p = r.outputs.at("Z").as_f32(), so = r.outputs.at("YO").as_f32();
    double worst = 0;
    for (std::size_t row = 0; row < rows; ++row) {
      LD m = st[3 * row];
      for (std::size_t c = 0; c < cols; ++c) m = std::max(m, static_cast<LD>(x[row * cols + c]));
      const LD alpha = std::exp(static_cast<LD>(st[3 * row]) - m);
      LD s = static_cast<LD>(st[3 * row + 1]) * alpha;
      for (std::size_t c = 0; c < cols; ++c) {
        const LD e = std::exp(static_cast<LD>(x[row * cols + c]) - m);
        s += e;
        worst = std::max(worst, ulp_err(p[row * cols + c], e));
      }
      REQUIRE(static_cast<LD>(so[3 * row]) == m);
      worst = std::max({worst, ulp_err(so[3 * row + 1], s), ulp_err(so[3 * row + 2], alpha)});
    }
    INFO(fmt::format("online softmax: worst {:.4f} ulp", worst));
    CHECK(worst <= vpu::kFp64EvalMaxUlp);
  }
}

TEST_CASE("VPU timing of the iterative functions follows the closed form and the config",
          "[chip][vpu][timing]") {
  // mx1: 128 lanes, 32 banks of 8-byte words, latency 8; X at VMEM 64, Z at 16 MiB, rows packed.
  // A group costs max over X and Z of ceil(words / 32), times the function's cycles per group;
  // a broadcast Y costs nothing; ONLINE_SOFTMAX adds two adder-tree latencies.
  const std::size_t rows = 3, cols = 300;
  std::vector<float> x(rows * cols, 0.5F);
  const auto words = [](std::uint64_t o, std::uint64_t bytes) {
    return (o + bytes - 1) / 8 - o / 8 + 1;
  };
  const auto closed_form = [&](std::uint64_t per_group, std::uint64_t extra) {
    std::uint64_t want = 8 + extra;
    for (std::size_t row = 0; row < rows; ++row) {
      for (std::size_t c0 = 0; c0 < cols; c0 += 128) {
        const std::uint64_t n = std::min<std::size_t>(128, cols - c0);
        const auto wx = words(64 + row * cols * 4 + c0 * 4, 4 * n);
        const auto wz = words((16u << 20) + row * cols * 4 + c0 * 4, 4 * n);
        want += std::max((wx + 31) / 32, (wz + 31) / 32) * per_group;
      }
    }
    return want;
  };
  const std::string cfg = test::temp_config(
      "mxemu_vpu_cycles.toml", "[vpu]\ndiv_cycles = 9\nactivation_cycles = 3\nexp_cycles = 2\n");
  for (const bool custom : {false, true}) {
    INFO((custom ? "custom [vpu] cycles" : "mx1"));
    const std::uint64_t div = custom ? 9 : 4, act = custom ? 3 : 8, ex = custom ? 2 : 4;
    Case tanh{regs_fn::kTanh, make_f32({rows, cols}, x), std::nullopt, {rows, cols}};
    tanh.config_path = custom ? cfg : "";
    CHECK(vpu_cycles(run_case(tanh)) == closed_form(act, 0));
    Case div_col{
        regs_fn::kDiv, make_f32({rows, cols}, x), make_f32({rows, 1}, {1, 2, 3}), {rows, cols}};
    div_col.bcast = regs_bcast::kCol;
    div_col.config_path = tanh.config_path;
    CHECK(vpu_cycles(run_case(div_col)) == closed_form(div, 0));
    Case sm{regs_fn::kOnlineSoftmax,
            make_f32({rows, cols}, x),
            make_f32({rows, 3}, std::vector<float>(9, 0.0F)),
            {rows, cols}};
    sm.config_path = tanh.config_path;
    CHECK(vpu_cycles(run_case(sm)) == closed_form(1 + ex, 2 * 7));
  }
  Case gelu{regs_fn::kGeluErf, make_f32({rows, cols}, x), std::nullopt, {rows, cols}};
  CHECK(vpu_cycles(run_case(gelu)) == closed_form(12, 0));
}

namespace {
// The error of running firmware chip_raw_desc with one VPU descriptor.
Error vpu_descriptor_error(const std::vector<std::uint32_t>& words) {
  sim::ChipJob job;
  job.firmware_name = "chip_raw_desc";
  job.firmware_elf = test::test_firmware("chip_raw_desc");
  job.max_cycles = 10'000'000;
  job.scalars.emplace_back("q", chip::regs::kQueueVpu);
  for (std::size_t i = 0; i < words.size(); ++i) {
    job.scalars.emplace_back(fmt::format("w{}", i), words[i]);
  }
  try {
    test::run_job(job);
  } catch (const Error& e) {
    return e;
  }
  FAIL("the run did not fail");
  return {ExitCode::kOk, ""};
}
}  // namespace

TEST_CASE("bad VPU descriptors fault the VPU queue with the cause", "[chip][vpu][faults]") {
  const std::uint32_t op = chip::regs::kOpVpuOp;
  const auto fn = [](regs_fn f) { return static_cast<std::uint32_t>(f); };
  struct Bad {
    std::vector<std::uint32_t> words;
    const char* message;
  };
  // Words: opcode, function, X, Y, Z (lo, hi), rows, cols, strides X, Y, Z, IMM, word 14.
  const Bad cases[] = {
      {{op, 29, 0, 0, 0, 0, 0, 0, 4, 4, 16, 16, 16}, "unknown VPU function 29"},
      {{op, fn(regs_fn::kExp), 0, 0, 0, 0, 0, 0, 4, 4, 16, 16, 16, 0, 1},
       "EXP: BCAST ROW needs a binary function (ADD, SUB, MUL, MAX, DIV)"},
      {{op, fn(regs_fn::kAdd), 0, 0, 0, 0, 0, 0, 4, 4, 16, 16, 16, 0, 7}, "ADD: unknown BCAST 7"},
      {{op, fn(regs_fn::kTanh), 0, 0, 0, 0, 0, 0, 4, 4, 16, 16, 16, 0, 3u << 4},
       "TANH: unknown X_FMT 3 (0 FP32, 1 BF16)"},
      {{op, fn(regs_fn::kDiv), 0, 0, 0, 0, 0, 0, 4, 4, 16, 2, 16, 0, 2},
       "DIV: column vector Y stride 2 < row bytes 4"},
      {{op, fn(regs_fn::kConvert) | (2u << 8), 0, 0, 0, 0, 0, 0, 4, 4, 16, 16, 16, 0, 1u << 8},
       "CONVERT: Z_FMT must be FP32 (0): OUT_FMT sets the output format"},
      {{op, fn(regs_fn::kOnlineSoftmax), 0, 0, 0, 0, 0, 0, 4, 4, 16, 8, 16},
       "ONLINE_SOFTMAX: state Y (m, s, alpha) stride 8 < row bytes 12"},
  };
  for (const Bad& b : cases) {
    INFO(b.message);
    const Error e = vpu_descriptor_error(b.words);
    CHECK(e.code() == ExitCode::kSimFault);
    CHECK_THAT(std::string(e.what()),
               Catch::Contains("engine fault: VPU queue, descriptor #0 (opcode 1) at cycle"));
    CHECK_THAT(std::string(e.what()), Catch::Contains(b.message));
  }
}
