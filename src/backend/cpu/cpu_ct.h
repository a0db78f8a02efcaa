/* The CPU backend's CT ops (issue 3), same contracts as in backend.h.
 * Files: cpu_ct_plan.c (plan, scratch), cpu_radon.c (forward projection and
 * its line tables), cpu_backproject.c (its exact adjoint), cpu_ramp_filter.c
 * (FBP's filter on FFTW).
 *
 * The CPU evaluates the distance-driven weights through prefix sums: with
 * S[j] = sum of the line's pixels c < j (the line's integral up to the pixel
 * edge j - 1/2, in double), the integral up to any position x is the linear
 * interpolation F(x) = S[j] + t x[j] with j + t = x + 1/2 (x[L] = 0), and a
 * cell's value is F(q_k+1) - F(q_k): one interpolation per cell edge,
 * whatever the cell width. A line's table interleaves (S[j], x[j]) so that one
 * 16-byte load serves an edge. The adjoint scatters each edge's coefficients
 * (z for S[j], t z for x[j]) into a line buffer of the same layout, then takes
 * suffix sums (S[j] holds the pixels c < j). Both directions clamp positions
 * to the line, [-1/2, L - 1/2], so edges beyond an end cost nothing and
 * contribute exactly nothing.
 *
 * Why prefix sums and not the overlaps themselves (as the CUDA kernels do):
 * the cost per cell is one interpolation whatever the cell width, the loops
 * have no data-dependent trip counts and vectorise, and in double the
 * differences of S lose nothing that matters (S is at most a line's sum). */
#ifndef SR_BACKEND_CPU_CT_H
#define SR_BACKEND_CPU_CT_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/backend.h"
#include "backend/ct_projection.h"

/* With AVX2 + FMA (the default -march=native build on x86-64) the edge loops
 * run 4 or 8 edges at a time; the scalar loops compute the same j and t (same
 * fused multiply-add, same clamps and truncation) and the same double
 * arithmetic in the same order, so builds without it (sanitizers,
 * SR_NATIVE=OFF) give bit-identical results (test_ct_adjoint prints hashes
 * of its outputs to compare). */
#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define SR_CPU_CT_AVX2 1
#endif

sr_status sr_cpu_ct_plan_create(sr_backend *b, const sr_ct_projection *proj, sr_ct_plan **out);
void sr_cpu_ct_plan_destroy(sr_backend *b, sr_ct_plan *plan);
sr_status sr_cpu_radon(sr_backend *b, sr_ct_plan *plan, const float *image, float *sino,
                       size_t nslices);
sr_status sr_cpu_backproject(sr_backend *b, sr_ct_plan *plan, const float *sino, float *image,
                             size_t nslices);
sr_status sr_cpu_ramp_filter(sr_backend *b, sr_ct_plan *plan, sr_ct_filter filter, const float *in,
                             float *out, size_t nslices);

/* ---- private to the cpu_ct files */

typedef struct cpu_ct_plan {
  /* The views of each kind, in view order: a line's adjoint loops over them. */
  int32_t *views_by_major[2];
  int32_t n_by_major[2];
  /* Double scratch grown on demand: prefix tables, partial images. */
  double *scratch;
  size_t scratch_elems;
  /* FBP: padded length, FFTW plans (made once, executed on per-thread
   * buffers) and each filter's response H[f] / padded, computed on first use. */
  int64_t padded;
  void *r2c, *c2r; /* fftwf_plan */
  float *filter[SR_CT_FILTER_COUNT];
} cpu_ct_plan;

static inline cpu_ct_plan *sr_cpu_ct_impl(sr_ct_plan *plan) {
  return (cpu_ct_plan *)plan->impl;
}

/* Returns plan scratch of at least n doubles. */
sr_status sr_cpu_ct_scratch(sr_backend *b, sr_ct_plan *plan, size_t n, double **out);

/* Lines of a view of kind `major` and their length. */
static inline int sr_cpu_ct_lines(const sr_ct_projection *p, int major) {
  return (int)(major == SR_CT_ROWS ? p->image_h : p->image_w);
}
static inline int sr_cpu_ct_line_len(const sr_ct_projection *p, int major) {
  return (int)(major == SR_CT_ROWS ? p->image_w : p->image_h);
}

/* The edges [*m0, *m1] of view v that can touch line `base` (length L): one
 * edge of margin beyond each end, clamped to [0, n_det]. Every cell outside
 * [*m0, *m1 - 1] has both edges clamped to the same end of the line, so its
 * value is exactly 0: the range is only a shortcut. *m1 <= *m0: no cell. */
static inline void sr_cpu_ct_edge_range(const sr_ct_view *v, float base, int L, int n_det, int *m0,
                                        int *m1) {
  double a = (double)v->alpha;
  double e0 = (-0.5 - (double)base) / a, e1 = ((double)L - 0.5 - (double)base) / a;
  double lo = floor(fmin(e0, e1)) - 1.0, hi = ceil(fmax(e0, e1)) + 1.0;
  if (lo < 0.0) lo = 0.0;
  if (hi > (double)n_det) hi = (double)n_det;
  *m0 = (int)lo;
  *m1 = hi < lo ? (int)lo : (int)hi;
}

/* The interpolation of edge position q on a line of length L: index j in
 * [0, L] and weight t in [0, 1) with j + t = clamp(q, -1/2, L - 1/2) + 1/2,
 * both exact (q + 1/2 is exact in float for |q| < 2^22). */
static inline void sr_cpu_ct_edge_interp(float q, int L, int32_t *j, float *t) {
  /* Plain compares, not fminf/fmaxf: those are libm calls under strict C11
   * (NaN rules). Same order as max_ps / min_ps below. */
  const float hi = (float)L - 0.5f;
  q = q > -0.5f ? q : -0.5f;
  q = q < hi ? q : hi;
  float x = q + 0.5f;
  int32_t jj = (int32_t)x; /* x >= 0: truncation is floor */
  *j = jj;
  *t = x - (float)jj;
}

/* j[i], t[i] of the edges m0 + i, i = 0 .. count - 1, of a line. */
static inline void sr_cpu_ct_edges(const sr_ct_view *v, float base, int L, int m0, int count,
                                   int32_t *j, float *t) {
  int i = 0;
#ifdef SR_CPU_CT_AVX2
  const __m256 alpha = _mm256_set1_ps(v->alpha), vbase = _mm256_set1_ps(base);
  const __m256 lo = _mm256_set1_ps(-0.5f), hi = _mm256_set1_ps((float)L - 0.5f);
  const __m256 half = _mm256_set1_ps(0.5f), eight = _mm256_set1_ps(8.0f);
  /* (float)m0 + i is exact (< 2^24), so m equals the scalar (float)(m0 + i). */
  __m256 m = _mm256_add_ps(_mm256_set1_ps((float)m0), _mm256_setr_ps(0, 1, 2, 3, 4, 5, 6, 7));
  for (; i + 8 <= count; i += 8) {
    __m256 q = _mm256_fmadd_ps(alpha, m, vbase);
    q = _mm256_min_ps(_mm256_max_ps(q, lo), hi);
    __m256 x = _mm256_add_ps(q, half);
    __m256i ji = _mm256_cvttps_epi32(x);
    _mm256_storeu_si256((__m256i *)(j + i), ji);
    _mm256_storeu_ps(t + i, _mm256_sub_ps(x, _mm256_cvtepi32_ps(ji)));
    m = _mm256_add_ps(m, eight);
  }
#endif
  for (; i < count; ++i) sr_cpu_ct_edge_interp(sr_ct_edge(v, base, m0 + i), L, &j[i], &t[i]);
}

#endif
