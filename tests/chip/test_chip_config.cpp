// The configuration: the mx1 defaults (DESIGN §2), overrides, one error format naming the file,
// the table and the key (chip, core and HBM tables alike), the one clock, and the dump that reads
// back to the same configuration.
#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>
#include <string>

#include "model/common/error.h"
#include "model/sim/sim_config.h"

using namespace mxemu;

namespace {
std::string bad(const char* text) {
  try {
    sim::parse_sim_config(text, "t.toml");
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::kBadInput);
    return {e.what()};
  }
  FAIL("accepted: " << text);
  return {};
}
}  // namespace

TEST_CASE("mx1 defaults match DESIGN §2", "[chip][config]") {
  const sim::SimConfig s = sim::load_sim_config("");
  const chip::ChipConfig& c = s.chip;
  CHECK(c.name == "mx1");
  CHECK(c.clock_hz == 1'000'000'000);
  CHECK(c.clock().period_ps == 1000);
  CHECK(c.mxu.count == 2);
  CHECK(c.mxu.rows == 128);
  CHECK(c.mxu.cols == 128);
  CHECK(c.mxu.acc_bytes == 4u << 20);
  CHECK(c.vmem.bytes == 32u << 20);
  CHECK(c.mx.block == 32);
  // Peak FP8: 2 x 16384 MAC x 2 FLOP x 1 GHz = 65.5 TFLOP/s.
  CHECK(c.peak_macs_per_cycle() * 2 * static_cast<double>(c.clock_hz) == 65'536e9);
  // HBM3: 4 stacks x 16 channels x 2 pseudo-channels (DESIGN §2), 1 MiB core RAM, one chip.
  CHECK(s.hbm.org.pc_count() == 128);
  CHECK(s.core.ram_size_bytes == 1u << 20);
  CHECK(s.pod.chips() == 1);
}

TEST_CASE("config overrides keep the other defaults", "[chip][config]") {
  const sim::SimConfig s = sim::parse_sim_config(
      "[mxu]\ncount = 4\nrows = 64\n[mx]\nblock = 128\n[hbm.timing]\nnFAW = 30\n"
      "[core.timing]\ndiv_cycles = 20\n[pod]\nshape = [2, 4]\n",
      "t.toml");
  CHECK(s.chip.mxu.count == 4);
  CHECK(s.chip.mxu.rows == 64);
  CHECK(s.chip.mxu.cols == 128);  // kept from mx1
  CHECK(s.chip.mx.block == 128);
  CHECK(s.hbm.timing.nFAW == 30);
  CHECK(s.hbm.timing.nRC == 72);
  CHECK(s.core.timing.div_cycles == 20);
  CHECK(s.core.timing.mul_cycles == 3);
  CHECK(s.pod.shape == std::vector<std::uint32_t>{2, 4, 1});
  CHECK(s.pod.chips() == 8);
  CHECK(s.source == "t.toml");
}

TEST_CASE("every table's errors name the file, the table and the key", "[chip][config]") {
  CHECK_THAT(bad("[mxu]\ncuont = 2\n"), Catch::Contains("t.toml: unknown key 'cuont' in [mxu]"));
  CHECK_THAT(bad("[mxu]\ncount = 13\n"),
             Catch::Contains("t.toml: [mxu] count = 13 is out of range [1, 12]"));
  CHECK_THAT(bad("[mxu]\ncount = \"two\"\n"),
             Catch::Contains("t.toml: [mxu] count must be an integer"));
  CHECK_THAT(bad("[mxu\ncount = 2\n"), Catch::Contains("t.toml: malformed TOML"));
  CHECK_THAT(bad("[dma]\nhbm_request_bytes = 48\n"),
             Catch::Contains("t.toml: [dma] hbm_request_bytes = 48 is not a power of two"));
  CHECK_THAT(bad("[vmem]\nbanks = 4\nbank_width_bytes = 8\n"),
             Catch::Contains("less than an MXU activation row (128 bytes)"));
  CHECK_THAT(bad("[icy]\nports = 6\n"),
             Catch::Contains("t.toml: unknown key 'icy' at the top level"));
  CHECK_THAT(bad("[ici]\nports = 7\n"),
             Catch::Contains("t.toml: [ici] ports = 7 is out of range [1, 6]"));
  CHECK_THAT(bad("[[pod.fault]]\nkind = \"cable\"\n"),
             Catch::Contains("t.toml: [pod.fault[0]] kind = \"cable\" is not one of"));
  CHECK_THAT(bad("[pod]\nfault = 3\n"), Catch::Contains("[pod] fault must be an array of tables"));
  CHECK_THAT(bad("mxu = 3\n"), Catch::Contains("t.toml: [mxu] must be a table"));
  // The core's tables.
  CHECK_THAT(bad("[core]\nram_sise_bytes = 4096\n"),
             Catch::Contains("t.toml: unknown key 'ram_sise_bytes' in [core]"));
  CHECK_THAT(bad("[core.timing]\ndiv_cycles = 0\n"),
             Catch::Contains("t.toml: [core.timing] div_cycles = 0 is out of range [1, 10000]"));
  CHECK_THAT(bad("[core]\nlockstep = 1\n"),
             Catch::Contains("t.toml: [core] lockstep must be true or false"));
  // The HBM's tables, including its rules across keys.
  CHECK_THAT(bad("[hbm]\nstandard = \"DDR9\"\n"),
             Catch::Contains("t.toml: [hbm] standard = 'DDR9' is not a known standard"));
  CHECK_THAT(bad("[hbm.organisation]\nrows = 1000\n"),
             Catch::Contains("t.toml: [hbm.organisation] rows = 1000 must be a power of two"));
  CHECK_THAT(bad("[hbm.organisation]\nbank_groups = 0\n"),
             Catch::Contains("t.toml: [hbm.organisation] bank_groups = 0 is out of range [1, 16]"));
  CHECK_THAT(bad("[hbm.timing]\nnRC = 60\n"),
             Catch::Contains("t.toml: [hbm.timing] hbm timing breaks the JEDEC relation tRC"));
  CHECK_THAT(bad("[hbm.timing]\nnRREFD = 420\n"),
             Catch::Contains("t.toml: [hbm.timing] nRREFD x banks per pseudo-channel"));
  CHECK_THAT(bad("[hbm]\npage_policy = \"half\"\n"),
             Catch::Contains("t.toml: [hbm] page_policy = \"half\" is not one of \"open\""));
  CHECK_THAT(bad("[hbm]\nmapping = \"RoRoCoBgStChPc\"\n"),
             Catch::Contains("t.toml: [hbm] mapping = \"RoRoCoBgStChPc\": token 'Ro'"));
  // The pod.
  CHECK_THAT(bad("[pod]\nshape = [2, 0]\n"),
             Catch::Contains("t.toml: [pod] shape entry 1 = 0 is out of range"));
  CHECK_THAT(bad("[pod]\nshape = [128, 128, 2]\n"), Catch::Contains("at most 16384"));
  CHECK_THROWS_WITH(sim::load_sim_config("/nonexistent.toml"), Catch::Contains("cannot open"));
}

TEST_CASE("one clock: [core] clock_hz is another name for [chip] clock_hz", "[chip][config]") {
  const sim::SimConfig a = sim::parse_sim_config("[core]\nclock_hz = 500000000\n", "t.toml");
  CHECK(a.chip.clock_hz == 500'000'000);
  CHECK(a.core.clock_hz == 500'000'000);
  CHECK(a.chip.clock().period_ps == 2000);
  const sim::SimConfig b = sim::parse_sim_config("[chip]\nclock_hz = 3000000000\n", "t.toml");
  CHECK(b.core.clock_hz == 3'000'000'000);
  CHECK(b.chip.clock().period_ps == 333);  // whole picoseconds: SystemC's resolution
  CHECK_THAT(bad("[chip]\nclock_hz = 1000000000\n[core]\nclock_hz = 500000000\n"),
             Catch::Contains("[core] clock_hz = 500000000 differs from [chip] clock_hz"));
  // A clock of 1 kHz would take hours of host time per simulated second of nothing.
  CHECK_THAT(bad("[chip]\nclock_hz = 1000\n"),
             Catch::Contains("[chip] clock_hz = 1000 is out of range [1000000, 10000000000]"));
}

TEST_CASE("the dump prints every key and reads back to the same configuration", "[chip][config]") {
  const sim::SimConfig s = sim::parse_sim_config(
      "[mxu]\ncount = 3\n[hbm]\nstandard = \"HBM2E\"\nrefresh = \"all-bank\"\n[hbm.timing]\n"
      "nFAW = 40\n[pod]\nshape = [4, 2]\non_failure = \"continue\"\n",
      "t.toml");
  const std::string text = sim::dump_sim_config(s);
  CHECK_THAT(text, Catch::Contains("[mxu]\ncount = 3"));
  CHECK_THAT(text, Catch::Contains("standard = \"HBM2E\""));
  CHECK_THAT(text, Catch::Contains("[core.timing]"));
  CHECK_THAT(text, Catch::Contains("# MXU engines [1, 12]"));
  const sim::SimConfig back = sim::parse_sim_config(text, "dump");
  // Everything after the header comment (which names the source) is the same.
  const auto body = [](const std::string& t) { return t.substr(t.find("\n\n")); };
  CHECK(body(sim::dump_sim_config(back)) == body(text));
  CHECK(back.chip.mxu.count == 3);
  CHECK(back.hbm.org.channels_per_stack == 8);  // the HBM2E preset
  CHECK(back.hbm.timing.nFAW == 40);
  CHECK(back.hbm.refresh == hbm::RefreshPolicy::kAllBank);
  CHECK(back.pod.chips() == 8);
  CHECK(back.pod.on_failure == sim::OnFailure::kContinue);
  // The defaults' dump reads back to the defaults.
  const sim::SimConfig d = sim::parse_sim_config(sim::dump_sim_config(sim::SimConfig{}), "dump");
  CHECK(d.chip.mxu.count == 2);
  CHECK(d.hbm.timing.nRCDRD == 31);
  CHECK(d.core.timing.div_cycles == 34);
  // Strings with quotes, backslashes and control characters read back the same (the config
  // fuzzer's first finding: a name with a form feed was dumped raw, and the dump did not parse).
  const sim::SimConfig odd = sim::parse_sim_config(
      "[chip]\nname = \"a\\\"b\\\\c\\fd\\ne\\rf\\bg\\u0001h\\u007Fi\\tj\"\n", "t.toml");
  CHECK(odd.chip.name == std::string("a\"b\\c\fd\ne\rf\bg\x01h\x7Fi\tj"));
  const sim::SimConfig odd_back = sim::parse_sim_config(sim::dump_sim_config(odd), "dump");
  CHECK(odd_back.chip.name == odd.chip.name);
  const std::string file = "tools/fuzz/corpus/config/regress_dump_control_chars.toml";
  std::ifstream in(file);
  REQUIRE(in);
  const std::string text_in((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const sim::SimConfig r = sim::parse_sim_config(text_in, file);
  CHECK(r.chip.name == std::string("mx\f1\x01\\"));
  CHECK(sim::parse_sim_config(sim::dump_sim_config(r), "dump").chip.name == r.chip.name);
}
