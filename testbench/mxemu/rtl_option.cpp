#include "testbench/mxemu/rtl_option.h"

#include "model/common/error.h"
#include "testbench/mxemu/options.h"
#ifdef MXEMU_HAVE_RTL_LOOP
#include "rtl/loop/verilated_rtl.h"
#endif

namespace mxemu::cli {

const char* const kRtlOptionHelp =
    "RTL in the loop, comma-separated: mxu (each MXU's folds also through the Verilated mxu_tile "
    "of the array's shape: values and cycles checked), datapath (every MAC through the Verilated "
    "fp8_fused), vpu (the VPU's CONVERT and MX_QUANT through the Verilated fp8_from_fp32 and "
    "ue8m0_from_fp32), off; default: the "
    "config's [rtl] table";

const std::vector<std::string>& rtl_modes() {
  static const std::vector<std::string> modes = {"mxu", "datapath", "vpu", "off"};
  return modes;
}

void apply_rtl_option(const std::vector<std::string>& modes, sim::SimConfig& cfg) {
  if (modes.empty()) return;
  chip::RtlConfig r;  // every unit off unless named
  for (const std::string& m : modes) {
    if (m == "mxu" || m == "datapath") {
      if (r.mxu != "off") throw_bad_input("--rtl: give mxu or datapath, not both");
      r.mxu = m == "mxu" ? "tile" : "datapath";
    } else if (m == "vpu") {
      r.vpu = "convert";
    } else if (m != "off") {
      throw_bad_input("--rtl {}: expected mxu, datapath, vpu or off", m);
    }
  }
  cfg.chip.rtl = r;
}

const char* const kRtlWavesHelp =
    "Waveforms of the plugged-in tile (--rtl mxu on an 8x8 array: FILE.vcd or FILE.fst; on a "
    "16x16 array: FILE.fst), one per MXU as FILE.<chip>.<mxu>.vcd (.fst)";
const char* const kTraceWindowHelp =
    "START:END: record waveforms (--vcd/--fst and --rtl-waves) for cycles START to END-1 only "
    "(END empty: to the end)";
const char* const kVcdHelp =
    "Write the model's waveforms (engines, queues, semaphores, MXU banks, HBM commands, core pc; "
    "every chip under its scope; time in chip cycles) to FILE.vcd";
const char* const kFstHelp = "As --vcd, in GTKWave's compressed FST format (FILE.fst)";

void apply_model_waves(const std::string& vcd, const std::string& fst, sim::SimConfig& cfg) {
  if (!vcd.empty() && !fst.empty()) throw_bad_input("--vcd and --fst: give one of them");
  if (!vcd.empty()) {
    if (!vcd.ends_with(".vcd")) throw_bad_input("--vcd {}: the file must end in .vcd", vcd);
    cfg.chip.waves.file = vcd;
  }
  if (!fst.empty()) {
    if (!fst.ends_with(".fst")) throw_bad_input("--fst {}: the file must end in .fst", fst);
    cfg.chip.waves.file = fst;
  }
}

void apply_rtl_waves(const std::string& file, const std::string& window, sim::SimConfig& cfg) {
  if (!file.empty()) {
    if (!file.ends_with(".vcd") && !file.ends_with(".fst"))
      throw_bad_input("--rtl-waves {}: the file must end in .vcd or .fst", file);
    cfg.chip.rtl.waves = file;
  }
  if (window.empty()) return;
  const std::size_t colon = window.find(':');
  if (colon == std::string::npos)
    throw_bad_input("--trace-window {}: expected START:END (cycles)", window);
  const std::uint64_t start =
      parse_uint_option(window.substr(0, colon), "--trace-window START", 0, std::uint64_t{1} << 50);
  const std::string end_text = window.substr(colon + 1);
  const std::uint64_t end = end_text.empty() ? 0
                                             : parse_uint_option(end_text, "--trace-window END", 1,
                                                                 std::uint64_t{1} << 50);
  if (end != 0 && end <= start)
    throw_bad_input("--trace-window {}: END must be above START", window);
  cfg.chip.rtl.waves_start = start;
  cfg.chip.rtl.waves_end = end;
  cfg.chip.waves.start = start;
  cfg.chip.waves.end = end;
}

std::unique_ptr<chip::RtlPlugins> make_rtl_plugins() {
#ifdef MXEMU_HAVE_RTL_LOOP
  return std::make_unique<rtl::VerilatedRtl>();
#else
  return nullptr;
#endif
}

}  // namespace mxemu::cli
