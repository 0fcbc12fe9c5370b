// The vector unit's operations as plain C++ (no SystemC): decoding a VPU_OP descriptor, what each
// function reads and writes (operand shapes, for the shell to resolve into memory), and the
// semantics over host views of those operands. The engine shell (model/chip/vpu_engine) resolves
// addresses, calls execute() and adds the timing. docs/CHIP.md tables the functions.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "model/chip/engine_error.h"
#include "model/chip/regs.h"

namespace mxemu::vpu {

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
  std::uint64_t x_addr = 0, y_addr = 0, z_addr = 0;  // descriptor space addresses
  std::uint64_t x_stride = 0, y_stride = 0, z_stride = 0;
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

// What an operation touches: inputs X (and Y), output Z (MX_QUANT also writes scales to Y).
struct Layout {
  OperandShape x, y, z;
  std::uint32_t in_bytes = 4;   // bytes per input element of X (and Y): 2 for the BF16 functions
  std::uint32_t out_bytes = 4;  // bytes per output element of Z
  bool two_inputs = false;      // Y is read elementwise like X
  bool row_reduce = false, col_reduce = false;
};

// The function's name ("ADD", "EXP", ...; "fnN" for an unknown one).
std::string fn_name(std::uint32_t fn);

// Decodes the descriptor words. Throws chip::EngineError (kBadOpcode / kBadField) naming the
// field for an unknown opcode, function or format, an empty region, a bad MX block.
Op decode(std::span<const std::uint32_t> desc);

// The operands of `op`; throws chip::EngineError when a stride is shorter than its row.
Layout layout(const Op& op);

// A host view of an operand: row r starts at p + r * stride.
struct View {
  std::uint8_t* p = nullptr;
  std::uint64_t stride = 0;
};

// Performs the operation. Reads every input before writing, so in-place operations (Z == X) are
// well defined. FP32 arithmetic with one rounding per operation, in a fixed order.
void execute(const Op& op, View x, View y, View z);

}  // namespace mxemu::vpu
