// Subcommand registration for the mxemu CLI. Each register_* adds a subcommand to `app` and, from
// that subcommand's callback, stores the work to run in `action` (run after parsing, inside the
// error handler of main).
#pragma once

#include <functional>

namespace CLI {
class App;
}

namespace mxemu::cli {

using Action = std::function<int()>;

void register_run_command(CLI::App& app, Action& action);     // cmd_run.cpp
void register_hbm_command(CLI::App& app, Action& action);     // cmd_hbm.cpp
void register_gemm_command(CLI::App& app, Action& action);    // cmd_gemm.cpp
void register_config_command(CLI::App& app, Action& action);  // cmd_config.cpp

}  // namespace mxemu::cli
