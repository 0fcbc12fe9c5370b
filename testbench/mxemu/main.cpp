// mxemu: the command-line front end. Each subcommand lives in its own cmd_*.cpp and registers
// itself here; errors surface as mxemu::Error and leave with the code the error carries.
#include <fmt/core.h>
#include <CLI/CLI.hpp>
#include <systemc>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <vector>

#include "model/common/error.h"
#include "testbench/mxemu/commands.h"

namespace {
// The one piece of mutable process-wide state mxemu has: what a signal handler may touch.
// NOLINTNEXTLINE(cppcoreguidelines-avoid-non-const-global-variables): a signal handler sets it
std::atomic<bool> g_interrupted{false};
extern "C" void on_sigint(int /*signal*/) {
  if (g_interrupted.exchange(true)) std::_Exit(130);  // a second Ctrl-C: leave at once
}
}  // namespace

const std::atomic<bool>* mxemu::cli::interrupt_flag() {
  return &g_interrupted;
}

int sc_main(int argc, char* argv[]) {
  // sc_stop() is how a run ends, not news: keep SystemC's informational lines ("Simulation
  // stopped by user.") off the console; warnings and errors still show.
  sc_core::sc_report_handler::set_actions("/OSCI/SystemC", sc_core::SC_INFO,
                                          sc_core::SC_DO_NOTHING);
  CLI::App app{"mxemu: cycle-level emulator of an FP8 AI accelerator"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "mxemu 0.1.0");

  // The action of the subcommand that was parsed; each register_* sets it through its callback.
  std::function<int()> action;
  mxemu::cli::register_run_command(app, action);
  // (Further subcommands register here, one line each.)
  mxemu::cli::register_hbm_command(app, action);
  mxemu::cli::register_gemm_command(app, action);
  mxemu::cli::register_config_command(app, action);
  mxemu::cli::register_report_command(app, action);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    // CLI11 returns 0 for --help/--version; any real parse error is bad input.
    return rc == 0 ? 0 : static_cast<int>(mxemu::ExitCode::kBadInput);
  }
  std::signal(SIGINT, on_sigint);
  try {
    return action ? action() : 0;
  } catch (const mxemu::Error& e) {
    std::fflush(stdout);
    fmt::print(stderr, "{}{}\n", mxemu::kErrorPrefix, e.what());
    return static_cast<int>(e.code());
  } catch (const std::exception& e) {
    std::fflush(stdout);
    fmt::print(stderr, "{}internal: {}\n", mxemu::kErrorPrefix, e.what());
    return static_cast<int>(mxemu::ExitCode::kInternal);
  }
}

// Our own entry point: keeps SystemC's copyright banner off stderr (unless the user's environment
// says otherwise), then hands over to SystemC, which calls sc_main.
int main(int argc, char* argv[]) {
  // NOLINTNEXTLINE(concurrency-mt-unsafe): no other thread exists yet
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
  return sc_core::sc_elab_and_sim(argc, argv);
}
