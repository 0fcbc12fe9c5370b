/* softmax: row-wise softmax on the vector unit. X (rows x cols f32) in, Y (rows x cols f32) out:
 * Y[r][c] = exp(s x[r][c] - max_c s x[r][.]) / sum_c exp(s x[r][c] - max), s the optional scalar
 * "scale" (FP32 bits, default 1; attention passes 1/sqrt(d)). docs/KERNELS.md.
 *
 * Per chunk of rows in VMEM (double-buffered like quantize: the DMA of chunk i+1 overlaps the VPU
 * on chunk i and the write-back of chunk i-1), five vector operations, all in place:
 *   [SCALE x by s]
 *   ROW_MAX x -> m                  (the state's m column: rows x 3 FP32 (m, s, alpha))
 *   SCALE m by 0 -> s column        (s = 0; NaN for a row whose max is not finite, whose
 *                                    softmax is NaN anyway)
 *   ONLINE_SOFTMAX x, state -> x    (P = exp(x - m) and s = sum P, both in FP64, one rounding)
 *   DIV x by s (BCAST COL) -> x     (correctly rounded)
 * P and s are each within 0.501 ulp (relative ~2^-24), so each output is within 2.51 ulp of the
 * exact softmax of the (scaled) FP32 inputs: 2 ulp from P / s, 0.5 from the division. */
#include <stdint.h>
#include <stdio.h>

#include "mxemu/hal.h"

#define S_IN(b) (0u + (b))   /* chunk b landed in VMEM */
#define S_DONE(b) (2u + (b)) /* chunk b computed */
#define S_FREE(b) (4u + (b)) /* buffer b written back (free) */
#define CHUNK_BYTES (2u << 20)

static const char* dtype_name(uint32_t d) {
  return d == MX_DTYPE_F32 ? "float32" : d == MX_DTYPE_U8 ? "uint8" : "a scalar";
}

int main(void) {
  mx_tensor_t tx = mx_find("X");
  if (!tx.entry) {
    printf("softmax: error: launch block lacks X\n");
    return 2;
  }
  const uint32_t dtype = mx_launch_u32(tx.entry, MX_LAUNCH_E_DTYPE);
  const uint32_t ndim = mx_launch_u32(tx.entry, MX_LAUNCH_E_NDIM);
  if (dtype != MX_DTYPE_F32 || ndim != 2) {
    printf("softmax: error: X must be a 2-D float32 array (got %s, %u dimensions)\n",
           dtype_name(dtype), (unsigned)ndim);
    return 2;
  }
  const uint32_t rows = mx_dim(tx, 0), cols = mx_dim(tx, 1);
  union {
    uint32_t u;
    float f;
  } scale;
  scale.f = 1.0f;
  scale.u = mx_scalar("scale", scale.u);
  mx_tensor_t ty = mx_find("Y");
  if (!ty.entry) {
    const uint32_t shape[2] = {rows, cols};
    if (mx_declare_output("Y", MX_DTYPE_F32, 2, shape, mx_hbm_free()) != 0) {
      printf("softmax: error: cannot declare the output\n");
      return 2;
    }
    ty = mx_find("Y");
  }
  const uint32_t row_bytes = cols * 4u;
  uint32_t chunk = CHUNK_BYTES / row_bytes;
  if (chunk == 0) chunk = 1;
  if (chunk > rows) chunk = rows;
  /* VMEM: two row buffers, two state buffers (rows x 12 bytes). */
  uint32_t xbuf[2], st[2];
  for (uint32_t b = 0; b < 2; ++b) {
    xbuf[b] = b * chunk * row_bytes;
    st[b] = 2u * chunk * row_bytes + b * chunk * 12u;
  }
  if ((uint64_t)st[1] + chunk * 12u > mx_ctrl(MX_CTRL_VMEM_BYTES)) {
    printf("softmax: error: a row of %u floats does not fit in VMEM\n", (unsigned)cols);
    return 2;
  }
  for (uint32_t b = 0; b < 2; ++b) {
    mx_sem_set(S_IN(b), 0);
    mx_sem_set(S_DONE(b), 0);
    mx_sem_set(S_FREE(b), 1);
  }
  const uint64_t x = MX_SPACE_HBM + mx_addr(tx), y = MX_SPACE_HBM + mx_addr(ty);
  const uint32_t nchunks = (rows + chunk - 1) / chunk;
  for (uint32_t i = 0; i <= nchunks; ++i) {
    if (i < nchunks) {
      const uint32_t b = i & 1u, r0 = i * chunk, n = rows - r0 < chunk ? rows - r0 : chunk;
      mx_dma(x + (uint64_t)r0 * row_bytes, MX_SPACE_VMEM + xbuf[b], row_bytes, n, row_bytes,
             row_bytes, mx_sync((int)S_FREE(b), 1, (int)S_IN(b)));
    }
    if (i == 0) continue;
    const uint32_t c = i - 1, b = c & 1u, r0 = c * chunk, n = rows - r0 < chunk ? rows - r0 : chunk;
    const uint64_t xv = MX_SPACE_VMEM + xbuf[b], sv = MX_SPACE_VMEM + st[b];
    mx_vpu_args_t v = {0};
    int first = 1;
    if (scale.f != 1.0f) {
      v.func = MX_VPU_FN_SCALE;
      v.rows = n, v.cols = cols;
      v.x = v.z = xv;
      v.x_stride = v.z_stride = row_bytes;
      v.imm = scale.f;
      mx_vpu(&v, mx_sync((int)S_IN(b), 1, -1));
      first = 0;
    }
    mx_vpu_args_t m = {0};
    m.func = MX_VPU_FN_ROW_MAX;
    m.rows = n, m.cols = cols;
    m.x = xv, m.x_stride = row_bytes;
    m.z = sv, m.z_stride = 12u;
    mx_vpu(&m, first ? mx_sync((int)S_IN(b), 1, -1) : mx_sync_none());
    mx_vpu_args_t z = {0};
    z.func = MX_VPU_FN_SCALE;
    z.rows = n, z.cols = 1;
    z.x = sv, z.x_stride = 12u;
    z.z = sv + 4u, z.z_stride = 12u;
    z.imm = 0.0f;
    mx_vpu(&z, mx_sync_none());
    mx_vpu_args_t o = {0};
    o.func = MX_VPU_FN_ONLINE_SOFTMAX;
    o.rows = n, o.cols = cols;
    o.x = o.z = xv;
    o.x_stride = o.z_stride = row_bytes;
    o.y = sv, o.y_stride = 12u;
    mx_vpu(&o, mx_sync_none());
    mx_vpu_args_t d = {0};
    d.func = MX_VPU_FN_DIV;
    d.bcast = MX_VPU_BCAST_COL;
    d.rows = n, d.cols = cols;
    d.x = d.z = xv;
    d.x_stride = d.z_stride = row_bytes;
    d.y = sv + 4u, d.y_stride = 12u;
    mx_vpu(&d, mx_sync(-1, 0, (int)S_DONE(b)));
    mx_dma(xv, y + (uint64_t)r0 * row_bytes, row_bytes, n, row_bytes, row_bytes,
           mx_sync((int)S_DONE(b), 1, (int)S_FREE(b)));
  }
  return mx_fence() == 0 ? 0 : 3;
}
