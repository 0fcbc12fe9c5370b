// An independent check of a command log, written from the JEDEC relations directly: every pair of
// commands on one pseudo-channel within the longest constraint is compared against the relation
// table, every ACT against the fourth ACT before it (tFAW), the data bursts of RD/WR must not
// overlap on the pseudo-channel's data bus, and bank states must allow each command. It shares
// no code with model/hbm/checker.cpp. Returns the first problem found, or "".
#pragma once

#include <algorithm>
#include <deque>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "model/hbm/config.h"
#include "model/hbm/types.h"

namespace mxemu::hbm::test {

inline std::string pairwise_check(const HbmConfig& cfg, const std::vector<CommandRecord>& log) {
  const TimingSet& t = cfg.timing;
  using C = Command;
  const std::uint64_t wr_end = t.nCWL + t.nBL;
  // Minimum distance from an earlier command p to a later command n, or 0 if unrelated.
  auto need = [&](const CommandRecord& p, const CommandRecord& n) -> std::uint64_t {
    const bool same_bg = p.bank_group == n.bank_group;  // groups counted over every stack ID
    const bool same_sid = p.bank_group / cfg.org.bank_groups == n.bank_group / cfg.org.bank_groups;
    const std::uint64_t ccd = same_bg ? t.nCCDL : same_sid ? t.nCCDS : t.nCCDR;
    const bool same_bank = same_bg && p.bank == n.bank;
    std::uint64_t d = 0;
    auto at_least = [&d](std::uint64_t v) { d = std::max(d, v); };
    const bool p_row =
        p.cmd == C::kAct || p.cmd == C::kPre || p.cmd == C::kRefAb || p.cmd == C::kRefPb;
    const bool n_row =
        n.cmd == C::kAct || n.cmd == C::kPre || n.cmd == C::kRefAb || n.cmd == C::kRefPb;
    if (p_row == n_row) at_least(1);                  // one command per bus per cycle
    if (p.cmd == C::kAct && n_row) at_least(t.nACT);  // an ACT holds the row bus nACT cycles
    if (same_bank) {
      if (p.cmd == C::kAct && n.cmd == C::kAct) at_least(t.nRC);
      if (p.cmd == C::kAct && n.cmd == C::kRd) at_least(t.nRCDRD);
      if (p.cmd == C::kAct && n.cmd == C::kWr) at_least(t.nRCDWR);
      if (p.cmd == C::kAct && n.cmd == C::kPre) at_least(t.nRAS);
      if (p.cmd == C::kPre && (n.cmd == C::kAct || n.cmd == C::kRefPb)) at_least(t.nRP);
      if (p.cmd == C::kRd && n.cmd == C::kPre) at_least(t.nRTP);
      if (p.cmd == C::kWr && n.cmd == C::kPre) at_least(wr_end + t.nWR);
      if (p.cmd == C::kRefPb && (n.cmd == C::kAct || n.cmd == C::kRefPb)) at_least(t.nRFCpb);
    } else {
      if (p.cmd == C::kRefPb && (n.cmd == C::kAct || n.cmd == C::kRefPb)) at_least(t.nRREFD);
      if (p.cmd == C::kAct && n.cmd == C::kAct) at_least(same_bg ? t.nRRDL : t.nRRDS);
    }
    if (p.cmd == C::kRd && n.cmd == C::kRd) at_least(ccd);
    if (p.cmd == C::kWr && n.cmd == C::kWr) at_least(ccd);
    if (p.cmd == C::kWr && n.cmd == C::kRd) at_least(wr_end + (same_bg ? t.nWTRL : t.nWTRS));
    if (p.cmd == C::kRd && n.cmd == C::kWr) at_least(t.nRTW);
    if (p.cmd == C::kRefAb && (n.cmd == C::kAct || n.cmd == C::kRefAb || n.cmd == C::kRefPb)) {
      at_least(t.nRFC);
    }
    if (p.cmd == C::kPre && n.cmd == C::kRefAb) at_least(t.nRP);
    if (p.cmd == C::kAct && n.cmd == C::kRefAb) at_least(t.nRC);
    if (p.cmd == C::kAct && n.cmd == C::kRefPb) at_least(t.nRRDS);
    if (p.cmd == C::kRefPb && n.cmd == C::kRefAb) at_least(t.nRFCpb);
    return d;
  };
  const std::uint64_t window =
      std::max<std::uint64_t>({t.nRFC, t.nRFCpb, t.nRC, wr_end + t.nWR}) + 1;
  struct PcState {
    std::deque<CommandRecord> recent;
    std::vector<std::uint64_t> acts;
    std::vector<std::int64_t> open_row;                           // -1 closed
    std::vector<std::pair<std::uint64_t, std::uint64_t>> bursts;  // [start, end) data bus
  };
  const std::uint32_t nb = cfg.org.banks_per_pc();
  std::vector<PcState> pcs(cfg.org.pc_count());
  for (auto& p : pcs) p.open_row.assign(nb, -1);
  for (std::size_t i = 0; i < log.size(); ++i) {
    const CommandRecord& n = log[i];
    PcState& s = pcs[n.pc];
    while (!s.recent.empty() && s.recent.front().cycle + window < n.cycle) s.recent.pop_front();
    for (const CommandRecord& p : s.recent) {
      if (n.cycle < p.cycle + need(p, n)) {
        return fmt::format("command {} ({} at {}) too close to {} at {} on pc {}", i,
                           command_name(n.cmd), n.cycle, command_name(p.cmd), p.cycle, n.pc);
      }
    }
    const std::uint32_t b = n.bank_group * cfg.org.banks_per_group + n.bank;
    switch (n.cmd) {
      case C::kAct:
        if (s.acts.size() >= 4 && n.cycle < s.acts[s.acts.size() - 4] + t.nFAW) {
          return fmt::format("command {}: fifth ACT within tFAW", i);
        }
        if (s.open_row[b] >= 0) return fmt::format("command {}: ACT to open bank", i);
        s.acts.push_back(n.cycle);
        s.open_row[b] = n.row;
        break;
      case C::kPre:
        s.open_row[b] = -1;
        break;
      case C::kRd:
      case C::kWr: {
        if (s.open_row[b] != static_cast<std::int64_t>(n.row)) {
          return fmt::format("command {}: column command to a bank not open on its row", i);
        }
        const std::uint64_t start = n.cycle + (n.cmd == C::kRd ? t.nCL : t.nCWL);
        for (const auto& [a, e] : s.bursts) {
          if (start < e && a < start + t.nBL) return fmt::format("command {}: data bus overlap", i);
        }
        s.bursts.emplace_back(start, start + t.nBL);
        if (s.bursts.size() > 64) s.bursts.erase(s.bursts.begin());
        break;
      }
      case C::kRefAb:
        for (auto r : s.open_row) {
          if (r >= 0) return fmt::format("command {}: REFab with a bank open", i);
        }
        break;
      case C::kRefPb:
        if (s.open_row[b] >= 0) return fmt::format("command {}: REFpb to an open bank", i);
        break;
    }
    s.recent.push_back(n);
  }
  return "";
}

}  // namespace mxemu::hbm::test
