// The timing checker of one pseudo-channel: the earliest cycle at which a command may issue, and
// which constraint decides it. It knows the timing set and the commands issued so far, nothing of
// the scheduler (which asks it) or of requests. `check_command_log` replays a whole command log
// through one checker per pseudo-channel and reports every violated constraint by name.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "model/hbm/config.h"
#include "model/hbm/types.h"

namespace mxemu::hbm {

enum class Constraint : std::uint8_t {
  kNone,
  kRCDRD,
  kRCDWR,
  kRP,
  kRAS,
  kRC,
  kCCD_S,
  kCCD_L,
  kCCD_R,
  kRRD_S,
  kRRD_L,
  kFAW,
  kWR,
  kWTR_S,
  kWTR_L,
  kRTP,
  kRTW,
  kRFC,
  kRFCpb,
  kRREFD,
  kRowBus,     // one row command per cycle
  kColumnBus,  // one column command per cycle
  kREFI,       // refresh postponed beyond the allowed number of intervals
  kState,      // protocol state: ACT to an open bank, RD/WR to a closed bank or another row, ...
};
const char* constraint_name(Constraint c);

struct Earliest {
  Cycle cycle = 0;
  Constraint why = Constraint::kNone;
};

class Checker {
 public:
  // `bank_groups` per stack ID; `sids` stack IDs (column commands to another one wait tCCD_R).
  Checker(TimingSet t, std::uint32_t bank_groups, std::uint32_t banks_per_group,
          std::uint32_t sids = 1);

  // Flat bank index within the pseudo-channel; `bg` counts the groups of every stack ID.
  std::uint32_t flat_bank(std::uint32_t bg, std::uint32_t bank) const {
    return bg * banks_per_group_ + bank;
  }
  std::uint32_t bank_count() const { return static_cast<std::uint32_t>(banks_.size()); }

  // Earliest legal cycle of `c` to flat bank `b` from timing alone (REFab ignores `b`).
  Earliest earliest(Command c, std::uint32_t b) const;
  // The same cycle without the reason: the scheduler's hot path (checked against earliest() by
  // every command log the tests validate).
  Cycle earliest_cycle(Command c, std::uint32_t b) const {
    const int i = idx(c);
    Cycle e = std::max(pc_[i].cycle, (is_column_command(c) ? column_bus_ : row_bus_).cycle);
    if (c != Command::kRefAb) {
      e = std::max({e, banks_[b].next[i].cycle, groups_[b >> group_shift_][i].cycle,
                    sids_[b >> sid_shift_][i].cycle});
    }
    if (c == Command::kAct && act_count_ >= 4) {
      e = std::max(e, last_acts_[act_count_ % 4] + t_.nFAW);  // the fourth-last ACT
    }
    return e;
  }
  // Empty when `c` is legal in the current bank state, else the reason.
  std::string state_error(Command c, std::uint32_t b, std::uint32_t row) const;
  // Records `c` as issued at `at` (the caller made sure it is legal).
  void issue(Command c, std::uint32_t b, std::uint32_t row, Cycle at);

  bool is_open(std::uint32_t b) const { return open_row_[b] != kClosed; }
  std::uint32_t open_row(std::uint32_t b) const { return open_row_[b]; }
  // True when bank b is open on `row`.
  bool is_hit(std::uint32_t b, std::uint32_t row) const { return open_row_[b] == row; }
  bool all_closed() const { return open_banks_ == 0; }

 private:
  using Next = std::array<Earliest, kCommandCount>;
  static constexpr std::uint32_t kClosed = 0xFFFFFFFFu;  // no row has this number
  struct BankState {
    Next next{};
  };
  static void raise(Earliest& e, Cycle at, Constraint why) {
    if (at > e.cycle) e = {at, why};
  }
  static int idx(Command c) { return static_cast<int>(c); }

  TimingSet t_;
  std::uint32_t banks_per_group_;
  std::uint32_t group_shift_;  // log2(banks_per_group): the bank group of a flat bank
  std::uint32_t sid_shift_;    // log2(banks per stack ID): the stack ID of a flat bank
  std::vector<BankState> banks_;
  std::vector<std::uint32_t> open_row_;  // per bank, kClosed when precharged (compact for pick)
  std::vector<Next> groups_;
  std::vector<Next> sids_;  // what commands to a stack ID wait for (tCCD_R after another one)
  Next pc_{};
  std::array<Cycle, 4> last_acts_{};  // ring of the last four ACT cycles (tFAW)
  std::uint32_t act_count_ = 0;
  Earliest row_bus_{}, column_bus_{};
  std::uint32_t open_banks_ = 0;
};

struct Violation {
  std::size_t index = 0;  // position in the log
  Constraint constraint = Constraint::kNone;
  std::string message;
};

// Validates a command log (in cycle order within each pseudo-channel) against the timing set and
// organisation: every timing constraint, bus conflict, bank-state rule and (unless refresh is
// kNone) that no bank or pseudo-channel goes more than (postpone_max + 1) x tREFI without refresh
// (per-bank refresh: (postpone_max + 2) x tREFI, as a round may refresh its banks in any order)
// up to the last cycle.
std::vector<Violation> check_command_log(const HbmConfig& config,
                                         std::span<const CommandRecord> log);

}  // namespace mxemu::hbm
