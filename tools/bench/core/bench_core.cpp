// Control-core speed: instructions per host second on a compute-bound firmware (core_mix), in
// decoupled (fast, quantum-keeper) mode and, in the same run, in cycle-by-cycle (lock-step) mode
// and without SystemC. Usage: bench_core [build_dir] [repeats]. Not a test.
#include <fmt/format.h>
#include <systemc>

#include <algorithm>
#include <chrono>
#include <string>

#include "model/core/machine.h"
#include "model/core/runner.h"

using namespace mxemu;

namespace {

struct Figure {
  double mips = 0;
  std::uint64_t instret = 0, cycles = 0;
};

Figure run_sc(const std::string& elf, bool lockstep, std::uint64_t quantum) {
  core::RunOptions o;
  o.firmware = elf;
  o.config.lockstep = lockstep;
  o.config.quantum_cycles = quantum;
  o.max_cycles = 0;
  const auto r = core::run_firmware(o);
  sc_core::sc_curr_simcontext = new sc_core::sc_simcontext();
  sc_core::sc_default_global_context = sc_core::sc_curr_simcontext;
  return {static_cast<double>(r.instret) / r.host_seconds / 1e6, r.instret, r.cycles};
}

Figure run_plain(const std::string& elf) {
  core::CoreConfig cfg;
  core::Machine m(cfg);
  m.load_file(elf);
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = m.run_plain(~std::uint64_t{0});
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return {static_cast<double>(r.instret) / s / 1e6, r.instret, r.cycles};
}

}  // namespace

int sc_main(int argc, char* argv[]) {
  const std::string build = argc > 1 ? argv[1] : "build";
  const int repeats = argc > 2 ? std::max(1, std::atoi(argv[2])) : 3;
  const std::string big = build + "/firmware/core_mix.elf";
  const std::string small = build + "/firmware/core_mix_short.elf";
  Figure fast, fast_small, lock_small, plain, q1k;
  for (int i = 0; i < repeats; ++i) {
    auto best = [](Figure& b, const Figure& f) {
      if (f.mips > b.mips) b = f;
    };
    best(fast, run_sc(big, false, 100'000));
    best(q1k, run_sc(big, false, 1'000));
    best(plain, run_plain(big));
    best(fast_small, run_sc(small, false, 100'000));
    best(lock_small, run_sc(small, true, 1));
  }
  fmt::print("control core (RV32IM) on core_mix, best of {} runs\n", repeats);
  fmt::print("  {:<44} {:>12} {:>12} {:>9}\n", "mode", "instructions", "cycles", "MIPS");
  auto row = [](const char* name, const Figure& f) {
    fmt::print("  {:<44} {:>12} {:>12} {:>9.1f}\n", name, f.instret, f.cycles, f.mips);
  };
  row("plain C++ hart, no SystemC (core_mix)", plain);
  row("decoupled, quantum 100000 cycles (core_mix)", fast);
  row("decoupled, quantum 1000 cycles (core_mix)", q1k);
  row("decoupled, quantum 100000 (core_mix_short)", fast_small);
  row("cycle-by-cycle / lock-step (core_mix_short)", lock_small);
  fmt::print("  decoupled / lock-step speed ratio (same workload): {:.1f}x\n",
             fast_small.mips / lock_small.mips);
  fmt::print("  goal >= 50 MIPS decoupled: {}\n", fast.mips >= 50 ? "met" : "NOT met");
  return 0;
}
