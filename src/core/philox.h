/* Philox4x32-10 (Salmon et al., SC'11, "Parallel random numbers: as easy as
 * 1, 2, 3") and the project's own uniform-to-normal transform.
 *
 * This header is compiled by the C host compiler (CPU backend) and by nvcc or
 * the emulator (kernels/philox.cu). The integers are exact everywhere. The
 * normals are bit-identical only because every float operation below is a
 * single IEEE-rounded +, -, *, / or sqrt, evaluated in the written order:
 * the files that include this header are built with -ffp-contract=off (gcc)
 * and --fmad=false (nvcc), and no libm / CUDA intrinsic (logf, sincosf) is
 * used, since those differ between the two. */
#ifndef SR_CORE_PHILOX_H
#define SR_CORE_PHILOX_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(__CUDACC__) || (defined(SR_CUDA_EMU) && defined(__cplusplus))
#define SR_HD __host__ __device__ __forceinline__
#else
#define SR_HD static inline
#endif

typedef struct sr_philox_u4 {
  uint32_t v[4];
} sr_philox_u4;

#define SR_PHILOX_M0 0xD2511F53u
#define SR_PHILOX_M1 0xCD9E8D57u
#define SR_PHILOX_W0 0x9E3779B9u /* golden ratio */
#define SR_PHILOX_W1 0xBB67AE85u /* sqrt(3) - 1 */

SR_HD uint32_t sr_philox_mulhilo(uint32_t a, uint32_t b, uint32_t *hi) {
  uint64_t p = (uint64_t)a * (uint64_t)b;
  *hi = (uint32_t)(p >> 32);
  return (uint32_t)p;
}

/* Ten rounds; the key is bumped by the Weyl constants between rounds. */
SR_HD sr_philox_u4 sr_philox4x32_10(sr_philox_u4 ctr, uint32_t k0, uint32_t k1) {
  for (int r = 0; r < 10; ++r) {
    if (r > 0) {
      k0 += SR_PHILOX_W0;
      k1 += SR_PHILOX_W1;
    }
    uint32_t hi0, hi1;
    uint32_t lo0 = sr_philox_mulhilo(SR_PHILOX_M0, ctr.v[0], &hi0);
    uint32_t lo1 = sr_philox_mulhilo(SR_PHILOX_M1, ctr.v[2], &hi1);
    sr_philox_u4 next;
    next.v[0] = hi1 ^ ctr.v[1] ^ k0;
    next.v[1] = lo1;
    next.v[2] = hi0 ^ ctr.v[3] ^ k1;
    next.v[3] = lo0;
    ctr = next;
  }
  return ctr;
}

/* 24 random bits to a float in the open interval (0, 1): (k + 1/2) / 2^24 is
 * exact in float32 and never 0 or 1, so the logarithm below is finite. */
SR_HD float sr_philox_uniform(uint32_t x) {
  return ((float)(x >> 8) + 0.5f) * (1.0f / 16777216.0f);
}

SR_HD uint32_t sr_float_bits(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return u;
}

SR_HD float sr_bits_float(uint32_t u) {
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

/* ln(u) for u in (0, 1): u = m * 2^e with m in [sqrt(1/2), sqrt(2)), then
 * ln m = 2 atanh(s), s = (m - 1) / (m + 1), |s| <= 0.172, by its odd series
 * to s^11 (truncation < 1e-10 relative). Absolute error ~1 ulp of ln 2 * e. */
SR_HD float sr_log_open01(float u) {
  uint32_t bits = sr_float_bits(u);
  int e = (int)((bits >> 23) & 0xFFu) - 127;
  float m = sr_bits_float((bits & 0x007FFFFFu) | 0x3F800000u); /* [1, 2) */
  if (m > 1.41421356f) {
    m = m * 0.5f;
    e = e + 1;
  }
  float s = (m - 1.0f) / (m + 1.0f);
  float s2 = s * s;
  float poly = 1.0f / 11.0f;
  poly = poly * s2 + 1.0f / 9.0f;
  poly = poly * s2 + 1.0f / 7.0f;
  poly = poly * s2 + 1.0f / 5.0f;
  poly = poly * s2 + 1.0f / 3.0f;
  poly = poly * s2 + 1.0f;
  float ln_m = 2.0f * s * poly;
  /* ln 2 split in two so e * ln2_hi is exact for |e| < 2^8. */
  const float ln2_hi = 0.693145751953125f;
  const float ln2_lo = 1.42860682030941723e-6f;
  float fe = (float)e;
  return fe * ln2_hi + (fe * ln2_lo + ln_m);
}

/* sin and cos of a in [0, pi/4] by Taylor polynomials (error < 4e-9). */
SR_HD void sr_sincos_quarter(float a, float *s, float *c) {
  float a2 = a * a;
  float ps = -1.0f / 39916800.0f;
  ps = ps * a2 + 1.0f / 362880.0f;
  ps = ps * a2 - 1.0f / 5040.0f;
  ps = ps * a2 + 1.0f / 120.0f;
  ps = ps * a2 - 1.0f / 6.0f;
  ps = ps * a2 + 1.0f;
  *s = a * ps;
  float pc = 1.0f / 479001600.0f;
  pc = pc * a2 - 1.0f / 3628800.0f;
  pc = pc * a2 + 1.0f / 40320.0f;
  pc = pc * a2 - 1.0f / 720.0f;
  pc = pc * a2 + 1.0f / 24.0f;
  pc = pc * a2 - 0.5f;
  *c = pc * a2 + 1.0f;
}

/* sin and cos of 2*pi*u for u in [0, 1): the turn is split into eighths, so
 * the reduction 8u - octant is exact and the polynomial sees [0, pi/4]. */
SR_HD void sr_sincos_turn(float u, float *s, float *c) {
  float t = u * 8.0f; /* exact */
  int octant = (int)t;
  if (octant > 7) octant = 7;
  float f = t - (float)octant; /* exact, in [0, 1) */
  /* Odd octants run backwards from the next multiple of pi/4. */
  float a = (octant & 1) ? (1.0f - f) : f;
  float sa, ca;
  sr_sincos_quarter(a * 0.785398163397448310f, &sa, &ca);
  /* In octant k the angle is k*pi/4 + a (even k) or (k+1)*pi/4 - a (odd k). */
  float x, y; /* cos, sin */
  switch (octant) {
  case 0: x = ca; y = sa; break;
  case 1: x = sa; y = ca; break;
  case 2: x = -sa; y = ca; break;
  case 3: x = -ca; y = sa; break;
  case 4: x = -ca; y = -sa; break;
  case 5: x = -sa; y = -ca; break;
  case 6: x = sa; y = -ca; break;
  default: x = ca; y = -sa; break;
  }
  *s = y;
  *c = x;
}

/* Four standard normals from one Philox block: Box-Muller on (u0, u1) and
 * (u2, u3). */
SR_HD void sr_philox_normal4(sr_philox_u4 r, float out[4]) {
  for (int p = 0; p < 2; ++p) {
    float u1 = sr_philox_uniform(r.v[2 * p]);
    float u2 = sr_philox_uniform(r.v[2 * p + 1]);
    float rad = sqrtf(-2.0f * sr_log_open01(u1));
    float s, c;
    sr_sincos_turn(u2, &s, &c);
    out[2 * p] = rad * c;
    out[2 * p + 1] = rad * s;
  }
}

/* The normal at element `elem` of slice `slice` in a stream: key = (seed,
 * slice), counter = (elem / 4 low, purpose, step, elem / 4 high). */
SR_HD float sr_philox_normal_at(uint32_t seed, uint32_t slice, uint32_t step, uint32_t purpose,
                                uint64_t elem) {
  uint64_t group = elem >> 2;
  sr_philox_u4 ctr;
  ctr.v[0] = (uint32_t)group;
  ctr.v[1] = purpose;
  ctr.v[2] = step;
  ctr.v[3] = (uint32_t)(group >> 32);
  float out[4];
  sr_philox_normal4(sr_philox4x32_10(ctr, seed, slice), out);
  return out[elem & 3];
}

#endif
