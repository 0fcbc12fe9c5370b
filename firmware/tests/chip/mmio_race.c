/* Regression firmware for "fast == exact" at the core's MMIO accesses (tests/chip/test_chip_sync,
 * docs/CORE.md): it polls the DMA queue's DONE register and a semaphore the DMA signals while
 * DMAs of growing size (HBM -> VMEM) complete, with a varying delay before the poll, so that over
 * the iterations some polls land exactly on a descriptor's completion cycle. Whether such a read
 * sees the completion must not depend on the core's mode (decoupled or lock-step). It prints how
 * many polls it made and a checksum of the cycles (mcycle) at which it saw each completion, and
 * exits 0; any fault of the fence makes it exit 3. */
#include <stdint.h>
#include <stdio.h>

#include "mxemu/hal.h"

static inline uint32_t mcycle(void) {
  uint32_t c;
  __asm__ volatile("csrr %0, mcycle" : "=r"(c));
  return c;
}

int main(void) {
  uint32_t done_polls = 0, sem_polls = 0, sum = 0;
  for (uint32_t i = 0; i < 128; ++i) {
    const uint32_t before = mx_mmio_read(MX_QUEUE_ADDR(MX_Q_DMA, MX_QREG_DONE));
    mx_dma(MX_SPACE_HBM + 0x1000, MX_SPACE_VMEM + 0x2000, 256 + 32 * i, 1, 0, 0, mx_sync(-1, 0, 4));
    for (volatile uint32_t d = 0; d < i % 8; ++d) {
    }
    while (mx_mmio_read(MX_QUEUE_ADDR(MX_Q_DMA, MX_QREG_DONE)) == before) ++done_polls;
    sum = sum * 31u + mcycle();
    mx_dma(MX_SPACE_HBM + 0x1000, MX_SPACE_VMEM + 0x2000, 256 + 32 * i, 1, 0, 0, mx_sync(-1, 0, 5));
    for (volatile uint32_t d = 0; d < i % 5; ++d) {
    }
    while (mx_sem_get(5) == 0) ++sem_polls;
    sum = sum * 31u + mcycle();
    mx_sem_set(4, 0);
    mx_sem_set(5, 0);
  }
  if (mx_fence() != 0) return 3;
  printf("done_polls=%lu sem_polls=%lu sum=0x%08lx\n", (unsigned long)done_polls,
         (unsigned long)sem_polls, (unsigned long)sum);
  return 0;
}
