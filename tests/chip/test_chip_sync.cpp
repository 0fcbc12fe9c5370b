// "Fast == exact" at the core's MMIO accesses (docs/CORE.md): the same firmware run with the core
// decoupled (the default quantum and a small one), in lock-step, with only the MXU stepped, and
// fully cycle-accurate gives the same exit code, console output, cycles, timeline and statistics
// (all but the fields that name the mode or measure the host). chip_mmio_race polls a queue's
// DONE register and a semaphore across DMA completions, so some of its reads fall on the very
// cycle a descriptor retires; gdb_chip is the firmware the mismatch was first reported on.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstring>
#include <string>
#include <vector>

#include "tests/chip/chip_test_util.h"

using namespace mxemu;

namespace {

struct Mode {
  const char* name;
  std::string config;  // TOML text ("" = mx1)
  bool cycle_accurate;
};

std::vector<Mode> modes() {
  return {{"lock-step", "[core]\nlockstep = true\n", false},
          {"decoupled", "", false},
          {"decoupled, quantum 7", "[core]\nquantum_cycles = 7\n", false},
          {"stepped MXU", "[mxu]\ncycle_accurate = true\n", false},
          {"cycle-accurate", "", true}};
}

// The statistics without what names the mode or measures the host.
nlohmann::json comparable(nlohmann::json s) {
  s["core"].erase("mode");
  s["core"].erase("quantum_cycles");
  s["core"].erase("host_mips");
  s.erase("host_seconds");
  return s;
}

// Runs `job` in every mode and checks each against the first (lock-step).
void check_modes(sim::ChipJob job, const std::string& expect_console) {
  job.record_timeline = true;
  std::vector<sim::ChipJobResult> r;
  int i = 0;
  for (const Mode& m : modes()) {
    job.config_path =
        m.config.empty() ? ""
                         : test::temp_config("mxemu_sync_" + std::to_string(i) + ".toml", m.config);
    job.cycle_accurate = m.cycle_accurate;
    r.push_back(test::run_job(job));
    ++i;
  }
  REQUIRE(r[0].exit_code == 0);
  CHECK(r[0].console == expect_console);
  std::size_t k = 0;
  for (const Mode& m : modes()) {
    INFO("mode: " << m.name);
    const sim::ChipJobResult& a = r[0];
    const sim::ChipJobResult& b = r[k++];
    CHECK(b.exit_code == a.exit_code);
    CHECK(b.console == a.console);
    CHECK(b.total_cycles == a.total_cycles);
    CHECK(b.stats["core"]["instret"] == a.stats["core"]["instret"]);
    CHECK(b.stats["core"]["fence_stall_cycles"] == a.stats["core"]["fence_stall_cycles"]);
    CHECK(b.stats["engines"] == a.stats["engines"]);
    CHECK(b.stats["hbm"] == a.stats["hbm"]);
    CHECK(comparable(b.stats) == comparable(a.stats));
    CHECK(b.timeline_json == a.timeline_json);
  }
}

}  // namespace

TEST_CASE("polls that land on a completion cycle see the same thing in every mode",
          "[chip][modes][sync]") {
  sim::ChipJob job;
  job.firmware_name = "chip_mmio_race";
  job.firmware_elf = test::test_firmware("chip_mmio_race");
  // The console line is checked against the lock-step run; its shape is known here (the numbers
  // are the firmware's own poll counts and cycle checksum, which every mode must reproduce).
  sim::ChipJob probe = job;
  probe.cycle_accurate = true;
  const sim::ChipJobResult exact = test::run_job(probe);
  REQUIRE(exact.exit_code == 0);
  REQUIRE(exact.console.rfind("done_polls=", 0) == 0);
  check_modes(job, exact.console);
}

TEST_CASE("gdb_chip (DMA to HBM, fence, printf) gives the same cycles in every mode",
          "[chip][modes][sync]") {
  sim::ChipJob job;
  job.firmware_name = "gdb_chip";
  job.firmware_elf = test::test_firmware("gdb_chip");
  NpyArray x;
  x.dtype = NpyDtype::kF32;
  x.shape = {8};
  const float v[8] = {1.0f, -2.0f, 0.5f, 3.0f, 100.0f, -0.25f, 7.0f, 1024.0f};
  x.data.resize(sizeof v);
  std::memcpy(x.data.data(), v, sizeof v);
  job.inputs.emplace_back("x", x);
  // Without a debugger the firmware prints its untouched mscratch and semaphores: the NOP took
  // semaphore 5 and signalled 6, nobody wrote 8.
  check_modes(job, "mscratch=0x00000000 sem5=0 sem6=1 sem8=0\n");
}
