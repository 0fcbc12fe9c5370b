/* Machine-mode CSRs: CSRRW/S/C and their immediate forms, read-only and unknown CSRs (illegal
 * instruction), misa, mhartid, mstatus fields, mepc alignment, counters. */
#include "riscv_test.inc"

RVTEST_CODE_BEGIN
  /* CSRRW returns the old value. */
  TEST_CASE(2, x14, 0, csrw mscratch, zero; li x1, 0x12345678; csrrw x14, mscratch, x1)
  TEST_CASE(3, x14, 0x12345678, csrr x14, mscratch)
  TEST_CASE(4, x14, 0x12345678, li x1, 0x0000ff00; csrrs x14, mscratch, x1)
  TEST_CASE(5, x14, 0x1234ff78, csrr x14, mscratch)
  TEST_CASE(6, x14, 0x1234ff78, li x1, 0x000000f0; csrrc x14, mscratch, x1)
  TEST_CASE(7, x14, 0x1234ff08, csrr x14, mscratch)
  TEST_CASE(8, x14, 0x1234ff08, csrrwi x14, mscratch, 0x1f)
  TEST_CASE(9, x14, 0x0000001c, csrrci x14, mscratch, 0x3; csrr x14, mscratch)
  TEST_CASE(10, x14, 0x0000001c, csrrsi x14, mscratch, 0x0; csrr x14, mscratch)
  TEST_CASE(11, x14, 0x0000001d, csrsi mscratch, 0x1; csrr x14, mscratch)
  /* rd = x0: CSRRW writes without reading into a register. */
  TEST_CASE(12, x14, 0x55, li x1, 0x55; csrrw x0, mscratch, x1; csrr x14, mscratch)
  /* misa: MXL = 1 (32-bit), extensions I and M. */
  TEST_CASE(13, x14, 0x40001100, csrr x14, misa)
  TEST_CASE(14, x14, 0x40001100, li x1, 0; csrw misa, x1; csrr x14, misa)  /* WARL, fixed */
  TEST_CASE(15, x14, 0, csrr x14, mhartid)
  /* mstatus: MPP reads as machine (3 << 11); MIE/MPIE writable. */
  TEST_CASE(16, x14, 0x1800, csrw mstatus, zero; csrr x14, mstatus)
  TEST_CASE(17, x14, 0x1888, li x1, 0x88; csrs mstatus, x1; csrr x14, mstatus)
  TEST_CASE(18, x14, 0x1800, csrw mstatus, zero; csrr x14, mstatus)
  /* mepc has no bit 0/1 without compressed instructions; mtvec keeps the mode bit. */
  TEST_CASE(19, x14, 0x80000100, li x1, 0x80000103; csrw mepc, x1; csrr x14, mepc)
  TEST_CASE(20, x14, 0x12345678, li x1, 0x12345678; csrw mcause, x1; csrr x14, mcause)
  TEST_CASE(21, x14, 0x87654321, li x1, 0x87654321; csrw mtval, x1; csrr x14, mtval)
  TEST_CASE(22, x14, 0x888, li x1, -1; csrw mie, x1; csrr x14, mie; csrw mie, zero)
  /* Counters advance; cycle >= instret; user aliases match the machine counters. */
  TEST_CASE(23, x14, 1, csrr x1, mcycle; nop; nop; csrr x2, mcycle; sltu x14, x1, x2)
  TEST_CASE(24, x14, 3, csrr x1, minstret; nop; nop; csrr x2, minstret; sub x14, x2, x1)
  TEST_CASE(25, x14, 1, csrr x1, instret; csrr x2, minstret; sub x14, x2, x1)
  TEST_CASE(26, x14, 0, csrr x14, mcycleh)
  TEST_CASE(27, x14, 0, csrr x14, instreth)
  /* minstret is writable: the next instruction sees the written value, counting on from it. */
  TEST_CASE(28, x14, 1000, li x1, 1000; csrw minstret, x1; csrr x14, minstret)
  TEST_CASE(29, x14, 1, csrr x1, time; csrr x2, time; sltu x14, x1, x2)

  /* Illegal CSR accesses trap with cause 2 and mtval = the instruction. */
test_30:
  li TESTNUM, 30
  li t3, 0
1:
  csrw cycle, x1            /* cycle is read-only */
  li x5, 2
  bne t3, x5, fail
  la x5, 1b
  bne t4, x5, fail
  lw x6, 0(x5)
  bne t5, x6, fail
test_31:
  li TESTNUM, 31
  li t3, 0
  csrr x14, 0x7c0           /* a custom CSR this core does not have */
  li x5, 2
  bne t3, x5, fail
test_32:
  li TESTNUM, 32
  li t3, 0
  csrw mhartid, x1          /* read-only */
  li x5, 2
  bne t3, x5, fail
  /* csrs of a read-only CSR with rs1 = x0 does not write, so it is legal. */
  TEST_CASE(33, t3, 0, li t3, 0; csrrs x14, cycle, x0)
  TEST_PASSFAIL
RVTEST_CODE_END

RVTEST_DATA_BEGIN
RVTEST_DATA_END
