/* Cycle cost of one instruction of each class: mcycle is read around a single instruction
 * (cost = csr_cycles of the first csrr + the instruction's cycles) and the differences are stored
 * in the launch block, word i for case i (tests/core/test_timing.cpp). */
  .section .text.init, "ax"
  .globl _start
_start:
  li s2, 0x30000000          /* results */
  li s3, 0x80001000          /* a RAM word */
  li s4, 0x10001000          /* system registers */
  li s5, 0x10000000          /* console */
  li t1, 100
  li t2, 7

#define MEASURE(i, insn...) \
  csrr s0, mcycle;          \
  insn;                     \
  csrr s1, mcycle;          \
  sub s1, s1, s0;           \
  sw s1, (4 * i)(s2)

  MEASURE(0, add t0, t1, t2)
  MEASURE(1, mul t0, t1, t2)
  MEASURE(2, divu t0, t1, t2)
  MEASURE(3, rem t0, t1, t2)
  MEASURE(4, lw t0, 0(s3))
  MEASURE(5, sw t0, 0(s3))
  MEASURE(6, lw t0, 0(s4))
  MEASURE(7, sb t0, 0(s5))
  MEASURE(8, beq t1, t1, 1f; 1:)
  MEASURE(9, bne t1, t1, 1f; 1:)
  MEASURE(10, jal t0, 1f; 1:)
  MEASURE(11, fence)
  MEASURE(12, lui t0, 5)

  li a0, 1
  la t0, tohost
  sw zero, 4(t0)
  sw a0, 0(t0)
2:
  j 2b

  .section .tohost, "aw"
  .align 6
  .globl tohost
tohost: .dword 0
  .size tohost, 8
