/* RV32I register-register and immediate ALU instructions, LUI/AUIPC, and x0 behaviour. */
#include "riscv_test.inc"

RVTEST_CODE_BEGIN
  /* ADD / SUB: wrap-around and signed overflow wrap silently. */
  TEST_RR_OP(2, add, 0x00000000, 0x00000000, 0x00000000)
  TEST_RR_OP(3, add, 0x0000000a, 0x00000003, 0x00000007)
  TEST_RR_OP(4, add, 0x80000000, 0x7fffffff, 0x00000001)
  TEST_RR_OP(5, add, 0x00000000, 0xffffffff, 0x00000001)
  TEST_RR_OP(6, add, 0x7fffffff, 0x80000000, 0xffffffff)
  TEST_RR_OP(7, sub, 0xfffffffc, 0x00000003, 0x00000007)
  TEST_RR_OP(8, sub, 0x7fffffff, 0x80000000, 0x00000001)
  TEST_RR_OP(9, sub, 0x80000001, 0x00000000, 0x7fffffff)
  TEST_RR_SRC1_EQ_DEST(10, add, 24, 13, 11)
  TEST_RR_ZERODEST(11, add, 16, 30)
  TEST_RR_ZEROSRC1(12, sub, 0xffffffe1, 31)
  TEST_RR_ZEROSRC2(13, sub, 32, 32)
  /* Logic. */
  TEST_RR_OP(14, and, 0x0f000f00, 0xff00ff00, 0x0f0f0f0f)
  TEST_RR_OP(15, or, 0xff0fff0f, 0xff00ff00, 0x0f0f0f0f)
  TEST_RR_OP(16, xor, 0xf00ff00f, 0xff00ff00, 0x0f0f0f0f)
  TEST_IMM_OP(17, andi, 0x00000700, 0xff00ff00, 0x70f)
  TEST_IMM_OP(18, andi, 0xff00ff00, 0xff00ff00, -1)
  TEST_IMM_OP(19, ori, 0xffffff0f, 0xff00ff00, -241)  /* imm 0xf0f sign-extends */
  TEST_IMM_OP(20, xori, 0xff00f80f, 0xff00ff00, 0x70f)
  TEST_IMM_OP(21, xori, 0x00ff00ff, 0xff00ff00, -1)   /* NOT */
  /* Shifts: amount from the low 5 bits only. */
  TEST_RR_OP(22, sll, 0x80000000, 0x00000001, 31)
  TEST_RR_OP(23, sll, 0x00000002, 0x00000001, 0xffffffe1)
  TEST_RR_OP(24, srl, 0x00000001, 0x80000000, 31)
  TEST_RR_OP(25, srl, 0x40000000, 0x80000000, 0x00000021)
  TEST_RR_OP(26, sra, 0xffffffff, 0x80000000, 31)
  TEST_RR_OP(27, sra, 0xc0000000, 0x80000000, 0x00000021)
  TEST_RR_OP(28, sra, 0x3fffffff, 0x7fffffff, 1)
  TEST_IMM_OP(29, slli, 0x80000000, 0x00000001, 31)
  TEST_IMM_OP(30, srli, 0x01ffffff, 0xffffffff, 7)
  TEST_IMM_OP(31, srai, 0xff000000, 0x80000000, 7)
  TEST_IMM_OP(32, srai, 0x81818181, 0x81818181, 0)
  /* Comparisons: signed vs unsigned. */
  TEST_RR_OP(33, slt, 1, 0x80000000, 0x00000000)
  TEST_RR_OP(34, sltu, 0, 0x80000000, 0x00000000)
  TEST_RR_OP(35, slt, 0, 0x7fffffff, 0x80000000)
  TEST_RR_OP(36, sltu, 1, 0x7fffffff, 0x80000000)
  TEST_RR_OP(37, slt, 0, 5, 5)
  TEST_IMM_OP(38, slti, 1, 0xffffffff, 0)
  TEST_IMM_OP(39, slti, 0, 0, -1)
  TEST_IMM_OP(40, sltiu, 1, 0, -1)            /* -1 is 0xffffffff unsigned */
  TEST_IMM_OP(41, sltiu, 0, 0xffffffff, 5)
  TEST_IMM_OP(42, sltiu, 1, 0, 1)             /* seqz */
  /* ADDI sign extension of the 12-bit immediate. */
  TEST_IMM_OP(43, addi, 0xfffff800, 0, -2048)
  TEST_IMM_OP(44, addi, 0x000007ff, 0, 2047)
  TEST_IMM_OP(45, addi, 0x80000000, 0x7fffffff, 1)
  TEST_IMM_ZERODEST(46, addi, 33, 50)
  TEST_IMM_ZEROSRC1(47, addi, 32, 32)
  /* LUI / AUIPC. */
  TEST_CASE(48, x14, 0xfffff000, lui x14, 0xfffff)
  TEST_CASE(49, x14, 0x7fffffff, lui x14, 0x80000; addi x14, x14, -1)
  TEST_CASE(50, x0, 0, lui x0, 0x80000)
  /* AUIPC: difference of two auipc results equals the distance in bytes. */
  TEST_CASE(51, x14, 0x00001004, auipc x1, 0; auipc x14, 1; sub x14, x14, x1)
  TEST_CASE(52, x14, 0, 1: auipc x14, 0; la x1, 1b; sub x14, x14, x1)
  /* x0 reads zero after writes through every instruction class. */
  TEST_CASE(53, x14, 0, li x1, 5; add x0, x1, x1; mv x14, x0)
  TEST_PASSFAIL
RVTEST_CODE_END

RVTEST_DATA_BEGIN
RVTEST_DATA_END
