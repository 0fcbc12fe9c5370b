/* Every chip prints one console line in pieces, each piece after an MMIO read that brings the
 * core back in step with the simulation, so all chips print their pieces at the same simulated
 * times: a pod's console must still show each chip's line whole (mxemu run writes a chip's
 * console a line at a time). The line: "chip I: 0 1 2 3 4 5 6 7 end I". */
#include <stdio.h>

#include "mxemu/hal.h"

int main(void) {
  const unsigned me = (unsigned)mx_chip_index();
  printf("chip %u:", me);
  for (int i = 0; i < 8; ++i) {
    if (mx_fence() != 0) return 2;
    printf(" %d", i);
  }
  printf(" end %u\n", me);
  return 0;
}
