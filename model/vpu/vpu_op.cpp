#include "model/vpu/vpu_op.h"

#include <fmt/format.h>

#include <bit>
#include <cstring>
#include <limits>
#include <vector>

#include "model/numerics/fp8.h"
#include "model/numerics/mx.h"
#include "model/vpu/vpu_core.h"

namespace mxemu::vpu {

namespace regs = chip::regs;
using chip::EngineError;

namespace {

// The functions whose Y is a second input that may broadcast.
bool is_binary(VpuFn f) {
  return f == VpuFn::kAdd || f == VpuFn::kSub || f == VpuFn::kMul || f == VpuFn::kMax ||
         f == VpuFn::kDiv;
}

// The BF16 functions with fixed operand formats (BF16 in; FP32 or BF16 out).
bool is_fixed_bf16(VpuFn f) {
  return f == VpuFn::kWidenBf16 || f == VpuFn::kAddBf16 || f == VpuFn::kMaxBf16;
}

constexpr const char* kBcastNames[] = {"NONE", "ROW", "COL", "SCALAR"};

std::uint32_t elem_bytes(VpuElem e) {
  return e == VpuElem::kBf16 ? 2 : 4;
}

[[noreturn]] void bad(std::string message) {
  throw EngineError{regs::Fault::kBadField, std::move(message)};
}

}  // namespace

Unit unit(VpuFn fn) {
  switch (fn) {
    case VpuFn::kExp:
      return Unit::kExp;
    case VpuFn::kRecip:
    case VpuFn::kDiv:
    case VpuFn::kRsqrt:
      return Unit::kDiv;
    case VpuFn::kTanh:
    case VpuFn::kSigmoid:
    case VpuFn::kSilu:
    case VpuFn::kGeluTanh:
      return Unit::kActivation;
    case VpuFn::kGeluErf:
      return Unit::kGeluErf;
    case VpuFn::kOnlineSoftmax:
      return Unit::kOnlineSoftmax;
    default:
      return Unit::kSimple;
  }
}

std::string fn_name(std::uint32_t fn) {
  static constexpr const char* kNames[] = {
      "?",        "ADD",     "MUL",     "SCALE",          "MAX",        "RELU",
      "ROW_SUM",  "ROW_MAX", "COL_SUM", "COL_MAX",        "EXP",        "CONVERT",
      "MX_QUANT", "ADD_ROW", "COPY",    "WIDEN_BF16",     "ADD_BF16",   "MAX_BF16",
      "RECIP",    "DIV",     "RSQRT",   "TANH",           "GELU_TANH",  "GELU_ERF",
      "SIGMOID",  "SILU",    "SUB",     "ONLINE_SOFTMAX", "CAUSAL_MASK"};
  return fn >= 1 && fn < std::size(kNames) ? kNames[fn] : fmt::format("fn{}", fn);
}

Op decode(std::span<const std::uint32_t> desc) {
  namespace f = regs::vpu_op;
  if (desc.size() < regs::kDescWords) bad("VPU descriptor shorter than 16 words");
  const std::uint32_t* d = desc.data();
  const std::uint32_t opcode = regs::hdr::kOpcode.get(d);
  if (opcode != regs::kOpVpuOp) {
    throw EngineError{regs::Fault::kBadOpcode, fmt::format("unknown VPU opcode {}", opcode)};
  }
  Op op;
  const std::uint32_t fn = f::kFunc.get(d);
  if (fn < 1 || fn > static_cast<std::uint32_t>(VpuFn::kCausalMask)) {
    bad(fmt::format("unknown VPU function {}", fn));
  }
  op.func = static_cast<VpuFn>(fn);
  const std::string name = fn_name(fn);
  op.rows = f::kRows.get(d);
  op.cols = f::kCols.get(d);
  if (op.rows == 0 || op.cols == 0) {
    bad(fmt::format("{}: empty region {}x{}", name, op.rows, op.cols));
  }
  const std::uint32_t out_fmt = f::kOutFmt.get(d);
  op.out_fmt = static_cast<VpuFmt>(out_fmt);
  if (op.func == VpuFn::kConvert && out_fmt > static_cast<std::uint32_t>(VpuFmt::kFp32)) {
    bad(fmt::format("CONVERT: unknown OUT_FMT {}", out_fmt));
  }
  op.block = f::kBlock.get(d);
  if (op.func == VpuFn::kMxQuant) {
    if (op.out_fmt != VpuFmt::kE4M3 && op.out_fmt != VpuFmt::kE5M2) {
      bad("MX_QUANT: OUT_FMT must be E4M3 or E5M2");
    }
    if (op.block == 0 || op.cols % op.block != 0) {
      bad(fmt::format("MX_QUANT: COLS {} is not a multiple of BLOCK {}", op.cols, op.block));
    }
  }
  op.nonsat = f::kSat.get(d) != 0;
  op.imm = std::bit_cast<float>(f::kImm.get(d));
  op.diagonal = std::bit_cast<std::int32_t>(f::kImm.get(d));

  // Word 14: broadcast mode and element formats; the bits above them are reserved.
  const std::uint32_t w14 = d[f::kBcast.word];
  const std::uint32_t used_bits = (1u << (f::kZFmt.lsb + f::kZFmt.width)) - 1u;
  if ((w14 & ~used_bits) != 0) {
    bad(fmt::format("{}: reserved bits 0x{:X} of word 14 are set", name, w14 & ~used_bits));
  }
  const std::uint32_t bcast = f::kBcast.get(d);
  if (bcast > static_cast<std::uint32_t>(VpuBcast::kScalar)) {
    bad(fmt::format("{}: unknown BCAST {} (0 NONE, 1 ROW, 2 COL, 3 SCALAR)", name, bcast));
  }
  op.bcast = static_cast<VpuBcast>(bcast);
  if (op.bcast != VpuBcast::kNone && !is_binary(op.func)) {
    bad(fmt::format("{}: BCAST {} needs a binary function (ADD, SUB, MUL, MAX, DIV)", name,
                    kBcastNames[bcast]));
  }
  const auto elem = [&](const regs::Field& field, const char* field_name) {
    const std::uint32_t v = field.get(d);
    if (v > static_cast<std::uint32_t>(VpuElem::kBf16)) {
      bad(fmt::format("{}: unknown {} {} (0 FP32, 1 BF16)", name, field_name, v));
    }
    return static_cast<VpuElem>(v);
  };
  op.x_elem = elem(f::kXFmt, "X_FMT");
  op.y_elem = elem(f::kYFmt, "Y_FMT");
  op.z_elem = elem(f::kZFmt, "Z_FMT");
  if (is_fixed_bf16(op.func)) {
    if (op.x_elem != VpuElem::kFp32 || op.y_elem != VpuElem::kFp32 || op.z_elem != VpuElem::kFp32) {
      bad(fmt::format("{}: X_FMT, Y_FMT and Z_FMT must be 0 (the function fixes its formats)",
                      name));
    }
    op.x_elem = op.y_elem = VpuElem::kBf16;
    op.z_elem = op.func == VpuFn::kWidenBf16 ? VpuElem::kFp32 : VpuElem::kBf16;
  } else if (op.y_elem == VpuElem::kBf16 && !is_binary(op.func) && op.func != VpuFn::kAddRow) {
    bad(
        fmt::format("{}: Y_FMT BF16, but {} reads no Y input (Y_FMT is for ADD, SUB, MUL, MAX, "
                    "DIV and ADD_ROW)",
                    name, name));
  }
  if (op.z_elem == VpuElem::kBf16 && op.func == VpuFn::kConvert) {
    bad("CONVERT: Z_FMT must be FP32 (0): OUT_FMT sets the output format");
  }
  if (op.z_elem == VpuElem::kBf16 && op.func == VpuFn::kMxQuant) {
    bad("MX_QUANT: Z_FMT must be FP32 (0): Z holds the FP8 codes");
  }
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
  l.in_bytes = elem_bytes(op.x_elem);
  l.y_bytes = elem_bytes(op.y_elem);
  l.row_reduce = func == VpuFn::kRowSum || func == VpuFn::kRowMax;
  l.col_reduce = func == VpuFn::kColSum || func == VpuFn::kColMax;
  if (func == VpuFn::kConvert) {
    l.out_bytes = op.out_fmt == VpuFmt::kBf16 ? 2 : op.out_fmt == VpuFmt::kFp32 ? 4 : 1;
  } else if (func == VpuFn::kMxQuant) {
    l.out_bytes = 1;
  } else {
    l.out_bytes = elem_bytes(op.z_elem);
  }
  const auto shape = [&](std::uint64_t addr, std::uint64_t stride, std::uint64_t rows,
                         std::uint64_t row_bytes, const char* what) {
    if (rows > 1 && stride < row_bytes) {
      bad(fmt::format("{}: {} stride {} < row bytes {}", fn_name(static_cast<std::uint32_t>(func)),
                      what, stride, row_bytes));
    }
    return OperandShape{true, addr, rows, row_bytes, stride, what};
  };
  const std::uint64_t rows = op.rows, cols = op.cols;
  l.x = shape(op.x_addr, op.x_stride, rows, cols * l.in_bytes, "input X");
  const bool binary = is_binary(func) || func == VpuFn::kAddBf16 || func == VpuFn::kMaxBf16;
  if (binary) {
    switch (op.bcast) {
      case VpuBcast::kNone:
        l.two_inputs = true;
        l.y = shape(op.y_addr, op.y_stride, rows, cols * l.y_bytes, "input Y");
        break;
      case VpuBcast::kRow:
        l.y = shape(op.y_addr, op.y_stride, 1, cols * l.y_bytes, "row vector Y");
        break;
      case VpuBcast::kCol:
        l.y = shape(op.y_addr, op.y_stride, rows, l.y_bytes, "column vector Y");
        break;
      case VpuBcast::kScalar:
        l.y = shape(op.y_addr, op.y_stride, 1, l.y_bytes, "scalar Y");
        break;
    }
  }
  if (func == VpuFn::kAddRow) l.y = shape(op.y_addr, op.y_stride, 1, cols * l.y_bytes, "bias Y");
  if (func == VpuFn::kMxQuant) {
    l.y = shape(op.y_addr, op.y_stride, rows, cols / op.block, "scales Y");
  }
  if (func == VpuFn::kOnlineSoftmax) {
    l.y = shape(op.y_addr, op.y_stride, rows, 12, "state Y (m, s, alpha)");
  }
  if (l.row_reduce) {
    l.z = shape(op.z_addr, op.z_stride, rows, l.out_bytes, "output Z");
  } else if (l.col_reduce) {
    l.z = shape(op.z_addr, op.z_stride, 1, cols * l.out_bytes, "output Z");
  } else {
    l.z = shape(op.z_addr, op.z_stride, rows, cols * l.out_bytes, "output Z");
  }
  return l;
}

namespace {

// Element c of row r of an operand in format e (BF16 widens exactly).
float load(const View& v, std::uint64_t r, std::uint64_t c, VpuElem e) {
  const std::uint8_t* p = v.p + r * v.stride;
  if (e == VpuElem::kBf16) {
    std::uint16_t b;
    std::memcpy(&b, p + 2 * c, 2);
    return from_bf16(b);
  }
  float f;
  std::memcpy(&f, p + 4 * c, 4);
  return f;
}

void load_row(const View& v, std::uint64_t r, VpuElem e, std::vector<float>& out) {
  for (std::uint64_t c = 0; c < out.size(); ++c) out[c] = load(v, r, c, e);
}

// Stores element c of row r in format e (BF16: round to nearest even).
void store(const View& v, std::uint64_t r, std::uint64_t c, VpuElem e, float f) {
  std::uint8_t* p = v.p + r * v.stride;
  if (e == VpuElem::kBf16) {
    const std::uint16_t b = to_bf16(f);
    std::memcpy(p + 2 * c, &b, 2);
  } else {
    std::memcpy(p + 4 * c, &f, 4);
  }
}

// The elementwise functions of one input (imm: SCALE's factor, RSQRT's epsilon).
float unary(VpuFn fn, float x, float imm) {
  switch (fn) {
    case VpuFn::kScale:
      return canonical(x * imm);
    case VpuFn::kRelu:
      return max_nan(x, 0.0F);
    case VpuFn::kExp:
      return exp_f32(x);
    case VpuFn::kRecip:
      return canonical(1.0F / x);
    case VpuFn::kRsqrt:
      return rsqrt_f32(x, imm);
    case VpuFn::kTanh:
      return tanh_f32(x);
    case VpuFn::kGeluTanh:
      return gelu_tanh_f32(x);
    case VpuFn::kGeluErf:
      return gelu_erf_f32(x);
    case VpuFn::kSigmoid:
      return sigmoid_f32(x);
    case VpuFn::kSilu:
      return silu_f32(x);
    default:  // COPY, WIDEN_BF16: the value itself (NaN payloads included)
      return x;
  }
}

// The elementwise functions of two inputs (ADD_ROW and the BF16 functions included).
float binary(VpuFn fn, float x, float y) {
  switch (fn) {
    case VpuFn::kAdd:
    case VpuFn::kAddRow:
    case VpuFn::kAddBf16:
      return canonical(x + y);
    case VpuFn::kSub:
      return canonical(x - y);
    case VpuFn::kMul:
      return canonical(x * y);
    case VpuFn::kDiv:
      return canonical(x / y);
    default:  // MAX, MAX_BF16
      return max_nan(x, y);
  }
}

}  // namespace

void execute(const Op& op, View x, View y, View z) {
  const VpuFn func = op.func;
  const std::uint64_t rows = op.rows, cols = op.cols;
  const VpuElem xe = op.x_elem, ye = op.y_elem, ze = op.z_elem;
  std::vector<float> row(cols), yrow(cols), out(cols);

  if (func == VpuFn::kColSum || func == VpuFn::kColMax) {
    std::vector<float> acc(cols);
    load_row(x, 0, xe, acc);
    for (std::uint64_t r = 1; r < rows; ++r) {
      load_row(x, r, xe, row);
      for (std::uint64_t c = 0; c < cols; ++c) {
        acc[c] = func == VpuFn::kColSum ? acc[c] + row[c] : max_nan(acc[c], row[c]);
      }
    }
    for (std::uint64_t c = 0; c < cols; ++c) store(z, 0, c, ze, canonical(acc[c]));
    return;
  }

  const bool two = is_binary(func) || func == VpuFn::kAddRow || func == VpuFn::kAddBf16 ||
                   func == VpuFn::kMaxBf16;
  // Broadcast operands are read once, before the first row is written.
  const bool row_vector = func == VpuFn::kAddRow || op.bcast == VpuBcast::kRow;
  if (two && row_vector) load_row(y, 0, ye, yrow);
  const float scalar = two && op.bcast == VpuBcast::kScalar ? load(y, 0, 0, ye) : 0.0F;
  const num::SatMode sat = op.nonsat ? num::SatMode::kNonSat : num::SatMode::kSatFinite;

  for (std::uint64_t r = 0; r < rows; ++r) {
    load_row(x, r, xe, row);
    switch (func) {
      case VpuFn::kRowSum:
        store(z, r, 0, ze, canonical(sum_ordered(row)));
        break;
      case VpuFn::kRowMax: {
        float m = row[0];
        for (std::uint64_t c = 1; c < cols; ++c) m = max_nan(m, row[c]);
        store(z, r, 0, ze, m);
        break;
      }
      case VpuFn::kConvert: {
        std::uint8_t* o = z.p + r * z.stride;
        for (std::uint64_t c = 0; c < cols; ++c) {
          if (op.out_fmt == VpuFmt::kBf16) {
            const std::uint16_t b = to_bf16(row[c]);
            std::memcpy(o + 2 * c, &b, 2);
          } else if (op.out_fmt == VpuFmt::kFp32) {
            std::memcpy(o + 4 * c, &row[c], 4);
          } else {
            o[c] = num::encode(
                op.out_fmt == VpuFmt::kE4M3 ? num::Fp8Format::kE4M3 : num::Fp8Format::kE5M2, row[c],
                sat);
          }
        }
        break;
      }
      case VpuFn::kMxQuant: {
        const num::Fp8Format ef =
            op.out_fmt == VpuFmt::kE4M3 ? num::Fp8Format::kE4M3 : num::Fp8Format::kE5M2;
        std::vector<std::uint8_t> codes(cols), scales(cols / op.block);
        num::mx_quantize(row, 1, cols, static_cast<int>(op.block), ef, num::MxScaleMode::kFloor,
                         codes, scales);
        std::memcpy(z.p + r * z.stride, codes.data(), cols);
        std::memcpy(y.p + r * y.stride, scales.data(), cols / op.block);
        break;
      }
      case VpuFn::kCausalMask: {
        // Kept where c <= r + k (k may be negative; r + k in 64 bits cannot wrap).
        const std::int64_t last = static_cast<std::int64_t>(r) + op.diagonal;
        for (std::uint64_t c = 0; c < cols; ++c) {
          const bool masked = static_cast<std::int64_t>(c) > last;
          store(z, r, c, ze, masked ? -std::numeric_limits<float>::infinity() : row[c]);
        }
        break;
      }
      case VpuFn::kOnlineSoftmax: {
        const float m = load(y, r, 0, VpuElem::kFp32), s = load(y, r, 1, VpuElem::kFp32);
        const SoftmaxState st = online_softmax_row(row, m, s, out);
        for (std::uint64_t c = 0; c < cols; ++c) store(z, r, c, ze, out[c]);
        store(y, r, 0, VpuElem::kFp32, st.m);
        store(y, r, 1, VpuElem::kFp32, st.s);
        store(y, r, 2, VpuElem::kFp32, st.alpha);
        break;
      }
      default:
        if (two) {
          if (op.bcast == VpuBcast::kNone && !row_vector) load_row(y, r, ye, yrow);
          const float ycol = op.bcast == VpuBcast::kCol ? load(y, r, 0, ye) : scalar;
          const bool per_element = op.bcast == VpuBcast::kNone || op.bcast == VpuBcast::kRow;
          for (std::uint64_t c = 0; c < cols; ++c) {
            out[c] = binary(func, row[c], per_element ? yrow[c] : ycol);
          }
        } else {
          for (std::uint64_t c = 0; c < cols; ++c) out[c] = unary(func, row[c], op.imm);
        }
        for (std::uint64_t c = 0; c < cols; ++c) store(z, r, c, ze, out[c]);
        break;
    }
  }
}

}  // namespace mxemu::vpu
