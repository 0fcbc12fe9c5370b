// Timing presets against the published values (written here) and the cited config files, the
// HBM2E / HBM3E derivations recomputed from the HBM2 / HBM3 nanoseconds, peak bandwidth from rate
// and width, the dump round trip, and bad configs (unknown standard, malformed value, JEDEC
// relations, drain watermarks, refresh that could not keep up).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <span>
#include <string>

#include "model/common/config.h"
#include "model/common/error.h"
#include "model/hbm/config.h"
#include "model/hbm/controller.h"
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

// The whole [hbm] table as the config writer prints it: equal text = every key equal.
std::string dump(HbmConfig c) {
  mxemu::cfg::Writer w;
  c.visit(w);
  return w.text("");
}

struct Published {
  const char* field;
  std::uint32_t cycles;
};

// Ramulator 2 HBM3_6400Mbps (tCK 0.625 ns; tRFC 350 ns for 16 Gb dies), as NOTES.md lists them.
const Published kHbm3[] = {
    {"nCL", 20},   {"nCWL", 10},    {"nRCDRD", 31}, {"nRCDWR", 15},  {"nRP", 26},
    {"nRAS", 45},  {"nRC", 72},     {"nWR", 33},    {"nRTP", 9},     {"nCCDS", 2},
    {"nCCDL", 4},  {"nCCDR", 3},    {"nRRDS", 4},   {"nRRDL", 5},    {"nFAW", 24},
    {"nWTRS", 7},  {"nWTRL", 10},   {"nRTW", 20},   {"nRFC", 560},   {"nRFCpb", 320},
    {"nRREFD", 8}, {"nREFI", 6240}, {"nBL", 2},     {"tCK_ps", 625}, {"nACT", 2}};
// DRAMSys HBM2.json memtimingspec (tCK 1 ns: cycles = nanoseconds).
const Published kHbm2[] = {
    {"nCL", 17},    {"nCWL", 7},   {"nRCDRD", 12},  {"nRCDWR", 6}, {"nRP", 14},      {"nRAS", 28},
    {"nRC", 42},    {"nWR", 14},   {"nRTP", 5},     {"nCCDS", 2},  {"nCCDL", 3},     {"nRRDS", 4},
    {"nRRDL", 6},   {"nFAW", 16},  {"nWTRS", 4},    {"nWTRL", 9},  {"nRTW", 18},     {"nRFC", 220},
    {"nRFCpb", 96}, {"nRREFD", 8}, {"nREFI", 3900}, {"nBL", 2},    {"tCK_ps", 1000}, {"nACT", 2}};

std::uint32_t field_of(const TimingSet& t, const std::string& name) {
  for (const TimingField& f : timing_fields()) {
    if (name == f.name) return t.*f.member;
  }
  FAIL("no timing field " << name);
  return 0;
}

// Clock-counted fields keep their cycles when a preset is re-clocked; the others keep their
// nanoseconds, rounded up to whole cycles of the new clock.
void require_reclocked(const TimingSet& t, std::span<const Published> base, double base_tck_ns,
                       double tck_ns) {
  for (const Published& p : base) {
    const std::string f = p.field;
    INFO(f);
    if (f == "tCK_ps") continue;
    if (f == "nBL" || f == "nCCDS" || f == "nACT") {
      REQUIRE(field_of(t, f) == p.cycles);
    } else {
      REQUIRE(field_of(t, f) ==
              static_cast<std::uint32_t>(std::ceil(p.cycles * base_tck_ns / tck_ns - 1e-9)));
    }
  }
}

// Data-bus peak of one stack from the organisation and timing set: pseudo-channels x bytes per
// access / (nBL x tCK).
double stack_peak_gbps(const HbmConfig& c) {
  return static_cast<double>(c.org.channels_per_stack * c.org.pseudo_channels) *
         c.org.access_bytes / (c.timing.nBL * c.timing.tck_ps / 1000.0);
}

}  // namespace

TEST_CASE("Every preset equals its cited config file, key for key") {
  for (const std::string_view std_name : standard_names()) {
    std::string file = "testbench/configs/hbm/" + std::string(std_name) + ".toml";
    std::transform(file.begin(), file.end(), file.begin(),
                   [](unsigned char ch) { return std::tolower(ch); });
    INFO(file);
    const HbmConfig from_file = load_config_file(file);
    const HbmConfig preset = preset_config(std::string(std_name));
    REQUIRE(from_file.standard == std_name);
    REQUIRE(dump(from_file) == dump(preset));
    require_same_timing(from_file.timing, preset.timing);
    REQUIRE(from_file.timing.name == preset.timing.name);
  }
  // The built-in default is the HBM3 preset on the mx1 organisation (4 stacks, 64 GiB).
  REQUIRE(dump(HbmConfig{}) == dump(preset_config("HBM3")));
  REQUIRE(HbmConfig{}.org.pc_count() == 128);
  REQUIRE(HbmConfig{}.org.capacity_bytes() == (std::uint64_t{64} << 30));
}

TEST_CASE("HBM2 and HBM3 presets are the published sets; peaks follow from rate and width") {
  const HbmConfig h2 = preset_config("HBM2"), h3 = preset_config("HBM3");
  for (const Published& p : kHbm2) {
    INFO(p.field);
    REQUIRE(field_of(h2.timing, p.field) == p.cycles);
  }
  for (const Published& p : kHbm3) {
    INFO(p.field);
    REQUIRE(field_of(h3.timing, p.field) == p.cycles);
  }
  // tREFI 3.9 us and tRFC 350 ns in cycles of 0.625 ns.
  REQUIRE(h3.timing.nREFI == 3900 * 1000 / 625);
  REQUIRE(h3.timing.nRFC == 350 * 1000 / 625);
  // HBM2: 8 channels x 128 bit x 2.0 Gb/s = 256 GB/s per stack; HBM3: 16 x 64 bit x 6.4 Gb/s =
  // 819.2 GB/s. The model's data-bus peak is the same.
  REQUIRE(h2.org.channels_per_stack == 8);
  REQUIRE(h3.org.channels_per_stack == 16);
  REQUIRE(stack_peak_gbps(h2) == Approx(2.0 * 8 * 128 / 8));
  REQUIRE(stack_peak_gbps(h3) == Approx(6.4 * 16 * 64 / 8));
  // HbmCore reports the same peak (bytes per cycle over the whole configuration).
  for (const HbmConfig& c : {h2, h3}) {
    const HbmCore core(c);
    REQUIRE(core.peak_bytes_per_cycle() / (c.timing.tck_ps / 1000.0) ==
            Approx(stack_peak_gbps(c) * c.org.stacks));
  }
}

TEST_CASE("HBM2E and HBM3E keep the nanoseconds of HBM2 and HBM3 at a scaled clock") {
  const HbmConfig h2e = preset_config("HBM2E"), h3e = preset_config("HBM3E");
  // DRAMSys's HBM2 set has no stack-ID timing: tCCD_R is tCCD_S for HBM2 and HBM2E.
  REQUIRE(preset_config("HBM2").timing.nCCDR == preset_config("HBM2").timing.nCCDS);
  REQUIRE(h2e.timing.nCCDR == h2e.timing.nCCDS);
  REQUIRE(h3e.timing.nCCDR == 5);  // ceil(3 x 0.625 / 0.417), Ramulator 2's HBM3_9600Mbps value
  require_reclocked(h2e.timing, kHbm2, 1.0, 0.625);
  require_reclocked(h3e.timing, kHbm3, 0.625, 0.417);
  REQUIRE(h2e.timing.tck_ps == 625);
  REQUIRE(h3e.timing.tck_ps == 417);  // 4 beats per tCK at 9.6 Gb/s: 416.7 ps, whole ps
  REQUIRE(h2e.org.channels_per_stack == 8);
  REQUIRE(h3e.org.channels_per_stack == 16);
  // 3.2 Gb/s x 1024 bit = 409.6 GB/s per stack; 9.6 Gb/s x 1024 bit = 1228.8 GB/s (0.1 % off:
  // tCK rounded to whole picoseconds).
  REQUIRE(stack_peak_gbps(h2e) == Approx(3.2 * 1024 / 8));
  REQUIRE(stack_peak_gbps(h3e) == Approx(9.6 * 1024 / 8).epsilon(0.001));
}

TEST_CASE("The dump of the [hbm] table reads back to the same configuration") {
  for (const std::string_view std_name : standard_names()) {
    HbmConfig c = preset_config(std::string(std_name));
    c.write_high_watermark = 0.5;
    c.starvation_age_ns = 300;
    c.phy_latency_cycles = 12;
    c.timing.nFAW += 1;
    const std::string text = dump(c);
    const HbmConfig back = from_string(text);
    REQUIRE(dump(back) == text);
    REQUIRE(back.timing.nFAW == c.timing.nFAW);
    REQUIRE(back.write_high_watermark == 0.5);
  }
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
  REQUIRE(c.read_queue_depth == 8);  // queue_depth (files before the read/write split) sets both
  REQUIRE(c.write_queue_depth == 8);
  REQUIRE(c.org.stacks == 1);
  REQUIRE(c.timing.nFAW == 30);
  REQUIRE(c.timing.nRC == 72);
  REQUIRE(c.queue_scope == QueueScope::kPseudoChannel);  // the default
  // Queues per channel: the watermarks apply to a pseudo-channel's share of the write queue.
  const HbmConfig shared = from_string("[hbm]\nqueue_scope = \"channel\"\n");
  REQUIRE(shared.queue_scope == QueueScope::kChannel);
  REQUIRE(shared.write_share() == 32 / 2);
  REQUIRE(shared.write_high_count() == 10);  // ceil(0.625 x 16)
  REQUIRE(shared.write_low_count() == 4);    // floor(0.25 x 16)
  REQUIRE(HbmConfig{}.write_high_count() == 20);
  REQUIRE(HbmConfig{}.write_low_count() == 8);
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
  CHECK_THAT(bad_input_of([] { from_string("[hbm.organisation]\nsids = 2\n"); }),
             Catch::Contains("[hbm] mapping = \"RoBaCoBgStChPc\": must name St Ch Pc Si Bg Ba "
                             "Ro Co once each (sids = 2)"));
  CHECK_THAT(bad_input_of([] { from_string("[hbm.organisation]\nsids = 3\n"); }),
             Catch::Contains("[hbm.organisation] sids = 3 must be a power of two"));
  CHECK_THAT(bad_input_of([] { from_string("[hbm.timing]\nnCCDR = 1\n"); }),
             Catch::Contains("tCCD_R >= tCCD_S"));
  REQUIRE(bad_input_of([] {
            from_string("[hbm]\nmapping = \"RoBaSiCoBgStChPc\"\n[hbm.organisation]\nsids = 2\n");
          }).empty());
  CHECK_THAT(bad_input_of([] { from_string("[hbm]\nqueue_scope = \"bank\"\n"); }),
             Catch::Contains("[hbm] queue_scope"));
  // With per-channel queues the watermark rule counts a pseudo-channel's share (16 of 32).
  CHECK_THAT(bad_input_of([] {
               from_string(
                   "[hbm]\nqueue_scope = \"channel\"\nwrite_high_watermark = 0.5\n"
                   "write_low_watermark = 0.5\n");
             }),
             Catch::Contains("[hbm] write_low_watermark = 0.5 gives 8 of 16 writes: must be less "
                             "than write_high_watermark's 8"));
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
             Catch::Contains("[hbm.timing] nRREFD x banks per pseudo-channel (420 x 16) must be "
                             "at most half of nREFI (6240)"));
  // Refresh work beyond half of tREFI (owed refreshes would grow for ever and forced refresh
  // would block every activate): all-bank, tRFC + closing every bank = 560 + 72 cycles of HBM3.
  CHECK_THAT(bad_input_of([] { from_string("[hbm.timing]\nnREFI = 1263\n"); }),
             Catch::Contains("[hbm.timing] nRFC + closing every bank (632 cycles) must be at most "
                             "half of nREFI (1263)"));
  REQUIRE(bad_input_of([] { from_string("[hbm.timing]\nnREFI = 1264\n"); }).empty());
  // Per-bank: tRFCpb + 15 x tRREFD + closing a bank = 320 + 120 + 72.
  CHECK_THAT(
      bad_input_of(
          [] { from_string("[hbm]\nrefresh = \"per-bank\"\n[hbm.timing]\nnREFI = 1023\n"); }),
      Catch::Contains("nRFCpb + (banks - 1) x nRREFD + closing a bank (512 cycles) must be at "
                      "most half of nREFI (1023)"));
  REQUIRE(bad_input_of([] {
            from_string("[hbm]\nrefresh = \"per-bank\"\n[hbm.timing]\nnREFI = 1024\n");
          }).empty());
  // Drain watermarks: the low one below the high one, as counts of the write queue.
  CHECK_THAT(bad_input_of([] {
               from_string("[hbm]\nwrite_high_watermark = 0.5\nwrite_low_watermark = 0.5\n");
             }),
             Catch::Contains("[hbm] write_low_watermark = 0.5 gives 16 of 32 writes: must be less "
                             "than write_high_watermark's 16"));
  CHECK_THAT(bad_input_of([] { from_string("[hbm]\nwrite_high_watermark = 1.5\n"); }),
             Catch::Contains("[hbm] write_high_watermark = 1.5 is out of range [0, 1]"));
  CHECK_THAT(bad_input_of([] { from_string("[hbm]\nwrite_queue_depth = 0\n"); }),
             Catch::Contains("[hbm] write_queue_depth = 0 is out of range [1, 4096]"));
  CHECK_THAT(bad_input_of([] { from_string("[hbm.timing]\nnACT = 5\n"); }),
             Catch::Contains("[hbm.timing] nACT = 5 is out of range [1, 4]"));
  CHECK_THAT(bad_input_of([] { load_config_file("tests/hbm/no_such_file.toml"); }),
             Catch::Contains("no_such_file.toml"));
  // A config built in code is checked by the same rules.
  HbmConfig c;
  c.org.bank_groups = 3;
  CHECK_THAT(
      bad_input_of([&] { validate(c); }),
      Catch::Contains("hbm config: [hbm.organisation] bank_groups = 3 must be a power of two"));
}
