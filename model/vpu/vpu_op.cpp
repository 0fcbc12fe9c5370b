#include "model/vpu/vpu_op.h"

#include <fmt/format.h>

#include <bit>
#include <cstring>
#include <vector>

#include "model/numerics/fp8.h"
#include "model/numerics/mx.h"
#include "model/vpu/vpu_core.h"

namespace mxemu::vpu {

namespace regs = chip::regs;
using chip::EngineError;

std::string fn_name(std::uint32_t fn) {
  static constexpr const char* kNames[] = {
      "?",        "ADD",     "MUL",     "SCALE",      "MAX",      "RELU",
      "ROW_SUM",  "ROW_MAX", "COL_SUM", "COL_MAX",    "EXP",      "CONVERT",
      "MX_QUANT", "ADD_ROW", "COPY",    "WIDEN_BF16", "ADD_BF16", "MAX_BF16"};
  return fn >= 1 && fn < std::size(kNames) ? kNames[fn] : fmt::format("fn{}", fn);
}

Op decode(std::span<const std::uint32_t> desc) {
  namespace f = regs::vpu_op;
  if (desc.size() < regs::kDescWords) {
    throw EngineError{regs::Fault::kBadField, "VPU descriptor shorter than 16 words"};
  }
  const std::uint32_t* d = desc.data();
  const std::uint32_t opcode = regs::hdr::kOpcode.get(d);
  if (opcode != regs::kOpVpuOp) {
    throw EngineError{regs::Fault::kBadOpcode, fmt::format("unknown VPU opcode {}", opcode)};
  }
  Op op;
  const std::uint32_t fn = f::kFunc.get(d);
  if (fn < 1 || fn > static_cast<std::uint32_t>(VpuFn::kMaxBf16)) {
    throw EngineError{regs::Fault::kBadField, fmt::format("unknown VPU function {}", fn)};
  }
  op.func = static_cast<VpuFn>(fn);
  op.rows = f::kRows.get(d);
  op.cols = f::kCols.get(d);
  if (op.rows == 0 || op.cols == 0) {
    throw EngineError{regs::Fault::kBadField,
                      fmt::format("{}: empty region {}x{}", fn_name(fn), op.rows, op.cols)};
  }
  const std::uint32_t out_fmt = f::kOutFmt.get(d);
  op.out_fmt = static_cast<VpuFmt>(out_fmt);
  if (op.func == VpuFn::kConvert && out_fmt > static_cast<std::uint32_t>(VpuFmt::kFp32)) {
    throw EngineError{regs::Fault::kBadField, fmt::format("CONVERT: unknown OUT_FMT {}", out_fmt)};
  }
  op.block = f::kBlock.get(d);
  if (op.func == VpuFn::kMxQuant) {
    if (op.out_fmt != VpuFmt::kE4M3 && op.out_fmt != VpuFmt::kE5M2) {
      throw EngineError{regs::Fault::kBadField, "MX_QUANT: OUT_FMT must be E4M3 or E5M2"};
    }
    if (op.block == 0 || op.cols % op.block != 0) {
      throw EngineError{
          regs::Fault::kBadField,
          fmt::format("MX_QUANT: COLS {} is not a multiple of BLOCK {}", op.cols, op.block)};
    }
  }
  op.nonsat = f::kSat.get(d) != 0;
  op.imm = std::bit_cast<float>(f::kImm.get(d));
  const auto addr = [&](const regs::Field& lo, const regs::Field& hi) {
    return (std::uint64_t{hi.get(d)} << 32) | lo.get(d);
  };
  op.x_addr = addr(f::kXLo, f::kXHi);
  op.y_addr = addr(f::kYLo, f::kYHi);
  op.z_addr = addr(f::kZLo, f::kZHi);
  op.x_stride = f::kXStride.get(d);
  op.y_stride = f::kYStride.get(d);
  op.z_stride = f::kZStride.get(d);
  return op;
}

Layout layout(const Op& op) {
  Layout l;
  const VpuFn func = op.func;
  l.two_inputs = func == VpuFn::kAdd || func == VpuFn::kMul || func == VpuFn::kMax ||
                 func == VpuFn::kAddBf16 || func == VpuFn::kMaxBf16;
  const bool bf16_in =
      func == VpuFn::kWidenBf16 || func == VpuFn::kAddBf16 || func == VpuFn::kMaxBf16;
  l.in_bytes = bf16_in ? 2 : 4;
  l.row_reduce = func == VpuFn::kRowSum || func == VpuFn::kRowMax;
  l.col_reduce = func == VpuFn::kColSum || func == VpuFn::kColMax;
  if (func == VpuFn::kConvert) {
    l.out_bytes = op.out_fmt == VpuFmt::kBf16 ? 2 : op.out_fmt == VpuFmt::kFp32 ? 4 : 1;
  } else if (func == VpuFn::kMxQuant) {
    l.out_bytes = 1;
  } else if (func == VpuFn::kAddBf16 || func == VpuFn::kMaxBf16) {
    l.out_bytes = 2;
  }
  const auto shape = [&](std::uint64_t addr, std::uint64_t stride, std::uint64_t rows,
                         std::uint64_t row_bytes, const char* what) {
    if (rows > 1 && stride < row_bytes) {
      throw EngineError{
          regs::Fault::kBadField,
          fmt::format("{}: {} stride {} < row bytes {}", fn_name(static_cast<std::uint32_t>(func)),
                      what, stride, row_bytes)};
    }
    return OperandShape{true, addr, rows, row_bytes, stride, what};
  };
  const std::uint64_t rows = op.rows, cols = op.cols;
  l.x = shape(op.x_addr, op.x_stride, rows, cols * l.in_bytes, "input X");
  if (l.two_inputs) l.y = shape(op.y_addr, op.y_stride, rows, cols * l.in_bytes, "input Y");
  if (func == VpuFn::kAddRow) l.y = shape(op.y_addr, op.y_stride, 1, cols * 4, "bias Y");
  if (func == VpuFn::kMxQuant) {
    l.y = shape(op.y_addr, op.y_stride, rows, cols / op.block, "scales Y");
  }
  if (l.row_reduce) {
    l.z = shape(op.z_addr, op.z_stride, rows, 4, "output Z");
  } else if (l.col_reduce) {
    l.z = shape(op.z_addr, op.z_stride, 1, cols * 4, "output Z");
  } else {
    l.z = shape(op.z_addr, op.z_stride, rows, cols * l.out_bytes, "output Z");
  }
  return l;
}

void execute(const Op& op, View x, View y, View z) {
  const VpuFn func = op.func;
  const VpuFmt out_fmt = op.out_fmt;
  const std::uint64_t rows = op.rows, cols = op.cols;
  const std::uint32_t block = op.block;
  const bool col_reduce = func == VpuFn::kColSum || func == VpuFn::kColMax;
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
  const float imm = op.imm;
  const num::SatMode sat = op.nonsat ? num::SatMode::kNonSat : num::SatMode::kSatFinite;
  // Reads all inputs before writing, so in-place operations (Z == X) are well defined.
  std::vector<float> row(cols);
  // BF16 operands: 2-byte bit patterns, widened exactly (the upper half of an FP32).
  const auto bf16_at = [](const View& v, std::uint64_t r, std::uint64_t c) {
    std::uint16_t b;
    std::memcpy(&b, v.p + r * v.stride + c * 2, 2);
    return std::bit_cast<float>(std::uint32_t{b} << 16);
  };
  const auto put_bf16 = [&](std::uint64_t r, std::uint64_t c, float v) {
    const std::uint16_t b = to_bf16(v);
    std::memcpy(z.p + r * z.stride + c * 2, &b, 2);
  };
  if (func == VpuFn::kWidenBf16 || func == VpuFn::kAddBf16 || func == VpuFn::kMaxBf16) {
    for (std::uint64_t r = 0; r < rows; ++r) {
      for (std::uint64_t c = 0; c < cols; ++c) row[c] = bf16_at(x, r, c);
      for (std::uint64_t c = 0; c < cols; ++c) {
        if (func == VpuFn::kWidenBf16) {
          put(r, c, row[c]);
        } else if (func == VpuFn::kAddBf16) {
          put_bf16(r, c, row[c] + bf16_at(y, r, c));
        } else {
          put_bf16(r, c, max_nan(row[c], bf16_at(y, r, c)));
        }
      }
    }
    return;
  }
  if (col_reduce) {
    std::vector<float> accv(cols);
    for (std::uint64_t c = 0; c < cols; ++c) accv[c] = xf(0, c);
    for (std::uint64_t r = 1; r < rows; ++r) {
      for (std::uint64_t c = 0; c < cols; ++c)
        accv[c] = func == VpuFn::kColSum ? accv[c] + xf(r, c) : max_nan(accv[c], xf(r, c));
    }
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
          for (std::uint64_t c = 0; c < cols; ++c) put(r, c, max_nan(row[c], yf(r, c)));
          break;
        case VpuFn::kScale:
          for (std::uint64_t c = 0; c < cols; ++c) put(r, c, row[c] * imm);
          break;
        case VpuFn::kRelu:
          for (std::uint64_t c = 0; c < cols; ++c) put(r, c, max_nan(row[c], 0.0F));
          break;
        case VpuFn::kAddRow:
          for (std::uint64_t c = 0; c < cols; ++c) put(r, c, row[c] + yf(0, c));
          break;
        case VpuFn::kExp:
          for (std::uint64_t c = 0; c < cols; ++c) put(r, c, exp_f32(row[c]));
          break;
        case VpuFn::kCopy:
          for (std::uint64_t c = 0; c < cols; ++c) put(r, c, row[c]);
          break;
        case VpuFn::kRowSum:
          put(r, 0, sum_ordered(row));
          break;
        case VpuFn::kRowMax: {
          float m = row[0];
          for (std::uint64_t c = 1; c < cols; ++c) m = max_nan(m, row[c]);
          put(r, 0, m);
          break;
        }
        case VpuFn::kConvert: {
          std::uint8_t* out = z.p + r * z.stride;
          for (std::uint64_t c = 0; c < cols; ++c) {
            if (out_fmt == VpuFmt::kBf16) {
              const std::uint16_t b = to_bf16(row[c]);
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
}

}  // namespace mxemu::vpu
