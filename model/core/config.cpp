#include "model/core/config.h"

#include <toml++/toml.h>

#include <functional>
#include <map>

#include "model/common/error.h"

namespace mxemu::core {

namespace {

template <typename T>
void read_int(const toml::node& n, const std::string& key, T& out, const std::string& path) {
  const auto v = n.value<std::int64_t>();
  if (!v || n.is_boolean()) throw_bad_input("{}: config key '{}' must be an integer", path, key);
  if (*v < 0 || static_cast<std::uint64_t>(*v) > std::numeric_limits<T>::max())
    throw_bad_input("{}: config key '{}' = {} is out of range", path, key, *v);
  out = static_cast<T>(*v);
}

using Setter = std::function<void(const toml::node&, const std::string&)>;

void read_table(const toml::table& t, const std::string& prefix,
                const std::map<std::string, Setter>& keys, const std::string& path,
                const std::map<std::string, std::function<void(const toml::table&)>>& subtables) {
  for (const auto& [k, node] : t) {
    const std::string key(k.str());
    const std::string full = prefix + "." + key;
    if (auto it = keys.find(key); it != keys.end()) {
      it->second(node, full);
    } else if (auto st = subtables.find(key); st != subtables.end() && node.is_table()) {
      st->second(*node.as_table());
    } else {
      throw_bad_input("{}: unknown config key '{}'", path, full);
    }
  }
}

}  // namespace

void load_core_config(const std::string& path, CoreConfig& cfg) {
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    throw_bad_input("{}: cannot parse config: {} (line {})", path, e.description(),
                    e.source().begin.line);
  }
  const toml::node* core = root.get("core");
  if (core == nullptr) return;
  if (!core->is_table()) throw_bad_input("{}: 'core' must be a table", path);
  auto u32 = [&](std::uint32_t& f) {
    return Setter(
        [&f, &path](const toml::node& n, const std::string& k) { read_int(n, k, f, path); });
  };
  auto u64 = [&](std::uint64_t& f) {
    return Setter(
        [&f, &path](const toml::node& n, const std::string& k) { read_int(n, k, f, path); });
  };
  CoreTiming& t = cfg.timing;
  PlatformLatency& l = cfg.latency;
  const std::map<std::string, Setter> timing_keys = {
      {"alu_cycles", u32(t.alu_cycles)},
      {"branch_not_taken_cycles", u32(t.branch_not_taken_cycles)},
      {"branch_taken_cycles", u32(t.branch_taken_cycles)},
      {"jump_cycles", u32(t.jump_cycles)},
      {"mul_cycles", u32(t.mul_cycles)},
      {"div_cycles", u32(t.div_cycles)},
      {"load_cycles", u32(t.load_cycles)},
      {"store_cycles", u32(t.store_cycles)},
      {"csr_cycles", u32(t.csr_cycles)},
      {"system_cycles", u32(t.system_cycles)},
      {"trap_cycles", u32(t.trap_cycles)},
      {"mret_cycles", u32(t.mret_cycles)},
  };
  const std::map<std::string, Setter> latency_keys = {
      {"ram_cycles", u32(l.ram_cycles)},         {"launch_cycles", u32(l.launch_cycles)},
      {"console_cycles", u32(l.console_cycles)}, {"sysreg_cycles", u32(l.sysreg_cycles)},
      {"timer_cycles", u32(l.timer_cycles)},     {"htif_cycles", u32(l.htif_cycles)},
  };
  const std::map<std::string, Setter> core_keys = {
      {"clock_hz", u64(cfg.clock_hz)},
      {"ram_size_bytes", u32(cfg.ram_size_bytes)},
      {"timer_divider", u32(cfg.timer_divider)},
      {"chip_id", u32(cfg.chip_id)},
      {"hart_id", u32(cfg.hart_id)},
      {"quantum_cycles", u64(cfg.quantum_cycles)},
      {"lockstep", Setter([&](const toml::node& n, const std::string& k) {
         const auto b = n.value<bool>();
         if (!b || !n.is_boolean())
           throw_bad_input("{}: config key '{}' must be a boolean", path, k);
         cfg.lockstep = *b;
       })},
  };
  read_table(
      *core->as_table(), "core", core_keys, path,
      {{"timing",
        [&](const toml::table& tt) { read_table(tt, "core.timing", timing_keys, path, {}); }},
       {"latency",
        [&](const toml::table& tt) { read_table(tt, "core.latency", latency_keys, path, {}); }}});
}

}  // namespace mxemu::core
