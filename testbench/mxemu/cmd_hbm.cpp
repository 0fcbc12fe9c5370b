// `mxemu hbm`: replays a DRAMSys- or Ramulator-style memory trace against the HBM controller
// (model/hbm) and reports bandwidth, latency, row hits and per-channel figures, split by reads
// and writes, and the shares of time in refresh, write drains and turnarounds (text to stdout;
// --stats writes model/hbm/stats.h's stats_json).
#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include <fstream>
#include <memory>
#include <string>

#include "model/common/error.h"
#include "model/hbm/config.h"
#include "model/hbm/controller.h"
#include "model/hbm/stats.h"
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
      const nlohmann::json stats = hbm::stats_json(core);
      for (const char* dir : {"read", "write"}) {
        const nlohmann::json& d = stats[dir];
        const nlohmann::json& l = d["latency_ns"];
        fmt::print(
            "{:<6} {:>8} requests, {:.1f} GB/s, latency mean {:.1f} / p50 {:.1f} / p99 {:.1f} ns, "
            "row hits {:.1f} %\n",
            dir, d["requests"].get<std::uint64_t>(), d["bandwidth_gbps"].get<double>(),
            l["mean"].get<double>(), l["p50"].get<double>(), l["p99"].get<double>(),
            100 * d["row_hit_rate"].get<double>());
      }
      const nlohmann::json& share = stats["time_share"];
      fmt::print(
          "time in refresh {:.1f} %, write drains {:.1f} % ({} drains), turnarounds {:.1f} %\n",
          100 * share["refresh"].get<double>(), 100 * share["drain"].get<double>(),
          stats["drains"].get<std::uint64_t>(), 100 * share["turnaround"].get<double>());
      if (!opts->stats.empty()) {
        std::ofstream out(opts->stats);
        if (!out) throw_bad_input("cannot write statistics to {}", opts->stats);
        out << stats.dump(2) << '\n';
      }
      return 0;
    };
  });
}

}  // namespace mxemu::cli
