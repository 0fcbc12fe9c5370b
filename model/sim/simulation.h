// The simulation owner: the top module ("pod") that holds every chip of a run, the host thread
// pool they share, and the SystemC kernel's start and stop. Nothing below it calls sc_start or
// sc_stop: each chip reports its end (exit, fault, deadlock, cycle limit) here, and the run stops
// when every chip has ended, or at the first failure when [pod] on_failure = "stop".
#pragma once

#include <systemc>

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "model/chip/chip.h"
#include "model/common/thread_pool.h"
#include "model/ici/fabric.h"
#include "model/sim/sim_config.h"
#include "model/sim/transport.h"

namespace mxemu::sim {

// A pod cut between processes (docs/DISTRIBUTED.md): which rank runs each physical chip, and
// the transport between the ranks. Every rank elaborates the whole pod (the fabric's routes and
// faults are replicated); it runs only its own chips: of the others it has only their routers.
struct Distribution {
  PodTransport* transport = nullptr;   // nullptr: one process
  std::vector<std::uint32_t> rank_of;  // per physical chip, spares included
  int crash_rank = -1;                 // a test of failure handling: this rank aborts mid-run
};

class Simulation : public sc_core::sc_module, public chip::ChipObserver {
 public:
  SC_HAS_PROCESS(Simulation);
  // Elaborates config.pod.chips() chips named chip0, chip1, ... under this module. Must be
  // constructed in a fresh SystemC context. threads: host threads (0: one per host core).
  // max_host_seconds: a wall-clock limit (0: none); chips still running when it is reached end
  // with the cycle-limit status (4). rtl: the Verilated RTL a config's [rtl] table may put in
  // the loop (nullptr: none in this build).
  Simulation(const sc_core::sc_module_name& name, SimConfig config, std::uint64_t max_cycles,
             unsigned threads = 0, double max_host_seconds = 0,
             const chip::RtlPlugins* rtl = nullptr, Distribution dist = {});
  ~Simulation() override;
  Simulation(const Simulation&) = delete;
  Simulation& operator=(const Simulation&) = delete;

  // Chips in physical order: the pod's, then its spares. In a distributed pod only the chips this
  // rank owns (owns(i)) exist here; chip(i) of another rank's chip is an internal error.
  std::size_t size() const { return chips_.size(); }
  chip::Chip& chip(std::size_t i) { return checked(i); }
  const chip::Chip& chip(std::size_t i) const { return checked(i); }
  // The chip that is logical chip i now (a spare after it replaced a failed chip).
  std::size_t logical_size() const { return logical_.size(); }
  chip::Chip& logical_chip(std::size_t i) { return checked(logical_.at(i)); }
  std::uint32_t physical(std::size_t i) const { return logical_.at(i); }
  struct Replacement {
    std::uint32_t logical, failed, spare;
    chip::ChipEnd failed_end;
  };
  const std::vector<Replacement>& replacements() const { return replacements_; }
  ThreadPool& pool() { return pool_; }
  ici::Fabric& fabric() { return *fabric_; }
  const ici::Fabric& fabric() const { return *fabric_; }
  const SimConfig& config() const { return cfg_; }

  // What the run's monitor does (checked every million simulated cycles): a progress line on
  // stderr once the run is older than two seconds (only when stderr is a terminal), and an end
  // when *interrupt becomes true (SIGINT: every running chip ends interrupted, status 130).
  struct Monitor {
    bool progress = false;
    const std::atomic<bool>* interrupt = nullptr;
  };
  void set_monitor(const Monitor& m) { monitor_ = m; }

  // Runs until the run is over; afterwards every chip has an end(). Call once.
  void run();
  // The index of the first chip that failed (the earliest in simulated time; at one time, the
  // lowest index), if any; in a distributed pod, over every rank.
  const std::optional<std::uint32_t>& first_failure() const { return first_failure_; }
  // Whether this process runs physical chip `p` (always, in one process).
  bool owns(std::size_t p) const { return dist_.rank_of.empty() || dist_.rank_of[p] == rank(); }
  std::uint32_t rank() const {
    return dist_.transport != nullptr ? static_cast<std::uint32_t>(dist_.transport->rank()) : 0;
  }
  // The length of a window of the windowed run (ps; 0: the run is not windowed).
  ici::Ps window_ps() const { return window_; }
  std::uint64_t windows() const { return windows_run_; }

 private:
  void chip_ended(std::uint32_t chip_index, const chip::ChipEnd& end) override;
  void monitor_thread();
  void end_running(const chip::ChipEnd& proto);
  void run_windowed();
  void note_failure(std::uint32_t chip_index);

  SimConfig cfg_;
  ThreadPool pool_;
  chip::Chip& checked(std::size_t i) const {
    if (!chips_.at(i)) {
      throw Error(ExitCode::kInternal, fmt::format("chip {} runs on another rank", i));
    }
    return *chips_[i];
  }
  std::vector<std::unique_ptr<chip::Chip>> chips_;            // nullptr: another rank's chip
  std::vector<std::unique_ptr<ici::Router>> remote_routers_;  // those chips' routers
  std::unique_ptr<ici::Fabric> fabric_;
  std::vector<std::uint32_t> logical_;  // logical chip -> physical
  std::vector<Replacement> replacements_;
  bool all_ended() const;
  void chip_failed(std::uint32_t physical, bool replaced);
  void spare_in(std::uint32_t logical, std::uint32_t spare);

  std::optional<std::uint32_t> first_failure_;
  std::uint64_t first_failure_key_ = ~std::uint64_t{0};  // (ps << 15) | chip: time, then index
  Distribution dist_;
  ici::Ps window_ = 0;
  std::uint64_t windows_run_ = 0;
  bool stop_requested_ = false;
  bool failure_stop_ = false;  // windowed: a failure stops the pod at this window's end
  double max_host_seconds_;
  std::uint64_t max_cycles_;
  Monitor monitor_;
  bool progress_shown_ = false;
  std::chrono::steady_clock::time_point start_;
};

// The identity of chip `index` in a pod of the given shape (x fastest).
chip::ChipIdentity chip_identity(std::uint32_t index, const std::vector<std::uint32_t>& shape);

}  // namespace mxemu::sim
