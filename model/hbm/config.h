// Configuration of the HBM controller: organisation, address mapping, policies and the timing
// set. Every knob is a typed field with a named default (the chip default "mx1": 4 HBM3 stacks x
// 16 channels x 2 pseudo-channels, 64 GiB). Loaded from the [hbm] table of a TOML file.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <string>

#include <fmt/format.h>

#include "model/hbm/timing.h"
#include "model/hbm/types.h"

namespace mxemu::hbm {

enum class PagePolicy : std::uint8_t { kOpen, kClosed };
enum class RefreshPolicy : std::uint8_t { kPerBank, kAllBank, kNone };
// Who owns the request queues: each pseudo-channel its own (default), or one pair of queues per
// channel shared by its pseudo-channels (a controller per channel, as Ramulator 2 has).
enum class QueueScope : std::uint8_t { kPseudoChannel, kChannel };

struct Organisation {
  std::uint32_t stacks = 4;
  std::uint32_t channels_per_stack = 16;
  std::uint32_t pseudo_channels = 2;  // per channel
  // Stack IDs (SID) per pseudo-channel: 8- and 12-high HBM3 stacks have 2 or more die groups,
  // each with its own bank groups; column commands to another SID wait tCCD_R.
  std::uint32_t sids = 1;
  std::uint32_t bank_groups = 4;  // per stack ID
  std::uint32_t banks_per_group = 4;
  std::uint32_t rows = 32768;       // per bank
  std::uint32_t columns = 32;       // accesses per row (1 KiB page / 32 B)
  std::uint32_t access_bytes = 32;  // bytes moved by one RD/WR (pseudo-channel width x burst)

  std::uint32_t pc_count() const { return stacks * channels_per_stack * pseudo_channels; }
  std::uint32_t channel_count() const { return stacks * channels_per_stack; }
  std::uint32_t groups_per_pc() const { return sids * bank_groups; }
  std::uint32_t banks_per_pc() const { return sids * bank_groups * banks_per_group; }
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
    v.field("sids", sids, 1, 4, "stack IDs per pseudo-channel (8/12-high stacks: 2 or more)");
    pow2("sids", sids);
    v.field("bank_groups", bank_groups, 1, 16, "bank groups per stack ID");
    pow2("bank_groups", bank_groups);
    v.field("banks_per_group", banks_per_group, 1, 16, "banks per bank group");
    pow2("banks_per_group", banks_per_group);
    v.check(banks_per_pc() <= 64, "banks_per_group",
            "x bank_groups x sids = " + std::to_string(banks_per_pc()) +
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
// Tokens: St (stack), Ch (channel), Pc (pseudo-channel), Si (stack ID; may be left out while
// sids = 1), Bg (bank group), Ba (bank), Ro (row), Co (column). The default spreads consecutive
// 32-byte accesses over all pseudo-channels, then bank groups (so a stream alternates groups at
// tCCD_S), then columns of one row.
inline constexpr const char* kDefaultMapping = "RoBaCoBgStChPc";

struct HbmConfig;
// The defaults for a standard (one of standard_names()); throws bad input for an unknown one.
HbmConfig preset_config(const std::string& standard);
// Throws bad input when `mapping` is not a valid address map of `org` (every token once).
void check_mapping(const Organisation& org, const std::string& mapping);
// Refresh work that must fit in one tREFI: all-bank, closing every bank (the longest wait before
// PRE may issue, then tRP; tRC after the last ACT) and one tRFC; per-bank, one tRREFD per bank.
// The controller keeps up with refresh and leaves room for accesses only while this is at most
// half of tREFI (config rule below): otherwise owed refreshes grow without bound and forced
// refresh would block every activate for ever (the controller would loop without serving).
std::uint64_t refresh_work_cycles(const TimingSet& t, RefreshPolicy policy,
                                  std::uint32_t banks_per_pc);

struct HbmConfig {
  std::string standard = "HBM3";
  TimingSet timing = hbm3_6400();
  Organisation org;
  std::string mapping = kDefaultMapping;
  PagePolicy page_policy = PagePolicy::kOpen;
  // All-bank refresh by default, as DRAMSys and Ramulator 2 use: per-bank refresh of idle banks
  // hides nearly all refresh time from streaming traffic (docs/HBM.md compares both).
  RefreshPolicy refresh = RefreshPolicy::kAllBank;
  // Front end. Each pseudo-channel has a read queue and a write queue; a request waits in order
  // (the caller's next request comes after it) until its queue has room. accept_per_cycle limits
  // the requests the whole controller accepts per cycle (0: no limit); with a limit, acceptance
  // is in order across all pseudo-channels (a trace player's single port).
  std::uint32_t read_queue_depth = 32;   // requests per pseudo-channel (or channel, below)
  std::uint32_t write_queue_depth = 32;  // requests per pseudo-channel (or channel, below)
  // kChannel: the depths are those of one read and one write queue per channel, shared by its
  // pseudo-channels (a request waits while its channel's queue is full). Scheduling and write
  // drains stay per pseudo-channel; a pseudo-channel's watermarks then apply to its share of the
  // write queue, write_queue_depth / pseudo_channels, so a full shared queue always has a
  // pseudo-channel draining.
  QueueScope queue_scope = QueueScope::kPseudoChannel;
  std::uint32_t accept_per_cycle = 0;
  // Cycles the controller pipeline and the PHY add to every access (request and response paths
  // together). Counted on the response: DRAM command timing and bandwidth are unchanged.
  std::uint32_t phy_latency_cycles = 0;
  // Write drain: reads have priority; writes are served in batches. A drain starts when the write
  // queue holds write_high_watermark x write_queue_depth requests (rounded up), when its oldest
  // write has waited write_max_wait_ns (bounded write latency; 0: no bound), or when no read is
  // queued; it stops at write_low_watermark x write_queue_depth (rounded down); a drain started
  // because no read was queued stops when a read arrives.
  double write_high_watermark = 0.625;  // 20 of 32
  double write_low_watermark = 0.25;    // 8 of 32: drains of 12 writes
  std::uint32_t write_max_wait_ns = 2000;
  // Starvation: the oldest request of the queue being served, once it has waited
  // starvation_age_ns (0: never) or once starvation_cap younger requests went before it (0:
  // never), goes before row hits, and no other request may use its bank until it is served.
  // Counted in time, the cap lets streams that share a bank finish their queued row hits.
  std::uint32_t starvation_age_ns = 1000;
  std::uint32_t starvation_cap = 0;
  std::uint32_t refresh_postpone_max = 4;  // owed refreshes before one is forced
  bool record_commands = false;            // keep the issued-command log (tests, checker)

  // Derived: the write queue a pseudo-channel's watermarks apply to (its share when queues are
  // per channel), the watermarks in requests, and nanosecond knobs in cycles of tCK (rounded up).
  std::uint32_t write_share() const {
    return queue_scope == QueueScope::kChannel
               ? std::max<std::uint32_t>(1, write_queue_depth / org.pseudo_channels)
               : write_queue_depth;
  }
  std::uint32_t write_high_count() const {
    const std::uint32_t share = write_share();
    const auto n = static_cast<std::uint32_t>(std::ceil(write_high_watermark * share - 1e-9));
    return std::clamp<std::uint32_t>(n, 1, share);
  }
  std::uint32_t write_low_count() const {
    return static_cast<std::uint32_t>(std::floor(write_low_watermark * write_share() + 1e-9));
  }
  Cycle write_max_wait_cycles() const { return ns_to_cycles(write_max_wait_ns); }
  Cycle starvation_age_cycles() const { return ns_to_cycles(starvation_age_ns); }
  Cycle ns_to_cycles(std::uint32_t ns) const {
    return (Cycle{ns} * 1000 + timing.tck_ps - 1) / timing.tck_ps;
  }

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
            v.field("standard", standard,
                    "preset: HBM2 (2.0 Gb/s), HBM2E (3.2), HBM3 (6.4) or HBM3E (9.6)");
          }
          v.field(
              "mapping", mapping,
              "address fields, most significant first (St Ch Pc Si Bg Ba Ro Co; no Si: one SID)");
          v.choice("page_policy", page_policy,
                   {{"open", PagePolicy::kOpen}, {"closed", PagePolicy::kClosed}}, "row policy");
          v.choice("refresh", refresh,
                   {{"per-bank", RefreshPolicy::kPerBank},
                    {"all-bank", RefreshPolicy::kAllBank},
                    {"none", RefreshPolicy::kNone}},
                   "refresh policy");
          if constexpr (V::kReading) {
            // Files written before the read/write split: queue_depth sets both queues.
            std::uint32_t both = read_queue_depth;
            v.alias("queue_depth", both, 1, 4096);
            if (v.given("queue_depth")) read_queue_depth = write_queue_depth = both;
          }
          v.field("read_queue_depth", read_queue_depth, 1, 4096,
                  "read requests per pseudo-channel (per channel with queue_scope = channel)");
          v.field("write_queue_depth", write_queue_depth, 1, 4096,
                  "write requests per pseudo-channel (per channel with queue_scope = channel)");
          v.choice(
              "queue_scope", queue_scope,
              {{"pseudo-channel", QueueScope::kPseudoChannel}, {"channel", QueueScope::kChannel}},
              "owner of the request queues: each pseudo-channel, or each channel (shared)");
          v.field("accept_per_cycle", accept_per_cycle, 0, 4096,
                  "front end: requests accepted per cycle by the whole controller (0: no limit)");
          v.field("phy_latency_cycles", phy_latency_cycles, 0, 100'000,
                  "controller pipeline + PHY cycles added to every access latency");
          v.field("write_high_watermark", write_high_watermark, 0.0, 1.0,
                  "queued writes, as a fraction of write_queue_depth, that start a write drain");
          v.field("write_low_watermark", write_low_watermark, 0.0, 1.0,
                  "queued writes (fraction of write_queue_depth) at which a drain stops");
          v.field("write_max_wait_ns", write_max_wait_ns, 0, 10'000'000,
                  "a write waiting this long starts a drain (0: no bound)");
          v.field("starvation_age_ns", starvation_age_ns, 0, 10'000'000,
                  "the oldest request, after waiting this long, goes before row hits (0: never)");
          v.field("starvation_cap", starvation_cap, 0, 1u << 16,
                  "... or after this many younger requests went first (0: never)");
          v.field("refresh_postpone_max", refresh_postpone_max, 1, 8,
                  "owed refreshes before one is forced (JEDEC allows 8)");
          v.field("record_commands", record_commands, "keep the issued-command log (tests)");
          v.table("organisation", "Geometry", [&] { org.visit(v); });
          // After the organisation: with per-channel queues the watermarks apply to a share.
          v.check(write_low_count() < write_high_count(), "write_low_watermark",
                  "= " + fmt::format("{}", write_low_watermark) + " gives " +
                      std::to_string(write_low_count()) + " of " + std::to_string(write_share()) +
                      " writes: must be less than write_high_watermark's " +
                      std::to_string(write_high_count()));
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
            // A property of the timing set whatever the refresh policy: a REFpb to every bank,
            // tRREFD apart, fits in half of tREFI.
            v.check(std::uint64_t{timing.nRREFD} * org.banks_per_pc() * 2 <= timing.nREFI, "nRREFD",
                    "x banks per pseudo-channel (" + std::to_string(timing.nRREFD) + " x " +
                        std::to_string(org.banks_per_pc()) + ") must be at most half of nREFI (" +
                        std::to_string(timing.nREFI) + "): per-bank refresh could not keep up");
            const std::uint64_t work = refresh_work_cycles(timing, refresh, org.banks_per_pc());
            v.check(refresh != RefreshPolicy::kPerBank || work * 2 <= timing.nREFI, "nRFCpb",
                    "+ (banks - 1) x nRREFD + closing a bank (" + std::to_string(work) +
                        " cycles) must be at most half of nREFI (" + std::to_string(timing.nREFI) +
                        "): per-bank refresh would leave no time for accesses");
            v.check(refresh != RefreshPolicy::kAllBank || work * 2 <= timing.nREFI, "nRFC",
                    "+ closing every bank (" + std::to_string(work) +
                        " cycles) must be at most half of nREFI (" + std::to_string(timing.nREFI) +
                        "): all-bank refresh would leave no time for accesses");
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
