// `mxemu run` on one chip or a pod: firmware with tensors (--in/--out through the launch block),
// and the default demo. Used by cmd_run.cpp.
//
// Per-chip options take an optional chip prefix `C:` (`--firmware 1:fw.elf`, `--in 0:A=a.npy`);
// without it an option applies to every chip (--out and --gdb: to chip 0 of a single chip only).
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mxemu::cli {

// How mxemu's process status reports the firmware's exit code (docs/CORE.md, "Exit status").
enum class ExitCodeMode : std::uint8_t {
  kStatus,       // 0: every firmware passed; 1: a firmware reported failure (code printed)
  kPassthrough,  // the firmware's own code (the OS keeps its low 8 bits)
};

// The process status for "a firmware reported failure" (mxemu's own are 2, 3, 4, 70).
inline constexpr int kFirmwareFailedStatus = 1;

struct ChipRunArgs {
  std::vector<std::string> firmware;  // [C:]F.elf
  std::string kernel;  // a bundled kernel instead of --firmware (testbench/mxemu/CMakeLists.txt)
  std::string config;
  std::uint64_t max_cycles = 0;             // 0: no limit
  double max_seconds = 0;                   // wall-clock limit (0: none)
  std::uint32_t chips = 0;                  // a ring of N chips (0: the config's [pod] shape)
  std::string pod;                          // "XxYxZ": the pod's shape
  std::string topology;                     // ring, mesh, torus, twisted ("": the config's)
  std::vector<std::string> stacked_inputs;  // NAME=FILE.npy: leading axis = chips
  unsigned threads = 0;                     // 0: one per host core
  std::string stats;
  std::string timeline;
  std::string gdb;  // [C:]PORT
  bool cycle_accurate = false;
  std::vector<std::string> rtl;         // --rtl: mxu, datapath, vpu, off (none: the config's [rtl])
  std::string rtl_waves, trace_window;  // --rtl-waves, --trace-window
  std::string vcd, fst;                 // --vcd, --fst: the model's waveforms
  bool quiet = false;
  ExitCodeMode exit_mode = ExitCodeMode::kStatus;
  std::vector<std::string> inputs;               // [C:]NAME=FILE.npy
  std::vector<std::string> outputs;              // [C:]NAME=FILE.npy
  std::vector<std::string> scalars;              // [C:]NAME=VALUE
  const std::atomic<bool>* interrupt = nullptr;  // set on SIGINT (main.cpp)
  std::string partition = "auto";                // under mpirun: how chips go to ranks
  int crash_rank = -1;                           // under mpirun: a rank that aborts (a test)
};

// Runs firmware on the chip or pod; returns the process status. Console to stdout as it comes.
int run_firmware_on_chip(const ChipRunArgs& a);

// The default job: an MXFP8 GEMM of quantised random data on the default chip, with a summary
// (cycles, utilisation, bandwidth) and a check against the numerics library.
int chip_demo(std::uint64_t seed, const std::string& config);
// `mxemu run` with no arguments: a 2x2x2 pod runs an MXFP8 GEMM on every chip, then all-reduces
// the results; checks against the numerics library. 0 when every check passes.
int pod_demo(std::uint64_t seed, const std::string& config, unsigned threads);

// The one-line result of a firmware's exit (pass, or failure with its code), as printed on
// stderr; `who` is "" or "chip N: ".
std::string exit_line(const std::string& who, int code, std::uint64_t cycles,
                      std::uint64_t instret);

}  // namespace mxemu::cli
