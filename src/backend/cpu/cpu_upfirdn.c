/* upfirdn2d and channel concatenation on the CPU.
 *
 * upfirdn2d computes, per plane, without materialising the upsampled and
 * padded image P (P[r][c] = x[(r - pad0) / up][(c - pad0) / up] when both
 * differences are non-negative multiples of up and inside, else 0):
 *   y[oy][ox] = sum_{i,j} P[oy*down + i][ox*down + j] * k[KH-1-i][KW-1-j]
 * Row by row: output row oy meets the P rows oy*down + i that hold an input
 * row (every up-th i). For each, the P row is built once in `down` phases,
 *   ph[p][m] = P[.][down * m + p],
 * so P[.][ox*down + j] = ph[j % down][ox + j / down] and every tap j is a
 * contiguous, vectorised multiply-add over the output row. Zero taps of the
 * inserted samples are multiplied like the others (adding 0 changes
 * nothing): each output is the sum over i, then j, in order, plus the bias. */
#include <stdlib.h>
#include <string.h>

#include "backend/cpu/cpu_internal.h"
#include "backend/cpu/cpu_nn.h"
#include "core/error.h"

/* First tap index t >= 0 with (base + t) % up == 0 (base may be negative). */
static inline int first_tap(int base, int up) {
  int m = base % up;
  if (m < 0) m += up;
  return m == 0 ? 0 : up - m;
}

/* The phases of the P row holding input row xrow (w samples): ph holds
 * `down` arrays of `len` floats, ph[p * len + m] = P[.][down * m + p]. */
static void build_phases(const float *xrow, int w, int up, int down, int pad0, int len,
                         float *ph) {
  memset(ph, 0, (size_t)len * down * sizeof(float));
  /* input sample s sits at padded column up * s + pad0 = down * m + p;
   * the samples that land inside: s in [s0, s1) */
  int s0 = 0;
  while (s0 < w && up * s0 + pad0 < 0) ++s0;
  int s1 = w;
  while (s1 > s0 && (up * (s1 - 1) + pad0) / down >= len) --s1;
  if (s0 >= s1) return;
  if (down == 1) {
    /* one phase: every up-th column (the up - 1 between stay 0) */
    float *dst = ph + up * s0 + pad0;
    for (int s = s0; s < s1; ++s) dst[(size_t)up * (s - s0)] = xrow[s];
    return;
  }
  if (up == 1) {
    /* deinterleave: phase p holds columns p, p + down, ... */
    for (int p = 0; p < down; ++p) {
      float *dst = ph + (size_t)p * len;
      /* samples s = down * m + p - pad0, s in [s0, s1) */
      int m = s0 + pad0 - p <= 0 ? 0 : (s0 + pad0 - p + down - 1) / down;
      for (int src = down * m + p - pad0; src < s1 && m < len; src += down, ++m) dst[m] = xrow[src];
    }
    return;
  }
  int col = up * s0 + pad0, m = col / down, p = col % down;
  const int m_step = up / down, p_step = up % down;
  for (int s = s0; s < s1; ++s) {
    ph[(size_t)p * len + m] = xrow[s];
    m += m_step, p += p_step;
    if (p >= down) p -= down, ++m;
  }
}

static void fir_plane(const sr_fir_desc *f, const float *xp, int h, int w, int ho, int wo,
                      const float *add, float *ph, float *yp) {
  const int up = f->up, down = f->down, pad0 = f->pad0;
  const int hu = h * up;
  /* phase length: tap j of output ox reads ph[j % down][ox + j / down] */
  const int len = wo + (f->kw - 1) / down;
  for (int oy = 0; oy < ho; ++oy) {
    float *restrict yrow = yp + (size_t)oy * wo;
    for (int ox = 0; ox < wo; ++ox) yrow[ox] = 0.0f;
    const int rbase = oy * down - pad0;
    for (int i = first_tap(rbase, up); i < f->kh; i += up) {
      const int ru = rbase + i;
      if (ru < 0) continue;
      if (ru >= hu) break;
      build_phases(xp + (size_t)(ru / up) * w, w, up, down, pad0, len, ph);
      const float *krow = f->k + (size_t)(f->kh - 1 - i) * f->kw;
      for (int j = 0; j < f->kw; ++j) {
        const float kj = krow[f->kw - 1 - j];
        const float *restrict src = ph + (size_t)(j % down) * len + j / down;
#pragma omp simd
        for (int ox = 0; ox < wo; ++ox) yrow[ox] += kj * src[ox];
      }
    }
    if (add)
      for (int ox = 0; ox < wo; ++ox) yrow[ox] += *add;
  }
}

sr_status sr_cpu_upfirdn2d(sr_backend *b, const sr_fir_desc *f, const float *x, size_t planes,
                           size_t h, size_t w, const float *bias, size_t channels, float *y) {
  if (f->up < 1 || f->down < 1 || f->kh < 1 || f->kw < 1 || f->kh > SR_FIR_MAX_TAPS ||
      f->kw > SR_FIR_MAX_TAPS)
    return sr_fail(b->ctx, SR_ERR_INVALID_ARGUMENT,
                   "upfirdn2d: up %d, down %d, a %dx%d kernel (at most %d taps a side)", f->up,
                   f->down, f->kh, f->kw, SR_FIR_MAX_TAPS);
  const size_t ho = sr_fir_out_size(f, h);
  sr_fir_desc across = *f; /* sr_fir_out_size reads kh: the same along W with kw */
  across.kh = f->kw;
  const size_t wo = sr_fir_out_size(&across, w);
  if (ho == 0 || wo == 0)
    return sr_fail(b->ctx, SR_ERR_SHAPE, "upfirdn2d: empty output from a %zux%zu plane", h, w);
  if (bias && channels == 0)
    return sr_fail(b->ctx, SR_ERR_INVALID_ARGUMENT, "upfirdn2d: a bias over 0 channels");
  const size_t len = wo + (size_t)(f->kw - 1) / (size_t)f->down;
  const int threads = b->threads > 0 ? b->threads : 1;
  const int parallel = threads > 1 && planes > 1 && planes * ho * wo >= SR_CPU_PARALLEL_MIN;
  int failed = 0;
#pragma omp parallel num_threads(threads) if (parallel)
  {
    float *ph = (float *)malloc(len * (size_t)f->down * sizeof(float));
    if (!ph) {
#pragma omp atomic write
      failed = 1;
    }
#pragma omp for schedule(static)
    for (long long pl = 0; pl < (long long)planes; ++pl) {
      if (!ph) continue;
      const float *add = bias ? bias + (size_t)pl % channels : NULL;
      fir_plane(f, x + (size_t)pl * h * w, (int)h, (int)w, (int)ho, (int)wo, add, ph,
                y + (size_t)pl * ho * wo);
    }
    free(ph);
  }
  if (failed)
    return sr_fail(b->ctx, SR_ERR_OUT_OF_MEMORY, "upfirdn2d: cannot allocate a row buffer");
  return SR_OK;
}

sr_status sr_cpu_concat_channels(sr_backend *b, float *dst, const float *a, const float *bsrc,
                                 size_t n, size_t ca, size_t cb, size_t hw) {
  for (size_t s = 0; s < n; ++s) {
    float *d = dst + s * (ca + cb) * hw;
    memcpy(d, a + s * ca * hw, ca * hw * sizeof(float));
    memcpy(d + ca * hw, bsrc + s * cb * hw, cb * hw * sizeof(float));
  }
  return SR_OK;
}
