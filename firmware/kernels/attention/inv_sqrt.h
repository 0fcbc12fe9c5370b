/* 1/sqrt(n) rounded to FP32: Newton's iteration in FP64 from below (converges to within a few
 * FP64 ulp), then one rounding. The core has no FPU, so this is soft-float (about 14,000 core
 * cycles). Attention's default scale, shared with the transformer block so both choose it. */
#ifndef MXEMU_KERNELS_INV_SQRT_H
#define MXEMU_KERNELS_INV_SQRT_H

#include <stdint.h>

static inline float inv_sqrt(uint32_t n) {
  const double x = (double)n;
  double y = 1.0;
  while (y * y * x > 1.0) y *= 0.5;
  for (int i = 0; i < 12; ++i) y = y * (1.5 - 0.5 * x * y * y);
  return (float)y;
}

#endif
