// The Verilated converter harness (rtl/tb/fp8_cvt_lanes.sv: 32 lanes, each converting its FP32
// input to E4M3 and E5M2, satfinite and nonsat, and to UE8M0 toward zero and up, saturating and
// not) against the C++ reference (model/numerics, itself checked against ../shared/vectors), with
// the directed FP32 inputs that exercise every rounding decision of the converters.
#pragma once

#include <verilated.h>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "model/numerics/fp8.h"
#include "testbench/cosim/tile_harness.h"

namespace mxemu::cosim {

constexpr int kCvtLanes = 32;  // NumLanes of the Verilated fp8_cvt_lanes

// One input's eight conversions, in the order of kCvtNames.
using CvtOuts = std::array<std::uint8_t, 8>;
inline constexpr std::array<const char*, 8> kCvtNames = {
    "e4m3 satfinite", "e4m3 nonsat",     "e5m2 satfinite", "e5m2 nonsat",
    "ue8m0 rz sat",   "ue8m0 rz nonsat", "ue8m0 rp sat",   "ue8m0 rp nonsat"};

// The C++ reference of the eight conversions.
inline CvtOuts cvt_reference(std::uint32_t bits) {
  using num::Fp8Format;
  using num::SatMode;
  using num::Ue8m0Round;
  const float f = num::f32_from_bits(bits);
  return {num::encode(Fp8Format::kE4M3, f, SatMode::kSatFinite),
          num::encode(Fp8Format::kE4M3, f, SatMode::kNonSat),
          num::encode(Fp8Format::kE5M2, f, SatMode::kSatFinite),
          num::encode(Fp8Format::kE5M2, f, SatMode::kNonSat),
          num::encode_ue8m0(f, Ue8m0Round::kTowardZero, true),
          num::encode_ue8m0(f, Ue8m0Round::kTowardZero, false),
          num::encode_ue8m0(f, Ue8m0Round::kUp, true),
          num::encode_ue8m0(f, Ue8m0Round::kUp, false)};
}

// Converts up to kCvtLanes inputs per eval() through a Verilated fp8_cvt_lanes, in a context of
// its own (Verilator's default context may be a deleted one of an earlier model).
template <typename Top>
class Converter {
 public:
  Converter()
      : ctx_(std::make_unique<VerilatedContext>()),
        top_(std::make_unique<Top>(ctx_.get(), "cvt")) {}
  Converter(const Converter&) = delete;
  Converter& operator=(const Converter&) = delete;
  ~Converter() { top_->final(); }

  void run(const std::vector<std::uint32_t>& in, std::vector<CvtOuts>& out) {
    std::vector<std::uint32_t> words(kCvtLanes, 0);
    std::copy(in.begin(), in.end(), words.begin());
    put_words(top_->f32_i, words);
    top_->eval();
    out.resize(in.size());
    for (std::size_t l = 0; l < in.size(); ++l) {
      const int i = static_cast<int>(l);
      out[l] = {byte_of(top_->e4m3_sat_o, i),     byte_of(top_->e4m3_nonsat_o, i),
                byte_of(top_->e5m2_sat_o, i),     byte_of(top_->e5m2_nonsat_o, i),
                byte_of(top_->ue8m0_rz_sat_o, i), byte_of(top_->ue8m0_rz_nonsat_o, i),
                byte_of(top_->ue8m0_rp_sat_o, i), byte_of(top_->ue8m0_rp_nonsat_o, i)};
    }
  }

 private:
  template <typename Port>
  static std::uint8_t byte_of(const Port& p, int lane) {
    return static_cast<std::uint8_t>(p[static_cast<std::size_t>(lane / 4)] >> (8 * (lane % 4)));
  }
  std::unique_ptr<VerilatedContext> ctx_;
  std::unique_ptr<Top> top_;
};

// Directed FP32 inputs: for every finite code of both FP8 formats, its value, the exact tie with
// the next code up, the tie +- 1 FP32 ulp (a sticky bit on either side), and one FP32 ulp either
// side of the value; the overflow boundaries; every power of two from 2^-149 to 2^127 and its
// neighbours (the UE8M0 decisions); zeros, subnormals, the largest finite, Inf and NaN; each with
// both signs.
inline std::vector<std::uint32_t> converter_corners() {
  std::vector<std::uint32_t> v;
  auto add = [&](float x) {
    const std::uint32_t b = num::f32_bits(x);
    for (std::uint32_t s : {0u, 0x80000000u}) {
      v.push_back(b ^ s);
      v.push_back((b + 1) ^ s);
      if ((b & 0x7FFFFFFFu) != 0) v.push_back((b - 1) ^ s);
    }
  };
  for (num::Fp8Format f : {num::Fp8Format::kE4M3, num::Fp8Format::kE5M2}) {
    for (int c = 0; c < 0x7F; ++c) {
      const auto code = static_cast<std::uint8_t>(c);
      if (num::is_nan(f, code) || num::is_inf(f, code)) continue;
      const float x = num::decode(f, code);
      add(x);
      const auto up = static_cast<std::uint8_t>(c + 1);
      if (!num::is_nan(f, up) && !num::is_inf(f, up)) {
        add(0.5F * (x + num::decode(f, up)));  // exact: FP8 neighbours have few bits
      } else {
        // Beyond the largest finite: where the overflow rounding sits (half an FP8 ulp above).
        const float ulp = x - num::decode(f, static_cast<std::uint8_t>(c - 1));
        add(x + 0.5F * ulp);
        add(x + ulp);
        add(2.0F * x);
      }
    }
  }
  for (int e = -149; e <= 127; ++e) add(std::ldexp(1.0F, e));
  for (std::uint32_t b : {0x00000000u, 0x00000001u, 0x007FFFFFu, 0x00400000u, 0x7F7FFFFFu,
                          0x7F800000u, 0x7FC00000u, 0x7F800001u, 0x7FFFFFFFu}) {
    v.push_back(b);
    v.push_back(b | 0x80000000u);
  }
  return v;
}

struct CvtReport {
  std::uint64_t checked = 0, mismatch_count = 0;
  std::vector<std::string> mismatches;  // the first max_reports, in words
  bool ok() const { return mismatch_count == 0; }
};

// Runs `in` through the converter and compares every conversion with the C++ reference.
template <typename Top>
void check_converter(Converter<Top>& cvt, const std::vector<std::uint32_t>& in, CvtReport& rep,
                     std::size_t max_reports = 10) {
  std::vector<std::uint32_t> chunk;
  std::vector<CvtOuts> out;
  for (std::size_t base = 0; base < in.size(); base += kCvtLanes) {
    const std::size_t n = std::min<std::size_t>(kCvtLanes, in.size() - base);
    chunk.assign(in.begin() + static_cast<std::ptrdiff_t>(base),
                 in.begin() + static_cast<std::ptrdiff_t>(base + n));
    cvt.run(chunk, out);
    for (std::size_t l = 0; l < n; ++l) {
      const CvtOuts want = cvt_reference(chunk[l]);
      for (std::size_t k = 0; k < want.size(); ++k) {
        ++rep.checked;
        if (want[k] == out[l][k]) continue;
        if (rep.mismatches.size() < max_reports) {
          rep.mismatches.push_back(fmt::format("{}: input {:08x}: expected {:02x}, got {:02x}",
                                               kCvtNames[k], chunk[l], want[k], out[l][k]));
        }
        ++rep.mismatch_count;
      }
    }
  }
}

}  // namespace mxemu::cosim
