// The MXU's systolic array core: plain C++ (no SystemC), weight-stationary, R x C PEs, weights
// double-buffered in two banks. PE(k,n) holds W[k][n]; column n computes, for every activation
// row i, acc = fused(acc, A[i][k], W[k][n], sA, sB) for k = 0..R-1 in increasing k, starting from
// the partial sum that enters the top (DESIGN §3). The cycle behaviour is the closed form of
// docs/TIMING.md, implemented by FoldScheduler; rtl/mxu/mxu_tile.sv is the same machine in RTL.
//
// Two paths that agree bit for bit and cycle for cycle (tests/mxu proves it):
// - fast:    SystolicCore::run_fold computes a whole fold with num::gemm and takes its cycles
//            from the scheduler (what the chip model uses);
// - stepped: SystolicArraySim advances every PE register one cycle at a time, driven by the
//            per-cycle inputs FoldDriver derives from the same schedule (what the RTL sees).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "model/numerics/fp8.h"

namespace mxemu {
class ThreadPool;
}

namespace mxemu::mxu {

struct SystolicConfig {
  int rows = 128;             // R: reduction (K) depth of one fold
  int cols = 128;             // C: output columns of one fold
  int pe_latency_cycles = 1;  // L: partial-sum latency of one PE (RTL NumPipeRegs + 1)
  int gemm_threads = 1;       // host threads the fast path's GEMM may use (0 = all)
  // Host threads for the fast path's GEMM (the simulation's pool; none: gemm_threads threads
  // started per fold). Values and cycles do not depend on it.
  ThreadPool* pool = nullptr;
};

// One fold: a weight tile loaded into one bank, then m activation rows streamed through it.
// Spans must stay valid while the fold is in use (FoldDriver keeps them).
struct FoldSpec {
  num::Fp8Format fmt_a = num::Fp8Format::kE4M3;
  num::Fp8Format fmt_b = num::Fp8Format::kE4M3;
  std::size_t m = 0;                            // activation rows (>= 1)
  std::span<const std::uint8_t> weights;        // rows x cols, row-major W[k][n]
  std::span<const std::uint8_t> weight_scales;  // (rows/block) x cols UE8M0, empty = 2^0
  std::span<const std::uint8_t> acts;           // m x rows, row-major A[i][k]
  std::span<const std::uint8_t> act_scales;     // m x (rows/block) UE8M0, empty = 2^0
  int block = 1;                                // MX block along K; must divide rows
  std::span<const float> psum_in;  // m x cols partial sums entering the top, empty = +0
};

// When a fold happens (all cycles absolute, counted from the core's cycle 0).
struct FoldTiming {
  int bank = 0;                    // weight bank the fold uses (folds alternate 0, 1, 0, ...)
  std::uint64_t load_start = 0;    // weight rows enter at load_start .. load_start + rows - 1
  std::uint64_t stream_start = 0;  // activation row i enters at stream_start + i
  std::uint64_t out_base = 0;      // = stream_start + rows * L
  std::size_t m = 0;
  int cols = 0;
  // Cycle on which C[i][n] leaves the bottom of column n.
  std::uint64_t out_cycle(std::size_t i, int n) const {
    return out_base + i + static_cast<std::uint64_t>(n);
  }
  std::uint64_t last_out_cycle() const { return out_cycle(m - 1, cols - 1); }
  // Last cycle a PE reads this fold's bank (the bank may be reloaded from this cycle on).
  std::uint64_t last_read_cycle(int rows, int latency) const {
    return stream_start + (m - 1) + static_cast<std::uint64_t>(rows - 1) * latency + (cols - 1);
  }
};

// The closed form of docs/TIMING.md: each fold starts as early as the weight-load port, the
// activation port and the bank it reuses allow.
class FoldScheduler {
 public:
  explicit FoldScheduler(const SystolicConfig& cfg);
  // Schedules the next fold of m rows whose weights may not start loading before earliest.
  FoldTiming schedule(std::size_t m, std::uint64_t earliest = 0);
  void reset();
  std::size_t folds() const { return folds_; }

 private:
  SystolicConfig cfg_;
  std::size_t folds_ = 0;
  std::uint64_t load_port_free_ = 0;     // first cycle the weight-load port is free
  std::uint64_t stream_port_free_ = 0;   // first cycle the activation port is free
  std::uint64_t bank_free_[2] = {0, 0};  // first cycle each bank may be overwritten
};

// Checks a fold against the configuration; throws mxemu::Error (bad input) naming the problem.
void validate_fold(const SystolicConfig& cfg, const FoldSpec& fold);

// The fast path.
class SystolicCore {
 public:
  explicit SystolicCore(const SystolicConfig& cfg);
  const SystolicConfig& config() const { return cfg_; }

  // Runs one fold after the previously run ones: out (m x cols, row-major) gets the partial sums
  // leaving the bottom; the returned timing gives every output's cycle. earliest: the first cycle
  // its weights may start loading (e.g. when they arrive from memory).
  FoldTiming run_fold(const FoldSpec& fold, std::span<float> out, std::uint64_t earliest = 0);

  // Forgets the schedule (cycle 0 again, both banks free).
  void reset() { sched_.reset(); }

 private:
  SystolicConfig cfg_;
  FoldScheduler sched_;
};

// What the tile's ports carry in one cycle (the RTL mxu_tile has exactly these inputs).
struct CycleInputs {
  bool w_valid = false;
  int w_bank = 0;
  num::Fp8Format w_fmt = num::Fp8Format::kE4M3;
  std::vector<std::uint8_t> w, ws;  // cols
  bool a_valid = false;
  int a_bank = 0;
  num::Fp8Format a_fmt = num::Fp8Format::kE4M3;
  std::vector<std::uint8_t> a, as;  // rows
  std::vector<std::uint32_t> psum;  // cols, FP32 bits
};

// Derives the per-cycle port inputs of a list of scheduled folds.
class FoldDriver {
 public:
  explicit FoldDriver(const SystolicConfig& cfg);
  void add(const FoldSpec& fold, const FoldTiming& timing);
  // Fills in (resized to the tile's widths) the inputs of `cycle`.
  void inputs_at(std::uint64_t cycle, CycleInputs& in) const;
  // One past the last cycle any added fold produces an output.
  std::uint64_t end_cycle() const { return end_; }
  // Forgets the folds whose port inputs all lie before `cycle`, so that a driver fed fold after
  // fold for a whole run stays small (the caller keeps the spans of the others valid).
  void retire_before(std::uint64_t cycle);
  std::size_t size() const { return folds_.size(); }

 private:
  SystolicConfig cfg_;
  std::vector<FoldSpec> folds_;
  std::vector<FoldTiming> timings_;
  std::uint64_t end_ = 0;
};

// The cycle-stepped path: every register of the tile (skew lines, weight banks, activation
// registers, partial-sum pipelines) as state, advanced one clock at a time.
class SystolicArraySim {
 public:
  explicit SystolicArraySim(const SystolicConfig& cfg);
  // One clock: returns (through out_valid / out_bits, cols each) what leaves the bottom during
  // this cycle, then clocks the inputs in.
  void tick(const CycleInputs& in, std::vector<bool>& out_valid,
            std::vector<std::uint32_t>& out_bits);
  std::uint64_t cycle() const { return cycle_; }

 private:
  struct Act {
    bool valid = false;
    int bank = 0;
    num::Fp8Format fmt = num::Fp8Format::kE4M3;
    std::uint8_t code = 0, scale = 0;
  };
  struct Weight {
    num::Fp8Format fmt = num::Fp8Format::kE4M3;
    std::uint8_t code = 0, scale = 0;
  };
  struct Psum {
    bool valid = false;
    std::uint32_t bits = 0;
  };
  std::size_t pe(int k, int n) const { return static_cast<std::size_t>(k) * cfg_.cols + n; }

  SystolicConfig cfg_;
  std::uint64_t cycle_ = 0;
  std::vector<Weight> weights_[2];                     // [bank][pe]
  std::vector<Act> act_q_;                             // [pe]: the PE's activation output register
  std::vector<Psum> pipe_q_;                           // [pe * L + stage]; stage L-1 is the output
  std::vector<std::vector<Act>> act_skew_;             // [row][stage], row k has k * L stages
  std::vector<std::vector<std::uint32_t>> psum_skew_;  // [col][stage], col n has n stages
};

// Runs scheduled folds through SystolicArraySim; outs[f] gets fold f's outputs (m x cols, FP32
// bits) and cycles[f] the cycle each was observed at the bottom. Throws if an output appears twice
// or never.
struct SteppedRun {
  std::vector<std::vector<std::uint32_t>> outs;
  std::vector<std::vector<std::uint64_t>> cycles;
};
SteppedRun run_stepped(const SystolicConfig& cfg, std::span<const FoldSpec> folds,
                       std::span<const FoldTiming> timings);

}  // namespace mxemu::mxu
