/* exp and SiLU written so that gcc vectorises loops over them (AVX2: 8
 * lanes). libm's expf is scalar and would make the GroupNorm+SiLU passes of
 * the score network cost as much as its convolutions. */
#ifndef SR_BACKEND_CPU_MATH_H
#define SR_BACKEND_CPU_MATH_H

#include <stdint.h>
#include <string.h>

/* e^x for float x, relative error below 2 ulp over the float range; exact
 * 0 below -87.3 and +inf above 88.7. Range reduction x = n ln2 + r with
 * |r| <= ln2/2 (ln2 split in two for exactness), a degree-6 polynomial for
 * e^r, and 2^n assembled in the exponent bits (n clamped so they stay valid,
 * the clamp then sends the result to 0 or inf via the outer select). */
static inline float sr_expf_fast(float x) {
  const float log2e = 1.44269504088896341f;
  const float ln2_hi = 0.693145751953125f, ln2_lo = 1.428606765330187e-06f;
  float xc = x < -87.5f ? -87.5f : (x > 88.5f ? 88.5f : x);
  float n = __builtin_floorf(xc * log2e + 0.5f);
  float r = xc - n * ln2_hi;
  r = r - n * ln2_lo;
  float p = 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  int32_t bits = ((int32_t)n + 127) << 23;
  float scale;
  memcpy(&scale, &bits, sizeof scale);
  float e = p * scale;
  e = x < -87.3f ? 0.0f : e;
  e = x > 88.7f ? __builtin_inff() : e;
  return e;
}

/* x * sigmoid(x) = x / (1 + e^-x): for x -> -inf, e^-x = inf and the
 * quotient is -0, as it should be. */
static inline float sr_silu_fast(float x) { return x / (1.0f + sr_expf_fast(-x)); }

#endif
