/* Helpers shared by the CT projector tests: CPU contexts, random data, the
 * distance-driven projector written out as a plain dense loop from its
 * definition (the overlap of each detector cell with each pixel), and inner
 * products in double. */
#ifndef SR_TEST_CT_TEST_UTIL_H
#define SR_TEST_CT_TEST_UTIL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "operators/ct_geometry.h"
#include "operators/ct_parallel.h"
#include "test_util.h"

static inline sr_context *ct_make_cpu(int threads) {
  sr_context_options o = sr_context_options_default();
  o.backend = SR_BACKEND_CPU;
  o.threads = threads;
  sr_context *ctx = NULL;
  if (sr_context_create(&o, &ctx) != SR_OK) {
    fprintf(stderr, "cannot create a CPU context: %s\n", ctx ? sr_context_last_error(ctx) : "");
    exit(1);
  }
  return ctx;
}

/* Uniform values in [lo, hi) from an LCG. */
static inline void ct_fill_random(float *x, size_t n, uint32_t seed, float lo, float hi) {
  uint32_t s = seed * 2654435761u + 12345u;
  for (size_t i = 0; i < n; ++i) {
    s = s * 1664525u + 1013904223u;
    x[i] = lo + (hi - lo) * ((float)(s >> 8) / 16777216.0f);
  }
}

static inline double ct_dot(const float *a, const float *b, size_t n) {
  double s = 0.0;
  for (size_t i = 0; i < n; ++i) s += (double)a[i] * (double)b[i];
  return s;
}

static inline double ct_norm(const float *a, size_t n) {
  return sqrt(ct_dot(a, a, n));
}

/* Index of pixel c of line l of a view of kind `major`, in an (H, W) image. */
static inline size_t ct_pixel(int major, int l, int c, int W) {
  return major == SR_CT_ROWS ? (size_t)l * W + c : (size_t)c * W + l;
}

/* The projector from its definition, in double: sino (n_angles, n_det) =
 * coef * sum over lines and pixels of overlap(cell, pixel) * image. With
 * `transpose`, image (H, W) = the same weights applied to sino instead. */
static inline void ct_reference(const sr_ct_projection *p, int transpose, const float *in,
                                double *out) {
  const int H = (int)p->image_h, W = (int)p->image_w, D = (int)p->n_det;
  memset(out, 0, (transpose ? (size_t)H * W : (size_t)p->n_angles * D) * sizeof *out);
  for (int a = 0; a < (int)p->n_angles; ++a) {
    const sr_ct_view *v = &p->views[a];
    const int lines = v->major == SR_CT_ROWS ? H : W, L = v->major == SR_CT_ROWS ? W : H;
    for (int l = 0; l < lines; ++l) {
      const float base = sr_ct_line_base(v, l);
      for (int k = 0; k < D; ++k) {
        const float qa = sr_ct_edge(v, base, k), qb = sr_ct_edge(v, base, k + 1);
        for (int c = 0; c < L; ++c) {
          const double w = (double)p->coef * (double)sr_ct_overlap(qa, qb, c);
          if (w == 0.0) continue;
          const size_t pix = ct_pixel(v->major, l, c, W);
          if (transpose)
            out[pix] += w * (double)in[(size_t)a * D + k];
          else
            out[(size_t)a * D + k] += w * (double)in[pix];
        }
      }
    }
  }
}

/* Relative L2 distance of a float array from a double reference. */
static inline double ct_rel_l2_d(const float *got, const double *ref, size_t n) {
  double num = 0.0, den = 0.0;
  for (size_t i = 0; i < n; ++i) {
    double d = (double)got[i] - ref[i];
    num += d * d;
    den += ref[i] * ref[i];
  }
  return sqrt(num) / (den > 1e-300 ? sqrt(den) : 1.0);
}

#endif
