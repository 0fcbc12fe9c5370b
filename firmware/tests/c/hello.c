/* printf through the console: integer formats, strings, and the system registers. */
#include <stdint.h>
#include <stdio.h>

#include "mxemu/runtime.h"

int main(void) {
  printf("hello from the mxemu control core\n");
  printf("dec %d %d %u\n", 42, -17, 4000000000u);
  printf("hex %x %08X %#x\n", 0xbeefu, 0x1234abcdu, 255u);
  printf("str [%s] [%5s] [%-5s] char %c\n", "abc", "ab", "ab", 'Z');
  printf("long long %lld\n", -1234567890123LL);
  printf("chip 0x%08lx ram %lu bytes at 0x%08lx\n", (unsigned long)mx_read_sysreg(MXEMU_SYSREG_CHIP_ID),
         (unsigned long)mx_read_sysreg(MXEMU_SYSREG_RAM_SIZE),
         (unsigned long)mx_read_sysreg(MXEMU_SYSREG_RAM_BASE));
  return 0;
}
