// `mxemu hbm`: replays a DRAMSys- or Ramulator-style memory trace against the HBM controller
// (model/hbm) and reports bandwidth, latency, row hits and per-channel figures (text to stdout,
// JSON to --stats).
#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include <fstream>
#include <memory>
#include <string>

#include "model/common/error.h"
#include "model/hbm/config.h"
#include "model/hbm/controller.h"
#include "model/hbm/trace.h"
#include "testbench/mxemu/commands.h"

namespace mxemu::cli {

namespace {
struct HbmOptions {
  std::string trace, config, stats;
};
}  // namespace

void register_hbm_command(CLI::App& app, Action& action) {
  auto opts = std::make_shared<HbmOptions>();
  auto* cmd = app.add_subcommand("hbm", "Replay a memory trace against the HBM controller");
  cmd->add_option("--trace", opts->trace,
                  "trace file: DRAMSys '<cycle>:\\t<read|write>\\t0x<addr>' or Ramulator "
                  "'LD|ST 0x<addr>' lines")
      ->required();
  cmd->add_option("--config", opts->config, "TOML file with an [hbm] table (default: mx1 HBM3)");
  cmd->add_option("--stats", opts->stats, "write the statistics as JSON to this file");
  cmd->callback([&action, opts] {
    action = [opts]() -> int {
      const hbm::HbmConfig config =
          opts->config.empty() ? hbm::HbmConfig{} : hbm::load_config_file(opts->config);
      hbm::HbmCore core(config);
      const auto trace = hbm::load_trace_file(opts->trace, core.address_map().capacity_bytes(),
                                              config.org.access_bytes);
      const hbm::ReplayReport report = hbm::replay(core, trace);
      fmt::print("{}", hbm::to_text(report));
      if (!opts->stats.empty()) {
        std::ofstream out(opts->stats);
        if (!out) throw_bad_input("cannot write statistics to {}", opts->stats);
        out << hbm::to_json(report).dump(2) << '\n';
      }
      return 0;
    };
  });
}

}  // namespace mxemu::cli
