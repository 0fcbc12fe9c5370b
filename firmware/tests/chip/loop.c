/* The hardware LOOP (docs/CHIP.md "LOOP"), by scalar `mode`:
 *   0  X (R x B u8) -> Y (R x B) with Y[i] = X[R - 1 - floor(i / 2)], from one DMA LOOP of R
 *      iterations over two descriptors: HBM row R - 1 - i -> VMEM row i (a negative 64-bit
 *      increment), then VMEM row floor(i / 2) -> staging row i (an increment with PERIOD 2) that
 *      signals semaphore 5; then the staging buffer -> Y.
 *   1  the same descriptors pushed one by one (the reference for mode 0).
 *   2  a LOOP of `n` NOPs on the VPU queue, each signalling semaphore 6.
 *   3  a LOOP whose body is never completely pushed (a deadlock).
 *   4  a LOOP whose body holds a LOOP; 5  an increment of word 0 that makes a body NOP a LOOP.
 *   6  (not a LOOP) a DMA NOP and a VPU NOP both waiting on semaphore 7, which the core sets
 *      to 2 a while later: a semaphore shared by two engines (docs/CHIP.md "Semaphores").
 * Prints what it did; returns the fence's fault code. */
#include <stdint.h>
#include <stdio.h>

#include "mxemu/hal.h"

static void dma_desc(mx_desc_t* d, uint64_t src, uint64_t dst, uint32_t bytes, mx_sync_t s) {
  mx_desc_init(d, MX_OP_DMA_COPY, s);
  d->w[MX_DMA_COPY_SRC_LO_WORD] = (uint32_t)src;
  d->w[MX_DMA_COPY_SRC_HI_WORD] = (uint32_t)(src >> 32);
  d->w[MX_DMA_COPY_DST_LO_WORD] = (uint32_t)dst;
  d->w[MX_DMA_COPY_DST_HI_WORD] = (uint32_t)(dst >> 32);
  d->w[MX_DMA_COPY_ROW_BYTES_WORD] = bytes;
  d->w[MX_DMA_COPY_ROWS_WORD] = 1;
  d->w[MX_DMA_COPY_PLANES_WORD] = 1;
}

static int copy_rows(int use_loop) {
  mx_tensor_t tx = mx_find("X");
  if (!tx.entry) return 2;
  const uint32_t r = mx_dim(tx, 0), b = mx_dim(tx, 1);
  const uint64_t x = MX_SPACE_HBM + mx_addr(tx);
  const uint32_t va = 0, vb = (r * b + 63u) & ~63u;
  mx_sem_set(5, 0);
  mx_desc_t d0, d1;
  if (use_loop) {
    mx_desc_t lp;
    mx_loop_init(&lp, r, 2);
    mx_loop_inc(&lp, 0, 0, MX_DMA_COPY_SRC_LO_WORD, -(int32_t)b, 1, 1);
    mx_loop_inc(&lp, 1, 0, MX_DMA_COPY_DST_LO_WORD, (int32_t)b, 1, 0);
    mx_loop_inc(&lp, 2, 1, MX_DMA_COPY_SRC_LO_WORD, (int32_t)b, 2, 0);
    mx_loop_inc(&lp, 3, 1, MX_DMA_COPY_DST_LO_WORD, (int32_t)b, 0, 0);
    dma_desc(&d0, x + (uint64_t)(r - 1u) * b, MX_SPACE_VMEM + va, b, mx_sync_none());
    dma_desc(&d1, MX_SPACE_VMEM + va, MX_SPACE_VMEM + vb, b, mx_sync(-1, 0, 5));
    mx_push(MX_Q_DMA, &lp);
    mx_push(MX_Q_DMA, &d0);
    mx_push(MX_Q_DMA, &d1);
  } else {
    for (uint32_t i = 0; i < r; ++i) {
      dma_desc(&d0, x + (uint64_t)(r - 1u - i) * b, MX_SPACE_VMEM + va + i * b, b, mx_sync_none());
      dma_desc(&d1, MX_SPACE_VMEM + va + (i / 2u) * b, MX_SPACE_VMEM + vb + i * b, b,
               mx_sync(-1, 0, 5));
      mx_push(MX_Q_DMA, &d0);
      mx_push(MX_Q_DMA, &d1);
    }
  }
  const uint64_t y = mx_hbm_free();
  mx_dma(MX_SPACE_VMEM + vb, MX_SPACE_HBM + y, r * b, 1, 0, 0, mx_sync_none());
  const uint32_t fault = mx_fence();
  if (fault != 0) return (int)fault;
  const uint32_t shape[2] = {r, b};
  if (mx_declare_output("Y", MX_DTYPE_U8, 2, shape, y) != 0) return 4;
  printf("loop: %u x %u, semaphore 5 = %u\n", (unsigned)r, (unsigned)b, (unsigned)mx_sem_get(5));
  return 0;
}

int main(void) {
  const uint32_t mode = mx_scalar("mode", 0);
  if (mode <= 1u) return copy_rows(mode == 0u);
  mx_desc_t lp, nop;
  mx_desc_init(&nop, 0u, mx_sync(-1, 0, 6));
  mx_sem_set(6, 0);
  if (mode == 2u) {
    const uint32_t n = mx_scalar("n", 10);
    mx_loop_init(&lp, n, 1);
    mx_push(MX_Q_VPU, &lp);
    mx_push(MX_Q_VPU, &nop);
  } else if (mode == 3u) {
    mx_loop_init(&lp, 2, 2);
    mx_push(MX_Q_VPU, &lp);
    mx_push(MX_Q_VPU, &nop);
  } else if (mode == 6u) {
    mx_sem_set(7, 0);
    mx_nop(MX_Q_DMA, mx_sync(7, 1, -1));
    mx_nop(MX_Q_VPU, mx_sync(7, 1, -1));
    const uint32_t t0 = mx_ctrl(MX_CTRL_CYCLE_LO);
    while (mx_ctrl(MX_CTRL_CYCLE_LO) - t0 < 200u) {
    }
    mx_sem_set(7, 2);
  } else if (mode == 4u) {
    mx_loop_init(&lp, 2, 1);
    mx_push(MX_Q_VPU, &lp);
    mx_push(MX_Q_VPU, &lp);
    mx_push(MX_Q_VPU, &nop);
  } else {
    mx_loop_init(&lp, 2, 1);
    mx_loop_inc(&lp, 0, 0, 0, (int32_t)MX_OP_LOOP, 1, 0);
    mx_push(MX_Q_VPU, &lp);
    mx_push(MX_Q_VPU, &nop);
  }
  const uint32_t fault = mx_fence();
  printf("loop: semaphore 6 = %u\n", (unsigned)mx_sem_get(6));
  return (int)fault;
}
