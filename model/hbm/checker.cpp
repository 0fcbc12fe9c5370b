#include "model/hbm/checker.h"

#include <algorithm>
#include <bit>
#include <utility>

#include <fmt/format.h>

namespace mxemu::hbm {

const char* command_name(Command c) {
  switch (c) {
    case Command::kAct:
      return "ACT";
    case Command::kPre:
      return "PRE";
    case Command::kRd:
      return "RD";
    case Command::kWr:
      return "WR";
    case Command::kRefAb:
      return "REFab";
    case Command::kRefPb:
      return "REFpb";
  }
  return "?";
}

const char* constraint_name(Constraint c) {
  switch (c) {
    case Constraint::kNone:
      return "none";
    case Constraint::kRCDRD:
      return "tRCDRD";
    case Constraint::kRCDWR:
      return "tRCDWR";
    case Constraint::kRP:
      return "tRP";
    case Constraint::kRAS:
      return "tRAS";
    case Constraint::kRC:
      return "tRC";
    case Constraint::kCCD_S:
      return "tCCD_S";
    case Constraint::kCCD_L:
      return "tCCD_L";
    case Constraint::kCCD_R:
      return "tCCD_R";
    case Constraint::kRRD_S:
      return "tRRD_S";
    case Constraint::kRRD_L:
      return "tRRD_L";
    case Constraint::kFAW:
      return "tFAW";
    case Constraint::kWR:
      return "tWR";
    case Constraint::kWTR_S:
      return "tWTR_S";
    case Constraint::kWTR_L:
      return "tWTR_L";
    case Constraint::kRTP:
      return "tRTP";
    case Constraint::kRTW:
      return "tRTW";
    case Constraint::kRFC:
      return "tRFC";
    case Constraint::kRFCpb:
      return "tRFCpb";
    case Constraint::kRREFD:
      return "tRREFD";
    case Constraint::kRowBus:
      return "row command bus";
    case Constraint::kColumnBus:
      return "column command bus";
    case Constraint::kREFI:
      return "tREFI";
    case Constraint::kState:
      return "bank state";
  }
  return "?";
}

Checker::Checker(TimingSet t, std::uint32_t bank_groups, std::uint32_t banks_per_group,
                 std::uint32_t sids)
    : t_(std::move(t)),
      banks_per_group_(banks_per_group),
      group_shift_(static_cast<std::uint32_t>(std::countr_zero(banks_per_group))),
      sid_shift_(static_cast<std::uint32_t>(std::countr_zero(bank_groups * banks_per_group))),
      banks_(sids * bank_groups * banks_per_group),
      open_row_(sids * bank_groups * banks_per_group, kClosed),
      groups_(sids * bank_groups),
      sids_(sids) {}

Earliest Checker::earliest(Command c, std::uint32_t b) const {
  const int i = idx(c);
  Earliest e = pc_[i];
  auto take = [&e](const Earliest& o) {
    if (o.cycle > e.cycle) e = o;
  };
  take(is_column_command(c) ? column_bus_ : row_bus_);
  if (c != Command::kRefAb) {
    take(banks_[b].next[i]);
    take(groups_[b >> group_shift_][i]);
    take(sids_[b >> sid_shift_][i]);
  }
  if (c == Command::kAct && act_count_ >= 4) {
    take({last_acts_[act_count_ % 4] + t_.nFAW, Constraint::kFAW});  // the fourth-last ACT
  }
  return e;
}

std::string Checker::state_error(Command c, std::uint32_t b, std::uint32_t row) const {
  const bool open = is_open(b);
  switch (c) {
    case Command::kAct:
      if (open) return fmt::format("ACT to bank {} which is open (row {})", b, open_row_[b]);
      break;
    case Command::kRd:
    case Command::kWr:
      if (!open) return fmt::format("{} to closed bank {}", command_name(c), b);
      if (open_row_[b] != row) {
        return fmt::format("{} to row {} of bank {} whose open row is {}", command_name(c), row, b,
                           open_row_[b]);
      }
      break;
    case Command::kRefAb:
      if (open_banks_ != 0) return fmt::format("REFab with {} bank(s) open", open_banks_);
      break;
    case Command::kRefPb:
      if (open) return fmt::format("REFpb to open bank {}", b);
      break;
    case Command::kPre:
      break;  // PRE to a closed bank is a legal no-op
  }
  return {};
}

void Checker::issue(Command c, std::uint32_t b, std::uint32_t row, Cycle at) {
  const TimingSet& t = t_;
  BankState& bank = banks_[b];
  Next& group = groups_[b >> group_shift_];
  const int kAct = idx(Command::kAct), kPre = idx(Command::kPre), kRd = idx(Command::kRd),
            kWr = idx(Command::kWr), kRefAb = idx(Command::kRefAb), kRefPb = idx(Command::kRefPb);
  // RD -> RD and WR -> WR to the other stack IDs of the pseudo-channel: tCCD_R.
  auto other_sids = [this](std::uint32_t bank_index, int cmd, Cycle until) {
    const std::uint32_t own = bank_index >> sid_shift_;
    for (std::uint32_t s = 0; s < sids_.size(); ++s) {
      if (s != own) raise(sids_[s][cmd], until, Constraint::kCCD_R);
    }
  };
  if (is_column_command(c)) {
    raise(column_bus_, at + 1, Constraint::kColumnBus);
  } else {
    raise(row_bus_, at + (c == Command::kAct ? t.nACT : 1), Constraint::kRowBus);  // 2-cycle ACT
  }
  switch (c) {
    case Command::kAct:
      raise(bank.next[kRd], at + t.nRCDRD, Constraint::kRCDRD);
      raise(bank.next[kWr], at + t.nRCDWR, Constraint::kRCDWR);
      raise(bank.next[kPre], at + t.nRAS, Constraint::kRAS);
      raise(bank.next[kAct], at + t.nRC, Constraint::kRC);
      raise(group[kAct], at + t.nRRDL, Constraint::kRRD_L);
      raise(pc_[kAct], at + t.nRRDS, Constraint::kRRD_S);
      raise(pc_[kRefPb], at + t.nRRDS, Constraint::kRRD_S);
      raise(pc_[kRefAb], at + t.nRC, Constraint::kRC);
      last_acts_[act_count_ % 4] = at;
      ++act_count_;
      if (!is_open(b)) ++open_banks_;
      open_row_[b] = row;
      break;
    case Command::kPre:
      raise(bank.next[kAct], at + t.nRP, Constraint::kRP);
      raise(bank.next[kRefPb], at + t.nRP, Constraint::kRP);
      raise(pc_[kRefAb], at + t.nRP, Constraint::kRP);
      if (is_open(b)) --open_banks_;
      open_row_[b] = kClosed;
      break;
    case Command::kRd:
      raise(bank.next[kPre], at + t.nRTP, Constraint::kRTP);
      raise(group[kRd], at + t.nCCDL, Constraint::kCCD_L);
      raise(pc_[kRd], at + t.nCCDS, Constraint::kCCD_S);
      other_sids(b, kRd, at + t.nCCDR);
      raise(pc_[kWr], at + t.nRTW, Constraint::kRTW);
      break;
    case Command::kWr: {
      const Cycle data_end = at + t.nCWL + t.nBL;
      raise(bank.next[kPre], data_end + t.nWR, Constraint::kWR);
      raise(group[kWr], at + t.nCCDL, Constraint::kCCD_L);
      raise(pc_[kWr], at + t.nCCDS, Constraint::kCCD_S);
      other_sids(b, kWr, at + t.nCCDR);
      raise(group[kRd], data_end + t.nWTRL, Constraint::kWTR_L);
      raise(pc_[kRd], data_end + t.nWTRS, Constraint::kWTR_S);
      break;
    }
    case Command::kRefAb:
      raise(pc_[kAct], at + t.nRFC, Constraint::kRFC);
      raise(pc_[kRefAb], at + t.nRFC, Constraint::kRFC);
      raise(pc_[kRefPb], at + t.nRFC, Constraint::kRFC);
      break;
    case Command::kRefPb:
      raise(bank.next[kAct], at + t.nRFCpb, Constraint::kRFCpb);
      raise(bank.next[kRefPb], at + t.nRFCpb, Constraint::kRFCpb);
      raise(pc_[kAct], at + t.nRREFD, Constraint::kRREFD);
      raise(pc_[kRefPb], at + t.nRREFD, Constraint::kRREFD);
      raise(pc_[kRefAb], at + t.nRFCpb, Constraint::kRFCpb);
      break;
  }
}

std::vector<Violation> check_command_log(const HbmConfig& config,
                                         std::span<const CommandRecord> log) {
  const Organisation& o = config.org;
  const TimingSet& t = config.timing;
  std::vector<Checker> pcs(o.pc_count(), Checker(t, o.bank_groups, o.banks_per_group, o.sids));
  // Last refresh of every bank of every pseudo-channel (REFab refreshes all of them).
  std::vector<Cycle> last_ref(std::size_t{o.pc_count()} * o.banks_per_pc(), 0);
  std::vector<Violation> out;
  // All-bank: at most refresh_postpone_max refreshes owed, so a gap of (postpone_max + 1) tREFI.
  // Per-bank: each round of tREFI refreshes every bank once in any order, so one bank may go
  // first in a round and last in the next: one tREFI more.
  const std::uint32_t intervals =
      config.refresh_postpone_max + (config.refresh == RefreshPolicy::kPerBank ? 2 : 1);
  const Cycle max_gap = Cycle{intervals} * t.nREFI;
  auto check_refresh = [&](std::size_t index, std::uint32_t pc, Cycle now) {
    if (config.refresh == RefreshPolicy::kNone) return;
    for (std::uint32_t b = 0; b < o.banks_per_pc(); ++b) {
      Cycle& last = last_ref[std::size_t{pc} * o.banks_per_pc() + b];
      if (now > last + max_gap) {
        out.push_back({index, Constraint::kREFI,
                       fmt::format("pseudo-channel {} bank {}: no refresh from cycle {} to {} "
                                   "(more than {} x tREFI)",
                                   pc, b, last, now, intervals)});
        last = now;  // report each gap once
      }
    }
  };
  std::vector<Cycle> prev_pc(o.pc_count(), 0);
  Cycle prev = 0;
  for (std::size_t i = 0; i < log.size(); ++i) {
    const CommandRecord& r = log[i];
    if (r.pc >= o.pc_count() || r.bank_group >= o.groups_per_pc() || r.bank >= o.banks_per_group) {
      out.push_back({i, Constraint::kState, fmt::format("command {} names no bank", i)});
      continue;
    }
    if (r.cycle < prev_pc[r.pc]) {
      out.push_back({i, Constraint::kState, fmt::format("command {} goes back in time", i)});
    }
    prev_pc[r.pc] = r.cycle;
    prev = std::max(prev, r.cycle);
    Checker& ck = pcs[r.pc];
    const std::uint32_t b = ck.flat_bank(r.bank_group, r.bank);
    const Earliest e = ck.earliest(r.cmd, b);
    if (r.cycle < e.cycle) {
      out.push_back(
          {i, e.why,
           fmt::format("cycle {}: {} on pseudo-channel {} bank {} violates {} (earliest "
                       "legal cycle {})",
                       r.cycle, command_name(r.cmd), r.pc, b, constraint_name(e.why), e.cycle)});
    }
    const std::string s = ck.state_error(r.cmd, b, r.row);
    if (!s.empty()) {
      out.push_back({i, Constraint::kState, fmt::format("cycle {}: {}", r.cycle, s)});
    }
    check_refresh(i, r.pc, r.cycle);
    if (r.cmd == Command::kRefAb) {
      for (std::uint32_t k = 0; k < o.banks_per_pc(); ++k) {
        last_ref[std::size_t{r.pc} * o.banks_per_pc() + k] = r.cycle;
      }
    } else if (r.cmd == Command::kRefPb) {
      last_ref[std::size_t{r.pc} * o.banks_per_pc() + b] = r.cycle;
    }
    ck.issue(r.cmd, b, r.row, r.cycle);
  }
  if (!log.empty()) {
    for (std::uint32_t pc = 0; pc < o.pc_count(); ++pc) check_refresh(log.size(), pc, prev);
  }
  return out;
}

}  // namespace mxemu::hbm
