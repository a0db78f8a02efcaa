/* GroupNorm (+ SiLU) and SiLU on the CPU. One (sample, group) pair is one
 * task, computed by one thread in a fixed order, so the result does not
 * depend on the thread count; the normalise pass is a
 * vectorised loop over each channel plane with the affine folded into one
 * multiply-add: y = x * a + c, a = gamma * rstd, c = beta - mean * a. */
#include <math.h>

#include "backend/cpu/cpu_internal.h"
#include "backend/cpu/cpu_math.h"
#include "backend/cpu/cpu_nn.h"
#include "core/error.h"

static void norm_plane(const float *restrict x, float *restrict y, size_t hw, float a, float c,
                       int silu) {
  if (silu) {
#pragma omp simd
    for (size_t i = 0; i < hw; ++i) y[i] = sr_silu_fast(x[i] * a + c);
  } else {
#pragma omp simd
    for (size_t i = 0; i < hw; ++i) y[i] = x[i] * a + c;
  }
}

/* The in-place case needs no restrict-free twin: each element is read
 * once, then written at the same index. */
static void norm_plane_inplace(float *x, size_t hw, float a, float c, int silu) {
  if (silu) {
#pragma omp simd
    for (size_t i = 0; i < hw; ++i) x[i] = sr_silu_fast(x[i] * a + c);
  } else {
#pragma omp simd
    for (size_t i = 0; i < hw; ++i) x[i] = x[i] * a + c;
  }
}

sr_status sr_cpu_group_norm(sr_backend *b, const float *x, size_t n, size_t c, size_t hw,
                            size_t groups, const float *gamma, const float *beta, float eps,
                            int silu, float *y) {
  if (groups == 0 || c % groups != 0)
    return sr_fail(b->ctx, SR_ERR_SHAPE, "group_norm: %zu channels in %zu groups", c, groups);
  const size_t cg = c / groups, group_len = cg * hw;
  const long long tasks = (long long)(n * groups);
  const int parallel = n * c * hw >= SR_CPU_PARALLEL_MIN;
#pragma omp parallel for schedule(dynamic, 1) if (parallel)
  for (long long t = 0; t < tasks; ++t) {
    const size_t s = (size_t)t / groups, g = (size_t)t % groups;
    /* Two passes: the mean, then the centred sum of squares (a large mean
     * cannot cancel the variance). Each channel plane is summed in float by
     * a vectorised loop (a fixed order for a given binary), the planes in
     * double. */
    double sum = 0.0;
    for (size_t ch = g * cg; ch < (g + 1) * cg; ++ch) {
      const float *xp = x + (s * c + ch) * hw;
      float acc = 0.0f;
#pragma omp simd reduction(+ : acc)
      for (size_t i = 0; i < hw; ++i) acc += xp[i];
      sum += acc;
    }
    const double mean = sum / (double)group_len;
    const float meanf = (float)mean;
    double sq = 0.0;
    for (size_t ch = g * cg; ch < (g + 1) * cg; ++ch) {
      const float *xp = x + (s * c + ch) * hw;
      float acc = 0.0f;
#pragma omp simd reduction(+ : acc)
      for (size_t i = 0; i < hw; ++i) {
        const float dlt = xp[i] - meanf;
        acc += dlt * dlt;
      }
      sq += acc;
    }
    const double var = sq / (double)group_len;
    const double rstd = 1.0 / sqrt(var + (double)eps);
    for (size_t ch = g * cg; ch < (g + 1) * cg; ++ch) {
      const float a = (float)(gamma[ch] * rstd);
      const float cc = (float)(beta[ch] - mean * gamma[ch] * rstd);
      const size_t off = (s * c + ch) * hw;
      if (x == y)
        norm_plane_inplace(y + off, hw, a, cc, silu);
      else
        norm_plane(x + off, y + off, hw, a, cc, silu);
    }
  }
  return SR_OK;
}

sr_status sr_cpu_silu(sr_backend *b, const float *x, size_t count, float *y) {
  const int parallel = count >= SR_CPU_PARALLEL_MIN;
#pragma omp parallel for simd schedule(static) if (parallel)
  for (size_t i = 0; i < count; ++i) y[i] = sr_silu_fast(x[i]);
  return SR_OK;
}
