#include "model/hbm/timing.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <string>

#include "model/common/error.h"

namespace mxemu::hbm {

std::span<const TimingField> timing_fields() {
  static constexpr std::array<TimingField, 26> kFields{{
      {"tCK_ps", &TimingSet::tck_ps, "command clock period in picoseconds", 100, 100'000},
      {"rate_mbps", &TimingSet::data_rate_mbps, "data rate per pin in Mb/s", 1, 100'000},
      {"nBL", &TimingSet::nBL, "burst length on the data bus (cycles)"},
      {"nCL", &TimingSet::nCL, "read latency"},
      {"nCWL", &TimingSet::nCWL, "write latency"},
      {"nRCDRD", &TimingSet::nRCDRD, "tRCD for reads"},
      {"nRCDWR", &TimingSet::nRCDWR, "tRCD for writes"},
      {"nRP", &TimingSet::nRP, "tRP"},
      {"nRAS", &TimingSet::nRAS, "tRAS"},
      {"nRC", &TimingSet::nRC, "tRC"},
      {"nWR", &TimingSet::nWR, "tWR"},
      {"nRTP", &TimingSet::nRTP, "tRTP"},
      {"nCCDS", &TimingSet::nCCDS, "tCCD_S"},
      {"nCCDL", &TimingSet::nCCDL, "tCCD_L"},
      {"nCCDR", &TimingSet::nCCDR, "tCCD_R: column -> column, another stack ID"},
      {"nRRDS", &TimingSet::nRRDS, "tRRD_S"},
      {"nRRDL", &TimingSet::nRRDL, "tRRD_L"},
      {"nFAW", &TimingSet::nFAW, "tFAW"},
      {"nWTRS", &TimingSet::nWTRS, "tWTR_S"},
      {"nWTRL", &TimingSet::nWTRL, "tWTR_L"},
      {"nRTW", &TimingSet::nRTW, "read-to-write turnaround"},
      {"nRFC", &TimingSet::nRFC, "tRFC all-bank", 1, 1'000'000},
      {"nRFCpb", &TimingSet::nRFCpb, "tRFC per bank", 1, 1'000'000},
      {"nRREFD", &TimingSet::nRREFD, "tRREFD"},
      {"nREFI", &TimingSet::nREFI, "tREFI", 1, 10'000'000},
      {"nACT", &TimingSet::nACT, "row-bus cycles of an ACT (2: HBM2/HBM3 two-cycle ACT)", 1, 4},
  }};
  return kFields;
}

TimingSet hbm3_6400() {
  return TimingSet{};
}  // the struct's defaults are this preset

TimingSet hbm2_2000() {
  // DRAMSys configs/memspec/HBM2.json (tCK = 1 ns, so cycles = nanoseconds).
  TimingSet t;
  t.name = "HBM2_2000Mbps";
  t.tck_ps = 1000;
  t.data_rate_mbps = 2000;
  t.nBL = 2;  // BL4 at two beats per tCK
  t.nCL = 17;
  t.nCWL = 7;
  t.nRCDRD = 12;
  t.nRCDWR = 6;
  t.nRP = 14;
  t.nRAS = 28;
  t.nRC = 42;
  t.nWR = 14;
  t.nRTP = 5;
  t.nCCDS = 2;
  t.nCCDL = 3;
  t.nCCDR = 2;  // DRAMSys's HBM2 set has no stack IDs: no delay beyond tCCD_S
  t.nRRDS = 4;
  t.nRRDL = 6;
  t.nFAW = 16;
  t.nWTRS = 4;
  t.nWTRL = 9;
  t.nRTW = 18;
  t.nRFC = 220;
  t.nRFCpb = 96;  // RFCSB
  t.nRREFD = 8;
  t.nREFI = 3900;
  t.nACT = 2;
  return t;
}

TimingSet reclock(const TimingSet& base, std::string name, std::uint32_t tck_ps,
                  std::uint32_t rate_mbps) {
  TimingSet t = base;
  t.name = std::move(name);
  t.tck_ps = tck_ps;
  t.data_rate_mbps = rate_mbps;
  for (const TimingField& f : timing_fields()) {
    const std::string_view n = f.name;
    if (n == "tCK_ps" || n == "rate_mbps" || n == "nBL" || n == "nCCDS" || n == "nACT") continue;
    // ceil(n x base / new) in integers: the same nanoseconds, never shortened.
    const std::uint64_t ps = std::uint64_t{base.*f.member} * base.tck_ps;
    t.*f.member = static_cast<std::uint32_t>((ps + tck_ps - 1) / tck_ps);
  }
  return t;
}

TimingSet hbm2e_3200() {
  TimingSet t = reclock(hbm2_2000(), "HBM2E_3200Mbps", 625, 3200);
  t.nCCDR = t.nCCDS;  // as HBM2: no stack-ID timing published
  return t;
}

TimingSet hbm3e_9600() {
  // 9.6 Gb/s at four data beats per tCK: tCK = 4 / 9.6 ns = 416.7 ps, 417 in whole picoseconds.
  return reclock(hbm3_6400(), "HBM3E_9600Mbps", 417, 9600);
}

std::span<const std::string_view> standard_names() {
  static constexpr std::array<std::string_view, 4> kNames{"HBM2", "HBM2E", "HBM3", "HBM3E"};
  return kNames;
}

std::optional<TimingSet> timing_preset(std::string_view standard) {
  std::string s(standard);
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  if (s == "HBM2") return hbm2_2000();
  if (s == "HBM2E") return hbm2e_3200();
  if (s == "HBM3") return hbm3_6400();
  if (s == "HBM3E") return hbm3e_9600();
  return std::nullopt;
}

void validate(const TimingSet& t) {
  for (const TimingField& f : timing_fields()) {
    if (t.*f.member == 0) throw_bad_input("hbm timing {} ({}) must be > 0", f.name, f.meaning);
  }
  auto require = [](bool ok, const char* relation, std::uint32_t lhs, std::uint32_t rhs) {
    if (!ok)
      throw_bad_input("hbm timing breaks the JEDEC relation {} ({} vs {})", relation, lhs, rhs);
  };
  require(t.nRC >= t.nRAS + t.nRP, "tRC >= tRAS + tRP (nRC >= nRAS + nRP)", t.nRC, t.nRAS + t.nRP);
  require(t.nRAS >= t.nRCDRD, "tRAS >= tRCD (nRAS >= nRCDRD)", t.nRAS, t.nRCDRD);
  require(t.nRAS >= t.nRCDWR, "tRAS >= tRCD (nRAS >= nRCDWR)", t.nRAS, t.nRCDWR);
  require(t.nCCDS >= t.nBL, "tCCD_S >= burst (nCCDS >= nBL)", t.nCCDS, t.nBL);
  require(t.nCCDL >= t.nCCDS, "tCCD_L >= tCCD_S (nCCDL >= nCCDS)", t.nCCDL, t.nCCDS);
  require(t.nCCDR >= t.nCCDS, "tCCD_R >= tCCD_S (nCCDR >= nCCDS)", t.nCCDR, t.nCCDS);
  require(t.nRRDL >= t.nRRDS, "tRRD_L >= tRRD_S (nRRDL >= nRRDS)", t.nRRDL, t.nRRDS);
  require(t.nWTRL >= t.nWTRS, "tWTR_L >= tWTR_S (nWTRL >= nWTRS)", t.nWTRL, t.nWTRS);
  require(t.nFAW >= t.nRRDS, "tFAW >= tRRD_S (nFAW >= nRRDS)", t.nFAW, t.nRRDS);
  // Read data must leave the bus before write data arrives.
  require(t.nRTW + t.nCWL >= t.nCL + t.nBL, "tRTW >= RL + burst - WL (nRTW >= nCL + nBL - nCWL)",
          t.nRTW + t.nCWL, t.nCL + t.nBL);
  require(t.nRFC >= t.nRFCpb, "tRFC >= tRFCpb (nRFC >= nRFCpb)", t.nRFC, t.nRFCpb);
  require(t.nREFI > t.nRFC, "tREFI > tRFC (nREFI > nRFC)", t.nREFI, t.nRFC);
}

}  // namespace mxemu::hbm
