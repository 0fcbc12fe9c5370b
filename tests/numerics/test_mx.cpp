// MX block quantisation against closed forms: the scale exponent from the FP32 exponent field
// (floor) or the smallest power of two that fits (ceil, checked in exact FP64 arithmetic), and each
// element as the vector-checked FP32 -> FP8 conversion of the exactly scaled value.
#include <fmt/core.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "model/numerics/mx.h"

using namespace mxemu::num;

namespace {
// floor(log2 |x|) for finite nonzero FP32, from the bits.
int floor_log2(float x) {
  const std::uint32_t b = f32_bits(x) & 0x7FFFFFFFu;
  const int e = static_cast<int>(b >> 23);
  if (e != 0) return e - 127;
  return -149 + (31 - __builtin_clz(b));
}
}  // namespace

TEST_CASE("MX quantisation: scales and elements follow the closed forms", "[numerics][mx]") {
  std::mt19937_64 rng(42);
  for (const Fp8Format f : {Fp8Format::kE4M3, Fp8Format::kE5M2}) {
    const int emax = f == Fp8Format::kE4M3 ? 8 : 15;
    const double maxf = f == Fp8Format::kE4M3 ? 448.0 : 57344.0;
    for (const int block : {32, 128, 7}) {
      for (const MxScaleMode mode : {MxScaleMode::kFloor, MxScaleMode::kCeil}) {
        const std::size_t rows = 9, cols = static_cast<std::size_t>(block) * 3;
        std::vector<float> v(rows * cols);
        for (float& x : v) {
          // Magnitudes over a wide exponent range, including FP32 subnormals and exact zeros.
          const int e = static_cast<int>(rng() % 288) - 160;  // up to 2^127: finite
          const double m = 1.0 + static_cast<double>(rng() % 1000) / 1000.0;
          x = (rng() % 17 == 0) ? 0.0F : static_cast<float>(std::ldexp((rng() & 1) ? -m : m, e));
        }
        std::fill_n(v.begin() + static_cast<std::ptrdiff_t>(cols), cols, 0.0F);  // all-zero row
        std::vector<std::uint8_t> codes(rows * cols), scales(rows * cols / block);
        mx_quantize(v, rows, cols, block, f, mode, codes, scales);
        for (std::size_t r = 0; r < rows; ++r) {
          for (std::size_t j = 0; j < cols / block; ++j) {
            float amax = 0.0F;
            for (int i = 0; i < block; ++i)
              amax = std::max(amax, std::fabs(v[r * cols + j * block + i]));
            int e = 0;
            if (amax != 0.0F) {
              e = floor_log2(amax) - emax;
              if (mode == MxScaleMode::kCeil && static_cast<double>(amax) > std::ldexp(maxf, e))
                ++e;
              e = std::clamp(e, -127, 127);
            }
            const std::uint8_t s = scales[r * (cols / block) + j];
            INFO(fmt::format("fmt {} block {} mode {} row {} blk {} amax {}", format_name(f), block,
                             static_cast<int>(mode), r, j, amax));
            REQUIRE(s == e + 127);
            if (mode == MxScaleMode::kCeil) {
              // Nothing clips: |decoded| * X stays within max finite * X.
              CHECK(static_cast<double>(amax) <= std::ldexp(maxf, e));
            }
            for (int i = 0; i < block; ++i) {
              const float x = v[r * cols + j * block + i];
              // x / 2^e in FP64 is exact; RNE of it into FP8 via the conversion (vector-checked)
              // applied to an FP32 value when x/2^e is an FP32 normal, else through the
              // element's neighbours: check the code is a nearest FP8 value.
              const double q = std::ldexp(static_cast<double>(x), -e);
              const std::uint8_t c = codes[r * cols + j * block + i];
              const double got = decode(f, c);
              const double clipped = std::clamp(q, -maxf, maxf);
              // Nearest-ness: no FP8 value is strictly closer to the clipped target.
              double best = INFINITY;
              for (int k = 0; k < 256; ++k) {
                const double d = decode(f, static_cast<std::uint8_t>(k));
                if (std::isfinite(d)) best = std::min(best, std::fabs(d - clipped));
              }
              CHECK(std::fabs(got - clipped) == best);
              CHECK(std::signbit(got) == std::signbit(x));
            }
          }
        }
      }
    }
  }
}

TEST_CASE("MX quantisation: NaN/Inf blocks get the NaN scale; bad block sizes are refused",
          "[numerics][mx]") {
  std::vector<float> v(64, 1.0F);
  v[3] = std::numeric_limits<float>::infinity();
  v[40] = std::numeric_limits<float>::quiet_NaN();
  std::vector<std::uint8_t> codes(64), scales(2);
  mx_quantize(v, 1, 64, 32, Fp8Format::kE4M3, MxScaleMode::kFloor, codes, scales);
  CHECK(scales[0] == 0xFF);
  CHECK(scales[1] == 0xFF);
  CHECK_THROWS_WITH(mx_quantize(v, 1, 64, 48, Fp8Format::kE4M3, MxScaleMode::kFloor, codes, scales),
                    Catch::Contains("not a multiple of the block"));
}
