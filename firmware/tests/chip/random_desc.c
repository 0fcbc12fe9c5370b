/* Feeds the engines random descriptors (scalars: seed, count): each goes to a random queue of
 * the chip, with fields that are sometimes plausible (small sizes, addresses inside VMEM, an
 * accumulator or HBM) and sometimes any 32-bit value, and random semaphore waits and signals.
 * Then fences. Whatever the engines make of them, the run must end cleanly: exit 0, an engine
 * fault or deadlock (3), or the cycle limit (4) — never a crash or a hang of the host. */
#include <stdint.h>

#include "mxemu/hal.h"

static uint32_t state;

static uint32_t next(void) { /* xorshift32 */
  state ^= state << 13;
  state ^= state >> 17;
  state ^= state << 5;
  return state;
}

static uint32_t small(uint32_t max) {
  return next() % (max + 1u);
}

/* A space address: mostly inside VMEM, sometimes an accumulator, HBM or anything. */
static uint64_t addr(void) {
  switch (next() % 8u) {
    case 0:
      return MX_SPACE_ACC + (uint64_t)small(2) * MX_SPACE_ACC_STRIDE + (small(70000) & ~3u);
    case 1:
      return MX_SPACE_HBM + small(1u << 20);
    case 2:
      return ((uint64_t)next() << 32) | next();
    default:
      return small(mx_ctrl(MX_CTRL_VMEM_BYTES) + 4096u) & ~3u;
  }
}

/* Usually a plausible value in [lo, hi]; one time in sixteen any 32-bit value. */
static uint32_t field(uint32_t lo, uint32_t hi) {
  return next() % 16u == 0 ? next() : lo + small(hi - lo);
}

int main(void) {
  state = mx_scalar("seed", 1) | 1u;
  const uint32_t count = mx_scalar("count", 4);
  const uint32_t nmxu = mx_ctrl(MX_CTRL_NUM_MXU);
  for (uint32_t i = 0; i < count; ++i) {
    mx_desc_t d;
    for (unsigned w = 0; w < MX_DESC_WORDS; ++w) d.w[w] = 0;
    const uint32_t kind = next() % 3u;
    uint32_t q = MX_Q_DMA;
    const uint64_t a = addr(), b = addr();
    if (kind == 0) {
      q = MX_Q_DMA;
      const uint32_t row = field(1, 2048), rows = field(1, 32);
      d.w[0] = MX_OP_DMA_COPY;
      d.w[1] = (uint32_t)a, d.w[2] = (uint32_t)(a >> 32);
      d.w[3] = (uint32_t)b, d.w[4] = (uint32_t)(b >> 32);
      d.w[5] = row, d.w[6] = rows, d.w[7] = field(1, 3);
      d.w[8] = next() % 2u ? row : field(0, 4096);
      d.w[9] = next() % 2u ? row : field(0, 4096);
      d.w[10] = row * rows, d.w[11] = field(0, 65536);
    } else if (kind == 1) {
      q = MX_Q_VPU;
      const uint32_t cols = next() % 2u ? 32u * field(1, 8) : field(1, 256);
      d.w[0] = MX_OP_VPU_OP;
      d.w[1] = field(1, 15) | small(4) << 8 | small(1) << 16 | (next() % 2u ? 32u : small(64)) << 17;
      d.w[2] = (uint32_t)a, d.w[3] = (uint32_t)(a >> 32);
      d.w[4] = (uint32_t)b, d.w[5] = (uint32_t)(b >> 32);
      const uint64_t c = addr();
      d.w[6] = (uint32_t)c, d.w[7] = (uint32_t)(c >> 32);
      d.w[8] = field(1, 16), d.w[9] = cols;
      d.w[10] = d.w[11] = d.w[12] = next() % 2u ? 4u * cols : field(0, 2048);
      d.w[13] = 0x3F800000u;  /* 1.0f */
    } else {
      /* A weight load then a matmul on one MXU; one time in eight a queue the chip lacks. */
      q = MX_Q_MXU(next() % 8u == 0 ? nmxu : small(nmxu - 1));
      const uint32_t k = field(1, 128), n = field(1, 128);
      mx_desc_t w;
      for (unsigned j = 0; j < MX_DESC_WORDS; ++j) w.w[j] = 0;
      w.w[0] = MX_OP_MXU_LOAD_W;
      w.w[1] = (uint32_t)a & 0xFFFFu, w.w[2] = next() % 2u ? n : field(0, 256);
      w.w[3] = k | n << 16;
      w.w[4] = (uint32_t)b & 0xFFFFu, w.w[5] = n;
      w.w[6] = small(1) | small(1) << 1 | (next() % 2u ? 32u : field(1, 200)) << 8;
      mx_push(q, &w);
      d.w[0] = MX_OP_MXU_MATMUL;
      d.w[1] = (uint32_t)(a >> 8) & 0xFFFFu, d.w[2] = field(k, 256), d.w[3] = field(1, 200);
      d.w[4] = (uint32_t)(b >> 8) & 0xFFFFu, d.w[5] = field(4, 8);
      d.w[6] = 4u * small(1024), d.w[7] = next() % 2u ? 512u : field(0, 1024);
      d.w[8] = small(7);
    }
    /* The header: sometimes wait on / signal a semaphore (possibly one that does not exist). */
    if (next() % 4u == 0) d.w[0] |= 1u << 14 | small(40) << 8 | small(3) << 22;
    if (next() % 4u == 0) d.w[0] |= 1u << 15 | small(40) << 16;
    if (next() % 16u == 0) d.w[0] = next();
    mx_push(q, &d);
  }
  return (int)mx_fence();
}
