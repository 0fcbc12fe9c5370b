// Bad input and faults on the chip: invalid descriptors fault naming queue, descriptor and
// cycle; semaphore deadlocks are reported, never a hang; bad tensors are refused before any
// simulation.
#include <fmt/core.h>
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "model/chip/regs.h"
#include "model/common/error.h"
#include "testbench/mxemu/bundled.h"
#include "tests/chip/chip_test_util.h"

using namespace mxemu;

namespace {
sim::ChipJob plain_job(const std::string& fw) {
  sim::ChipJob job;
  job.firmware_name = fw;
  job.firmware_elf = test::test_firmware(fw);
  job.max_cycles = 10'000'000;
  return job;
}

// The error of running `job`: its code and message.
Error run_error(const sim::ChipJob& job) {
  try {
    test::run_job(job);
  } catch (const Error& e) {
    return e;
  }
  FAIL("the run did not fail");
  return {ExitCode::kOk, ""};
}
}  // namespace

TEST_CASE("an invalid descriptor faults its engine with queue, descriptor and cycle",
          "[chip][faults]") {
  const Error e = run_error(plain_job("chip_bad_descriptor"));
  CHECK(e.code() == ExitCode::kSimFault);
  const std::string msg = e.what();
  CHECK_THAT(msg, Catch::Contains("engine fault: MXU0 queue, descriptor #1"));
  CHECK_THAT(msg, Catch::Contains("at cycle"));
  CHECK_THAT(msg, Catch::Contains("activations"));
}

TEST_CASE("a semaphore deadlock is detected and reported", "[chip][faults]") {
  const Error e = run_error(plain_job("chip_deadlock"));
  CHECK(e.code() == ExitCode::kSimFault);
  const std::string msg = e.what();
  CHECK_THAT(msg, Catch::Contains("deadlock"));
  CHECK_THAT(msg, Catch::Contains("FENCE"));
  CHECK_THAT(msg, Catch::Contains("DMA has 1 descriptor(s) pending"));
  CHECK_THAT(msg, Catch::Contains("semaphore 5"));
}

TEST_CASE("gemm jobs refuse bad tensors before simulating", "[chip][faults]") {
  sim::GemmJob g;
  g.a = make_u8({4, 64}, std::vector<std::uint8_t>(256, 0x38));
  g.b = make_u8({32, 8}, std::vector<std::uint8_t>(256, 0x38));
  CHECK_THROWS_WITH(sim::make_gemm_job(g, bundled::elf("gemm")),
                    Catch::Contains("A's columns must equal B's rows"));
  g.b = make_u8({64, 4}, std::vector<std::uint8_t>(256, 0x38));
  g.sa = make_u8({4, 1}, {127, 127, 127, 127});
  g.sb = make_u8({1, 4}, {127, 127, 127, 127});
  g.block = 48;
  CHECK_THROWS_WITH(sim::make_gemm_job(g, bundled::elf("gemm")),
                    Catch::Contains("not a multiple of the block"));
  g.block = 64;
  g.c0 = make_u8({4, 4}, std::vector<std::uint8_t>(16, 0));
  CHECK_THROWS_WITH(sim::make_gemm_job(g, bundled::elf("gemm")),
                    Catch::Contains("C_init must be float32, got uint8"));
  g.c0.reset();
  g.a = make_f32({4, 64}, std::vector<float>(256, 1.0F));
  CHECK_THROWS_WITH(sim::make_gemm_job(g, bundled::elf("gemm")),
                    Catch::Contains("A must be a uint8 array"));
}

TEST_CASE("tensors that do not fit in HBM are refused", "[chip][faults]") {
  const std::string cfg = test::temp_config(
      "mxemu_tiny_hbm.toml", "[hbm.organisation]\nstacks = 1\nchannels_per_stack = 1\nrows = 2\n");
  sim::GemmJob g;
  g.a = make_u8({256, 256}, std::vector<std::uint8_t>(65536, 0x38));
  g.b = make_u8({256, 256}, std::vector<std::uint8_t>(65536, 0x38));
  sim::ChipJob job = sim::make_gemm_job(g, bundled::elf("gemm"));
  job.config_path = cfg;
  const Error e = run_error(job);
  CHECK(e.code() == ExitCode::kBadInput);
  CHECK_THAT(std::string(e.what()), Catch::Contains("does not fit in HBM"));
}

namespace {
// Runs firmware chip_raw_desc with one descriptor for queue q; returns the error of the run.
Error raw_descriptor_error(std::uint32_t q, const std::vector<std::uint32_t>& words) {
  sim::ChipJob job = plain_job("chip_raw_desc");
  job.scalars.emplace_back("q", q);
  for (std::size_t i = 0; i < words.size(); ++i)
    job.scalars.emplace_back(fmt::format("w{}", i), words[i]);
  return run_error(job);
}
}  // namespace

TEST_CASE("malformed descriptors fault their engine, never hang or crash", "[chip][faults]") {
  using namespace chip::regs;
  struct Bad {
    std::uint32_t q;
    std::vector<std::uint32_t> words;
    const char* message;
  };
  const std::uint32_t dma = kOpDmaCopy, loadw = kOpMxuLoadW, vpu = kOpVpuOp;
  const Bad cases[] = {
      {kQueueDma, {77}, "DMA queue, descriptor #0 (opcode 77) at cycle"},
      {kQueueDma, {77}, "unknown DMA opcode 77"},
      {kQueueVpu, {9}, "unknown VPU opcode 9"},
      {kQueueMxu0 + 1, {9}, "MXU1 queue"},
      // DMA of 2^31 one-byte rows with zero strides: refused, not simulated for hours.
      {kQueueDma,
       {dma, 0, 0, 4096, 0, 1, 0x80000000u, 1, 0, 0, 0, 0},
       "exceeds the descriptor limit"},
      {kQueueDma, {dma, 0, 0, 0, 0, 0, 1, 1}, "empty transfer"},
      {kQueueDma, {dma, 0x15000000u, 0, 0, 0, 64, 1, 1}, "names ACC5 but the chip has 2 MXUs"},
      {kQueueDma, {dma, 0, 0x11, 0, 0, 64, 1, 1}, "leaves HBM"},  // 64 GiB past HBM's base
      // Signal and wait on semaphores that do not exist (the fields allow up to 63).
      {kQueueDma, {(1u << 15) | (40u << 16)}, "SIGNAL_SEM 40 does not exist"},
      {kQueueVpu, {(1u << 14) | (50u << 8)}, "WAIT_SEM 50 does not exist"},
      {kQueueMxu0, {loadw, 0, 16, (200u << 16) | 16}, "does not fit the 128x128 array"},
      {kQueueVpu, {vpu, 99, 0, 0, 0, 0, 0, 0, 4, 4, 16, 16, 16}, "unknown VPU function 99"},
  };
  for (const Bad& b : cases) {
    INFO(b.message);
    const Error e = raw_descriptor_error(b.q, b.words);
    CHECK(e.code() == ExitCode::kSimFault);
    CHECK_THAT(std::string(e.what()), Catch::Contains(b.message));
  }
}
