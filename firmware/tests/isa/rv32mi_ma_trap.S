/* Misaligned loads and stores trap when configured to (CoreConfig::misaligned_trap = true, TOML
 * `[core] misaligned`; tests/core/test_isa.cpp runs this ELF so): every LH/LHU/LW/SH/SW at a
 * misaligned offset raises cause 4 (load) / 6 (store) with mtval = the address and mepc = the
 * instruction, writes no register and no memory. The misaligned check comes before the access,
 * so a misaligned access to MMIO or to nothing is a misaligned trap too, not an access fault.
 * Aligned accesses of every width still work. The handler of riscv_test.inc leaves mcause / mepc
 * / mtval in t3 / t4 / t5. */
#include "riscv_test.inc"

/* `insn` at tdat + offset traps with `cause`, mtval = tdat + offset, mepc = the instruction, and
 * x14 keeps 0x5a5a5a5a. */
#define MA_TRAP(n, cause, insn, offset) \
  test_##n: li TESTNUM, n;              \
  li t3, -1;                            \
  la s0, tdat;                          \
  li x14, 0x5a5a5a5a;                   \
  li x2, 0x01020304;                    \
  1: insn, offset(s0);                  \
  li x5, cause;                         \
  bne t3, x5, fail;                     \
  la x5, 1b;                            \
  bne t4, x5, fail;                     \
  addi x5, s0, offset;                  \
  bne t5, x5, fail;                     \
  li x5, 0x5a5a5a5a;                    \
  bne x14, x5, fail;

/* `code` traps with `cause` (t3 = mcause). */
#define EXPECT_MA(n, cause, code...) \
  test_##n: li TESTNUM, n;           \
  li t3, -1;                         \
  code;                              \
  li x5, cause;                      \
  bne t3, x5, fail;

RVTEST_CODE_BEGIN
  MA_TRAP(2, 4, lh x14, 1)
  MA_TRAP(3, 4, lh x14, 3)
  MA_TRAP(4, 4, lhu x14, 1)
  MA_TRAP(5, 4, lhu x14, 3)
  MA_TRAP(6, 4, lw x14, 1)
  MA_TRAP(7, 4, lw x14, 2)
  MA_TRAP(8, 4, lw x14, 3)
  MA_TRAP(9, 4, lw x14, 7)
  MA_TRAP(10, 6, sh x2, 1)
  MA_TRAP(11, 6, sh x2, 3)
  MA_TRAP(12, 6, sw x2, 1)
  MA_TRAP(13, 6, sw x2, 2)
  MA_TRAP(14, 6, sw x2, 3)
  MA_TRAP(15, 6, sw x2, 5)
  /* None of the stores wrote anything. */
  TEST_CASE(16, x14, 0x44332211, la s0, tdat; lw x14, 0(s0))
  TEST_CASE(17, x14, 0x88776655, la s0, tdat; lw x14, 4(s0))
  /* Aligned accesses of every width are unaffected. */
  TEST_CASE(18, x14, 0x00008877, la s0, tdat; lhu x14, 6(s0))
  TEST_CASE(19, x14, 0xffff8877, la s0, tdat; lh x14, 6(s0))
  TEST_CASE(20, x14, 0x00000033, la s0, tdat; lbu x14, 2(s0))
  TEST_CASE(21, x14, 0x0000abcd, la s0, tdat; li x2, 0xabcd; sh x2, 8(s0); lhu x14, 8(s0))
  TEST_CASE(22, x14, 0x12345678, la s0, tdat; li x2, 0x12345678; sw x2, 12(s0); lw x14, 12(s0))
  TEST_CASE(23, x14, 0x000000ab, la s0, tdat; li x2, 0xab; sb x2, 17(s0); lbu x14, 17(s0))
  /* Misaligned to an MMIO device (the console) and to unmapped memory: still cause 4 / 6. */
  EXPECT_MA(24, 4, li s0, 0x10000000; 1: lw x14, 1(s0))
  li x5, 0x10000001
  bne t5, x5, fail
  EXPECT_MA(25, 6, li s0, 0x40000000; 1: sh x0, 3(s0))
  li x5, 0x40000003
  bne t5, x5, fail
  /* Unmapped and aligned is still an access fault. */
  EXPECT_MA(26, 5, li s0, 0x40000000; lw x14, 4(s0))
  TEST_PASSFAIL
RVTEST_CODE_END

RVTEST_DATA_BEGIN
tdat:
  .word 0x44332211
  .word 0x88776655
  .word 0
  .word 0
  .word 0
RVTEST_DATA_END
