#include "model/hbm/config.h"

#include <toml++/toml.h>

#include <bit>
#include <string_view>

#include "model/common/error.h"
#include "model/hbm/address_map.h"

namespace mxemu::hbm {

namespace {

std::uint32_t get_u32(const toml::node& n, const std::string& field) {
  const auto v = n.value<std::int64_t>();
  if (!n.is_integer() || !v || *v < 0 || *v > 0xFFFFFFFFll) {
    throw_bad_input("hbm config: {} must be a non-negative integer", field);
  }
  return static_cast<std::uint32_t>(*v);
}

std::string get_string(const toml::node& n, const std::string& field) {
  if (!n.is_string()) throw_bad_input("hbm config: {} must be a string", field);
  return std::string(*n.value<std::string>());
}

bool get_bool(const toml::node& n, const std::string& field) {
  if (!n.is_boolean()) throw_bad_input("hbm config: {} must be true or false", field);
  return *n.value<bool>();
}

const toml::table& get_table(const toml::node& n, const std::string& field) {
  if (!n.is_table()) throw_bad_input("hbm config: {} must be a table", field);
  return *n.as_table();
}

}  // namespace

HbmConfig preset_config(const std::string& standard) {
  HbmConfig c;
  auto t = timing_preset(standard);
  if (!t) throw_bad_input("hbm config: unknown standard '{}' (known: HBM3, HBM2E)", standard);
  c.standard = standard;
  c.timing = *t;
  if (t->name.rfind("HBM2E", 0) == 0) {
    c.org.channels_per_stack = 8;  // HBM2E: 8 channels x 2 pseudo-channels x 64 bit, BL4
  }
  return c;
}

HbmConfig config_from_toml(const toml::table& hbm) {
  std::string standard = "HBM3";
  if (const toml::node* n = hbm.get("standard")) standard = get_string(*n, "hbm.standard");
  HbmConfig c = preset_config(standard);
  for (const auto& [key, node] : hbm) {
    const std::string k(key.str());
    const std::string f = "hbm." + k;
    if (k == "standard") {
      continue;
    } else if (k == "mapping") {
      c.mapping = get_string(node, f);
    } else if (k == "page_policy") {
      const std::string v = get_string(node, f);
      if (v == "open") {
        c.page_policy = PagePolicy::kOpen;
      } else if (v == "closed") {
        c.page_policy = PagePolicy::kClosed;
      } else {
        throw_bad_input("hbm config: {} must be \"open\" or \"closed\", not '{}'", f, v);
      }
    } else if (k == "refresh") {
      const std::string v = get_string(node, f);
      if (v == "per-bank") {
        c.refresh = RefreshPolicy::kPerBank;
      } else if (v == "all-bank") {
        c.refresh = RefreshPolicy::kAllBank;
      } else if (v == "none") {
        c.refresh = RefreshPolicy::kNone;
      } else {
        throw_bad_input("hbm config: {} must be \"per-bank\", \"all-bank\" or \"none\", not '{}'",
                        f, v);
      }
    } else if (k == "queue_depth") {
      c.queue_depth = get_u32(node, f);
    } else if (k == "starvation_cap") {
      c.starvation_cap = get_u32(node, f);
    } else if (k == "refresh_postpone_max") {
      c.refresh_postpone_max = get_u32(node, f);
    } else if (k == "record_commands") {
      c.record_commands = get_bool(node, f);
    } else if (k == "organisation") {
      for (const auto& [ok, on] : get_table(node, f)) {
        const std::string ks(ok.str());
        const std::string of = f + "." + ks;
        Organisation& o = c.org;
        std::uint32_t* dst = ks == "stacks"               ? &o.stacks
                             : ks == "channels_per_stack" ? &o.channels_per_stack
                             : ks == "pseudo_channels"    ? &o.pseudo_channels
                             : ks == "bank_groups"        ? &o.bank_groups
                             : ks == "banks_per_group"    ? &o.banks_per_group
                             : ks == "rows"               ? &o.rows
                             : ks == "columns"            ? &o.columns
                             : ks == "access_bytes"       ? &o.access_bytes
                                                          : nullptr;
        if (!dst) throw_bad_input("hbm config: unknown field {}", of);
        *dst = get_u32(on, of);
      }
    } else if (k == "timing") {
      const TimingSet before = c.timing;
      for (const auto& [tk, tn] : get_table(node, f)) {
        const std::string ks(tk.str());
        bool found = false;
        for (const TimingField& tf : timing_fields()) {
          if (ks == tf.name) {
            c.timing.*tf.member = get_u32(tn, f + "." + ks);
            found = true;
          }
        }
        if (!found) throw_bad_input("hbm config: unknown timing field {}.{}", f, ks);
      }
      for (const TimingField& tf : timing_fields()) {
        if (c.timing.*tf.member != before.*tf.member) {
          c.timing.name += " (modified)";
          break;
        }
      }
    } else {
      throw_bad_input("hbm config: unknown field {}", f);
    }
  }
  validate(c);
  return c;
}

HbmConfig load_config_file(const std::string& path) {
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    throw_bad_input("hbm config {}: line {}: {}", path, e.source().begin.line, e.description());
  }
  const toml::node* hbm = root.get("hbm");
  if (!hbm) throw_bad_input("hbm config {}: no [hbm] table", path);
  if (!hbm->is_table()) throw_bad_input("hbm config {}: hbm must be a table", path);
  return config_from_toml(*hbm->as_table());
}

void validate(const HbmConfig& c) {
  const Organisation& o = c.org;
  const std::pair<const char*, std::uint32_t> fields[] = {
      {"stacks", o.stacks},
      {"channels_per_stack", o.channels_per_stack},
      {"pseudo_channels", o.pseudo_channels},
      {"bank_groups", o.bank_groups},
      {"banks_per_group", o.banks_per_group},
      {"rows", o.rows},
      {"columns", o.columns},
      {"access_bytes", o.access_bytes}};
  for (const auto& [name, v] : fields) {
    if (v == 0 || !std::has_single_bit(v)) {
      throw_bad_input("hbm config: hbm.organisation.{} = {} must be a power of two", name, v);
    }
  }
  if (o.banks_per_pc() > 64) {
    throw_bad_input(
        "hbm config: at most 64 banks per pseudo-channel (bank_groups x banks_per_group)");
  }
  if (o.capacity_bytes() > (std::uint64_t{1} << 48)) {
    throw_bad_input("hbm config: organisation gives more than 2^48 bytes");
  }
  if (c.queue_depth == 0) throw_bad_input("hbm config: hbm.queue_depth must be > 0");
  if (c.starvation_cap == 0) throw_bad_input("hbm config: hbm.starvation_cap must be > 0");
  if (c.refresh_postpone_max == 0 || c.refresh_postpone_max > 8) {
    throw_bad_input("hbm config: hbm.refresh_postpone_max must be 1..8 (JEDEC allows 8)");
  }
  if (c.refresh == RefreshPolicy::kPerBank && c.timing.nREFI / o.banks_per_pc() == 0) {
    throw_bad_input("hbm config: nREFI is shorter than one cycle per bank");
  }
  validate(c.timing);
  AddressMap check(o, c.mapping);  // throws on a bad mapping
}

}  // namespace mxemu::hbm
