/* Executes an all-zero word (illegal) with no trap handler: the emulator must stop with a fault. */
  .section .text.init, "ax"
  .globl _start
_start:
  nop
  nop
  .word 0x00000000
