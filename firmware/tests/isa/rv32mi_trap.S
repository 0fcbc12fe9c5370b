/* Traps: ecall, ebreak, illegal instructions, out-of-map loads/stores/jumps, misaligned accesses
 * that are not to plain memory (MMIO, HTIF words, off the end of a region), the instruction
 * access fault, mret (MPIE -> MIE), fence/fence.i, and interrupts: machine timer
 * (with WFI) and machine software, direct and vectored mtvec. The handler of riscv_test.inc
 * leaves mcause/mepc/mtval in t3/t4/t5. */
#include "riscv_test.inc"

#define EXPECT_TRAP(n, cause, code...) \
  test_##n: li TESTNUM, n;             \
  li t3, -1;                           \
  code;                                \
  li x5, cause;                        \
  bne t3, x5, fail;

RVTEST_CODE_BEGIN
  /* ecall: cause 11, mepc = the ecall. */
  EXPECT_TRAP(2, 11, 1: ecall)
  la x5, 1b
  bne t4, x5, fail
  bnez t5, fail
  /* ebreak: cause 3, mepc = mtval = pc. */
  EXPECT_TRAP(3, 3, 1: ebreak)
  la x5, 1b
  bne t4, x5, fail
  bne t5, x5, fail
  /* Illegal encodings: all-zero word, a compressed-looking word, reserved opcode, bad funct7. */
  EXPECT_TRAP(4, 2, 1: .word 0x00000000)
  bnez t5, fail
  EXPECT_TRAP(5, 2, .word 0x00000001)
  li x5, 1
  bne t5, x5, fail
  EXPECT_TRAP(6, 2, .word 0x0000007f)
  EXPECT_TRAP(7, 2, .word 0x40001033)   /* sll with funct7 = 0x20 */
  EXPECT_TRAP(8, 2, .word 0x02005013 | (1 << 30) | (1 << 25))  /* srai with bad funct7 */
  EXPECT_TRAP(9, 2, .word 0x00002063)   /* branch funct3 = 2 */
  EXPECT_TRAP(10, 2, .word 0x00003003)  /* load funct3 = 3 (ld: RV64 only) */
  EXPECT_TRAP(11, 2, .word 0x00003023)  /* store funct3 = 3 (sd) */
  EXPECT_TRAP(12, 2, .word 0x00001067)  /* jalr funct3 = 1 */
  EXPECT_TRAP(13, 2, .word 0x00200073)  /* uret-like: not in M-only RV32IM */
  /* An illegal instruction does not write rd. */
  TEST_CASE(14, x14, 77, li x14, 77; .word 0x40001733)  /* sll x14,... with bad funct7 */
  /* Misaligned accesses complete in plain memory (rv32ui_ma_data; rv32mi_ma_trap for the trapping
   * configuration) but not on MMIO devices or the HTIF words: access fault 5 / 7, mtval = the
   * address, rd unchanged, nothing written (the console prints nothing, the run does not end). */
  EXPECT_TRAP(15, 5, li x1, 0x10001000; li x14, 9; lw x14, 1(x1))  /* system registers */
  li x5, 0x10001001
  bne t5, x5, fail
  li x5, 9
  bne x14, x5, fail
  EXPECT_TRAP(16, 5, li x1, 0x02000000; lh x14, 3(x1))   /* timer */
  EXPECT_TRAP(17, 5, li x1, 0x10000000; lhu x14, 1(x1))  /* console */
  EXPECT_TRAP(18, 7, li x1, 0x10000000; li x2, 0x41; sw x2, 2(x1))
  EXPECT_TRAP(19, 7, la x1, tohost; li x2, 0x0303; sh x2, 1(x1))
  la x5, tohost
  addi x5, x5, 1
  bne t5, x5, fail
  TEST_CASE(20, x14, 0x44332211, la x1, tdat; lw x14, 0(x1))
  /* Access faults: nothing is mapped at 0x4000_0000 or at 0. */
  EXPECT_TRAP(21, 5, li x1, 0x40000000; lw x14, 0(x1))
  li x5, 0x40000000
  bne t5, x5, fail
  EXPECT_TRAP(22, 7, li x1, 0; sb x0, 3(x1))
  li x5, 3
  bne t5, x5, fail
  /* Misaligned jump target: cause 0 at the jump, mtval = target, link register not written. */
  EXPECT_TRAP(23, 0, li x7, 5; la x1, 1f; addi x1, x1, 2; 2: jalr x7, 0(x1); 1: nop)
  la x5, 2b
  bne t4, x5, fail
  li x5, 5
  bne x7, x5, fail
  EXPECT_TRAP(24, 0, li x1, 1; 2: beq x1, x1, 2b + 6)
  /* Instruction access fault: jump into unmapped memory; mepc = mtval = target. */
  EXPECT_TRAP(25, 1, la s10, 1f; li x1, 0x40000000; jalr x0, 0(x1); 1: nop)
  li x5, 0x40000000
  bne t4, x5, fail
  bne t5, x5, fail
  /* Executing from an MMIO device (the console) is an access fault too. */
  EXPECT_TRAP(26, 1, la s10, 1f; li x1, 0x10000000; jalr x0, 0(x1); 1: nop)
  /* mret: mstatus.MIE <- MPIE, MPIE <- 1; pc <- mepc. */
test_27:
  li TESTNUM, 27
  li x1, 0x80
  csrw mstatus, x1          /* MIE = 0, MPIE = 1 */
  la x1, 1f
  csrw mepc, x1
  mret
  j fail
1:
  csrr x14, mstatus
  li x5, 0x1888
  bne x14, x5, fail
  csrw mstatus, zero
  /* Trap entry: MPIE <- MIE, MIE <- 0. */
test_28:
  li TESTNUM, 28
  csrw mie, zero
  li x1, 0x8
  csrw mstatus, x1          /* MIE = 1 */
  ecall
  csrr x14, mstatus         /* after mret: MIE restored from MPIE = 1 */
  andi x14, x14, 0x88
  li x5, 0x88
  bne x14, x5, fail
  csrw mstatus, zero
  /* fence and fence.i execute as no-ops. */
  TEST_CASE(29, x14, 3, li x14, 3; fence; fence.i; fence rw, rw)
  /* Machine timer interrupt through WFI: mcause = 0x80000007, mepc = after the wfi. */
test_30:
  li TESTNUM, 30
  li t3, 0
  li x1, 0x02000000
  li x2, 0x4000
  add x2, x1, x2            /* mtimecmp */
  li x8, 0xbff8
  add x8, x1, x8            /* mtime */
  lw x4, 0(x8)
  addi x4, x4, 500
  sw x4, 0(x2)
  sw zero, 4(x2)
  li x5, 0x80
  csrw mie, x5
  csrsi mstatus, 0x8
1:
  wfi
2:
  li x5, 0x80000007
  bne t3, x5, fail
  la x5, 2b
  bne t4, x5, fail
  lw x6, 0(x8)              /* time has reached mtimecmp */
  bltu x6, x4, fail
  csrw mstatus, zero
  /* Machine software interrupt through msip, with a vectored mtvec: handler at base + 4 * 3. */
test_31:
  li TESTNUM, 31
  li t3, 0
  la x1, vec_table
  ori x1, x1, 1
  csrw mtvec, x1
  li x5, 0x8
  csrw mie, x5
  csrsi mstatus, 0x8
  li x1, 0x02000000
  li x2, 1
  sw x2, 0(x1)              /* msip = 1: taken at the next instruction boundary */
  nop
  li x5, 0x80000003
  bne t3, x5, fail
  li x5, 0x55
  bne t6, x5, fail          /* went through vector slot 3 */
  csrw mstatus, zero
  la x1, trap_handler
  csrw mtvec, x1
  /* A pending but disabled interrupt is not taken (mstatus.MIE = 0). */
test_32:
  li TESTNUM, 32
  li t3, 0
  li x1, 0x02000000
  li x2, 1
  sw x2, 0(x1)
  li x5, 0x8
  csrw mie, x5
  nop
  bnez t3, fail
  csrr x14, mip
  andi x14, x14, 0x8
  beqz x14, fail            /* MSIP visible in mip */
  sw zero, 0(x1)
  csrw mie, zero
  /* Setting mtime back (to 0) keeps the timer working: interrupt when it reaches 40. */
test_33:
  li TESTNUM, 33
  li t3, 0
  li x1, 0x02000000
  li x2, 0x4000
  add x2, x1, x2            /* mtimecmp */
  li x8, 0xbff8
  add x8, x1, x8            /* mtime */
  li x4, -1
  sw x4, 4(x2)              /* mtimecmp = far future while it is rewritten */
  sw zero, 0(x8)
  sw zero, 4(x8)            /* mtime = 0 */
  li x4, 40
  sw x4, 0(x2)
  sw zero, 4(x2)            /* mtimecmp = 40 */
  li x5, 0x80
  csrw mie, x5
  csrsi mstatus, 0x8
  wfi
  li x5, 0x80000007
  bne t3, x5, fail
  lw x6, 0(x8)
  bltu x6, x4, fail         /* mtime >= 40 */
  li x7, 200
  bgeu x6, x7, fail         /* and it really restarted from 0 */
  csrw mstatus, zero
  /* A misaligned access that runs off the end of a plain-memory region, or into the HTIF words,
   * faults with mtval = the first byte it cannot access; a faulting store writes none of its
   * bytes. RAM is 1 MiB (the default) at 0x8000_0000, the launch block 64 KiB at 0x3000_0000. */
  EXPECT_TRAP(34, 5, li x1, 0x800ffffe; li x14, 9; 1: lw x14, 0(x1))
  la x5, 1b
  bne t4, x5, fail
  li x5, 0x80100000
  bne t5, x5, fail
  li x5, 9
  bne x14, x5, fail
  EXPECT_TRAP(35, 7, li x1, 0x800fffff; li x2, -1; sh x2, 0(x1))
  li x5, 0x80100000
  bne t5, x5, fail
  TEST_CASE(36, x14, 0, li x1, 0x800fffff; lbu x14, 0(x1))  /* RAM's last byte unchanged */
  EXPECT_TRAP(37, 5, li x1, 0x3000fffd; lw x14, 0(x1))
  li x5, 0x30010000
  bne t5, x5, fail
  EXPECT_TRAP(38, 5, la x1, tohost; lw x14, -2(x1))
  la x5, tohost
  bne t5, x5, fail
  TEST_PASSFAIL

  .align 6
vec_table:
  j fail                    /* 0: exceptions (none expected here) */
  j fail
  j fail
  j vec_msi                 /* 3: machine software interrupt */
vec_msi:
  csrr t3, mcause
  li t6, 0x55
  li x1, 0x02000000
  sw zero, 0(x1)            /* clear msip */
  mret
RVTEST_CODE_END

RVTEST_DATA_BEGIN
tdat:
  .word 0x44332211
  .word 0x88776655
RVTEST_DATA_END
