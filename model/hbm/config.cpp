#include "model/hbm/config.h"

#include <algorithm>

#include "model/common/config.h"
#include "model/common/error.h"
#include "model/hbm/address_map.h"

namespace mxemu::hbm {

HbmConfig preset_config(const std::string& standard) {
  HbmConfig c;
  auto t = timing_preset(standard);
  if (!t) {
    throw_bad_input("standard = '{}' is not a known standard (HBM2, HBM2E, HBM3, HBM3E)", standard);
  }
  c.standard = standard;
  c.timing = *t;
  if (t->name.rfind("HBM2", 0) == 0) {
    c.org.channels_per_stack = 8;  // HBM2, HBM2E: 8 channels x 2 pseudo-channels x 64 bit, BL4
  }
  return c;
}

std::uint64_t refresh_work_cycles(const TimingSet& t, RefreshPolicy policy,
                                  std::uint32_t banks_per_pc) {
  // From the cycle refresh is forced: the last ACT, RD or WR may have issued the cycle before;
  // its bank may precharge after tRAS / tRTP / write recovery, then tRP (and tRC after an ACT
  // for REFab).
  const auto close =
      std::max<std::uint64_t>({t.nRC, std::uint64_t{t.nRAS} + t.nRP, std::uint64_t{t.nRTP} + t.nRP,
                               std::uint64_t{t.nCWL} + t.nBL + t.nWR + t.nRP});
  switch (policy) {
    case RefreshPolicy::kAllBank:
      return close + t.nRFC;
    case RefreshPolicy::kPerBank:
      // One REFpb per bank, tRREFD apart; the same bank may come first in the next round (tRFCpb).
      return close + std::max(t.nRFCpb, t.nRREFD) + std::uint64_t{banks_per_pc - 1} * t.nRREFD;
    case RefreshPolicy::kNone:
      break;
  }
  return 0;
}

void check_mapping(const Organisation& org, const std::string& mapping) {
  try {
    const AddressMap check(org, mapping);
  } catch (const Error& e) {
    throw_bad_input("mapping = \"{}\": {}", mapping, e.what());
  }
}

HbmConfig parse_hbm_config(std::string_view toml_text, const std::string& source) {
  const cfg::Document doc = cfg::parse_document(toml_text, source);
  cfg::Reader r(doc);
  HbmConfig c;
  c.visit(r);
  return c;
}

HbmConfig load_config_file(const std::string& path) {
  const cfg::Document doc = cfg::load_document(path);
  if (doc.root.get("hbm") == nullptr) throw_bad_input("{}: no [hbm] table", path);
  cfg::Reader r(doc);
  HbmConfig c;
  c.visit(r);
  return c;
}

void validate(const HbmConfig& c) {
  HbmConfig copy = c;
  cfg::validate_config(copy, "hbm config");
}

}  // namespace mxemu::hbm
