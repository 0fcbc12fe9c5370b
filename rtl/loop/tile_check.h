// The Verilated mxu_tile in the chip's loop (header-only: one template for every Verilated size).
//
// One tile per MXU lives for the whole run. Each fold the model runs is copied in, turned into
// per-cycle port values by mxu::FoldDriver from the very schedule the model used (absolute
// cycles), and the tile is clocked forward as far as is safe: a later fold cannot load weights
// before this fold's weight load has finished (FoldScheduler's load port), so the tile runs up to
// that cycle and lags the model by at most one fold; drain() runs it out at the end of the run.
// While no fold is in the array the tile is quiescent (nothing valid in any register, weights
// held), so idle stretches between folds are skipped instead of clocked.
//
// Every valid output is checked against the next expected (fold, row) of its column: the bits
// equal the model's and the cycle equals FoldTiming::out_cycle. The first mismatch, an output too
// many or one missing throws mxemu::Error (kSimFault) naming the MXU, fold, row, column, cycle,
// formats, operands and scales, expected and got.
//
// With a Trace type (VerilatedVcdC / VerilatedFstC, for the tiles Verilated with tracing) and a
// waves file, every clocked cycle inside the window is dumped at times 2 * cycle (clock low,
// inputs applied) and 2 * cycle + 1 (clock high); the model instance is named after the MXU
// ("pod.chip0.mxu1" as the scopes pod > chip0 > mxu1), so the signals sit under the chip
// hierarchy.
#pragma once

#include <verilated.h>

#include <fmt/format.h>

#include <cstdint>
#include <cstdio>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "model/chip/rtl_plugins.h"
#include "model/common/error.h"
#include "model/mxu/fold_check.h"
#include "model/mxu/systolic.h"
#include "model/numerics/fp8.h"
#include "testbench/cosim/tile_harness.h"

namespace mxemu::rtl {

// The file a waves path names for one site: "t.vcd" at "pod.chip0.mxu1" -> "t.pod.chip0.mxu1.vcd".
inline std::string waves_file(const std::string& path, const std::string& where) {
  const std::size_t dot = path.rfind('.');
  return path.substr(0, dot) + "." + where + path.substr(dot);
}

template <typename Top, typename Trace = void>
class TileCheck final : public mxu::FoldCheck {
 public:
  // origin: where the RTL came from, appended to description() ("" for the bundled RTL).
  // waves: only with a Trace type.
  TileCheck(const mxu::SystolicConfig& cfg, std::string where, std::string origin = "",
            const chip::RtlWaves& waves = {})
      : cfg_(cfg),
        where_(std::move(where)),
        origin_(std::move(origin)),
        waves_(waves),
        driver_(cfg),
        ctx_(make_context(!waves.path.empty())),
        top_(std::make_unique<Top>(ctx_.get(), scope_name(where_).c_str())),
        next_(static_cast<std::size_t>(cfg.cols)) {
    if constexpr (!std::is_void_v<Trace>) {
      if (!waves_.path.empty()) {
        file_ = waves_file(waves_.path, where_);
        trace_ = std::make_unique<Trace>();
        top_->trace(trace_.get(), 99);
        trace_->open(file_.c_str());
        if (!trace_->isOpen()) throw_bad_input("[rtl] waves: cannot write {}", file_);
      }
    }
    top_->clk_i = 0;
    top_->rst_ni = 0;
    top_->w_valid_i = 0;
    top_->a_valid_i = 0;
    top_->eval();
    top_->clk_i = 1;
    top_->eval();
    top_->clk_i = 0;
    top_->rst_ni = 1;
    top_->eval();
  }
  TileCheck(const TileCheck&) = delete;
  TileCheck& operator=(const TileCheck&) = delete;
  ~TileCheck() override {
    if constexpr (!std::is_void_v<Trace>) {
      if (trace_) trace_->close();
    }
    top_->final();
  }

  void fold(const mxu::FoldSpec& f, const mxu::FoldTiming& t, std::span<const float> out,
            std::uint64_t /*now*/) override {
    Pending& p = pending_.emplace_back();
    p.seq = folds_seen_++;
    p.w.assign(f.weights.begin(), f.weights.end());
    p.ws.assign(f.weight_scales.begin(), f.weight_scales.end());
    p.a.assign(f.acts.begin(), f.acts.end());
    p.as.assign(f.act_scales.begin(), f.act_scales.end());
    p.psum.assign(f.psum_in.begin(), f.psum_in.end());
    p.spec = f;
    p.spec.weights = p.w;
    p.spec.weight_scales = p.ws;
    p.spec.acts = p.a;
    p.spec.act_scales = p.as;
    p.spec.psum_in = p.psum;
    p.timing = t;
    p.expect.resize(out.size());
    for (std::size_t i = 0; i < out.size(); ++i) p.expect[i] = num::f32_bits(out[i]);
    driver_.add(p.spec, t);
    end_ = std::max(end_, t.last_out_cycle() + 1);
    // No later fold drives a port before this fold's weight load is over.
    run_until(t.load_start + static_cast<std::uint64_t>(cfg_.rows));
  }

  void drain() override {
    run_until(end_ + kIdleTail);
    if constexpr (!std::is_void_v<Trace>) {
      if (trace_) {
        trace_->close();
        trace_.reset();
        if (dumped_ == 0) {
          std::remove(file_.c_str());  // no file that looks complete
          throw_bad_input(
              "[rtl] waves window {}:{}: the tile of {} was not clocked in it (its folds ran in "
              "cycles {} to {}); {} not written",
              waves_.start, waves_.end, where_, first_clocked_, cycle_, file_);
        }
      }
    }
    if (!pending_.empty()) {
      const Pending& p = pending_.front();
      for (std::size_t n = 0; n < next_.size(); ++n) {
        if (next_[n].seq == p.seq) {
          fail(
              fmt::format("column {} gave {} of the {} outputs of fold {} (no more came by cycle "
                          "{})",
                          n, next_[n].row, p.spec.m, p.seq, cycle_));
        }
      }
      fail(fmt::format("fold {} was never completed", p.seq));
    }
  }

  std::uint64_t outputs_checked() const override { return outputs_; }
  std::uint64_t macs_checked() const override { return macs_; }
  std::uint64_t cycles_evaluated() const override { return evaluated_; }
  std::string description() const override {
    return fmt::format("Verilated mxu_tile {}x{}, NumPipeRegs {}{}", cfg_.rows, cfg_.cols,
                       cfg_.pe_latency_cycles - 1, origin_);
  }

 private:
  static constexpr std::uint64_t kIdleTail = 4;  // idle cycles after the last output

  // Verilator's waveform writers split a model's name into scopes at spaces: "pod.chip0.mxu1"
  // becomes the scopes pod > chip0 > mxu1.
  static std::string scope_name(std::string where) {
    for (char& c : where) c = c == '.' ? ' ' : c;
    return where;
  }

  static std::unique_ptr<VerilatedContext> make_context(bool trace) {
    auto ctx = std::make_unique<VerilatedContext>();
    ctx->traceEverOn(trace);  // before the model is built
    return ctx;
  }
  struct Pending {
    std::uint64_t seq = 0;
    std::vector<std::uint8_t> w, ws, a, as;
    std::vector<float> psum;
    mxu::FoldSpec spec;
    mxu::FoldTiming timing;
    std::vector<std::uint32_t> expect;
  };
  struct Cursor {
    std::uint64_t seq = 0;  // the fold whose output the column gives next
    std::size_t row = 0;
  };

  [[noreturn]] void fail(const std::string& what) const {
    throw Error(ExitCode::kSimFault,
                fmt::format("RTL mismatch in {} ({}): {}", where_, description(), what));
  }

  // Clocks the tile through every cycle before `target`, skipping quiescent stretches.
  void run_until(std::uint64_t target) {
    while (cycle_ < target) {
      if (pending_.empty()) {
        cycle_ = target;
        break;
      }
      std::uint64_t first_input = ~std::uint64_t{0};
      for (const Pending& p : pending_) first_input = std::min(first_input, p.timing.load_start);
      if (first_input > cycle_ && all_started_done()) {
        cycle_ = std::min(first_input, target);
        continue;
      }
      step();
    }
  }

  // True when no fold is in the array: every fold before the pending ones has left it.
  bool all_started_done() const {
    for (const Pending& p : pending_) {
      if (p.timing.load_start <= cycle_) return false;
    }
    return true;
  }

  void step() {
    driver_.inputs_at(cycle_, in_);
    Top& top = *top_;
    top.w_valid_i = in_.w_valid;
    top.w_bank_i = static_cast<std::uint8_t>(in_.w_bank);
    top.w_fmt_i = in_.w_fmt == num::Fp8Format::kE5M2;
    cosim::put_bytes(top.w_i, in_.w);
    cosim::put_bytes(top.ws_i, in_.ws);
    top.a_valid_i = in_.a_valid;
    top.a_bank_i = static_cast<std::uint8_t>(in_.a_bank);
    top.a_fmt_i = in_.a_fmt == num::Fp8Format::kE5M2;
    cosim::put_bytes(top.a_i, in_.a);
    cosim::put_bytes(top.as_i, in_.as);
    cosim::put_words(top.psum_i, in_.psum);
    top.clk_i = 0;
    top.eval();
    dump(0);
    for (int n = 0; n < cfg_.cols; ++n) {
      if (((static_cast<std::uint64_t>(top.out_valid_o) >> n) & 1u) == 0) continue;
      check_output(n, cosim::get_word(top.out_o, n));
    }
    top.clk_i = 1;
    top.eval();
    dump(1);
    if (evaluated_ == 0) first_clocked_ = cycle_;
    ++cycle_;
    ++evaluated_;
    retire();
  }

  // A waveform sample of the current cycle (edge 0: clock low, 1: clock high) in the window.
  void dump(int edge) {
    if constexpr (!std::is_void_v<Trace>) {
      if (trace_ && cycle_ >= waves_.start && (waves_.end == 0 || cycle_ < waves_.end)) {
        trace_->dump(2 * cycle_ + static_cast<std::uint64_t>(edge));
        ++dumped_;
      }
    }
  }

  void check_output(int n, std::uint32_t got) {
    Cursor& c = next_[static_cast<std::size_t>(n)];
    if (pending_.empty() || c.seq < pending_.front().seq ||
        c.seq - pending_.front().seq >= pending_.size()) {
      fail(fmt::format("column {} gave an output no fold was due to give: 0x{:08x} at cycle {}", n,
                       got, cycle_));
    }
    const Pending& p = pending_[static_cast<std::size_t>(c.seq - pending_.front().seq)];
    const std::size_t idx =
        c.row * static_cast<std::size_t>(cfg_.cols) + static_cast<std::size_t>(n);
    const std::uint32_t want = p.expect[idx];
    const std::uint64_t want_cycle = p.timing.out_cycle(c.row, n);
    if (got != want || cycle_ != want_cycle) {
      fail(fmt::format("expected 0x{:08x} at cycle {}, got 0x{:08x} at cycle {}: {}", want,
                       want_cycle, got, cycle_,
                       cosim::describe_output(cfg_, p.spec, p.seq, c.row, n)));
    }
    ++outputs_;
    if (++c.row == p.spec.m) {
      c.row = 0;
      ++c.seq;
    }
  }

  // Drops the folds every column has finished.
  void retire() {
    bool dropped = false;
    while (!pending_.empty()) {
      const std::uint64_t s = pending_.front().seq;
      bool done = true;
      for (const Cursor& c : next_) done = done && c.seq > s;
      if (!done) break;
      macs_ += pending_.front().spec.m * static_cast<std::uint64_t>(cfg_.rows) *
               static_cast<std::uint64_t>(cfg_.cols);
      pending_.pop_front();
      dropped = true;
    }
    if (dropped) driver_.retire_before(cycle_);
  }

  mxu::SystolicConfig cfg_;
  std::string where_;
  std::string origin_;
  chip::RtlWaves waves_;
  mxu::FoldDriver driver_;
  std::unique_ptr<VerilatedContext> ctx_;
  std::unique_ptr<Top> top_;
  // Waveforms (a Trace type and a waves path only).
  std::conditional_t<std::is_void_v<Trace>, int, std::unique_ptr<Trace>> trace_{};
  std::string file_;
  std::uint64_t dumped_ = 0, first_clocked_ = 0;
  std::deque<Pending> pending_;  // folds not yet completed by every column, in order
  std::vector<Cursor> next_;     // per column
  mxu::CycleInputs in_;
  std::uint64_t cycle_ = 0;  // the next cycle the tile is clocked through (absolute)
  std::uint64_t end_ = 0;    // one past the last expected output
  std::uint64_t folds_seen_ = 0;
  std::uint64_t outputs_ = 0, macs_ = 0, evaluated_ = 0;
};

}  // namespace mxemu::rtl
