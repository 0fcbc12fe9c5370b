// libFuzzer harness of the engines' descriptor decoders with a functional core outside SystemC:
// DMA_COPY (model/dma) and VPU_OP (model/vpu). The input is 16 descriptor words, the first byte
// choosing the decoder. Properties beyond "no crash, no hang": every refusal is a
// chip::EngineError with a message; an accepted DMA copy respects the documented limits and its
// spans cover its segments; an accepted VPU operation has a layout whose operands hold at least
// one element each, or a layout refusal that is an EngineError.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "model/chip/engine_error.h"
#include "model/chip/regs.h"
#include "model/dma/dma_op.h"
#include "model/vpu/vpu_op.h"
#include "tools/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mxemu;
  if (size < 1) return 0;
  std::array<std::uint32_t, chip::regs::kDescWords> w{};
  std::memcpy(w.data(), data + 1, std::min(size - 1, sizeof w));
  const bool vpu_side = (data[0] & 1) != 0;
  // Half of the inputs get the right opcode, so the fields behind it are reached.
  if ((data[0] & 2) != 0) {
    w[0] = (w[0] & ~0xFFu) | (vpu_side ? chip::regs::kOpVpuOp : chip::regs::kOpDmaCopy);
  }
  try {
    if (!vpu_side) {
      const dma::Copy c = dma::decode(w);
      FUZZ_CHECK(c.row_bytes > 0 && c.rows > 0 && c.planes > 0);
      FUZZ_CHECK(c.total_bytes() <= dma::kMaxBytes);
      FUZZ_CHECK(c.src_span() >= c.row_bytes && c.dst_span() >= c.row_bytes);
    } else {
      const vpu::Op op = vpu::decode(w);
      FUZZ_CHECK(op.rows > 0 && op.cols > 0);
      const vpu::Layout l = vpu::layout(op);
      for (const vpu::OperandShape* s : {&l.x, &l.y, &l.z}) {
        if (!s->used) continue;
        FUZZ_CHECK(s->rows > 0 && s->row_bytes > 0);
        FUZZ_CHECK(s->rows == 1 || s->stride >= s->row_bytes);
      }
    }
  } catch (const chip::EngineError& e) {
    FUZZ_CHECK(!e.message.empty());
  }
  return 0;
}
