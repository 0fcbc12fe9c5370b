/* Timer interrupts in C: a machine-mode handler re-arms mtimecmp every 1000 ticks; main sleeps
 * in WFI until five interrupts have arrived, then exits with code 5 - ticks (0). */
#include <stdint.h>
#include <stdio.h>

#include "mxemu/platform.h"

#define MTIMECMP ((volatile uint32_t *)(MXEMU_TIMER_BASE + MXEMU_TIMER_MTIMECMP))
#define MTIME ((volatile uint32_t *)(MXEMU_TIMER_BASE + MXEMU_TIMER_MTIME))

static volatile int ticks;

static void arm(uint32_t delta) {
  const uint64_t now = ((uint64_t)MTIME[1] << 32) | MTIME[0];
  const uint64_t when = now + delta;
  MTIMECMP[1] = 0xffffffffu; /* no spurious match while the halves are written */
  MTIMECMP[0] = (uint32_t)when;
  MTIMECMP[1] = (uint32_t)(when >> 32);
}

__attribute__((interrupt("machine"))) static void handler(void) {
  uint32_t cause;
  __asm__ volatile("csrr %0, mcause" : "=r"(cause));
  if (cause == 0x80000007u) {
    ++ticks;
    arm(1000);
  }
}

int main(void) {
  __asm__ volatile("csrw mtvec, %0" ::"r"(handler));
  arm(1000);
  __asm__ volatile("csrs mie, %0" ::"r"(1u << 7));
  __asm__ volatile("csrsi mstatus, 8");
  while (ticks < 5) __asm__ volatile("wfi");
  __asm__ volatile("csrci mstatus, 8");
  printf("timer ticks %d\n", ticks);
  return 5 - ticks;
}
