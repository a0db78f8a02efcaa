/* GroupNorm (+ SiLU) and SiLU on the CPU. One (sample, group) pair is one
 * task, computed by one thread in a fixed order, so the result does not
 * depend on the thread count.
 *
 * Statistics per channel plane, then merged in double: the plane's sum (a
 * read from memory), then its sum of squares about its own mean (a second
 * read, from L2: a plane is at most a few hundred KB), so a large mean
 * cannot cancel the variance; planes combine exactly as
 *   M2 = sum_c [m2_c + 2 (mu_c - mu) (s_c - n mu_c) + n (mu_c - mu)^2]
 * (mu_c the float mean the plane was centred on, s_c its sum, n = HW).
 * The normalise pass folds the affine into one multiply-add per element,
 * y = x * a + c, a = gamma * rstd, c = beta - mean * a, then SiLU;
 * group_norm_coeffs returns (a, c) instead, for conv2d_normed to apply to
 * its input as it copies it (sr_cpu_affine_act, the same arithmetic, so the
 * fused and unfused paths give the same bits). The AVX2 path computes
 * exactly what the scalar loops compute, eight lanes at a time (sums in 32
 * lanes, then the lanes in a fixed order). */
#include <math.h>

#include "backend/cpu/cpu_internal.h"
#include "backend/cpu/cpu_math.h"
#include "backend/cpu/cpu_nn.h"
#include "core/error.h"

/* ---- scalar: the reference twin of the AVX2 loops, for other CPUs */

static double plane_sum_scalar(const float *x, size_t hw) {
  float lane[32] = {0};
  size_t i = 0;
  for (; i + 32 <= hw; i += 32)
    for (int l = 0; l < 32; ++l) lane[l] += x[i + l];
  double s = 0.0;
  for (int l = 0; l < 32; ++l) s += lane[l];
  for (; i < hw; ++i) s += x[i];
  return s;
}

static double plane_m2_scalar(const float *x, size_t hw, float mu) {
  float lane[32] = {0};
  size_t i = 0;
  for (; i + 32 <= hw; i += 32)
    for (int l = 0; l < 32; ++l) {
      const float d = x[i + l] - mu;
      lane[l] += d * d;
    }
  double s = 0.0;
  for (int l = 0; l < 32; ++l) s += lane[l];
  for (; i < hw; ++i) {
    const double d = (double)x[i] - mu;
    s += d * d;
  }
  return s;
}

static void normalise_scalar(const float *x, float *y, size_t hw, float a, float c, int silu) {
  if (silu)
    for (size_t i = 0; i < hw; ++i) y[i] = sr_silu_fast(x[i] * a + c);
  else
    for (size_t i = 0; i < hw; ++i) y[i] = x[i] * a + c;
}

/* ---- AVX2 */

#if SR_HAVE_AVX2_PATH
/* 32 lanes summed in the scalar twin's order: lane l = 8 v + k. */
SR_TARGET_AVX2 static double lanes_sum(__m256 v0, __m256 v1, __m256 v2, __m256 v3) {
  float lane[32];
  _mm256_storeu_ps(lane, v0), _mm256_storeu_ps(lane + 8, v1);
  _mm256_storeu_ps(lane + 16, v2), _mm256_storeu_ps(lane + 24, v3);
  double s = 0.0;
  for (int l = 0; l < 32; ++l) s += lane[l];
  return s;
}

SR_TARGET_AVX2 static double plane_sum_avx2(const float *x, size_t hw) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  size_t i = 0;
  for (; i + 32 <= hw; i += 32) {
    a0 = _mm256_add_ps(a0, _mm256_loadu_ps(x + i));
    a1 = _mm256_add_ps(a1, _mm256_loadu_ps(x + i + 8));
    a2 = _mm256_add_ps(a2, _mm256_loadu_ps(x + i + 16));
    a3 = _mm256_add_ps(a3, _mm256_loadu_ps(x + i + 24));
  }
  double s = lanes_sum(a0, a1, a2, a3);
  for (; i < hw; ++i) s += x[i];
  return s;
}

SR_TARGET_AVX2 static double plane_m2_avx2(const float *x, size_t hw, float mu) {
  const __m256 m = _mm256_set1_ps(mu);
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  size_t i = 0;
  for (; i + 32 <= hw; i += 32) {
    const __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(x + i), m);
    const __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(x + i + 8), m);
    const __m256 d2 = _mm256_sub_ps(_mm256_loadu_ps(x + i + 16), m);
    const __m256 d3 = _mm256_sub_ps(_mm256_loadu_ps(x + i + 24), m);
    a0 = _mm256_add_ps(a0, _mm256_mul_ps(d0, d0));
    a1 = _mm256_add_ps(a1, _mm256_mul_ps(d1, d1));
    a2 = _mm256_add_ps(a2, _mm256_mul_ps(d2, d2));
    a3 = _mm256_add_ps(a3, _mm256_mul_ps(d3, d3));
  }
  double s = lanes_sum(a0, a1, a2, a3);
  for (; i < hw; ++i) {
    const double d = (double)x[i] - mu;
    s += d * d;
  }
  return s;
}

SR_TARGET_AVX2 static void normalise_avx2(const float *x, float *y, size_t hw, float a, float c,
                                          int silu) {
  const __m256 va = _mm256_set1_ps(a), vc = _mm256_set1_ps(c);
  size_t i = 0;
  if (silu)
    for (; i + 8 <= hw; i += 8)
      _mm256_storeu_ps(y + i,
                       sr_silu8(_mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(x + i), va), vc)));
  else
    for (; i + 8 <= hw; i += 8)
      _mm256_storeu_ps(y + i, _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(x + i), va), vc));
  normalise_scalar(x + i, y + i, hw - i, a, c, silu);
}
#endif

static double plane_sum(int avx2, const float *x, size_t hw) {
#if SR_HAVE_AVX2_PATH
  if (avx2) return plane_sum_avx2(x, hw);
#endif
  return plane_sum_scalar(x, hw);
}

static double plane_m2(int avx2, const float *x, size_t hw, float mu) {
#if SR_HAVE_AVX2_PATH
  if (avx2) return plane_m2_avx2(x, hw, mu);
#endif
  return plane_m2_scalar(x, hw, mu);
}

void sr_cpu_affine_act(const float *x, float *y, size_t n, float a, float c, int silu) {
#if SR_HAVE_AVX2_PATH
  if (sr_cpu_has_avx2()) {
    normalise_avx2(x, y, n, a, c, silu);
    return;
  }
#endif
  normalise_scalar(x, y, n, a, c, silu);
}

/* Mean and 1 / sqrt(var + eps) of one group of cg planes of hw floats. */
static void group_stats(int avx2, const float *xg, size_t cg, size_t hw, float eps,
                        double *mean_out, double *rstd_out) {
  /* the plane sums (kept for the first 64 planes of a group; NCSN++'s
   * groups hold C / 32 or 4), then each plane's squares about its own
   * float mean, merged exactly in double */
  double sums[64];
  double total = 0.0;
  for (size_t ch = 0; ch < cg; ++ch) {
    const double sc = plane_sum(avx2, xg + ch * hw, hw);
    if (ch < 64) sums[ch] = sc;
    total += sc;
  }
  const double count = (double)(cg * hw), mean = total / count;
  double m2 = 0.0;
  for (size_t ch = 0; ch < cg; ++ch) {
    const float *xp = xg + ch * hw;
    const double sum_c = ch < 64 ? sums[ch] : plane_sum(avx2, xp, hw);
    const float mu_c = (float)(sum_c / (double)hw);
    const double dmu = (double)mu_c - mean;
    m2 += plane_m2(avx2, xp, hw, mu_c) + 2.0 * dmu * (sum_c - (double)hw * mu_c) +
          (double)hw * dmu * dmu;
  }
  *mean_out = mean;
  *rstd_out = 1.0 / sqrt(m2 / count + (double)eps);
}

/* The per-channel affine of the normalisation, in one place so that
 * group_norm and group_norm_coeffs (+ conv2d_normed) round identically. */
static void channel_affine(double mean, double rstd, float gamma, float beta, float *a,
                           float *c) {
  *a = (float)(gamma * rstd);
  *c = (float)(beta - mean * gamma * rstd);
}

/* Every (sample, group), in parallel: the statistics, then per channel
 * either y = act(a x + c) (y not NULL) or ab[s][ch] = (a, c) (ab not NULL). */
static sr_status normalise_groups(sr_backend *b, const float *x, size_t n, size_t c, size_t hw,
                                  size_t groups, const float *gamma, const float *beta,
                                  float eps, int silu, float *y, float *ab) {
  if (groups == 0 || c % groups != 0)
    return sr_fail(b->ctx, SR_ERR_SHAPE, "group_norm: %zu channels in %zu groups", c, groups);
  if (hw == 0) return SR_OK;
  const size_t cg = c / groups;
  const long long tasks = (long long)(n * groups);
  const int threads = b->threads > 0 ? b->threads : 1;
  const int parallel = threads > 1 && tasks > 1 && n * c * hw >= SR_CPU_PARALLEL_MIN;
  const int avx2 = sr_cpu_has_avx2();
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) if (parallel)
  for (long long t = 0; t < tasks; ++t) {
    const size_t s = (size_t)t / groups, g = (size_t)t % groups;
    double mean, rstd;
    group_stats(avx2, x + (s * c + g * cg) * hw, cg, hw, eps, &mean, &rstd);
    for (size_t ch = g * cg; ch < (g + 1) * cg; ++ch) {
      float a, cc;
      channel_affine(mean, rstd, gamma[ch], beta[ch], &a, &cc);
      if (y) sr_cpu_affine_act(x + (s * c + ch) * hw, y + (s * c + ch) * hw, hw, a, cc, silu);
      if (ab) ab[2 * (s * c + ch)] = a, ab[2 * (s * c + ch) + 1] = cc;
    }
  }
  return SR_OK;
}

sr_status sr_cpu_group_norm(sr_backend *b, const float *x, size_t n, size_t c, size_t hw,
                            size_t groups, const float *gamma, const float *beta, float eps,
                            int silu, float *y) {
  return normalise_groups(b, x, n, c, hw, groups, gamma, beta, eps, silu, y, NULL);
}

sr_status sr_cpu_group_norm_coeffs(sr_backend *b, const float *x, size_t n, size_t c,
                                   size_t hw, size_t groups, const float *gamma,
                                   const float *beta, float eps, float *ab) {
  return normalise_groups(b, x, n, c, hw, groups, gamma, beta, eps, 0, NULL, ab);
}

sr_status sr_cpu_silu(sr_backend *b, const float *x, size_t count, float *y) {
  const int threads = b->threads > 0 ? b->threads : 1;
  const int parallel = threads > 1 && count >= SR_CPU_PARALLEL_MIN;
#pragma omp parallel for simd schedule(static) num_threads(threads) if (parallel)
  for (size_t i = 0; i < count; ++i) y[i] = sr_silu_fast(x[i]);
  return SR_OK;
}
