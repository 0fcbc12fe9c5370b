/* Physical memory protection CSRs (privileged specification, section "Physical Memory
 * Protection"), as riscv-tests rv32mi-p-pmpaddr checks them, and their effect in machine mode:
 * 16 entries (pmpcfg0..3, pmpaddr0..15), granularity 16 bytes (G = 2): with A = OFF or TOR,
 * pmpaddr bits 1:0 read as 0; with NAPOT, bit 0 reads as 1 and bit 1 as stored; the stored bits
 * survive mode changes, and CSRS/CSRC write back what they read. pmpcfg bytes are WARL: bits 6:5
 * are 0, W without R loses W, NA4 becomes NAPOT. Locked entries (L) ignore writes (and lock the
 * pmpaddr below a TOR entry) and bind M-mode: the lowest-numbered entry matching any byte of an
 * access decides, it must match all bytes, an unlocked one grants M-mode everything. The
 * handler of riscv_test.inc leaves mcause / mepc / mtval in t3 / t4 / t5. */
#include "riscv_test.inc"

#define EXPECT_TRAP(n, cause, code...) \
  test_##n: li TESTNUM, n;             \
  li t3, -1;                           \
  code;                                \
  li x5, cause;                        \
  bne t3, x5, fail;

#define EXPECT_NO_TRAP(n, code...) \
  test_##n: li TESTNUM, n;         \
  li t3, -1;                       \
  code;                            \
  li x5, -1;                       \
  bne t3, x5, fail;

#define CSR_IS(n, csr, value) TEST_CASE(n, x14, value, csrr x14, csr)

RVTEST_CODE_BEGIN
  /* Reset: everything 0. */
  CSR_IS(2, pmpcfg0, 0)
  CSR_IS(3, pmpcfg1, 0)
  CSR_IS(4, pmpcfg2, 0)
  CSR_IS(5, pmpcfg3, 0)
  CSR_IS(6, pmpaddr0, 0)
  CSR_IS(7, pmpaddr7, 0)
  CSR_IS(8, pmpaddr15, 0)

  /* Granularity probe (pmpcfg0 = 0, pmpaddr0 = all ones): the lowest set bit is bit G = 2. */
  TEST_CASE(9, x14, 0xfffffffc, csrw pmpcfg0, zero; li x1, -1; csrw pmpaddr0, x1; csrr x14, pmpaddr0)
  /* NAPOT: bits 1:0 read as stored (1) / one. */
  TEST_CASE(10, x14, 0xffffffff, csrs pmpcfg0, 0x18; csrr x14, pmpaddr0)
  /* Bit G-1 = 1 is writable in NAPOT mode. */
  TEST_CASE(11, x14, 0xfffffffd, csrc pmpaddr0, 2; csrr x14, pmpaddr0)
  TEST_CASE(12, x14, 0xffffffff, csrs pmpaddr0, 2; csrr x14, pmpaddr0)
  /* OFF: it reads 0, but the stored 1 is back in NAPOT mode. */
  TEST_CASE(13, x14, 0xfffffffc, csrc pmpcfg0, 0x18; csrr x14, pmpaddr0)
  TEST_CASE(14, x14, 0xffffffff, csrs pmpcfg0, 0x18; csrr x14, pmpaddr0)
  /* Written while it reads 0 (OFF): the 1 is stored. */
  TEST_CASE(15, x14, 0xffffffff, csrc pmpaddr0, 2; csrc pmpcfg0, 0x18; csrs pmpaddr0, 2; csrs pmpcfg0, 0x18; csrr x14, pmpaddr0)
  /* CSRS/CSRC with x0 do not write: the stored 1 survives. */
  TEST_CASE(16, x14, 0xffffffff, csrc pmpcfg0, 0x18; csrc pmpaddr0, zero; csrs pmpaddr0, zero; csrs pmpcfg0, 0x18; csrr x14, pmpaddr0)
  /* Setting other bits while bit 1 reads 0 writes that 0 back. */
  TEST_CASE(17, x14, 0xfffffffd, csrc pmpcfg0, 0x18; li x1, ~2; csrs pmpaddr0, x1; csrs pmpcfg0, 0x18; csrr x14, pmpaddr0)
  /* TOR reads bits 1:0 as 0, too; all 32 bits (address bits 33:2) are stored. */
  TEST_CASE(18, x14, 0x12345674, li x1, 0x12345677; csrw pmpaddr0, x1; li x1, 0x08; csrw pmpcfg0, x1; csrr x14, pmpaddr0)
  TEST_CASE(19, x14, 0x12345677, li x1, 0x18; csrw pmpcfg0, x1; csrr x14, pmpaddr0)

  /* pmpcfg WARL, byte by byte. */
  TEST_CASE(20, x14, 0x00, li x1, 0x02; csrw pmpcfg0, x1; csrr x14, pmpcfg0)  /* W without R */
  TEST_CASE(21, x14, 0x18, li x1, 0x10; csrw pmpcfg0, x1; csrr x14, pmpcfg0)  /* NA4 -> NAPOT */
  TEST_CASE(22, x14, 0x07, li x1, 0x67; csrw pmpcfg0, x1; csrr x14, pmpcfg0)  /* bits 6:5 */
  TEST_CASE(23, x14, 0x0f0c0d0c, li x1, 0x0f0e0d0c; csrw pmpcfg1, x1; csrr x14, pmpcfg1)
  TEST_CASE(24, x14, 0x18191807, li x1, 0x1a191807; csrw pmpcfg2, x1; csrr x14, pmpcfg2)
  TEST_CASE(25, x14, 0x1f1f1f1f, li x1, 0x7f7f7f7f; csrw pmpcfg3, x1; csrr x14, pmpcfg3)
  /* Entry 15 is NAPOT now (pmpcfg3 byte 3 = 0x1f): bit 0 reads 1. */
  TEST_CASE(26, x14, 0x0000ff01, li x1, 0x0000ff00; csrw pmpaddr15, x1; csrr x14, pmpaddr15)

  /* Unlocked entries do not bind M-mode: entry 0 = NAPOT over everything without R/W/X. */
  csrw pmpcfg1, zero
  csrw pmpcfg2, zero
  csrw pmpcfg3, zero
  li x1, -1
  csrw pmpaddr0, x1
  li x1, 0x18
  csrw pmpcfg0, x1
  EXPECT_NO_TRAP(27, la x1, pbuf; lw x14, 0(x1); sw x14, 0(x1); jal ra, xcode)
  csrw pmpcfg0, zero

  /* Locked entries. Entry 3 (unlocked, no permissions) and entry 5 (locked, R) cover xcode;
   * entry 4 (locked, R) covers pbuf; entry 7 (locked TOR, R) covers [tbuf, tbuf + 16) with
   * pmpaddr6 as its bottom. NAPOT over 16 bytes: pmpaddr = (base >> 2) | 1. */
  la x1, xcode
  srli x1, x1, 2
  ori x1, x1, 1
  csrw pmpaddr3, x1
  csrw pmpaddr5, x1
  la x1, pbuf
  srli x1, x1, 2
  ori x1, x1, 1
  csrw pmpaddr4, x1
  la x1, tbuf
  srli x1, x1, 2
  csrw pmpaddr6, x1
  addi x1, x1, 4
  csrw pmpaddr7, x1
  li x1, 0x18000000
  csrw pmpcfg0, x1
  li x1, 0x89009999
  csrw pmpcfg1, x1
  CSR_IS(28, pmpcfg1, 0x89009999)
  /* Entry 4 (R): loads work, stores fault (mtval = address) and write nothing. */
  TEST_CASE(29, x14, 0x22222222, la x1, pbuf; lw x14, 4(x1))
  EXPECT_TRAP(30, 7, la x1, pbuf; li x2, 0x77; sw x2, 4(x1))
  la x5, pbuf
  addi x5, x5, 4
  bne t5, x5, fail
  TEST_CASE(31, x14, 0x22222222, la x1, pbuf; lw x14, 4(x1))
  EXPECT_TRAP(32, 7, la x1, pbuf; sb x0, 15(x1))
  EXPECT_NO_TRAP(33, la x1, pbuf; sb x0, 16(x1); sw x0, -4(x1))
  /* An access must lie wholly inside the entry that matches it: a misaligned load across the
   * end of pbuf faults although R is granted; one inside pbuf works. */
  EXPECT_TRAP(34, 5, la x1, pbuf; lw x14, 14(x1))
  la x5, pbuf
  addi x5, x5, 14
  bne t5, x5, fail
  TEST_CASE(35, x14, 0x22111111, la x1, pbuf; lw x14, 1(x1))
  EXPECT_TRAP(36, 7, la x1, pbuf; sw x0, -2(x1))
  TEST_CASE(37, x14, 0x11111111, la x1, pbuf; lw x14, 0(x1))
  /* Locked entries ignore writes to their pmpcfg byte and pmpaddr. */
  TEST_CASE(38, x14, 0x89009999, csrw pmpcfg1, zero; csrr x14, pmpcfg1)
  TEST_CASE(39, x14, 0x891f9999, li x1, 0x7f7f7f7f; csrw pmpcfg1, x1; csrr x14, pmpcfg1)
  csrw pmpcfg1, zero  /* entry 6 off again (it would shadow entry 7) */
  la x6, pbuf
  srli x6, x6, 2
  ori x6, x6, 1
  TEST_CASE(40, x14, 0, csrw pmpaddr4, zero; csrr x14, pmpaddr4; sub x14, x14, x6)
  /* A locked TOR entry also locks the pmpaddr below it (its bottom). */
  la x6, tbuf
  srli x6, x6, 2
  TEST_CASE(41, x14, 0, csrw pmpaddr6, zero; csrr x14, pmpaddr6; sub x14, x14, x6)
  TEST_CASE(42, x14, 0, csrw pmpaddr7, zero; csrr x14, pmpaddr7; sub x14, x14, x6; addi x14, x14, -4)
  /* Entry 7 (TOR, R): [tbuf, tbuf + 16) refuses stores, the bytes around it do not. */
  EXPECT_TRAP(43, 7, la x1, tbuf; sw x0, 12(x1))
  EXPECT_NO_TRAP(44, la x1, tbuf; sw x0, 16(x1); sw x0, -4(x1); lw x14, 0(x1))
  /* Entry 3 (unlocked) shadows entry 5 for xcode: it executes, and can be written. */
  EXPECT_NO_TRAP(45, li a0, 0; jal ra, xcode; la x1, xcode; lw x2, 0(x1); sw x2, 0(x1))
  li x5, 5
  bne a0, x5, fail
  /* Entry 3 off: entry 5 (locked, R, no X) decides: fetching xcode is an instruction access
   * fault (mepc = mtval = xcode); loading from it still works. */
  csrw pmpcfg0, zero
  EXPECT_TRAP(46, 1, la s10, 1f; jal ra, xcode; 1: nop)
  la x5, xcode
  bne t4, x5, fail
  bne t5, x5, fail
  EXPECT_NO_TRAP(47, la x1, xcode; lw x14, 0(x1))
  EXPECT_TRAP(48, 7, la x1, xcode; sw x14, 0(x1))
  /* Unlocked entries are still writable. */
  TEST_CASE(49, x14, 0x00000d00, li x1, 0x00000d00; csrw pmpcfg0, x1; csrr x14, pmpcfg0)
  csrw pmpcfg0, zero
  TEST_PASSFAIL

  .align 4
xcode:
  li a0, 5
  ret
  nop
  nop
RVTEST_CODE_END

RVTEST_DATA_BEGIN
  .align 4
  .word 0, 0, 0, 0
pbuf:
  .word 0x11111111, 0x22222222, 0x33333333, 0x44444444
  .word 0, 0, 0, 0
tbuf:
  .word 0, 0, 0, 0
  .word 0, 0, 0, 0
RVTEST_DATA_END
