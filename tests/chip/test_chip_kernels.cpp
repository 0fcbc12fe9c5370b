// The bundled quantize and linear_relu kernels, checked against the numerics library:
// quantize = mx_quantize (floor scales, satfinite); linear_relu = mx_quantize(relu(A.B + bias))
// with the GEMM from the reference, the bias add and ReLU written out here in FP32.
#include <fmt/core.h>
#include <catch2/catch.hpp>

#include <cmath>

#include "model/numerics/mx.h"
#include "testbench/mxemu/bundled.h"
#include "tests/chip/chip_test_util.h"

using namespace mxemu;

TEST_CASE("quantize kernel equals mx_quantize", "[chip][kernels]") {
  struct Shape {
    std::size_t rows, cols;
    int block;
    std::uint32_t fmt;
  };
  // 6000 x 128 floats is 3 MiB: two chunks of the kernel's 2 MiB buffers.
  for (const Shape s : {Shape{3, 64, 32, 0}, Shape{77, 256, 128, 1}, Shape{6000, 128, 32, 0}}) {
    INFO(fmt::format("{}x{} block {} fmt {}", s.rows, s.cols, s.block, s.fmt));
    std::mt19937_64 rng(s.rows);
    std::vector<float> x(s.rows * s.cols);
    std::normal_distribution<float> d(0.0F, 1.0F);
    for (float& v : x) {
      v = std::ldexp(d(rng), static_cast<int>(rng() % 40) - 20);
      if (rng() % 997 == 0) v = NAN;
    }
    sim::ChipJob job;
    job.firmware_name = "quantize";
    job.firmware_elf = bundled::elf("quantize");
    job.inputs.emplace_back("X", make_f32({s.rows, s.cols}, x));
    const std::size_t nb = s.cols / static_cast<std::size_t>(s.block);
    job.outputs.emplace_back("Q",
                             make_u8({s.rows, s.cols}, std::vector<std::uint8_t>(s.rows * s.cols)));
    job.outputs.emplace_back("S", make_u8({s.rows, nb}, std::vector<std::uint8_t>(s.rows * nb)));
    job.read_back = {"Q", "S"};
    job.scalars = {{"block", static_cast<std::uint32_t>(s.block)}, {"fmt", s.fmt}};
    const sim::ChipJobResult r = test::run_job(job);
    REQUIRE(r.exit_code == 0);
    std::vector<std::uint8_t> q(s.rows * s.cols), sc(s.rows * nb);
    num::mx_quantize(x, s.rows, s.cols, s.block,
                     s.fmt ? num::Fp8Format::kE5M2 : num::Fp8Format::kE4M3,
                     num::MxScaleMode::kFloor, q, sc);
    CHECK(r.outputs.at("Q").data == q);
    CHECK(r.outputs.at("S").data == sc);
    CHECK(r.stats["engines"]["VPU"]["elements"].get<std::uint64_t>() == s.rows * s.cols);
  }
}

TEST_CASE("linear_relu kernel equals quantise(relu(A.B + bias))", "[chip][kernels]") {
  const std::size_t m = 70, k = 192, n = 160;
  const int block = 32, out_block = 32;
  std::mt19937_64 rng(11);
  sim::GemmJob g;
  g.a = make_u8({m, k}, test::random_codes(rng, m * k, false));
  g.b = make_u8({k, n}, test::random_codes(rng, k * n, false));
  g.sa = make_u8({m, k / block}, test::random_scales(rng, m * k / block, false));
  g.sb = make_u8({k / block, n}, test::random_scales(rng, k / block * n, false));
  g.block = block;
  std::vector<float> bias(n);
  std::normal_distribution<float> d(0.0F, 1000.0F);
  for (auto& b : bias) b = d(rng);

  sim::ChipJob job = sim::make_gemm_job(g, bundled::elf("linear_relu"));
  job.firmware_name = "linear_relu";
  job.outputs.clear();
  job.inputs.emplace_back("bias", make_f32({n}, bias));
  job.outputs.emplace_back("Y", make_u8({m, n}, std::vector<std::uint8_t>(m * n)));
  job.outputs.emplace_back(
      "SY", make_u8({m, n / out_block}, std::vector<std::uint8_t>(m * n / out_block)));
  job.read_back = {"Y", "SY"};
  job.scalars.emplace_back("out_fmt", 0);
  job.scalars.emplace_back("out_block", out_block);
  const sim::ChipJobResult r = test::run_job(job);
  REQUIRE(r.exit_code == 0);

  std::vector<float> c = test::reference(g);
  for (std::size_t i = 0; i < m; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      float v = c[i * n + j] + bias[j];
      v = std::isnan(v) ? NAN : (v > 0.0F ? v : 0.0F);
      c[i * n + j] = v;
    }
  }
  std::vector<std::uint8_t> y(m * n), sy(m * n / out_block);
  num::mx_quantize(c, m, n, out_block, num::Fp8Format::kE4M3, num::MxScaleMode::kFloor, y, sy);
  CHECK(r.outputs.at("Y").data == y);
  CHECK(r.outputs.at("SY").data == sy);
}
