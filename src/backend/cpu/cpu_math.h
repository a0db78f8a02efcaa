/* exp and SiLU written so that gcc vectorises loops over them (AVX2: 8
 * lanes). libm's expf is scalar and would make the GroupNorm+SiLU passes of
 * the score network cost as much as its convolutions. */
#ifndef SR_BACKEND_CPU_MATH_H
#define SR_BACKEND_CPU_MATH_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* No contraction of a * b + c into an FMA in the scalar twins below, so they
 * round like the AVX2 versions (gcc in ISO C mode does not contract; clang
 * does by default). The files that include this header get the same rule,
 * which keeps their scalar tails equal to their vector bodies. */
#ifdef __clang__
#pragma clang fp contract(off)
#endif

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

/* ---- AVX2 twins, 8 lanes. gcc does not vectorise the scalar versions
 * (the bit assembly of 2^n defeats it), so the hot loops call these. They
 * are compiled for AVX2+FMA by attribute and called only when
 * sr_cpu_has_avx2() says the CPU has it, so builds without -march=native
 * (the sanitizer builds) run them too. Same operations in the same order as
 * the scalar versions (separate multiply and add, no FMA; the build does
 * not contract them either), so a lane gives the scalar function's bits. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define SR_HAVE_AVX2_PATH 1
#define SR_TARGET_AVX2 __attribute__((target("avx2,fma")))

/* SR_CPU_NO_AVX2=1 in the environment forces the portable loops, so that
 * the tests cover them on AVX2 machines too. */
static inline int sr_cpu_has_avx2(void) {
  static int known = -1;
  if (known < 0) {
    __builtin_cpu_init();
    const char *off = getenv("SR_CPU_NO_AVX2");
    known = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
            !(off && off[0] && off[0] != '0');
  }
  return known;
}

SR_TARGET_AVX2 static inline __m256 sr_expf8(__m256 x) {
  const __m256 xc =
      _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.5f)), _mm256_set1_ps(88.5f));
  const __m256 n = _mm256_floor_ps(
      _mm256_add_ps(_mm256_mul_ps(xc, _mm256_set1_ps(1.44269504088896341f)),
                    _mm256_set1_ps(0.5f)));
  __m256 r = _mm256_sub_ps(xc, _mm256_mul_ps(n, _mm256_set1_ps(0.693145751953125f)));
  r = _mm256_sub_ps(r, _mm256_mul_ps(n, _mm256_set1_ps(1.428606765330187e-06f)));
  __m256 p = _mm256_set1_ps(1.0f / 720.0f);
  p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.0f / 120.0f));
  p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.0f / 24.0f));
  p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.0f / 6.0f));
  p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(0.5f));
  p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.0f));
  p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.0f));
  const __m256i bits =
      _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvttps_epi32(n), _mm256_set1_epi32(127)), 23);
  __m256 e = _mm256_mul_ps(p, _mm256_castsi256_ps(bits));
  e = _mm256_blendv_ps(e, _mm256_setzero_ps(),
                       _mm256_cmp_ps(x, _mm256_set1_ps(-87.3f), _CMP_LT_OQ));
  e = _mm256_blendv_ps(e, _mm256_set1_ps(__builtin_inff()),
                       _mm256_cmp_ps(x, _mm256_set1_ps(88.7f), _CMP_GT_OQ));
  return e;
}

SR_TARGET_AVX2 static inline __m256 sr_silu8(__m256 x) {
  const __m256 e = sr_expf8(_mm256_sub_ps(_mm256_setzero_ps(), x));
  return _mm256_div_ps(x, _mm256_add_ps(_mm256_set1_ps(1.0f), e));
}
#else
#define SR_HAVE_AVX2_PATH 0
static inline int sr_cpu_has_avx2(void) { return 0; }
#endif

#endif
