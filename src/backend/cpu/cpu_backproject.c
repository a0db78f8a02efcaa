/* Backprojection, image = A^T sino, on the CPU: the exact transpose of
 * cpu_radon.c, evaluated line by line. The forward reads, per edge at (j, t),
 * F = S[j] + t x[j] from the line's table; here each edge's coefficient z
 * goes into d[2j] (for S[j]) and t z into d[2j + 1] (for x[j]), in the same
 * interleaved layout, and the line's pixels are then
 *     x[c] = sum_{j > c} d[2j] + d[2c + 1]
 * (S[j] holds the pixels c < j). Rows collect the views that walk rows,
 * columns those that walk columns; the two partial images add up at the end.
 * Each line belongs to one thread and sums its views and edges in order, so
 * no atomics are needed and the result does not depend on the thread count.
 *
 * Shapes: sino (nslices, n_angles, n_det), image (nslices, H, W), float32;
 * the image is overwritten. Accumulation is in double. */
#define _POSIX_C_SOURCE 200809L
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "backend/cpu/cpu_ct.h"
#include "core/error.h"

/* Per-thread work arrays: j, t of up to n_det + 1 edges; d of 2 (L + 1). */
typedef struct line_work {
  int32_t *j;
  float *t;
  double *d;
} line_work;

/* Adds edge e's (z, t z) at j: one 16-byte read-modify-write. */
static inline void add_edge(double *d, int32_t j, double z, double tz) {
  d[2 * (size_t)j] += z;
  d[2 * (size_t)j + 1] += tz;
}

/* The interior edges e = 1 .. count - 2 of one view: edge m0 + e carries
 * z = scale (y[e - 1] - y[e]) (y from cell m0). */
static void scatter_interior(const float *y, const int32_t *j, const float *t, int count,
                             double scale, double *d) {
  int e = 1;
#ifdef SR_CPU_CT_AVX2
  const __m256d vs = _mm256_set1_pd(scale);
  for (; e + 4 <= count - 1; e += 4) {
    __m256d prev = _mm256_cvtps_pd(_mm_loadu_ps(y + e - 1));
    __m256d next = _mm256_cvtps_pd(_mm_loadu_ps(y + e));
    __m256d z = _mm256_mul_pd(vs, _mm256_sub_pd(prev, next));
    __m256d tz = _mm256_mul_pd(_mm256_cvtps_pd(_mm_loadu_ps(t + e)), z);
    /* lo = (z, tz) of edges e, e + 2; hi = of edges e + 1, e + 3. */
    __m256d lo = _mm256_unpacklo_pd(z, tz), hi = _mm256_unpackhi_pd(z, tz);
    double *p0 = d + 2 * (size_t)j[e], *p1 = d + 2 * (size_t)j[e + 1];
    double *p2 = d + 2 * (size_t)j[e + 2], *p3 = d + 2 * (size_t)j[e + 3];
    _mm_storeu_pd(p0, _mm_add_pd(_mm_loadu_pd(p0), _mm256_castpd256_pd128(lo)));
    _mm_storeu_pd(p1, _mm_add_pd(_mm_loadu_pd(p1), _mm256_castpd256_pd128(hi)));
    _mm_storeu_pd(p2, _mm_add_pd(_mm_loadu_pd(p2), _mm256_extractf128_pd(lo, 1)));
    _mm_storeu_pd(p3, _mm_add_pd(_mm_loadu_pd(p3), _mm256_extractf128_pd(hi, 1)));
  }
#endif
  for (; e < count - 1; ++e) {
    const double z = scale * ((double)y[e - 1] - (double)y[e]);
    add_edge(d, j[e], z, (double)t[e] * z);
  }
}

/* Line l of kind `major`: out[c] for its L pixels (double). */
static void backproject_line(const sr_ct_projection *p, const cpu_ct_plan *impl, int major, int l,
                             const float *sino, const line_work *w, double *out) {
  const int n_det = (int)p->n_det, L = sr_cpu_ct_line_len(p, major);
  double *d = w->d;
  memset(d, 0, 2 * (size_t)(L + 1) * sizeof *d);
  const int32_t *views = impl->views_by_major[major];
  for (int i = 0; i < impl->n_by_major[major]; ++i) {
    const int a = views[i];
    const sr_ct_view *v = &p->views[a];
    const float base = sr_ct_line_base(v, l);
    int m0, m1;
    sr_cpu_ct_edge_range(v, base, L, n_det, &m0, &m1);
    if (m1 <= m0) continue;
    const int count = m1 - m0 + 1;
    sr_cpu_ct_edges(v, base, L, m0, count, w->j, w->t);
    const float *y = sino + (size_t)a * n_det + m0;
    const double scale = (double)p->coef * (v->alpha < 0.0f ? -1.0 : 1.0);
    /* Forward: cell m0 + k (0 <= k < count - 1) = scale (F[k + 1] - F[k]), so
     * edge m0 + e carries scale (y[e - 1] - y[e]), cells outside taken as 0. */
    double z = -scale * (double)y[0];
    add_edge(d, w->j[0], z, (double)w->t[0] * z);
    scatter_interior(y, w->j, w->t, count, scale, d);
    z = scale * (double)y[count - 2];
    add_edge(d, w->j[count - 1], z, (double)w->t[count - 1] * z);
  }
  double run = 0.0;
  for (int c = L - 1; c >= 0; --c) {
    run += d[2 * (size_t)(c + 1)];
    out[c] = run + d[2 * (size_t)c + 1];
  }
}

sr_status sr_cpu_backproject(sr_backend *b, sr_ct_plan *plan, const float *sino, float *image,
                             size_t nslices) {
  if (nslices == 0) return SR_OK;
  const sr_ct_projection *p = &plan->proj;
  const cpu_ct_plan *impl = sr_cpu_ct_impl(plan);
  const int H = (int)p->image_h, W = (int)p->image_w;
  const int n_angles = (int)p->n_angles, n_det = (int)p->n_det;
  const int has_rows = impl->n_by_major[SR_CT_ROWS] > 0;
  const int has_cols = impl->n_by_major[SR_CT_COLUMNS] > 0;
  const size_t plane = (size_t)H * W;
  double *buf = NULL;
  SR_TRY(sr_cpu_ct_scratch(b, plan, 2 * plane, &buf));
  double *rows_part = buf;         /* (H, W): from the views that walk rows */
  double *cols_part = buf + plane; /* (W, H): from the views that walk columns */
  const int Lmax = H > W ? H : W;
  int failed = 0;

#pragma omp parallel num_threads(b->threads)
  {
    line_work w;
    w.j = (int32_t *)malloc((size_t)(n_det + 1) * sizeof *w.j);
    w.t = (float *)malloc((size_t)(n_det + 1) * sizeof *w.t);
    w.d = (double *)malloc(2 * (size_t)(Lmax + 1) * sizeof *w.d);
    const int ok = w.j && w.t && w.d;
    if (!ok) {
#pragma omp atomic write
      failed = 1;
    }
    for (size_t sl = 0; sl < nslices; ++sl) {
      const float *sin_sl = sino + sl * (size_t)n_angles * n_det;
      float *img = image + sl * plane;
      if (has_rows) {
#pragma omp for schedule(static)
        for (int r = 0; r < H; ++r)
          if (ok) backproject_line(p, impl, SR_CT_ROWS, r, sin_sl, &w, rows_part + (size_t)r * W);
      }
      if (has_cols) {
#pragma omp for schedule(static)
        for (int c = 0; c < W; ++c)
          if (ok)
            backproject_line(p, impl, SR_CT_COLUMNS, c, sin_sl, &w, cols_part + (size_t)c * H);
      }
#pragma omp for schedule(static)
      for (int r = 0; r < H; ++r) {
        float *dst = img + (size_t)r * W;
        const double *rp = rows_part + (size_t)r * W;
        for (int c = 0; c < W; ++c) {
          double v = has_rows ? rp[c] : 0.0;
          if (has_cols) v += cols_part[(size_t)c * H + r];
          dst[c] = (float)v;
        }
      }
    }
    free(w.j), free(w.t), free(w.d);
  }
  if (failed) return sr_fail(b->ctx, SR_ERR_OUT_OF_MEMORY, "CT backprojection: out of memory");
  return SR_OK;
}
