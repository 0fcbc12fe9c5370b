/* gelu: Y = GELU(X) elementwise on the vector unit. X: a float32 array of any shape (1-4
 * dimensions); Y: the same shape. The required scalar "form" picks the formula (docs/VPU.md):
 *   0  GELU_TANH  0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
 *   1  GELU_ERF   0.5 x (1 + erf(x / sqrt(2)))
 * Both are FP64 evaluations rounded once: <= 0.501 ulp of the exact value (docs/VPU.md); the
 * kernel adds no arithmetic of its own.
 *
 * The tensor is elementwise, so it streams through VMEM as a flat array in 2 MiB chunks, each
 * one VPU operation of 1 x n elements in place, double-buffered as in quantize: the DMA of chunk
 * i+1 overlaps the VPU on chunk i and the write-back of chunk i-1. */
#include <stdint.h>
#include <stdio.h>

#include "mxemu/hal.h"

#define S_IN(b) (0u + (b))   /* chunk b landed in VMEM */
#define S_DONE(b) (2u + (b)) /* chunk b computed */
#define S_FREE(b) (4u + (b)) /* buffer b written back (free) */
#define CHUNK_ELEMS (512u << 10) /* 2 MiB of float32 */
#define FORM_NONE 0xFFFFFFFFu

static const char* dtype_name(uint32_t d) {
  return d == MX_DTYPE_F32 ? "float32" : d == MX_DTYPE_U8 ? "uint8" : "a scalar";
}

int main(void) {
  mx_tensor_t tx = mx_find("X");
  if (!tx.entry) {
    printf("gelu: error: launch block lacks X\n");
    return 2;
  }
  const uint32_t dtype = mx_launch_u32(tx.entry, MX_LAUNCH_E_DTYPE);
  const uint32_t ndim = mx_launch_u32(tx.entry, MX_LAUNCH_E_NDIM);
  if (dtype != MX_DTYPE_F32 || ndim < 1 || ndim > 4) {
    printf("gelu: error: X must be a float32 array of 1 to 4 dimensions (got %s, %u dimensions)\n",
           dtype_name(dtype), (unsigned)ndim);
    return 2;
  }
  const uint32_t form = mx_scalar("form", FORM_NONE);
  if (form > 1u) {
    if (form == FORM_NONE)
      printf("gelu: error: missing scalar form: 0 (tanh) or 1 (erf)\n");
    else
      printf("gelu: error: scalar form must be 0 (tanh) or 1 (erf), got %u\n", (unsigned)form);
    return 2;
  }
  uint32_t shape[4] = {0, 0, 0, 0};
  uint64_t n = 1;
  for (uint32_t d = 0; d < ndim; ++d) {
    shape[d] = mx_dim(tx, d);
    n *= shape[d];
  }
  mx_tensor_t ty = mx_find("Y");
  if (!ty.entry) {
    if (mx_declare_output("Y", MX_DTYPE_F32, ndim, shape, mx_hbm_free()) != 0) {
      printf("gelu: error: cannot declare the output\n");
      return 2;
    }
    ty = mx_find("Y");
  } else {
    int same = mx_launch_u32(ty.entry, MX_LAUNCH_E_DTYPE) == MX_DTYPE_F32 &&
               mx_launch_u32(ty.entry, MX_LAUNCH_E_NDIM) == ndim;
    for (uint32_t d = 0; same && d < ndim; ++d) same = mx_dim(ty, d) == shape[d];
    if (!same) {
      printf("gelu: error: Y must be a float32 array of X's shape\n");
      return 2;
    }
  }
  if (n == 0) return 0;
  for (uint32_t b = 0; b < 2; ++b) {
    mx_sem_set(S_IN(b), 0);
    mx_sem_set(S_DONE(b), 0);
    mx_sem_set(S_FREE(b), 1);
  }
  const uint64_t x = MX_SPACE_HBM + mx_addr(tx), y = MX_SPACE_HBM + mx_addr(ty);
  const uint32_t fn = form == 0 ? MX_VPU_FN_GELU_TANH : MX_VPU_FN_GELU_ERF;
  const uint64_t nchunks = (n + CHUNK_ELEMS - 1) / CHUNK_ELEMS;
  for (uint64_t i = 0; i <= nchunks; ++i) {
    if (i < nchunks) {
      const uint32_t b = (uint32_t)i & 1u;
      const uint64_t e0 = i * CHUNK_ELEMS;
      const uint32_t e = n - e0 < CHUNK_ELEMS ? (uint32_t)(n - e0) : CHUNK_ELEMS;
      mx_dma(x + e0 * 4u, MX_SPACE_VMEM + b * CHUNK_ELEMS * 4u, e * 4u, 1, e * 4u, e * 4u,
             mx_sync((int)S_FREE(b), 1, (int)S_IN(b)));
    }
    if (i == 0) continue;
    const uint64_t c = i - 1, e0 = c * CHUNK_ELEMS;
    const uint32_t b = (uint32_t)c & 1u;
    const uint32_t e = n - e0 < CHUNK_ELEMS ? (uint32_t)(n - e0) : CHUNK_ELEMS;
    const uint64_t xv = MX_SPACE_VMEM + b * CHUNK_ELEMS * 4u;
    mx_vpu_args_t v = {0};
    v.func = fn;
    v.rows = 1, v.cols = e;
    v.x = v.z = xv;
    v.x_stride = v.z_stride = e * 4u;
    mx_vpu(&v, mx_sync((int)S_IN(b), 1, (int)S_DONE(b)));
    mx_dma(xv, y + e0 * 4u, e * 4u, 1, e * 4u, e * 4u, mx_sync((int)S_DONE(b), 1, (int)S_FREE(b)));
  }
  return mx_fence() == 0 ? 0 : 3;
}
