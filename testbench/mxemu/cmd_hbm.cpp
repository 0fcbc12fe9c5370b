// `mxemu hbm`: trace replay against the HBM controller (model/hbm). Filled in by the HBM work.
#include <CLI/CLI.hpp>

#include "model/common/error.h"
#include "testbench/mxemu/commands.h"

namespace mxemu::cli {

void register_hbm_command(CLI::App& app, Action& action) {
  auto* cmd = app.add_subcommand("hbm", "Replay a memory trace against the HBM controller");
  cmd->callback([&action] {
    action = []() -> int { throw_bad_input("the HBM controller is not built into this mxemu yet"); };
  });
}

}  // namespace mxemu::cli
