/* Misaligned loads and stores complete (the default, CoreConfig::misaligned_trap = false), as
 * riscv-tests rv32ui-p-ma_data expects: LH/LHU/LW/SH/SW at every byte offset, inside a word and
 * across word, 8-, 16- and 64-byte boundaries, in core RAM and in the launch block (another
 * plain-memory region), with sign/zero extension and little-endian byte order. Stores are
 * checked byte by byte with LBU (never misaligned) so the check does not trust the code under
 * test. Expected values are written out by hand: mdat holds byte i at offset i (0..63) followed by
 * 0x80, 0x81, ... (sign-extension cases); sbuf starts as 0xee bytes. */
#include "riscv_test.inc"

/* x14 = insn offset(s0), compared with `result`. */
#define MA_LD(n, insn, offset, result) TEST_CASE(n, x14, result, la s0, mdat; insn x14, offset(s0))

/* Byte `offset` of sbuf reads `value` (LBU). */
#define SB_IS(n, offset, value) TEST_CASE(n, x14, value, la s0, sbuf; lbu x14, offset(s0))

RVTEST_CODE_BEGIN
  /* Aligned controls. */
  MA_LD(2, lh, 2, 0x0302)
  MA_LD(3, lw, 4, 0x07060504)
  /* Halfwords inside a word (offset 1) and across a word (offset 3). */
  MA_LD(4, lh, 1, 0x0201)
  MA_LD(5, lhu, 1, 0x0201)
  MA_LD(6, lh, 3, 0x0403)
  MA_LD(7, lhu, 3, 0x0403)
  MA_LD(8, lh, 7, 0x0807)     /* across an 8-byte boundary */
  MA_LD(9, lhu, 15, 0x100f)   /* across a 16-byte boundary */
  MA_LD(10, lh, 63, 0xffff803f)  /* across 64 bytes, sign-extended from byte 64 = 0x80 */
  MA_LD(11, lhu, 63, 0x0000803f)
  MA_LD(12, lh, 65, 0xffff8281)  /* inside a word, negative */
  MA_LD(13, lhu, 67, 0x00008483)
  /* Words at offsets 1, 2, 3 (all cross a word). */
  MA_LD(14, lw, 1, 0x04030201)
  MA_LD(15, lw, 2, 0x05040302)
  MA_LD(16, lw, 3, 0x06050403)
  MA_LD(17, lw, 13, 0x100f0e0d)
  MA_LD(18, lw, 30, 0x21201f1e)
  MA_LD(19, lw, 61, 0x803f3e3d)  /* across 64 bytes */
  MA_LD(20, lw, 63, 0x8281803f)
  /* Negative offsets and a misaligned base register. */
  TEST_CASE(21, x14, 0x0a090807, la s0, mdat; addi s0, s0, 9; lw x14, -2(s0))
  TEST_CASE(22, x14, 0x00000908, la s0, mdat; addi s0, s0, 11; lhu x14, -3(s0))
  /* A misaligned load into x0 writes nothing. */
  TEST_CASE(23, x0, 0, la s0, mdat; lw x0, 1(s0))

  /* Halfword stores: offset 1 (inside a word) and 3 (across a word); only two bytes change. */
  TEST_CASE(24, x14, 0x34, la s0, sbuf; li x2, 0xffff1234; sh x2, 1(s0); lbu x14, 1(s0))
  SB_IS(25, 2, 0x12)
  SB_IS(26, 0, 0xee)
  SB_IS(27, 3, 0xee)
  TEST_CASE(28, x14, 0xcd, la s0, sbuf; li x2, 0xabcd; sh x2, 3(s0); lbu x14, 3(s0))
  SB_IS(29, 4, 0xab)
  SB_IS(30, 5, 0xee)
  SB_IS(31, 2, 0x12)
  /* Word stores at offsets 1, 2, 3 (mod 4): bytes in little-endian order, neighbours kept. */
  TEST_CASE(32, x14, 0x44, la s0, sbuf; li x2, 0x11223344; sw x2, 5(s0); lbu x14, 5(s0))
  SB_IS(33, 6, 0x33)
  SB_IS(34, 7, 0x22)
  SB_IS(35, 8, 0x11)
  SB_IS(36, 9, 0xee)
  SB_IS(37, 4, 0xab)
  TEST_CASE(38, x14, 0x88, la s0, sbuf; li x2, 0x55667788; sw x2, 10(s0); lbu x14, 10(s0))
  SB_IS(39, 11, 0x77)
  SB_IS(40, 12, 0x66)
  SB_IS(41, 13, 0x55)
  SB_IS(42, 14, 0xee)
  SB_IS(43, 9, 0xee)
  TEST_CASE(44, x14, 0xdd, la s0, sbuf; li x2, 0xaabbccdd; sw x2, 15(s0); lbu x14, 15(s0))
  SB_IS(45, 16, 0xcc)  /* across a 16-byte boundary */
  SB_IS(46, 17, 0xbb)
  SB_IS(47, 18, 0xaa)
  SB_IS(48, 19, 0xee)
  /* Misaligned reloads of what was stored. */
  TEST_CASE(49, x14, 0x11223344, la s0, sbuf; lw x14, 5(s0))
  TEST_CASE(50, x14, 0xffffabcd, la s0, sbuf; lh x14, 3(s0))
  TEST_CASE(51, x14, 0x00001234, la s0, sbuf; lhu x14, 1(s0))
  TEST_CASE(52, x14, 0xccddee55, la s0, sbuf; lw x14, 13(s0))  /* bytes 55 ee dd cc */
  /* An aligned word over bytes written by misaligned stores. */
  TEST_CASE(53, x14, 0x223344ab, la s0, sbuf; lw x14, 4(s0))

  /* The launch block (plain memory at 0x3000_0000, reached through the bus, not the RAM fast
   * path): a word at offset 1 and a halfword across a word. */
  TEST_CASE(54, x14, 0xcafef00d, li s0, 0x30000000; li x2, 0xcafef00d; sw x2, 1(s0); lw x14, 1(s0))
  TEST_CASE(55, x14, 0x0d, li s0, 0x30000000; lbu x14, 1(s0))
  TEST_CASE(56, x14, 0xca, li s0, 0x30000000; lbu x14, 4(s0))
  TEST_CASE(57, x14, 0x00, li s0, 0x30000000; lbu x14, 5(s0))
  TEST_CASE(58, x14, 0x0000beef, li s0, 0x30000000; li x2, 0xbeef; sh x2, 7(s0); lhu x14, 7(s0))
  TEST_CASE(59, x14, 0xbe, li s0, 0x30000000; lbu x14, 8(s0))
  /* No trap was taken on the way (the handler would have set mcause in t3). */
  TEST_CASE(60, t3, 0, nop)
  TEST_PASSFAIL
RVTEST_CODE_END

RVTEST_DATA_BEGIN
  .align 6
mdat:
  .set i, 0
  .rept 64
  .byte i
  .set i, i + 1
  .endr
  .set i, 0x80
  .rept 16
  .byte i
  .set i, i + 1
  .endr
  .align 4
sbuf:
  .fill 32, 1, 0xee
RVTEST_DATA_END
