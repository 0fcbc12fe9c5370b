// Configuration of the HBM controller: organisation, address mapping, policies and the timing
// set. Every knob is a typed field with a named default (the chip default "mx1": 4 HBM3 stacks x
// 16 channels x 2 pseudo-channels, 64 GiB). Loaded from the [hbm] table of a TOML file.
#pragma once

#include <bit>
#include <cstdint>
#include <string>

#include "model/hbm/timing.h"

namespace mxemu::hbm {

enum class PagePolicy : std::uint8_t { kOpen, kClosed };
enum class RefreshPolicy : std::uint8_t { kPerBank, kAllBank, kNone };

struct Organisation {
  std::uint32_t stacks = 4;
  std::uint32_t channels_per_stack = 16;
  std::uint32_t pseudo_channels = 2;  // per channel
  std::uint32_t bank_groups = 4;      // per pseudo-channel
  std::uint32_t banks_per_group = 4;
  std::uint32_t rows = 32768;       // per bank
  std::uint32_t columns = 32;       // accesses per row (1 KiB page / 32 B)
  std::uint32_t access_bytes = 32;  // bytes moved by one RD/WR (pseudo-channel width x burst)

  std::uint32_t pc_count() const { return stacks * channels_per_stack * pseudo_channels; }
  std::uint32_t channel_count() const { return stacks * channels_per_stack; }
  std::uint32_t banks_per_pc() const { return bank_groups * banks_per_group; }
  std::uint64_t capacity_bytes() const {
    return std::uint64_t{pc_count()} * banks_per_pc() * rows * columns * access_bytes;
  }

  // Bounds keep geometry within what the controller simulates in bounded memory (per-bank state
  // for every bank of every pseudo-channel) and the address map within 48 bits.
  template <typename V>
  void visit(V& v) {
    const auto pow2 = [&](std::string_view key, std::uint32_t x) {
      v.check(std::has_single_bit(x), key, "= " + std::to_string(x) + " must be a power of two");
    };
    v.field("stacks", stacks, 1, 16, "HBM stacks");
    pow2("stacks", stacks);
    v.field("channels_per_stack", channels_per_stack, 1, 64, "channels per stack");
    pow2("channels_per_stack", channels_per_stack);
    v.field("pseudo_channels", pseudo_channels, 1, 4, "pseudo-channels per channel");
    pow2("pseudo_channels", pseudo_channels);
    v.field("bank_groups", bank_groups, 1, 16, "bank groups per pseudo-channel");
    pow2("bank_groups", bank_groups);
    v.field("banks_per_group", banks_per_group, 1, 16, "banks per bank group");
    pow2("banks_per_group", banks_per_group);
    v.check(banks_per_pc() <= 64, "banks_per_group",
            "x bank_groups = " + std::to_string(banks_per_pc()) +
                " banks per pseudo-channel; at most 64");
    v.field("rows", rows, 1, 1u << 20, "rows per bank");
    pow2("rows", rows);
    v.field("columns", columns, 1, 4096, "accesses per row (page / access_bytes)");
    pow2("columns", columns);
    v.field("access_bytes", access_bytes, 8, 1024, "bytes of one RD/WR (width x burst)");
    pow2("access_bytes", access_bytes);
    v.check(capacity_bytes() <= (std::uint64_t{1} << 48), "rows",
            "gives " + std::to_string(capacity_bytes()) + " bytes; at most 2^48");
  }
};

// Address fields, most significant first; the bits below them address bytes within one access.
// Tokens: St (stack), Ch (channel), Pc (pseudo-channel), Bg (bank group), Ba (bank), Ro (row),
// Co (column). The default spreads consecutive 32-byte accesses over all pseudo-channels, then
// bank groups (so a stream alternates groups at tCCD_S), then columns of one row.
inline constexpr const char* kDefaultMapping = "RoBaCoBgStChPc";

struct HbmConfig;
// The defaults for a standard ("HBM3" or "HBM2E"); throws bad input for an unknown one.
HbmConfig preset_config(const std::string& standard);
// Throws bad input when `mapping` is not a valid address map of `org` (every token once).
void check_mapping(const Organisation& org, const std::string& mapping);

struct HbmConfig {
  std::string standard = "HBM3";
  TimingSet timing = hbm3_6400();
  Organisation org;
  std::string mapping = kDefaultMapping;
  PagePolicy page_policy = PagePolicy::kOpen;
  RefreshPolicy refresh = RefreshPolicy::kPerBank;
  std::uint32_t queue_depth = 32;          // requests per pseudo-channel
  std::uint32_t starvation_cap = 16;       // younger requests served before the oldest wins
  std::uint32_t refresh_postpone_max = 4;  // owed refreshes before one is forced
  bool record_commands = false;            // keep the issued-command log (tests, checker)

  // The [hbm] table. `standard` selects the preset (organisation and timing) that the other keys
  // then override, so it is read first.
  template <typename V>
  void visit(V& v) {
    v.table(
        "hbm", "HBM controller and DRAM (DESIGN §5; sources of the timings: testbench/configs/hbm)",
        [&] {
          if constexpr (V::kReading) {
            std::string s = standard;
            v.field("standard", s, "");
            if (v.given("standard")) {
              v.guard([&] { *this = preset_config(s); });
            }
          } else {
            v.field("standard", standard, "preset: HBM3 (6.4 Gb/s) or HBM2E (3.2 Gb/s)");
          }
          v.field("mapping", mapping,
                  "address fields, most significant first (St Ch Pc Bg Ba Ro Co)");
          v.choice("page_policy", page_policy,
                   {{"open", PagePolicy::kOpen}, {"closed", PagePolicy::kClosed}}, "row policy");
          v.choice("refresh", refresh,
                   {{"per-bank", RefreshPolicy::kPerBank},
                    {"all-bank", RefreshPolicy::kAllBank},
                    {"none", RefreshPolicy::kNone}},
                   "refresh policy");
          v.field("queue_depth", queue_depth, 1, 4096, "requests per pseudo-channel");
          v.field("starvation_cap", starvation_cap, 1, 1u << 16,
                  "younger requests served before the oldest one takes priority");
          v.field("refresh_postpone_max", refresh_postpone_max, 1, 8,
                  "owed refreshes before one is forced (JEDEC allows 8)");
          v.field("record_commands", record_commands, "keep the issued-command log (tests)");
          v.table("organisation", "Geometry", [&] { org.visit(v); });
          v.table("timing", "Timing set, in cycles of tCK (JEDEC names)", [&] {
            const TimingSet before = timing;
            for (const TimingField& f : timing_fields()) {
              v.field(f.name, timing.*f.member, f.min, f.max, f.meaning);
            }
            if constexpr (V::kReading) {
              for (const TimingField& f : timing_fields()) {
                if (timing.*f.member != before.*f.member) {
                  timing.name += " (modified)";
                  break;
                }
              }
            }
            v.guard([&] { validate(timing); });
            v.check(refresh != RefreshPolicy::kPerBank ||
                        std::uint64_t{timing.nRREFD} * org.banks_per_pc() < timing.nREFI,
                    "nRREFD",
                    "x banks per pseudo-channel (" + std::to_string(timing.nRREFD) + " x " +
                        std::to_string(org.banks_per_pc()) + ") must be less than nREFI (" +
                        std::to_string(timing.nREFI) + "): per-bank refresh could not keep up");
          });
          v.guard([&] { check_mapping(org, mapping); });
        });
  }
};

// Reads the [hbm] table of TOML text or a file (other tables are ignored). Errors name the file,
// the table and the key.
HbmConfig parse_hbm_config(std::string_view toml_text, const std::string& source);
HbmConfig load_config_file(const std::string& path);
// Checks a config built in code by the same rules (ranges, powers of two, mapping, JEDEC).
void validate(const HbmConfig& c);

}  // namespace mxemu::hbm
