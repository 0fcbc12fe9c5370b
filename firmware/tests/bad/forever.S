/* Loops forever: stopped only by --max-cycles. */
  .section .text.init, "ax"
  .globl _start
_start:
  addi t0, t0, 1
  j _start
