// Bad input and faults on the chip: invalid descriptors fault naming queue, descriptor and
// cycle; semaphore deadlocks are reported, never a hang; bad tensors are refused before any
// simulation.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "model/common/error.h"
#include "testbench/mxemu/bundled.h"
#include "tests/chip/chip_test_util.h"

using namespace mxemu;

namespace {
chip::ChipJob plain_job(const std::string& fw) {
  chip::ChipJob job;
  job.firmware_name = fw;
  job.firmware_elf = test::test_firmware(fw);
  job.max_cycles = 10'000'000;
  return job;
}

// The error of running `job`: its code and message.
Error run_error(const chip::ChipJob& job) {
  try {
    test::run_job(job);
  } catch (const Error& e) {
    return e;
  }
  FAIL("the run did not fail");
  return Error(ExitCode::kOk, "");
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
  chip::GemmJob g;
  g.a = make_u8({4, 64}, std::vector<std::uint8_t>(256, 0x38));
  g.b = make_u8({32, 8}, std::vector<std::uint8_t>(256, 0x38));
  CHECK_THROWS_WITH(chip::make_gemm_job(g, bundled::elf("gemm")),
                    Catch::Contains("A's columns must equal B's rows"));
  g.b = make_u8({64, 4}, std::vector<std::uint8_t>(256, 0x38));
  g.sa = make_u8({4, 1}, {127, 127, 127, 127});
  g.sb = make_u8({1, 4}, {127, 127, 127, 127});
  g.block = 48;
  CHECK_THROWS_WITH(chip::make_gemm_job(g, bundled::elf("gemm")),
                    Catch::Contains("not a multiple of the block"));
  g.block = 64;
  g.c0 = make_u8({4, 4}, std::vector<std::uint8_t>(16, 0));
  CHECK_THROWS_WITH(chip::make_gemm_job(g, bundled::elf("gemm")),
                    Catch::Contains("C_init must be float32, got uint8"));
  g.c0.reset();
  g.a = make_f32({4, 64}, std::vector<float>(256, 1.0F));
  CHECK_THROWS_WITH(chip::make_gemm_job(g, bundled::elf("gemm")),
                    Catch::Contains("A must be a uint8 array"));
}

TEST_CASE("tensors that do not fit in HBM are refused", "[chip][faults]") {
  const std::string cfg = (std::filesystem::temp_directory_path() / "mxemu_tiny_hbm.toml").string();
  {
    std::ofstream f(cfg);
    f << "[hbm.organisation]\nstacks = 1\nchannels_per_stack = 1\nrows = 2\n";
  }
  chip::GemmJob g;
  g.a = make_u8({256, 256}, std::vector<std::uint8_t>(65536, 0x38));
  g.b = make_u8({256, 256}, std::vector<std::uint8_t>(65536, 0x38));
  chip::ChipJob job = chip::make_gemm_job(g, bundled::elf("gemm"));
  job.config_path = cfg;
  const Error e = run_error(job);
  CHECK(e.code() == ExitCode::kBadInput);
  CHECK_THAT(std::string(e.what()), Catch::Contains("does not fit in HBM"));
}
