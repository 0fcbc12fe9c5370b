/* layernorm (and rmsnorm, built from this file with -DRMSNORM): normalisation of each row on the
 * vector unit. X (rows x cols f32) in, Y (rows x cols f32) out; optional gamma and beta (cols f32,
 * 1-D or 1 x cols; rmsnorm takes gamma only) and the scalar eps (FP32 bits, default 1e-5).
 *   layernorm: Y = (x - mean) * rsqrt(var + eps) * gamma + beta,  var = mean((x - mean)^2)
 *   rmsnorm:   Y = x * rsqrt(mean(x^2) + eps) * gamma
 * Per chunk of rows in VMEM (double-buffered like quantize), FP32 vector operations in this order
 * (docs/KERNELS.md): mean = ROW_SUM(x) * (1/cols) (SCALE; 1/cols rounded once on the core);
 * d = x - mean (SUB, BCAST COL, in place); var = ROW_SUM(d * d) * (1/cols); r = RSQRT(var + eps);
 * y = d * r (MUL, BCAST COL); y = y * gamma (MUL, BCAST ROW); y = y + beta (ADD, BCAST ROW). */
#include <stdint.h>
#include <stdio.h>

#include "mxemu/hal.h"

#ifdef RMSNORM
#define KERNEL "rmsnorm"
#else
#define KERNEL "layernorm"
#endif

#define S_IN(b) (0u + (b))   /* chunk b landed in VMEM */
#define S_DONE(b) (2u + (b)) /* chunk b computed */
#define S_FREE(b) (4u + (b)) /* buffers b written back (free) */
#define CHUNK_BYTES (2u << 20)
#define MAX_OPS 10

static const char* dtype_name(uint32_t d) {
  return d == MX_DTYPE_F32 ? "float32" : d == MX_DTYPE_U8 ? "uint8" : "a scalar";
}

/* A per-column vector (gamma, beta): absent, or cols float32 values as (cols) or (1, cols). */
static int vector_ok(mx_tensor_t t, const char* name, uint32_t cols) {
  if (!t.entry) return 1;
  const uint32_t dtype = mx_launch_u32(t.entry, MX_LAUNCH_E_DTYPE);
  const uint32_t ndim = mx_launch_u32(t.entry, MX_LAUNCH_E_NDIM);
  const uint32_t n = ndim == 1 ? mx_dim(t, 0) : ndim == 2 && mx_dim(t, 0) == 1 ? mx_dim(t, 1) : 0;
  if (dtype != MX_DTYPE_F32 || n != cols) {
    printf(KERNEL ": error: %s must be %u float32 values (got %s, %u dimensions)\n", name,
           (unsigned)cols, dtype_name(dtype), (unsigned)ndim);
    return 0;
  }
  return 1;
}

int main(void) {
  mx_tensor_t tx = mx_find("X");
  if (!tx.entry) {
    printf(KERNEL ": error: launch block lacks X\n");
    return 2;
  }
  const uint32_t dtype = mx_launch_u32(tx.entry, MX_LAUNCH_E_DTYPE);
  const uint32_t ndim = mx_launch_u32(tx.entry, MX_LAUNCH_E_NDIM);
  if (dtype != MX_DTYPE_F32 || ndim != 2) {
    printf(KERNEL ": error: X must be a 2-D float32 array (got %s, %u dimensions)\n",
           dtype_name(dtype), (unsigned)ndim);
    return 2;
  }
  const uint32_t rows = mx_dim(tx, 0), cols = mx_dim(tx, 1);
  mx_tensor_t tg = mx_find("gamma"), tb = mx_find("beta");
#ifdef RMSNORM
  if (tb.entry) {
    printf(KERNEL ": error: rmsnorm takes no beta\n");
    return 2;
  }
#endif
  if (!vector_ok(tg, "gamma", cols) || !vector_ok(tb, "beta", cols)) return 2;
  union {
    uint32_t u;
    float f;
  } eps;
  eps.f = 1e-5f;
  eps.u = mx_scalar("eps", eps.u);
  const float inv_cols = 1.0f / (float)cols;
  mx_tensor_t ty = mx_find("Y");
  if (!ty.entry) {
    const uint32_t shape[2] = {rows, cols};
    if (mx_declare_output("Y", MX_DTYPE_F32, 2, shape, mx_hbm_free()) != 0) {
      printf(KERNEL ": error: cannot declare the output\n");
      return 2;
    }
    ty = mx_find("Y");
  }
  const uint32_t row_bytes = cols * 4u;
  /* Rows per chunk: CHUNK_BYTES of input, fewer when the buffers do not fit in VMEM. */
  uint32_t chunk = CHUNK_BYTES / row_bytes;
  const uint32_t vmem = mx_ctrl(MX_CTRL_VMEM_BYTES);
  const uint32_t fit = vmem > 2u * row_bytes ? (vmem - 2u * row_bytes) / (4u * row_bytes + 16u) : 0u;
  if (chunk > fit) chunk = fit;
  if (chunk == 0) chunk = 1;
  if (chunk > rows) chunk = rows;
  /* VMEM: gamma, beta, then per buffer: input rows, output rows, statistics (mean, rstd). */
  const uint32_t g_v = 0, b_v = row_bytes, base = 2u * row_bytes;
  uint32_t xbuf[2], zbuf[2], st[2];
  for (uint32_t b = 0; b < 2; ++b) {
    xbuf[b] = base + 2u * b * chunk * row_bytes;
    zbuf[b] = xbuf[b] + chunk * row_bytes;
    st[b] = base + 4u * chunk * row_bytes + b * chunk * 8u;
  }
  if ((uint64_t)st[1] + chunk * 8u > mx_ctrl(MX_CTRL_VMEM_BYTES)) {
    printf(KERNEL ": error: a row of %u floats does not fit in VMEM\n", (unsigned)cols);
    return 2;
  }
  /* gamma and beta once; the DMA queue completes in order, so chunk 0's S_IN implies them. */
  if (tg.entry) {
    mx_dma(MX_SPACE_HBM + mx_addr(tg), MX_SPACE_VMEM + g_v, row_bytes, 1, row_bytes, row_bytes,
           mx_sync_none());
  }
  if (tb.entry) {
    mx_dma(MX_SPACE_HBM + mx_addr(tb), MX_SPACE_VMEM + b_v, row_bytes, 1, row_bytes, row_bytes,
           mx_sync_none());
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
    const uint64_t xv = MX_SPACE_VMEM + xbuf[b], zv = MX_SPACE_VMEM + zbuf[b];
    const uint64_t mean = MX_SPACE_VMEM + st[b], rstd = mean + 4u;
    mx_vpu_args_t ops[MAX_OPS];
    uint32_t k = 0;
    for (uint32_t j = 0; j < MAX_OPS; ++j) {
      const mx_vpu_args_t zero = {0};
      ops[j] = zero;
      ops[j].rows = n;
      ops[j].cols = cols;
      ops[j].x_stride = ops[j].y_stride = ops[j].z_stride = row_bytes;
    }
#define COLUMN(op, at) ((op).cols = 1, (op).x = (op).z = (at), (op).x_stride = (op).z_stride = 8u)
#ifndef RMSNORM
    /* mean = ROW_SUM(x) / cols; d = x - mean (in place). */
    ops[k].func = MX_VPU_FN_ROW_SUM, ops[k].x = xv, ops[k].z = mean, ops[k].z_stride = 8u, ++k;
    ops[k].func = MX_VPU_FN_SCALE, ops[k].imm = inv_cols, COLUMN(ops[k], mean), ++k;
    ops[k].func = MX_VPU_FN_SUB, ops[k].bcast = MX_VPU_BCAST_COL, ops[k].x = ops[k].z = xv;
    ops[k].y = mean, ops[k].y_stride = 8u, ++k;
#endif
    /* var (or mean square) = ROW_SUM(d * d) / cols; rstd = rsqrt(var + eps). */
    ops[k].func = MX_VPU_FN_MUL, ops[k].x = ops[k].y = xv, ops[k].z = zv, ++k;
    ops[k].func = MX_VPU_FN_ROW_SUM, ops[k].x = zv, ops[k].z = rstd, ops[k].z_stride = 8u, ++k;
    ops[k].func = MX_VPU_FN_SCALE, ops[k].imm = inv_cols, COLUMN(ops[k], rstd), ++k;
    ops[k].func = MX_VPU_FN_RSQRT, ops[k].imm = eps.f, COLUMN(ops[k], rstd), ++k;
    /* y = d * rstd [* gamma] [+ beta]. */
    ops[k].func = MX_VPU_FN_MUL, ops[k].bcast = MX_VPU_BCAST_COL, ops[k].x = xv, ops[k].z = zv;
    ops[k].y = rstd, ops[k].y_stride = 8u, ++k;
    if (tg.entry) {
      ops[k].func = MX_VPU_FN_MUL, ops[k].bcast = MX_VPU_BCAST_ROW, ops[k].x = ops[k].z = zv;
      ops[k].y = MX_SPACE_VMEM + g_v, ++k;
    }
    if (tb.entry) {
      ops[k].func = MX_VPU_FN_ADD, ops[k].bcast = MX_VPU_BCAST_ROW, ops[k].x = ops[k].z = zv;
      ops[k].y = MX_SPACE_VMEM + b_v, ++k;
    }
#undef COLUMN
    for (uint32_t j = 0; j < k; ++j) {
      mx_vpu(&ops[j], mx_sync(j == 0 ? (int)S_IN(b) : -1, j == 0 ? 1 : 0,
                              j + 1 == k ? (int)S_DONE(b) : -1));
    }
    mx_dma(zv, y + (uint64_t)r0 * row_bytes, row_bytes, n, row_bytes, row_bytes,
           mx_sync((int)S_DONE(b), 1, (int)S_FREE(b)));
  }
  return mx_fence() == 0 ? 0 : 3;
}
