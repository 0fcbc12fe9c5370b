// The interface the chip uses to stall the core: a device with needs_sync() is accessed at the
// core's exact cycle in SystemC time, may wait() inside the access, and the wait becomes stall
// cycles; decoupled and lock-step runs give the same cycles.
#include <catch2/catch.hpp>
#include <systemc>

#include <cstdint>
#include <cstring>

#include "model/core/core_module.h"
#include "model/core/machine.h"
#include "tests/core/fw_path.h"

using namespace mxemu;

namespace {

constexpr std::uint64_t kReleaseCycle = 5000;
constexpr std::uint32_t kDeviceLatency = 7;

// Blocks reads until its event fires at kReleaseCycle; returns the cycle it saw at the access.
class GateDevice : public core::Device {
 public:
  explicit GateDevice(const sc_core::sc_time& period) : period_(period) {}
  core::AccessResult read(std::uint32_t, unsigned, std::uint32_t& value,
                          std::uint64_t cycle) override {
    value = static_cast<std::uint32_t>(sc_core::sc_time_stamp() / period_);
    seen_cycle_arg = cycle;
    if (sc_core::sc_time_stamp() < period_ * static_cast<double>(kReleaseCycle)) wait(open);
    return {};
  }
  core::AccessResult write(std::uint32_t, unsigned, std::uint32_t, std::uint64_t) override {
    return {};
  }
  bool needs_sync() const override { return true; }
  sc_core::sc_event open;
  std::uint64_t seen_cycle_arg = 0;

 private:
  sc_core::sc_time period_;
};

struct Opener : sc_core::sc_module {
  SC_HAS_PROCESS(Opener);
  Opener(const sc_core::sc_module_name& n, GateDevice& d, const sc_core::sc_time& at)
      : sc_core::sc_module(n), dev(d), when(at) {
    SC_THREAD(run);
  }
  void run() {
    wait(when);
    dev.open.notify(sc_core::SC_ZERO_TIME);
  }
  GateDevice& dev;
  sc_core::sc_time when;
};

struct Outcome {
  std::uint32_t before, seen, after;
  std::uint64_t cycles, instret, stall;
};

Outcome run(bool lockstep) {
  core::CoreConfig cfg;
  cfg.lockstep = lockstep;
  core::Machine m(cfg);
  const sc_core::sc_time period(1, sc_core::SC_NS);
  GateDevice dev(period);
  m.bus().map(MXEMU_ACCEL_BASE, 0x1000, dev, kDeviceLatency, "gate");
  m.load_file(test::firmware_elf("timed_mmio"));
  Outcome o{};
  {
    core::CoreModule core("core", m, 1'000'000);
    Opener opener("opener", dev, period * static_cast<double>(kReleaseCycle));
    sc_core::sc_start();
    REQUIRE(core.done());
    REQUIRE(m.finish(core.stop_reason(), 1'000'000) == 0);
    // The firmware leaves its three words at the start of the launch block.
    const std::uint8_t* results = m.launch_block().host_memory();
    std::memcpy(&o.before, results, 4);
    std::memcpy(&o.seen, results + 4, 4);
    std::memcpy(&o.after, results + 8, 4);
    o.cycles = m.hart().cycle();
    o.instret = m.hart().instret();
    o.stall = m.hart().stall_cycles();
    CHECK(dev.seen_cycle_arg == o.seen);
  }
  sc_core::sc_curr_simcontext = new sc_core::sc_simcontext();
  sc_core::sc_default_global_context = sc_core::sc_curr_simcontext;
  return o;
}

}  // namespace

TEST_CASE("a SystemC-timed device sees the core's cycle and stalls it", "[core][sync]") {
  for (bool lockstep : {false, true}) {
    SECTION(lockstep ? "lock-step" : "decoupled") {
      const Outcome o = run(lockstep);
      // The load issues one cycle after `csrr s0, mcycle`; SystemC time was synced to it.
      CHECK(o.seen == o.before + 1);
      // load_cycles (1) + device latency + the wait until the release cycle.
      CHECK(o.after == kReleaseCycle + 1 + kDeviceLatency);
    }
  }
  const Outcome fast = run(false), slow = run(true);
  CHECK(fast.cycles == slow.cycles);
  CHECK(fast.instret == slow.instret);
  CHECK(fast.before == slow.before);
}
