/* quantize: FP32 -> MXFP8 on the vector unit. X (rows x cols f32) in, Q (rows x cols u8 codes)
 * and S (rows x cols/block u8 UE8M0 scales, floor mode) out; scalars block, fmt (0 E4M3, 1 E5M2).
 * Rows stream through VMEM in chunks, double-buffered: the DMA of chunk i+1 overlaps the VPU on
 * chunk i and the write-back of chunk i-1. */
#include <stdint.h>
#include <stdio.h>

#include "mxemu/hal.h"

#define S_IN(b) (0u + (b))   /* chunk b landed in VMEM */
#define S_Q(b) (2u + (b))    /* chunk b quantised */
#define S_FREE(b) (4u + (b)) /* buffer b written back (free) */
#define CHUNK_BYTES (2u << 20)

int main(void) {
  mx_tensor_t tx = mx_find("X");
  if (!tx.entry) {
    printf("quantize: error: launch block lacks X\n");
    return 2;
  }
  const uint32_t rows = mx_dim(tx, 0), cols = mx_dim(tx, 1);
  const uint32_t block = mx_block_size(), fmt = mx_scalar("fmt", 0);
  if (block == 0 || cols % block != 0) {
    printf("quantize: error: cols %u is not a multiple of the block %u\n", (unsigned)cols,
           (unsigned)block);
    return 2;
  }
  const uint32_t nb = cols / block;
  /* Outputs: given by the runner, or allocated after its tensors and declared here. */
  mx_tensor_t tq = mx_find("Q"), ts = mx_find("S");
  if (!tq.entry || !ts.entry) {
    const uint64_t q_addr = mx_hbm_free(), s_addr = q_addr + (((uint64_t)rows * cols + 4095u) & ~4095ull);
    const uint32_t qshape[2] = {rows, cols}, sshape[2] = {rows, nb};
    if (mx_declare_output("Q", MX_DTYPE_U8, 2, qshape, q_addr) != 0 ||
        mx_declare_output("S", MX_DTYPE_U8, 2, sshape, s_addr) != 0) {
      printf("quantize: error: cannot declare the outputs\n");
      return 2;
    }
    tq = mx_find("Q");
    ts = mx_find("S");
  }
  /* Rows per chunk: CHUNK_BYTES of input, fewer when six buffers of them do not fit in VMEM. */
  uint32_t chunk = CHUNK_BYTES / (cols * 4u);
  const uint32_t fit = mx_ctrl(MX_CTRL_VMEM_BYTES) / (2u * (cols * 5u + nb));
  if (chunk > fit) chunk = fit;
  if (chunk == 0) chunk = 1;
  if (chunk > rows) chunk = rows;
  /* VMEM: two input buffers, two code buffers, two scale buffers. */
  uint32_t xin[2], qout[2], sout[2];
  for (uint32_t b = 0; b < 2; ++b) {
    xin[b] = b * chunk * cols * 4u;
    qout[b] = 2u * chunk * cols * 4u + b * chunk * cols;
    sout[b] = 2u * chunk * cols * 5u + b * chunk * nb;
  }
  if (sout[1] + chunk * nb > mx_ctrl(MX_CTRL_VMEM_BYTES)) {
    printf("quantize: error: a row of %u floats does not fit in VMEM\n", (unsigned)cols);
    return 2;
  }
  for (uint32_t b = 0; b < 2; ++b) {
    mx_sem_set(S_IN(b), 0);
    mx_sem_set(S_Q(b), 0);
    mx_sem_set(S_FREE(b), 1);
  }
  const uint64_t x = MX_SPACE_HBM + mx_addr(tx), q = MX_SPACE_HBM + mx_addr(tq),
                 s = MX_SPACE_HBM + mx_addr(ts);
  const uint32_t nchunks = (rows + chunk - 1) / chunk;
  /* Issue order: load(i + 1) before the write-back of chunk i, so loads overlap the VPU. */
  for (uint32_t i = 0; i <= nchunks; ++i) {
    if (i < nchunks) {
      const uint32_t b = i & 1u, r0 = i * chunk, n = rows - r0 < chunk ? rows - r0 : chunk;
      mx_dma(x + (uint64_t)r0 * cols * 4u, MX_SPACE_VMEM + xin[b], cols * 4u, n, cols * 4u,
             cols * 4u, mx_sync((int)S_FREE(b), 1, (int)S_IN(b)));
    }
    if (i == 0) continue;
    const uint32_t c = i - 1, b = c & 1u, r0 = c * chunk, n = rows - r0 < chunk ? rows - r0 : chunk;
    mx_vpu_args_t v = {0};
    v.func = MX_VPU_FN_MX_QUANT;
    v.out_fmt = fmt ? MX_VPU_FMT_E5M2 : MX_VPU_FMT_E4M3;
    v.block = block;
    v.rows = n;
    v.cols = cols;
    v.x = MX_SPACE_VMEM + xin[b];
    v.x_stride = cols * 4u;
    v.z = MX_SPACE_VMEM + qout[b];
    v.z_stride = cols;
    v.y = MX_SPACE_VMEM + sout[b];
    v.y_stride = nb;
    mx_vpu(&v, mx_sync((int)S_IN(b), 1, (int)S_Q(b)));
    mx_dma(MX_SPACE_VMEM + qout[b], q + (uint64_t)r0 * cols, cols, n, cols, cols,
           mx_sync((int)S_Q(b), 1, -1));
    mx_dma(MX_SPACE_VMEM + sout[b], s + (uint64_t)r0 * nb, nb, n, nb, nb,
           mx_sync(-1, 0, (int)S_FREE(b)));
  }
  return mx_fence() == 0 ? 0 : 3;
}
