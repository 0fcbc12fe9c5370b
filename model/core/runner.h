// Runs one firmware ELF on the control core to completion under SystemC: what `mxemu run
// --firmware` does. Call inside sc_main (or a test with a fresh sc_simcontext); it elaborates a
// CoreModule, runs sc_start() and returns when the core is done.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "model/core/config.h"
#include "model/core/hart.h"

namespace mxemu::core {

inline constexpr std::uint64_t kDefaultMaxCycles = 10'000'000'000ull;  // 10 s at 1 GHz

struct RunOptions {
  std::string firmware;  // ELF path
  CoreConfig config;
  std::uint64_t max_cycles = kDefaultMaxCycles;  // 0: no limit
  std::optional<std::string> stats_path;         // JSON statistics
  std::optional<int> gdb_port;                   // attach the GDB stub (0: any free port)
  // Console bytes (default: none; the CLI prints them to stdout as they come).
  std::function<void(char)> console_sink;
  // Called with the stub's port once it listens (the CLI prints it).
  std::function<void(std::uint16_t)> on_gdb_listen;
};

struct RunReport {
  int exit_code = 0;  // the firmware's exit code (HTIF)
  std::uint64_t cycles = 0;
  std::uint64_t instret = 0;
  std::uint64_t stall_cycles = 0;
  std::uint64_t sleep_cycles = 0;
  std::uint64_t traps = 0;
  std::uint64_t interrupts = 0;
  std::uint64_t sim_time_ps = 0;  // SystemC time at the end
  double host_seconds = 0;
  std::string console;
  bool killed = false;  // ended by the debugger
};

// Throws mxemu::Error: bad input (2) for the ELF/config, a fault (3) with pc and cycle, or the
// cycle limit (4). Statistics are written before a fault or limit error is thrown.
RunReport run_firmware(const RunOptions& options);

}  // namespace mxemu::core
