/* Forward projection, sinogram = A image, on the CPU: the distance-driven
 * projector of backend/ct_projection.h through per-line prefix sums (see
 * cpu_ct.h). Parallel over views within a slice: each view's sinogram row is
 * one thread's, summed over lines in order, so the result does not depend on
 * the thread count. Accumulation is in double; the output is rounded once.
 *
 * Shapes: image (nslices, H, W), sino (nslices, n_angles, n_det), float32. */
#define _POSIX_C_SOURCE 200809L
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "backend/cpu/cpu_ct.h"
#include "core/error.h"

/* Columns per block when building the column tables: the writes go to this
 * many table rows at once while the image is read row by row. */
#define TABLE_COL_BLOCK 16

/* The line tables of one slice, T (lines, 2 (L + 1)) doubles: T[2j] = S[j],
 * the sum of the line's pixels c < j, and T[2j + 1] = x[j] (x[L] = 0), for
 * j = 0 .. L. Rows: lines are image rows, L = W. */
static void table_row(const float *img, int W, int r, double *T) {
  const float *x = img + (size_t)r * W;
  double *t = T + (size_t)r * 2 * (W + 1);
  double run = 0.0;
  for (int c = 0; c < W; ++c) {
    t[2 * c] = run;
    t[2 * c + 1] = (double)x[c];
    run += (double)x[c];
  }
  t[2 * W] = run;
  t[2 * W + 1] = 0.0;
}

/* Columns c0 .. c1 - 1 as lines, L = H. */
static void table_cols(const float *img, int H, int W, int c0, int c1, double *T) {
  const size_t stride = 2 * ((size_t)H + 1);
  for (int c = c0; c < c1; ++c) T[c * stride] = 0.0;
  for (int r = 0; r < H; ++r) {
    const float *x = img + (size_t)r * W;
    for (int c = c0; c < c1; ++c) {
      double *t = T + c * stride + 2 * (size_t)r;
      t[1] = (double)x[c];
      t[2] = t[0] + (double)x[c];
    }
  }
  for (int c = c0; c < c1; ++c) T[c * stride + 2 * (size_t)H + 1] = 0.0;
}

/* G[m0 + i] += F(q_m0+i) = S[j] + t x[j] for the count edges m0 .. of a line
 * (the line's integral up to each edge), positions, interpolation and
 * accumulation in one pass. */
static void accumulate_line(const sr_ct_view *v, float base, int L, const double *T, int m0,
                            int count, double *G) {
  int i = 0;
  double *g = G + m0;
#ifdef SR_CPU_CT_AVX2
  const __m128 alpha = _mm_set1_ps(v->alpha), vbase = _mm_set1_ps(base);
  const __m128 lo = _mm_set1_ps(-0.5f), hi = _mm_set1_ps((float)L - 0.5f);
  const __m128 half = _mm_set1_ps(0.5f), four = _mm_set1_ps(4.0f);
  /* (float)m0 + i is exact (< 2^24): m equals the scalar (float)(m0 + i). */
  __m128 m = _mm_add_ps(_mm_set1_ps((float)m0), _mm_setr_ps(0.0f, 1.0f, 2.0f, 3.0f));
  int32_t j[4];
  for (; i + 4 <= count; i += 4) {
    /* The same operations as sr_cpu_ct_edge_interp, four edges at a time. */
    __m128 q = _mm_min_ps(_mm_max_ps(_mm_fmadd_ps(alpha, m, vbase), lo), hi);
    __m128 x = _mm_add_ps(q, half);
    __m128i ji = _mm_cvttps_epi32(x);
    __m256d t = _mm256_cvtps_pd(_mm_sub_ps(x, _mm_cvtepi32_ps(ji)));
    _mm_storeu_si128((__m128i *)j, ji);
    /* Edges a, b, c, d: v1 = (S, x)_a | (S, x)_c, v2 = (S, x)_b | (S, x)_d. */
    __m256d v1 = _mm256_insertf128_pd(_mm256_castpd128_pd256(_mm_loadu_pd(T + 2 * (size_t)j[0])),
                                      _mm_loadu_pd(T + 2 * (size_t)j[2]), 1);
    __m256d v2 = _mm256_insertf128_pd(_mm256_castpd128_pd256(_mm_loadu_pd(T + 2 * (size_t)j[1])),
                                      _mm_loadu_pd(T + 2 * (size_t)j[3]), 1);
    __m256d F =
        _mm256_add_pd(_mm256_unpacklo_pd(v1, v2), _mm256_mul_pd(t, _mm256_unpackhi_pd(v1, v2)));
    _mm256_storeu_pd(g + i, _mm256_add_pd(_mm256_loadu_pd(g + i), F));
    m = _mm_add_ps(m, four);
  }
#endif
  for (; i < count; ++i) {
    int32_t j;
    float t;
    sr_cpu_ct_edge_interp(sr_ct_edge(v, base, m0 + i), L, &j, &t);
    const double *e = T + 2 * (size_t)j;
    g[i] += e[0] + (double)t * e[1];
  }
}

/* Per-thread work arrays of a view: G (n_det + 1) and R (n_det + 2). */
typedef struct view_work {
  double *G, *R;
} view_work;

/* One view's sinogram row: cell k = scale * sum over lines of
 * (F(q_k+1) - F(q_k)) = scale (G[k + 1] - G[k]) with G[m] = sum over lines of
 * F(q_m). Edges beyond a line's range [m0, m1] sit clamped on one of its ends,
 * where F is 0 or the line's total; R adds those totals as steps (any
 * constant added to every edge cancels in the differences). */
static void project_view(const sr_ct_projection *p, const sr_ct_view *v, const double *S,
                         const view_work *w, float *out) {
  const int n_det = (int)p->n_det;
  const int lines = sr_cpu_ct_lines(p, v->major), L = sr_cpu_ct_line_len(p, v->major);
  const size_t stride = 2 * ((size_t)L + 1);
  double *G = w->G, *R = w->R;
  memset(G, 0, (size_t)(n_det + 1) * sizeof *G);
  memset(R, 0, (size_t)(n_det + 2) * sizeof *R);
  for (int l = 0; l < lines; ++l) {
    const float base = sr_ct_line_base(v, l);
    int m0, m1;
    sr_cpu_ct_edge_range(v, base, L, n_det, &m0, &m1);
    if (m1 <= m0) continue; /* every edge on one end: a constant */
    const double *T = S + (size_t)l * stride;
    accumulate_line(v, base, L, T, m0, m1 - m0 + 1, G);
    /* alpha > 0: edges after m1 are past the far end (F = total); alpha < 0:
     * edges before m0 are, which is -total on the edges from m0 on. */
    if (v->alpha > 0.0f)
      R[m1 + 1] += T[2 * (size_t)L];
    else
      R[m0] -= T[2 * (size_t)L];
  }
  /* With alpha < 0 the edges run backwards: F(q_k+1) - F(q_k) is minus the
   * overlap, so the sign of alpha goes into the scale. */
  const double scale = (double)p->coef * (v->alpha < 0.0f ? -1.0 : 1.0);
  double step = R[0], prev = G[0] + step;
  for (int k = 0; k < n_det; ++k) {
    step += R[k + 1];
    const double next = G[k + 1] + step;
    out[k] = (float)(scale * (next - prev));
    prev = next;
  }
}

sr_status sr_cpu_radon(sr_backend *b, sr_ct_plan *plan, const float *image, float *sino,
                       size_t nslices) {
  if (nslices == 0) return SR_OK;
  const sr_ct_projection *p = &plan->proj;
  const cpu_ct_plan *impl = sr_cpu_ct_impl(plan);
  const int H = (int)p->image_h, W = (int)p->image_w;
  const int n_angles = (int)p->n_angles, n_det = (int)p->n_det;
  const int need_rows = impl->n_by_major[SR_CT_ROWS] > 0;
  const int need_cols = impl->n_by_major[SR_CT_COLUMNS] > 0;
  const size_t rows_elems = (size_t)H * 2 * (W + 1), cols_elems = (size_t)W * 2 * (H + 1);
  double *S = NULL;
  SR_TRY(sr_cpu_ct_scratch(b, plan, rows_elems + cols_elems, &S));
  double *S_rows = S, *S_cols = S + rows_elems;
  const int col_blocks = (W + TABLE_COL_BLOCK - 1) / TABLE_COL_BLOCK;
  int failed = 0;

#pragma omp parallel num_threads(b->threads)
  {
    view_work w;
    w.G = (double *)malloc((size_t)(n_det + 1) * sizeof *w.G);
    w.R = (double *)malloc((size_t)(n_det + 2) * sizeof *w.R);
    const int ok = w.G && w.R;
    if (!ok) {
#pragma omp atomic write
      failed = 1;
    }
    for (size_t sl = 0; sl < nslices; ++sl) {
      const float *img = image + sl * (size_t)H * W;
      float *sin_sl = sino + sl * (size_t)n_angles * n_det;
      if (need_rows) {
#pragma omp for schedule(static)
        for (int r = 0; r < H; ++r) table_row(img, W, r, S_rows);
      }
      if (need_cols) {
#pragma omp for schedule(static)
        for (int cb = 0; cb < col_blocks; ++cb) {
          int c0 = cb * TABLE_COL_BLOCK, c1 = c0 + TABLE_COL_BLOCK < W ? c0 + TABLE_COL_BLOCK : W;
          table_cols(img, H, W, c0, c1, S_cols);
        }
      }
#pragma omp for schedule(dynamic, 4)
      for (int a = 0; a < n_angles; ++a) {
        if (!ok) continue;
        const sr_ct_view *v = &p->views[a];
        project_view(p, v, v->major == SR_CT_ROWS ? S_rows : S_cols, &w,
                     sin_sl + (size_t)a * n_det);
      }
    }
    free(w.G), free(w.R);
  }
  if (failed) return sr_fail(b->ctx, SR_ERR_OUT_OF_MEMORY, "CT projection: out of memory");
  return SR_OK;
}
