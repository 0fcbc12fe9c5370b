#include "rtl/loop/verilated_rtl.h"

#include <verilated_fst_c.h>
#include <verilated_vcd_c.h>

#include <fmt/format.h>

#include "Vmxu_tile16.h"
#include "Vmxu_tile16_fst.h"
#include "Vmxu_tile4.h"
#include "Vmxu_tile4p1.h"
#include "Vmxu_tile8.h"
#include "Vmxu_tile8_fst.h"
#include "Vmxu_tile8_vcd.h"
#include "Vmxu_tile8p1.h"
#include "model/common/error.h"
#include "rtl/loop/convert_check.h"
#include "rtl/loop/datapath_check.h"
#include "rtl/loop/tile_check.h"
#ifdef MXEMU_HAVE_TILE32
#include "Vmxu_tile32.h"
#endif

namespace mxemu::rtl {

namespace {
// The tiles built (rtl/CMakeLists.txt): rows = cols, PE latency (NumPipeRegs + 1).
#ifdef MXEMU_HAVE_TILE32
constexpr const char* kTiles = "4x4 and 8x8 with pe_latency_cycles 1 or 2; 16x16 and 32x32 with 1";
#else
constexpr const char* kTiles = "4x4 and 8x8 with pe_latency_cycles 1 or 2; 16x16 with 1";
#endif
// The files a -DMXEMU_RTL_DIR build took from the user's directory (rtl/CMakeLists.txt).
#ifdef MXEMU_RTL_REPLACED
constexpr const char* kOrigin = " (your RTL: " MXEMU_RTL_REPLACED ")";
#else
constexpr const char* kOrigin = "";
#endif
}  // namespace

std::unique_ptr<mxu::FoldCheck> VerilatedRtl::mxu_check(const std::string& mode,
                                                        const mxu::SystolicConfig& cfg,
                                                        const std::string& where,
                                                        const chip::RtlWaves& waves) const {
  if (!waves.path.empty()) {
    // Waveforms: the tiles Verilated with tracing (rtl/CMakeLists.txt, mxemu_vl_trace).
    const bool fst = waves.path.ends_with(".fst");
    const bool square = mode == "tile" && cfg.rows == cfg.cols && cfg.pe_latency_cycles == 1;
    if (square && cfg.rows == 8 && fst) {
      return std::make_unique<TileCheck<Vmxu_tile8_fst, VerilatedFstC>>(cfg, where, kOrigin, waves);
    }
    if (square && cfg.rows == 8) {
      return std::make_unique<TileCheck<Vmxu_tile8_vcd, VerilatedVcdC>>(cfg, where, kOrigin, waves);
    }
    if (square && cfg.rows == 16 && fst) {
      return std::make_unique<TileCheck<Vmxu_tile16_fst, VerilatedFstC>>(cfg, where, kOrigin,
                                                                         waves);
    }
    throw_bad_input(
        "[rtl] waves: the tiles Verilated with tracing are 8x8 (VCD or FST) and 16x16 (FST), "
        "with pe_latency_cycles 1 (have [rtl] mxu = \"{}\" on a {}x{} array, pe_latency_cycles "
        "{}, waves {})",
        mode, cfg.rows, cfg.cols, cfg.pe_latency_cycles, waves.path);
  }
  if (mode == "datapath") return std::make_unique<DatapathCheck>(cfg, where, kOrigin);
  if (mode != "tile") throw_bad_input("[rtl] mxu = \"{}\" is not one of off, tile, datapath", mode);
  const int r = cfg.rows, c = cfg.cols, l = cfg.pe_latency_cycles;
  if (r == c) {
    if (r == 4 && l == 1) return std::make_unique<TileCheck<Vmxu_tile4>>(cfg, where, kOrigin);
    if (r == 4 && l == 2) return std::make_unique<TileCheck<Vmxu_tile4p1>>(cfg, where, kOrigin);
    if (r == 8 && l == 1) return std::make_unique<TileCheck<Vmxu_tile8>>(cfg, where, kOrigin);
    if (r == 8 && l == 2) return std::make_unique<TileCheck<Vmxu_tile8p1>>(cfg, where, kOrigin);
    if (r == 16 && l == 1) return std::make_unique<TileCheck<Vmxu_tile16>>(cfg, where, kOrigin);
#ifdef MXEMU_HAVE_TILE32
    if (r == 32 && l == 1) return std::make_unique<TileCheck<Vmxu_tile32>>(cfg, where, kOrigin);
#endif
  }
  throw_bad_input(
      "[rtl] mxu = \"tile\": this build has no Verilated mxu_tile of {}x{} with "
      "pe_latency_cycles {} (built: {}); set [mxu] rows, cols and pe_latency_cycles to one of "
      "them, or use [rtl] mxu = \"datapath\" (any shape)",
      r, c, l, kTiles);
}

std::unique_ptr<chip::ConvertCheck> VerilatedRtl::vpu_check(const std::string& mode,
                                                            const std::string& where) const {
  if (mode != "convert") throw_bad_input("[rtl] vpu = \"{}\" is not one of off, convert", mode);
  return std::make_unique<ConvertCheckRtl>(where, kOrigin);
}

std::string VerilatedRtl::available() const {
  return fmt::format(
      "mxu_tile {}; fp8_fused under every MAC (any shape); fp8_from_fp32 under the VPU's "
      "CONVERT{}",
      kTiles, kOrigin);
}

}  // namespace mxemu::rtl
