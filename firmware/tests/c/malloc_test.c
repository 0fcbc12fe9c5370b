/* malloc/realloc/free from picolibc's heap (between .bss and the stack): blocks of sizes
 * 16 * (i + 1) for i < 64, each filled with its own pattern, checked, resized, freed. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define kBlocks 64

/* .bss neighbours of the thread-local errno (tp-relative): a wrong tp would clobber them. */
static volatile uint32_t guard[8];

int main(void) {
  uint8_t *blocks[kBlocks];
  unsigned long total = 0;
  for (int i = 0; i < kBlocks; ++i) {
    const size_t n = 16u * (size_t)(i + 1);
    blocks[i] = malloc(n);
    if (blocks[i] == NULL) {
      printf("malloc failed at block %d\n", i);
      return 1;
    }
    memset(blocks[i], i + 1, n);
    total += n;
  }
  for (int i = 0; i < kBlocks; ++i) {
    const size_t n = 16u * (size_t)(i + 1);
    for (size_t j = 0; j < n; ++j) {
      if (blocks[i][j] != (uint8_t)(i + 1)) {
        printf("corrupt block %d byte %u\n", i, (unsigned)j);
        return 2;
      }
    }
  }
  /* Free every other block, then grow the rest: contents must survive realloc. */
  for (int i = 0; i < kBlocks; i += 2) free(blocks[i]);
  unsigned long kept = 0;
  for (int i = 1; i < kBlocks; i += 2) {
    const size_t n = 16u * (size_t)(i + 1);
    uint8_t *p = realloc(blocks[i], 2 * n);
    if (p == NULL) return 3;
    for (size_t j = 0; j < n; ++j)
      if (p[j] != (uint8_t)(i + 1)) return 4;
    kept += 2 * n;
    free(p);
  }
  void *big = malloc(64 * 1024);
  printf("malloc ok: %d blocks, %lu bytes, regrown %lu bytes, 64 KiB block %s\n", kBlocks, total,
         kept, big != NULL ? "ok" : "failed");
  free(big);
  for (int i = 0; i < 8; ++i) guard[i] = 0x5a5a5a5au;
  errno = 0;
  void *huge = malloc(4u << 20); /* more than the core RAM */
  int guard_ok = 1;
  for (int i = 0; i < 8; ++i) guard_ok &= guard[i] == 0x5a5a5a5au;
  printf("4 MiB block %s, errno %s, guard %s\n", huge == NULL ? "refused" : "granted",
         errno == ENOMEM ? "ENOMEM" : "wrong", guard_ok ? "intact" : "clobbered");
  return 0;
}
