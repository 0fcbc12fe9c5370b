#include "model/chip/vpu_engine.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <span>
#include <vector>

#include "model/common/error.h"
#include "model/vpu/vpu_op.h"

namespace mxemu::chip {

namespace {

// A rows x cols operand: element (r, c) of `elem_bytes` at base + r * stride + c * elem_bytes.
struct Operand {
  SpaceAddr at;
  std::uint8_t* p = nullptr;
  std::uint64_t stride = 0;
};

}  // namespace

VpuEngine::VpuEngine(const sc_core::sc_module_name& name, ChipState& state)
    : Engine(name, state, regs::kQueueVpu, "VPU") {
  const std::string& mode = state.cfg.rtl.vpu;
  if (mode != "off") rtl_ = require_rtl(state.rtl, "vpu", mode).vpu_check(mode, this->name());
}

void VpuEngine::extra_stats(nlohmann::json& j) const {
  j["elements"] = elements_;
  if (rtl_) {
    j["rtl"] = {{"mode", state_.cfg.rtl.vpu},
                {"checker", rtl_->description()},
                {"conversions_checked", rtl_->conversions_checked()}};
  }
}

std::string VpuEngine::op_name(std::uint32_t opcode) const {
  return opcode == regs::kOpVpuOp ? "VPU_OP" : fmt::format("op{}", opcode);
}

std::string VpuEngine::slice_name(const Desc& d) const {
  if (regs::hdr::kOpcode.get(d.data()) != regs::kOpVpuOp) return Engine::slice_name(d);
  const vpu::Op op = vpu::decode(d);
  std::string fn = vpu::fn_name(static_cast<std::uint32_t>(op.func));
  for (char& ch : fn) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return fmt::format("VPU {} {}x{}", fn, op.rows, op.cols);
}

Engine::Timing VpuEngine::execute(const Desc& d, std::uint64_t now) {
  const vpu::Op op = vpu::decode(d);
  const vpu::Layout l = vpu::layout(op);
  const auto operand = [&](const vpu::OperandShape& s) {
    Operand o;
    if (!s.used) return o;
    o.stride = s.stride;
    o.at = state_.resolve(s.addr, (s.rows - 1) * s.stride + s.row_bytes, s.what);
    if (o.at.kind == SpaceKind::kHbm) {
      throw EngineError{regs::Fault::kBadAddress,
                        fmt::format("{}: VPU {} must be in VMEM or an accumulator",
                                    vpu::fn_name(static_cast<std::uint32_t>(op.func)), s.what)};
    }
    o.p = state_.on_chip(o.at);
    return o;
  };
  const Operand x = operand(l.x), y = operand(l.y), z = operand(l.z);
  // RTL in the loop: the inputs of CONVERT (to FP8) and MX_QUANT as FP32 bits, read before the
  // op (Z may overwrite X).
  const bool to_fp8 = op.out_fmt == vpu::VpuFmt::kE4M3 || op.out_fmt == vpu::VpuFmt::kE5M2;
  const bool check =
      rtl_ && to_fp8 && (op.func == vpu::VpuFn::kConvert || op.func == vpu::VpuFn::kMxQuant);
  std::vector<std::uint32_t> in;
  if (check) {
    in.resize(op.rows * op.cols);
    for (std::uint64_t r = 0; r < op.rows; ++r) {
      for (std::uint64_t c = 0; c < op.cols; ++c) {
        std::uint32_t b = 0;
        if (op.x_elem == vpu::VpuElem::kBf16) {
          std::uint16_t h = 0;
          std::memcpy(&h, x.p + r * x.stride + 2 * c, 2);
          b = std::uint32_t{h} << 16;  // BF16 widens exactly
        } else {
          std::memcpy(&b, x.p + r * x.stride + 4 * c, 4);
        }
        in[r * op.cols + c] = b;
      }
    }
  }
  vpu::execute(op, vpu::View{x.p, x.stride}, vpu::View{y.p, y.stride}, vpu::View{z.p, z.stride});
  if (check) {
    const num::Fp8Format f =
        op.out_fmt == vpu::VpuFmt::kE4M3 ? num::Fp8Format::kE4M3 : num::Fp8Format::kE5M2;
    const num::SatMode sat = op.nonsat ? num::SatMode::kNonSat : num::SatMode::kSatFinite;
    try {
      for (std::uint64_t r = 0; r < op.rows; ++r) {
        const auto row_in = std::span(in).subspan(r * op.cols, op.cols);
        const std::span<const std::uint8_t> codes(z.p + r * z.stride, op.cols);
        if (op.func == vpu::VpuFn::kMxQuant) {
          rtl_->mx_quant(f, op.block, row_in, codes,
                         std::span<const std::uint8_t>(y.p + r * y.stride, op.cols / op.block), r);
        } else {
          rtl_->convert(f, sat, row_in, codes, r);
        }
      }
    } catch (const Error& e) {
      throw EngineError{regs::Fault::kRtlMismatch, e.what()};
    }
  }
  const std::uint64_t rows = op.rows, cols = op.cols;
  const bool two_inputs = l.two_inputs, row_reduce = l.row_reduce, col_reduce = l.col_reduce;
  const std::uint32_t out_bytes = l.out_bytes;
  elements_ += rows * cols;

  // Timing (docs/VPU.md): per row, groups of `lanes` elements; each group costs the worst bank
  // cycles of its accesses (accumulators have a full-width port: 1 cycle), times the cycles per
  // group of the function's unit. A streamed Y (BCAST NONE) counts like X; broadcast operands
  // and ONLINE_SOFTMAX's per-row state sit in the unit's broadcast registers (no VMEM cycles).
  const VpuConfig& c = state_.cfg.vpu;
  const vpu::Unit unit = vpu::unit(op.func);
  std::uint64_t per_group = 1;
  switch (unit) {
    case vpu::Unit::kSimple:
      break;
    case vpu::Unit::kExp:
      per_group = c.exp_cycles;
      break;
    case vpu::Unit::kDiv:
      per_group = c.div_cycles;
      break;
    case vpu::Unit::kActivation:
      per_group = c.activation_cycles;
      break;
    case vpu::Unit::kGeluErf:
      per_group = c.gelu_erf_cycles;
      break;
    case vpu::Unit::kOnlineSoftmax:
      per_group = 1 + std::uint64_t{c.exp_cycles};  // a max pass, then an exp-and-sum pass
      break;
  }
  const auto group_cycles = [&](const Operand& o, std::uint64_t r, std::uint64_t c0,
                                std::uint64_t n, std::uint32_t eb) -> std::uint64_t {
    if (o.p == nullptr || o.at.kind != SpaceKind::kVmem) return 1;
    const std::uint64_t off = o.at.offset + r * o.stride + c0 * eb;
    return state_.vmem.access_cycles(std::span(&off, 1), static_cast<std::uint32_t>(n * eb));
  };
  std::uint64_t cycles = c.latency_cycles;
  for (std::uint64_t r = 0; r < rows; ++r) {
    for (std::uint64_t c0 = 0; c0 < cols; c0 += c.lanes) {
      const std::uint64_t n = std::min<std::uint64_t>(c.lanes, cols - c0);
      std::uint64_t g = group_cycles(x, r, c0, n, l.in_bytes);
      if (two_inputs) g = std::max(g, group_cycles(y, r, c0, n, l.y_bytes));
      if (!row_reduce && !col_reduce) g = std::max(g, group_cycles(z, r, c0, n, out_bytes));
      cycles += g * per_group;
    }
  }
  if (row_reduce || col_reduce) cycles += c.reduce_latency_cycles;
  if (unit == vpu::Unit::kOnlineSoftmax) cycles += 2 * std::uint64_t{c.reduce_latency_cycles};
  stats_.busy_cycles += cycles;
  return Timing{now + cycles, now + cycles};
}

}  // namespace mxemu::chip
