// The hardware LOOP (docs/CHIP.md "LOOP"), through firmware chip_loop (and, mode 6, the report of
// a semaphore two engines wait on at once): the descriptors it
// generates do what the same descriptors pushed one by one do (checked against a closed form of
// the copy), its increments (64-bit and negative, with a PERIOD) land where the spec says, it
// generates one descriptor per [queue] loop_issue_cycles, a queue shorter than its body works,
// fast == cycle-accurate, and malformed loops fault or deadlock with a message naming the cause.
#include <fmt/format.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "model/chip/regs.h"
#include "tests/chip/chip_test_util.h"

using namespace mxemu;

namespace {

sim::ChipJob loop_job(std::uint32_t mode) {
  sim::ChipJob job;
  job.firmware_name = "chip_loop";
  job.firmware_elf = test::test_firmware("chip_loop");
  job.max_cycles = 10'000'000;
  job.scalars.emplace_back("mode", mode);
  return job;
}

struct CopyCase {
  std::size_t rows, bytes;
};

sim::ChipJob copy_job(std::uint32_t mode, const CopyCase& c, std::vector<std::uint8_t>& x) {
  std::mt19937_64 rng(c.rows * 1000 + c.bytes);
  x.resize(c.rows * c.bytes);
  for (std::uint8_t& v : x) v = static_cast<std::uint8_t>(rng());
  sim::ChipJob job = loop_job(mode);
  job.inputs.emplace_back("X", make_u8({c.rows, c.bytes}, x));
  job.read_back.emplace_back("Y");
  return job;
}

// Y[i] = X[R - 1 - floor(i / 2)], written out row by row.
std::vector<std::uint8_t> expected_copy(const std::vector<std::uint8_t>& x, const CopyCase& c) {
  std::vector<std::uint8_t> y;
  for (std::size_t i = 0; i < c.rows; ++i) {
    const std::size_t src = c.rows - 1 - i / 2;
    y.insert(y.end(), x.begin() + static_cast<std::ptrdiff_t>(src * c.bytes),
             x.begin() + static_cast<std::ptrdiff_t>((src + 1) * c.bytes));
  }
  return y;
}

// The timeline's slices of one queue, in order of start: (name, start cycle).
std::vector<std::pair<std::string, std::uint64_t>> slices(const std::string& timeline,
                                                          std::uint32_t queue) {
  std::vector<std::pair<std::string, std::uint64_t>> v;
  const nlohmann::json t = nlohmann::json::parse(timeline);
  for (const nlohmann::json& e : t["traceEvents"]) {
    if (e["ph"] != "X" || e["args"]["queue"].get<std::uint32_t>() != queue) continue;
    v.emplace_back(e["name"].get<std::string>(), e["args"]["start_cycle"].get<std::uint64_t>());
  }
  std::stable_sort(v.begin(), v.end(),
                   [](const auto& a, const auto& b) { return a.second < b.second; });
  return v;
}

}  // namespace

TEST_CASE("a DMA LOOP copies what the same descriptors pushed one by one copy", "[chip][loop]") {
  for (const CopyCase c : {CopyCase{1, 64}, CopyCase{2, 3}, CopyCase{7, 100}, CopyCase{64, 256}}) {
    INFO(fmt::format("{} rows of {} bytes", c.rows, c.bytes));
    std::vector<std::uint8_t> x;
    const sim::ChipJobResult looped = test::run_job(copy_job(0, c, x));
    const sim::ChipJobResult pushed = test::run_job(copy_job(1, c, x));
    REQUIRE(looped.exit_code == 0);
    REQUIRE(pushed.exit_code == 0);
    const std::string console =
        fmt::format("loop: {} x {}, semaphore 5 = {}\n", c.rows, c.bytes, c.rows);
    CHECK(looped.console == console);
    CHECK(pushed.console == console);
    const bool same = looped.outputs.at("Y").data == expected_copy(x, c);
    CHECK(same);
    CHECK(looped.outputs.at("Y").data == pushed.outputs.at("Y").data);
    // One LOOP of rows x 2 descriptors plus the write-back; as many copies as pushed.
    const nlohmann::json& ld = looped.stats["engines"]["DMA"];
    CHECK(ld["loops"] == 1);
    CHECK(ld["loop_descriptors"] == 2 * c.rows);
    CHECK(ld["descriptors"] == 2 * c.rows + 2);
    CHECK(ld["bytes"] == pushed.stats["engines"]["DMA"]["bytes"]);
    CHECK(pushed.stats["engines"]["DMA"]["loops"] == 0);
    // The core issues 3 descriptors instead of 2 x rows (cheaper once rows outweigh the setup).
    if (c.rows >= 64) {
      CHECK(looped.stats["core"]["instret"].get<std::uint64_t>() <
            pushed.stats["core"]["instret"].get<std::uint64_t>());
    }
  }
}

TEST_CASE("a LOOP works through a queue shorter than its body, the same in every mode",
          "[chip][loop]") {
  const CopyCase c{9, 40};
  std::vector<std::uint8_t> x;
  sim::ChipJob job = copy_job(0, c, x);
  job.record_timeline = true;
  const sim::ChipJobResult fast = test::run_job(job);
  job.cycle_accurate = true;
  const sim::ChipJobResult exact = test::run_job(job);
  REQUIRE(fast.exit_code == 0);
  REQUIRE(exact.exit_code == 0);
  CHECK(fast.total_cycles == exact.total_cycles);
  CHECK(fast.stats["engines"] == exact.stats["engines"]);
  CHECK(fast.timeline_json == exact.timeline_json);
  CHECK(fast.outputs.at("Y").data == exact.outputs.at("Y").data);

  job.cycle_accurate = false;
  job.config_path = test::temp_config("mxemu_loop_depth1.toml", "[queue]\ndepth = 1\n");
  const sim::ChipJobResult shallow = test::run_job(job);
  REQUIRE(shallow.exit_code == 0);
  const bool same = shallow.outputs.at("Y").data == expected_copy(x, c);
  CHECK(same);
  CHECK(shallow.stats["engines"]["DMA"]["loop_descriptors"] == 2 * c.rows);
}

TEST_CASE("a LOOP generates one descriptor per loop_issue_cycles", "[chip][loop]") {
  for (const std::uint32_t gap : {1U, 7U}) {
    INFO("loop_issue_cycles = " << gap);
    sim::ChipJob job = loop_job(2);
    const std::uint32_t n = 25;
    job.scalars.emplace_back("n", n);
    job.record_timeline = true;
    job.config_path = test::temp_config(fmt::format("mxemu_loop_gap{}.toml", gap),
                                        fmt::format("[queue]\nloop_issue_cycles = {}\n", gap));
    const sim::ChipJobResult r = test::run_job(job);
    REQUIRE(r.exit_code == 0);
    CHECK(r.console == fmt::format("loop: semaphore 6 = {}\n", n));
    const auto v = slices(r.timeline_json, chip::regs::kQueueVpu);
    REQUIRE(v.size() == n + 1);
    CHECK(v[0].first == fmt::format("LOOP {} x 1", n));
    for (std::size_t i = 1; i < v.size(); ++i) {
      INFO("descriptor " << i);
      CHECK(v[i].first == "NOP");
      CHECK(v[i].second - v[i - 1].second == gap);  // the first one too: gap after the LOOP
    }
    CHECK(r.stats["engines"]["VPU"]["loop_descriptors"] == n);
  }
}

TEST_CASE("malformed LOOPs fault, a body never pushed is a deadlock", "[chip][loop][faults]") {
  const auto error_of = [](const sim::ChipJob& job) -> std::string {
    try {
      test::run_job(job);
    } catch (const Error& e) {
      CHECK(e.code() == ExitCode::kSimFault);  // a fault and a deadlock alike: exit 3
      return e.what();
    }
    return "no error";
  };
  const std::string deadlock = error_of(loop_job(3));
  CHECK_THAT(deadlock, Catch::Contains("deadlock: the core waits on FENCE"));
  CHECK_THAT(deadlock, Catch::Contains("its LOOP waits for 1 body descriptor(s) not pushed yet"));
  CHECK_THAT(error_of(loop_job(4)), Catch::Contains("body descriptor 0 is a LOOP"));
  CHECK_THAT(error_of(loop_job(5)), Catch::Contains("an increment of word 0 made a body"));

  // Headers the sequencer refuses before it takes any body (through chip_raw_desc).
  using namespace chip::regs;
  const std::uint32_t lp = kOpLoop;
  struct Bad {
    std::vector<std::uint32_t> words;
    const char* message;
  };
  const Bad cases[] = {
      {{lp, 0, 1}, "COUNT is 0"},
      {{lp, 4, 0}, "BODY 0 is not 1 to 8"},
      {{lp, 4, 9}, "BODY 9 is not 1 to 8"},
      {{lp | (1U << 14), 4, 1}, "a LOOP cannot wait or signal"},
      {{lp | (1U << 15), 4, 1}, "a LOOP cannot wait or signal"},
      {{lp, 4, 2, 1 | (2U << 1), 8}, "increment 0 applies to body descriptor 2, but BODY is 2"},
      {{lp, 4, 1, 0, 0, 1 | (15U << 4) | (1U << 8), 1}, "increment 1: a WIDE increment needs WORD"},
  };
  for (const Bad& b : cases) {
    INFO(b.message);
    sim::ChipJob job;
    job.firmware_name = "chip_raw_desc";
    job.firmware_elf = test::test_firmware("chip_raw_desc");
    job.max_cycles = 10'000'000;
    job.scalars.emplace_back("q", kQueueDma);
    for (std::size_t i = 0; i < b.words.size(); ++i)
      job.scalars.emplace_back(fmt::format("w{}", i), b.words[i]);
    const std::string e = error_of(job);
    CHECK_THAT(e, Catch::Contains(b.message));
    CHECK_THAT(e, Catch::Contains("DMA queue, descriptor #0 (opcode 255)"));
  }
}

TEST_CASE("a semaphore two engines wait on at once is reported", "[chip][sync]") {
  const sim::ChipJobResult r = test::run_job(loop_job(6));
  REQUIRE(r.exit_code == 0);
  const nlohmann::json& shared = r.stats["semaphores_shared"];
  REQUIRE(shared.size() == 1);
  CHECK(shared[0]["semaphore"] == 7);
  CHECK(shared[0]["queues"] == nlohmann::json::array({"DMA", "VPU"}));
  CHECK(shared[0]["cycle"].get<std::uint64_t>() > 0);
  // The DMA copy of mode 0 waits on nothing it shares: nothing reported.
  std::vector<std::uint8_t> x;
  const sim::ChipJobResult plain = test::run_job(copy_job(0, CopyCase{4, 16}, x));
  CHECK(plain.stats["semaphores_shared"].empty());
}
