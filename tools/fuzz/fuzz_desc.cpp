// libFuzzer harness of the engines' descriptor decoders with a functional core outside SystemC:
// DMA_COPY (model/dma), VPU_OP (model/vpu) and the LOOP every engine has (model/chip/desc_loop.h).
// The input is 16 descriptor words, the first byte choosing the decoder. Properties beyond "no
// crash, no hang": every refusal is a chip::EngineError with a message; an accepted DMA copy
// respects the documented limits and its spans cover its segments; an accepted VPU operation has a
// layout whose operands hold at least one element each, or a layout refusal that is an EngineError;
// an accepted LOOP has 1 to 8 body descriptors, and the descriptors it generates from a body (the
// input's words, rotated) are the body with each increment's floor(i / period) * delta added,
// computed here again.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "model/chip/desc_loop.h"
#include "model/chip/engine_error.h"
#include "model/chip/regs.h"
#include "model/dma/dma_op.h"
#include "model/vpu/vpu_op.h"
#include "tools/fuzz/fuzz_check.h"

namespace {

void check_loop(std::array<std::uint32_t, mxemu::chip::regs::kDescWords> w, bool force) {
  using namespace mxemu::chip;
  if (force) w[0] = (w[0] & ~0xC0FFu) | regs::kOpLoop;  // the opcode, no wait and no signal
  LoopSpec spec;
  try {
    spec = decode_loop(w);
  } catch (const EngineError& e) {
    FUZZ_CHECK(e.code == regs::Fault::kBadField && e.message.rfind("LOOP: ", 0) == 0);
    return;
  }
  FUZZ_CHECK(spec.count >= 1 && spec.body >= 1 && spec.body <= regs::kLoopBodyMax);
  std::vector<Desc> body(spec.body);
  for (std::uint32_t b = 0; b < spec.body; ++b) {
    for (std::uint32_t i = 0; i < regs::kDescWords; ++i) body[b][i] = w[(i + b) % w.size()];
  }
  LoopSequencer seq(spec, body);
  const std::uint64_t total = spec.count * spec.body;
  FUZZ_CHECK(seq.remaining() == total);
  for (std::uint64_t n = 0; n < std::min<std::uint64_t>(total, 64); ++n) {
    const std::uint64_t it = n / spec.body;
    const auto b = static_cast<std::uint32_t>(n % spec.body);
    Desc want = body[b];
    for (const LoopInc& c : spec.incs) {
      if (c.desc != b) continue;
      const std::uint64_t k = it / (c.period == 0 ? 1 : c.period);
      const std::int64_t delta = static_cast<std::int32_t>(c.delta);
      if (c.wide) {
        const std::uint64_t v = (std::uint64_t{want[c.word + 1]} << 32 | want[c.word]) +
                                k * static_cast<std::uint64_t>(delta);
        want[c.word] = static_cast<std::uint32_t>(v & 0xFFFFFFFFu);
        want[c.word + 1] = static_cast<std::uint32_t>(v >> 32);
      } else {
        want[c.word] = static_cast<std::uint32_t>((want[c.word] + k * c.delta) & 0xFFFFFFFFu);
      }
    }
    FUZZ_CHECK(seq.generate() == want);
    FUZZ_CHECK(seq.remaining() == total - n - 1);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mxemu;
  if (size < 1) return 0;
  std::array<std::uint32_t, chip::regs::kDescWords> w{};
  std::memcpy(w.data(), data + 1, std::min(size - 1, sizeof w));
  if ((data[0] & 4) != 0) {
    check_loop(w, (data[0] & 2) != 0);
    return 0;
  }
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
