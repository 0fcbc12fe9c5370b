// The chip's configuration (DESIGN §2): every number is a named field with the "mx1" default.
// One TOML file describes a chip; `mx1_default_toml()` is the embedded default and documents
// every key. Unknown keys or wrong types are bad input naming the key.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace mxemu::chip {

struct MxuConfig {
  std::uint32_t count = 2;             // MXU engines
  std::uint32_t rows = 128;            // R: K per weight tile
  std::uint32_t cols = 128;            // C: N per weight tile
  std::uint64_t acc_bytes = 4u << 20;  // FP32 accumulators per MXU
  // Cycle-by-cycle mode steps the systolic array (model/mxu) instead of the closed form.
  bool cycle_accurate = false;
};

struct VmemConfig {
  std::uint64_t bytes = 32u << 20;
  std::uint32_t banks = 32;
  std::uint32_t bank_width_bytes = 8;  // one word per bank per cycle
};

struct VpuConfig {
  std::uint32_t lanes = 128;                // FP32 elements per cycle
  std::uint32_t latency_cycles = 8;         // pipeline depth added to every operation
  std::uint32_t exp_cycles = 4;             // cycles per lane-group for exp (iterative unit)
  std::uint32_t reduce_latency_cycles = 7;  // log2(lanes) adder tree on reductions
};

struct DmaConfig {
  std::uint32_t bytes_per_cycle = 2048;  // VMEM/ACC side bandwidth (about HBM peak)
  std::uint32_t setup_cycles = 16;       // per descriptor (address generation start-up)
  std::uint32_t hbm_request_bytes = 64;  // DMA splits HBM traffic into requests of this size
  // true: the DMA reaches HBM through its TLM-2.0 AT socket; false: straight into the
  // controller core behind it (same cycles, a little faster). Cycle-by-cycle mode always uses TLM.
  bool hbm_tlm = true;
};

struct QueueConfig {
  std::uint32_t depth = 64;  // descriptors per engine queue (a full queue stalls the core's push)
};

struct ChipConfig {
  std::string name = "mx1";
  std::uint64_t clock_hz = 1'000'000'000;
  MxuConfig mxu;
  VmemConfig vmem;
  VpuConfig vpu;
  DmaConfig dma;
  QueueConfig queue;
  std::string source = "embedded mx1";  // where the config came from (for messages)
  std::string toml_text;                // the whole TOML (the core and HBM sections read it too)

  double peak_macs_per_cycle() const {
    return static_cast<double>(mxu.count) * mxu.rows * mxu.cols;
  }
};

std::string_view mx1_default_toml();

// Parses TOML text (the default is layered under it: missing keys keep mx1 values).
ChipConfig parse_chip_config(std::string_view toml_text, const std::string& source);
ChipConfig load_chip_config(const std::string& path);  // "" -> embedded mx1

}  // namespace mxemu::chip
