// The DRAM timing set: every JEDEC constraint the controller obeys, in cycles of tCK. Presets are
// the values that public simulators use (sources named in testbench/configs/hbm/*.toml, which
// carry the same numbers); `validate` refuses a set that breaks a JEDEC relation.
//
// Presets: HBM2 2.0 Gb/s (DRAMSys HBM2.json, tCK 1 ns) and HBM3 6.4 Gb/s (Ramulator 2
// HBM3_6400Mbps, tCK 0.625 ns) are taken as published. HBM2E 3.2 Gb/s and HBM3E 9.6 Gb/s have no
// preset in the public simulators: they keep the nanosecond values of HBM2 / HBM3 and scale the
// clock, n' = ceil(n x tCK / tCK'); the burst (nBL), tCCD_S and the two-cycle ACT are counted in
// clocks and stay as they are.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace mxemu::hbm {

struct TimingSet {
  std::string name = "HBM3_6400Mbps";
  std::uint32_t tck_ps = 625;           // command clock period
  std::uint32_t data_rate_mbps = 6400;  // per DQ pin (informational; peak follows from nBL)
  std::uint32_t nBL = 2;                // data-bus cycles of one access (BL8 at 4 beats per tCK)
  std::uint32_t nCL = 20;               // read latency RD -> first data
  std::uint32_t nCWL = 10;              // write latency WR -> first data
  std::uint32_t nRCDRD = 31;            // ACT -> RD, same bank
  std::uint32_t nRCDWR = 15;            // ACT -> WR, same bank
  std::uint32_t nRP = 26;               // PRE -> ACT, same bank
  std::uint32_t nRAS = 45;              // ACT -> PRE, same bank
  std::uint32_t nRC = 72;               // ACT -> ACT, same bank
  std::uint32_t nWR = 33;               // end of write data -> PRE, same bank
  std::uint32_t nRTP = 9;               // RD -> PRE, same bank
  std::uint32_t nCCDS = 2;              // column -> column, different bank group
  std::uint32_t nCCDL = 4;              // column -> column, same bank group
  // Column -> column to another stack ID (SID, 8- and 12-high stacks; Organisation::sids).
  std::uint32_t nCCDR = 3;
  std::uint32_t nRRDS = 4;     // ACT -> ACT, different bank group
  std::uint32_t nRRDL = 5;     // ACT -> ACT, same bank group
  std::uint32_t nFAW = 24;     // window holding at most four ACTs (per pseudo-channel)
  std::uint32_t nWTRS = 7;     // end of write data -> RD, different bank group
  std::uint32_t nWTRL = 10;    // end of write data -> RD, same bank group
  std::uint32_t nRTW = 20;     // RD -> WR turnaround (pseudo-channel)
  std::uint32_t nRFC = 560;    // all-bank refresh cycle time
  std::uint32_t nRFCpb = 320;  // per-bank refresh cycle time
  std::uint32_t nRREFD = 8;    // REFpb -> REFpb / ACT of another bank
  std::uint32_t nREFI = 6240;  // average refresh interval (each bank once per nREFI)
  // Row-bus cycles of an ACT: HBM2 and HBM3 send ACT over two clocks of the row command bus
  // (JESD238; DRAMSys CheckerHBM2 likewise). Timing constraints are counted from its first cycle.
  std::uint32_t nACT = 2;
};

// Named field of a TimingSet, for loading, printing and error messages.
// Bounds keep every constraint within what the controller simulates in bounded time.
struct TimingField {
  const char* name;  // key in the [hbm.timing] table
  std::uint32_t TimingSet::*member;
  const char* meaning;
  std::uint32_t min = 1, max = 100'000;
};
std::span<const TimingField> timing_fields();

TimingSet hbm2_2000();   // HBM2 2.0 Gb/s (DRAMSys HBM2.json)
TimingSet hbm2e_3200();  // HBM2E 3.2 Gb/s: HBM2 nanoseconds re-clocked to tCK 0.625 ns
TimingSet hbm3_6400();   // HBM3 6.4 Gb/s (Ramulator 2 HBM3_6400Mbps)
TimingSet hbm3e_9600();  // HBM3E 9.6 Gb/s: HBM3 nanoseconds re-clocked to tCK 0.417 ns
// `base` re-clocked to `tck_ps` at `rate_mbps`: every nanosecond-valued field becomes
// ceil(n x base.tck_ps / tck_ps); nBL, nCCDS and nACT (clock-counted) are kept.
TimingSet reclock(const TimingSet& base, std::string name, std::uint32_t tck_ps,
                  std::uint32_t rate_mbps);
// The standards with a preset, in the order documented ("HBM2", "HBM2E", "HBM3", "HBM3E").
std::span<const std::string_view> standard_names();
// The preset of a standard name (one of standard_names(), case-insensitive), or nullopt.
std::optional<TimingSet> timing_preset(std::string_view standard);

// Throws mxemu::Error (bad input) naming the field when a value is zero where it may not be or a
// JEDEC relation is broken (tRC >= tRAS + tRP, tRAS >= tRCD, tCCD_S >= burst, ...).
void validate(const TimingSet& t);

}  // namespace mxemu::hbm
