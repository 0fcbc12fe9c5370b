// Lock-step co-simulation of a Verilated mxu_tile against the model/mxu core (header-only, so
// every Verilated model type -- any size, traced or not -- uses the same code).
//
// The folds are scheduled by mxu::FoldScheduler (the closed form of docs/TIMING.md), their
// expected outputs come from mxu::SystolicCore's fast path, and FoldDriver turns the schedule
// into port values. Each cycle the harness drives the ports, samples the outputs (registered, so
// they belong to this cycle), and checks every valid output against the next expected (fold, row)
// of its column: bits equal and the cycle equal to FoldTiming::out_cycle. Mismatch reports name
// the formats, operands and scales in hex, expected and got, and the cycle.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <functional>
#include <string>
#include <type_traits>
#include <vector>

#include "model/common/error.h"
#include "model/mxu/systolic.h"
#include "model/numerics/fp8.h"

namespace mxemu::cosim {

// Byte i of v goes to bits [8i+7:8i] of a packed port (integer or VlWide).
template <typename Port>
void put_bytes(Port& port, const std::vector<std::uint8_t>& v) {
  if constexpr (std::is_integral_v<Port>) {
    std::uint64_t x = 0;
    for (std::size_t i = 0; i < v.size(); ++i) x |= static_cast<std::uint64_t>(v[i]) << (8 * i);
    port = static_cast<Port>(x);
  } else {
    for (std::size_t w = 0; w < (v.size() + 3) / 4; ++w) port[w] = 0;
    for (std::size_t i = 0; i < v.size(); ++i)
      port[i / 4] |= static_cast<std::uint32_t>(v[i]) << (8 * (i % 4));
  }
}

template <typename Port>
void put_words(Port& port, const std::vector<std::uint32_t>& v) {
  if constexpr (std::is_integral_v<Port>) {
    std::uint64_t x = 0;
    for (std::size_t i = 0; i < v.size(); ++i) x |= static_cast<std::uint64_t>(v[i]) << (32 * i);
    port = static_cast<Port>(x);
  } else {
    for (std::size_t i = 0; i < v.size(); ++i) port[i] = v[i];
  }
}

template <typename Port>
std::uint32_t get_word(const Port& port, int i) {
  if constexpr (std::is_integral_v<Port>) {
    return static_cast<std::uint32_t>(static_cast<std::uint64_t>(port) >> (32 * i));
  } else {
    return port[static_cast<std::size_t>(i)];
  }
}

struct CosimReport {
  std::uint64_t cycles = 0;
  std::uint64_t outputs_checked = 0;
  std::vector<std::string> mismatches;  // at most max_reports kept
  std::uint64_t mismatch_count = 0;
  bool ok() const { return mismatch_count == 0; }
};

// Describes output (fold f, row i, column n) for a mismatch report.
inline std::string describe_output(const mxu::SystolicConfig& cfg, const mxu::FoldSpec& s,
                                   std::size_t f, std::size_t i, int n) {
  const auto rows = static_cast<std::size_t>(cfg.rows);
  const auto cols = static_cast<std::size_t>(cfg.cols);
  const std::size_t kb = rows / static_cast<std::size_t>(s.block);
  std::string ops;
  for (std::size_t k = 0; k < rows; ++k) {
    const std::uint8_t sa = s.act_scales.empty() ? 0x7F : s.act_scales[i * kb + k / s.block];
    const std::uint8_t sb =
        s.weight_scales.empty() ? 0x7F : s.weight_scales[(k / s.block) * cols + n];
    ops += fmt::format(" k{}:a={:02x},b={:02x},sa={:02x},sb={:02x}", k, s.acts[i * rows + k],
                       s.weights[k * cols + n], sa, sb);
  }
  const std::uint32_t p = s.psum_in.empty() ? 0u : num::f32_bits(s.psum_in[i * cols + n]);
  return fmt::format("fold {} row {} col {} fmt_a={} fmt_b={} psum={:08x}{}", f, i, n,
                     num::format_name(s.fmt_a), num::format_name(s.fmt_b), p, ops);
}

struct CosimOptions {
  std::size_t max_reports = 10;
  // Called after each eval with (cycle, clock level), e.g. to dump a waveform sample.
  std::function<void(std::uint64_t, bool)> on_eval;
  // Negative testing: compute the expectation from these folds (same shapes) instead of the
  // folds driven into the RTL.
  const std::vector<mxu::FoldSpec>* expect_from = nullptr;
};

// Runs the folds through `top` (a Verilated mxu_tile of cfg.rows x cfg.cols, fresh) and checks
// every output against the model/mxu fast path.
template <typename Top>
CosimReport cosim_tile(Top& top, const mxu::SystolicConfig& cfg,
                       const std::vector<mxu::FoldSpec>& folds, const CosimOptions& opt = {}) {
  const std::size_t max_reports = opt.max_reports;
  const auto& on_eval = opt.on_eval;
  const auto& ref = opt.expect_from ? *opt.expect_from : folds;
  if (ref.size() != folds.size()) throw_bad_input("cosim: expect_from differs in fold count");
  CosimReport rep;
  mxu::SystolicCore core(cfg);
  mxu::FoldDriver driver(cfg);
  std::vector<std::vector<float>> expect(folds.size());
  std::vector<mxu::FoldTiming> timing(folds.size());
  struct Slot {
    std::size_t fold, row;
  };
  std::vector<Slot> order;
  for (std::size_t f = 0; f < folds.size(); ++f) {
    expect[f].resize(folds[f].m * static_cast<std::size_t>(cfg.cols));
    timing[f] = core.run_fold(ref[f], expect[f]);
    driver.add(folds[f], timing[f]);
    for (std::size_t i = 0; i < folds[f].m; ++i) order.push_back({f, i});
  }
  auto report = [&](std::string msg) {
    if (rep.mismatches.size() < max_reports) rep.mismatches.push_back(std::move(msg));
    ++rep.mismatch_count;
  };
  // Reset for two cycles.
  top.clk_i = 0;
  top.rst_ni = 0;
  top.w_valid_i = 0;
  top.a_valid_i = 0;
  top.eval();
  top.clk_i = 1;
  top.eval();
  top.clk_i = 0;
  top.rst_ni = 1;
  top.eval();

  std::vector<std::size_t> next(static_cast<std::size_t>(cfg.cols), 0);
  mxu::CycleInputs in;
  const std::uint64_t end = driver.end_cycle() + 4;  // a few idle cycles catch extra outputs
  for (std::uint64_t c = 0; c < end; ++c) {
    driver.inputs_at(c, in);
    top.w_valid_i = in.w_valid;
    top.w_bank_i = static_cast<std::uint8_t>(in.w_bank);
    top.w_fmt_i = in.w_fmt == num::Fp8Format::kE5M2;
    put_bytes(top.w_i, in.w);
    put_bytes(top.ws_i, in.ws);
    top.a_valid_i = in.a_valid;
    top.a_bank_i = static_cast<std::uint8_t>(in.a_bank);
    top.a_fmt_i = in.a_fmt == num::Fp8Format::kE5M2;
    put_bytes(top.a_i, in.a);
    put_bytes(top.as_i, in.as);
    put_words(top.psum_i, in.psum);
    top.clk_i = 0;
    top.eval();
    if (on_eval) on_eval(c, false);
    for (int n = 0; n < cfg.cols; ++n) {
      if (((static_cast<std::uint64_t>(top.out_valid_o) >> n) & 1u) == 0) continue;
      const std::uint32_t got = get_word(top.out_o, n);
      auto& nx = next[static_cast<std::size_t>(n)];
      if (nx >= order.size()) {
        report(fmt::format("{}x{} tile: column {} produced an unexpected output {:08x} at cycle {}",
                           cfg.rows, cfg.cols, n, got, c));
        continue;
      }
      const Slot s = order[nx++];
      const std::uint32_t want =
          num::f32_bits(expect[s.fold][s.row * static_cast<std::size_t>(cfg.cols) + n]);
      const std::uint64_t want_cycle = timing[s.fold].out_cycle(s.row, n);
      ++rep.outputs_checked;
      if (got != want || c != want_cycle) {
        report(
            fmt::format("{}x{} tile mismatch: {}: expected {:08x} at cycle {}, got {:08x} at "
                        "cycle {}",
                        cfg.rows, cfg.cols, describe_output(cfg, folds[s.fold], s.fold, s.row, n),
                        want, want_cycle, got, c));
      }
    }
    top.clk_i = 1;
    top.eval();
    if (on_eval) on_eval(c, true);
    ++rep.cycles;
  }
  for (int n = 0; n < cfg.cols; ++n) {
    if (next[static_cast<std::size_t>(n)] != order.size()) {
      report(fmt::format("{}x{} tile: column {} produced {} of {} outputs", cfg.rows, cfg.cols, n,
                         next[static_cast<std::size_t>(n)], order.size()));
    }
  }
  return rep;
}

}  // namespace mxemu::cosim
