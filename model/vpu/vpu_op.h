// The vector unit's operations as plain C++ (no SystemC): decoding a VPU_OP descriptor, what each
// function reads and writes (operand shapes, for the shell to resolve into memory), and the
// semantics over host views of those operands. The engine shell (model/chip/vpu_engine) resolves
// addresses, calls execute() and adds the timing. docs/VPU.md tables the functions.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "model/chip/engine_error.h"
#include "model/chip/regs.h"

namespace mxemu::vpu {

using chip::regs::VpuBcast;
using chip::regs::VpuElem;
using chip::regs::VpuFmt;
using chip::regs::VpuFn;

// A decoded VPU_OP (tools/regmap: VPU_OP fields).
struct Op {
  VpuFn func = VpuFn::kCopy;
  VpuFmt out_fmt = VpuFmt::kFp32;
  bool nonsat = false;      // conversions: nonsat instead of satfinite
  std::uint32_t block = 0;  // MX_QUANT block along a row
  std::uint64_t rows = 0, cols = 0;
  float imm = 0.0F;
  std::int32_t diagonal = 0;  // CAUSAL_MASK: the IMM word as a signed integer
  std::uint64_t x_addr = 0, y_addr = 0, z_addr = 0;  // descriptor space addresses
  std::uint64_t x_stride = 0, y_stride = 0, z_stride = 0;
  VpuBcast bcast = VpuBcast::kNone;  // shape of Y for the binary functions
  // Element formats of X, Y and Z as the datapath sees them (the BF16 functions WIDEN_BF16,
  // ADD_BF16 and MAX_BF16 fix theirs; their descriptors leave X_FMT, Y_FMT, Z_FMT at 0).
  VpuElem x_elem = VpuElem::kFp32, y_elem = VpuElem::kFp32, z_elem = VpuElem::kFp32;
};

// One operand: `rows` rows of `row_bytes` bytes, `stride` apart (used = false: not read/written).
struct OperandShape {
  bool used = false;
  std::uint64_t addr = 0;
  std::uint64_t rows = 0;
  std::uint64_t row_bytes = 0;
  std::uint64_t stride = 0;
  const char* what = "";
};

// What an operation touches: inputs X (and Y), output Z (MX_QUANT also writes scales to Y,
// ONLINE_SOFTMAX reads and writes its running state in Y).
struct Layout {
  OperandShape x, y, z;
  std::uint32_t in_bytes = 4;   // bytes per element of X
  std::uint32_t y_bytes = 4;    // bytes per element of Y (inputs)
  std::uint32_t out_bytes = 4;  // bytes per element of Z
  bool two_inputs = false;      // Y is streamed elementwise like X (BCAST NONE)
  bool row_reduce = false, col_reduce = false;
};

// The iterative unit a function uses (the engine's cycles per lane group come from it).
enum class Unit { kSimple, kExp, kDiv, kActivation, kGeluErf, kOnlineSoftmax };
Unit unit(VpuFn fn);

// The function's name ("ADD", "EXP", ...; "fnN" for an unknown one).
std::string fn_name(std::uint32_t fn);

// Decodes the descriptor words. Throws chip::EngineError (kBadOpcode / kBadField) naming the
// field for an unknown opcode, function, format or broadcast mode, a broadcast or format the
// function does not take, reserved bits, an empty region, a bad MX block.
Op decode(std::span<const std::uint32_t> desc);

// The operands of `op`; throws chip::EngineError when a stride is shorter than its row.
Layout layout(const Op& op);

// A host view of an operand: row r starts at p + r * stride.
struct View {
  std::uint8_t* p = nullptr;
  std::uint64_t stride = 0;
};

// Performs the operation, row by row: all of row r's inputs are read before row r's outputs are
// written (column reductions read every row first), so in-place operations are well defined
// when Z's row r overlaps only input rows <= r (Z == X, or a narrowing store over its own input).
void execute(const Op& op, View x, View y, View z);

}  // namespace mxemu::vpu
