#include "testbench/mxemu/rtl_option.h"

#include "model/common/error.h"
#ifdef MXEMU_HAVE_RTL_LOOP
#include "rtl/loop/verilated_rtl.h"
#endif

namespace mxemu::cli {

const char* const kRtlOptionHelp =
    "RTL in the loop, comma-separated: mxu (each MXU's folds also through the Verilated mxu_tile "
    "of the array's shape: values and cycles checked), datapath (every MAC through the Verilated "
    "fp8_fused), vpu (the VPU's CONVERT through the Verilated fp8_from_fp32), off; default: the "
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

std::unique_ptr<chip::RtlPlugins> make_rtl_plugins() {
#ifdef MXEMU_HAVE_RTL_LOOP
  return std::make_unique<rtl::VerilatedRtl>();
#else
  return nullptr;
#endif
}

}  // namespace mxemu::cli
