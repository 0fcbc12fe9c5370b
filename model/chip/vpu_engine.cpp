#include "model/chip/vpu_engine.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "model/numerics/mx.h"
#include "model/vpu/vpu_core.h"

namespace mxemu::chip {

namespace {

using regs::VpuFmt;
using regs::VpuFn;

std::string fn_name(std::uint32_t fn) {
  static constexpr const char* kNames[] = {"?",    "ADD",     "MUL",      "SCALE",   "MAX",
                                           "RELU", "ROW_SUM", "ROW_MAX",  "COL_SUM", "COL_MAX",
                                           "EXP",  "CONVERT", "MX_QUANT", "ADD_ROW", "COPY"};
  return fn < std::size(kNames) ? kNames[fn] : fmt::format("fn{}", fn);
}

// A rows x cols operand: element (r, c) of `elem_bytes` at base + r * stride + c * elem_bytes.
struct Operand {
  SpaceAddr at;
  std::uint8_t* p = nullptr;
  std::uint64_t stride = 0;
};

}  // namespace

VpuEngine::VpuEngine(const sc_core::sc_module_name& name, ChipState& state)
    : Engine(name, state, regs::kQueueVpu, "VPU") {}

std::string VpuEngine::op_name(std::uint32_t opcode) const {
  return opcode == regs::kOpVpuOp ? "VPU_OP" : fmt::format("op{}", opcode);
}

Engine::Timing VpuEngine::execute(const Desc& d, std::uint64_t now) {
  namespace f = regs::vpu_op;
  const std::uint32_t opcode = regs::hdr::kOpcode.get(d.data());
  if (opcode != regs::kOpVpuOp) {
    throw EngineError{regs::Fault::kBadOpcode, fmt::format("unknown VPU opcode {}", opcode)};
  }
  const std::uint32_t fn = f::kFunc.get(d.data());
  const auto func = static_cast<VpuFn>(fn);
  const std::uint64_t rows = f::kRows.get(d.data()), cols = f::kCols.get(d.data());
  if (fn < 1 || fn > static_cast<std::uint32_t>(VpuFn::kCopy)) {
    throw EngineError{regs::Fault::kBadField, fmt::format("unknown VPU function {}", fn)};
  }
  if (rows == 0 || cols == 0) {
    throw EngineError{regs::Fault::kBadField,
                      fmt::format("{}: empty region {}x{}", fn_name(fn), rows, cols)};
  }
  const bool two_inputs = func == VpuFn::kAdd || func == VpuFn::kMul || func == VpuFn::kMax;
  const bool row_reduce = func == VpuFn::kRowSum || func == VpuFn::kRowMax;
  const bool col_reduce = func == VpuFn::kColSum || func == VpuFn::kColMax;
  const auto out_fmt = static_cast<VpuFmt>(f::kOutFmt.get(d.data()));
  std::uint32_t out_bytes = 4;
  if (func == VpuFn::kConvert) {
    switch (out_fmt) {
      case VpuFmt::kE4M3:
      case VpuFmt::kE5M2:
        out_bytes = 1;
        break;
      case VpuFmt::kBf16:
        out_bytes = 2;
        break;
      case VpuFmt::kFp32:
        out_bytes = 4;
        break;
      default:
        throw EngineError{regs::Fault::kBadField,
                          fmt::format("CONVERT: unknown OUT_FMT {}", f::kOutFmt.get(d.data()))};
    }
  }
  const std::uint32_t block = f::kBlock.get(d.data());
  if (func == VpuFn::kMxQuant) {
    if (out_fmt != VpuFmt::kE4M3 && out_fmt != VpuFmt::kE5M2) {
      throw EngineError{regs::Fault::kBadField, "MX_QUANT: OUT_FMT must be E4M3 or E5M2"};
    }
    if (block == 0 || cols % block != 0) {
      throw EngineError{
          regs::Fault::kBadField,
          fmt::format("MX_QUANT: COLS {} is not a multiple of BLOCK {}", cols, block)};
    }
    out_bytes = 1;
  }
  const auto operand = [&](const regs::Field& lo, const regs::Field& hi, const regs::Field& stride,
                           std::uint64_t r, std::uint64_t c_bytes, const char* what) {
    Operand o;
    const std::uint64_t addr = (std::uint64_t{hi.get(d.data())} << 32) | lo.get(d.data());
    o.stride = stride.get(d.data());
    if (r > 1 && o.stride < c_bytes) {
      throw EngineError{regs::Fault::kBadField, fmt::format("{}: {} stride {} < row bytes {}",
                                                            fn_name(fn), what, o.stride, c_bytes)};
    }
    o.at = state_.resolve(addr, (r - 1) * o.stride + c_bytes, what);
    if (o.at.kind == SpaceKind::kHbm) {
      throw EngineError{
          regs::Fault::kBadAddress,
          fmt::format("{}: VPU {} must be in VMEM or an accumulator", fn_name(fn), what)};
    }
    o.p = state_.on_chip(o.at);
    return o;
  };
  const Operand x = operand(f::kXLo, f::kXHi, f::kXStride, rows, cols * 4, "input X");
  Operand y, z;
  if (two_inputs) y = operand(f::kYLo, f::kYHi, f::kYStride, rows, cols * 4, "input Y");
  if (func == VpuFn::kAddRow) y = operand(f::kYLo, f::kYHi, f::kYStride, 1, cols * 4, "bias Y");
  if (func == VpuFn::kMxQuant)
    y = operand(f::kYLo, f::kYHi, f::kYStride, rows, cols / block, "scales Y");
  if (row_reduce) {
    z = operand(f::kZLo, f::kZHi, f::kZStride, rows, 4, "output Z");
  } else if (col_reduce) {
    z = operand(f::kZLo, f::kZHi, f::kZStride, 1, cols * 4, "output Z");
  } else {
    z = operand(f::kZLo, f::kZHi, f::kZStride, rows, cols * out_bytes, "output Z");
  }

  const auto xf = [&](std::uint64_t r, std::uint64_t c) {
    float v;
    std::memcpy(&v, x.p + r * x.stride + c * 4, 4);
    return v;
  };
  const auto yf = [&](std::uint64_t r, std::uint64_t c) {
    float v;
    std::memcpy(&v, y.p + r * y.stride + c * 4, 4);
    return v;
  };
  const auto put = [&](std::uint64_t r, std::uint64_t c, float v) {
    std::memcpy(z.p + r * z.stride + c * 4, &v, 4);
  };
  const float imm = std::bit_cast<float>(f::kImm.get(d.data()));
  const bool nonsat = f::kSat.get(d.data()) != 0;
  const num::SatMode sat = nonsat ? num::SatMode::kNonSat : num::SatMode::kSatFinite;
  // Reads all inputs before writing, so in-place operations (Z == X) are well defined.
  std::vector<float> row(cols);
  if (col_reduce) {
    std::vector<float> accv(cols);
    for (std::uint64_t c = 0; c < cols; ++c) accv[c] = xf(0, c);
    for (std::uint64_t r = 1; r < rows; ++r)
      for (std::uint64_t c = 0; c < cols; ++c)
        accv[c] = func == VpuFn::kColSum ? accv[c] + xf(r, c) : vpu::max_nan(accv[c], xf(r, c));
    for (std::uint64_t c = 0; c < cols; ++c) put(0, c, accv[c]);
  } else {
    for (std::uint64_t r = 0; r < rows; ++r) {
      for (std::uint64_t c = 0; c < cols; ++c) row[c] = xf(r, c);
      switch (func) {
        case VpuFn::kAdd:
          for (std::uint64_t c = 0; c < cols; ++c) put(r, c, row[c] + yf(r, c));
          break;
        case VpuFn::kMul:
          for (std::uint64_t c = 0; c < cols; ++c) put(r, c, row[c] * yf(r, c));
          break;
        case VpuFn::kMax:
          for (std::uint64_t c = 0; c < cols; ++c) put(r, c, vpu::max_nan(row[c], yf(r, c)));
          break;
        case VpuFn::kScale:
          for (std::uint64_t c = 0; c < cols; ++c) put(r, c, row[c] * imm);
          break;
        case VpuFn::kRelu:
          for (std::uint64_t c = 0; c < cols; ++c) put(r, c, vpu::max_nan(row[c], 0.0F));
          break;
        case VpuFn::kAddRow:
          for (std::uint64_t c = 0; c < cols; ++c) put(r, c, row[c] + yf(0, c));
          break;
        case VpuFn::kExp:
          for (std::uint64_t c = 0; c < cols; ++c) put(r, c, vpu::exp_f32(row[c]));
          break;
        case VpuFn::kCopy:
          for (std::uint64_t c = 0; c < cols; ++c) put(r, c, row[c]);
          break;
        case VpuFn::kRowSum:
          put(r, 0, vpu::sum_ordered(row));
          break;
        case VpuFn::kRowMax: {
          float m = row[0];
          for (std::uint64_t c = 1; c < cols; ++c) m = vpu::max_nan(m, row[c]);
          put(r, 0, m);
          break;
        }
        case VpuFn::kConvert: {
          std::uint8_t* out = z.p + r * z.stride;
          for (std::uint64_t c = 0; c < cols; ++c) {
            if (out_fmt == VpuFmt::kBf16) {
              const std::uint16_t b = vpu::to_bf16(row[c]);
              std::memcpy(out + 2 * c, &b, 2);
            } else if (out_fmt == VpuFmt::kFp32) {
              std::memcpy(out + 4 * c, &row[c], 4);
            } else {
              out[c] = num::encode(
                  out_fmt == VpuFmt::kE4M3 ? num::Fp8Format::kE4M3 : num::Fp8Format::kE5M2, row[c],
                  sat);
            }
          }
          break;
        }
        case VpuFn::kMxQuant: {
          const num::Fp8Format ef =
              out_fmt == VpuFmt::kE4M3 ? num::Fp8Format::kE4M3 : num::Fp8Format::kE5M2;
          std::vector<std::uint8_t> codes(cols), scales(cols / block);
          num::mx_quantize(row, 1, cols, static_cast<int>(block), ef, num::MxScaleMode::kFloor,
                           codes, scales);
          std::memcpy(z.p + r * z.stride, codes.data(), cols);
          std::memcpy(y.p + r * y.stride, scales.data(), cols / block);
          break;
        }
        default:
          break;
      }
    }
  }
  elements_ += rows * cols;

  // Timing: per row, groups of `lanes` elements; each group costs the worst bank cycles of its
  // accesses (accumulators have a full-width port: 1 cycle).
  const VpuConfig& c = state_.cfg.vpu;
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
      std::uint64_t g = group_cycles(x, r, c0, n, 4);
      if (two_inputs) g = std::max(g, group_cycles(y, r, c0, n, 4));
      if (!row_reduce && !col_reduce) g = std::max(g, group_cycles(z, r, c0, n, out_bytes));
      if (func == VpuFn::kExp) g *= c.exp_cycles;
      cycles += g;
    }
  }
  if (row_reduce || col_reduce) cycles += c.reduce_latency_cycles;
  stats_.busy_cycles += cycles;
  return Timing{now + cycles, now + cycles};
}

}  // namespace mxemu::chip
