/* Pushes an MXU_MATMUL whose activations lie outside VMEM: the MXU must fault with an error
 * naming the queue, the descriptor and the cycle. */
#include "mxemu/hal.h"

int main(void) {
  mx_load_w(0, 0, 16, 16, 16, 0, 0, 0, 0, 0, mx_sync_none());
  mx_matmul(0, 0xFFFFFF00u, 128, 64, 0, 0, 0, 0, 0, 64, 0, mx_sync_none());
  return (int)mx_fence();
}
