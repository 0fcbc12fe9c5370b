#include "model/hbm/config.h"

#include "model/common/config.h"
#include "model/common/error.h"
#include "model/hbm/address_map.h"

namespace mxemu::hbm {

HbmConfig preset_config(const std::string& standard) {
  HbmConfig c;
  auto t = timing_preset(standard);
  if (!t) throw_bad_input("standard = '{}' is not a known standard (HBM3, HBM2E)", standard);
  c.standard = standard;
  c.timing = *t;
  if (t->name.rfind("HBM2E", 0) == 0) {
    c.org.channels_per_stack = 8;  // HBM2E: 8 channels x 2 pseudo-channels x 64 bit, BL4
  }
  return c;
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
