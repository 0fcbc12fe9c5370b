// The command-log checker: every timing constraint is provoked by a hand-written log one cycle
// too early (the distances come from the timing set, so the log is legal one cycle later), and
// bank-state and refresh rules are broken once each. A legal log passes. The timing set is the
// HBM3 default (two-cycle ACT).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "model/hbm/checker.h"
#include "model/hbm/config.h"

using namespace mxemu::hbm;

namespace {

// NOLINTNEXTLINE(cert-err58-cpp): a test binary; out of memory at start-up may end it
const HbmConfig kConfig = [] {
  HbmConfig c;
  c.refresh = RefreshPolicy::kNone;
  return c;
}();
const TimingSet& T = kConfig.timing;

CommandRecord cmd(Cycle at, Command c, std::uint32_t bg, std::uint32_t bank,
                  std::uint32_t row = 7) {
  return CommandRecord{at, c, 0, bg, bank, row, 0};
}
constexpr Command ACT = Command::kAct, PRE = Command::kPre, RD = Command::kRd, WR = Command::kWr,
                  REFAB = Command::kRefAb, REFPB = Command::kRefPb;

// The log with its last command moved `shift` cycles later.
std::vector<CommandRecord> shifted(std::vector<CommandRecord> log, Cycle shift) {
  log.back().cycle += shift;
  return log;
}

// The last command violates exactly `expected`; one cycle later the log is legal.
void provoke(const std::vector<CommandRecord>& log, Constraint expected) {
  INFO("constraint " << constraint_name(expected));
  const auto v = check_command_log(kConfig, log);
  REQUIRE(v.size() == 1);
  REQUIRE(v[0].constraint == expected);
  REQUIRE(v[0].index == log.size() - 1);
  REQUIRE(v[0].message.find(constraint_name(expected)) != std::string::npos);
  REQUIRE(check_command_log(kConfig, shifted(log, 1)).empty());
}

}  // namespace

TEST_CASE("Each timing constraint is caught one cycle early") {
  const Cycle wr_end = T.nCWL + T.nBL;  // WR -> end of write data
  provoke({cmd(0, ACT, 0, 0), cmd(T.nRCDRD - 1, RD, 0, 0)}, Constraint::kRCDRD);
  provoke({cmd(0, ACT, 0, 0), cmd(T.nRCDWR - 1, WR, 0, 0)}, Constraint::kRCDWR);
  provoke({cmd(0, ACT, 0, 0), cmd(T.nRAS - 1, PRE, 0, 0)}, Constraint::kRAS);
  provoke({cmd(0, ACT, 0, 0), cmd(100, PRE, 0, 0), cmd(100 + T.nRP - 1, ACT, 0, 0)},
          Constraint::kRP);
  REQUIRE(T.nRC > T.nRAS + T.nRP);  // so that tRC alone decides the next case
  provoke({cmd(0, ACT, 0, 0), cmd(T.nRAS, PRE, 0, 0), cmd(T.nRC - 1, ACT, 0, 0)}, Constraint::kRC);
  provoke({cmd(0, ACT, 0, 0), cmd(T.nRRDS - 1, ACT, 1, 0)}, Constraint::kRRD_S);
  provoke({cmd(0, ACT, 0, 0), cmd(T.nRRDL - 1, ACT, 0, 1)}, Constraint::kRRD_L);
  {
    // Four ACTs to four bank groups tRRD_S apart, the fifth tRRD_L after the first one's group.
    std::vector<CommandRecord> log;
    for (std::uint32_t g = 0; g < 4; ++g) log.push_back(cmd(g * T.nRRDL, ACT, g, 0));
    REQUIRE(T.nFAW - 1 >= 3 * T.nRRDL + T.nRRDS);
    log.push_back(cmd(T.nFAW - 1, ACT, 0, 1));
    provoke(log, Constraint::kFAW);
  }
  const Cycle c0 = 50;  // both banks open by then
  provoke(
      {cmd(0, ACT, 0, 0), cmd(10, ACT, 1, 0), cmd(c0, RD, 0, 0), cmd(c0 + T.nCCDS - 1, RD, 1, 0)},
      Constraint::kCCD_S);
  provoke(
      {cmd(0, ACT, 0, 0), cmd(10, ACT, 0, 1), cmd(c0, RD, 0, 0), cmd(c0 + T.nCCDL - 1, RD, 0, 1)},
      Constraint::kCCD_L);
  provoke(
      {cmd(0, ACT, 0, 0), cmd(10, ACT, 0, 1), cmd(c0, WR, 0, 0), cmd(c0 + T.nCCDL - 1, WR, 0, 1)},
      Constraint::kCCD_L);
  provoke({cmd(0, ACT, 0, 0), cmd(10, ACT, 1, 0), cmd(c0, WR, 0, 0),
           cmd(c0 + wr_end + T.nWTRS - 1, RD, 1, 0)},
          Constraint::kWTR_S);
  provoke({cmd(0, ACT, 0, 0), cmd(10, ACT, 0, 1), cmd(c0, WR, 0, 0),
           cmd(c0 + wr_end + T.nWTRL - 1, RD, 0, 1)},
          Constraint::kWTR_L);
  provoke(
      {cmd(0, ACT, 0, 0), cmd(10, ACT, 1, 0), cmd(c0, RD, 0, 0), cmd(c0 + T.nRTW - 1, WR, 1, 0)},
      Constraint::kRTW);
  provoke({cmd(0, ACT, 0, 0), cmd(c0, RD, 0, 0), cmd(c0 + T.nRTP - 1, PRE, 0, 0)},
          Constraint::kRTP);
  provoke({cmd(0, ACT, 0, 0), cmd(c0, WR, 0, 0), cmd(c0 + wr_end + T.nWR - 1, PRE, 0, 0)},
          Constraint::kWR);
  provoke({cmd(0, REFAB, 0, 0), cmd(T.nRFC - 1, ACT, 2, 3)}, Constraint::kRFC);
  provoke({cmd(0, REFAB, 0, 0), cmd(T.nRFC - 1, REFAB, 0, 0)}, Constraint::kRFC);
  provoke({cmd(0, REFPB, 1, 2), cmd(T.nRFCpb - 1, ACT, 1, 2)}, Constraint::kRFCpb);
  provoke({cmd(0, REFPB, 1, 2), cmd(T.nRREFD - 1, ACT, 3, 0)}, Constraint::kRREFD);
  provoke({cmd(0, REFPB, 1, 2), cmd(T.nRREFD - 1, REFPB, 3, 0)}, Constraint::kRREFD);
  provoke({cmd(0, ACT, 0, 0), cmd(T.nRC, PRE, 0, 0), cmd(T.nRC + T.nRP - 1, REFAB, 0, 0)},
          Constraint::kRP);
  // Two row commands in one cycle (PRE to a closed bank is a legal no-op otherwise), and a row
  // command in the second cycle of a two-cycle ACT.
  provoke({cmd(5, PRE, 0, 0), cmd(5, PRE, 3, 3)}, Constraint::kRowBus);
  REQUIRE(T.nACT == 2);
  provoke({cmd(5, ACT, 0, 0), cmd(5 + T.nACT - 1, PRE, 3, 3)}, Constraint::kRowBus);
  // The column bus is free during the ACT's second cycle.
  REQUIRE(check_command_log(
              kConfig, std::vector{cmd(0, ACT, 0, 0), cmd(T.nRCDRD, RD, 0, 0),
                                   cmd(T.nRCDRD + 20, ACT, 1, 0), cmd(T.nRCDRD + 21, RD, 0, 0)})
              .empty());
}

TEST_CASE("Bank-state errors and missing refresh are caught") {
  auto only = [](const std::vector<CommandRecord>& log, Constraint c, const HbmConfig& cfg) {
    const auto v = check_command_log(cfg, log);
    REQUIRE(v.size() == 1);
    REQUIRE(v[0].constraint == c);
    return v[0].message;
  };
  CHECK_THAT(only({cmd(0, RD, 0, 0)}, Constraint::kState, kConfig),
             Catch::Contains("RD to closed bank"));
  CHECK_THAT(only({cmd(0, ACT, 0, 0, 1), cmd(T.nRCDWR, WR, 0, 0, 2)}, Constraint::kState, kConfig),
             Catch::Contains("open row is 1"));
  CHECK_THAT(only({cmd(0, ACT, 0, 0), cmd(T.nRC, ACT, 0, 0)}, Constraint::kState, kConfig),
             Catch::Contains("which is open"));
  CHECK_THAT(only({cmd(0, ACT, 0, 0), cmd(T.nRC, REFAB, 0, 0)}, Constraint::kState, kConfig),
             Catch::Contains("REFab with 1 bank(s) open"));
  // With refresh on, a pseudo-channel may owe at most refresh_postpone_max refreshes.
  HbmConfig with_refresh = kConfig;
  with_refresh.refresh = RefreshPolicy::kAllBank;
  with_refresh.org.stacks = 1;
  with_refresh.org.channels_per_stack = 1;
  with_refresh.org.pseudo_channels = 1;
  with_refresh.org.bank_groups = 1;
  with_refresh.org.banks_per_group = 1;
  const Cycle limit = Cycle{with_refresh.refresh_postpone_max + 1} * T.nREFI;
  REQUIRE(check_command_log(with_refresh, std::vector{cmd(limit, ACT, 0, 0)}).empty());
  CHECK_THAT(only({cmd(limit + 1, ACT, 0, 0)}, Constraint::kREFI, with_refresh),
             Catch::Contains("no refresh"));
}

TEST_CASE("A legal hand-written log passes") {
  std::vector<CommandRecord> log{
      cmd(0, ACT, 0, 0),
      cmd(T.nRRDS, ACT, 1, 0),
      cmd(T.nRCDRD, RD, 0, 0),
      cmd(T.nRRDS + T.nRCDRD, RD, 1, 0),
      cmd(T.nRRDS + T.nRCDRD + T.nRTW, WR, 0, 0),
  };
  const Cycle wr = log.back().cycle;
  log.push_back(cmd(wr + T.nCWL + T.nBL + T.nWR, PRE, 0, 0));
  log.push_back(cmd(wr + T.nCWL + T.nBL + T.nWR + T.nRP, ACT, 0, 0, 9));
  REQUIRE(check_command_log(kConfig, log).empty());
}

TEST_CASE("Column commands to another stack ID wait tCCD_R, within one tCCD_S") {
  HbmConfig two = kConfig;
  two.org.sids = 2;
  two.mapping = "RoBaSiCoBgStChPc";
  REQUIRE(T.nCCDR > T.nCCDS);
  // Bank groups count over both stack IDs: group 4 is group 0 of stack ID 1.
  const std::uint32_t other = two.org.bank_groups;
  for (const Command c : {RD, WR}) {
    INFO(command_name(c));
    const Cycle c0 = 50;
    const std::vector<CommandRecord> log{cmd(0, ACT, 0, 0), cmd(10, ACT, other, 0),
                                         cmd(c0, c, 0, 0), cmd(c0 + T.nCCDR - 1, c, other, 0)};
    const auto v = check_command_log(two, log);
    REQUIRE(v.size() == 1);
    REQUIRE(v[0].constraint == Constraint::kCCD_R);
    REQUIRE(v[0].message.find("tCCD_R") != std::string::npos);
    REQUIRE(check_command_log(two, shifted(log, 1)).empty());
    // Within the stack ID, another bank group needs tCCD_S only.
    REQUIRE(check_command_log(
                two, std::vector<CommandRecord>{cmd(0, ACT, 0, 0), cmd(10, ACT, 1, 0),
                                                cmd(c0, c, 0, 0), cmd(c0 + T.nCCDS, c, 1, 0)})
                .empty());
  }
  // A group beyond the stack IDs names no bank.
  const auto v =
      check_command_log(two, std::vector<CommandRecord>{cmd(0, ACT, 2 * two.org.bank_groups, 0)});
  REQUIRE(v.size() == 1);
  REQUIRE(v[0].constraint == Constraint::kState);
}
