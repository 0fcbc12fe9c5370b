#include "model/chip/chip.h"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <fstream>
#include <sstream>

#include "firmware/include/mxemu/platform.h"
#include "model/common/error.h"

namespace mxemu::chip {

namespace {
// Core cycles one access to the accelerator window costs before any stall (a register on the
// core's local interconnect; stores are posted).
constexpr std::uint32_t kMmioLatencyCycles = 2;
constexpr std::uint32_t kMmioWindowBytes = 0x3000;  // queues, semaphores, control (tools/regmap)
}  // namespace

AllConfigs load_all_configs(const std::string& path) {
  AllConfigs c;
  c.chip = load_chip_config(path);
  if (!path.empty()) {
    core::load_core_config(path, c.core);
    toml::table root;
    try {
      root = toml::parse(c.chip.toml_text, path);
    } catch (const toml::parse_error& e) {
      throw_bad_input("{}: malformed TOML: {}", path, e.description());
    }
    if (const toml::node* h = root.get("hbm")) {
      if (!h->is_table()) throw_bad_input("{}: [hbm] must be a table", path);
      c.hbm = hbm::config_from_toml(*h->as_table());
    }
  }
  // One clock for core and engines (DESIGN §2) unless [core] clock_hz says otherwise.
  bool core_clock_given = false;
  if (!path.empty()) {
    const toml::table root = toml::parse(c.chip.toml_text, path);
    if (const toml::node* n = root.at_path("core.clock_hz").node()) core_clock_given = n != nullptr;
  }
  if (!core_clock_given) c.core.clock_hz = c.chip.clock_hz;
  return c;
}

Chip::Chip(const ChipConfig& chip, const core::CoreConfig& core, const hbm::HbmConfig& hbm,
           std::uint64_t max_cycles)
    : cfg_(chip),
      hbm_(std::make_unique<ChipHbm>("hbm", hbm, chip.clock_hz, chip.dma.bytes_per_cycle,
                                     chip.dma.hbm_tlm || chip.mxu.cycle_accurate)),
      state_(cfg_, *hbm_),
      machine_(core),
      max_cycles_(max_cycles) {
  dma_ = std::make_unique<DmaEngine>("dma", state_);
  vpu_ = std::make_unique<VpuEngine>("vpu", state_);
  std::vector<Engine*> queues{dma_.get(), vpu_.get()};
  for (std::uint32_t i = 0; i < cfg_.mxu.count; ++i) {
    mxus_.push_back(std::make_unique<MxuEngine>(fmt::format("mxu{}", i).c_str(), state_, i));
    queues.push_back(mxus_.back().get());
  }
  mmio_ = std::make_unique<AccelMmio>(state_, queues, machine_.bus());
  machine_.bus().map(MXEMU_ACCEL_BASE, kMmioWindowBytes, *mmio_, kMmioLatencyCycles, "accel");
}

void Chip::attach_core(core::DebugAgent* debugger) {
  core_ = std::make_unique<core::CoreModule>("core", machine_, max_cycles_, debugger, true);
}

std::uint64_t Chip::cycles() const {
  return machine_.hart().cycle();
}

std::string Chip::deadlock_report() const {
  std::string s = "deadlock: the core waits on " +
                  (mmio_->core_waiting_on().empty() ? std::string("nothing it can be woken from")
                                                    : mmio_->core_waiting_on());
  const auto engine = [&](const Engine& e) {
    if (e.idle()) return;
    s += fmt::format("; {} has {} descriptor(s) pending", e.queue_name(), e.queued_or_running());
    if (e.blocked_on()) {
      s += fmt::format(", its next waits for {} on semaphore {} (value {})", e.blocked_on()->second,
                       e.blocked_on()->first, state_.sems[e.blocked_on()->first]);
    }
  };
  engine(*dma_);
  engine(*vpu_);
  for (const auto& m : mxus_) engine(*m);
  return s;
}

int Chip::run() {
  if (!core_) attach_core();
  sc_core::sc_start();
  if (core_->killed()) return 0;
  if (state_.fault) {
    const EngineFault& f = *state_.fault;
    throw Error(ExitCode::kSimFault,
                fmt::format("engine fault: {} queue, descriptor #{} (opcode {}) at cycle {}: {}",
                            f.queue, f.seq, f.opcode, f.cycle, f.message));
  }
  if (!core_->done() && mmio_->core_waiting_on().empty() && mmio_->all_idle()) {
    // Nothing of the chip's is involved (e.g. WFI with no interrupt source): the core's report.
    machine_.finish(core::StopReason::kWfi, max_cycles_);
  }
  if (!core_->done()) {
    throw Error(ExitCode::kSimFault, fmt::format("{} (cycle {}, pc 0x{:08x})", deadlock_report(),
                                                 state_.now_cycle(), machine_.hart().pc()));
  }
  const int code = machine_.finish(core_->stop_reason(), max_cycles_);
  if (!mmio_->all_idle()) {
    throw Error(
        ExitCode::kSimFault,
        fmt::format("firmware exited (code {}) at cycle {} while engines still had work: {}", code,
                    cycles(), deadlock_report()));
  }
  return code;
}

nlohmann::json Chip::stats() const {
  using nlohmann::json;
  const std::uint64_t total = cycles();
  json j;
  j["chip"] = cfg_.name;
  j["total_cycles"] = total;
  j["simulated_time_ps"] =
      static_cast<std::uint64_t>(sc_core::sc_time_stamp().to_seconds() * 1e12 + 0.5);
  const core::Hart& h = machine_.hart();
  j["core"] = {{"cycles", h.cycle()},
               {"instret", h.instret()},
               {"ipc", h.cycle() == 0 ? 0.0 : static_cast<double>(h.instret()) / h.cycle()},
               {"stall_cycles", h.stall_cycles()},
               {"sleep_cycles", h.sleep_cycles()},
               {"traps", h.traps()},
               {"interrupts", h.interrupts()},
               {"mode", machine_.config().lockstep ? "lockstep" : "decoupled"},
               {"fence_stall_cycles", mmio_->fence_stall_cycles()},
               {"push_stall_cycles", mmio_->push_stall_cycles()}};
  std::uint64_t busy = 0, macs = 0;
  json engines = json::object();
  const auto engine_json = [&](const Engine& e) {
    json s = {{"descriptors", e.stats().descriptors}, {"busy_cycles", e.stats().busy_cycles}};
    json st = json::object();
    for (const auto& [cause, n] : e.stats().stall_cycles) st[cause] = n;
    s["stall_cycles"] = st;
    return s;
  };
  engines["DMA"] = engine_json(*dma_);
  engines["DMA"]["bytes"] = dma_->bytes_moved();
  engines["VPU"] = engine_json(*vpu_);
  engines["VPU"]["elements"] = vpu_->elements();
  for (const auto& m : mxus_) {
    engines[m->queue_name()] = engine_json(*m);
    engines[m->queue_name()]["macs"] = m->macs();
    busy += m->stream_cycles();
    macs += m->macs();
  }
  j["engines"] = engines;
  j["mxu_busy_cycles"] = busy;
  j["mxu_macs"] = macs;
  const double peak = cfg_.peak_macs_per_cycle() * static_cast<double>(total);
  j["mxu_utilization"] = total == 0 ? 0.0 : static_cast<double>(macs) / peak;
  j["hbm_bytes_read"] = hbm_->bytes_read();
  j["hbm_bytes_written"] = hbm_->bytes_written();
  const double secs = static_cast<double>(total) / static_cast<double>(cfg_.clock_hz);
  j["hbm_bandwidth_gbps"] =
      secs == 0 ? 0.0
                : static_cast<double>(hbm_->bytes_read() + hbm_->bytes_written()) / secs / 1e9;
  const auto& hs = hbm_->core().stats();
  const std::uint64_t accesses = hs.reads + hs.writes;
  j["hbm"] = {{"reads", hs.reads},
              {"writes", hs.writes},
              {"row_hit_rate", accesses == 0 ? 0.0 : static_cast<double>(hs.row_hits) / accesses},
              {"activates", hs.activates},
              {"refreshes", hs.refreshes}};
  return j;
}

std::string Chip::timeline_json() const {
  nlohmann::json events = nlohmann::json::array();
  const double us_per_cycle = 1e6 / static_cast<double>(cfg_.clock_hz);
  std::vector<std::string> names(2 + mxus_.size());
  names[regs::kQueueDma] = "DMA";
  names[regs::kQueueVpu] = "VPU";
  for (std::size_t i = 0; i < mxus_.size(); ++i)
    names[regs::kQueueMxu0 + i] = mxus_[i]->queue_name();
  for (std::size_t q = 0; q < names.size(); ++q) {
    events.push_back({{"ph", "M"},
                      {"name", "thread_name"},
                      {"pid", 0},
                      {"tid", q},
                      {"args", {{"name", names[q]}}}});
  }
  for (const TimelineEvent& e : state_.timeline) {
    events.push_back(
        {{"ph", "X"},
         {"name", e.name},
         {"pid", 0},
         {"tid", e.queue},
         {"ts", static_cast<double>(e.start_cycle) * us_per_cycle},
         {"dur", static_cast<double>(e.end_cycle - e.start_cycle) * us_per_cycle},
         {"args", {{"seq", e.seq}, {"start_cycle", e.start_cycle}, {"end_cycle", e.end_cycle}}}});
  }
  return nlohmann::json{{"traceEvents", events}, {"displayTimeUnit", "ns"}}.dump();
}

}  // namespace mxemu::chip
