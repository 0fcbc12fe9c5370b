/* All to all: every chip sends its tensor X (one block per peer: X is chips x B bytes) to every
 * other chip and receives every other chip's block for it into Y (chips x B), all at once: the
 * traffic that deadlocks a network whose routes close a cycle of buffers. Y[me] = X[me]. */
#include <stdint.h>

#include "mxemu/hal.h"

int main(void) {
  const mx_tensor_t x = mx_find("X"), y = mx_find("Y");
  if (!x.entry || !y.entry) return 2;
  const uint32_t n = mx_num_chips(), me = mx_chip_index();
  const uint32_t block = mx_launch_u32(x.entry, MX_LAUNCH_E_BYTES) / n;
  const uint64_t xa = MX_SPACE_HBM + mx_addr(x), ya = MX_SPACE_HBM + mx_addr(y);
  for (uint32_t j = 1; j < n; ++j) {
    const uint32_t to = (me + j) % n, from = (me + n - j) % n;
    mx_ici_send(to, 3, xa + (uint64_t)to * block, block, mx_sync_none());
    mx_ici_recv(from, 3, ya + (uint64_t)from * block, block, mx_sync_none());
  }
  mx_dma(xa + (uint64_t)me * block, ya + (uint64_t)me * block, block, 1, block, block,
         mx_sync_none());
  return (int)mx_fence();
}
