// RTL in the loop, as the chip sees it: a provider of checkers built from Verilated RTL
// (rtl/loop/, linked into the mxemu binary when the build has the RTL). The chip's config says
// what runs in the loop ([rtl] table, chip_config.h); the provider says what this build can run.
// The model itself never depends on Verilator.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "model/common/error.h"
#include "model/mxu/fold_check.h"
#include "model/mxu/systolic.h"
#include "model/numerics/fp8.h"

namespace mxemu::chip {

// A second implementation of the VPU's FP32 -> FP8 conversions (CONVERT to E4M3 / E5M2, and
// MX_QUANT's element codes and UE8M0 block scales) run on the model's inputs and outputs: throws
// mxemu::Error (kSimFault) at the first element whose code differs, naming `where`, the element,
// input, format, mode, expected and got.
class ConvertCheck {
 public:
  virtual ~ConvertCheck() = default;
  // One row: in[c] (FP32 bits) converted by the model to out[c]; `row` names it in messages.
  virtual void convert(num::Fp8Format fmt, num::SatMode sat, std::span<const std::uint32_t> in,
                       std::span<const std::uint8_t> out, std::uint64_t row) = 0;
  // One row of MX_QUANT: in[c] (FP32 bits) quantised by the model to the element codes codes[c]
  // (satfinite) and one UE8M0 scale per `block` elements, scales[c / block].
  virtual void mx_quant(num::Fp8Format elem, std::uint32_t block, std::span<const std::uint32_t> in,
                        std::span<const std::uint8_t> codes, std::span<const std::uint8_t> scales,
                        std::uint64_t row) = 0;
  virtual std::uint64_t conversions_checked() const = 0;
  virtual std::string description() const = 0;
};

// Waveforms of a checker's RTL ([rtl] waves): "" none, or the file (its extension, .vcd or
// .fst, picks the format) and the cycles [start, end) to record (end 0: to the end).
struct RtlWaves {
  std::string path;
  std::uint64_t start = 0, end = 0;
};

class RtlPlugins {
 public:
  virtual ~RtlPlugins() = default;
  // A checker for one MXU of array shape `cfg` in `mode` ([rtl] mxu: "tile" or "datapath");
  // `where` names the MXU in messages and waveforms ("pod.chip0.mxu1"). Throws mxemu::Error
  // (kBadInput) when the build has no such RTL, naming what it has.
  virtual std::unique_ptr<mxu::FoldCheck> mxu_check(const std::string& mode,
                                                    const mxu::SystolicConfig& cfg,
                                                    const std::string& where,
                                                    const RtlWaves& waves) const = 0;
  // A checker of the VPU's conversions in `mode` ([rtl] vpu: "convert"), named `where`.
  virtual std::unique_ptr<ConvertCheck> vpu_check(const std::string& mode,
                                                  const std::string& where) const = 0;
  // The RTL this build can put in the loop, in words (for messages and `mxemu --version`).
  virtual std::string available() const = 0;
};

// The provider for `[rtl] key = mode`: `rtl` itself, or bad input naming the key when the build
// has no Verilated RTL (rtl == nullptr).
inline const RtlPlugins& require_rtl(const RtlPlugins* rtl, const char* key,
                                     const std::string& mode) {
  if (rtl == nullptr) {
    throw_bad_input(
        "[rtl] {} = \"{}\": this build has no Verilated RTL (configured with "
        "MXEMU_ENABLE_RTL=OFF, or a library without it)",
        key, mode);
  }
  return *rtl;
}

}  // namespace mxemu::chip
