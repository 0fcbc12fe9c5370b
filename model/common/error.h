// Errors every part of mxemu reports. The message is user-facing and names the cause; the CLI
// prints it behind the fixed prefix "mxemu: error: " (tests grep for that prefix) and exits with
// the code the error carries.
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>
#include <utility>

namespace mxemu {

// Process exit codes of the mxemu CLI.
enum class ExitCode : int {
  kOk = 0,
  kBadInput = 2,       // malformed file, config, option, descriptor: nothing was simulated
  kSimFault = 3,       // the simulated machine faulted (trap with no handler, bad access, deadlock)
  kLimit = 4,          // a cycle limit (or the wall-clock limit) stopped the run
  kInterrupted = 130,  // the user interrupted the run (SIGINT), as shells report 128 + 2
  kInternal = 70,      // a bug in mxemu itself
};

class Error : public std::runtime_error {
 public:
  Error(ExitCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ExitCode code() const { return code_; }

 private:
  ExitCode code_;
};

// Bad input: a file, config value, option or descriptor that mxemu refuses.
template <typename... Args>
[[noreturn]] void throw_bad_input(fmt::format_string<Args...> f, Args&&... args) {
  throw Error(ExitCode::kBadInput, fmt::format(f, std::forward<Args>(args)...));
}

// A fault of the simulated machine (reported with pc / cycle by the caller).
template <typename... Args>
[[noreturn]] void throw_sim_fault(fmt::format_string<Args...> f, Args&&... args) {
  throw Error(ExitCode::kSimFault, fmt::format(f, std::forward<Args>(args)...));
}

inline constexpr const char* kErrorPrefix = "mxemu: error: ";

}  // namespace mxemu
