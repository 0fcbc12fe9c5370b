/* 3-D DMA: X (u8 bytes in HBM) -> VMEM with a 3-D pattern given by scalars (planes, rows,
 * row_bytes, src_row_stride, src_plane_stride), then VMEM -> VMEM swapping planes and rows, then
 * to a new HBM buffer that the firmware declares as output Y (planes swapped with rows:
 * Y[r][p][b] = X[p * src_plane_stride + r * src_row_stride + b]). */
#include <stdint.h>
#include <stdio.h>

#include "mxemu/hal.h"

int main(void) {
  mx_tensor_t tx = mx_find("X");
  if (!tx.entry) return 2;
  const uint32_t P = mx_scalar("planes", 1), R = mx_scalar("rows", 1), B = mx_scalar("row_bytes", 1);
  const uint32_t srs = mx_scalar("src_row_stride", B), sps = mx_scalar("src_plane_stride", R * B);
  const uint32_t a = 0, b = 1u << 20;
  mx_dma3(MX_SPACE_HBM + mx_addr(tx), MX_SPACE_VMEM + a, B, R, P, srs, sps, B, R * B,
          mx_sync_none());
  /* Dense P x R x B -> R x P x B: R planes of P rows each. */
  mx_dma3(MX_SPACE_VMEM + a, MX_SPACE_VMEM + b, B, P, R, R * B, B, B, P * B, mx_sync_none());
  const uint64_t y = mx_hbm_free();
  mx_dma(MX_SPACE_VMEM + b, MX_SPACE_HBM + y, P * R * B, 1, 0, 0, mx_sync_none());
  if (mx_fence() != 0) return 3;
  const uint32_t shape[3] = {R, P, B};
  if (mx_declare_output("Y", MX_DTYPE_U8, 3, shape, y) != 0) return 4;
  printf("dma3d: %u x %u x %u bytes\n", (unsigned)P, (unsigned)R, (unsigned)B);
  return 0;
}
