#include "model/chip/chip.h"

#include <fmt/format.h>

#include <cstring>

#include "firmware/include/mxemu/platform.h"
#include "model/chip/dma_engine.h"
#include "model/chip/ici_engine.h"
#include "model/chip/mxu_engine.h"
#include "model/chip/vpu_engine.h"
#include "model/hbm/stats.h"

namespace mxemu::chip {

namespace {
// Core cycles one access to the accelerator window costs before any stall (a register on the
// core's local interconnect; stores are posted).
constexpr std::uint32_t kMmioLatencyCycles = 2;
constexpr std::uint32_t kMmioWindowBytes = 0x3000;  // queues, semaphores, control (tools/regmap)

// The waveforms' HBM commands come from the controller's command log.
hbm::HbmConfig hbm_config(const hbm::HbmConfig& hbm, const ChipConfig& chip) {
  hbm::HbmConfig h = hbm;
  if (chip.waves.on()) h.record_commands = true;
  return h;
}
}  // namespace

const char* kind_name(ChipEnd::Kind k) {
  switch (k) {
    case ChipEnd::Kind::kExit:
      return "exit";
    case ChipEnd::Kind::kFault:
      return "fault";
    case ChipEnd::Kind::kDeadlock:
      return "deadlock";
    case ChipEnd::Kind::kLimit:
      return "cycle limit";
    case ChipEnd::Kind::kKilled:
      return "killed by debugger";
    case ChipEnd::Kind::kStopped:
      return "stopped";
    case ChipEnd::Kind::kFailed:
      return "failed";
    case ChipEnd::Kind::kSpare:
      return "unused spare";
  }
  return "?";
}

Chip::Chip(const sc_core::sc_module_name& name, const ChipIdentity& id, const ChipConfig& chip,
           const core::CoreConfig& core, const hbm::HbmConfig& hbm, const ici::IciConfig& ici,
           std::uint64_t max_cycles, ChipObserver* owner, ThreadPool* pool, const RtlPlugins* rtl)
    : sc_core::sc_module(name),
      cfg_(chip),
      ici_cfg_(ici),
      hbm_(std::make_unique<ChipHbm>("hbm", hbm_config(hbm, chip), chip.clock(),
                                     chip.dma.bytes_per_cycle,
                                     chip.dma.hbm_tlm || chip.mxu.cycle_accurate)),
      state_(cfg_, id, *hbm_),
      machine_(core),
      max_cycles_(max_cycles),
      owner_(owner) {
  state_.pool = pool;
  state_.rtl = rtl;
  state_.on_fault = [this] { engine_fault(); };
  // The engine registry: queue order (tools/regmap: DMA, VPU, then MXU i at kQueueMxu0 + i).
  engines_.push_back(std::make_unique<DmaEngine>("dma", state_));
  engines_.push_back(std::make_unique<VpuEngine>("vpu", state_));
  router_ = std::make_unique<ici::Router>("ici_ports", ici_cfg_, id.index);
  engines_.push_back(std::make_unique<IciEngine>("ici", state_, *router_, ici_cfg_));
  for (std::uint32_t i = 0; i < cfg_.mxu.count; ++i) {
    engines_.push_back(std::make_unique<MxuEngine>(fmt::format("mxu{}", i).c_str(), state_, i));
  }
  std::vector<Engine*> queues(regs::kMaxQueues, nullptr);
  for (const auto& e : engines_) queues.at(e->queue_index()) = e.get();
  mmio_ = std::make_unique<AccelMmio>(state_, queues, machine_.bus());
  machine_.bus().map(MXEMU_ACCEL_BASE, kMmioWindowBytes, *mmio_, kMmioLatencyCycles, "accel");
  core_ = std::make_unique<core::CoreModule>("core", machine_, max_cycles_, nullptr,
                                             [this] { core_done(); });
  if (cfg_.waves.on()) {
    waves_ = std::make_unique<ChipWaves>("waves", this->name(), state_, engines_, *hbm_, *router_);
    ChipWaves* w = waves_.get();
    state_.waves = w;
    hbm_->set_on_accept([w](std::uint64_t a, hbm::Cycle c) { w->hbm_accept(a, c); });
    core_->set_on_sync([w](std::uint64_t c, std::uint32_t pc) { w->core_pc(c, pc); });
    router_->set_record_timeline(true);  // its busy spans
  }
  SC_THREAD(watchdog_thread);
}

void Chip::write_identity_header() {
  namespace lb = regs::launch;
  std::uint8_t* base = machine_.launch_block().host_memory();
  const auto put = [&](std::uint32_t off, std::uint32_t v) { std::memcpy(base + off, &v, 4); };
  put(lb::kVersionOffset, regs::kAbiVersion);
  put(lb::kChipIndexOffset, state_.id.index);
  put(lb::kNumChipsOffset, state_.id.num_chips);
  put(lb::kChipXOffset, state_.id.coord[0]);
  put(lb::kChipYOffset, state_.id.coord[1]);
  put(lb::kChipZOffset, state_.id.coord[2]);
}

void Chip::activate(const ChipIdentity& id) {
  state_.id = id;
  state_.ici_ack_next_epoch = true;  // the rewire that follows brings the epoch it starts in
  write_identity_header();
  core_->release();
}

std::uint64_t Chip::cycles() const {
  return machine_.hart().cycle();
}

void Chip::finish(ChipEnd end) {
  if (end_) return;
  end_ = std::move(end);
  state_.halted = true;
  core_->halt();
  state_.notify_changed();  // engines and MMIO waits see the halt (the router still forwards)
  if (owner_ != nullptr) owner_->chip_ended(state_.id.index, *end_);
}

void Chip::stop(const ChipEnd& end) {
  if (end_) return;
  end_ = end;
  state_.halted = true;
  core_->halt();
  state_.notify_changed();
}

void Chip::core_done() {
  if (end_) return;  // the chip had ended already (fault, deadlock, stop): the core followed
  ChipEnd e;
  e.cycle = cycles();
  if (core_->killed()) {
    e.kind = ChipEnd::Kind::kKilled;
    e.message = "killed by debugger";
    finish(e);
    return;
  }
  try {
    e.exit_code = machine_.finish(core_->stop_reason(), max_cycles_);
    e.kind = ChipEnd::Kind::kExit;
    if (!mmio_->all_idle()) {
      e.kind = ChipEnd::Kind::kFault;
      e.error = ExitCode::kSimFault;
      e.message =
          fmt::format("firmware exited (code {}) at cycle {} while engines still had work: {}",
                      e.exit_code, e.cycle, deadlock_report());
    } else {
      for (const auto& eng : engines_) eng->end_checks();
    }
  } catch (const Error& err) {
    e.kind = err.code() == ExitCode::kLimit ? ChipEnd::Kind::kLimit : ChipEnd::Kind::kFault;
    e.error = err.code();
    e.message = err.what();
  }
  finish(e);
}

void Chip::engine_fault() {
  const EngineFault& f = *state_.fault;
  ChipEnd e;
  e.kind = ChipEnd::Kind::kFault;
  e.error = ExitCode::kSimFault;
  e.cycle = f.cycle;
  e.message = fmt::format("engine fault: {} queue, descriptor #{} (opcode {}) at cycle {}: {}",
                          f.queue, f.seq, f.opcode, f.cycle, f.message);
  finish(e);
}

bool Chip::waiting() const {
  return !mmio_->core_waiting_on().empty() || core_->sleeping_forever();
}

std::uint64_t Chip::progress() const {
  std::uint64_t p = machine_.hart().instret() + state_.sem_events;
  for (const auto& e : engines_) p += e->progress();
  return p;
}

void Chip::watchdog_thread() {
  std::uint64_t last = ~std::uint64_t{0};
  for (;;) {
    sc_core::wait(state_.cycles(cfg_.watchdog_cycles));
    if (end_) return;
    if (state_.ici_state == 1 || core_->parked()) {  // the pod is being rewired; a spare waits
      last = ~std::uint64_t{0};
      continue;
    }
    bool busy = false;
    for (const auto& e : engines_) busy = busy || e->busy();
    const std::uint64_t p = progress();
    if (p == last && waiting() && !busy) {
      finish(deadlock_end());
      return;
    }
    last = p;
  }
}

std::string Chip::deadlock_report() const {
  std::string s = "deadlock: the core waits on " +
                  (mmio_->core_waiting_on().empty() ? std::string("nothing it can be woken from")
                                                    : mmio_->core_waiting_on());
  for (const auto& e : engines_) {
    if (e->idle()) continue;
    s += fmt::format("; {} has {} descriptor(s) pending", e->queue_name(), e->queued_or_running());
    if (const std::string w = e->waiting_on(); !w.empty()) s += fmt::format(" ({})", w);
    if (e->loop_body_pending() > 0) {
      s += fmt::format(", its LOOP waits for {} body descriptor(s) not pushed yet",
                       e->loop_body_pending());
    }
    if (e->blocked_on()) {
      s +=
          fmt::format(", its next waits for {} on semaphore {} (value {})", e->blocked_on()->second,
                      e->blocked_on()->first, state_.sems[e->blocked_on()->first]);
    }
  }
  return s;
}

ChipEnd Chip::deadlock_end() const {
  ChipEnd e;
  e.kind = ChipEnd::Kind::kDeadlock;
  e.error = ExitCode::kSimFault;
  e.cycle = state_.now_cycle();
  if (mmio_->core_waiting_on().empty() && mmio_->all_idle()) {
    // Nothing of the chip's is involved (e.g. WFI with no interrupt source): the core's report.
    try {
      machine_.finish(core::StopReason::kWfi, max_cycles_);
    } catch (const Error& err) {
      e.message = err.what();
      return e;
    }
  }
  e.message =
      fmt::format("{} (cycle {}, pc 0x{:08x})", deadlock_report(), e.cycle, machine_.hart().pc());
  return e;
}

ChipEnd Chip::starved_end() const {
  return end_ ? *end_ : deadlock_end();
}

nlohmann::json Chip::stats() const {
  using nlohmann::json;
  const std::uint64_t total = cycles();
  json j;
  j["chip"] = cfg_.name;
  j["chip_index"] = state_.id.index;
  j["coords"] = state_.id.coord;
  j["sc_name"] = name();
  j["total_cycles"] = total;
  j["simulated_time_ps"] = total * state_.clock().period_ps;
  const core::Hart& h = machine_.hart();
  j["core"] = {
      {"cycles", h.cycle()},
      {"instret", h.instret()},
      {"ipc", h.cycle() == 0 ? 0.0 : static_cast<double>(h.instret()) / h.cycle()},
      {"stall_cycles", h.stall_cycles()},
      {"sleep_cycles", h.sleep_cycles()},
      {"traps", h.traps()},
      {"interrupts", h.interrupts()},
      {"clock_hz", cfg_.clock_hz},
      {"mode", machine_.config().lockstep ? "lockstep" : "decoupled"},
      {"quantum_cycles", machine_.config().lockstep ? 1 : machine_.config().quantum_cycles},
      {"fence_stall_cycles", mmio_->fence_stall_cycles()},
      {"push_stall_cycles", mmio_->push_stall_cycles()}};
  std::uint64_t busy = 0, macs = 0;
  json engines = json::object();
  for (const auto& e : engines_) {
    json s = e->stats_json();
    if (s.contains("macs")) {
      busy += s["busy_cycles"].get<std::uint64_t>();
      macs += s["macs"].get<std::uint64_t>();
    }
    engines[e->queue_name()] = std::move(s);
  }
  j["engines"] = engines;
  json shared = json::array();
  for (const ChipState::SemShared& x : state_.sem_shared) {
    json queues = json::array();
    for (const auto& e : engines_) {
      if ((x.queues >> e->queue_index() & 1u) != 0) queues.push_back(e->queue_name());
    }
    shared.push_back({{"semaphore", x.sem}, {"queues", queues}, {"cycle", x.cycle}});
  }
  j["semaphores_shared"] = shared;
  j["mxu_busy_cycles"] = busy;
  j["mxu_macs"] = macs;
  const double peak = cfg_.peak_macs_per_cycle() * static_cast<double>(total);
  j["mxu_utilization"] = total == 0 ? 0.0 : static_cast<double>(macs) / peak;
  j["hbm_bytes_read"] = hbm_->bytes_read();
  j["hbm_bytes_written"] = hbm_->bytes_written();
  const double secs = static_cast<double>(total) / state_.clock().effective_hz();
  j["hbm_bandwidth_gbps"] =
      secs == 0 ? 0.0
                : static_cast<double>(hbm_->bytes_read() + hbm_->bytes_written()) / secs / 1e9;
  // The controller's own report (model/hbm/stats.h): totals, reads and writes apart, latency
  // percentiles and histograms, the time shares of refresh, drains and turnarounds.
  j["hbm"] = hbm::stats_json(hbm_->core());
  if (end_) {
    j["end"] = {{"kind", kind_name(end_->kind)}, {"cycle", end_->cycle}};
  }
  return j;
}

void Chip::timeline_events(nlohmann::json& events) const {
  const double us_per_cycle = static_cast<double>(state_.clock().period_ps) / 1e6;
  const std::uint32_t pid = state_.id.index;
  events.push_back({{"ph", "M"},
                    {"name", "process_name"},
                    {"pid", pid},
                    {"args", {{"name", fmt::format("chip{} ({})", pid, cfg_.name)}}}});
  events.push_back(
      {{"ph", "M"}, {"name", "process_sort_index"}, {"pid", pid}, {"args", {{"sort_index", pid}}}});
  // Descriptors of one queue overlap in time (an engine dispatches the next before the last has
  // completed), so each queue gets as many tracks as it has descriptors in flight at once: a
  // slice goes on the first of its queue's tracks that is free by its start. Slices on a track
  // therefore never overlap. Track tid = queue + 100 x lane; "DMA", "DMA #2", ...
  std::vector<const TimelineEvent*> order;
  order.reserve(state_.timeline.size());
  for (const TimelineEvent& e : state_.timeline) order.push_back(&e);
  std::stable_sort(order.begin(), order.end(), [](const TimelineEvent* a, const TimelineEvent* b) {
    return a->start_cycle < b->start_cycle;
  });
  std::map<std::uint32_t, std::vector<std::uint64_t>> lane_free;  // per queue: end of each lane
  std::map<std::uint32_t, std::string> queue_names;
  for (const auto& e : engines_) queue_names[e->queue_index()] = e->queue_name();
  const auto track_name = [&](std::uint32_t q, std::size_t lane) {
    const std::string base =
        queue_names.count(q) != 0 ? queue_names[q] : fmt::format("queue {}", q);
    return lane == 0 ? base : fmt::format("{} #{}", base, lane + 1);
  };
  for (const auto& e : engines_) {
    lane_free[e->queue_index()];
    events.push_back({{"ph", "M"},
                      {"name", "thread_name"},
                      {"pid", pid},
                      {"tid", e->queue_index()},
                      {"args", {{"name", e->queue_name()}}}});
  }
  for (const TimelineEvent* e : order) {
    std::vector<std::uint64_t>& lanes = lane_free[e->queue];
    std::size_t lane = 0;
    while (lane < lanes.size() && lanes[lane] > e->start_cycle) ++lane;
    if (lane == lanes.size()) {
      lanes.push_back(0);
      if (lane > 0) {
        events.push_back({{"ph", "M"},
                          {"name", "thread_name"},
                          {"pid", pid},
                          {"tid", e->queue + 100 * lane},
                          {"args", {{"name", track_name(e->queue, lane)}}}});
      }
    }
    lanes[lane] = e->end_cycle;
    events.push_back({{"ph", "X"},
                      {"name", e->label.empty() ? e->name : e->label},
                      {"pid", pid},
                      {"tid", e->queue + 100 * lane},
                      {"ts", static_cast<double>(e->start_cycle) * us_per_cycle},
                      {"dur", static_cast<double>(e->end_cycle - e->start_cycle) * us_per_cycle},
                      {"args",
                       {{"op", e->name},
                        {"queue", e->queue},
                        {"seq", e->seq},
                        {"start_cycle", e->start_cycle},
                        {"end_cycle", e->end_cycle}}}});
  }
}

}  // namespace mxemu::chip
