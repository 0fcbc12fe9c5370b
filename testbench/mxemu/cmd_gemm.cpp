// `mxemu gemm`: runs the bundled gemm firmware on the chip with tensors from .npy files.
#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/common/error.h"
#include "model/common/npy.h"
#include "model/sim/runner.h"
#include "model/sim/sim_config.h"
#include "testbench/mxemu/bundled.h"
#include "testbench/mxemu/commands.h"
#include "testbench/mxemu/options.h"
#include "testbench/mxemu/rtl_option.h"

namespace mxemu::cli {

namespace {

struct GemmOptions {
  std::string a, b, sa, sb, c0, out, stats, config, timeline;
  std::string fmt_a = "e4m3", fmt_b = "e4m3";
  int block = -1;  // -1: the config's [mx] block
  std::string max_cycles = "20000000000", max_seconds = "600";
  bool cycle_accurate = false;
  std::vector<std::string> rtl;
  std::string rtl_waves, trace_window;
  std::string vcd, fst;
};

int run_gemm(const GemmOptions& o) {
  sim::GemmJob g;
  g.a = read_npy(o.a);
  g.b = read_npy(o.b);
  if (!o.sa.empty()) g.sa = read_npy(o.sa);
  if (!o.sb.empty()) g.sb = read_npy(o.sb);
  if (!o.c0.empty()) g.c0 = read_npy(o.c0);
  g.fmt_a = o.fmt_a;
  g.fmt_b = o.fmt_b;
  sim::SimConfig config = sim::load_sim_config(o.config);
  apply_rtl_option(o.rtl, config);
  apply_rtl_waves(o.rtl_waves, o.trace_window, config);
  apply_model_waves(o.vcd, o.fst, config);
  g.block = o.block != -1 ? o.block : static_cast<int>(config.chip.mx.block);
  sim::ChipJob job = sim::make_gemm_job(g, bundled::elf("gemm"));
  job.config = config;
  job.cycle_accurate = o.cycle_accurate;
  const std::unique_ptr<chip::RtlPlugins> rtl = make_rtl_plugins();
  job.rtl = rtl.get();
  job.max_cycles = parse_uint_option(o.max_cycles, "--max-cycles", 0, kMaxCycleLimit);
  job.max_seconds = parse_seconds_option(o.max_seconds, "--max-seconds");
  job.timeline_path = o.timeline;
  job.stats_path = o.stats;
  job.progress = true;
  job.interrupt = interrupt_flag();
  job.console_sink = [](char c) { std::fputc(c, stdout); };
  const sim::ChipJobResult r = sim::run_chip_job(job);
  if (r.exit_code != 0) {
    throw Error(ExitCode::kSimFault,
                fmt::format("the gemm firmware exited with code {}", r.exit_code));
  }
  write_npy(o.out, r.outputs.at("C"));
  const auto& s = r.stats;
  fmt::print(
      "gemm {}x{}x{} ({} x {}{}): {} cycles, MXU utilisation {:.1f} %, HBM {:.1f} GB/s, "
      "wrote {}\n",
      g.a.shape[0], g.b.shape[1], g.a.shape[1], o.fmt_a, o.fmt_b,
      g.sa ? fmt::format(", MX block {}", g.block) : std::string(),
      s["total_cycles"].get<std::uint64_t>(), 100.0 * s["mxu_utilization"].get<double>(),
      s["hbm_bandwidth_gbps"].get<double>(), o.out);
  return 0;
}

}  // namespace

void register_gemm_command(CLI::App& app, Action& action) {
  auto o = std::make_shared<GemmOptions>();
  auto* cmd = app.add_subcommand("gemm", "Run the bundled gemm firmware: C = C0 + A.B (MXFP8)");
  cmd->add_option("--a", o->a, "A: M x K uint8 .npy of FP8 codes")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--b", o->b, "B: K x N uint8 .npy of FP8 codes")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--a-scales", o->sa, "SA: M x K/block uint8 .npy of UE8M0 codes")
      ->check(CLI::ExistingFile);
  cmd->add_option("--b-scales", o->sb, "SB: K/block x N uint8 .npy of UE8M0 codes")
      ->check(CLI::ExistingFile);
  cmd->add_option("--block", o->block,
                  "MX block size along K (default: the config's [mx] block, 32)");
  cmd->add_option("--c-init", o->c0, "C0: M x N float32 .npy added to the product")
      ->check(CLI::ExistingFile);
  cmd->add_option("--fmt-a", o->fmt_a, "Format of A")
      ->check(CLI::IsMember({"e4m3", "e5m2"}))
      ->capture_default_str();
  cmd->add_option("--fmt-b", o->fmt_b, "Format of B")
      ->check(CLI::IsMember({"e4m3", "e5m2"}))
      ->capture_default_str();
  cmd->add_option("--out", o->out, "C: M x N float32 .npy to write")->required();
  cmd->add_option("--stats", o->stats, "Write statistics (JSON)");
  cmd->add_option("--timeline", o->timeline, "Write a Chrome/Perfetto trace of every command");
  cmd->add_option("--config", o->config, "Chip config (TOML); default: embedded mx1")
      ->check(CLI::ExistingFile);
  cmd->add_option("--max-cycles", o->max_cycles,
                  "Stop with exit code 4 after this many cycles (0: no limit)")
      ->capture_default_str();
  cmd->add_option("--max-seconds", o->max_seconds,
                  "Stop with exit code 4 after this much host time (0: no limit)")
      ->capture_default_str();
  cmd->add_flag("--cycle-accurate", o->cycle_accurate,
                "Step the core and MXU arrays cycle by cycle (same results and cycles, slower)");
  cmd->add_option("--rtl", o->rtl, kRtlOptionHelp)
      ->delimiter(',')
      ->check(CLI::IsMember(rtl_modes()));
  cmd->add_option("--rtl-waves", o->rtl_waves, kRtlWavesHelp);
  cmd->add_option("--trace-window", o->trace_window, kTraceWindowHelp);
  cmd->add_option("--vcd", o->vcd, kVcdHelp);
  cmd->add_option("--fst", o->fst, kFstHelp);
  cmd->callback([&action, o] { action = [o] { return run_gemm(*o); }; });
}

}  // namespace mxemu::cli
