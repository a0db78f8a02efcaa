/* The paper-mode consistency step against the official formula written out
 * literally (cs.py, merge_known_with_mask + from_space):
 *   y_hat = m known + sigma T z
 *   x'    = T^-1 [ lambda Lambda y_hat + (1 - lambda Lambda) T x ]
 * with the same z (the sampler's Philox stream for the item, purpose and
 * step), for MRI (mri-cartesian) and the paper's CT (ct-fourier), with and
 * without noise, several lambda. The library computes the algebraically
 * identical x + lambda T^-1 Lambda (y_hat - T x) (one transform fewer):
 * agreement to float32 rounding (relative L2 <= 1e-5). */
#include <stdio.h>

#include "sampler/consistency.h"
#include "sampler_test.h"

#define NB 2

static void literal(st_problem *pb, const float *x, const float *z, const float *known,
                    const float *mask, double m, double sigma, double lambda, float *out) {
  sr_backend *b = sr_context_get_backend(pb->ctx);
  const size_t nt = pb->op->transform_elems, n = pb->n;
  float *tx = (float *)malloc(NB * 2 * nt * sizeof(float));
  float *tz = (float *)malloc(NB * 2 * nt * sizeof(float));
  float *xd = NULL, *td = NULL;
  CHECK_OK(pb->ctx, st_transform(pb, x, tx, NB));
  CHECK_OK(pb->ctx, st_transform(pb, z, tz, NB));
  for (size_t s = 0; s < NB; ++s)
    for (size_t k = 0; k < nt; ++k)
      for (int part = 0; part < 2; ++part) {
        const size_t i = (s * nt + k) * 2 + part;
        const double yhat = m * known[i] + sigma * tz[i];
        const double w = lambda * mask[k];
        tx[i] = (float)(w * yhat + (1.0 - w) * tx[i]);
      }
  CHECK_OK(pb->ctx, b->ops->alloc(b, NB * 2 * nt * sizeof(float), (void **)&td));
  CHECK_OK(pb->ctx, b->ops->alloc(b, NB * n * sizeof(float), (void **)&xd));
  CHECK_OK(pb->ctx, b->ops->upload(b, td, tx, NB * 2 * nt * sizeof(float)));
  CHECK_OK(pb->ctx, pb->op->vt->inverse_transform(pb->op, td, xd, NB));
  CHECK_OK(pb->ctx, b->ops->download(b, out, xd, NB * n * sizeof(float)));
  b->ops->free(b, td);
  b->ops->free(b, xd);
  free(tx);
  free(tz);
}

static void compare(st_problem *pb, const char *what) {
  sr_backend *b = sr_context_get_backend(pb->ctx);
  const size_t nt = pb->op->transform_elems, n = pb->n;
  sr_consistency_params cp;
  sr_consistency_params_default(&cp);
  cp.mode = SR_CONSISTENCY_PAPER;
  sr_consistency *c = NULL;
  CHECK_OK(pb->ctx, sr_consistency_create(pb->op, &cp, &c));
  if (!c) return;
  float *x = (float *)malloc(NB * n * sizeof(float)), *z = (float *)malloc(NB * n * sizeof(float));
  float *want = (float *)malloc(NB * n * sizeof(float)),
        *got = (float *)malloc(NB * n * sizeof(float));
  float *known = (float *)malloc(NB * 2 * nt * sizeof(float)),
        *mask = (float *)malloc(nt * sizeof(float));
  float *xd = NULL, *yd = NULL, *kd = NULL;
  CHECK_OK(pb->ctx, b->ops->alloc(b, NB * n * sizeof(float), (void **)&xd));
  CHECK_OK(pb->ctx, b->ops->alloc(b, NB * pb->meas_floats * sizeof(float), (void **)&yd));
  CHECK_OK(pb->ctx, b->ops->alloc(b, NB * 2 * nt * sizeof(float), (void **)&kd));
  CHECK_OK(pb->ctx, b->ops->upload(b, yd, pb->y, NB * pb->meas_floats * sizeof(float)));
  CHECK_OK(pb->ctx, pb->op->vt->measurement_to_transform(pb->op, yd, kd, NB));
  CHECK_OK(pb->ctx, b->ops->download(b, known, kd, NB * 2 * nt * sizeof(float)));
  CHECK_OK(pb->ctx, b->ops->download(b, mask, pb->op->mask, nt * sizeof(float)));
  CHECK_OK(pb->ctx, sr_consistency_set_batch(c, yd, NB));
  const sr_sample_item items[NB] = {{4, 0}, {9, 2}};
  const double cases[][3] = {{1.0, 0.0, 1.0}, {1.0, 3.7, 0.841}, {1.0, 90.0, 1.0}, {0.8, 0.5, 0.5}};
  uint64_t rs = 99;
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; ++k) {
    const double m = cases[k][0], sigma = cases[k][1], lambda = cases[k][2];
    for (size_t i = 0; i < NB * n; ++i) x[i] = (float)(0.5 + sigma * st_normal(&rs));
    sr_consistency_noise noise = {17, items, SR_DRAW_CONSISTENCY_BEFORE_CORRECTOR, 3};
    memset(z, 0, NB * n * sizeof(float));
    if (sigma > 0.0) {
      CHECK_OK(pb->ctx, sr_noise_draw(b, noise.seed, items, NB, xd, n, noise.purpose, noise.step));
      CHECK_OK(pb->ctx, b->ops->download(b, z, xd, NB * n * sizeof(float)));
    }
    literal(pb, x, z, known, mask, m, sigma, lambda, want);
    CHECK_OK(pb->ctx, b->ops->upload(b, xd, x, NB * n * sizeof(float)));
    CHECK_OK(pb->ctx,
             sr_consistency_apply(c, xd, NB, sigma > 0.0 ? &noise : NULL, m, sigma, lambda, 0));
    CHECK_OK(pb->ctx, b->ops->download(b, got, xd, NB * n * sizeof(float)));
    const double e = sr_test_rel_l2(got, want, NB * n);
    printf("%s: m %.2g sigma %5.3g lambda %.3g: library vs literal official step %.2e\n", what, m,
           sigma, lambda, e);
    CHECK_MSG(e <= 1e-5, "%s: paper step differs from the official formula by %.3g", what, e);
  }
  b->ops->free(b, xd);
  b->ops->free(b, yd);
  b->ops->free(b, kd);
  free(x), free(z), free(want), free(got), free(known), free(mask);
  sr_consistency_destroy(c);
}

int main(void) {
  sr_context *ctx = st_context(SR_BACKEND_CPU, 1);
  if (!ctx) return 1;
  static const int cols[] = {0, 2, 5, 7, 8, 9, 12};
  st_problem pb;
  if (st_mri_problem(ctx, 16, 16, cols, 7, NB, 0.2, &pb)) compare(&pb, "MRI 16x16");
  st_free(&pb);
  if (st_ct_fourier_problem(ctx, 24, 24, 6, NB, 0.2, &pb)) compare(&pb, "CT ct-fourier 24x24");
  st_free(&pb);
  sr_context_destroy(ctx);
  return sr_test_finish("test_consistency_paper");
}
