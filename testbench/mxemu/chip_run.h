// `mxemu run` on the chip: firmware with tensors (--in/--out through the launch block), and the
// default demo. Used by cmd_run.cpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mxemu::cli {

struct ChipRunArgs {
  std::string firmware;
  std::string kernel;  // a bundled kernel instead of --firmware: gemm, linear_relu, quantize
  std::string config;
  std::uint64_t max_cycles = 0;  // 0: no limit
  std::string stats;
  std::string timeline;
  std::optional<int> gdb_port;
  bool cycle_accurate = false;
  std::vector<std::string> inputs;   // NAME=FILE.npy
  std::vector<std::string> outputs;  // NAME=FILE.npy
  std::vector<std::string> scalars;  // NAME=VALUE
};

// Runs firmware on the chip; returns the firmware's exit code. Console to stdout as it comes.
int run_firmware_on_chip(const ChipRunArgs& a);

// The default job: an MXFP8 GEMM of quantised random data on the default chip, with a summary
// (cycles, utilisation, bandwidth) and a check against the numerics library.
int chip_demo(std::uint64_t seed, const std::string& config);

}  // namespace mxemu::cli
