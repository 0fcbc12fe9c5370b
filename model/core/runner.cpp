#include "model/core/runner.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <fstream>
#include <memory>

#include "model/common/error.h"
#include "model/core/core_module.h"
#include "model/core/gdb_stub.h"
#include "model/core/machine.h"

namespace mxemu::core {

namespace {

void write_stats(const std::string& path, const RunReport& r, const CoreConfig& cfg,
                 const std::string& outcome) {
  nlohmann::json j;
  j["total_cycles"] = r.cycles;
  j["simulated_time_ps"] = r.sim_time_ps;
  j["host_seconds"] = r.host_seconds;
  j["outcome"] = outcome;
  j["exit_code"] = r.exit_code;
  j["core"] = {
      {"cycles", r.cycles},
      {"instret", r.instret},
      {"ipc", r.cycles == 0 ? 0.0 : static_cast<double>(r.instret) / static_cast<double>(r.cycles)},
      {"stall_cycles", r.stall_cycles},
      {"sleep_cycles", r.sleep_cycles},
      {"traps", r.traps},
      {"interrupts", r.interrupts},
      {"clock_hz", cfg.clock_hz},
      {"mode", cfg.lockstep ? "lockstep" : "decoupled"},
      {"quantum_cycles", cfg.lockstep ? 1 : cfg.quantum_cycles},
      {"host_mips",
       r.host_seconds > 0 ? static_cast<double>(r.instret) / r.host_seconds / 1e6 : 0.0},
  };
  std::ofstream f(path);
  if (!f) throw_bad_input("cannot write statistics file '{}'", path);
  f << j.dump(2) << '\n';
}

}  // namespace

RunReport run_firmware(const RunOptions& opt) {
  Machine machine(opt.config);
  machine.load_file(opt.firmware);
  if (opt.console_sink) machine.console().set_sink(opt.console_sink);

  std::unique_ptr<GdbStub> stub;
  if (opt.gdb_port) {
    if (*opt.gdb_port < 0 || *opt.gdb_port > 65535)
      throw_bad_input("--gdb port {} is out of range (0..65535)", *opt.gdb_port);
    stub = std::make_unique<GdbStub>(machine, static_cast<std::uint16_t>(*opt.gdb_port));
    if (opt.on_gdb_listen) opt.on_gdb_listen(stub->port());
    stub->accept_connection();
  }
  // Nothing else runs: sc_start() returns when the core thread ends (no sc_stop, no report).
  CoreModule core("core", machine, opt.max_cycles, stub.get());
  const auto t0 = std::chrono::steady_clock::now();
  sc_core::sc_start();
  const auto t1 = std::chrono::steady_clock::now();

  RunReport r;
  const Hart& h = machine.hart();
  r.cycles = h.cycle();
  r.instret = h.instret();
  r.stall_cycles = h.stall_cycles();
  r.sleep_cycles = h.sleep_cycles();
  r.traps = h.traps();
  r.interrupts = h.interrupts();
  r.sim_time_ps =
      static_cast<std::uint64_t>(std::llround(sc_core::sc_time_stamp().to_seconds() * 1e12));
  r.host_seconds = std::chrono::duration<double>(t1 - t0).count();
  r.console = machine.console().text();
  r.killed = core.killed();
  if (r.killed) {
    if (opt.stats_path) write_stats(*opt.stats_path, r, opt.config, "killed by debugger");
    return r;
  }
  try {
    // A core still sleeping when SystemC ran out of events waits in WFI for an interrupt that
    // nothing can raise.
    r.exit_code =
        machine.finish(core.done() ? core.stop_reason() : StopReason::kWfi, opt.max_cycles);
  } catch (const Error& e) {
    r.exit_code = static_cast<int>(e.code());
    if (opt.stats_path) write_stats(*opt.stats_path, r, opt.config, e.what());
    throw;
  }
  if (opt.stats_path) write_stats(*opt.stats_path, r, opt.config, "exit");
  return r;
}

}  // namespace mxemu::core
