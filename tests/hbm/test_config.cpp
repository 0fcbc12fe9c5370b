// Timing presets against the cited config files, the HBM2E derivation recomputed from the HBM2
// nanosecond values, and bad configs (unknown standard, malformed value, JEDEC relations).
#include <catch2/catch.hpp>

#include <cmath>
#include <string>

#include "model/common/error.h"
#include "model/hbm/config.h"
#include "model/hbm/timing.h"

using namespace mxemu::hbm;

namespace {

// Runs f and returns the bad-input message it throws ("" if none).
template <typename F>
std::string bad_input_of(F&& f) {
  try {
    f();
  } catch (const mxemu::Error& e) {
    if (e.code() == mxemu::ExitCode::kBadInput) return e.what();
    return std::string("wrong exit code: ") + e.what();
  }
  return "";
}

HbmConfig from_string(const std::string& text) {
  return parse_hbm_config(text, "t.toml");
}

void require_same_timing(const TimingSet& a, const TimingSet& b) {
  for (const TimingField& f : timing_fields()) {
    INFO(f.name);
    REQUIRE(a.*f.member == b.*f.member);
  }
}

}  // namespace

TEST_CASE("HBM3 preset equals the cited config file and the mx1 organisation") {
  const HbmConfig file = load_config_file("testbench/configs/hbm/hbm3.toml");
  const HbmConfig def;
  require_same_timing(file.timing, hbm3_6400());
  require_same_timing(def.timing, hbm3_6400());
  REQUIRE(file.timing.name == "HBM3_6400Mbps");
  REQUIRE(file.org.pc_count() == 128);
  REQUIRE(def.org.capacity_bytes() == (std::uint64_t{64} << 30));
  REQUIRE(file.org.capacity_bytes() == def.org.capacity_bytes());
  REQUIRE(file.mapping == def.mapping);
  // 6.4 Gb/s x 1024 bits per stack = 819.2 GB/s; the model's data-bus peak is the same.
  const double per_stack_gbps = 6.4 * 1024 / 8;
  const double model = 32.0 * def.org.access_bytes / def.timing.nBL / (def.timing.tck_ps / 1000.0);
  REQUIRE(model == Approx(per_stack_gbps));
  // tREFI 3.9 us and tRFC 350 ns in cycles of 0.625 ns.
  REQUIRE(def.timing.nREFI == 3900 * 1000 / 625);
  REQUIRE(def.timing.nRFC == 350 * 1000 / 625);
}

TEST_CASE("HBM2E preset is DRAMSys HBM2 re-clocked, and equals its config file") {
  // HBM2.json (tCK = 1 ns), in nanoseconds: the HBM2E preset keeps them at tCK = 0.625 ns.
  struct Ns {
    const char* field;
    double ns;
  };
  const Ns hbm2[] = {{"nCL", 17},  {"nCWL", 7},   {"nRCDRD", 12},  {"nRCDWR", 6}, {"nRP", 14},
                     {"nRAS", 28}, {"nRC", 42},   {"nWR", 14},     {"nRTP", 5},   {"nCCDL", 3},
                     {"nRRDS", 4}, {"nRRDL", 6},  {"nFAW", 16},    {"nWTRS", 4},  {"nWTRL", 9},
                     {"nRTW", 18}, {"nRFC", 220}, {"nRFCpb", 160}, {"nRREFD", 8}, {"nREFI", 3900}};
  const TimingSet t = hbm2e_3200();
  for (const Ns& v : hbm2) {
    for (const TimingField& f : timing_fields()) {
      if (std::string(f.name) == v.field) {
        INFO(f.name);
        REQUIRE(t.*f.member == static_cast<std::uint32_t>(std::ceil(v.ns / 0.625 - 1e-9)));
      }
    }
  }
  REQUIRE(t.nBL == 2);
  REQUIRE(t.nCCDS == 2);
  const HbmConfig file = load_config_file("testbench/configs/hbm/hbm2e.toml");
  require_same_timing(file.timing, t);
  REQUIRE(file.org.channels_per_stack == 8);
}

TEST_CASE("Config fields load and override the preset") {
  const HbmConfig c = from_string(R"(
[hbm]
page_policy = "closed"
refresh = "all-bank"
queue_depth = 8
mapping = "RoBaBgCoStChPc"
[hbm.organisation]
stacks = 1
[hbm.timing]
nFAW = 30
)");
  REQUIRE(c.page_policy == PagePolicy::kClosed);
  REQUIRE(c.refresh == RefreshPolicy::kAllBank);
  REQUIRE(c.queue_depth == 8);
  REQUIRE(c.org.stacks == 1);
  REQUIRE(c.timing.nFAW == 30);
  REQUIRE(c.timing.nRC == 72);
}

TEST_CASE("Bad configs are refused with the file, table and key named") {
  CHECK_THAT(bad_input_of([] { from_string("[hbm]\nstandard = \"DDR9\"\n"); }),
             Catch::Contains("t.toml: [hbm] standard = 'DDR9' is not a known standard"));
  CHECK_THAT(bad_input_of([] { from_string("[hbm]\n[hbm.timing]\nnRC = 60\n"); }),
             Catch::Contains("tRC >= tRAS + tRP"));
  CHECK_THAT(bad_input_of([] { from_string("[hbm]\n[hbm.timing]\nnRCDRD = \"fast\"\n"); }),
             Catch::Contains("t.toml: [hbm.timing] nRCDRD must be an integer"));
  CHECK_THAT(bad_input_of([] { from_string("[hbm]\n[hbm.timing]\nnFAW = -3\n"); }),
             Catch::Contains("t.toml: [hbm.timing] nFAW = -3 is out of range [1, 100000]"));
  CHECK_THAT(bad_input_of([] { from_string("[hbm]\n[hbm.timing]\ntXYZ = 3\n"); }),
             Catch::Contains("t.toml: unknown key 'tXYZ' in [hbm.timing]"));
  CHECK_THAT(bad_input_of([] { from_string("[hbm]\nbogus = 1\n"); }),
             Catch::Contains("t.toml: unknown key 'bogus' in [hbm]"));
  CHECK_THAT(bad_input_of([] { from_string("[hbm]\npage_policy = \"half\"\n"); }),
             Catch::Contains("[hbm] page_policy"));
  CHECK_THAT(bad_input_of([] { from_string("[hbm]\nmapping = \"RoRoCoBgStChPc\"\n"); }),
             Catch::Contains("[hbm] mapping"));
  CHECK_THAT(bad_input_of([] { from_string("[hbm]\n[hbm.organisation]\nrows = 1000\n"); }),
             Catch::Contains("[hbm.organisation] rows = 1000 must be a power of two"));
  CHECK_THAT(bad_input_of([] { from_string("[hbm]\n[hbm.timing]\nnCCDS = 1\n"); }),
             Catch::Contains("tCCD_S >= burst"));
  CHECK_THAT(bad_input_of([] { from_string("[hbm]\n[hbm.timing]\nnRTW = 5\n"); }),
             Catch::Contains("tRTW"));
  // Geometry that would divide by zero or allocate absurd state, and a refresh the controller
  // could never keep up with (it hung): refused with the limit named.
  CHECK_THAT(bad_input_of([] { from_string("[hbm.organisation]\nbanks_per_group = 0\n"); }),
             Catch::Contains("[hbm.organisation] banks_per_group = 0 is out of range [1, 16]"));
  CHECK_THAT(bad_input_of([] { from_string("[hbm.organisation]\nrows = 1073741824\n"); }),
             Catch::Contains("[hbm.organisation] rows = 1073741824 is out of range"));
  CHECK_THAT(bad_input_of([] { from_string("[hbm.timing]\nnRREFD = 420\n"); }),
             Catch::Contains("must be less than nREFI (6240)"));
  CHECK_THAT(bad_input_of([] { load_config_file("tests/hbm/no_such_file.toml"); }),
             Catch::Contains("no_such_file.toml"));
  // A config built in code is checked by the same rules.
  HbmConfig c;
  c.org.bank_groups = 3;
  CHECK_THAT(
      bad_input_of([&] { validate(c); }),
      Catch::Contains("hbm config: [hbm.organisation] bank_groups = 3 must be a power of two"));
}
