#include "model/chip/chip_config.h"

#include <toml++/toml.h>

#include <fstream>
#include <set>
#include <sstream>

#include "model/chip/regs.h"
#include "model/common/error.h"

namespace mxemu::chip {

std::string_view mx1_default_toml() {
  return R"(# mx1: the default chip (DESIGN §2). Every number here is a config field.
[chip]
name = "mx1"
clock_hz = 1_000_000_000      # core, MXU, VPU and DMA clock

[mxu]
count = 2                     # MXU engines
rows = 128                    # systolic rows (K per weight tile)
cols = 128                    # systolic columns (N per weight tile)
acc_bytes = 4194304           # FP32 accumulators per MXU (4 MiB)
cycle_accurate = false        # true: step the array cycle by cycle (same results and cycles)

[vmem]
bytes = 33554432              # scratchpad (32 MiB)
banks = 32
bank_width_bytes = 8          # one word per bank per cycle

[vpu]
lanes = 128                   # FP32 elements per cycle
latency_cycles = 8
exp_cycles = 4                # per lane group
reduce_latency_cycles = 7

[dma]
bytes_per_cycle = 2048        # on-chip side (about HBM3 x4's 3.3 TB/s)
setup_cycles = 16             # per descriptor
hbm_request_bytes = 64        # HBM request size
hbm_tlm = true                # DMA -> HBM over TLM-2.0 AT; false: direct (same cycles)

[queue]
depth = 64                    # descriptors per engine queue
)";
}

namespace {

using Keys = std::set<std::string, std::less<>>;

void check_keys(const toml::table& t, std::string_view table, const Keys& allowed,
                const std::string& source) {
  for (const auto& [k, v] : t) {
    if (!allowed.contains(k.str())) {
      throw_bad_input("{}: unknown key '{}' in [{}]", source, k.str(), table);
    }
  }
}

template <typename T>
void read_uint(const toml::table& t, std::string_view table, std::string_view key, T& out,
               std::uint64_t lo, std::uint64_t hi, const std::string& source) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return;
  const auto v = n->value<std::int64_t>();
  if (!n->is_integer() || !v) throw_bad_input("{}: [{}] {} must be an integer", source, table, key);
  if (*v < 0 || static_cast<std::uint64_t>(*v) < lo || static_cast<std::uint64_t>(*v) > hi) {
    throw_bad_input("{}: [{}] {} = {} is out of range [{}, {}]", source, table, key, *v, lo, hi);
  }
  out = static_cast<T>(*v);
}

const toml::table* sub(const toml::table& root, std::string_view name, const std::string& source) {
  const toml::node* n = root.get(name);
  if (n == nullptr) return nullptr;
  if (!n->is_table()) throw_bad_input("{}: [{}] must be a table", source, name);
  return n->as_table();
}

void apply(const toml::table& root, ChipConfig& c, const std::string& source) {
  // The core and HBM sections belong to their own loaders (model/core, model/hbm).
  check_keys(root, "", Keys{"chip", "mxu", "vmem", "vpu", "dma", "queue", "core", "hbm", "launch"},
             source);
  if (const auto* t = sub(root, "chip", source)) {
    check_keys(*t, "chip", Keys{"name", "clock_hz"}, source);
    if (const auto* n = t->get("name")) {
      if (!n->is_string()) throw_bad_input("{}: [chip] name must be a string", source);
      c.name = *n->value<std::string>();
    }
    read_uint(*t, "chip", "clock_hz", c.clock_hz, 1'000'000, 10'000'000'000ull, source);
  }
  if (const auto* t = sub(root, "mxu", source)) {
    check_keys(*t, "mxu", Keys{"count", "rows", "cols", "acc_bytes", "cycle_accurate"}, source);
    read_uint(*t, "mxu", "count", c.mxu.count, 1, regs::kMaxMxu, source);
    read_uint(*t, "mxu", "rows", c.mxu.rows, 1, 1024, source);
    read_uint(*t, "mxu", "cols", c.mxu.cols, 1, 1024, source);
    read_uint(*t, "mxu", "acc_bytes", c.mxu.acc_bytes, 4096, regs::space::kAccStride, source);
    if (const auto* n = t->get("cycle_accurate")) {
      if (!n->is_boolean())
        throw_bad_input("{}: [mxu] cycle_accurate must be true or false", source);
      c.mxu.cycle_accurate = *n->value<bool>();
    }
  }
  if (const auto* t = sub(root, "vmem", source)) {
    check_keys(*t, "vmem", Keys{"bytes", "banks", "bank_width_bytes"}, source);
    read_uint(*t, "vmem", "bytes", c.vmem.bytes, 4096, regs::space::kAcc, source);
    read_uint(*t, "vmem", "banks", c.vmem.banks, 1, 1024, source);
    read_uint(*t, "vmem", "bank_width_bytes", c.vmem.bank_width_bytes, 1, 1024, source);
  }
  if (const auto* t = sub(root, "vpu", source)) {
    check_keys(*t, "vpu", Keys{"lanes", "latency_cycles", "exp_cycles", "reduce_latency_cycles"},
               source);
    read_uint(*t, "vpu", "lanes", c.vpu.lanes, 1, 65536, source);
    read_uint(*t, "vpu", "latency_cycles", c.vpu.latency_cycles, 0, 100000, source);
    read_uint(*t, "vpu", "exp_cycles", c.vpu.exp_cycles, 1, 1000, source);
    read_uint(*t, "vpu", "reduce_latency_cycles", c.vpu.reduce_latency_cycles, 0, 100000, source);
  }
  if (const auto* t = sub(root, "dma", source)) {
    check_keys(*t, "dma", Keys{"bytes_per_cycle", "setup_cycles", "hbm_request_bytes", "hbm_tlm"},
               source);
    read_uint(*t, "dma", "bytes_per_cycle", c.dma.bytes_per_cycle, 1, 1u << 20, source);
    read_uint(*t, "dma", "setup_cycles", c.dma.setup_cycles, 0, 1u << 20, source);
    read_uint(*t, "dma", "hbm_request_bytes", c.dma.hbm_request_bytes, 32, 4096, source);
    if (const auto* n = t->get("hbm_tlm")) {
      if (!n->is_boolean()) throw_bad_input("{}: [dma] hbm_tlm must be true or false", source);
      c.dma.hbm_tlm = *n->value<bool>();
    }
    if ((c.dma.hbm_request_bytes & (c.dma.hbm_request_bytes - 1)) != 0) {
      throw_bad_input("{}: [dma] hbm_request_bytes = {} is not a power of two", source,
                      c.dma.hbm_request_bytes);
    }
  }
  if (const auto* t = sub(root, "queue", source)) {
    check_keys(*t, "queue", Keys{"depth"}, source);
    read_uint(*t, "queue", "depth", c.queue.depth, 1, 1u << 16, source);
  }
}

toml::table parse_toml(std::string_view text, const std::string& source) {
  try {
    return toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << e.description() << " (line " << e.source().begin.line << ")";
    throw_bad_input("{}: malformed TOML: {}", source, msg.str());
  }
}

}  // namespace

ChipConfig parse_chip_config(std::string_view toml_text, const std::string& source) {
  ChipConfig c;
  apply(parse_toml(mx1_default_toml(), "embedded mx1"), c, "embedded mx1");
  apply(parse_toml(toml_text, source), c, source);
  // The MXU reads one activation row (up to `rows` bytes) from VMEM per cycle; the model takes
  // that read to be conflict-free, so VMEM must deliver at least that much per cycle.
  if (std::uint64_t{c.vmem.banks} * c.vmem.bank_width_bytes < c.mxu.rows) {
    throw_bad_input(
        "{}: VMEM delivers {} x {} bytes a cycle, less than an MXU activation row "
        "({} bytes): raise [vmem] banks or bank_width_bytes",
        source, c.vmem.banks, c.vmem.bank_width_bytes, c.mxu.rows);
  }
  c.source = source;
  c.toml_text = std::string(toml_text);
  return c;
}

ChipConfig load_chip_config(const std::string& path) {
  if (path.empty()) return parse_chip_config(mx1_default_toml(), "embedded mx1");
  std::ifstream in(path);
  if (!in) throw_bad_input("cannot open config file '{}'", path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_chip_config(ss.str(), path);
}

}  // namespace mxemu::chip
