/* Target of the chip gdb test (tests/core/test_gdb_chip.cpp): puts the host's input tensor `x`
 * (HBM) into VMEM and into MXU 1's accumulators, sets semaphores, leaves two NOPs on the VPU
 * queue (the first waits for semaphore 5), and stops at probe(1) for the debugger. Then it
 * releases the NOPs, copies VMEM 0x200..0x20f (which the debugger may have written) to HBM
 * 0x10000000, prints mscratch and semaphore 8 (which the debugger may have written) and stops at
 * probe(2). Its flow does not depend on the debugger: without one it runs the same instructions. */
#include <stdint.h>
#include <stdio.h>

#include "mxemu/hal.h"

/* A breakpoint target the compiler keeps. */
__attribute__((noinline)) void probe(int phase) {
  __asm__ volatile("" : : "r"(phase) : "memory");
}

int main(void) {
  const mx_tensor_t x = mx_find("x");
  if (x.entry == 0) return 2;
  const uint64_t hx = MX_SPACE_HBM + mx_addr(x);
  const uint32_t bytes = 4u * mx_dim(x, 0);
  mx_dma(hx, MX_SPACE_VMEM + 0x100, bytes, 1, 0, 0, mx_sync(-1, 0, 3));
  mx_dma(hx, mx_acc_addr(1, 0x40), bytes, 1, 0, 0, mx_sync(-1, 0, 3));
  mx_sem_set(7, 42);
  if (mx_fence() != 0) return 3;
  mx_nop(MX_Q_VPU, mx_sync(5, 1, 6));
  mx_nop(MX_Q_VPU, mx_sync_none());
  probe(1);
  mx_sem_set(5, 1);
  if (mx_fence() != 0) return 4;
  mx_dma(MX_SPACE_VMEM + 0x200, MX_SPACE_HBM + 0x10000000ull, 16, 1, 0, 0, mx_sync_none());
  if (mx_fence() != 0) return 5;
  uint32_t scratch;
  __asm__ volatile("csrr %0, mscratch" : "=r"(scratch));
  printf("mscratch=0x%08lx sem5=%lu sem6=%lu sem8=%lu\n", (unsigned long)scratch,
         (unsigned long)mx_sem_get(5), (unsigned long)mx_sem_get(6),
         (unsigned long)mx_sem_get(8));
  probe(2);
  return 0;
}
