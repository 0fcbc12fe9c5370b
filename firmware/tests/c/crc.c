/* CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320) with a 256-entry table built at run
 * time: the standard check value of "123456789", and a 4 KiB buffer b[i] = (7 * i + 3) & 0xff. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static uint32_t table[256];

static void make_table(void) {
  for (uint32_t n = 0; n < 256; ++n) {
    uint32_t c = n;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[n] = c;
  }
}

static uint32_t crc32(const uint8_t *p, size_t n) {
  uint32_t c = 0xffffffffu;
  for (size_t i = 0; i < n; ++i) c = table[(c ^ p[i]) & 0xff] ^ (c >> 8);
  return c ^ 0xffffffffu;
}

static uint8_t buf[4096];

int main(void) {
  make_table();
  const char *check = "123456789";
  printf("crc32(\"123456789\") = %08lx\n", (unsigned long)crc32((const uint8_t *)check, strlen(check)));
  for (unsigned i = 0; i < sizeof buf; ++i) buf[i] = (uint8_t)(7 * i + 3);
  printf("crc32(buf[4096]) = %08lx\n", (unsigned long)crc32(buf, sizeof buf));
  return 0;
}
