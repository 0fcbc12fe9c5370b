/* One vector-unit operation, chosen by scalars, for the chip tests: X (rows x cols f32) and
 * optionally Y go to VMEM with `pad` extra bytes after each row (to move rows across banks),
 * VPU_OP runs, Z (and S, the scales of MX_QUANT) come back. Scalars: func, out_fmt, nonsat,
 * block, imm (FP32 bits), pad, x_offset (bytes added to X's VMEM address). */
#include <stdint.h>

#include "mxemu/hal.h"

int main(void) {
  mx_tensor_t tx = mx_find("X"), ty = mx_find("Y"), tz = mx_find("Z"), ts = mx_find("S");
  if (!tx.entry || !tz.entry) return 2;
  const uint32_t rows = mx_dim(tx, 0), cols = mx_dim(tx, 1);
  const uint32_t func = mx_scalar("func", 0), out_fmt = mx_scalar("out_fmt", 0);
  const uint32_t pad = mx_scalar("pad", 0), x_off = mx_scalar("x_offset", 0);
  const uint32_t block = mx_scalar("block", 32);
  union {
    uint32_t u;
    float f;
  } imm;
  imm.u = mx_scalar("imm", 0);
  const uint32_t xs = cols * 4u + pad;
  const uint32_t x_v = 64u + x_off, y_v = 8u << 20, z_v = 16u << 20, s_v = 24u << 20;
  mx_dma(MX_SPACE_HBM + mx_addr(tx), MX_SPACE_VMEM + x_v, cols * 4u, rows, cols * 4u, xs,
         mx_sync_none());
  uint32_t ys = xs;
  if (ty.entry) {
    const uint32_t yrows = mx_dim(ty, 0);
    mx_dma(MX_SPACE_HBM + mx_addr(ty), MX_SPACE_VMEM + y_v, cols * 4u, yrows, cols * 4u, xs,
           mx_sync_none());
  }
  uint32_t zbytes = 4;
  if (func == MX_VPU_FN_CONVERT) zbytes = out_fmt == MX_VPU_FMT_BF16 ? 2u : out_fmt == MX_VPU_FMT_FP32 ? 4u : 1u;
  if (func == MX_VPU_FN_MX_QUANT) zbytes = 1;
  uint32_t zs = cols * zbytes, zrows = rows;
  if (func == MX_VPU_FN_ROW_SUM || func == MX_VPU_FN_ROW_MAX) zs = 4;
  if (func == MX_VPU_FN_COL_SUM || func == MX_VPU_FN_COL_MAX) zrows = 1;
  mx_vpu_args_t v = {0};
  v.func = func;
  v.out_fmt = out_fmt;
  v.nonsat = mx_scalar("nonsat", 0);
  v.block = block;
  v.rows = rows;
  v.cols = cols;
  v.x = MX_SPACE_VMEM + x_v;
  v.x_stride = xs;
  v.y = MX_SPACE_VMEM + (func == MX_VPU_FN_MX_QUANT ? s_v : y_v);
  v.y_stride = func == MX_VPU_FN_MX_QUANT ? cols / block : ys;
  v.z = MX_SPACE_VMEM + z_v;
  v.z_stride = zs;
  v.imm = imm.f;
  if (mx_fence() != 0) return 3;
  mx_vpu(&v, mx_sync_none());
  if (mx_fence() != 0) return 3;
  const uint32_t zrow_bytes = (func == MX_VPU_FN_ROW_SUM || func == MX_VPU_FN_ROW_MAX) ? 4u : cols * zbytes;
  mx_dma(MX_SPACE_VMEM + z_v, MX_SPACE_HBM + mx_addr(tz), zrow_bytes, zrows, zs, zrow_bytes,
         mx_sync_none());
  if (ts.entry) {
    mx_dma(MX_SPACE_VMEM + s_v, MX_SPACE_HBM + mx_addr(ts), cols / block, rows, cols / block,
           cols / block, mx_sync_none());
  }
  return mx_fence() == 0 ? 0 : 3;
}
