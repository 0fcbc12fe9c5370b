/* ebreak and the debug trigger CSRs (RISC-V debug specification 1.0, Sdtrig), as riscv-tests
 * rv32mi-p-breakpoint uses them: tselect (4 triggers), tdata1 as mcontrol (type 2) with its WARL
 * fields, tdata2, tdata3, tinfo, tcontrol (mte / mpte), and address triggers on execute, load and
 * store raising breakpoint exceptions (cause 3, mepc = the instruction, mtval = the address,
 * before the instruction or access happens). Expected values come from the specification's field
 * layout: tdata1 = type[31:28] dmode[27] maskmax[26:21] hit[20] select[19] timing[18]
 * sizelo[17:16] action[15:12] chain[11] match[10:7] m[6] s[4] u[3] execute[2] store[1] load[0].
 *
 * This file's own handler records mcause / mepc / mtval / tcontrol in t3 / t4 / t5 / s11 and
 * resumes at s10 when it is non-zero (then clears it), else after the trapping instruction. */
#include "riscv_test.inc"

#define TSELECT 0x7a0
#define TDATA1 0x7a1
#define TDATA2 0x7a2
#define TDATA3 0x7a3
#define TINFO 0x7a4
#define TCONTROL 0x7a5

#define MC_EXEC 0x20000044   /* type 2, m, execute, match 0 */
#define MC_LOAD 0x20000041   /* type 2, m, load */
#define MC_STORE 0x20000042  /* type 2, m, store */
#define MC_HIT 0x00100000

/* `code` traps with `cause` (t3 = mcause); t3 = -1 if nothing trapped. */
#define EXPECT_TRAP(n, cause, code...) \
  test_##n: li TESTNUM, n;             \
  li t3, -1;                           \
  code;                                \
  li x5, cause;                        \
  bne t3, x5, fail;

/* `code` does not trap. */
#define EXPECT_NO_TRAP(n, code...) \
  test_##n: li TESTNUM, n;         \
  li t3, -1;                       \
  code;                            \
  li x5, -1;                       \
  bne t3, x5, fail;

/* CSR `csr` reads `value`. */
#define CSR_IS(n, csr, value) TEST_CASE(n, x14, value, csrr x14, csr)

RVTEST_CODE_BEGIN
  la x1, bp_handler
  csrw mtvec, x1

  /* ebreak: cause 3, mepc = mtval = its pc. */
  EXPECT_TRAP(2, 3, 1: ebreak)
  la x5, 1b
  bne t4, x5, fail
  bne t5, x5, fail

  /* Reset state: tselect 0, every trigger disabled (type 15), tdata2 0, tcontrol 0. */
  CSR_IS(3, TSELECT, 0)
  CSR_IS(4, TDATA1, 0xf0000000)
  CSR_IS(5, TDATA2, 0)
  CSR_IS(6, TCONTROL, 0)
  TEST_CASE(7, x14, 0xf0000000, li x1, 3; csrw TSELECT, x1; csrr x14, TDATA1)
  /* tselect is WARL: 4 triggers (0..3); an index with no trigger leaves it as it was. */
  TEST_CASE(8, x14, 3, li x1, 4; csrw TSELECT, x1; csrr x14, TSELECT)
  TEST_CASE(9, x14, 3, li x1, -1; csrw TSELECT, x1; csrr x14, TSELECT)
  TEST_CASE(10, x14, 0, csrw TSELECT, zero; csrr x14, TSELECT)
  /* tinfo: version 1 (bits 31:24), types 2 and 15 supported; writes ignored. */
  CSR_IS(11, TINFO, 0x01008004)
  TEST_CASE(12, x14, 0x01008004, li x1, -1; csrw TINFO, x1; csrr x14, TINFO)
  /* tdata3: no textra matching, reads 0 whatever is written. */
  TEST_CASE(13, x14, 0, li x1, -1; csrw TDATA3, x1; csrr x14, TDATA3)
  /* tcontrol: only mte (bit 3) and mpte (bit 7) exist. */
  TEST_CASE(14, x14, 0x88, li x1, -1; csrw TCONTROL, x1; csrr x14, TCONTROL)
  TEST_CASE(15, x14, 0, csrw TCONTROL, zero; csrr x14, TCONTROL)

  /* tdata1 WARL: an mcontrol write reads back as written when only supported fields are set. */
  TEST_CASE(16, x14, MC_EXEC, li x1, MC_EXEC; csrw TDATA1, x1; csrr x14, TDATA1)
  /* dmode, maskmax, select, timing, sizelo, action, chain, s, u and bit 5 are hard-wired to 0. */
  TEST_CASE(17, x14, 0x20100047, li x1, 0x2ffffc7f; csrw TDATA1, x1; csrr x14, TDATA1)
  /* match 2 (>=), 3 (<), 4 and 5 (masks) are kept; 1 (NAPOT, maskmax = 0) and 6.. become 0. */
  TEST_CASE(18, x14, 0x20000141, li x1, 0x20000141; csrw TDATA1, x1; csrr x14, TDATA1)
  TEST_CASE(19, x14, 0x200001c1, li x1, 0x200001c1; csrw TDATA1, x1; csrr x14, TDATA1)
  TEST_CASE(20, x14, 0x20000241, li x1, 0x20000241; csrw TDATA1, x1; csrr x14, TDATA1)
  TEST_CASE(21, x14, 0x200002c1, li x1, 0x200002c1; csrw TDATA1, x1; csrr x14, TDATA1)
  TEST_CASE(22, x14, 0x20000041, li x1, 0x200000c1; csrw TDATA1, x1; csrr x14, TDATA1)
  TEST_CASE(23, x14, 0x20000041, li x1, 0x20000341; csrw TDATA1, x1; csrr x14, TDATA1)
  /* Any other type disables the trigger (reads type 15); tdata2 keeps its value. */
  TEST_CASE(24, x14, 0xf0000000, li x1, 0x60000044; csrw TDATA1, x1; csrr x14, TDATA1)
  TEST_CASE(25, x14, 0xf0000000, csrw TDATA1, zero; csrr x14, TDATA1)
  TEST_CASE(26, x14, 0x12345678, li x1, 0x12345678; csrw TDATA2, x1; csrw TDATA1, zero; csrr x14, TDATA2)

  /* Execute trigger, but tcontrol.mte = 0: M-mode triggers do not fire. */
  EXPECT_NO_TRAP(27, la x1, 1f; csrw TDATA2, x1; li x1, MC_EXEC; csrw TDATA1, x1; 1: nop)
  /* mte = 1: fires before the instruction executes (x14 keeps 0); mepc = mtval = its address. */
  EXPECT_TRAP(28, 3, la x1, 1f; csrw TDATA2, x1; li x14, 0; li x1, 8; csrw TCONTROL, x1; 1: li x14, 1)
  la x5, 1b
  bne t4, x5, fail
  bne t5, x5, fail
  bnez x14, fail
  /* The handler ran with mte = 0, mpte = 1 (s11); mret restored mte: tcontrol = 0x88. */
  li x5, 0x80
  bne s11, x5, fail
  CSR_IS(29, TCONTROL, 0x88)
  /* hit is set in the trigger that fired. */
  CSR_IS(30, TDATA1, MC_EXEC | MC_HIT)
  /* A load from the execute trigger's address does not fire it. */
  EXPECT_NO_TRAP(31, la x1, 1b; lw x14, 0(x1))
  /* m = 0: the trigger does not fire in M-mode. */
  EXPECT_NO_TRAP(32, la x1, 1f; csrw TDATA2, x1; li x1, MC_EXEC & ~0x40; csrw TDATA1, x1; 1: nop)
  /* An execute trigger on an unmapped address: the breakpoint beats the fetch access fault. */
  EXPECT_TRAP(33, 3, li x1, MC_EXEC; csrw TDATA1, x1; li x1, 0x40000000; csrw TDATA2, x1; la s10, 1f; jr x1; 1: nop)
  li x5, 0x40000000
  bne t4, x5, fail
  bne t5, x5, fail
  csrw TDATA1, zero

  /* Load trigger on data1: the load does not happen (x14 keeps its value), mtval = address. */
  EXPECT_TRAP(34, 3, la x1, data1; csrw TDATA2, x1; li x2, MC_LOAD; csrw TDATA1, x2; li x14, 7; 1: lw x14, 0(x1))
  la x5, 1b
  bne t4, x5, fail
  la x5, data1
  bne t5, x5, fail
  li x5, 7
  bne x14, x5, fail
  /* Stores to data1 and loads of other words do not fire a load trigger. */
  EXPECT_NO_TRAP(35, la x1, data1; li x2, 0x55; sw x2, 0(x1); lw x14, 4(x1); lw x14, -4(x1))
  /* Every byte of an access is compared: lbu data1 fires; lhu at data1 - 2 does not reach it;
   * a misaligned lw at data1 - 2 (bytes data1 - 2 .. data1 + 1) does, mtval = its address. */
  EXPECT_TRAP(36, 3, la x1, data1; lbu x14, 0(x1))
  EXPECT_NO_TRAP(37, la x1, data1; lhu x14, -2(x1); lbu x14, 1(x1))
  EXPECT_TRAP(38, 3, la x1, data1; lw x14, -2(x1))
  la x5, data1
  addi x5, x5, -2
  bne t5, x5, fail

  /* Store trigger on data1: the store does not happen; mtval = address. */
  EXPECT_TRAP(39, 3, la x1, data1; li x2, MC_STORE; csrw TDATA1, x2; li x2, 0x66; sw x2, 0(x1))
  la x5, data1
  bne t5, x5, fail
  TEST_CASE(40, x14, 0x55, la x1, data1; lw x14, 0(x1))  /* still what test 35 stored */
  EXPECT_TRAP(41, 3, la x1, data1; sb x0, 0(x1))
  EXPECT_NO_TRAP(42, la x1, data1; sh x0, 2(x1); sw x0, 4(x1))
  TEST_CASE(43, x14, 0x55, la x1, data1; lw x14, 0(x1))

  /* Two triggers at once: trigger 1 loads of data2, trigger 0 still stores to data1. */
  TEST_CASE(44, x14, 1, li x1, 1; csrw TSELECT, x1; csrr x14, TSELECT)
  EXPECT_TRAP(45, 3, la x1, data2; csrw TDATA2, x1; li x2, MC_LOAD; csrw TDATA1, x2; lw x14, 0(x1))
  la x5, data2
  bne t5, x5, fail
  EXPECT_TRAP(46, 3, la x1, data1; sw x0, 0(x1))
  la x5, data1
  bne t5, x5, fail
  EXPECT_NO_TRAP(47, la x1, data1; lw x14, 0(x1); la x1, data2; sw x0, 0(x1))
  CSR_IS(48, TDATA1, MC_LOAD | MC_HIT)
  TEST_CASE(49, x14, MC_STORE | MC_HIT, csrw TSELECT, zero; csrr x14, TDATA1)
  csrw TDATA1, zero
  li x1, 1
  csrw TSELECT, x1
  csrw TDATA1, zero
  csrw TSELECT, zero

  /* match 2 (address >= tdata2) and 3 (address < tdata2) on loads, tdata2 = data3. */
  EXPECT_TRAP(50, 3, la x1, data3; csrw TDATA2, x1; li x2, MC_LOAD | (2 << 7); csrw TDATA1, x2; lw x14, 4(x1))
  EXPECT_NO_TRAP(51, la x1, data3; lw x14, -4(x1))
  EXPECT_TRAP(52, 3, li x1, MC_LOAD | (3 << 7); csrw TDATA1, x1; la x1, data3; lw x14, -4(x1))
  EXPECT_NO_TRAP(53, la x1, data3; lw x14, 0(x1))
  /* match 4: the low half of the address ANDed with tdata2[31:16] equals tdata2[15:0] (masked):
   * any load inside the 16-byte block dblk fires, one just past it does not. */
  EXPECT_TRAP(54, 3, la x1, dblk; li x2, 0xfff0; and x1, x1, x2; li x2, 0xfff00000; or x1, x1, x2; csrw TDATA2, x1; li x2, MC_LOAD | (4 << 7); csrw TDATA1, x2; la x1, dblk; lw x14, 12(x1))
  EXPECT_NO_TRAP(55, la x1, dblk; lw x14, 16(x1))
  /* match 5: the high half of the address: every load from 0x8000_xxxx fires, the launch
   * block's (0x3000_0000) do not. */
  EXPECT_TRAP(56, 3, li x1, 0xffff8000; csrw TDATA2, x1; li x2, MC_LOAD | (5 << 7); csrw TDATA1, x2; la x1, dblk; lw x14, 0(x1))
  EXPECT_NO_TRAP(57, li x1, 0x30000000; lw x14, 0(x1))
  /* Disabling the trigger (tdata1 = 0) stops it. */
  EXPECT_NO_TRAP(58, csrw TDATA1, zero; la x1, dblk; lw x14, 0(x1))
  /* So does clearing tcontrol.mte. */
  EXPECT_NO_TRAP(59, li x2, MC_LOAD | (5 << 7); csrw TDATA1, x2; csrw TCONTROL, zero; la x1, dblk; lw x14, 0(x1))
  csrw TDATA1, zero
  TEST_PASSFAIL

  .align 2
bp_handler:
  csrr t3, mcause
  csrr t4, mepc
  csrr t5, mtval
  csrr s11, TCONTROL
  bnez s10, 1f
  addi t6, t4, 4
  csrw mepc, t6
  mret
1:
  csrw mepc, s10
  li s10, 0
  mret
RVTEST_CODE_END

RVTEST_DATA_BEGIN
  .word 0
data1:
  .word 0
  .word 0
data2:
  .word 0
  .word 0
data3:
  .word 0
  .word 0
  .align 4
dblk:
  .word 0, 0, 0, 0
  .word 0
RVTEST_DATA_END
