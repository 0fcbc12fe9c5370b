/* Pushes one descriptor given word by word as scalars (q, w0 ... w15) and fences: lets the
 * tests feed engines arbitrary, also invalid, descriptors. Returns the fence's fault code. */
#include "mxemu/hal.h"

int main(void) {
  static const char* const names[MX_DESC_WORDS] = {"w0", "w1", "w2",  "w3",  "w4",  "w5",
                                                   "w6", "w7", "w8",  "w9",  "w10", "w11",
                                                   "w12", "w13", "w14", "w15"};
  mx_desc_t d;
  for (unsigned i = 0; i < MX_DESC_WORDS; ++i) d.w[i] = mx_scalar(names[i], 0);
  mx_push(mx_scalar("q", 0), &d);
  return (int)mx_fence();
}
