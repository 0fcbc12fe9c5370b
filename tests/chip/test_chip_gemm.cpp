// The bundled gemm firmware on the default chip (mx1): C bit-exact against the numerics
// reference for shapes that are not multiples of the array, every format pair, scaled and
// unscaled, blocks 32 and 128, C_init and special values.
#include <fmt/core.h>
#include <catch2/catch.hpp>

#include "model/numerics/fp8.h"
#include "testbench/mxemu/bundled.h"
#include "tests/chip/chip_test_util.h"

using namespace mxemu;

namespace {

struct Case {
  std::size_t m, n, k;
  const char* fa;
  const char* fb;
  int block;  // before the bools: no padding between them
  bool scaled;
  bool c0;
  bool specials;
};

sim::GemmJob make_case(const Case& c, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  sim::GemmJob g =
      test::random_gemm(rng, c.m, c.k, c.n, c.scaled ? c.block : 0, c.specials, c.specials);
  g.fmt_a = c.fa;
  g.fmt_b = c.fb;
  g.block = c.block;
  if (c.c0) {
    std::normal_distribution<float> d(0.0F, 100.0F);
    std::vector<float> v(c.m * c.n);
    for (auto& x : v) x = d(rng);
    g.c0 = make_f32({c.m, c.n}, v);
  }
  return g;
}

sim::ChipJobResult check_case(const Case& c, std::uint64_t seed, const std::string& config = "") {
  const sim::GemmJob g = make_case(c, seed);
  sim::ChipJob job = sim::make_gemm_job(g, bundled::elf("gemm"));
  job.config_path = config;
  sim::ChipJobResult r = test::run_job(job);
  REQUIRE(r.exit_code == 0);
  const std::vector<float> want = test::reference(g);
  const std::vector<float> got = r.outputs.at("C").as_f32();
  REQUIRE(got.size() == want.size());
  std::size_t bad = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (num::f32_bits(got[i]) != num::f32_bits(want[i]) && ++bad <= 5) {
      FAIL_CHECK(
          fmt::format("{}x{}x{} {}x{} scaled={} block={} c0={}: C[{}][{}] got 0x{:08x} "
                      "want 0x{:08x}",
                      c.m, c.n, c.k, c.fa, c.fb, c.scaled, c.block, c.c0, i / c.n, i % c.n,
                      num::f32_bits(got[i]), num::f32_bits(want[i])));
    }
  }
  CHECK(bad == 0);
  CHECK(r.stats["total_cycles"].get<std::uint64_t>() > 0);
  CHECK(r.stats["mxu_macs"].get<std::uint64_t>() >= c.m * c.n * c.k);
  return r;
}

}  // namespace

TEST_CASE("gemm firmware: tiny and odd shapes, every format pair", "[chip][gemm]") {
  const Case cases[] = {
      {1, 1, 32, "e4m3", "e4m3", 32, false, false, false},
      {1, 1, 32, "e4m3", "e4m3", 32, true, false, false},
      {5, 7, 64, "e5m2", "e5m2", 32, true, false, false},
      {13, 130, 96, "e4m3", "e5m2", 32, true, true, false},
      {37, 129, 200, "e5m2", "e4m3", 32, false, true, false},
      {40, 300, 256, "e4m3", "e4m3", 128, true, false, false},
  };
  std::uint64_t seed = 1;
  for (const Case& c : cases) {
    INFO(fmt::format("{}x{}x{} {}x{} scaled={} block={}", c.m, c.n, c.k, c.fa, c.fb, c.scaled,
                     c.block));
    check_case(c, seed++);
  }
}

TEST_CASE("gemm firmware: special values and extreme scales", "[chip][gemm]") {
  check_case({33, 70, 160, "e5m2", "e5m2", 32, true, true, true}, 99);
  check_case({20, 40, 64, "e4m3", "e5m2", 32, false, false, true}, 98);
}

TEST_CASE("gemm firmware: 300x700x260 and 260x300x384 (no multiples of 128)",
          "[chip][gemm][large]") {
  check_case({300, 700, 260, "e4m3", "e5m2", 32, false, true, false}, 7);
  check_case({260, 300, 384, "e5m2", "e4m3", 128, true, false, false}, 8);
}

TEST_CASE("gemm firmware on other chips: 1 and 3 MXUs, non-square arrays, blocks > rows",
          "[chip][gemm][config]") {
  const auto cfg = test::temp_config;
  // One MXU of 32 x 48: several N tiles per MXU, K tiles of 32, block 64 spans two K tiles.
  const std::string one = cfg("mxemu_one_mxu.toml", "[mxu]\ncount = 1\nrows = 32\ncols = 48\n");
  check_case({50, 100, 128, "e4m3", "e5m2", 64, true, true, false}, 31, one);
  check_case({17, 47, 96, "e5m2", "e5m2", 32, true, false, false}, 32, one);
  // Three MXUs of 64 x 32 with small accumulators and VMEM: partial groups and several M panels.
  const std::string three = cfg("mxemu_three_mxu.toml",
                                "[mxu]\ncount = 3\nrows = 64\ncols = 32\nacc_bytes = 16384\n"
                                "[vmem]\nbytes = 262144\n");
  check_case({150, 100, 192, "e4m3", "e4m3", 32, true, true, false}, 33, three);
  check_case({70, 20, 64, "e4m3", "e4m3", 32, false, false, false}, 34, three);
}

TEST_CASE("gemm firmware: skinny shapes split rows over every MXU (resident B)",
          "[chip][gemm][skinny]") {
  // One N tile and K of many tiles: B stays in VMEM and the rows go to both MXUs of mx1.
  const Case cases[] = {
      {8, 8, 4096, "e4m3", "e4m3", 32, false, false, false},
      {8, 8, 1024, "e5m2", "e4m3", 32, true, true, false},
      {37, 5, 640, "e4m3", "e5m2", 128, true, false, false},
      {1, 1, 8192, "e4m3", "e4m3", 32, false, true, false},
      {128, 8, 4096, "e5m2", "e5m2", 32, true, false, true},
  };
  std::uint64_t seed = 41;
  for (const Case& c : cases) {
    INFO(fmt::format("{}x{}x{} scaled={} c0={}", c.m, c.n, c.k, c.scaled, c.c0));
    check_case(c, seed++);
  }
  // The k steps go to each MXU as hardware LOOPs (docs/KERNELS.md): partial last k tiles (K not
  // a multiple of 128), several B chunks (N = 100), and on a 32-row array block 128, where the
  // scale rows advance every 4 k tiles through the LOOP's PERIOD.
  const std::string rows32 =
      test::temp_config("mxemu_gemm_rows32.toml", "[mxu]\nrows = 32\ncols = 16\n");
  const struct {
    Case c;
    std::string config;
  } looped[] = {
      {{8, 8, 1000, "e4m3", "e5m2", 32, false, false, false}, ""},
      {{8, 8, 1056, "e5m2", "e4m3", 32, true, true, false}, ""},
      {{6, 100, 2048, "e4m3", "e5m2", 32, true, true, true}, ""},
      {{8, 8, 1024, "e4m3", "e4m3", 128, true, false, false}, rows32},
      {{9, 16, 640, "e5m2", "e5m2", 64, true, true, false}, rows32},
  };
  for (const auto& l : looped) {
    const Case& c = l.c;
    INFO(fmt::format("{}x{}x{} scaled={} block={} config={}", c.m, c.n, c.k, c.scaled, c.block,
                     l.config));
    const sim::ChipJobResult r = check_case(c, seed++, l.config);
    for (const char* mxu : {"MXU0", "MXU1"}) {
      INFO(mxu);
      CHECK(r.stats["engines"][mxu]["loops"].get<std::uint64_t>() >= 1);
      CHECK(r.stats["engines"][mxu]["loop_descriptors"].get<std::uint64_t>() >= 4);
    }
  }
  // 8x4096x8: both MXUs did work, and cycle-by-cycle mode gives the same C, cycles and stats.
  const sim::GemmJob g = make_case(cases[0], 41);
  sim::ChipJob job = sim::make_gemm_job(g, bundled::elf("gemm"));
  const sim::ChipJobResult fast = test::run_job(job);
  job.cycle_accurate = true;
  const sim::ChipJobResult exact = test::run_job(job);
  REQUIRE(fast.exit_code == 0);
  REQUIRE(exact.exit_code == 0);
  test::require_bit_exact(fast.outputs.at("C"), g);
  CHECK(fast.outputs.at("C").data == exact.outputs.at("C").data);
  CHECK(fast.total_cycles == exact.total_cycles);
  CHECK(fast.stats["engines"] == exact.stats["engines"]);
  for (const char* mxu : {"MXU0", "MXU1"}) {
    INFO(mxu);
    CHECK(fast.stats["engines"][mxu]["macs"].get<std::uint64_t>() == 4U * 8U * 4096U);
    CHECK(fast.stats["engines"][mxu]["busy_cycles"].get<std::uint64_t>() > 0);
  }
}

TEST_CASE("gemm firmware: prints its statistics (manual)", "[.debug]") {
  const sim::GemmJob g = make_case({300, 700, 260, "e4m3", "e5m2", 32, false, true, false}, 7);
  const sim::ChipJobResult r = test::run_job(sim::make_gemm_job(g, bundled::elf("gemm")));
  fmt::print("{}\nconsole: {}\n", r.stats.dump(2), r.console);
}
