/* Sorting: 1000 values from the LCG x = 1103515245 * x + 12345 (mod 2^32, seed 1), value =
 * x >> 8, sorted with qsort and with an insertion sort; both must agree and be ordered. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define kN 1000

static uint32_t a[kN], b[kN];

static int cmp(const void *x, const void *y) {
  const uint32_t u = *(const uint32_t *)x, v = *(const uint32_t *)y;
  return u < v ? -1 : u > v;
}

int main(void) {
  uint32_t x = 1;
  for (int i = 0; i < kN; ++i) {
    x = 1103515245u * x + 12345u;
    a[i] = b[i] = x >> 8;
  }
  qsort(a, kN, sizeof a[0], cmp);
  for (int i = 1; i < kN; ++i) {
    const uint32_t v = b[i];
    int j = i - 1;
    while (j >= 0 && b[j] > v) {
      b[j + 1] = b[j];
      --j;
    }
    b[j + 1] = v;
  }
  uint32_t sum = 0;
  for (int i = 0; i < kN; ++i) {
    if (a[i] != b[i] || (i > 0 && a[i - 1] > a[i])) {
      printf("sort mismatch at %d\n", i);
      return 1;
    }
    sum = sum * 31u + a[i];
  }
  printf("sorted %d: min %lu median %lu max %lu hash %08lx\n", kN, (unsigned long)a[0],
         (unsigned long)a[kN / 2], (unsigned long)a[kN - 1], (unsigned long)sum);
  return 0;
}
