// `mxemu run`: firmware on the emulated chip (control core, engines, HBM) or on every chip of a
// pod. With no --firmware it runs the default demo: an MXFP8 GEMM by the bundled gemm firmware,
// checked against the numerics library.
#include <CLI/CLI.hpp>

#include <cstdint>
#include <map>
#include <memory>

#include "model/common/error.h"
#include "model/core/runner.h"
#include "model/sim/transport.h"
#include "testbench/mxemu/chip_run.h"
#include "testbench/mxemu/commands.h"
#include "testbench/mxemu/options.h"
#include "testbench/mxemu/rtl_option.h"

namespace mxemu::cli {

void register_run_command(CLI::App& app, Action& action) {
  auto* cmd = app.add_subcommand(
      "run", "Run firmware on the emulated chip or pod (with no --firmware: the pod demo)");
  auto seed = std::make_shared<std::uint64_t>(1);
  auto a = std::make_shared<ChipRunArgs>();
  // Numbers are taken as text and parsed strictly (options.h): "-5" is refused, not wrapped.
  struct Raw {
    std::string max_cycles = std::to_string(core::kDefaultMaxCycles);
    std::string max_seconds = "600";
    std::string chips = "0", threads = "0";
  };
  auto raw = std::make_shared<Raw>();
  cmd->add_option("--seed", *seed, "Seed of the demo's random data")->capture_default_str();
  auto demo = std::make_shared<std::string>("pod");
  cmd->add_option("--demo", *demo,
                  "With no --firmware: pod (a 2x2x2 pod: MXFP8 GEMM on every chip, then an "
                  "all-reduce) or chip (one 1024^3 MXFP8 GEMM)")
      ->check(CLI::IsMember({"pod", "chip"}))
      ->capture_default_str();
  auto* fw_opt =
      cmd->add_option("--firmware", a->firmware,
                      "[C:]F.elf: RV32IM ELF for the control core (of every chip, or of chip C)");
  cmd->add_option("--kernel", a->kernel,
                  "A bundled kernel instead of --firmware: " MXEMU_BUNDLED_KERNELS
                  " (docs/KERNELS.md lists their tensors and scalars)")
      ->excludes(fw_opt);
  cmd->add_option("--config", a->config,
                  "Config (TOML: the chip's tables, [core], [hbm], [pod]; default: mx1; "
                  "`mxemu config --dump` prints every key)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--max-cycles", raw->max_cycles,
                  "Stop with exit code 4 after this many core cycles (0: no limit; at most 1e15)")
      ->capture_default_str();
  cmd->add_option("--max-seconds", raw->max_seconds,
                  "Stop with exit code 4 after this much host time (0: no limit; not while a "
                  "debugger is attached)")
      ->capture_default_str();
  cmd->add_option("--chips", raw->chips,
                  "Run a pod of N chips joined in a ring (default: the config's [pod] shape)");
  cmd->add_option("--pod", a->pod, "XxYxZ: run a pod of this shape (e.g. 4x4x4)");
  cmd->add_option("--topology", a->topology,
                  "ring, mesh, torus or twisted (default: the config's [pod] topology, torus)");
  cmd->add_option("--in-stack", a->stacked_inputs,
                  "NAME=FILE.npy: one input per chip, stacked along the leading axis");
  cmd->add_option("--threads", raw->threads,
                  "Host threads for the simulation (0: one per host core; results and cycles "
                  "do not depend on it)")
      ->capture_default_str();
  cmd->add_option("--stats", a->stats, "Write run statistics (JSON) to this file");
  cmd->add_option("--timeline", a->timeline,
                  "Write a Chrome/Perfetto trace of every command on every engine");
  cmd->add_option("--gdb", a->gdb,
                  "[C:]PORT: wait for gdb on 127.0.0.1:PORT before running (0: any free port, "
                  "printed), debugging chip C (default 0)");
  cmd->add_flag("--lockstep,--cycle-accurate", a->cycle_accurate,
                "Cycle-by-cycle mode: the core syncs after every instruction and MXU folds are "
                "stepped cycle by cycle (same results and cycles, slower)");
  cmd->add_option("--rtl", a->rtl, kRtlOptionHelp)
      ->delimiter(',')
      ->check(CLI::IsMember(rtl_modes()));
  cmd->add_option("--rtl-waves", a->rtl_waves, kRtlWavesHelp);
  cmd->add_option("--trace-window", a->trace_window, kTraceWindowHelp);
  cmd->add_option("--vcd", a->vcd, kVcdHelp);
  cmd->add_option("--fst", a->fst, kFstHelp);
  cmd->add_option("--in", a->inputs,
                  "[C:]NAME=FILE.npy: an input tensor placed in HBM by name ({chip} in FILE: "
                  "one file per chip)");
  cmd->add_option("--out", a->outputs,
                  "[C:]NAME=FILE.npy: an output tensor read back by name ({chip} in FILE: "
                  "every chip's)");
  cmd->add_option("--scalar", a->scalars, "[C:]NAME=VALUE: a 32-bit parameter in the launch block");
  cmd->add_option("--partition", a->partition,
                  "Under mpirun: how the pod's chips go to the ranks: auto, cubes, slabs, or a "
                  "list of chips per rank such as 0-3/4-7 (docs/DISTRIBUTED.md)")
      ->capture_default_str();
  cmd->add_option("--crash-rank", a->crash_rank,
                  "Under mpirun, a test of failure handling: this rank aborts (SIGABRT) after "
                  "its tenth simulation window");
  cmd->add_flag("--quiet", a->quiet, "No one-line result on stderr when the firmware exits");
  const std::map<std::string, ExitCodeMode> modes{{"status", ExitCodeMode::kStatus},
                                                  {"passthrough", ExitCodeMode::kPassthrough}};
  cmd->add_option("--exit-code", a->exit_mode,
                  "status (default): 0 when the firmware passed, 1 when it reported failure "
                  "(the code is printed); passthrough: the firmware's code as the status (the OS "
                  "keeps its low 8 bits, and 2/3/4 look like mxemu's own)")
      ->transform(CLI::CheckedTransformer(modes, CLI::ignore_case));
  cmd->callback([&action, seed, a, raw, demo] {
    const auto parse = [a, raw] {
      a->max_cycles = parse_uint_option(raw->max_cycles, "--max-cycles", 0, kMaxCycleLimit);
      a->max_seconds = parse_seconds_option(raw->max_seconds, "--max-seconds");
      a->chips = static_cast<std::uint32_t>(parse_uint_option(raw->chips, "--chips", 0, 16384));
      a->threads = static_cast<unsigned>(parse_uint_option(raw->threads, "--threads", 0, 1024));
    };
    if (a->firmware.empty() && a->kernel.empty()) {
      action = [seed, a, parse, demo] {
        parse();
        if (!a->stats.empty() || !a->gdb.empty() || a->cycle_accurate || !a->inputs.empty() ||
            !a->outputs.empty() || !a->scalars.empty() || !a->timeline.empty() || a->chips > 0 ||
            !a->pod.empty() || !a->stacked_inputs.empty() || !a->rtl.empty() ||
            !a->rtl_waves.empty() || !a->trace_window.empty() || !a->vcd.empty() ||
            !a->fst.empty()) {
          throw_bad_input(
              "--stats, --timeline, --gdb, --lockstep, --rtl, --rtl-waves, --trace-window, --vcd, "
              "--fst, --in, --out, --scalar and --chips need --firmware or --kernel");
        }
        if (*demo == "chip") {
          if (sim::launched_by_mpi()) {
            throw_bad_input(
                "the chip demo runs in one process; under mpirun run the pod demo "
                "(mxemu run) or a pod job (docs/DISTRIBUTED.md)");
          }
          return chip_demo(*seed, a->config);
        }
        return pod_demo(*seed, a->config, a->threads);
      };
    } else {
      action = [a, parse] {
        parse();
        a->interrupt = interrupt_flag();
        return run_firmware_on_chip(*a);
      };
    }
  });
}

}  // namespace mxemu::cli
