// `mxemu run`: firmware on the emulated chip (control core, engines, HBM). With no --firmware it
// runs the default demo: an MXFP8 GEMM by the bundled gemm firmware, checked against the
// numerics library.
#include <CLI/CLI.hpp>

#include <cstdint>
#include <memory>

#include "model/common/error.h"
#include "model/core/runner.h"
#include "testbench/mxemu/chip_run.h"
#include "testbench/mxemu/commands.h"

namespace mxemu::cli {

void register_run_command(CLI::App& app, Action& action) {
  auto* cmd = app.add_subcommand(
      "run", "Run firmware on the emulated chip (default, with no --firmware: the chip demo)");
  auto seed = std::make_shared<std::uint64_t>(1);
  auto a = std::make_shared<ChipRunArgs>();
  a->max_cycles = core::kDefaultMaxCycles;
  auto gdb = std::make_shared<int>(-1);
  cmd->add_option("--seed", *seed, "Seed of the demo's random data")->capture_default_str();
  auto* fw_opt =
      cmd->add_option("--firmware", a->firmware, "RV32IM ELF to run on the control core");
  cmd->add_option("--kernel", a->kernel,
                  "A bundled kernel instead of --firmware: gemm, linear_relu or quantize "
                  "(docs/KERNELS.md lists their tensors and scalars)")
      ->excludes(fw_opt);
  cmd->add_option("--config", a->config,
                  "Chip config (TOML; [core], [hbm] and the chip's tables; default: embedded mx1)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--max-cycles", a->max_cycles,
                  "Stop with exit code 4 after this many core cycles (0: no limit)")
      ->capture_default_str();
  cmd->add_option("--stats", a->stats, "Write run statistics (JSON) to this file");
  cmd->add_option("--timeline", a->timeline,
                  "Write a Chrome/Perfetto trace of every command on every engine");
  cmd->add_option("--gdb", *gdb,
                  "Wait for gdb on 127.0.0.1:PORT before running (0: any free port, printed)");
  cmd->add_flag("--lockstep,--cycle-accurate", a->cycle_accurate,
                "Cycle-by-cycle mode: the core syncs after every instruction and MXU folds are "
                "stepped cycle by cycle (same results and cycles, slower)");
  cmd->add_option("--in", a->inputs, "NAME=FILE.npy: an input tensor placed in HBM by name");
  cmd->add_option("--out", a->outputs, "NAME=FILE.npy: an output tensor read back by name");
  cmd->add_option("--scalar", a->scalars, "NAME=VALUE: a 32-bit parameter in the launch block");
  cmd->callback([&action, seed, a, gdb] {
    if (*gdb >= 0) a->gdb_port = *gdb;
    if (a->firmware.empty() && a->kernel.empty()) {
      action = [seed, a] {
        if (!a->stats.empty() || a->gdb_port || a->cycle_accurate || !a->inputs.empty() ||
            !a->outputs.empty() || !a->scalars.empty() || !a->timeline.empty()) {
          throw_bad_input(
              "--stats, --timeline, --gdb, --lockstep, --in, --out and --scalar need --firmware "
              "or --kernel");
        }
        return chip_demo(*seed, a->config);
      };
    } else {
      action = [a] { return run_firmware_on_chip(*a); };
    }
  });
}

}  // namespace mxemu::cli
