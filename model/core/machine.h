// The control core's platform in plain C++: bus, RAM, launch block, console, system registers,
// timer, HTIF and the hart. The SystemC shell (core_module.h) and the chip model drive it; tests
// and benchmarks may also run it directly with run_plain().
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "model/core/bus.h"
#include "model/core/config.h"
#include "model/core/devices.h"
#include "model/core/elf_loader.h"
#include "model/core/hart.h"

namespace mxemu::core {

struct RunResult {
  StopReason reason = StopReason::kBudget;
  int exit_code = 0;
  std::uint64_t cycles = 0;
  std::uint64_t instret = 0;
};

class Machine {
 public:
  explicit Machine(const CoreConfig& cfg);
  Machine(const Machine&) = delete;
  Machine& operator=(const Machine&) = delete;

  // Loads an ELF image: maps its HTIF words, copies its segments, resets the hart to its entry.
  // More devices (the chip's) must be mapped on bus() before this call.
  void load(const ElfImage& image, const std::string& name);
  void load_file(const std::string& path);

  // Runs without SystemC until the firmware exits, faults, or `max_cycles` is reached.
  RunResult run_plain(std::uint64_t max_cycles);

  // Turns a stop into the outcome the user sees: returns the firmware's exit code for kExit;
  // throws mxemu::Error (kSimFault with pc and cycle, kLimit for the cycle limit) otherwise.
  int finish(StopReason reason, std::uint64_t max_cycles) const;

  const CoreConfig& config() const { return cfg_; }
  Bus& bus() { return bus_; }
  Hart& hart() { return hart_; }
  const Hart& hart() const { return hart_; }
  Console& console() { return console_; }
  Ram& ram() { return ram_; }
  Ram& launch_block() { return launch_; }
  const std::optional<std::uint32_t>& tohost() const { return tohost_; }
  const std::string& htif_error() const;

 private:
  CoreConfig cfg_;
  Bus bus_;
  Hart hart_;
  Ram ram_;
  Ram launch_;
  Console console_;
  SysRegs sysregs_;
  Timer timer_;
  std::unique_ptr<Htif> tohost_dev_, fromhost_dev_;
  std::optional<std::uint32_t> tohost_;
};

}  // namespace mxemu::core
