// `mxemu run`: runs firmware on the chip. With no arguments it runs the embedded default job.
#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "model/common/error.h"
#include "model/core/config.h"
#include "model/core/runner.h"

#include "model/numerics/fp8.h"
#include "model/numerics/gemm.h"
#include "model/numerics/mx.h"
#include "testbench/mxemu/commands.h"

namespace mxemu::cli {

namespace {

// The default job until the chip exists: quantise two random FP32 matrices to MXFP8 (E4M3,
// block 32), multiply them with the fast reference GEMM, and check it against the exact one.
int numerics_demo(std::uint64_t seed) {
  constexpr std::size_t kM = 64, kN = 48, kK = 128;
  constexpr int kBlock = num::kDefaultMxBlock;
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> dist(0.0F, 4.0F);
  std::vector<float> a_f32(kM * kK), bt_f32(kN * kK);
  for (float& v : a_f32) v = dist(rng);
  for (float& v : bt_f32) v = dist(rng);

  // A is quantised along its rows (K); B along its columns (K), so quantise B transposed.
  std::vector<std::uint8_t> a(kM * kK), sa(kM * kK / kBlock), bt(kN * kK), sbt(kN * kK / kBlock);
  num::mx_quantize(a_f32, kM, kK, kBlock, num::Fp8Format::kE4M3, num::MxScaleMode::kFloor, a, sa);
  num::mx_quantize(bt_f32, kN, kK, kBlock, num::Fp8Format::kE4M3, num::MxScaleMode::kFloor, bt,
                   sbt);
  std::vector<std::uint8_t> b(kK * kN), sb(kK / kBlock * kN);
  for (std::size_t k = 0; k < kK; ++k)
    for (std::size_t n = 0; n < kN; ++n) b[k * kN + n] = bt[n * kK + k];
  for (std::size_t j = 0; j < kK / kBlock; ++j)
    for (std::size_t n = 0; n < kN; ++n) sb[j * kN + n] = sbt[n * (kK / kBlock) + j];

  num::GemmProblem p;
  p.m = kM;
  p.n = kN;
  p.k = kK;
  p.a = a;
  p.b = b;
  p.scale_a = sa;
  p.scale_b = sb;
  p.block = kBlock;
  std::vector<float> c_fast(kM * kN), c_exact(kM * kN);
  num::gemm(p, c_fast);
  num::gemm_exact(p, c_exact);

  std::size_t mismatches = 0;
  double max_rel_err = 0.0;
  for (std::size_t i = 0; i < kM; ++i) {
    for (std::size_t j = 0; j < kN; ++j) {
      const float got = c_fast[i * kN + j];
      if (num::f32_bits(got) != num::f32_bits(c_exact[i * kN + j])) ++mismatches;
      // Quantisation error against the FP64 product of the unquantised inputs.
      double ref = 0.0, mag = 0.0;
      for (std::size_t k = 0; k < kK; ++k) {
        ref += static_cast<double>(a_f32[i * kK + k]) * bt_f32[j * kK + k];
        mag += std::abs(static_cast<double>(a_f32[i * kK + k]) * bt_f32[j * kK + k]);
      }
      max_rel_err = std::max(max_rel_err, std::abs(got - ref) / mag);
    }
  }
  fmt::print("mxemu numerics demo (seed {})\n", seed);
  fmt::print("  MXFP8 GEMM {}x{}x{}: E4M3 elements, UE8M0 scales per {} along K (floor mode)\n", kM,
             kN, kK, kBlock);
  fmt::print("  fast kernel ({}) vs exact fused-step loop: {} of {} outputs differ\n",
             num::isa_name(num::detect_best_isa()), mismatches, kM * kN);
  fmt::print("  quantisation error vs FP64 on unquantised inputs: max |err| / sum|a*b| = {:.3e}\n",
             max_rel_err);
  fmt::print("  C[0][0] = {:.8g} (bits 0x{:08x})\n", c_fast[0], num::f32_bits(c_fast[0]));
  fmt::print("{}\n", mismatches == 0 ? "PASS" : "FAIL");
  return mismatches == 0 ? 0 : 1;
}

// Options of `mxemu run --firmware`.
struct FirmwareArgs {
  std::string firmware;
  std::string config;
  std::uint64_t max_cycles = core::kDefaultMaxCycles;
  std::string stats;
  std::optional<int> gdb_port;
  bool lockstep = false;
};

// Runs an ELF on the control core: console to stdout as it comes, the firmware's exit code out.
int run_firmware_cmd(const FirmwareArgs& a) {
  core::RunOptions o;
  o.firmware = a.firmware;
  if (!a.config.empty()) core::load_core_config(a.config, o.config);
  if (a.lockstep) o.config.lockstep = true;
  o.max_cycles = a.max_cycles;
  if (!a.stats.empty()) o.stats_path = a.stats;
  o.gdb_port = a.gdb_port;
  o.console_sink = [](char c) {
    std::fputc(c, stdout);
    if (c == '\n') std::fflush(stdout);
  };
  o.on_gdb_listen = [](std::uint16_t port) {
    fmt::print(stderr, "mxemu: gdb stub listening on 127.0.0.1:{}\n", port);
    std::fflush(stderr);
  };
  const core::RunReport r = core::run_firmware(o);
  std::fflush(stdout);
  return r.exit_code;
}

}  // namespace

void register_run_command(CLI::App& app, Action& action) {
  auto* cmd = app.add_subcommand(
      "run", "Run firmware on the emulated chip (default, with no --firmware: the numerics demo)");
  auto seed = std::make_shared<std::uint64_t>(1);
  auto fw = std::make_shared<FirmwareArgs>();
  cmd->add_option("--seed", *seed, "Seed of the demo's random data")->capture_default_str();
  cmd->add_option("--firmware", fw->firmware, "RV32IM ELF to run on the control core");
  cmd->add_option("--config", fw->config, "TOML config file ([core] table; see docs/CORE.md)");
  cmd->add_option("--max-cycles", fw->max_cycles, "Stop (exit code 4) at this core cycle; 0: none")
      ->capture_default_str();
  cmd->add_option("--stats", fw->stats, "Write run statistics (JSON) to this file");
  cmd->add_option("--gdb", fw->gdb_port,
                  "Wait for gdb on 127.0.0.1:PORT before running (0: any free port, printed)");
  cmd->add_flag("--lockstep", fw->lockstep,
                "Cycle-by-cycle mode: sync with SystemC time after every instruction");
  cmd->callback([&action, seed, fw] {
    if (fw->firmware.empty()) {
      const bool needs_fw =
          !fw->config.empty() || !fw->stats.empty() || fw->gdb_port || fw->lockstep;
      action = [seed, needs_fw] {
        if (needs_fw) throw_bad_input("--config, --stats, --gdb and --lockstep need --firmware");
        return numerics_demo(*seed);
      };
    } else {
      action = [fw] { return run_firmware_cmd(*fw); };
    }
  });
}

}  // namespace mxemu::cli
