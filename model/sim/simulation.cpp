#include "model/sim/simulation.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <utility>

#include "model/common/error.h"

namespace mxemu::sim {

chip::ChipIdentity chip_identity(std::uint32_t index, const std::vector<std::uint32_t>& shape) {
  chip::ChipIdentity id;
  std::uint64_t n = 1;
  for (std::size_t d = 0; d < 3; ++d) {
    id.pod_shape[d] = d < shape.size() ? shape[d] : 1;
    n *= id.pod_shape[d];
  }
  id.num_chips = static_cast<std::uint32_t>(n);
  id.index = index;
  id.coord[0] = index % id.pod_shape[0];
  id.coord[1] = index / id.pod_shape[0] % id.pod_shape[1];
  id.coord[2] = index / (id.pod_shape[0] * id.pod_shape[1]);
  return id;
}

Simulation::Simulation(const sc_core::sc_module_name& name, SimConfig config,
                       std::uint64_t max_cycles, unsigned threads, double max_host_seconds,
                       const chip::RtlPlugins* rtl)
    : sc_core::sc_module(name),
      cfg_(std::move(config)),
      pool_(threads),
      max_host_seconds_(max_host_seconds),
      max_cycles_(max_cycles) {
  const std::uint32_t n = cfg_.pod.chips();
  const std::uint32_t spares = cfg_.pod.spares;
  chips_.reserve(n + spares);
  for (std::uint32_t i = 0; i < n + spares; ++i) {
    chip::ChipIdentity id = chip_identity(i < n ? i : 0, cfg_.pod.shape);
    id.index = i;  // a spare: its own number until it takes a failed chip's place
    chips_.push_back(std::make_unique<chip::Chip>(fmt::format("chip{}", i).c_str(), id, cfg_.chip,
                                                  cfg_.core, cfg_.hbm, cfg_.ici, max_cycles, this,
                                                  &pool_, rtl));
    if (i >= n) chips_.back()->park();
    if (i < n) logical_.push_back(i);
  }
  // The interconnect joins the chips' routers (a single chip's router only loops back).
  ici::Topology topo(cfg_.pod.topology, cfg_.pod.shape, cfg_.pod.cube, cfg_.ici.ports, spares);
  std::vector<ici::Router*> routers;
  for (const auto& c : chips_) routers.push_back(&c->router());
  ici::Fabric::ChipEvents ev;
  ev.failed = [this](std::uint32_t c, bool replaced) { chip_failed(c, replaced); };
  ev.replaced = [this](std::uint32_t l, std::uint32_t s) { spare_in(l, s); };
  fabric_ = std::make_unique<ici::Fabric>("ici", cfg_.ici, std::move(topo), std::move(routers),
                                          cfg_.pod.faults, std::move(ev));
  SC_THREAD(monitor_thread);
}

void Simulation::chip_failed(std::uint32_t physical, bool replaced) {
  chip::Chip& c = *chips_[physical];
  chip::ChipEnd e;
  e.kind = chip::ChipEnd::Kind::kFailed;
  e.error = ExitCode::kSimFault;
  e.cycle = c.state().now_cycle();  // when it failed (its core may have waited since earlier)
  e.message = fmt::format("chip {} failed at cycle {} (an injected fault){}", physical, e.cycle,
                          replaced ? "; a spare takes its place" : "; no spare is left");
  if (replaced) {
    replacements_.push_back(Replacement{c.identity().index, physical, 0, e});
    c.stop(e);  // not the pod's failure: the spare carries on
  } else {
    c.end_run(e);
  }
}

void Simulation::spare_in(std::uint32_t logical, std::uint32_t spare) {
  for (Replacement& r : replacements_) {
    if (r.logical == logical && r.spare == 0) r.spare = spare;
  }
  logical_[logical] = spare;
  chips_[spare]->activate(chip_identity(logical, cfg_.pod.shape));
}

void Simulation::end_running(const chip::ChipEnd& proto) {
  for (const std::uint32_t p : logical_) {
    chip::Chip& c = *chips_[p];
    if (c.end()) continue;
    chip::ChipEnd e = proto;
    e.cycle = c.state().now_cycle();
    e.message = fmt::format("{} at cycle {} (pc 0x{:08x}, {} instructions retired)", proto.message,
                            e.cycle, c.machine().hart().pc(), c.machine().hart().instret());
    c.end_run(e);
  }
}

void Simulation::monitor_thread() {
  // Looks at the host every kCheckCycles chip cycles of simulated time (cheap next to simulating
  // them). What it does only ever reports or ends a run: results do not depend on it.
  constexpr std::uint64_t kCheckCycles = 1'000'000;
  const sc_core::sc_time period(static_cast<double>(cfg_.chip.clock().period_ps), sc_core::SC_PS);
  const bool tty = monitor_.progress && isatty(fileno(stderr)) != 0;
  if (max_host_seconds_ <= 0 && !tty && monitor_.interrupt == nullptr) return;
  double shown_at = 0;
  for (;;) {
    sc_core::wait(period * static_cast<double>(kCheckCycles));
    if (stop_requested_) break;
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    if (monitor_.interrupt != nullptr && monitor_.interrupt->load()) {
      chip::ChipEnd e;
      e.kind = chip::ChipEnd::Kind::kLimit;
      e.error = ExitCode::kInterrupted;
      e.message = "interrupted (SIGINT)";
      end_running(e);
      break;
    }
    if (max_host_seconds_ > 0 && elapsed >= max_host_seconds_) {
      chip::ChipEnd e;
      e.kind = chip::ChipEnd::Kind::kLimit;
      e.error = ExitCode::kLimit;
      e.message = fmt::format("wall-clock limit of {} s reached", max_host_seconds_);
      end_running(e);
      break;
    }
    if (tty && elapsed >= 2.0 && elapsed - shown_at >= 1.0) {
      const auto cycle = static_cast<std::uint64_t>(sc_core::sc_time_stamp() / period);
      std::string limit;
      if (max_cycles_ > 0) {
        limit = fmt::format(", {:.1f} % of the cycle limit",
                            100.0 * static_cast<double>(cycle) / static_cast<double>(max_cycles_));
      }
      fmt::print(stderr, "\rmxemu: cycle {} ({:.2f} M cycles/s{})   ", cycle,
                 static_cast<double>(cycle) / elapsed / 1e6, limit);
      std::fflush(stderr);
      shown_at = elapsed;
      progress_shown_ = true;
    }
  }
  if (progress_shown_) {
    fmt::print(stderr, "\n");
    progress_shown_ = false;
  }
}

Simulation::~Simulation() = default;

bool Simulation::all_ended() const {
  for (const std::uint32_t p : logical_) {
    if (!chips_[p]->end()) return false;
  }
  return true;
}

void Simulation::chip_ended(std::uint32_t chip_index, const chip::ChipEnd& end) {
  if (end.failed() && !first_failure_) first_failure_ = chip_index;
  const bool stop_all = end.failed() && cfg_.pod.on_failure == OnFailure::kStop;
  if ((all_ended() || stop_all) && !stop_requested_) {
    stop_requested_ = true;
    sc_core::sc_stop();
  }
}

void Simulation::run() {
  start_ = std::chrono::steady_clock::now();
  sc_core::sc_start();
  if (progress_shown_) fmt::print(stderr, "\n");
  for (const auto& c : chips_) {
    if (c->end()) continue;
    if (c->parked()) {
      chip::ChipEnd e;
      e.kind = chip::ChipEnd::Kind::kSpare;
      e.message = "an unused spare";
      c->stop(e);
      continue;
    }
    if (stop_requested_ && first_failure_) {
      // Stopped because another chip failed: this one is cut short where it stood.
      chip::ChipEnd e;
      e.kind = chip::ChipEnd::Kind::kStopped;
      e.error = ExitCode::kSimFault;
      e.cycle = c->cycles();
      e.message =
          fmt::format("stopped at cycle {} because chip {} failed", e.cycle, *first_failure_);
      c->stop(e);
    } else {
      // SystemC ran out of events with this chip still waiting: nothing can wake it.
      const chip::ChipEnd e = c->starved_end();
      if (!first_failure_) first_failure_ = c->identity().index;
      c->stop(e);
    }
  }
}

}  // namespace mxemu::sim
