#include "model/chip/mxu_engine.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "model/chip/chip_waves.h"
#include "model/chip/rtl_plugins.h"
#include "model/common/error.h"

namespace mxemu::chip {

namespace {
mxu::SystolicConfig systolic_config(const ChipState& st) {
  mxu::SystolicConfig s;
  s.rows = static_cast<int>(st.cfg.mxu.rows);
  s.cols = static_cast<int>(st.cfg.mxu.cols);
  // The fast path's GEMM runs on the simulation's thread pool (results do not depend on it).
  s.gemm_threads = 1;
  s.pool = st.pool;
  s.pe_latency_cycles = static_cast<int>(st.cfg.mxu.pe_latency_cycles);
  return s;
}
}  // namespace

MxuEngine::MxuEngine(const sc_core::sc_module_name& name, ChipState& state, std::uint32_t index)
    : Engine(name, state, regs::kQueueMxu0 + index, fmt::format("MXU{}", index)),
      index_(index),
      sys_cfg_(systolic_config(state)),
      core_(sys_cfg_) {
  const std::string& mode = state.cfg.rtl.mxu;
  if (mode != "off") {
    const RtlConfig& r = state.cfg.rtl;
    rtl_ =
        require_rtl(state.rtl, "mxu", mode)
            .mxu_check(mode, sys_cfg_, this->name(), RtlWaves{r.waves, r.waves_start, r.waves_end});
  } else if (!state.cfg.rtl.waves.empty()) {
    throw_bad_input(R"([rtl] waves = "{}" needs [rtl] mxu = "tile" (the waveforms are the tile's))",
                    state.cfg.rtl.waves);
  }
}

void MxuEngine::end_checks() {
  if (rtl_) rtl_->drain();
}

void MxuEngine::extra_stats(nlohmann::json& j) const {
  j["macs"] = macs_;
  if (rtl_) {
    j["rtl"] = {{"mode", state_.cfg.rtl.mxu},
                {"checker", rtl_->description()},
                {"outputs_checked", rtl_->outputs_checked()},
                {"macs_checked", rtl_->macs_checked()},
                {"cycles_evaluated", rtl_->cycles_evaluated()}};
  }
}

std::string MxuEngine::op_name(std::uint32_t opcode) const {
  if (opcode == regs::kOpMxuLoadW) return "MXU_LOAD_W";
  if (opcode == regs::kOpMxuMatmul) return "MXU_MATMUL";
  return fmt::format("op{}", opcode);
}

std::string MxuEngine::slice_name(const Desc& d) const {
  const std::uint32_t opcode = regs::hdr::kOpcode.get(d.data());
  if (opcode == regs::kOpMxuLoadW) {
    return fmt::format("MXU load weights {}x{}", regs::mxu_load_w::kK.get(d.data()),
                       regs::mxu_load_w::kN.get(d.data()));
  }
  if (opcode == regs::kOpMxuMatmul) {
    return fmt::format("MXU matmul M={}", regs::mxu_matmul::kM.get(d.data()));
  }
  return Engine::slice_name(d);
}

Engine::Timing MxuEngine::execute(const Desc& d, std::uint64_t now) {
  const std::uint32_t opcode = regs::hdr::kOpcode.get(d.data());
  if (opcode == regs::kOpMxuLoadW) return load_weights(d, now);
  if (opcode == regs::kOpMxuMatmul) return matmul(d, now);
  throw EngineError{regs::Fault::kBadOpcode, fmt::format("unknown MXU opcode {}", opcode)};
}

Engine::Timing MxuEngine::load_weights(const Desc& d, std::uint64_t now) {
  namespace f = regs::mxu_load_w;
  const std::uint32_t rows = state_.cfg.mxu.rows, cols = state_.cfg.mxu.cols;
  const std::uint32_t k = f::kK.get(d.data()), n = f::kN.get(d.data());
  if (k == 0 || k > rows || n == 0 || n > cols) {
    throw EngineError{
        regs::Fault::kBadField,
        fmt::format("weight tile K={} N={} does not fit the {}x{} array", k, n, rows, cols)};
  }
  const bool scaled = f::kScaled.get(d.data()) != 0;
  const std::uint32_t block = f::kBlock.get(d.data());
  if (scaled && (block == 0 || rows % block != 0 || k % block != 0)) {
    throw EngineError{
        regs::Fault::kBadField,
        fmt::format("BLOCK {} must divide the array rows ({}) and K ({})", block, rows, k)};
  }
  const std::uint64_t w_addr = f::kWAddr.get(d.data()), w_stride = f::kWStride.get(d.data());
  if (w_stride < n) {
    throw EngineError{regs::Fault::kBadField, fmt::format("W_STRIDE {} < N {}", w_stride, n)};
  }
  const SpaceAddr wa = state_.resolve(w_addr, (k - 1) * w_stride + n, "weight tile");
  if (wa.kind != SpaceKind::kVmem) {
    throw EngineError{regs::Fault::kBadAddress, "weight tile must be in VMEM"};
  }
  const std::uint64_t start = std::max(now, staging_free_);
  Staged& s = staged_;
  s.valid = true;
  s.fmt = f::kFmt.get(d.data()) != 0 ? num::Fp8Format::kE5M2 : num::Fp8Format::kE4M3;
  s.k = k;
  s.n = n;
  s.scaled = scaled;
  s.block = scaled ? block : rows;
  s.w.assign(static_cast<std::size_t>(rows) * cols, 0);
  const std::uint8_t* src = state_.on_chip(wa);
  for (std::uint32_t r = 0; r < k; ++r) std::memcpy(&s.w[r * cols], src + r * w_stride, n);
  s.ws.clear();
  if (scaled) {
    const std::uint32_t kb = k / block;
    const std::uint64_t s_addr = f::kSAddr.get(d.data()), s_stride = f::kSStride.get(d.data());
    if (s_stride < n) {
      throw EngineError{regs::Fault::kBadField, fmt::format("S_STRIDE {} < N {}", s_stride, n)};
    }
    const SpaceAddr sa = state_.resolve(s_addr, (kb - 1) * s_stride + n, "weight scales");
    if (sa.kind != SpaceKind::kVmem) {
      throw EngineError{regs::Fault::kBadAddress, "weight scales must be in VMEM"};
    }
    // Scale rows beyond K_used are unit scales (their weights are zero anyway).
    s.ws.assign(static_cast<std::size_t>(rows / block) * cols, num::kUnitScaleCode);
    const std::uint8_t* ssrc = state_.on_chip(sa);
    for (std::uint32_t r = 0; r < kb; ++r) std::memcpy(&s.ws[r * cols], ssrc + r * s_stride, n);
  }
  s.ready_cycle = start;
  // The staging is read row by row from VMEM; the array takes it from there (FoldScheduler).
  staging_free_ = start + k;
  return Timing{start, start + k};
}

Engine::Timing MxuEngine::matmul(const Desc& d, std::uint64_t now) {
  namespace f = regs::mxu_matmul;
  if (!staged_.valid) {
    throw EngineError{regs::Fault::kBadField, "MXU_MATMUL before any MXU_LOAD_W"};
  }
  const std::uint32_t rows = state_.cfg.mxu.rows, cols = state_.cfg.mxu.cols;
  const std::uint32_t k = staged_.k, n = staged_.n;
  const std::uint64_t m = f::kM.get(d.data());
  if (m == 0) throw EngineError{regs::Fault::kBadField, "M = 0"};
  const bool scaled = f::kScaled.get(d.data()) != 0;
  const std::uint64_t a_addr = f::kAAddr.get(d.data()), a_stride = f::kAStride.get(d.data());
  if (a_stride < k)
    throw EngineError{regs::Fault::kBadField, fmt::format("A_STRIDE {} < K {}", a_stride, k)};
  const SpaceAddr aa = state_.resolve(a_addr, (m - 1) * a_stride + k, "activations");
  const std::uint64_t acc_addr = f::kAccAddr.get(d.data()),
                      acc_stride = f::kAccStride.get(d.data());
  if (acc_stride < 4ull * n || acc_addr % 4 != 0 || acc_stride % 4 != 0) {
    throw EngineError{regs::Fault::kBadField,
                      fmt::format("ACC_ADDR 0x{:x} / ACC_STRIDE {} must be 4-byte aligned and "
                                  "hold N={} floats per row",
                                  acc_addr, acc_stride, n)};
  }
  if (acc_addr + (m - 1) * acc_stride + 4ull * n > state_.cfg.mxu.acc_bytes) {
    throw EngineError{regs::Fault::kBadAddress,
                      fmt::format("accumulator range [0x{:x}, +{} rows of {} bytes) leaves ACC{} "
                                  "({} bytes)",
                                  acc_addr, m, acc_stride, index_, state_.cfg.mxu.acc_bytes)};
  }
  if (aa.kind != SpaceKind::kVmem)
    throw EngineError{regs::Fault::kBadAddress, "activations must be in VMEM"};

  // Gather A (m x rows, zero beyond K_used), its scales, and the partial sums.
  a_.assign(m * rows, 0);
  const std::uint8_t* asrc = state_.on_chip(aa);
  for (std::uint64_t i = 0; i < m; ++i) std::memcpy(&a_[i * rows], asrc + i * a_stride, k);
  const std::uint32_t block = staged_.block;
  sa_.clear();
  if (scaled) {
    if (!staged_.scaled && (rows % block != 0 || k % block != 0)) {
      throw EngineError{regs::Fault::kBadField, "scaled activations need a block from MXU_LOAD_W"};
    }
    const std::uint32_t kb = k / block;
    const std::uint64_t sa_addr = f::kSaAddr.get(d.data()), sa_stride = f::kSaStride.get(d.data());
    if (sa_stride < kb) throw EngineError{regs::Fault::kBadField, "SA_STRIDE < K/BLOCK"};
    const SpaceAddr sa = state_.resolve(sa_addr, (m - 1) * sa_stride + kb, "activation scales");
    if (sa.kind != SpaceKind::kVmem)
      throw EngineError{regs::Fault::kBadAddress, "activation scales must be in VMEM"};
    sa_.assign(m * (rows / block), num::kUnitScaleCode);
    const std::uint8_t* ssrc = state_.on_chip(sa);
    for (std::uint64_t i = 0; i < m; ++i)
      std::memcpy(&sa_[i * (rows / block)], ssrc + i * sa_stride, kb);
  }
  std::uint8_t* acc = state_.acc[index_].data() + acc_addr;
  const bool accumulate = f::kAccumulate.get(d.data()) != 0;
  psum_.assign(m * cols, 0.0F);
  if (accumulate) {
    for (std::uint64_t i = 0; i < m; ++i)
      std::memcpy(&psum_[i * cols], acc + i * acc_stride, 4ull * n);
  }

  mxu::FoldSpec fold;
  fold.fmt_a = f::kFmt.get(d.data()) != 0 ? num::Fp8Format::kE5M2 : num::Fp8Format::kE4M3;
  fold.fmt_b = staged_.fmt;
  fold.m = m;
  fold.weights = staged_.w;
  fold.weight_scales = staged_.ws;
  fold.acts = a_;
  fold.act_scales = sa_;
  fold.block = static_cast<int>(block);
  fold.psum_in = psum_;
  out_.assign(m * cols, 0.0F);
  mxu::FoldTiming t;
  try {
    t = core_.run_fold(fold, out_, staged_.ready_cycle);
  } catch (const Error& e) {
    throw EngineError{regs::Fault::kBadField, e.what()};
  }
  if (state_.cfg.mxu.cycle_accurate) {
    // Replay the fold on the cycle-stepped array, shifted to start at cycle 0, and require the
    // same values on the same cycles as the closed form (DESIGN: fast == exact).
    mxu::FoldTiming rel = t;
    const std::uint64_t base = std::min(t.load_start, t.stream_start);
    rel.load_start -= base;
    rel.stream_start -= base;
    rel.out_base -= base;
    const mxu::SteppedRun run = mxu::run_stepped(sys_cfg_, std::span(&fold, 1), std::span(&rel, 1));
    for (std::uint64_t i = 0; i < m; ++i) {
      for (std::uint32_t c = 0; c < n; ++c) {
        const std::size_t idx = i * cols + c;
        if (run.outs[0][idx] != num::f32_bits(out_[idx]) ||
            run.cycles[0][idx] + base != t.out_cycle(i, static_cast<int>(c))) {
          throw EngineError{
              regs::Fault::kBadField,
              fmt::format("internal: stepped array disagrees with the fast path at "
                          "C[{}][{}] (0x{:08x} at {} vs 0x{:08x} at {})",
                          i, c, run.outs[0][idx], run.cycles[0][idx] + base,
                          num::f32_bits(out_[idx]), t.out_cycle(i, static_cast<int>(c)))};
        }
      }
    }
  }
  if (rtl_) {
    // RTL in the loop: the first disagreement faults the engine (and ends the chip's run).
    try {
      rtl_->fold(fold, t, out_, now);
    } catch (const Error& e) {
      throw EngineError{regs::Fault::kRtlMismatch, e.what()};
    }
  }
  for (std::uint64_t i = 0; i < m; ++i)
    std::memcpy(acc + i * acc_stride, &out_[i * cols], 4ull * n);
  staged_.valid = true;  // a later MATMUL without a new LOAD_W reloads the same tile
  staging_free_ = std::max(staging_free_, t.load_start + rows);

  // Statistics: the array is busy while rows stream; idle gaps are stalls by cause.
  const std::uint64_t prev_end = stream_end_;
  if (t.stream_start > prev_end) {
    const std::uint64_t data_ready = std::max(prev_end, std::min(now, t.stream_start));
    stats_.stall_cycles["wait_input"] += data_ready - prev_end;
    stats_.stall_cycles["wait_weights"] += t.stream_start - data_ready;
  }
  if (state_.waves != nullptr) state_.waves->mxu_fold(index_, t, k, n, prev_end, now);
  stream_end_ = t.stream_start + m;
  stream_cycles_ += m;
  stats_.busy_cycles += m;
  macs_ += m * k * n;
  last_out_ = t.last_out_cycle();
  // The next descriptor may dispatch now (the array's ports are the scheduler's); this one
  // completes when its last output has left the array.
  return Timing{now, t.last_out_cycle() + 1};
}

}  // namespace mxemu::chip
