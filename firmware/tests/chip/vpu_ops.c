/* One vector-unit operation, chosen by scalars, for the chip tests: X (rows x cols) and
 * optionally Y go to VMEM with `pad` extra bytes after each row (to move rows across banks),
 * VPU_OP runs, Z (and S, the scales of MX_QUANT; YO, Y after the operation, e.g. the state of
 * ONLINE_SOFTMAX) come back. Scalars: func, out_fmt, nonsat, block, imm (FP32 bits), pad,
 * x_offset (bytes added to X's VMEM address), bcast, x_fmt, y_fmt, z_fmt (VPU_OP word 14).
 * Tensors hold raw element bytes: a BF16 operand is a uint8 tensor of rows x (2 * cols). */
#include <stdint.h>

#include "mxemu/hal.h"

/* Bytes of one row of a tensor as the runner laid it out. */
static uint32_t row_bytes(mx_tensor_t t) {
  const uint32_t dtype = mx_launch_u32(t.entry, MX_LAUNCH_E_DTYPE);
  return mx_dim(t, 1) * (dtype == MX_DTYPE_F32 ? 4u : 1u);
}

int main(void) {
  mx_tensor_t tx = mx_find("X"), ty = mx_find("Y"), tz = mx_find("Z"), ts = mx_find("S");
  mx_tensor_t tyo = mx_find("YO");
  if (!tx.entry || !tz.entry) return 2;
  const uint32_t func = mx_scalar("func", 0), out_fmt = mx_scalar("out_fmt", 0);
  const uint32_t x_fmt = mx_scalar("x_fmt", 0), y_fmt = mx_scalar("y_fmt", 0);
  const uint32_t z_fmt = mx_scalar("z_fmt", 0), bcast = mx_scalar("bcast", 0);
  const uint32_t xrow = row_bytes(tx);
  const uint32_t rows = mx_dim(tx, 0), cols = xrow / (x_fmt == MX_VPU_ELEM_BF16 ? 2u : 4u);
  const uint32_t pad = mx_scalar("pad", 0), x_off = mx_scalar("x_offset", 0);
  const uint32_t block = mx_scalar("block", 32);
  union {
    uint32_t u;
    float f;
  } imm;
  imm.u = mx_scalar("imm", 0);
  const uint32_t xs = xrow + pad;
  const uint32_t x_v = 64u + x_off, y_v = 8u << 20, z_v = 16u << 20, s_v = 24u << 20;
  mx_dma(MX_SPACE_HBM + mx_addr(tx), MX_SPACE_VMEM + x_v, xrow, rows, xrow, xs, mx_sync_none());
  uint32_t ys = xs, yrow = 0, yrows = 0;
  if (ty.entry) {
    yrows = mx_dim(ty, 0);
    yrow = row_bytes(ty);
    ys = yrow + pad;
    mx_dma(MX_SPACE_HBM + mx_addr(ty), MX_SPACE_VMEM + y_v, yrow, yrows, yrow, ys,
           mx_sync_none());
  }
  uint32_t zbytes = z_fmt == MX_VPU_ELEM_BF16 ? 2u : 4u;
  if (func == MX_VPU_FN_CONVERT)
    zbytes = out_fmt == MX_VPU_FMT_BF16 ? 2u : out_fmt == MX_VPU_FMT_FP32 ? 4u : 1u;
  if (func == MX_VPU_FN_MX_QUANT) zbytes = 1;
  const int row_reduce = func == MX_VPU_FN_ROW_SUM || func == MX_VPU_FN_ROW_MAX;
  const uint32_t zrow_bytes = row_reduce ? zbytes : cols * zbytes;
  uint32_t zrows = rows;
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
  v.z_stride = zrow_bytes;
  v.imm = imm.f;
  v.bcast = bcast;
  v.x_fmt = x_fmt;
  v.y_fmt = y_fmt;
  v.z_fmt = z_fmt;
  if (mx_fence() != 0) return 3;
  mx_vpu(&v, mx_sync_none());
  if (mx_fence() != 0) return 3;
  mx_dma(MX_SPACE_VMEM + z_v, MX_SPACE_HBM + mx_addr(tz), zrow_bytes, zrows, zrow_bytes,
         zrow_bytes, mx_sync_none());
  if (ts.entry) {
    mx_dma(MX_SPACE_VMEM + s_v, MX_SPACE_HBM + mx_addr(ts), cols / block, rows, cols / block,
           cols / block, mx_sync_none());
  }
  if (tyo.entry && ty.entry) {
    mx_dma(MX_SPACE_VMEM + y_v, MX_SPACE_HBM + mx_addr(tyo), yrow, yrows, ys, yrow,
           mx_sync_none());
  }
  return mx_fence() == 0 ? 0 : 3;
}
