#include "model/mxu/systolic.h"

#include <algorithm>

#include "model/common/error.h"
#include "model/numerics/fused.h"
#include "model/numerics/gemm.h"

namespace mxemu::mxu {

namespace {

std::uint64_t u64(int v) {
  return static_cast<std::uint64_t>(v);
}

void check_config(const SystolicConfig& cfg) {
  if (cfg.rows < 1 || cfg.cols < 1) {
    throw_bad_input("systolic array must have at least 1 row and 1 column (got {} x {})", cfg.rows,
                    cfg.cols);
  }
  if (cfg.pe_latency_cycles < 1) {
    throw_bad_input("PE latency must be at least 1 cycle (got {})", cfg.pe_latency_cycles);
  }
}

std::uint8_t scale_or_unit(std::span<const std::uint8_t> s, std::size_t idx) {
  return s.empty() ? num::kUnitScaleCode : s[idx];
}

}  // namespace

// ------------------------------------------------------------------------------------------------
// Schedule (docs/TIMING.md)
// ------------------------------------------------------------------------------------------------

FoldScheduler::FoldScheduler(const SystolicConfig& cfg) : cfg_(cfg) {
  check_config(cfg);
}

void FoldScheduler::reset() {
  folds_ = 0;
  load_port_free_ = stream_port_free_ = 0;
  bank_free_[0] = bank_free_[1] = 0;
}

FoldTiming FoldScheduler::schedule(std::size_t m, std::uint64_t earliest) {
  if (m == 0) throw_bad_input("a fold needs at least one activation row");
  FoldTiming t;
  t.bank = static_cast<int>(folds_ % 2);
  t.m = m;
  t.cols = cfg_.cols;
  // The load shifts the whole bank every cycle, so it may begin only once the previous fold on
  // this bank has made its last read (a read in the load's first cycle still sees the old value).
  t.load_start = std::max({earliest, load_port_free_, bank_free_[t.bank]});
  // The last weight row settles at the end of cycle load_start + rows - 1.
  t.stream_start = std::max(t.load_start + u64(cfg_.rows), stream_port_free_);
  t.out_base = t.stream_start + u64(cfg_.rows) * u64(cfg_.pe_latency_cycles);
  load_port_free_ = t.load_start + u64(cfg_.rows);
  stream_port_free_ = t.stream_start + m;
  bank_free_[t.bank] = t.last_read_cycle(cfg_.rows, cfg_.pe_latency_cycles);
  ++folds_;
  return t;
}

void validate_fold(const SystolicConfig& cfg, const FoldSpec& f) {
  check_config(cfg);
  const auto rows = static_cast<std::size_t>(cfg.rows);
  const auto cols = static_cast<std::size_t>(cfg.cols);
  if (f.m == 0) throw_bad_input("fold: m must be at least 1");
  if (f.block < 1 || rows % static_cast<std::size_t>(f.block) != 0) {
    throw_bad_input("fold: MX block {} does not divide the array's {} rows", f.block, cfg.rows);
  }
  const std::size_t kb = rows / static_cast<std::size_t>(f.block);
  const auto need = [](const char* what, std::size_t have, std::size_t want) {
    if (have != want) throw_bad_input("fold: {} has {} elements, expected {}", what, have, want);
  };
  need("weights", f.weights.size(), rows * cols);
  need("acts", f.acts.size(), f.m * rows);
  if (!f.weight_scales.empty()) need("weight_scales", f.weight_scales.size(), kb * cols);
  if (!f.act_scales.empty()) need("act_scales", f.act_scales.size(), f.m * kb);
  if (!f.psum_in.empty()) need("psum_in", f.psum_in.size(), f.m * cols);
}

// ------------------------------------------------------------------------------------------------
// Fast path
// ------------------------------------------------------------------------------------------------

SystolicCore::SystolicCore(const SystolicConfig& cfg) : cfg_(cfg), sched_(cfg) {}

FoldTiming SystolicCore::run_fold(const FoldSpec& f, std::span<float> out, std::uint64_t earliest) {
  validate_fold(cfg_, f);
  if (out.size() != f.m * static_cast<std::size_t>(cfg_.cols)) {
    throw_bad_input("fold: output has {} elements, expected {}", out.size(),
                    f.m * static_cast<std::size_t>(cfg_.cols));
  }
  // Column n accumulates over k in increasing order from the partial sum: exactly the GEMM
  // contract with K = rows, so the reference GEMM gives the same bits.
  num::GemmProblem p;
  p.m = f.m;
  p.n = static_cast<std::size_t>(cfg_.cols);
  p.k = static_cast<std::size_t>(cfg_.rows);
  p.fmt_a = f.fmt_a;
  p.fmt_b = f.fmt_b;
  p.a = f.acts;
  p.b = f.weights;
  p.scale_a = f.act_scales;
  p.scale_b = f.weight_scales;
  p.block = f.block;
  p.c_init = f.psum_in;
  num::GemmOptions opt;
  opt.threads = cfg_.pool != nullptr ? 0 : cfg_.gemm_threads;
  opt.pool = cfg_.pool;
  num::gemm(p, out, opt);
  return sched_.schedule(f.m, earliest);
}

// ------------------------------------------------------------------------------------------------
// Per-cycle port inputs
// ------------------------------------------------------------------------------------------------

FoldDriver::FoldDriver(const SystolicConfig& cfg) : cfg_(cfg) {
  check_config(cfg);
}

void FoldDriver::add(const FoldSpec& fold, const FoldTiming& timing) {
  validate_fold(cfg_, fold);
  folds_.push_back(fold);
  timings_.push_back(timing);
  end_ = std::max(end_, timing.last_out_cycle() + 1);
}

void FoldDriver::retire_before(std::uint64_t cycle) {
  const auto rows = static_cast<std::uint64_t>(cfg_.rows);
  std::size_t keep = 0;
  for (std::size_t f = 0; f < folds_.size(); ++f) {
    const FoldTiming& t = timings_[f];
    if (t.load_start + rows <= cycle && t.stream_start + folds_[f].m <= cycle) continue;
    folds_[keep] = folds_[f];
    timings_[keep] = timings_[f];
    ++keep;
  }
  folds_.resize(keep);
  timings_.resize(keep);
}

void FoldDriver::inputs_at(std::uint64_t cycle, CycleInputs& in) const {
  const auto rows = static_cast<std::size_t>(cfg_.rows);
  const auto cols = static_cast<std::size_t>(cfg_.cols);
  in.w_valid = in.a_valid = false;
  in.w.assign(cols, 0);
  in.ws.assign(cols, 0);
  in.a.assign(rows, 0);
  in.as.assign(rows, 0);
  in.psum.assign(cols, 0);
  for (std::size_t f = 0; f < folds_.size(); ++f) {
    const FoldSpec& s = folds_[f];
    const FoldTiming& t = timings_[f];
    const std::size_t kb = rows / static_cast<std::size_t>(s.block);
    if (cycle >= t.load_start && cycle < t.load_start + rows) {
      // Rows shift down from the top: W[R-1] enters first, W[0] last.
      const std::size_t k = rows - 1 - static_cast<std::size_t>(cycle - t.load_start);
      in.w_valid = true;
      in.w_bank = t.bank;
      in.w_fmt = s.fmt_b;
      for (std::size_t n = 0; n < cols; ++n) {
        in.w[n] = s.weights[k * cols + n];
        in.ws[n] = scale_or_unit(s.weight_scales, (k / s.block) * cols + n);
      }
    }
    if (cycle >= t.stream_start && cycle < t.stream_start + s.m) {
      const auto i = static_cast<std::size_t>(cycle - t.stream_start);
      in.a_valid = true;
      in.a_bank = t.bank;
      in.a_fmt = s.fmt_a;
      for (std::size_t k = 0; k < rows; ++k) {
        in.a[k] = s.acts[i * rows + k];
        in.as[k] = scale_or_unit(s.act_scales, i * kb + k / s.block);
      }
      for (std::size_t n = 0; n < cols; ++n) {
        in.psum[n] = s.psum_in.empty() ? 0u : num::f32_bits(s.psum_in[i * cols + n]);
      }
    }
  }
}

// ------------------------------------------------------------------------------------------------
// Cycle-stepped path
// ------------------------------------------------------------------------------------------------

SystolicArraySim::SystolicArraySim(const SystolicConfig& cfg) : cfg_(cfg) {
  check_config(cfg);
  const auto pes = static_cast<std::size_t>(cfg.rows) * cfg.cols;
  weights_[0].assign(pes, {});
  weights_[1].assign(pes, {});
  act_q_.assign(pes, {});
  pipe_q_.assign(pes * cfg.pe_latency_cycles, {});
  act_skew_.resize(cfg.rows);
  for (int k = 0; k < cfg.rows; ++k) act_skew_[k].assign(k * cfg.pe_latency_cycles, {});
  psum_skew_.resize(cfg.cols);
  for (int n = 0; n < cfg.cols; ++n) psum_skew_[n].assign(n, 0u);
}

void SystolicArraySim::tick(const CycleInputs& in, std::vector<bool>& out_valid,
                            std::vector<std::uint32_t>& out_bits) {
  const int R = cfg_.rows, C = cfg_.cols, L = cfg_.pe_latency_cycles;
  // Outputs during this cycle: the last pipeline stage of the bottom row.
  out_valid.assign(C, false);
  out_bits.assign(C, 0u);
  for (int n = 0; n < C; ++n) {
    const Psum& o = pipe_q_[pe(R - 1, n) * L + (L - 1)];
    out_valid[n] = o.valid;
    out_bits[n] = o.bits;
  }
  // Combinational inputs of every PE (from the current register state and the ports).
  std::vector<Act> act_in(static_cast<std::size_t>(R) * C);
  std::vector<std::uint32_t> psum_in(static_cast<std::size_t>(R) * C);
  for (int k = 0; k < R; ++k) {
    Act edge;
    if (act_skew_[k].empty()) {
      edge = Act{in.a_valid, in.a_bank, in.a_fmt, in.a[k], in.as[k]};
    } else {
      edge = act_skew_[k].back();
    }
    for (int n = 0; n < C; ++n) act_in[pe(k, n)] = n == 0 ? edge : act_q_[pe(k, n - 1)];
  }
  for (int n = 0; n < C; ++n) {
    psum_in[pe(0, n)] = psum_skew_[n].empty() ? in.psum[n] : psum_skew_[n].back();
    for (int k = 1; k < R; ++k) psum_in[pe(k, n)] = pipe_q_[pe(k - 1, n) * L + (L - 1)].bits;
  }
  // Clock edge: partial-sum pipelines (the fused step enters stage 0).
  for (int k = 0; k < R; ++k) {
    for (int n = 0; n < C; ++n) {
      const std::size_t p = pe(k, n);
      for (int s = L - 1; s > 0; --s) pipe_q_[p * L + s] = pipe_q_[p * L + s - 1];
      const Act& a = act_in[p];
      Psum next;
      next.valid = a.valid;
      if (a.valid) {
        const Weight& w = weights_[a.bank][p];
        next.bits =
            num::fused_step_bits(psum_in[p], a.fmt, a.code, w.fmt, w.code, a.scale, w.scale);
      }
      pipe_q_[p * L] = next;
    }
  }
  for (std::size_t p = 0; p < act_in.size(); ++p) act_q_[p] = act_in[p];
  // Weight shift: the selected bank moves down one row; row 0 takes the port.
  if (in.w_valid) {
    auto& bank = weights_[in.w_bank];
    for (int k = R - 1; k > 0; --k) {
      for (int n = 0; n < C; ++n) bank[pe(k, n)] = bank[pe(k - 1, n)];
    }
    for (int n = 0; n < C; ++n) bank[pe(0, n)] = Weight{in.w_fmt, in.w[n], in.ws[n]};
  }
  // Skew lines.
  for (int k = 0; k < R; ++k) {
    auto& line = act_skew_[k];
    if (line.empty()) continue;
    for (std::size_t s = line.size() - 1; s > 0; --s) line[s] = line[s - 1];
    line[0] = Act{in.a_valid, in.a_bank, in.a_fmt, in.a[k], in.as[k]};
  }
  for (int n = 0; n < C; ++n) {
    auto& line = psum_skew_[n];
    if (line.empty()) continue;
    for (std::size_t s = line.size() - 1; s > 0; --s) line[s] = line[s - 1];
    line[0] = in.psum[n];
  }
  ++cycle_;
}

SteppedRun run_stepped(const SystolicConfig& cfg, std::span<const FoldSpec> folds,
                       std::span<const FoldTiming> timings) {
  if (folds.size() != timings.size()) throw_bad_input("run_stepped: folds and timings differ");
  FoldDriver driver(cfg);
  SteppedRun r;
  // Each column delivers its outputs in (fold, row) order; observed cycles are recorded as seen.
  struct Slot {
    std::size_t fold, row;
  };
  std::vector<Slot> order;
  for (std::size_t f = 0; f < folds.size(); ++f) {
    driver.add(folds[f], timings[f]);
    r.outs.emplace_back(folds[f].m * cfg.cols, 0u);
    r.cycles.emplace_back(folds[f].m * cfg.cols, ~std::uint64_t{0});
    for (std::size_t i = 0; i < folds[f].m; ++i) order.push_back({f, i});
  }
  SystolicArraySim sim(cfg);
  std::vector<std::size_t> next(cfg.cols, 0);
  CycleInputs in;
  std::vector<bool> ov;
  std::vector<std::uint32_t> ob;
  for (std::uint64_t c = 0; c < driver.end_cycle(); ++c) {
    driver.inputs_at(c, in);
    sim.tick(in, ov, ob);
    for (int n = 0; n < cfg.cols; ++n) {
      if (!ov[n]) continue;
      if (next[n] >= order.size()) {
        throw_sim_fault("stepped array: column {} produced an extra output at cycle {}", n, c);
      }
      const Slot s = order[next[n]++];
      r.outs[s.fold][s.row * cfg.cols + n] = ob[n];
      r.cycles[s.fold][s.row * cfg.cols + n] = c;
    }
  }
  for (int n = 0; n < cfg.cols; ++n) {
    if (next[n] != order.size()) {
      throw_sim_fault("stepped array: column {} produced {} of {} outputs", n, next[n],
                      order.size());
    }
  }
  return r;
}

}  // namespace mxemu::mxu
