/* Reads a SystemC-timed device at 0x2000_0000 (tests/core/test_timed_device.cpp): the first load
 * blocks until the device's event. Results: mcycle before the load, the
 * cycle the device saw at the access, mcycle after it (words 0..2 of the launch block). */
  .section .text.init, "ax"
  .globl _start
_start:
  li t0, 100
1:
  addi t0, t0, -1
  bnez t0, 1b
  li a1, 0x20000000
  csrr s0, mcycle
  lw a2, 0(a1)
  csrr s1, mcycle
  li t1, 0x30000000
  sw s0, 0(t1)
  sw a2, 4(t1)
  sw s1, 8(t1)
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
