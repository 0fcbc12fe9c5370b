/* mxemu firmware runtime: stdio on the MMIO console, exit through spike's HTIF tohost word. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "mxemu/platform.h"
#include "mxemu/runtime.h"

/* The HTIF words; the emulator finds them by these symbol names. */
volatile uint64_t tohost __attribute__((section(".tohost"), aligned(64)));
volatile uint64_t fromhost __attribute__((section(".tohost"), aligned(64)));

void mx_putc(char c) { *(volatile uint8_t *)(MXEMU_CONSOLE_BASE + MXEMU_CONSOLE_TX) = (uint8_t)c; }

static int console_put(char c, FILE *f) {
  (void)f;
  mx_putc(c);
  return (unsigned char)c;
}

static FILE console = FDEV_SETUP_STREAM(console_put, NULL, NULL, _FDEV_SETUP_WRITE);
FILE *const stdin = &console;
FILE *const stdout = &console;
FILE *const stderr = &console;

void _exit(int code) {
  /* High word first: the emulator acts on the write of the low word. */
  volatile uint32_t *w = (volatile uint32_t *)&tohost;
  w[1] = 0;
  w[0] = ((uint32_t)code << 1) | 1u;
  for (;;) {
  }
}
