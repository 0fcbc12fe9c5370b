/* mxemu firmware runtime helpers (firmware/runtime). */
#ifndef MXEMU_RUNTIME_H
#define MXEMU_RUNTIME_H

#include <stdint.h>

#include "mxemu/platform.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Writes one byte to the console. */
void mx_putc(char c);

static inline uint32_t mx_read_sysreg(uint32_t offset) {
  return *(volatile uint32_t*)(MXEMU_SYSREG_BASE + offset);
}

/* 64-bit cycle counter (mcycle), read consistently across the two halves. */
static inline uint64_t mx_cycles(void) {
  uint32_t hi, lo, hi2;
  do {
    __asm__ volatile("csrr %0, mcycleh" : "=r"(hi));
    __asm__ volatile("csrr %0, mcycle" : "=r"(lo));
    __asm__ volatile("csrr %0, mcycleh" : "=r"(hi2));
  } while (hi != hi2);
  return ((uint64_t)hi << 32) | lo;
}

#ifdef __cplusplus
}
#endif

#endif /* MXEMU_RUNTIME_H */
