/* Total-variation pieces of the CPU backend: the forward-difference
 * gradient, its negative adjoint (the divergence) and the projection of the
 * dual field onto discs (isotropic TV). CUDA twins: kernels/tv.cu. */
#include <math.h>
#include <stddef.h>

#include "backend/cpu/cpu_fft.h"
#include "backend/cpu/cpu_internal.h"

/* The pragma text cannot take macro arguments: loops name their size par_n. */
// clang-format off
#define TV_PARALLEL_FOR \
  _Pragma("omp parallel for schedule(static) num_threads(b->threads) if (par_n >= SR_CPU_PARALLEL_MIN)")
// clang-format on

/* g (nslices, 2, h, w) from x (nslices, h, w). */
sr_status sr_cpu_grad2(sr_backend *b, float *g, const float *x, size_t nslices, size_t h,
                       size_t w) {
  size_t hw = h * w, total = nslices * hw;
  const size_t par_n = total;
  TV_PARALLEL_FOR
  for (size_t k = 0; k < total; ++k) {
    size_t s = k / hw, p = k % hw, i = p / w, j = p % w;
    const float *xs = x + s * hw;
    float *gs = g + 2 * s * hw;
    gs[p] = i + 1 < h ? xs[p + w] - xs[p] : 0.0f;
    gs[hw + p] = j + 1 < w ? xs[p + 1] - xs[p] : 0.0f;
  }
  return SR_OK;
}

/* div g at (i, j) = g0[i][j] [i < h-1] - g0[i-1][j] [i > 0] + the same along
 * j: summing by parts shows <grad x, g> = -<x, div g> exactly (the last
 * row of g0 and last column of g1 never enter, as grad2 leaves them 0). */
sr_status sr_cpu_div2(sr_backend *b, float *x, const float *g, size_t nslices, size_t h, size_t w) {
  size_t hw = h * w, total = nslices * hw;
  const size_t par_n = total;
  TV_PARALLEL_FOR
  for (size_t k = 0; k < total; ++k) {
    size_t s = k / hw, p = k % hw, i = p / w, j = p % w;
    const float *g0 = g + 2 * s * hw, *g1 = g0 + hw;
    float d = 0.0f;
    if (i + 1 < h) d += g0[p];
    if (i > 0) d -= g0[p - w];
    if (j + 1 < w) d += g1[p];
    if (j > 0) d -= g1[p - 1];
    x[k] = d;
  }
  return SR_OK;
}

sr_status sr_cpu_proj_l2ball2(sr_backend *b, float *p, size_t nslices, size_t hw, float radius) {
  size_t total = nslices * hw;
  const size_t par_n = total;
  TV_PARALLEL_FOR
  for (size_t k = 0; k < total; ++k) {
    size_t s = k / hw, q = k % hw;
    float *p0 = p + 2 * s * hw + q, *p1 = p0 + hw;
    float n = sqrtf(*p0 * *p0 + *p1 * *p1);
    if (n > radius) {
      float f = radius / n;
      *p0 *= f;
      *p1 *= f;
    }
  }
  return SR_OK;
}
