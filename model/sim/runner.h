// Runs firmware on one chip or on every chip of a pod, with tensors: places each chip's inputs in
// its HBM, writes its launch block (DESIGN §4, tools/regmap [launch]: identity header and tensor
// table), runs the simulation (model/sim's Simulation) to its end, reads outputs back by name.
// What `mxemu run` and `mxemu gemm` do, and what the tests drive.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "model/chip/chip.h"
#include "model/common/npy.h"
#include "model/sim/sim_config.h"
#include "model/sim/transport.h"

namespace mxemu::sim {

// What one chip runs: its firmware and tensors.
struct ChipProgram {
  std::string firmware_name;               // for messages
  std::vector<std::uint8_t> firmware_elf;  // the ELF bytes
  std::vector<std::pair<std::string, NpyArray>> inputs;
  std::vector<std::pair<std::string, std::uint32_t>> scalars;
  // Outputs the runner allocates before the run (name, dtype, shape); the firmware may also
  // declare its own by adding launch-block entries.
  std::vector<std::pair<std::string, NpyArray>> outputs;
  std::vector<std::string> read_back;  // names to read back after the run
  std::function<void(char)> console_sink;
};

// How a run goes, for every chip of it.
struct RunSettings {
  std::string config_path;          // "" = the defaults (mx1), unless `config` is given
  std::optional<SimConfig> config;  // an already loaded configuration (wins over config_path)
  bool cycle_accurate = false;      // core lock-step + stepped MXU arrays
  std::uint64_t max_cycles = 20'000'000'000ull;
  // Wall-clock limit in host seconds (0: none; ignored while a debugger is attached): chips still
  // running when it is reached end with the cycle-limit status.
  double max_seconds = 0;
  unsigned threads = 0;  // host threads shared by all chips (0: one per host core)
  bool record_timeline = false;
  std::optional<int> gdb_port;  // attach the GDB stub (0: any free port) before running
  std::uint32_t gdb_chip = 0;   // the chip the stub debugs
  std::function<void(std::uint16_t)> on_gdb_listen;
  std::string stats_path;  // statistics JSON, written also when the run fails
  // The timeline (Chrome/Perfetto JSON), written on every ending (exit, fault, deadlock, limit,
  // interrupt); implies record_timeline.
  std::string timeline_path;
  bool progress = false;                         // a progress line on stderr (terminals only)
  const std::atomic<bool>* interrupt = nullptr;  // set asynchronously (SIGINT): the run ends
  // The Verilated RTL the config's [rtl] table may put in the loop (rtl/loop; nullptr: none).
  const chip::RtlPlugins* rtl = nullptr;
  // A distributed pod (docs/DISTRIBUTED.md): the ranks' transport (nullptr: one process), how
  // the chips are shared out (model/sim/partition.h), and a test of failure handling (this rank
  // aborts after its tenth window; -1: none).
  PodTransport* transport = nullptr;
  std::string partition = "auto";
  int crash_rank = -1;
};

// A single-chip job (the common case): one program and its settings.
struct ChipJob : ChipProgram, RunSettings {};

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
  chip::ChipEnd end;
};

// A pod job: one program for every chip (the same program on all when only one is given; each
// chip reads its index from the launch block), the pod's shape from the config's [pod] table or,
// when `chips` > 0, a ring of that many chips.
struct PodJob : RunSettings {
  std::vector<ChipProgram> programs;
  std::uint32_t chips = 0;
};

struct PodResult {  // NOLINT(bugprone-exception-escape): as ChipJobResult
  std::vector<ChipJobResult> chips;
  nlohmann::json stats;       // {"pod": {...}, "chips": [per chip]}
  std::string timeline_json;  // every chip's events, one process per chip
  std::optional<std::uint32_t> first_failure;
  double host_seconds = 0;
  // Distributed: this process's rank and the partition. Rank 0 holds every chip's result, as
  // one process would; another rank's chips carry only their ends, cycles and exit codes.
  std::uint32_t rank = 0;
  std::string partition;
};

// Runs every chip to its end. Throws mxemu::Error only for bad input found before the
// simulation (configs, tensors that do not fit, bad names); a chip's fault, deadlock or cycle
// limit is its ChipEnd (first_failure names the first chip that failed).
PodResult run_pod_job(const PodJob& job);

// One chip. Throws mxemu::Error: bad input (2) for configs, tensors that do not fit, bad names;
// a fault (3) for engine faults, deadlocks and core faults; a cycle limit (4).
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

}  // namespace mxemu::sim
