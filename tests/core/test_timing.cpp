// The documented timing model (docs/CORE.md): the cycles of one instruction of each class,
// measured by firmware with mcycle, equal the CoreTiming / PlatformLatency formula, for the
// defaults and for a config with every number changed.
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>

#include "model/core/machine.h"
#include "tests/core/fw_path.h"

using namespace mxemu;

namespace {

std::vector<std::uint32_t> measure(const core::CoreConfig& cfg) {
  core::Machine m(cfg);
  m.load_file(test::firmware_elf("timing"));
  const auto r = m.run_plain(1'000'000);
  REQUIRE(r.reason == core::StopReason::kExit);
  std::vector<std::uint32_t> v(13);
  std::memcpy(v.data(), m.launch_block().host_memory(), v.size() * 4);
  return v;
}

void check(const core::CoreConfig& cfg) {
  const core::CoreTiming& t = cfg.timing;
  const core::PlatformLatency& l = cfg.latency;
  const auto v = measure(cfg);
  const std::uint32_t c = t.csr_cycles;  // the csrr that opens each measurement
  CHECK(v[0] == c + t.alu_cycles);
  CHECK(v[1] == c + t.mul_cycles);
  CHECK(v[2] == c + t.div_cycles);
  CHECK(v[3] == c + t.div_cycles);
  CHECK(v[4] == c + t.load_cycles + l.ram_cycles);
  CHECK(v[5] == c + t.store_cycles + l.ram_cycles);
  CHECK(v[6] == c + t.load_cycles + l.sysreg_cycles);
  CHECK(v[7] == c + t.store_cycles + l.console_cycles);
  CHECK(v[8] == c + t.branch_taken_cycles);
  CHECK(v[9] == c + t.branch_not_taken_cycles);
  CHECK(v[10] == c + t.jump_cycles);
  CHECK(v[11] == c + t.system_cycles);
  CHECK(v[12] == c + t.alu_cycles);
}

}  // namespace

TEST_CASE("instruction costs follow the timing model", "[core][timing]") {
  SECTION("defaults") {
    check(core::CoreConfig{});
  }
  SECTION("every number changed") {
    core::CoreConfig cfg;
    core::CoreTiming& t = cfg.timing;
    t.alu_cycles = 2;
    t.mul_cycles = 5;
    t.div_cycles = 17;
    t.load_cycles = 3;
    t.store_cycles = 4;
    t.branch_taken_cycles = 6;
    t.branch_not_taken_cycles = 2;
    t.jump_cycles = 7;
    t.system_cycles = 9;
    t.csr_cycles = 2;
    cfg.latency.ram_cycles = 5;
    cfg.latency.sysreg_cycles = 11;
    cfg.latency.console_cycles = 13;
    check(cfg);
  }
}
