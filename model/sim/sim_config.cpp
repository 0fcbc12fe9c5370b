#include "model/sim/sim_config.h"

#include "model/common/config.h"
#include "model/common/error.h"

namespace mxemu::sim {

namespace {

SimConfig read(const cfg::Document& doc) {
  SimConfig c;
  c.source = doc.source;
  cfg::Reader r(doc);
  c.visit(r);
  r.finish();
  // One clock for the chip (DESIGN §2): [core] clock_hz is another name for [chip] clock_hz.
  const toml::node* core_clock = doc.root.at_path("core.clock_hz").node();
  const toml::node* chip_clock = doc.root.at_path("chip.clock_hz").node();
  if (core_clock != nullptr) {
    if (chip_clock != nullptr && c.core.clock_hz != c.chip.clock_hz) {
      throw_bad_input(
          "{}: [core] clock_hz = {} differs from [chip] clock_hz = {}: the core and the engines "
          "share one clock (set [chip] clock_hz)",
          doc.source, c.core.clock_hz, c.chip.clock_hz);
    }
    c.chip.clock_hz = c.core.clock_hz;
  }
  c.core.clock_hz = c.chip.clock_hz;
  return c;
}

}  // namespace

SimConfig load_sim_config(const std::string& path) {
  return read(cfg::load_document(path));
}

SimConfig parse_sim_config(std::string_view toml_text, const std::string& source) {
  return read(cfg::parse_document(toml_text, source));
}

std::string dump_sim_config(const SimConfig& config) {
  SimConfig c = config;
  cfg::Writer w;
  c.visit(w);
  return w.text(
      "mxemu configuration: every key with its effective value (defaults: the chip \"mx1\").\n"
      "Source: " +
      config.source +
      ". Comments give each key's meaning and range; `mxemu run --config` reads this file back.");
}

}  // namespace mxemu::sim
