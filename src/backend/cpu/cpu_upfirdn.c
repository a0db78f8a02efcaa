/* upfirdn2d and channel concatenation on the CPU.
 *
 * upfirdn2d computes, per plane, without materialising the upsampled and
 * padded image P (P[r][c] = x[(r - pad0) / up][(c - pad0) / up] when both
 * differences are non-negative multiples of up and inside, else 0):
 *   y[oy][ox] = sum_{i,j} P[oy*down + i][ox*down + j] * k[KH-1-i][KW-1-j]
 * Only taps that land on a real sample are visited: for output row oy the
 * first tap i0 makes oy*down + i0 - pad0 a multiple of up, then every up-th. */
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
  const int up = f->up, down = f->down, pad0 = f->pad0;
  const int hu = (int)h * up, wu = (int)w * up;
  const int parallel = planes * ho * wo >= SR_CPU_PARALLEL_MIN;
#pragma omp parallel for schedule(static) if (parallel)
  for (long long pl = 0; pl < (long long)planes; ++pl) {
    const float *xp = x + (size_t)pl * h * w;
    float *yp = y + (size_t)pl * ho * wo;
    const float add = bias ? bias[(size_t)pl % channels] : 0.0f;
    for (size_t oy = 0; oy < ho; ++oy) {
      const int rbase = (int)oy * down - pad0; /* P row of tap 0, minus pad0 */
      for (size_t ox = 0; ox < wo; ++ox) {
        const int cbase = (int)ox * down - pad0;
        float acc = 0.0f;
        for (int i = first_tap(rbase, up); i < f->kh; i += up) {
          const int ru = rbase + i;
          if (ru < 0) continue;
          if (ru >= hu) break;
          const float *xrow = xp + (size_t)(ru / up) * w;
          const float *krow = f->k + (size_t)(f->kh - 1 - i) * f->kw;
          for (int j = first_tap(cbase, up); j < f->kw; j += up) {
            const int cu = cbase + j;
            if (cu < 0) continue;
            if (cu >= wu) break;
            acc += xrow[cu / up] * krow[f->kw - 1 - j];
          }
        }
        yp[oy * wo + ox] = acc + add;
      }
    }
  }
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
