/* RV32I control transfer: all branches taken / not taken (signed and unsigned), JAL, JALR. */
#include "riscv_test.inc"

RVTEST_CODE_BEGIN
  TEST_BR2_OP_TAKEN(2, beq, 0, 0)
  TEST_BR2_OP_TAKEN(3, beq, -1, -1)
  TEST_BR2_OP_NOTTAKEN(4, beq, 0, 1)
  TEST_BR2_OP_TAKEN(5, bne, 0, 1)
  TEST_BR2_OP_NOTTAKEN(6, bne, -1, -1)
  TEST_BR2_OP_TAKEN(7, blt, -1, 1)
  TEST_BR2_OP_TAKEN(8, blt, 0x80000000, 0x7fffffff)
  TEST_BR2_OP_NOTTAKEN(9, blt, 1, 1)
  TEST_BR2_OP_NOTTAKEN(10, blt, 1, -1)
  TEST_BR2_OP_TAKEN(11, bge, 1, 1)
  TEST_BR2_OP_TAKEN(12, bge, 1, -1)
  TEST_BR2_OP_NOTTAKEN(13, bge, 0x80000000, 0x7fffffff)
  TEST_BR2_OP_TAKEN(14, bltu, 1, 0xffffffff)
  TEST_BR2_OP_NOTTAKEN(15, bltu, 0xffffffff, 1)
  TEST_BR2_OP_NOTTAKEN(16, bltu, 5, 5)
  TEST_BR2_OP_TAKEN(17, bgeu, 0xffffffff, 1)
  TEST_BR2_OP_TAKEN(18, bgeu, 5, 5)
  TEST_BR2_OP_NOTTAKEN(19, bgeu, 0x7fffffff, 0x80000000)

  /* JAL: link register holds the address after the jump. */
test_20:
  li TESTNUM, 20
  li ra, 0
  jal x4, 1f
2:
  j fail
1:
  la x5, 2b
  bne x4, x5, fail
  /* JAL with rd = x0 does not link. */
test_21:
  li TESTNUM, 21
  jal x0, 1f
  j fail
1:
  /* JALR: target = (rs1 + imm) & ~1; link = pc + 4; rd == rs1 uses the old rs1. */
test_22:
  li TESTNUM, 22
  la x6, 6f
  addi x6, x6, -3          /* (6f - 3 + 4) = 6f + 1: bit 0 is cleared -> 6f */
  jalr x7, 4(x6)
7:
  j fail
6:
  la x5, 7b
  bne x7, x5, fail
test_23:
  li TESTNUM, 23
  la x6, 3f
  jalr x6, 0(x6)
4:
  j fail
3:
  la x5, 4b
  bne x6, x5, fail
  /* Backward loops: count down 10 -> 0. */
  TEST_CASE(24, x14, 55, li x1, 10; li x14, 0; 5: add x14, x14, x1; addi x1, x1, -1; bnez x1, 5b)
  TEST_PASSFAIL
RVTEST_CODE_END

RVTEST_DATA_BEGIN
RVTEST_DATA_END
