/* RV32M: products and high halves with every sign combination; division and remainder with the
 * defined results for division by zero (q = -1, r = dividend) and signed overflow
 * (-2^31 / -1: q = -2^31, r = 0). */
#include "riscv_test.inc"

RVTEST_CODE_BEGIN
  TEST_RR_OP(2, mul, 0x00000000, 0x00000000, 0x00000000)
  TEST_RR_OP(3, mul, 0x00000015, 0x00000003, 0x00000007)
  TEST_RR_OP(4, mul, 0xfffffff9, 0xffffffff, 0x00000007)
  TEST_RR_OP(5, mul, 0x00000000, 0x80000000, 0x00000002)
  TEST_RR_OP(6, mul, 0x00000001, 0xffffffff, 0xffffffff)
  TEST_RR_OP(7, mul, 0x23456780, 0x12345678, 0x00000010)
  TEST_RR_OP(8, mulh, 0x00000000, 0x00000003, 0x00000007)
  TEST_RR_OP(9, mulh, 0xffffffff, 0xffffffff, 0x00000007)   /* -7 >> 32 = -1 */
  TEST_RR_OP(10, mulh, 0x00000000, 0xffffffff, 0xffffffff)  /* +1 */
  TEST_RR_OP(11, mulh, 0x40000000, 0x80000000, 0x80000000)  /* 2^62 */
  TEST_RR_OP(12, mulh, 0xc0000000, 0x80000000, 0x7fffffff)  /* -2^62 + 2^31 */
  TEST_RR_OP(13, mulhu, 0xfffffffe, 0xffffffff, 0xffffffff)
  TEST_RR_OP(14, mulhu, 0x00000000, 0x00000003, 0x00000007)
  TEST_RR_OP(15, mulhu, 0x40000000, 0x80000000, 0x80000000)
  TEST_RR_OP(16, mulhsu, 0xffffffff, 0xffffffff, 0x00000001)  /* -1 * 1 */
  TEST_RR_OP(17, mulhsu, 0xfffffffe, 0xfffffffe, 0xffffffff)  /* -2 * (2^32-1) */
  TEST_RR_OP(18, mulhsu, 0x7ffffffe, 0x7fffffff, 0xffffffff)
  TEST_RR_OP(19, mulhsu, 0x80000000, 0x80000000, 0xffffffff)  /* -2^63 + 2^31 */
  TEST_RR_OP(20, div, 0x00000003, 20, 6)
  TEST_RR_OP(21, div, 0xfffffffd, -20, 6)      /* truncates toward zero */
  TEST_RR_OP(22, div, 0xfffffffd, 20, -6)
  TEST_RR_OP(23, div, 0x00000003, -20, -6)
  TEST_RR_OP(24, div, 0x80000000, 0x80000000, -1)  /* overflow */
  TEST_RR_OP(25, div, 0xffffffff, 0x80000000, 0)   /* by zero */
  TEST_RR_OP(26, div, 0xffffffff, 5, 0)
  TEST_RR_OP(27, divu, 0x00000003, 20, 6)
  TEST_RR_OP(28, divu, 0x2aaaaaa7, -20, 6)
  TEST_RR_OP(29, divu, 0x00000000, 20, -6)
  TEST_RR_OP(30, divu, 0xffffffff, 0x80000000, 0)
  TEST_RR_OP(31, rem, 2, 20, 6)
  TEST_RR_OP(32, rem, -2, -20, 6)               /* sign of the dividend */
  TEST_RR_OP(33, rem, 2, 20, -6)
  TEST_RR_OP(34, rem, -2, -20, -6)
  TEST_RR_OP(35, rem, 0, 0x80000000, -1)         /* overflow */
  TEST_RR_OP(36, rem, 0x80000000, 0x80000000, 0) /* by zero: the dividend */
  TEST_RR_OP(37, rem, -5, -5, 0)
  TEST_RR_OP(38, remu, 2, 20, 6)
  TEST_RR_OP(39, remu, 2, -20, 6)                /* 0xffffffec % 6 = 2 */
  TEST_RR_OP(40, remu, 20, 20, -6)
  TEST_RR_OP(41, remu, 0xffffffec, -20, 0)
  TEST_RR_ZERODEST(42, mul, 3, 4)
  TEST_RR_ZERODEST(43, div, 3, 0)
  TEST_RR_ZEROSRC1(44, divu, 0, 7)
  TEST_RR_ZEROSRC2(45, remu, 7, 7)
  TEST_RR_SRC1_EQ_DEST(46, mul, 143, 13, 11)
  TEST_PASSFAIL
RVTEST_CODE_END

RVTEST_DATA_BEGIN
RVTEST_DATA_END
