#include "model/sim/simulation.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
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
                       const chip::RtlPlugins* rtl, Distribution dist)
    : sc_core::sc_module(name),
      cfg_(std::move(config)),
      pool_(threads),
      dist_(std::move(dist)),
      max_host_seconds_(max_host_seconds),
      max_cycles_(max_cycles) {
  const std::uint32_t n = cfg_.pod.chips();
  const std::uint32_t spares = cfg_.pod.spares;
  chips_.reserve(n + spares);
  for (std::uint32_t i = 0; i < n + spares; ++i) {
    if (!owns(i)) {
      // Another rank runs this chip: here it is only its router, the fabric's view of it.
      chips_.push_back(nullptr);
      remote_routers_.push_back(
          std::make_unique<ici::Router>(fmt::format("chip{}_ici_ports", i).c_str(), cfg_.ici, i));
      remote_routers_.back()->set_remote();
      if (i < n) logical_.push_back(i);
      continue;
    }
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
  std::size_t remote = 0;
  for (const auto& c : chips_) {
    routers.push_back(c ? &c->router() : remote_routers_[remote++].get());
  }
  ici::Fabric::ChipEvents ev;
  ev.failed = [this](std::uint32_t c, bool replaced) { chip_failed(c, replaced); };
  ev.replaced = [this](std::uint32_t l, std::uint32_t s) { spare_in(l, s); };
  ici::Fabric::Ownership own;
  own.rank_of = dist_.rank_of;
  own.me = rank();
  fabric_ =
      std::make_unique<ici::Fabric>("ici", cfg_.ici, std::move(topo), std::move(routers),
                                    cfg_.pod.faults, cfg_.pod.ocs, std::move(ev), std::move(own));
  // A pod with links runs in windows shorter than any link's latency (docs/DISTRIBUTED.md), in
  // one process as in several, so that both end at the same window and agree in every count.
  const ici::Ps lat = fabric_->min_latency();
  window_ = lat == ~ici::Ps{0} ? 0 : lat;
  if (dist_.transport != nullptr && dist_.transport->size() > 1 && window_ == 0) {
    throw_bad_input("a pod without links cannot be distributed over {} ranks",
                    dist_.transport->size());
  }
  SC_THREAD(monitor_thread);
}

void Simulation::chip_failed(std::uint32_t physical, bool replaced) {
  chip::ChipEnd e;
  e.kind = chip::ChipEnd::Kind::kFailed;
  e.error = ExitCode::kSimFault;
  // When it failed (its core may have waited since earlier).
  e.cycle = static_cast<std::uint64_t>(
      sc_core::sc_time_stamp() /
      sc_core::sc_time(static_cast<double>(cfg_.chip.clock().period_ps), sc_core::SC_PS));
  e.message = fmt::format("chip {} failed at cycle {} (an injected fault){}", physical, e.cycle,
                          replaced ? "; a spare takes its place" : "; no spare is left");
  if (replaced) {
    std::uint32_t logical = 0;
    for (std::uint32_t l = 0; l < logical_.size(); ++l) {
      if (logical_[l] == physical) logical = l;
    }
    replacements_.push_back(Replacement{logical, physical, 0, e});
  }
  chip::Chip* c = chips_[physical].get();
  if (c == nullptr) return;  // another rank's: it records the end
  if (replaced) {
    c->stop(e);  // not the pod's failure: the spare carries on
  } else {
    c->end_run(e);
  }
}

void Simulation::spare_in(std::uint32_t logical, std::uint32_t spare) {
  for (Replacement& r : replacements_) {
    if (r.logical == logical && r.spare == 0) r.spare = spare;
  }
  logical_[logical] = spare;
  if (chips_[spare]) chips_[spare]->activate(chip_identity(logical, cfg_.pod.shape));
}

void Simulation::end_running(const chip::ChipEnd& proto) {
  for (const std::uint32_t p : logical_) {
    if (!chips_[p]) continue;  // another rank's
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
    if (chips_[p] && !chips_[p]->end()) return false;  // (another rank's: that rank's to say)
  }
  return true;
}

void Simulation::note_failure(std::uint32_t chip_index) {
  constexpr std::uint64_t kMaxPs = ~std::uint64_t{0} >> 16;
  const std::uint64_t key = (std::min<std::uint64_t>(ici::now_ps(), kMaxPs) << 15) | chip_index;
  if (key < first_failure_key_) {
    first_failure_key_ = key;
    first_failure_ = chip_index;
  }
}

void Simulation::chip_ended(std::uint32_t chip_index, const chip::ChipEnd& end) {
  if (end.failed()) note_failure(chip_index);
  const bool stop_all = end.failed() && cfg_.pod.on_failure == OnFailure::kStop;
  if (window_ != 0) {  // windowed: the run stops at the window's end (run_windowed)
    failure_stop_ = failure_stop_ || stop_all;
    return;
  }
  if ((all_ended() || stop_all) && !stop_requested_) {
    stop_requested_ = true;
    sc_core::sc_stop();
  }
}

void Simulation::run_windowed() {
  // Conservative windows (docs/DISTRIBUTED.md): each covers [start, start + window), shorter
  // than any link's latency, so nothing sent in a window arrives in it. At its end each rank
  // sends what its lanes to other ranks carry, takes what came, and all agree (one minimum)
  // on: whether every chip has ended, whether a failure stops the pod, the first failure, and
  // the earliest pending event anywhere, where the next window starts (idle time is skipped).
  const int ranks = dist_.transport != nullptr ? dist_.transport->size() : 1;
  ici::Ps start = 0;
  for (;;) {
    const ici::Ps end = start + window_ - 1;  // the window's last picosecond
    const ici::Ps now = ici::now_ps();
    sc_core::sc_start(sc_core::sc_time(static_cast<double>(end - now), sc_core::SC_PS));
    ++windows_run_;
    if (dist_.crash_rank >= 0 && windows_run_ == 10 &&
        static_cast<int>(rank()) == dist_.crash_rank) {
      fmt::print(stderr, "mxemu: rank {}: aborting on purpose (--crash-rank)\n", rank());
      std::abort();
    }
    if (ranks > 1) {
      std::vector<Bytes> out(static_cast<std::size_t>(ranks));
      fabric_->take_outgoing(out);
      const std::vector<Bytes> in = dist_.transport->exchange(out);
      for (const Bytes& b : in) fabric_->deliver_incoming(b, end);
    }
    std::vector<std::uint64_t> v = {
        sc_core::sc_pending_activity()
            ? end + static_cast<ici::Ps>(sc_core::sc_time_to_pending_activity().value() /
                                         sc_core::sc_time(1, sc_core::SC_PS).value())
            : ~std::uint64_t{0},
        all_ended() ? 1u : 0u,
        failure_stop_ ? 0u : 1u,
        first_failure_key_,
    };
    if (ranks > 1) dist_.transport->min(v);
    if (v[3] != ~std::uint64_t{0}) {
      first_failure_key_ = v[3];
      first_failure_ = static_cast<std::uint32_t>(v[3] & 0x7FFF);
    }
    if (v[1] == 1 || v[2] == 0) {
      stop_requested_ = true;
      return;
    }
    if (v[0] == ~std::uint64_t{0}) return;  // nothing can happen anywhere any more
    start = std::max(end + 1, v[0]);
  }
}

void Simulation::run() {
  start_ = std::chrono::steady_clock::now();
  if (window_ == 0) {
    sc_core::sc_start();
  } else {
    run_windowed();
  }
  if (progress_shown_) fmt::print(stderr, "\n");
  for (const auto& c : chips_) {
    if (!c || c->end()) continue;
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
  if (dist_.transport != nullptr && dist_.transport->size() > 1) {
    // Starved chips on several ranks: the first, in physical order, over all ranks (as in one
    // process, which meets them in that order).
    if (first_failure_key_ == ~std::uint64_t{0}) {  // the same on every rank (agreed above)
      std::vector<std::uint64_t> v = {~std::uint64_t{0}};
      if (first_failure_) v[0] = logical_.at(*first_failure_);
      dist_.transport->min(v);
      first_failure_.reset();
      for (std::uint32_t l = 0; l < logical_.size(); ++l) {
        if (logical_[l] == v[0]) first_failure_ = l;
      }
    }
  }
}

}  // namespace mxemu::sim
