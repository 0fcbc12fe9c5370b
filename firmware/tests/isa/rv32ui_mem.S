/* RV32I loads and stores: widths, sign/zero extension, negative offsets, little-endian order. */
#include "riscv_test.inc"

RVTEST_CODE_BEGIN
  TEST_LD_OP(2, lb, 0xffffffff, 0, tdat)
  TEST_LD_OP(3, lb, 0x00000000, 1, tdat)
  TEST_LD_OP(4, lb, 0xfffffff0, 2, tdat)
  TEST_LD_OP(5, lb, 0x0000000f, 3, tdat)
  TEST_LD_OP(6, lbu, 0x000000ff, 0, tdat)
  TEST_LD_OP(7, lbu, 0x000000f0, 2, tdat)
  TEST_LD_OP(8, lh, 0x000000ff, 0, tdat)    /* bytes ff 00 -> 0x00ff */
  TEST_LD_OP(9, lh, 0x00000ff0, 2, tdat)    /* bytes f0 0f -> 0x0ff0 */
  TEST_LD_OP(10, lh, 0xfffff00f, 4, tdat)   /* bytes 0f f0 -> 0xf00f, sign-extended */
  TEST_LD_OP(11, lhu, 0x0000f00f, 4, tdat)
  TEST_LD_OP(12, lw, 0x0ff000ff, 0, tdat)
  TEST_LD_OP(13, lw, 0xf00ff00f, 4, tdat)
  TEST_LD_OP(14, lw, 0x0ff000ff, -4, tdat_end)  /* negative offset */
  TEST_LD_OP(15, lbu, 0x0000000f, -1, tdat_end)
  /* Stores then loads. */
  TEST_ST_OP(16, lw, sw, 0xaa00aa00, 0, sdat)
  TEST_ST_OP(17, lh, sh, 0xffffa00a, 4, sdat)
  TEST_ST_OP(18, lhu, sh, 0x0000a00a, 6, sdat)
  TEST_ST_OP(19, lb, sb, 0xffffffaa, 8, sdat)
  TEST_ST_OP(20, lbu, sb, 0x000000aa, 9, sdat)
  TEST_ST_OP(21, lw, sw, 0x12345678, -4, sdat_end)
  /* Byte order: a word store read back byte by byte. */
  TEST_CASE(22, x14, 0x00000034, la x1, sdat; li x2, 0x12345678; sw x2, 12(x1); lbu x14, 14(x1))
  TEST_CASE(23, x14, 0x00001234, la x1, sdat; lhu x14, 14(x1))
  /* A sub-word store leaves the other bytes alone. */
  TEST_CASE(24, x14, 0x1234ab78, la x1, sdat; li x2, 0xab; sb x2, 13(x1); lw x14, 12(x1))
  /* Loading into x0 discards the value. */
  TEST_CASE(25, x0, 0, la x1, tdat; lw x0, 0(x1))
  /* Load-use: the loaded register is a source right after. */
  TEST_CASE(26, x14, 0x0ff00100, la x1, tdat; lw x14, 0(x1); addi x14, x14, 1)
  TEST_PASSFAIL
RVTEST_CODE_END

RVTEST_DATA_BEGIN
tdat:
  .byte 0xff, 0x00, 0xf0, 0x0f
  .byte 0x0f, 0xf0, 0x0f, 0xf0
  .byte 0xff, 0x00, 0xf0, 0x0f
tdat_end:
  .align 4
sdat:
  .word 0, 0, 0, 0, 0, 0
sdat_end:
RVTEST_DATA_END
