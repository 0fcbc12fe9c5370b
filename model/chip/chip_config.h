// The chip's configuration (DESIGN §2): every number is a named field whose initialiser is the
// "mx1" default (the only place defaults live). `visit` describes the TOML tables for the one
// config reader and writer (model/common/config.h): key, range, documentation. Whole-file loading
// (chip, [core] and [hbm] tables together) is model/sim's SimConfig.
#pragma once

#include <cstdint>
#include <string>

#include "model/chip/regs.h"
#include "model/common/clock.h"

namespace mxemu::chip {

struct MxuConfig {
  std::uint32_t count = 2;             // MXU engines
  std::uint32_t rows = 128;            // R: K per weight tile
  std::uint32_t cols = 128;            // C: N per weight tile
  std::uint64_t acc_bytes = 4u << 20;  // FP32 accumulators per MXU
  // L: partial-sum latency of one PE in cycles (the RTL's NumPipeRegs + 1); the array's outputs
  // leave rows * L cycles after their row entered (docs/TIMING.md).
  std::uint32_t pe_latency_cycles = 1;
  // Cycle-by-cycle mode steps the systolic array (model/mxu) instead of the closed form.
  bool cycle_accurate = false;

  template <typename V>
  void visit(V& v) {
    v.field("count", count, 1, regs::kMaxMxu, "MXU engines");
    v.field("rows", rows, 1, 1024, "systolic rows (K per weight tile)");
    v.field("cols", cols, 1, 1024, "systolic columns (N per weight tile)");
    v.field("acc_bytes", acc_bytes, 4096, regs::space::kAccStride, "FP32 accumulators per MXU");
    v.field("pe_latency_cycles", pe_latency_cycles, 1, 16,
            "partial-sum latency of one PE (the RTL's NumPipeRegs + 1)");
    v.field("cycle_accurate", cycle_accurate,
            "true: step the array cycle by cycle (same results and cycles, slower)");
  }
};

struct VmemConfig {
  std::uint64_t bytes = 32u << 20;
  std::uint32_t banks = 32;
  std::uint32_t bank_width_bytes = 8;  // one word per bank per cycle

  template <typename V>
  void visit(V& v) {
    v.field("bytes", bytes, 4096, regs::space::kAcc, "scratchpad bytes");
    v.field("banks", banks, 1, 1024, "banks");
    v.field("bank_width_bytes", bank_width_bytes, 1, 1024, "bytes per bank per cycle");
  }
};

struct VpuConfig {
  std::uint32_t lanes = 128;                // FP32 elements per cycle
  std::uint32_t latency_cycles = 8;         // pipeline depth added to every operation
  std::uint32_t exp_cycles = 4;             // cycles per lane-group for exp (iterative unit)
  std::uint32_t reduce_latency_cycles = 7;  // log2(lanes) adder tree on reductions
  // Cycles per lane group of the iterative functions (docs/VPU.md): each lane group's VMEM cycles
  // are multiplied by these. Divide and square root share one iterative unit; tanh, sigmoid, SiLU
  // and tanh-GELU are an exp followed by a divide; erf-GELU adds a longer polynomial.
  std::uint32_t div_cycles = 4;         // RECIP, DIV, RSQRT
  std::uint32_t activation_cycles = 8;  // TANH, SIGMOID, SILU, GELU_TANH (exp + divide)
  std::uint32_t gelu_erf_cycles = 12;   // GELU_ERF

  template <typename V>
  void visit(V& v) {
    v.field("lanes", lanes, 1, 65536, "FP32 elements per cycle");
    v.field("latency_cycles", latency_cycles, 0, 100000, "pipeline depth of every operation");
    v.field("exp_cycles", exp_cycles, 1, 1000,
            "cycles per lane group for exp (ONLINE_SOFTMAX: 1 + exp_cycles)");
    v.field("reduce_latency_cycles", reduce_latency_cycles, 0, 100000,
            "adder-tree latency of reductions");
    v.field("div_cycles", div_cycles, 1, 1000, "cycles per lane group for RECIP, DIV, RSQRT");
    v.field("activation_cycles", activation_cycles, 1, 1000,
            "cycles per lane group for TANH, SIGMOID, SILU, GELU_TANH");
    v.field("gelu_erf_cycles", gelu_erf_cycles, 1, 1000, "cycles per lane group for GELU_ERF");
  }
};

struct DmaConfig {
  std::uint32_t bytes_per_cycle = 2048;  // VMEM/ACC side bandwidth (about HBM peak)
  std::uint32_t setup_cycles = 16;       // per descriptor (address generation start-up)
  std::uint32_t hbm_request_bytes = 64;  // DMA splits HBM traffic into requests of this size
  // true: the DMA reaches HBM through its TLM-2.0 AT socket; false: straight into the
  // controller core behind it (same cycles, a little faster). Cycle-by-cycle mode always uses TLM.
  bool hbm_tlm = true;

  template <typename V>
  void visit(V& v) {
    v.field("bytes_per_cycle", bytes_per_cycle, 1, 1u << 20,
            "on-chip side bandwidth (about HBM3 x4's 3.3 TB/s)");
    v.field("setup_cycles", setup_cycles, 0, 1u << 20, "per descriptor");
    v.field("hbm_request_bytes", hbm_request_bytes, 32, 4096, "HBM request size (power of two)");
    v.check((hbm_request_bytes & (hbm_request_bytes - 1)) == 0, "hbm_request_bytes",
            "= " + std::to_string(hbm_request_bytes) + " is not a power of two");
    v.field("hbm_tlm", hbm_tlm, "DMA -> HBM over TLM-2.0 AT; false: direct (same cycles)");
  }
};

struct QueueConfig {
  std::uint32_t depth = 64;  // descriptors per engine queue (a full queue stalls the core's push)
  // A LOOP's sequencer (docs/CHIP.md "LOOP"): cycles between two descriptors it generates.
  std::uint32_t loop_issue_cycles = 1;

  template <typename V>
  void visit(V& v) {
    v.field("depth", depth, 1, 1u << 16, "descriptors per engine queue");
    v.field("loop_issue_cycles", loop_issue_cycles, 0, 1000,
            "cycles between two descriptors a LOOP generates");
  }
};

// DESIGN §3: the MX block size (elements along K sharing one UE8M0 scale). Kernels read it from
// the launch block ("mx_block") and the MX_BLOCK register; `mxemu gemm --block` overrides it.
struct MxConfig {
  std::uint32_t block = 32;

  template <typename V>
  void visit(V& v) {
    v.field("block", block, 1, 4096, "MX block size along K (32: OCP MX; 128: DeepSeek-style)");
  }
};

// RTL in the loop (docs/RTL.md "RTL in the chip"): Verilated RTL run in lock step with the model,
// every result compared bit for bit; the first mismatch ends the run with a fault.
struct RtlConfig {
  // "off"; "tile": each MXU's folds also run through a Verilated mxu_tile of the array's shape
  // (values and cycles checked; shapes among those built); "datapath": every MAC of every fold
  // through the Verilated fp8_fused (values checked; any shape, 128 x 128 included).
  std::string mxu = "off";
  // "off"; "convert": every element of the VPU's CONVERT to E4M3 / E5M2 also through the Verilated
  // fp8_from_fp32 (codes checked).
  std::string vpu = "off";
  // Waveforms of the plugged-in tile (mxu = "tile" on an 8x8 array with PE latency 1, the shape
  // Verilated with tracing): "" none, or FILE.vcd / FILE.fst, written per MXU as
  // FILE.<chip>.<mxu>.vcd (e.g. t.pod.chip0.mxu1.vcd); cycles [waves_start, waves_end) only
  // (waves_end 0: to the end of the run).
  std::string waves;
  std::uint64_t waves_start = 0, waves_end = 0;

  template <typename V>
  void visit(V& v) {
    v.field("mxu", mxu,
            "RTL in the MXU loop: off, tile (Verilated mxu_tile) or datapath (fp8_fused)");
    v.check(mxu == "off" || mxu == "tile" || mxu == "datapath", "mxu",
            "= \"" + mxu + "\" is not one of off, tile, datapath");
    v.field("vpu", vpu, "RTL in the VPU loop: off, convert (Verilated fp8_from_fp32)");
    v.check(vpu == "off" || vpu == "convert", "vpu",
            "= \"" + vpu + "\" is not one of off, convert");
    v.field("waves", waves,
            "waveforms of the plugged-in tile: \"\" none, or FILE.vcd / FILE.fst (one per MXU: "
            "FILE.<chip>.<mxu>.vcd)");
    v.check(waves.empty() || waves.ends_with(".vcd") || waves.ends_with(".fst"), "waves",
            "= \"" + waves + "\" must end in .vcd or .fst");
    v.field("waves_start", waves_start, 0, std::uint64_t{1} << 50,
            "first cycle the waveforms record");
    v.field("waves_end", waves_end, 0, std::uint64_t{1} << 50,
            "cycle the waveforms stop recording before (0: the end of the run)");
    v.check(waves_end == 0 || waves_end > waves_start, "waves_end",
            "= " + std::to_string(waves_end) + " must be above waves_start (" +
                std::to_string(waves_start) + ") or 0");
  }
  bool any() const { return mxu != "off" || vpu != "off"; }
};

// Waveforms of the model's own state (docs/SIM.md "Waveforms"): every chip's engines, queues,
// semaphores, MXU weight banks, HBM commands per bank, the core's pc, as signals under the chip's
// scope. One file for the whole pod, written at the end of the run (on every ending, as the
// statistics), holding the cycles [start, end) only.
struct WavesConfig {
  std::string file;  // "" none, FILE.vcd or FILE.fst
  std::uint64_t start = 0, end = 0;

  template <typename V>
  void visit(V& v) {
    v.field("file", file, "waveforms of the model: \"\" none, or FILE.vcd / FILE.fst");
    v.check(file.empty() || file.ends_with(".vcd") || file.ends_with(".fst"), "file",
            "= \"" + file + "\" must end in .vcd or .fst");
    v.field("start", start, 0, std::uint64_t{1} << 50, "first cycle the waveforms record");
    v.field("end", end, 0, std::uint64_t{1} << 50,
            "cycle the waveforms stop recording before (0: the end of the run)");
    v.check(
        end == 0 || end > start, "end",
        "= " + std::to_string(end) + " must be above start (" + std::to_string(start) + ") or 0");
  }
  bool on() const { return !file.empty(); }
};

struct ChipConfig {
  std::string name = "mx1";
  std::uint64_t clock_hz = 1'000'000'000;
  // Deadlock watchdog: a chip whose core waits (fence, full queue, WFI with no timer) while no
  // engine has work in flight, with no retired instruction and no engine progress for this many
  // cycles, is reported as deadlocked.
  std::uint64_t watchdog_cycles = 1'000'000;
  MxConfig mx;
  MxuConfig mxu;
  VmemConfig vmem;
  VpuConfig vpu;
  DmaConfig dma;
  QueueConfig queue;
  RtlConfig rtl;
  WavesConfig waves;

  Clock clock() const { return Clock::from_hz(clock_hz); }
  double peak_macs_per_cycle() const {
    return static_cast<double>(mxu.count) * mxu.rows * mxu.cols;
  }

  template <typename V>
  void visit(V& v) {
    v.table("chip", "The chip (DESIGN §2): one clock for core, MXU, VPU and DMA", [&] {
      v.field("name", name, "chip model name");
      v.check(!name.empty() && name.size() <= 64, "name", "must have 1 to 64 characters");
      v.field("clock_hz", clock_hz, Clock::kMinHz, Clock::kMaxHz,
              "core, MXU, VPU and DMA clock (period: whole picoseconds)");
      v.field("watchdog_cycles", watchdog_cycles, 1000, 1'000'000'000'000ull,
              "deadlock watchdog: cycles without progress while waiting");
    });
    v.table("mx", "MX numerics (DESIGN §3)", [&] { mx.visit(v); });
    v.table("mxu", "Matrix units (weight-stationary systolic arrays)", [&] { mxu.visit(v); });
    v.table("vmem", "Scratchpad SRAM", [&] {
      vmem.visit(v);
      // The MXU reads one activation row (up to `rows` bytes) from VMEM per cycle; the model
      // takes that read to be conflict-free, so VMEM must deliver at least that much per cycle.
      v.check(std::uint64_t{vmem.banks} * vmem.bank_width_bytes >= mxu.rows, "banks",
              "x bank_width_bytes = " + std::to_string(vmem.banks) + " x " +
                  std::to_string(vmem.bank_width_bytes) +
                  " bytes a cycle is less than an MXU activation row (" + std::to_string(mxu.rows) +
                  " bytes): raise banks or bank_width_bytes");
    });
    v.table("vpu", "Vector unit", [&] { vpu.visit(v); });
    v.table("dma", "DMA engine", [&] { dma.visit(v); });
    v.table("queue", "Descriptor queues", [&] { queue.visit(v); });
    v.table("rtl", "RTL in the loop (Verilated RTL checked against the model)",
            [&] { rtl.visit(v); });
    v.table("waves", "Waveforms of the model's state (docs/SIM.md)", [&] { waves.visit(v); });
  }
};

}  // namespace mxemu::chip
