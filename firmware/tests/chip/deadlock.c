/* A DMA waits on semaphore 5, which nothing will ever signal, and the core fences: the run must
 * stop with a deadlock report instead of hanging. */
#include "mxemu/hal.h"

int main(void) {
  mx_sem_set(5, 0);
  mx_dma(MX_SPACE_VMEM, MX_SPACE_VMEM + 4096, 64, 1, 64, 64, mx_sync(5, 1, -1));
  return (int)mx_fence();
}
