/* One step around the ring: send tensor X (HBM) to the next chip, receive the previous chip's
 * into Y (declared by the runner, same size), both over the ICI engine; then a remote semaphore
 * signal to the next chip, waited for here. Scalars: tag (default 1), hops (default 1: the
 * chip `hops` further along receives, for multi-hop routes). */
#include <stdint.h>
#include <stdio.h>

#include "mxemu/hal.h"

int main(void) {
  const mx_tensor_t x = mx_find("X"), y = mx_find("Y");
  if (!x.entry || !y.entry) return 2;
  const uint32_t n = mx_num_chips(), me = mx_chip_index();
  const uint32_t hops = mx_scalar("hops", 1), tag = mx_scalar("tag", 1);
  const uint32_t next = (me + hops) % n, prev = (me + n - hops % n) % n;
  const uint32_t bytes = mx_launch_u32(x.entry, MX_LAUNCH_E_BYTES);
  mx_sem_set(7, 0);
  mx_ici_send(next, tag, MX_SPACE_HBM + mx_addr(x), bytes, mx_sync_none());
  mx_ici_recv(prev, tag, MX_SPACE_HBM + mx_addr(y), bytes, mx_sync(-1, 0, 6));
  mx_ici_signal(next, 7, mx_sync(6, 1, -1));
  /* Wait for the previous chip's signal (it comes after its data). */
  while (mx_sem_get(7) == 0) {
  }
  return (int)mx_fence();
}
