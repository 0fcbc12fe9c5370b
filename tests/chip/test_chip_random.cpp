// Hardening: random descriptors to every engine never crash or hang the host — every run ends
// with a firmware exit, a fault or deadlock naming its cause (3), or the cycle limit (4); and a
// chip job repeated 100 times is bit-identical every time (outputs, cycles, stats, timeline).
#include <fmt/core.h>
#include <catch2/catch.hpp>

#include <cstdlib>
#include <map>

#include "model/common/error.h"
#include "testbench/mxemu/bundled.h"
#include "tests/chip/chip_test_util.h"

using namespace mxemu;

TEST_CASE("random descriptors to every engine end every run cleanly", "[chip][random]") {
  // A small chip so that random addresses often fall outside its memories, a short watchdog so
  // that semaphore waits nothing signals end quickly.
  sim::SimConfig cfg = sim::parse_sim_config(
      "[chip]\nwatchdog_cycles = 2000\n[vmem]\nbytes = 262144\n[mxu]\nacc_bytes = 65536\n"
      "[hbm.organisation]\nstacks = 1\nchannels_per_stack = 2\n",
      "random.toml");
  // NOLINTNEXTLINE(concurrency-mt-unsafe): read-only, before the simulation starts threads
  const char* env = std::getenv("MXEMU_RANDOM_DESC_RUNS");
  const int runs = env != nullptr ? std::atoi(env) : 400;
  std::map<std::string, int> kinds;
  std::uint64_t executed = 0;
  for (int seed = 1; seed <= runs; ++seed) {
    sim::ChipProgram prog;
    prog.firmware_name = "random_desc";
    prog.firmware_elf = test::test_firmware("chip_random_desc");
    prog.scalars = {{"seed", static_cast<std::uint32_t>(seed * 2654435761u)},
                    {"count", static_cast<std::uint32_t>(1 + seed % 8)}};
    sim::PodJob job;
    job.config = cfg;
    job.max_cycles = 2'000'000;
    job.programs = {prog};
    INFO("seed " << seed);
    const sim::PodResult pr = test::run_pod(job);  // bad input would throw: there is none
    const sim::ChipJobResult& r = pr.chips.at(0);
    for (const auto& [name, e] : r.stats["engines"].items()) {
      executed += e["descriptors"].get<std::uint64_t>();
    }
    if (r.end.kind == chip::ChipEnd::Kind::kExit) {
      CHECK(r.exit_code == 0);
      ++kinds["exit"];
      continue;
    }
    const std::string& msg = r.end.message;
    INFO(msg);
    REQUIRE((r.end.error == ExitCode::kSimFault || r.end.error == ExitCode::kLimit));
    const bool named =
        msg.find("engine fault: ") == 0 || msg.find("deadlock: ") == 0 || msg.find("core: ") == 0;
    CHECK(named);
    CHECK_THAT(msg, Catch::Contains("cycle"));
    ++kinds[msg.substr(0, msg.find(':'))];
  }
  INFO(fmt::format("exits {}, engine faults {}, deadlocks {}, core faults {}", kinds["exit"],
                   kinds["engine fault"], kinds["deadlock"], kinds["core"]));
  // Every way of ending was reached, and the engines did execute random descriptors.
  CHECK(kinds["exit"] > runs / 50);
  CHECK(kinds["engine fault"] > runs / 20);
  CHECK(kinds["deadlock"] > 0);
  CHECK(kinds["core"] > 0);
  CHECK(executed > static_cast<std::uint64_t>(runs) / 4);
}

TEST_CASE("100 repeated runs of a chip job are bit-identical", "[chip][determinism]") {
  std::mt19937_64 rng(77);
  const sim::GemmJob g = test::random_gemm(rng, 96, 160, 72, 32, true, true);
  sim::ChipJob job = sim::make_gemm_job(g, bundled::elf("gemm"));
  job.record_timeline = true;
  job.threads = 2;
  const sim::ChipJobResult first = test::run_job(job);
  test::require_bit_exact(first.outputs.at("C"), g);
  const auto strip = [](nlohmann::json s) {
    s.erase("host_seconds");
    s["core"].erase("host_mips");
    return s;
  };
  for (int i = 1; i < 100; ++i) {
    const sim::ChipJobResult r = test::run_job(job);
    INFO("run " << i);
    REQUIRE(r.outputs.at("C").data == first.outputs.at("C").data);
    REQUIRE(r.total_cycles == first.total_cycles);
    REQUIRE(r.timeline_json == first.timeline_json);
    REQUIRE(strip(r.stats) == strip(first.stats));
  }
}
