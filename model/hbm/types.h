// Basic vocabulary of the HBM model: cycles of the HBM command clock (tCK), DRAM commands, strong
// indices for the address fields and the record of an issued command.
#pragma once

#include <cstdint>

#include "model/common/strong_index.h"

namespace mxemu::hbm {

// A point in time or a duration, counted in cycles of the HBM command clock (tCK of the timing
// set). Converted to picoseconds once, by the SystemC shell and the statistics.
using Cycle = std::uint64_t;

using Stack = StrongIndex<struct StackTag>;
using Channel = StrongIndex<struct ChannelTag>;  // within a stack
using PseudoChannel = StrongIndex<struct PseudoChannelTag>;
using StackId = StrongIndex<struct StackIdTag>;      // SID: a die group within a pseudo-channel
using BankGroup = StrongIndex<struct BankGroupTag>;  // within a stack ID
using Bank = StrongIndex<struct BankTag>;            // within a bank group
using Row = StrongIndex<struct RowTag>;
using Column = StrongIndex<struct ColumnTag>;  // in units of one access (burst)

// DRAM commands. Row commands (ACT, PRE, REFab, REFpb) and column commands (RD, WR) travel on the
// two separate HBM command buses, so one of each may issue in the same cycle.
enum class Command : std::uint8_t { kAct, kPre, kRd, kWr, kRefAb, kRefPb };
inline constexpr int kCommandCount = 6;
inline constexpr bool is_column_command(Command c) {
  return c == Command::kRd || c == Command::kWr;
}
const char* command_name(Command c);

// One command as issued on a pseudo-channel: the command log that the checker validates.
// `pc` is the flat pseudo-channel index (stack, channel, pseudo-channel; see AddressMap);
// `bank_group` counts the groups of all stack IDs (sid x bank_groups + group), `bank` is the bank
// within its group. Row is meaningful for ACT/RD/WR, column for RD/WR.
struct CommandRecord {
  Cycle cycle = 0;
  Command cmd = Command::kAct;
  std::uint32_t pc = 0;
  std::uint32_t bank_group = 0;
  std::uint32_t bank = 0;
  std::uint32_t row = 0;
  std::uint32_t column = 0;
};

}  // namespace mxemu::hbm
