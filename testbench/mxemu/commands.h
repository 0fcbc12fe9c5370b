// Subcommand registration for the mxemu CLI. Each register_* adds a subcommand to `app` and, from
// that subcommand's callback, stores the work to run in `action` (run after parsing, inside the
// error handler of main).
#pragma once

#include <atomic>
#include <functional>

namespace CLI {
class App;
}

namespace mxemu::cli {

using Action = std::function<int()>;

// Set by mxemu's SIGINT handler (main.cpp): a run in progress ends, status 130, after writing
// its statistics and timeline.
const std::atomic<bool>* interrupt_flag();

void register_run_command(CLI::App& app, Action& action);     // cmd_run.cpp
void register_hbm_command(CLI::App& app, Action& action);     // cmd_hbm.cpp
void register_gemm_command(CLI::App& app, Action& action);    // cmd_gemm.cpp
void register_config_command(CLI::App& app, Action& action);  // cmd_config.cpp
void register_report_command(CLI::App& app, Action& action);  // cmd_report.cpp

}  // namespace mxemu::cli
