/* A restartable all-gather around the ring: Y (chips x B bytes) ends up holding every chip's X
 * (B bytes) in chip order. If the interconnect's epoch changes (a chip failed and a spare took
 * its place: pending messages were aborted), it starts over at once, from its input, which it
 * never overwrites; a final barrier keeps anyone from leaving before everyone has it all. Each step waits for the previous one (the data it forwards
 * arrived there). Exits with the number of attempts - 1 (0: no restart). */
#include <stdint.h>

#include "mxemu/hal.h"

int main(void) {
  const mx_tensor_t x = mx_find("X"), y = mx_find("Y");
  if (!x.entry || !y.entry) return 100;
  const uint32_t n = mx_num_chips();
  const uint32_t bytes = mx_launch_u32(x.entry, MX_LAUNCH_E_BYTES);
  const uint64_t xa = MX_SPACE_HBM + mx_addr(x), ya = MX_SPACE_HBM + mx_addr(y);
  int attempts = 0;
  for (;;) {
    while (mx_ctrl(MX_CTRL_ICI_STATE) != 0) {
      /* the pod is being rewired around a failed chip */
    }
    const uint32_t epoch = mx_ctrl(MX_CTRL_ICI_EPOCH);
    mx_ctrl_write(MX_CTRL_ICI_EPOCH, epoch); /* acknowledged: the ICI engine works again */
    const uint32_t me = mx_chip_index();  /* a spare learns its place when it starts */
    const uint32_t next = (me + 1) % n, prev = (me + n - 1) % n;
    ++attempts;
    mx_dma(xa, ya + (uint64_t)me * bytes, bytes, 1, bytes, bytes, mx_sync_none());
    mx_fence();
    int restart = 0;
    for (uint32_t s = 0; s + 1 < n && !restart; ++s) {
      const uint32_t out = (me + n - s) % n, in = (me + 2 * n - s - 1) % n;
      mx_ici_send(next, 10, ya + (uint64_t)out * bytes, bytes, mx_sync_none());
      mx_ici_recv(prev, 10, ya + (uint64_t)in * bytes, bytes, mx_sync_none());
      mx_fence();
      restart = mx_ctrl(MX_CTRL_ICI_EPOCH) != epoch;  /* aborted: start over at once */
    }
    if (restart) continue;
    /* Barrier: a token to and from every other chip, so nobody leaves before all have it all. */
    for (uint32_t j = 0; j < n; ++j) {
      if (j != me) mx_ici_send(j, 11, MX_SPACE_VMEM, 4, mx_sync_none());
    }
    for (uint32_t j = 0; j < n; ++j) {
      if (j != me) mx_ici_recv(j, 11, MX_SPACE_VMEM + 64 + 4 * j, 4, mx_sync_none());
    }
    mx_fence();
    if (mx_ctrl(MX_CTRL_ICI_EPOCH) == epoch) break;
  }
  return attempts - 1;
}
