#include "model/hbm/timing.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <string>

#include "model/common/error.h"

namespace mxemu::hbm {

std::span<const TimingField> timing_fields() {
  static constexpr std::array<TimingField, 24> kFields{{
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
  }};
  return kFields;
}

TimingSet hbm3_6400() {
  return TimingSet{};
}  // the struct's defaults are this preset

TimingSet hbm2e_3200() {
  // DRAMSys HBM2.json at tCK = 1 ns, each nanosecond value re-clocked to tCK = 0.625 ns
  // (ceil(ns / 0.625)); burst and tCCD_S are clock-counted minima and stay at 2 cycles.
  TimingSet t;
  t.name = "HBM2E_3200Mbps";
  t.tck_ps = 625;
  t.data_rate_mbps = 3200;
  t.nBL = 2;
  t.nCL = 28;
  t.nCWL = 12;
  t.nRCDRD = 20;
  t.nRCDWR = 10;
  t.nRP = 23;
  t.nRAS = 45;
  t.nRC = 68;
  t.nWR = 23;
  t.nRTP = 8;
  t.nCCDS = 2;
  t.nCCDL = 5;
  t.nRRDS = 7;
  t.nRRDL = 10;
  t.nFAW = 26;
  t.nWTRS = 7;
  t.nWTRL = 15;
  t.nRTW = 29;
  t.nRFC = 352;
  t.nRFCpb = 256;
  t.nRREFD = 13;
  t.nREFI = 6240;
  return t;
}

std::optional<TimingSet> timing_preset(std::string_view standard) {
  std::string s(standard);
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  if (s == "HBM3") return hbm3_6400();
  if (s == "HBM2E") return hbm2e_3200();
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
