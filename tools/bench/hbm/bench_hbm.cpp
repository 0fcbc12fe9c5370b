// Requests simulated per host second by the HBM controller on three 100,000-request traces
// (generated here): sequential reads, uniformly random reads, and a 2:1 read/write mix (two
// sequential read streams and one sequential write stream, interleaved). Each trace is replayed
// as fast as accepted (all-zero time stamps) through HbmCore directly and through the TLM-2.0 AT
// socket (HbmTarget + AtPlayer); the AT run is the in-run baseline and must give the same cycles.
//
//   build-hbm/tools/bench/hbm/bench_hbm [requests=100000] [repetitions=3] [stacks=4]
// (stacks = 1: one HBM3 stack, 32 pseudo-channels; the default is the chip's mx1 memory).
#include <systemc>

#include <fmt/core.h>

#include <cstdlib>
#include <ctime>
#include <random>
#include <string>
#include <vector>

#include "model/hbm/at_player.h"
#include "model/hbm/config.h"
#include "model/hbm/controller.h"
#include "model/hbm/target.h"
#include "model/hbm/trace.h"

using namespace mxemu::hbm;

namespace {

struct FreshContext {  // each AT run elaborates into its own simulation context
  ~FreshContext() {
    // NOLINTNEXTLINE(bugprone-unhandled-exception-at-new): out of memory here ends the process
    sc_core::sc_curr_simcontext = new sc_core::sc_simcontext();
    sc_core::sc_default_global_context = sc_core::sc_curr_simcontext;
  }
};

std::vector<TraceEntry> make_trace(const std::string& kind, std::size_t n, std::uint64_t capacity) {
  std::vector<TraceEntry> t(n);
  std::mt19937_64 rng(12345);
  for (std::size_t i = 0; i < n; ++i) {
    TraceEntry& e = t[i];
    if (kind == "sequential") {
      e.address = i * 32;
    } else if (kind == "random") {
      e.address = (rng() % (capacity / 32)) * 32;
    } else {  // mix: streams A and B read, C written; 1 GiB + 512 KiB apart (other banks)
      const std::uint64_t k = i / 3;
      const std::uint64_t stream = i % 3;
      e.address = stream * ((std::uint64_t{1} << 30) + (std::uint64_t{1} << 19)) + k * 32;
      e.is_write = stream == 2;
    }
    e.line = i + 1;
  }
  return t;
}

// Process CPU seconds: the benchmark is single-threaded and the machine is shared, so CPU time is
// the stable measure (wall time swings with the load of other jobs).
double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

}  // namespace

int sc_main(int argc, char* argv[]) {
  const std::size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 100000;
  const int reps = argc > 2 ? std::atoi(argv[2]) : 3;
  const char* depth = std::getenv("HBM_QUEUE_DEPTH");  // NOLINT(concurrency-mt-unsafe): 1 thread
  HbmConfig config;  // mx1: 4 HBM3 stacks x 16 channels x 2 pseudo-channels
  if (argc > 3) config.org.stacks = static_cast<std::uint32_t>(std::atoi(argv[3]));
  if (depth) {
    config.read_queue_depth = config.write_queue_depth =
        static_cast<std::uint32_t>(std::atoi(depth));
  }
  fmt::print(
      "HBM controller benchmark: {} requests per trace, {} ({} pseudo-channels), best of {} "
      "(process CPU time)\n",
      n, config.timing.name, config.org.pc_count(), reps);
  fmt::print("{:<11} {:>14} {:>14} {:>7} | {:>9} {:>6} {:>9} {:>9} {:>7}\n", "trace", "core req/s",
             "TLM-AT req/s", "ratio", "GB/s", "eff%", "avg ns", "p99 ns", "hit%");
  bool ok = true;
  for (const std::string kind : {"sequential", "random", "mix2:1"}) {
    const auto trace = make_trace(kind, n, config.org.capacity_bytes());
    double best_core = 1e30;
    ReplayReport report;
    for (int r = 0; r < reps; ++r) {
      HbmCore core(config);
      const double t0 = cpu_seconds();
      report = replay(core, trace);
      best_core = std::min(best_core, cpu_seconds() - t0);
    }
    double best_at = 1e30;
    std::uint64_t at_last = 0;
    for (int r = 0; r < reps; ++r) {
      FreshContext guard;
      HbmTarget target("hbm", config);
      AtPlayer player("player", trace, target.clock_period(), config.org.access_bytes);
      player.socket.bind(target.socket);
      const double t0 = cpu_seconds();
      sc_core::sc_start();
      best_at = std::min(best_at, cpu_seconds() - t0);
      at_last = 0;
      for (std::uint64_t c : player.done_cycles()) at_last = std::max(at_last, c);
      if (player.responses() != n) ok = false;
    }
    const double core_rate = static_cast<double>(n) / best_core;
    const double at_rate = static_cast<double>(n) / best_at;
    fmt::print(
        "{:<11} {:>14.0f} {:>14.0f} {:>6.1f}x | {:>9.1f} {:>6.1f} {:>9.1f} {:>9.1f} {:>7.1f}\n",
        kind, core_rate, at_rate, core_rate / at_rate, report.bandwidth_gbps,
        100 * report.efficiency, report.avg_latency_ns, report.p99_latency_ns,
        100 * report.row_hit_rate);
    if (at_last != report.cycles) {  // both start at cycle 0
      fmt::print("  MISMATCH: AT path ends at cycle {}, core at {}\n", at_last, report.cycles);
      ok = false;
    }
  }
  return ok ? 0 : 1;
}
