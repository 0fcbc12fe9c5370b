// Configuration of the HBM controller: organisation, address mapping, policies and the timing
// set. Every knob is a typed field with a named default (the chip default "mx1": 4 HBM3 stacks x
// 16 channels x 2 pseudo-channels, 64 GiB). Loaded from the [hbm] table of a TOML file.
#pragma once

#include <toml++/toml.h>

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
};

// Address fields, most significant first; the bits below them address bytes within one access.
// Tokens: St (stack), Ch (channel), Pc (pseudo-channel), Bg (bank group), Ba (bank), Ro (row),
// Co (column). The default spreads consecutive 32-byte accesses over all pseudo-channels, then
// bank groups (so a stream alternates groups at tCCD_S), then columns of one row.
inline constexpr const char* kDefaultMapping = "RoBaCoBgStChPc";

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
};

// The defaults for a standard ("HBM3" or "HBM2E"); throws bad input for an unknown one.
HbmConfig preset_config(const std::string& standard);
// Builds a config from the contents of an [hbm] table (the chip config embeds it). Unknown keys,
// wrong types, an unknown standard, a bad mapping or a timing set breaking a JEDEC relation throw
// mxemu::Error (bad input) naming the field.
HbmConfig config_from_toml(const toml::table& hbm);
// Reads a TOML file and uses its [hbm] table.
HbmConfig load_config_file(const std::string& path);
// Checks the organisation and mapping (powers of two, every token once) and the timing set.
void validate(const HbmConfig& c);

}  // namespace mxemu::hbm
