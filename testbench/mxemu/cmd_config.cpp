// `mxemu config --dump [--config F.toml]`: prints the effective configuration as TOML — every key
// of every table with its value (the defaults of chip "mx1" where the file says nothing), its
// meaning and its range. The output is itself a valid config file.
#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include <memory>
#include <string>

#include "model/sim/sim_config.h"
#include "testbench/mxemu/commands.h"

namespace mxemu::cli {

void register_config_command(CLI::App& app, Action& action) {
  auto path = std::make_shared<std::string>();
  auto dump = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand("config", "Check a config file and print the effective config");
  cmd->add_option("--config", *path, "Config file (TOML); default: the built-in mx1")
      ->check(CLI::ExistingFile);
  cmd->add_flag("--dump", *dump, "Print the effective configuration as documented TOML");
  cmd->callback([&action, path, dump] {
    action = [path, dump] {
      const sim::SimConfig c = sim::load_sim_config(*path);  // refuses a bad file (exit 2)
      if (*dump) {
        fmt::print("{}", sim::dump_sim_config(c));
      } else {
        fmt::print("{}: valid ({} chip{} of \"{}\")\n", c.source, c.pod.chips(),
                   c.pod.chips() == 1 ? "" : "s", c.chip.name);
      }
      return 0;
    };
  });
}

}  // namespace mxemu::cli
