// The chip config: the embedded mx1 values (DESIGN §2), overrides, and bad configs refused with
// the key named.
#include <catch2/catch.hpp>

#include "model/chip/chip_config.h"
#include "model/common/error.h"

using namespace mxemu;

TEST_CASE("mx1 defaults match DESIGN §2", "[chip][config]") {
  const chip::ChipConfig c = chip::load_chip_config("");
  CHECK(c.name == "mx1");
  CHECK(c.clock_hz == 1'000'000'000);
  CHECK(c.mxu.count == 2);
  CHECK(c.mxu.rows == 128);
  CHECK(c.mxu.cols == 128);
  CHECK(c.mxu.acc_bytes == 4u << 20);
  CHECK(c.vmem.bytes == 32u << 20);
  // Peak FP8: 2 x 16384 MAC x 2 FLOP x 1 GHz = 65.5 TFLOP/s.
  CHECK(c.peak_macs_per_cycle() * 2 * static_cast<double>(c.clock_hz) == 65'536e9);
}

TEST_CASE("chip config overrides and bad input", "[chip][config]") {
  const chip::ChipConfig c = chip::parse_chip_config("[mxu]\ncount = 4\nrows = 64\n", "t.toml");
  CHECK(c.mxu.count == 4);
  CHECK(c.mxu.rows == 64);
  CHECK(c.mxu.cols == 128);  // kept from mx1
  const auto bad = [](const char* text) {
    try {
      chip::parse_chip_config(text, "t.toml");
    } catch (const Error& e) {
      CHECK(e.code() == ExitCode::kBadInput);
      return std::string(e.what());
    }
    FAIL("accepted: " << text);
    return std::string();
  };
  CHECK_THAT(bad("[mxu]\ncuont = 2\n"), Catch::Contains("unknown key 'cuont' in [mxu]"));
  CHECK_THAT(bad("[mxu]\ncount = 9\n"), Catch::Contains("[mxu] count = 9 is out of range"));
  CHECK_THAT(bad("[mxu]\ncount = \"two\"\n"), Catch::Contains("[mxu] count must be an integer"));
  CHECK_THAT(bad("[mxu\ncount = 2\n"), Catch::Contains("malformed TOML"));
  CHECK_THAT(bad("[dma]\nhbm_request_bytes = 48\n"), Catch::Contains("not a power of two"));
  CHECK_THAT(bad("[vmem]\nbanks = 4\nbank_width_bytes = 8\n"),
             Catch::Contains("less than an MXU activation row (128 bytes)"));
  CHECK_THAT(bad("[ici]\nports = 6\n"), Catch::Contains("unknown key 'ici'"));
  CHECK_THROWS_WITH(chip::load_chip_config("/nonexistent.toml"), Catch::Contains("cannot open"));
}
