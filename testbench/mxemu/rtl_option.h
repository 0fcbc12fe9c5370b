// `--rtl MODE[,MODE]` of `mxemu run` and `mxemu gemm`: RTL in the chip's loop (docs/RTL.md "RTL
// in the chip"). MODE: mxu (each MXU's folds through a Verilated mxu_tile of the array's shape,
// values and cycles checked), datapath (every MAC through the Verilated fp8_fused), vpu (the
// VPU's CONVERT and MX_QUANT through the Verilated fp8_from_fp32 and ue8m0_from_fp32), off
// (none); no option keeps the config's [rtl] table.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "model/chip/rtl_plugins.h"
#include "model/sim/sim_config.h"

namespace mxemu::cli {

// The option's help text.
extern const char* const kRtlOptionHelp;

// The option's values.
const std::vector<std::string>& rtl_modes();

// Sets cfg's [rtl] from `modes` (none: leaves it); throws bad input for an unknown mode or for
// both mxu and datapath.
void apply_rtl_option(const std::vector<std::string>& modes, sim::SimConfig& cfg);

// `--rtl-waves FILE` and `--trace-window START:END` (END empty: to the end): cfg's [rtl] waves,
// and the window of both waveforms, the RTL tile's ([rtl] waves_start, waves_end) and the
// model's ([waves] start, end) (empty strings leave them).
extern const char* const kRtlWavesHelp;
extern const char* const kTraceWindowHelp;
void apply_rtl_waves(const std::string& file, const std::string& window, sim::SimConfig& cfg);

// `--vcd FILE` / `--fst FILE`: the model's waveforms, cfg's [waves] file (empty strings leave
// it); throws bad input for both at once or a file of the other kind.
extern const char* const kVcdHelp;
extern const char* const kFstHelp;
void apply_model_waves(const std::string& vcd, const std::string& fst, sim::SimConfig& cfg);

// This build's Verilated RTL for the loop (nullptr in a build without RTL).
std::unique_ptr<chip::RtlPlugins> make_rtl_plugins();

}  // namespace mxemu::cli
