// RTL in the chip's loop (rtl/loop, [rtl] table): the checkers on their own, fed the folds and
// schedules of model/mxu's fast path, and whole chip GEMMs with the Verilated tile or the
// Verilated fp8_fused under every MAC. The oracles: the RTL itself (an independent
// implementation of DESIGN §3 and docs/TIMING.md) for the checkers, and the numerics library's
// exact GEMM (tests/chip/chip_test_util.h) for the chip's results; a deliberately corrupted output
// or cycle must be reported with the fold, row, column, cycle, expected and got.
#include <fmt/core.h>
#include <fmt/format.h>
#include <fstapi.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>

#include <memory>
#include <random>
#include <span>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "Vmxu_tile4.h"
#include "Vmxu_tile8.h"
#include "Vmxu_tile8p1.h"
#include "model/chip/regs.h"
#include "model/chip/rtl_plugins.h"
#include "model/common/error.h"
#include "rtl/loop/convert_check.h"
#include "rtl/loop/datapath_check.h"
#include "rtl/loop/tile_check.h"
#include "rtl/loop/verilated_rtl.h"
#include "testbench/cosim/cvt_harness.h"
#include "testbench/cosim/random_folds.h"
#include "testbench/mxemu/bundled.h"
#include "tests/chip/chip_test_util.h"

using namespace mxemu;
using Catch::Matchers::Contains;

namespace {

// Folds scheduled by the fast path, some with a gap before them (idle stretches the checker
// skips), with the model's outputs; optionally one output or one fold's cycles corrupted.
struct Run {
  std::vector<cosim::FoldData> data;
  std::vector<mxu::FoldTiming> timing;
  std::vector<std::vector<float>> out;
  std::vector<std::uint64_t> now;
};

Run model_run(const mxu::SystolicConfig& cfg, std::uint64_t seed, std::size_t folds) {
  std::mt19937_64 rng(seed);
  mxu::SystolicCore core(cfg);
  Run r;
  const auto rows = static_cast<std::size_t>(cfg.rows);
  std::uint64_t earliest = 0;
  for (std::size_t f = 0; f < folds; ++f) {
    const std::size_t m = 1 + rng() % (3 * rows);
    r.data.push_back(cosim::random_fold(rng, cfg, m, 5));
    // Every third fold waits for its weights (a gap of up to 300 cycles).
    if (f % 3 == 2) earliest += 100 + rng() % 200;
    std::vector<float> out(m * static_cast<std::size_t>(cfg.cols));
    r.timing.push_back(core.run_fold(r.data.back().spec(), out, earliest));
    r.out.push_back(std::move(out));
    r.now.push_back(earliest);
    earliest = r.timing.back().load_start;
  }
  return r;
}

void feed(mxu::FoldCheck& check, const Run& r) {
  for (std::size_t f = 0; f < r.data.size(); ++f)
    check.fold(r.data[f].spec(), r.timing[f], r.out[f], r.now[f]);
  check.drain();
}

std::uint64_t outputs_of(const Run& r, int cols) {
  std::uint64_t n = 0;
  for (const auto& d : r.data) n += d.m * static_cast<std::uint64_t>(cols);
  return n;
}

template <typename Top>
void tile_agrees(int size, int latency, std::uint64_t seed) {
  mxu::SystolicConfig cfg;
  cfg.rows = size;
  cfg.cols = size;
  cfg.pe_latency_cycles = latency;
  const Run r = model_run(cfg, seed, 12);
  rtl::TileCheck<Top> check(cfg, "test.mxu0");
  feed(check, r);
  CHECK(check.outputs_checked() == outputs_of(r, size));
  CHECK(check.macs_checked() == outputs_of(r, size) * static_cast<std::uint64_t>(size));
  // Idle stretches are skipped, not clocked: fewer cycles evaluated than the run is long.
  const std::uint64_t end = r.timing.back().last_out_cycle() + 1;
  CHECK(check.cycles_evaluated() > 0);
  CHECK(check.cycles_evaluated() < end);
}

}  // namespace

TEST_CASE("the Verilated tile in the loop agrees with the fast path on scheduled folds",
          "[rtl][loop]") {
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    tile_agrees<Vmxu_tile4>(4, 1, seed);
    tile_agrees<Vmxu_tile8>(8, 1, seed + 10);
    tile_agrees<Vmxu_tile8p1>(8, 2, seed + 20);
  }
}

TEST_CASE("the tile in the loop stops at a wrong value with fold, row, column and cycle",
          "[rtl][loop]") {
  mxu::SystolicConfig cfg;
  cfg.rows = cfg.cols = 8;
  Run r = model_run(cfg, 7, 6);
  // Fold 3, row 1, column 5: one bit of the model's output flipped.
  r.out[3][1 * 8 + 5] = num::f32_from_bits(num::f32_bits(r.out[3][1 * 8 + 5]) ^ 0x10u);
  const std::uint64_t cycle = r.timing[3].out_cycle(1, 5);
  rtl::TileCheck<Vmxu_tile8> check(cfg, "pod.chip0.mxu1");
  try {
    feed(check, r);
    FAIL("the corrupted output was not reported");
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::kSimFault);
    const std::string w = e.what();
    INFO(w);
    CHECK_THAT(w, Contains("RTL mismatch in pod.chip0.mxu1"));
    CHECK_THAT(w, Contains("fold 3 row 1 col 5"));
    CHECK_THAT(w, Contains(fmt::format("at cycle {}, got", cycle)));
    CHECK_THAT(w, Contains(fmt::format("expected 0x{:08x}", num::f32_bits(r.out[3][13]))));
    CHECK_THAT(w, Contains("k7:a="));  // operands and scales of the whole column
  }
}

TEST_CASE("the tile in the loop stops at an output on the wrong cycle", "[rtl][loop]") {
  mxu::SystolicConfig cfg;
  cfg.rows = cfg.cols = 4;
  Run r = model_run(cfg, 9, 5);
  // The model claims fold 2 leaves one cycle later than the RTL gives it.
  ++r.timing[2].out_base;
  const std::uint64_t want = r.timing[2].out_cycle(0, 0);
  rtl::TileCheck<Vmxu_tile4> check(cfg, "chip.mxu0");
  try {
    feed(check, r);
    FAIL("the shifted schedule was not reported");
  } catch (const Error& e) {
    const std::string w = e.what();
    INFO(w);
    CHECK_THAT(w, Contains("fold 2 row 0 col 0"));
    CHECK_THAT(w, Contains(fmt::format("at cycle {}, got", want)));
    CHECK_THAT(w, Contains(fmt::format("at cycle {}:", want - 1)));
  }
}

TEST_CASE("the datapath in the loop checks every MAC of a full-size 128x128 fold", "[rtl][loop]") {
  mxu::SystolicConfig cfg;  // 128 x 128
  const Run r = model_run(cfg, 3, 3);
  rtl::DatapathCheck check(cfg, "chip.mxu0");
  feed(check, r);
  CHECK(check.outputs_checked() == outputs_of(r, 128));
  CHECK(check.macs_checked() == outputs_of(r, 128) * 128);

  Run bad = r;
  bad.out[1][2 * 128 + 77] = num::f32_from_bits(num::f32_bits(bad.out[1][2 * 128 + 77]) + 1);
  rtl::DatapathCheck again(cfg, "chip.mxu0");
  try {
    feed(again, bad);
    FAIL("the corrupted output was not reported");
  } catch (const Error& e) {
    const std::string w = e.what();
    INFO(w.substr(0, 600));
    CHECK_THAT(w, Contains("fold 1 row 2 col 77: expected"));
    // Every fused step agrees, so the report blames the model's GEMM, not the RTL.
    CHECK_THAT(w, Contains("every step agrees with the C++ fused step"));
  }
}

TEST_CASE("the provider names the tiles it has and refuses others", "[rtl][loop]") {
  const rtl::VerilatedRtl rtl;
  mxu::SystolicConfig cfg;
  cfg.rows = cfg.cols = 12;
  REQUIRE_THROWS_WITH(rtl.mxu_check("tile", cfg, "chip.mxu0", {}),
                      Contains("no Verilated mxu_tile of 12x12") && Contains("built: 4x4"));
  cfg.rows = cfg.cols = 16;
  cfg.pe_latency_cycles = 2;
  REQUIRE_THROWS_WITH(rtl.mxu_check("tile", cfg, "chip.mxu0", {}), Contains("pe_latency_cycles 2"));
  CHECK(rtl.mxu_check("datapath", cfg, "chip.mxu0", {}) != nullptr);
  REQUIRE_THROWS_WITH(rtl.mxu_check("pe", cfg, "chip.mxu0", {}), Contains("\"pe\" is not one of"));
  cfg.rows = cfg.cols = 32;
  cfg.pe_latency_cycles = 1;
#ifdef MXEMU_HAVE_TILE32
  CHECK(rtl.mxu_check("tile", cfg, "chip.mxu0", {}) != nullptr);  // the default build has it
#else
  REQUIRE_THROWS_WITH(rtl.mxu_check("tile", cfg, "chip.mxu0", {}),
                      Contains("no Verilated mxu_tile of 32x32"));  // -DMXEMU_RTL_BIG_TILES=""
#endif
}

// ------------------------------------------------------------------------------------------
// Whole chip runs: the bundled gemm firmware with RTL in the loop.
// ------------------------------------------------------------------------------------------
namespace {

struct ChipCase {
  int size;
  int latency;
  const char* mode;
  std::size_t m, k, n;
  int block;
};

std::string chip_config(const ChipCase& c) {
  return fmt::format(
      "[mxu]\ncount = 2\nrows = {0}\ncols = {0}\npe_latency_cycles = {1}\n[mx]\nblock = {2}\n",
      c.size, c.latency, c.block);
}

sim::ChipJobResult run_gemm(const ChipCase& c, const sim::GemmJob& g, const std::string& mode,
                            const chip::RtlPlugins* rtl) {
  sim::ChipJob job = sim::make_gemm_job(g, bundled::elf("gemm"));
  job.config_path = test::temp_config(fmt::format("rtl_loop_{}_{}.toml", c.size, c.latency),
                                      chip_config(c) + "[rtl]\nmxu = \"" + mode + "\"\n");
  job.rtl = rtl;
  return test::run_job(job);
}

}  // namespace

TEST_CASE("chip GEMMs with the RTL in the loop: bit-exact, same cycles, every output checked",
          "[rtl][loop][chip]") {
  const rtl::VerilatedRtl rtl;
  std::vector<ChipCase> cases = {
      {8, 1, "tile", 37, 72, 29, 8},
      {8, 2, "tile", 20, 40, 17, 4},
      {16, 1, "tile", 50, 96, 40, 16},
      {128, 1, "datapath", 9, 160, 70, 32},
  };
#ifdef MXEMU_HAVE_TILE32
  cases.push_back({32, 1, "tile", 45, 96, 70, 32});  // the default build's 32x32 tile
#endif
  std::uint64_t seed = 100;
  for (const ChipCase& c : cases) {
    INFO(fmt::format("{}x{} L={} {} {}x{}x{}", c.size, c.size, c.latency, c.mode, c.m, c.k, c.n));
    std::mt19937_64 rng(seed++);
    sim::GemmJob g = test::random_gemm(rng, c.m, c.k, c.n, c.block, true, true);
    const sim::ChipJobResult plain = run_gemm(c, g, "off", &rtl);
    const sim::ChipJobResult with = run_gemm(c, g, c.mode, &rtl);
    REQUIRE(with.exit_code == 0);
    test::require_bit_exact(with.outputs.at("C"), g);
    CHECK(with.stats["total_cycles"] == plain.stats["total_cycles"]);
    std::uint64_t checked = 0, macs = 0;
    for (const char* e : {"MXU0", "MXU1"}) {
      const auto& s = with.stats["engines"][e];
      if (!s.contains("rtl")) continue;
      CHECK(s["rtl"]["mode"] == c.mode);
      checked += s["rtl"]["outputs_checked"].get<std::uint64_t>();
      macs += s["rtl"]["macs_checked"].get<std::uint64_t>();
      if (std::string(c.mode) == "tile")
        CHECK(s["rtl"]["cycles_evaluated"].get<std::uint64_t>() > 0);
    }
    // Every output row of every fold: at least M x N outputs, M x N x K MACs.
    CHECK(checked >= c.m * c.n);
    CHECK(macs >= c.m * c.n * c.k);
    CHECK(!plain.stats["engines"]["MXU0"].contains("rtl"));
  }
}

TEST_CASE("RTL in the loop: configs the build cannot run are refused by name", "[rtl][loop]") {
  std::mt19937_64 rng(5);
  const sim::GemmJob g = test::random_gemm(rng, 4, 32, 4, 32);
  const rtl::VerilatedRtl rtl;
  // The default 128 x 128 array has no Verilated tile.
  sim::ChipJob job = sim::make_gemm_job(g, bundled::elf("gemm"));
  job.config_path = test::temp_config("rtl_loop_128.toml", "[rtl]\nmxu = \"tile\"\n");
  job.rtl = &rtl;
  try {
    (void)test::run_job(job);
    FAIL("a 128x128 tile run was accepted");
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::kBadInput);
    CHECK_THAT(std::string(e.what()), Contains("no Verilated mxu_tile of 128x128"));
  }
  // No RTL given to the simulation (a build without Verilator).
  job.rtl = nullptr;
  REQUIRE_THROWS_WITH(test::run_job(job), Contains("this build has no Verilated RTL"));
  // An unknown mode is a config error naming the key.
  job.config_path = test::temp_config("rtl_loop_bad.toml", "[rtl]\nmxu = \"pe\"\n");
  REQUIRE_THROWS_WITH(test::run_job(job), Contains("mxu") && Contains("not one of off, tile"));
}

namespace {

// A checker that disagrees with the second fold it sees (stands in for broken RTL).
class Disagree final : public mxu::FoldCheck {
 public:
  explicit Disagree(std::string where) : where_(std::move(where)) {}
  void fold(const mxu::FoldSpec& /*f*/, const mxu::FoldTiming& t, std::span<const float> /*out*/,
            std::uint64_t /*now*/) override {
    if (++folds_ == 2) {
      throw Error(ExitCode::kSimFault,
                  fmt::format("RTL mismatch in {} (test): fold 1 at cycle {}", where_, t.out_base));
    }
  }
  void drain() override {}
  std::uint64_t outputs_checked() const override { return 0; }
  std::uint64_t macs_checked() const override { return 0; }
  std::uint64_t cycles_evaluated() const override { return 0; }
  std::string description() const override { return "test"; }

 private:
  std::string where_;
  int folds_ = 0;
};

class DisagreeingRtl final : public chip::RtlPlugins {
 public:
  std::unique_ptr<mxu::FoldCheck> mxu_check(const std::string& /*mode*/,
                                            const mxu::SystolicConfig& /*cfg*/,
                                            const std::string& where,
                                            const chip::RtlWaves& /*waves*/) const override {
    return std::make_unique<Disagree>(where);
  }
  std::unique_ptr<chip::ConvertCheck> vpu_check(const std::string& /*mode*/,
                                                const std::string& /*where*/) const override {
    return nullptr;
  }
  std::string available() const override { return "test"; }
};

}  // namespace

TEST_CASE("a mismatch in the loop faults the MXU and ends the chip's run naming chip and MXU",
          "[rtl][loop]") {
  std::mt19937_64 rng(8);
  const sim::GemmJob g = test::random_gemm(rng, 300, 256, 200, 32);
  const DisagreeingRtl rtl;
  sim::ChipJob job = sim::make_gemm_job(g, bundled::elf("gemm"));
  job.config_path = test::temp_config("rtl_loop_fault.toml", "[rtl]\nmxu = \"datapath\"\n");
  job.rtl = &rtl;
  try {
    (void)test::run_job(job);
    FAIL("the mismatch did not end the run");
  } catch (const Error& e) {
    const std::string w = e.what();
    INFO(w);
    CHECK(e.code() == ExitCode::kSimFault);  // status 3
    CHECK_THAT(w, Contains("engine fault: MXU"));
    CHECK_THAT(w, Contains("RTL mismatch in pod.chip0.mxu"));
  }
}
namespace {

sim::ChipJobResult run_convert(const std::vector<float>& x, std::size_t rows, std::size_t cols,
                               std::uint32_t out_fmt, std::uint32_t nonsat,
                               const chip::RtlPlugins* rtl, const std::string& config) {
  sim::ChipJob job;
  job.firmware_name = "chip_vpu_ops";
  job.firmware_elf = test::test_firmware("chip_vpu_ops");
  job.inputs.emplace_back("X", make_f32({rows, cols}, x));
  job.outputs.emplace_back("Z", make_u8({rows, cols}, std::vector<std::uint8_t>(rows * cols)));
  job.read_back = {"Z"};
  job.scalars = {{"func", static_cast<std::uint32_t>(chip::regs::VpuFn::kConvert)},
                 {"out_fmt", out_fmt},
                 {"nonsat", nonsat},
                 {"block", 32},
                 {"imm", 0},
                 {"pad", 0},
                 {"x_offset", 0}};
  job.config_path = test::temp_config("rtl_loop_vpu.toml", config);
  job.rtl = rtl;
  return test::run_job(job);
}

}  // namespace

TEST_CASE("the VPU's conversions with the converter RTL in the loop", "[rtl][loop][vpu]") {
  const rtl::VerilatedRtl rtl;
  const std::size_t rows = 3, cols = 200;
  std::mt19937_64 rng(12);
  // Random bit patterns and the converter corners (ties, sticky neighbours, overflow, NaN).
  std::vector<std::uint32_t> bits = cosim::converter_corners();
  bits.resize(rows * cols);
  for (std::size_t i = rows * cols / 2; i < bits.size(); ++i)
    bits[i] = static_cast<std::uint32_t>(rng());
  std::vector<float> x(bits.size());
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = num::f32_from_bits(bits[i]);
  for (const std::uint32_t f : {0u, 1u}) {  // VPU_FMT E4M3, E5M2
    for (const std::uint32_t nonsat : {0u, 1u}) {
      INFO("out_fmt " << f << " nonsat " << nonsat);
      const sim::ChipJobResult r =
          run_convert(x, rows, cols, f, nonsat, &rtl, "[rtl]\nvpu = \"convert\"\n");
      REQUIRE(r.exit_code == 0);
      const auto& s = r.stats["engines"]["VPU"]["rtl"];
      CHECK(s["mode"] == "convert");
      CHECK(s["conversions_checked"].get<std::uint64_t>() == rows * cols);
      // And the codes themselves against the numerics library.
      const auto& z = r.outputs.at("Z").data;
      const auto fmt = f == 0 ? num::Fp8Format::kE4M3 : num::Fp8Format::kE5M2;
      for (std::size_t i = 0; i < z.size(); ++i) {
        REQUIRE(z[i] ==
                num::encode(fmt, x[i], nonsat ? num::SatMode::kNonSat : num::SatMode::kSatFinite));
      }
    }
  }
}

namespace {

// The MX scale of a block, written for this test from the OCP MX definition: floor(log2 amax)
// minus the element format's emax, clamped to the UE8M0 range; NaN when the block holds a NaN or
// an Inf, 2^0 for an all-zero block.
std::uint8_t mx_scale_ref(std::span<const float> blk, int emax) {
  double amax = 0;
  for (const float v : blk) {
    if (!std::isfinite(v)) return 0xFF;
    amax = std::max(amax, std::fabs(static_cast<double>(v)));
  }
  if (amax == 0) return 127;
  int e = 0;
  (void)std::frexp(amax, &e);  // amax = m * 2^e, m in [0.5, 1): floor(log2 amax) = e - 1
  return static_cast<std::uint8_t>(std::clamp(e - 1 - emax, -127, 127) + 127);
}

sim::ChipJobResult run_mx_quant(const std::vector<float>& x, std::size_t rows, std::size_t cols,
                                std::uint32_t out_fmt, std::uint32_t block) {
  const rtl::VerilatedRtl rtl;
  sim::ChipJob job;
  job.firmware_name = "chip_vpu_ops";
  job.firmware_elf = test::test_firmware("chip_vpu_ops");
  job.inputs.emplace_back("X", make_f32({rows, cols}, x));
  job.outputs.emplace_back("Z", make_u8({rows, cols}, std::vector<std::uint8_t>(rows * cols)));
  job.outputs.emplace_back(
      "S", make_u8({rows, cols / block}, std::vector<std::uint8_t>(rows * cols / block)));
  job.read_back = {"Z", "S"};
  job.scalars = {{"func", static_cast<std::uint32_t>(chip::regs::VpuFn::kMxQuant)},
                 {"out_fmt", out_fmt},
                 {"block", block},
                 {"pad", 0},
                 {"x_offset", 0}};
  job.config_path = test::temp_config("rtl_loop_mxq.toml", "[rtl]\nvpu = \"convert\"\n");
  job.rtl = &rtl;
  return test::run_job(job);
}

}  // namespace

TEST_CASE("MX_QUANT's scales and codes with the converter RTL in the loop", "[rtl][loop][vpu]") {
  const std::size_t block = 32, cols = 128, rows = 8;
  std::vector<float> x(rows * cols, 0.0F);
  const auto blk = [&](std::size_t r, std::size_t j) {
    return std::span(x).subspan(r * cols + j * block, block);
  };
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<float> unit(-1.0F, 1.0F);
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t j = 0; j < cols / block; ++j) {
      for (float& v : blk(r, j)) v = unit(rng);
    }
  }
  const float inf = std::numeric_limits<float>::infinity();
  // Row 0: an all-zero block (signed zeros), a NaN, +Inf and -Inf among normals.
  for (std::size_t i = 0; i < block; ++i) blk(0, 0)[i] = i % 2 != 0 ? -0.0F : 0.0F;
  blk(0, 1)[7] = std::numeric_limits<float>::quiet_NaN();
  blk(0, 2)[31] = inf;
  blk(0, 3)[0] = -inf;
  // Row 1: subnormals only; amax just below a power of two; FLT_MAX beside tiny elements (their
  // scaled values fall below 2^-126); amax 2^-120 (the scale clamps at 2^-127).
  for (std::size_t i = 0; i < block; ++i) {
    blk(1, 0)[i] = num::f32_from_bits(static_cast<std::uint32_t>(rng() & 0x807FFFFFU));
    blk(1, 2)[i] = std::ldexp(unit(rng), -100);
    blk(1, 3)[i] = std::ldexp(unit(rng), -121);
  }
  blk(1, 1)[3] = num::f32_from_bits(0x3FFFFFFFU);
  blk(1, 2)[9] = -std::numeric_limits<float>::max();
  blk(1, 3)[30] = std::ldexp(1.0F, -120);
  // Row 2: the converter corners (ties, sticky neighbours, overflow) one block each; rows 3 and
  // 4: random bit patterns (NaN blocks, huge ranges).
  const std::vector<std::uint32_t> corners = cosim::converter_corners();
  for (std::size_t i = 0; i < cols && i < corners.size(); ++i) {
    x[2 * cols + i] = num::f32_from_bits(corners[i]);
  }
  for (std::size_t i = 3 * cols; i < 5 * cols; ++i) {
    x[i] = num::f32_from_bits(static_cast<std::uint32_t>(rng()));
  }
  for (const std::uint32_t f : {0u, 1u}) {  // VPU_FMT E4M3, E5M2
    INFO("out_fmt " << f);
    const sim::ChipJobResult r = run_mx_quant(x, rows, cols, f, block);
    REQUIRE(r.exit_code == 0);
    const auto& s = r.stats["engines"]["VPU"]["rtl"];
    CHECK(s["conversions_checked"].get<std::uint64_t>() == rows * cols + rows * cols / block);
    CHECK_THAT(s["checker"].get<std::string>(), Contains("ue8m0_from_fp32"));
    // The outputs against the definition: the scale from the test's own reference, the codes as
    // the element encoded at that scale.
    const auto fmt = f == 0 ? num::Fp8Format::kE4M3 : num::Fp8Format::kE5M2;
    const int emax = f == 0 ? 8 : 15;
    const auto& z = r.outputs.at("Z").data;
    const auto& sc = r.outputs.at("S").data;
    for (std::size_t row = 0; row < rows; ++row) {
      for (std::size_t j = 0; j < cols / block; ++j) {
        INFO("row " << row << " block " << j);
        const std::uint8_t want = mx_scale_ref(blk(row, j), emax);
        REQUIRE(sc[row * cols / block + j] == want);
        const int e = want == 0xFF ? 0 : int{want} - 127;
        for (std::size_t i = 0; i < block; ++i) {
          REQUIRE(z[row * cols + j * block + i] ==
                  num::encode_scaled(fmt, blk(row, j)[i], e, num::SatMode::kSatFinite));
        }
      }
    }
  }
  // Row 0's block 0 took the unit scale, row 1's block 3 the clamp: the corners were reached.
  CHECK(mx_scale_ref(blk(0, 0), 8) == 127);
  CHECK(mx_scale_ref(blk(1, 3), 8) == 0);
}

TEST_CASE("the MX_QUANT checker names the block and the element that differ", "[rtl][loop][vpu]") {
  rtl::ConvertCheckRtl check("pod.chip0.vpu");
  std::vector<std::uint32_t> in(64);
  for (std::size_t i = 0; i < in.size(); ++i) {
    in[i] = num::f32_bits(static_cast<float>(i) * 0.25F);  // amax 7.75 and 15.75
  }
  // E4M3, emax 8: floor(log2 7.75) = 2 and floor(log2 15.75) = 3 give 2^-6 and 2^-5.
  const std::vector<std::uint8_t> scales{127 - 6, 127 - 5};
  std::vector<std::uint8_t> codes(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    codes[i] = num::encode_scaled(num::Fp8Format::kE4M3, num::f32_from_bits(in[i]),
                                  i < 32 ? -6 : -5, num::SatMode::kSatFinite);
  }
  check.mx_quant(num::Fp8Format::kE4M3, 32, in, codes, scales, 0);
  CHECK(check.conversions_checked() == 66);
  std::vector<std::uint8_t> bad_scales = scales;
  bad_scales[1] = 127 - 4;
  REQUIRE_THROWS_WITH(check.mx_quant(num::Fp8Format::kE4M3, 32, in, codes, bad_scales, 0),
                      Contains("MX_QUANT") && Contains("block 1") &&
                          Contains("the model's scale 0x7b") && Contains("the RTL's 0x7a") &&
                          Contains("pod.chip0.vpu"));
  std::vector<std::uint8_t> bad_codes = codes;
  bad_codes[40] ^= 1U;
  REQUIRE_THROWS_WITH(check.mx_quant(num::Fp8Format::kE4M3, 32, in, bad_codes, scales, 0),
                      Contains("col 40") && Contains("e4m3 satfinite"));
}

namespace {

class ConvertDisagree final : public chip::ConvertCheck {
 public:
  void convert(num::Fp8Format /*fmt*/, num::SatMode /*sat*/, std::span<const std::uint32_t> in,
               std::span<const std::uint8_t> out, std::uint64_t row) override {
    if (row == 1) {
      throw Error(ExitCode::kSimFault, fmt::format("RTL mismatch in pod.chip0.vpu (test): row 1 "
                                                   "input 0x{:08x} model 0x{:02x}",
                                                   in[0], out[0]));
    }
  }
  void mx_quant(num::Fp8Format /*elem*/, std::uint32_t /*block*/,
                std::span<const std::uint32_t> /*in*/, std::span<const std::uint8_t> /*codes*/,
                std::span<const std::uint8_t> /*scales*/, std::uint64_t /*row*/) override {}
  std::uint64_t conversions_checked() const override { return 0; }
  std::string description() const override { return "test"; }
};

class ConvertDisagreeingRtl final : public chip::RtlPlugins {
 public:
  std::unique_ptr<mxu::FoldCheck> mxu_check(const std::string& /*mode*/,
                                            const mxu::SystolicConfig& /*cfg*/,
                                            const std::string& /*where*/,
                                            const chip::RtlWaves& /*waves*/) const override {
    return nullptr;
  }
  std::unique_ptr<chip::ConvertCheck> vpu_check(const std::string& /*mode*/,
                                                const std::string& /*where*/) const override {
    return std::make_unique<ConvertDisagree>();
  }
  std::string available() const override { return "test"; }
};

}  // namespace

TEST_CASE("a converter mismatch faults the VPU", "[rtl][loop][vpu]") {
  const ConvertDisagreeingRtl rtl;
  const std::vector<float> x(2 * 64, 1.5F);
  try {
    (void)run_convert(x, 2, 64, 0, 0, &rtl, "[rtl]\nvpu = \"convert\"\n");
    FAIL("the mismatch did not end the run");
  } catch (const Error& e) {
    const std::string w = e.what();
    INFO(w);
    CHECK(e.code() == ExitCode::kSimFault);
    CHECK_THAT(w, Contains("engine fault: VPU"));
    CHECK_THAT(w, Contains("RTL mismatch in pod.chip0.vpu"));
  }
  // Unknown mode: a config error naming the key.
  REQUIRE_THROWS_WITH(run_convert(x, 2, 64, 0, 0, &rtl, "[rtl]\nvpu = \"fp8\"\n"),
                      Contains("vpu") && Contains("not one of off, convert"));
}

// ------------------------------------------------------------------------------------------
// Waveforms of the plugged-in tile ([rtl] waves, --rtl-waves, --trace-window).
// ------------------------------------------------------------------------------------------
namespace {

// A VCD as the values of named signals at each timestamp (binary strings, MSB first).
struct Vcd {
  std::vector<std::string> scopes;          // every $scope name, in order
  std::map<std::string, std::string> name;  // id -> signal name
  std::vector<std::pair<std::uint64_t, std::map<std::string, std::string>>> samples;
};

Vcd read_vcd(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in);
  Vcd v;
  std::map<std::string, std::string> now;  // signal -> value
  std::string line;
  bool body = false, have_time = false;
  std::uint64_t t = 0;
  auto flush = [&] {
    if (have_time) v.samples.emplace_back(t, now);
  };
  while (std::getline(in, line)) {
    std::istringstream ss(line);
    std::string tok;
    ss >> tok;
    if (!body) {
      if (tok == "$scope") {
        std::string kind, n;
        ss >> kind >> n;
        v.scopes.push_back(n);
      } else if (tok == "$var") {
        std::string type, width, id, n;
        ss >> type >> width >> id >> n;
        if (v.name.count(id) == 0) v.name[id] = n;  // the first (outermost) name of an id
      } else if (tok == "$enddefinitions") {
        body = true;
      }
      continue;
    }
    if (tok.empty() || tok[0] == '$') continue;
    if (tok[0] == '#') {
      flush();
      t = std::stoull(tok.substr(1));
      have_time = true;
    } else if (tok[0] == 'b') {
      std::string id;
      ss >> id;
      now[v.name[id]] = tok.substr(1);
    } else {
      now[v.name[tok.substr(1)]] = tok.substr(0, 1);
    }
  }
  flush();
  return v;
}

// Bit `i` (LSB 0) of a VCD binary value.
bool bit(const std::string& b, std::size_t i) {
  return i < b.size() && b[b.size() - 1 - i] == '1';
}
std::uint32_t word(const std::string& b, std::size_t w) {
  std::uint32_t x = 0;
  for (std::size_t i = 0; i < 32; ++i) x |= static_cast<std::uint32_t>(bit(b, 32 * w + i)) << i;
  return x;
}

}  // namespace

TEST_CASE("waveforms of the plugged-in tile, under the chip hierarchy, in a window",
          "[rtl][loop][waves]") {
  const rtl::VerilatedRtl rtl;
  std::mt19937_64 rng(21);
  // K = N = 8 on an 8x8 array: one fold, so the tile's outputs are the elements of C.
  const sim::GemmJob g = test::random_gemm(rng, 20, 8, 8, 8);
  const std::vector<float> want = test::reference(g);
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / fmt::format("mxemu_rtl_waves_{}", ::getpid());
  std::filesystem::create_directories(dir);
  const std::string base = (dir / "t.vcd").string();
  const std::string file = (dir / "t.pod.chip0.mxu0.vcd").string();
  auto run = [&](const std::string& extra) {
    sim::ChipJob job = sim::make_gemm_job(g, bundled::elf("gemm"));
    job.config_path = test::temp_config("rtl_loop_waves.toml",
                                        "[mxu]\ncount = 1\nrows = 8\ncols = 8\n[mx]\nblock = 8\n"
                                        "[rtl]\nmxu = \"tile\"\nwaves = \"" +
                                            base + "\"\n" + extra);
    job.rtl = &rtl;
    return test::run_job(job);
  };

  REQUIRE(run("").exit_code == 0);
  const Vcd full = read_vcd(file);
  // The model instance is named after the MXU: its scopes spell the chip hierarchy.
  const std::string scopes = fmt::format("{}", fmt::join(full.scopes, "."));
  INFO("scopes " << scopes);
  CHECK_THAT(scopes, Contains("pod.chip0.mxu0"));
  // Every valid output at a clock-low sample (even time), column by column in time order, is
  // C[0..M-1][n] of the exact reference.
  std::vector<std::vector<std::uint32_t>> col(8);
  std::uint64_t first_out = 0;
  for (const auto& [t, sig] : full.samples) {
    if (t % 2 != 0 || sig.count("out_valid_o") == 0) continue;
    for (std::size_t n = 0; n < 8; ++n) {
      if (!bit(sig.at("out_valid_o"), n)) continue;
      if (first_out == 0) first_out = t / 2;
      col[n].push_back(word(sig.at("out_o"), n));
    }
  }
  for (std::size_t n = 0; n < 8; ++n) {
    INFO("column " << n);
    REQUIRE(col[n].size() == 20);
    for (std::size_t i = 0; i < 20; ++i) CHECK(col[n][i] == num::f32_bits(want[i * 8 + n]));
  }

  // A window: only its cycles are in the file.
  const std::uint64_t s = first_out + 2, e = first_out + 8;
  REQUIRE(run(fmt::format("waves_start = {}\nwaves_end = {}\n", s, e)).exit_code == 0);
  const Vcd part = read_vcd(file);
  REQUIRE(!part.samples.empty());
  for (const auto& [t, sig] : part.samples) {
    CHECK(t >= 2 * s);
    CHECK(t < 2 * e);
  }
  CHECK(part.samples.size() == 2 * (e - s));

  // A window after the run: an error naming it, and no file.
  std::filesystem::remove(file);
  REQUIRE_THROWS_WITH(run("waves_start = 1000000000\n"),
                      Contains("waves window 1000000000:0") && Contains("not clocked in it"));
  CHECK(!std::filesystem::exists(file));
  // Waveforms need a traced tile: a 16x16 array has one for FST only.
  sim::ChipJob job = sim::make_gemm_job(g, bundled::elf("gemm"));
  job.config_path = test::temp_config(
      "rtl_loop_waves16.toml",
      "[mxu]\nrows = 16\ncols = 16\n[mx]\nblock = 8\n[rtl]\nmxu = \"tile\"\nwaves = \"" + base +
          "\"\n");
  job.rtl = &rtl;
  REQUIRE_THROWS_WITH(test::run_job(job),
                      Contains("8x8 (VCD or FST) and 16x16 (FST)") && Contains("on a 16x16 array"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("FST waveforms of a 16x16 tile in the loop hold every output", "[rtl][loop][waves]") {
  const rtl::VerilatedRtl rtl;
  std::mt19937_64 rng(22);
  // K = N = 16 on a 16x16 array: one fold, so the tile's outputs are the elements of C.
  const std::size_t m = 24, n = 16;
  const sim::GemmJob g = test::random_gemm(rng, m, 16, n, 16);
  const std::vector<float> want = test::reference(g);
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / fmt::format("mxemu_rtl_fst_{}", ::getpid());
  std::filesystem::create_directories(dir);
  sim::ChipJob job = sim::make_gemm_job(g, bundled::elf("gemm"));
  job.config_path =
      test::temp_config("rtl_loop_fst16.toml",
                        "[mxu]\ncount = 1\nrows = 16\ncols = 16\n[mx]\nblock = 16\n[rtl]\n"
                        "mxu = \"tile\"\nwaves = \"" +
                            (dir / "t.fst").string() + "\"\n");
  job.rtl = &rtl;
  REQUIRE(test::run_job(job).exit_code == 0);
  const std::string file = (dir / "t.pod.chip0.mxu0.fst").string();
  void* ctx = fstReaderOpen(file.c_str());
  REQUIRE(ctx != nullptr);
  // The two signals the check reads, by their path under the MXU's scope.
  std::vector<std::string> scope;
  fstHandle valid = 0, out = 0;
  bool mxu_scope = false;
  while (const fstHier* h = fstReaderIterateHier(ctx)) {
    if (h->htyp == FST_HT_SCOPE) {
      scope.emplace_back(h->u.scope.name);
      if (fmt::format("{}", fmt::join(scope, ".")).find("pod.chip0.mxu0") != std::string::npos)
        mxu_scope = true;
    } else if (h->htyp == FST_HT_UPSCOPE) {
      scope.pop_back();
    } else if (h->htyp == FST_HT_VAR) {  // the first of each name: the tile's port
      std::string nm(h->u.var.name);
      if (const auto sp = nm.find(' '); sp != std::string::npos) nm = nm.substr(0, sp);
      if (nm == "out_valid_o" && valid == 0) valid = h->u.var.handle;
      if (nm == "out_o" && out == 0) out = h->u.var.handle;
    }
  }
  CHECK(mxu_scope);
  REQUIRE(valid != 0);
  REQUIRE(out != 0);
  struct Changes {
    fstHandle valid, out;
    std::vector<std::tuple<std::uint64_t, bool, std::string>> v;  // time, is out_o, bits
  } ch{valid, out, {}};
  fstReaderSetFacProcessMaskAll(ctx);
  fstReaderIterBlocks(
      ctx,
      [](void* user, uint64_t time, fstHandle h, const unsigned char* value) {
        auto* c = static_cast<Changes*>(user);
        if (h == c->valid || h == c->out)
          c->v.emplace_back(time, h == c->out, reinterpret_cast<const char*>(value));
      },
      &ch, nullptr);
  fstReaderClose(ctx);
  REQUIRE(!ch.v.empty());
  // Replay: the value of both at every clock-low time (even), column by column.
  std::vector<std::vector<std::uint32_t>> col(n);
  std::string cur_valid, cur_out;
  for (std::size_t i = 0; i < ch.v.size();) {
    const std::uint64_t t = std::get<0>(ch.v[i]);
    for (; i < ch.v.size() && std::get<0>(ch.v[i]) == t; ++i)
      (std::get<1>(ch.v[i]) ? cur_out : cur_valid) = std::get<2>(ch.v[i]);
    const std::uint64_t next = i < ch.v.size() ? std::get<0>(ch.v[i]) : t + 1;
    for (std::uint64_t s = t + (t % 2); s < next; s += 2) {
      for (std::size_t c = 0; c < n; ++c)
        if (bit(cur_valid, c)) col[c].push_back(word(cur_out, c));
    }
  }
  for (std::size_t c = 0; c < n; ++c) {
    INFO("column " << c);
    REQUIRE(col[c].size() == m);
    for (std::size_t i = 0; i < m; ++i) CHECK(col[c][i] == num::f32_bits(want[i * n + c]));
  }
  std::filesystem::remove_all(dir);
}
