/* Start-up code of mxemu firmware: gp, sp, TLS, .tbss/.bss zeroed, constructors, main, exit.
 * .data needs no copy: the loader places every segment at its run address. mtvec stays 0, so a
 * trap with no handler installed by the firmware stops the emulator with a clear error. */
  .section .text.init, "ax"
  .globl _start
_start:
  .option push
  .option norelax
  la gp, __global_pointer$
  .option pop
  la sp, __stack
  la tp, __tls_base
  /* Zero .tbss then .bss (word aligned). */
  la a0, __tbss_start
  la a1, __bss_end
1:
  bgeu a0, a1, 2f
  sw zero, 0(a0)
  addi a0, a0, 4
  j 1b
2:
  call __libc_init_array
  li a0, 0
  li a1, 0
  call main
  call exit
3:
  j 3b
