#include "model/sim/simulation.h"

#include <fmt/format.h>

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

Simulation::Simulation(const sc_core::sc_module_name& name, const SimConfig& config,
                       std::uint64_t max_cycles, unsigned threads)
    : sc_core::sc_module(name), cfg_(config), pool_(threads) {
  const std::uint32_t n = cfg_.pod.chips();
  chips_.reserve(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    chips_.push_back(std::make_unique<chip::Chip>(fmt::format("chip{}", i).c_str(),
                                                  chip_identity(i, cfg_.pod.shape), cfg_.chip,
                                                  cfg_.core, cfg_.hbm, max_cycles, this, &pool_));
  }
}

Simulation::~Simulation() = default;

void Simulation::chip_ended(std::uint32_t chip_index, const chip::ChipEnd& end) {
  ++ended_;
  if (end.failed() && !first_failure_) first_failure_ = chip_index;
  const bool stop_all = end.failed() && cfg_.pod.on_failure == OnFailure::kStop;
  if ((ended_ == chips_.size() || stop_all) && !stop_requested_) {
    stop_requested_ = true;
    sc_core::sc_stop();
  }
}

void Simulation::run() {
  sc_core::sc_start();
  for (const auto& c : chips_) {
    if (c->end()) continue;
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
