/* Point to point: chip `src` sends tensor X to chip `dst` (tag `tag`), which receives it into Y
 * (tag `recv_tag`, default `tag`); every other chip only fences. Scalars: src (0), dst (1), tag
 * (1), recv_tag, recv_from (default src: a wrong peer makes a receive nothing will match),
 * send_bytes (default X's size: a larger one tests the engine's message-size limit). */
#include <stdint.h>

#include "mxemu/hal.h"

int main(void) {
  const uint32_t me = mx_chip_index();
  const uint32_t src = mx_scalar("src", 0), dst = mx_scalar("dst", 1);
  const uint32_t tag = mx_scalar("tag", 1), recv_tag = mx_scalar("recv_tag", tag);
  const uint32_t recv_from = mx_scalar("recv_from", src);
  if (me == src) {
    const mx_tensor_t x = mx_find("X");
    if (!x.entry) return 2;
    const uint32_t bytes = mx_scalar("send_bytes", mx_launch_u32(x.entry, MX_LAUNCH_E_BYTES));
    mx_ici_send(dst, tag, MX_SPACE_HBM + mx_addr(x), bytes, mx_sync_none());
  }
  if (me == dst) {
    const mx_tensor_t y = mx_find("Y");
    if (!y.entry) return 2;
    mx_ici_recv(recv_from, recv_tag, MX_SPACE_HBM + mx_addr(y),
                mx_launch_u32(y.entry, MX_LAUNCH_E_BYTES), mx_sync_none());
  }
  return (int)mx_fence();
}
