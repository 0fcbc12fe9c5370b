/* Loads from 0x4000_0000, where nothing is mapped, with no trap handler. */
  .section .text.init, "ax"
  .globl _start
_start:
  li t0, 0x40000000
  lw t1, 0(t0)
  j _start
