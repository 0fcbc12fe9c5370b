// Every vector-unit function through the VPU engine (firmware chip_vpu_ops), checked against
// FP32 arithmetic written out here, the vector-checked conversions, and exp's documented bound;
// and the VPU's bank-conflict timing against its closed form.
#include <fmt/core.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <bit>
#include <cmath>
#include <cstdlib>
#include <fstream>

#include "model/chip/regs.h"
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
