/* Ends with the code given as scalar "code": through exit() (scalar "via" = 0), by returning it
 * from main (1), or by writing (code << 1) | 1 to tohost itself, riscv-tests style (2). */
#include <stdint.h>
#include <stdlib.h>

#include "mxemu/hal.h"

extern volatile uint64_t tohost;

int main(void) {
  const uint32_t code = mx_scalar("code", 0), via = mx_scalar("via", 0);
  if (via == 2) {
    volatile uint32_t* w = (volatile uint32_t*)&tohost;
    w[1] = 0;
    w[0] = (code << 1) | 1u;
    for (;;) {
    }
  }
  if (via == 1) return (int)code;
  exit((int)code);
}
