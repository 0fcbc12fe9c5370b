/* Compute-bound workload for the core benchmark (tools/bench/core): integer matrix products,
 * a prime sieve and a CRC-32, repeated ITERS times; prints a checksum so no work is dead. */
#include <stdint.h>
#include <stdio.h>

#ifndef ITERS
#define ITERS 20
#endif
#define N 24
#define SIEVE 8192

static int32_t ma[N][N], mb[N][N], mc[N][N];
static uint8_t composite[SIEVE];
static uint32_t crc_table[256];

static uint32_t matmul(int32_t seed) {
  for (int i = 0; i < N; ++i)
    for (int j = 0; j < N; ++j) {
      ma[i][j] = (i * 7 + j * 3 + seed) % 101 - 50;
      mb[i][j] = (i * 5 - j * 11 + seed) % 97 - 48;
    }
  uint32_t h = 0;
  for (int i = 0; i < N; ++i)
    for (int j = 0; j < N; ++j) {
      int32_t s = 0;
      for (int k = 0; k < N; ++k) s += ma[i][k] * mb[k][j];
      mc[i][j] = s;
      h = h * 33u + (uint32_t)s;
    }
  return h;
}

static uint32_t sieve(void) {
  for (int i = 0; i < SIEVE; ++i) composite[i] = 0;
  uint32_t count = 0;
  for (int i = 2; i < SIEVE; ++i) {
    if (composite[i]) continue;
    ++count;
    for (int j = 2 * i; j < SIEVE; j += i) composite[j] = 1;
  }
  return count;
}

static uint32_t crc(uint32_t seed) {
  uint32_t c = ~seed;
  for (int i = 0; i < 4096; ++i) c = crc_table[(c ^ (uint32_t)(i * 13)) & 0xff] ^ (c >> 8);
  return ~c;
}

int main(void) {
  for (uint32_t n = 0; n < 256; ++n) {
    uint32_t c = n;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    crc_table[n] = c;
  }
  uint32_t h = 0;
  for (int it = 0; it < ITERS; ++it) {
    h ^= matmul(it);
    h += sieve();
    h = h * 31u + crc(h);
    h += (uint32_t)(h / (uint32_t)(it + 3)) % 1000u;
  }
  printf("core_mix iters %d checksum %08lx\n", ITERS, (unsigned long)h);
  return 0;
}
