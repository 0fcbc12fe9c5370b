// Several chips in one simulation (the pod-ready chip): each runs its own firmware and ends on
// its own; every chip's outputs, cycles and statistics equal its single-chip run of the same
// job; one chip's fault or deadlock is reported with its index while the others' results are
// kept; names, identity and timeline processes are per chip; host threads change nothing.
#include <fmt/core.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <regex>
#include <set>

#include "model/chip/regs.h"
#include "model/common/error.h"
#include "model/sim/simulation.h"
#include "testbench/mxemu/bundled.h"
#include "tests/chip/chip_test_util.h"

using namespace mxemu;

namespace {

// The statistics that must not depend on which pod the chip ran in, or on the host.
nlohmann::json comparable(nlohmann::json s) {
  for (const char* k : {"host_seconds", "chip_index", "coords", "sc_name", "firmware"}) s.erase(k);
  s["core"].erase("host_mips");
  return s;
}

sim::ChipProgram program_of(const sim::ChipJob& job) {
  return static_cast<const sim::ChipProgram&>(job);
}

sim::ChipJob quantize_job(std::mt19937_64& rng, std::size_t rows, std::size_t cols) {
  std::vector<float> x(rows * cols);
  std::normal_distribution<float> d(0.0F, 3.0F);
  for (float& v : x) v = d(rng);
  sim::ChipJob job;
  job.firmware_name = "quantize";
  job.firmware_elf = bundled::elf("quantize");
  job.inputs.emplace_back("X", make_f32({rows, cols}, x));
  job.read_back = {"Q", "S"};
  return job;
}

// The same job alone on one chip, for comparison.
sim::ChipJobResult alone(const sim::ChipJob& job) {
  return test::run_job(job);
}

void require_same_run(const sim::ChipJobResult& pod, const sim::ChipJobResult& single) {
  REQUIRE(pod.end.kind == chip::ChipEnd::Kind::kExit);
  CHECK(pod.exit_code == single.exit_code);
  CHECK(pod.total_cycles == single.total_cycles);
  REQUIRE(pod.outputs.size() == single.outputs.size());
  for (const auto& [name, a] : single.outputs) {
    INFO(name);
    CHECK(pod.outputs.at(name).shape == a.shape);
    CHECK(pod.outputs.at(name).data == a.data);
  }
  CHECK(comparable(pod.stats) == comparable(single.stats));
  CHECK(pod.console == single.console);
}

sim::PodJob pod_of(std::vector<sim::ChipProgram> programs, const sim::SimConfig& cfg) {
  sim::PodJob job;
  job.config = cfg;
  job.programs = std::move(programs);
  return job;
}

sim::SimConfig shaped(std::vector<std::uint32_t> shape,
                      sim::OnFailure on_failure = sim::OnFailure::kStop) {
  sim::SimConfig c;
  c.pod.shape = std::move(shape);
  c.pod.on_failure = on_failure;
  return c;
}

}  // namespace

TEST_CASE("two chips run different firmware, each as it runs alone", "[chip][pod]") {
  std::mt19937_64 rng(2);
  const sim::GemmJob g = test::random_gemm(rng, 100, 96, 130, 32);
  const sim::ChipJob gemm = sim::make_gemm_job(g, bundled::elf("gemm"));
  const sim::ChipJob quant = quantize_job(rng, 64, 128);
  const sim::ChipJobResult a = alone(gemm), b = alone(quant);
  test::require_bit_exact(a.outputs.at("C"), g);
  // The two take different times: each must end on its own (the first does not stop the other).
  REQUIRE(a.total_cycles != b.total_cycles);

  const sim::PodResult r =
      test::run_pod(pod_of({program_of(gemm), program_of(quant)}, shaped({2, 1, 1})));
  REQUIRE(r.chips.size() == 2);
  CHECK_FALSE(r.first_failure);
  require_same_run(r.chips[0], a);
  require_same_run(r.chips[1], b);
  CHECK(r.stats["pod"]["chips"] == 2);
  CHECK(r.stats["pod"]["total_cycles"] == std::max(a.total_cycles, b.total_cycles));
  CHECK(r.stats["chips"][1]["chip_index"] == 1);
  CHECK(r.stats["chips"][1]["sc_name"] == "pod.chip1");
}

TEST_CASE("eight chips, each with its own GEMM, equal their single-chip runs", "[chip][pod]") {
  std::vector<sim::GemmJob> gemms;
  std::vector<sim::ChipJob> jobs;
  std::vector<sim::ChipProgram> progs;
  for (std::size_t i = 0; i < 8; ++i) {
    std::mt19937_64 rng(100 + i);
    gemms.push_back(
        test::random_gemm(rng, 16 + 24 * i, 64 + 32 * i, 40 + 20 * i, i % 2 == 0 ? 32 : 0));
    jobs.push_back(sim::make_gemm_job(gemms.back(), bundled::elf("gemm")));
    progs.push_back(program_of(jobs.back()));
  }
  const sim::PodResult r = test::run_pod(pod_of(progs, shaped({2, 2, 2})));
  REQUIRE(r.chips.size() == 8);
  std::set<std::uint64_t> ends;
  for (std::size_t i = 0; i < 8; ++i) {
    INFO("chip " << i);
    test::require_bit_exact(r.chips[i].outputs.at("C"), gemms[i]);
    require_same_run(r.chips[i], alone(jobs[i]));
    ends.insert(r.chips[i].total_cycles);
  }
  // They end at different cycles, and each as it does alone: the first end stopped nobody.
  CHECK(ends.size() > 4);
}

TEST_CASE("each chip knows its index and coordinates; names and timeline are per chip",
          "[chip][pod]") {
  sim::ChipProgram p;
  p.firmware_name = "identity";
  p.firmware_elf = test::test_firmware("chip_identity");
  sim::PodJob job = pod_of({p}, shaped({2, 2, 2}));
  job.record_timeline = true;
  const sim::PodResult r = test::run_pod(job);
  REQUIRE(r.chips.size() == 8);
  for (std::uint32_t i = 0; i < 8; ++i) {
    INFO("chip " << i);
    const std::uint32_t x = i % 2, y = i / 2 % 2, z = i / 4;
    CHECK(r.chips[i].exit_code == static_cast<int>(100 + i));
    // Control registers, then the launch block's header (ABI version 2).
    CHECK(r.chips[i].console == fmt::format("id 1 {} 8 {} {} {} | {} {} 8 {} {} {}\n", i, x, y, z,
                                            chip::regs::kAbiVersion, i, x, y, z));
    CHECK(r.chips[i].stats["sc_name"] == fmt::format("pod.chip{}", i));
    CHECK(r.chips[i].stats["coords"] == nlohmann::json::array({x, y, z}));
  }
  // One process per chip in the merged timeline, named after the chip.
  const auto t = nlohmann::json::parse(r.timeline_json);
  std::set<int> pids;
  for (const auto& e : t["traceEvents"]) {
    if (e["name"] == "process_name") {
      const int pid = e["pid"].get<int>();
      CHECK(e["args"]["name"] ==
            (pid < 8 ? fmt::format("chip{} (mx1)", pid) : std::string("ICI links")));
      pids.insert(pid);
    }
  }
  CHECK(pids == std::set<int>{0, 1, 2, 3, 4, 5, 6, 7, 8});  // the chips, then the links
}

TEST_CASE("module names are hierarchical: pod.chipN.unit", "[chip][pod]") {
  struct Fresh {
    ~Fresh() {
      // NOLINTNEXTLINE(bugprone-unhandled-exception-at-new): out of memory ends the test run
      sc_core::sc_curr_simcontext = new sc_core::sc_simcontext();
      sc_core::sc_default_global_context = sc_core::sc_curr_simcontext;
    }
  } fresh;
  sim::SimConfig cfg = shaped({3, 1, 1});
  sim::Simulation s("pod", cfg, 1000, 1);
  REQUIRE(s.size() == 3);
  CHECK(std::string(s.chip(2).name()) == "pod.chip2");
  std::set<std::string> names;
  for (const auto& e : s.chip(2).engines()) names.insert(e->name());
  CHECK(names == std::set<std::string>{"pod.chip2.dma", "pod.chip2.vpu", "pod.chip2.ici",
                                       "pod.chip2.mxu0", "pod.chip2.mxu1"});
  CHECK(std::string(s.chip(2).router().name()) == "pod.chip2.ici_ports");
  CHECK(std::string(s.fabric().name()) == "pod.ici");
  CHECK(std::string(s.chip(1).hbm().name()) == "pod.chip1.hbm");
  CHECK(s.chip(1).identity().index == 1);
  CHECK(s.chip(1).identity().coord == std::array<std::uint32_t, 3>{1, 0, 0});
}

TEST_CASE("one chip's fault is reported with its index; the others' results are kept",
          "[chip][pod][faults]") {
  std::mt19937_64 rng(5);
  const sim::GemmJob g = test::random_gemm(rng, 64, 128, 64, 32);
  const sim::ChipJob gemm = sim::make_gemm_job(g, bundled::elf("gemm"));
  sim::ChipProgram bad;
  bad.firmware_name = "bad_descriptor";
  bad.firmware_elf = test::test_firmware("chip_bad_descriptor");
  const std::vector<sim::ChipProgram> progs{program_of(gemm), program_of(gemm), bad,
                                            program_of(gemm)};
  const sim::ChipJobResult single = alone(gemm);

  SECTION("on_failure = continue: the others run to their end") {
    const sim::PodResult r =
        test::run_pod(pod_of(progs, shaped({4, 1, 1}, sim::OnFailure::kContinue)));
    REQUIRE(r.first_failure == 2u);
    CHECK(r.chips[2].end.kind == chip::ChipEnd::Kind::kFault);
    CHECK(r.chips[2].end.error == ExitCode::kSimFault);
    CHECK_THAT(r.chips[2].end.message, Catch::Contains("engine fault: MXU0 queue, descriptor #1"));
    CHECK(r.stats["pod"]["first_failure"] == 2);
    for (const std::size_t i : {0u, 1u, 3u}) {
      INFO("chip " << i);
      test::require_bit_exact(r.chips[i].outputs.at("C"), g);
      require_same_run(r.chips[i], single);
    }
  }
  SECTION("on_failure = stop: the others stop where they stood") {
    const sim::PodResult r = test::run_pod(pod_of(progs, shaped({4, 1, 1})));
    REQUIRE(r.first_failure == 2u);
    CHECK(r.chips[2].end.kind == chip::ChipEnd::Kind::kFault);
    for (const std::size_t i : {0u, 1u, 3u}) {
      INFO("chip " << i);
      // The bad descriptor faults within a few hundred cycles, long before a GEMM ends.
      CHECK(r.chips[i].end.kind == chip::ChipEnd::Kind::kStopped);
      CHECK_THAT(r.chips[i].end.message, Catch::Contains("because chip 2 failed"));
      CHECK(r.chips[i].total_cycles < single.total_cycles);
      CHECK(r.chips[i].outputs.empty());
    }
  }
}

TEST_CASE("a deadlock is found by the watchdog while other chips keep the simulation busy",
          "[chip][pod][faults]") {
  sim::ChipProgram spin, dead;
  spin.firmware_name = "forever";
  spin.firmware_elf = test::test_firmware("bad_forever");
  dead.firmware_name = "deadlock";
  dead.firmware_elf = test::test_firmware("chip_deadlock");
  sim::SimConfig cfg = shaped({2, 1, 1}, sim::OnFailure::kContinue);
  cfg.chip.watchdog_cycles = 10'000;
  sim::PodJob job = pod_of({spin, dead}, cfg);
  job.max_cycles = 300'000;
  const sim::PodResult r = test::run_pod(job);
  REQUIRE(r.first_failure == 1u);
  const chip::ChipEnd& d = r.chips[1].end;
  CHECK(d.kind == chip::ChipEnd::Kind::kDeadlock);
  CHECK(d.error == ExitCode::kSimFault);
  CHECK_THAT(d.message, Catch::Contains("FENCE"));
  CHECK_THAT(d.message, Catch::Contains("DMA has 1 descriptor(s) pending"));
  CHECK_THAT(d.message, Catch::Contains("semaphore 5 (value 0)"));
  // Found within two watchdog periods of the stall, while chip 0 still spins.
  CHECK(d.cycle <= 2 * cfg.chip.watchdog_cycles + 1000);
  CHECK(r.chips[0].end.kind == chip::ChipEnd::Kind::kLimit);
  CHECK(r.chips[0].end.error == ExitCode::kLimit);
  CHECK(r.chips[0].total_cycles >= 300'000);
}

TEST_CASE("outputs, cycles and statistics do not depend on the host thread count",
          "[chip][pod][determinism]") {
  std::mt19937_64 rng(9);
  const sim::GemmJob g = test::random_gemm(rng, 300, 256, 200, 32, true, true);
  sim::ChipJob job = sim::make_gemm_job(g, bundled::elf("gemm"));
  job.record_timeline = true;
  std::vector<sim::ChipJobResult> runs;
  for (const unsigned threads : {1u, 2u, 3u}) {
    job.threads = threads;
    runs.push_back(test::run_job(job));
  }
  test::require_bit_exact(runs[0].outputs.at("C"), g);
  for (std::size_t i = 1; i < runs.size(); ++i) {
    CHECK(runs[i].outputs.at("C").data == runs[0].outputs.at("C").data);
    CHECK(runs[i].timeline_json == runs[0].timeline_json);
    CHECK(comparable(runs[i].stats) == comparable(runs[0].stats));
  }
}

TEST_CASE("pod jobs refuse a program count that fits no chip count", "[chip][pod][faults]") {
  sim::ChipProgram p;
  p.firmware_name = "identity";
  p.firmware_elf = test::test_firmware("chip_identity");
  CHECK_THROWS_WITH(test::run_pod(pod_of({p, p}, shaped({3, 1, 1}))),
                    Catch::Contains("2 programs for a pod of 3 chips"));
  sim::PodJob job = pod_of({p}, shaped({2, 1, 1}));
  job.gdb_port = 0;
  job.gdb_chip = 2;
  CHECK_THROWS_WITH(test::run_pod(job), Catch::Contains("--gdb names chip 2, but the pod has 2"));
}
