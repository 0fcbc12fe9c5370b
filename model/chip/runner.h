// Runs firmware on the chip with tensors: places inputs in HBM, writes the launch block
// (DESIGN §4, tools/regmap [launch]), runs to exit, reads outputs back by name. What `mxemu run
// --firmware ... --in ... --out ...` and `mxemu gemm` do, and what the tests drive.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "model/common/npy.h"

namespace mxemu::chip {

struct ChipJob {
  std::string firmware_name;               // for messages
  std::vector<std::uint8_t> firmware_elf;  // the ELF bytes
  std::string config_path;                 // "" = embedded mx1
  bool cycle_accurate = false;             // core lock-step + stepped MXU arrays
  std::uint64_t max_cycles = 20'000'000'000ull;
  std::vector<std::pair<std::string, NpyArray>> inputs;
  std::vector<std::pair<std::string, std::uint32_t>> scalars;
  // Outputs the runner allocates before the run (name, dtype, shape); the firmware may also
  // declare its own by adding launch-block entries.
  std::vector<std::pair<std::string, NpyArray>> outputs;
  std::vector<std::string> read_back;  // names to read back after the run
  bool record_timeline = false;
  std::function<void(char)> console_sink;
  std::optional<int> gdb_port;  // attach the GDB stub (0: any free port) before running
  std::function<void(std::uint16_t)> on_gdb_listen;
  std::string stats_path;  // statistics JSON, written also when the run fails
};

// Waiver: its implicit members only default-construct and move containers; clang-tidy 14 cannot
// see that the nlohmann::json and std::map moves do not throw.
struct ChipJobResult {  // NOLINT(bugprone-exception-escape)
  int exit_code = 0;
  std::uint64_t total_cycles = 0;
  nlohmann::json stats;
  std::map<std::string, NpyArray> outputs;
  std::string console;
  std::string timeline_json;
  double host_seconds = 0;
  bool killed = false;  // ended by the debugger
};

// Throws mxemu::Error: bad input (2) for configs, tensors that do not fit, bad names; a fault (3)
// for engine faults, deadlocks and core faults; a cycle limit (4).
ChipJobResult run_chip_job(const ChipJob& job);

// The gemm job of `mxemu gemm` (firmware: the bundled gemm kernel): checks shapes and dtypes
// before anything is simulated (bad input names the tensor and the mismatch).
struct GemmJob {
  NpyArray a, b;
  std::optional<NpyArray> sa, sb, c0;
  std::string fmt_a = "e4m3", fmt_b = "e4m3";
  int block = 32;
};
ChipJob make_gemm_job(const GemmJob& g, std::vector<std::uint8_t> gemm_elf);

}  // namespace mxemu::chip
