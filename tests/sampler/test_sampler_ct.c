/* The sampler on sparse-view parallel-beam CT (the matched distance-driven
 * pair of ct-parallel, and the paper's Fourier-domain ct-fourier) with an
 * analytic Gaussian prior.
 *
 * Exact mode is the CG projection in the sinogram domain: the measured views
 * of the output must agree with the noise-free sinogram y to the stated
 * tolerance, ||A x - y|| <= 2e-4 ||y|| per slice (200 final CGLS
 * iterations, delta = 1e-6 ||A A^T||), while the unconditional sample (no consistency)
 * is far from y. Also checks that the exact step is a projection: applied to
 * a consistent image it changes nothing (to CG accuracy).
 *
 * Paper mode (ct-fourier, documented behaviour of the official step): one
 * step with lambda = 1 moves the measured Fourier samples only part of the
 * way to the data (blend on the 4x oversampled grid, crop, real part), and
 * a whole run ends far less consistent than exact mode. */
#include <math.h>
#include <stdio.h>

#include "sampler/consistency.h"
#include "sampler_test.h"

#define SIZE 32
#define NFULL 32
#define NKEEP 8
#define NSLICES 2
#define TAU 0.2

static double residual(st_problem *pb, const float *x, size_t slice) {
  float *ax = (float *)malloc(pb->meas_floats * sizeof(float));
  double num = 0.0, den = 0.0;
  if (st_forward(pb, x + slice * pb->n, ax, 1) == SR_OK) {
    const float *y = pb->y + slice * pb->meas_floats;
    for (size_t i = 0; i < pb->meas_floats; ++i) {
      num += ((double)ax[i] - y[i]) * ((double)ax[i] - y[i]);
      den += (double)y[i] * y[i];
    }
  }
  free(ax);
  return sqrt(num / den);
}

static void exact_mode(st_problem *pb) {
  sr_sampler_params sp;
  sr_sampler_params_default(&sp);
  sp.sde.n = 60;
  sp.snr = 0.16;
  sp.seed = 5;
  sp.consistency.mode = SR_CONSISTENCY_EXACT;
  float x[NSLICES * SIZE * SIZE], xs[NSLICES * SIZE * SIZE];
  char method[16] = "";
  sr_sampler_stats stats;
  CHECK_OK(pb->ctx, st_run(pb, &sp, 1, NSLICES, x, NULL, &stats, method, sizeof method));
  CHECK(strcmp(method, "cg") == 0);
  for (size_t s = 0; s < NSLICES; ++s) {
    const double r = residual(pb, x, s);
    printf("CT exact mode, slice %zu: ||A x - y|| / ||y|| = %.2e\n", s, r);
    CHECK_MSG(r <= 2e-4, "slice %zu: measured views off by %.3g", s, r);
  }
  /* The same sampler without consistency: a prior sample, not consistent. */
  sp.consistency.mode = SR_CONSISTENCY_NONE;
  CHECK_OK(pb->ctx, st_run(pb, &sp, 1, NSLICES, xs, NULL, NULL, method, sizeof method));
  const double r0 = residual(pb, xs, 0);
  printf("CT without consistency: ||A x - y|| / ||y|| = %.2e\n", r0);
  CHECK(r0 > 1e-2);
  printf("CT exact: %.2f s, network %.2f s, consistency %.2f s\n", stats.total_s, stats.network_s,
         stats.consistency_s);
}

/* Projecting an image that already satisfies A x = y leaves it unchanged. */
static void projection_is_idempotent(st_problem *pb) {
  sr_backend *b = sr_context_get_backend(pb->ctx);
  sr_consistency_params cp;
  sr_consistency_params_default(&cp);
  cp.mode = SR_CONSISTENCY_EXACT;
  sr_consistency *c = NULL;
  CHECK_OK(pb->ctx, sr_consistency_create(pb->op, &cp, &c));
  if (!c) return;
  float *x = (float *)malloc(NSLICES * pb->n * sizeof(float));
  memcpy(x, pb->x0, NSLICES * pb->n * sizeof(float));
  CHECK_OK(pb->ctx, sr_consistency_set_batch(c, pb->y, NSLICES));
  CHECK_OK(pb->ctx, sr_consistency_apply(c, x, NSLICES, NULL, 1.0, 0.0, 1.0, 1));
  const double d = sr_test_rel_l2(x, pb->x0, NSLICES * pb->n);
  printf("CT exact step on a consistent image: relative change %.2e (||A A^T|| = %.4g)\n", d,
         sr_consistency_normal_norm(c));
  CHECK_MSG(d < 1e-5, "projection moved a consistent image by %.3g", d);
  /* And one step from far away lands on the set. */
  for (size_t i = 0; i < NSLICES * pb->n; ++i) x[i] = pb->mean[i % pb->n];
  CHECK_OK(pb->ctx, sr_consistency_apply(c, x, NSLICES, NULL, 1.0, 0.0, 1.0, 1));
  for (size_t s = 0; s < NSLICES; ++s) {
    const double r = residual(pb, x, s);
    printf("CT exact step from the prior mean, slice %zu: residual %.2e\n", s, r);
    CHECK(r < 2e-4);
  }
  (void)b;
  free(x);
  sr_consistency_destroy(c);
}

/* Paper mode on ct-fourier: the fraction of the way one lambda = 1 step
 * moves the measured samples of T x towards the data, and the final
 * consistency of a run, against exact mode on the same operator. */
static void paper_mode(st_problem *pb) {
  sr_backend *b = sr_context_get_backend(pb->ctx);
  sr_consistency_params cp;
  sr_consistency_params_default(&cp);
  cp.mode = SR_CONSISTENCY_PAPER;
  sr_consistency *c = NULL;
  CHECK_OK(pb->ctx, sr_consistency_create(pb->op, &cp, &c));
  if (!c) return;
  const size_t nt = pb->op->transform_elems;
  float *x = (float *)malloc(pb->n * sizeof(float));
  float *t0 = (float *)malloc(2 * nt * sizeof(float)),
        *t1 = (float *)malloc(2 * nt * sizeof(float));
  float *known = (float *)malloc(2 * nt * sizeof(float)),
        *mask = (float *)malloc(nt * sizeof(float));
  for (size_t i = 0; i < pb->n; ++i) x[i] = pb->mean[i];
  CHECK_OK(pb->ctx, pb->op->vt->measurement_to_transform(pb->op, pb->y, known, 1));
  CHECK_OK(pb->ctx, b->ops->download(b, mask, pb->op->mask, nt * sizeof(float)));
  CHECK_OK(pb->ctx, st_transform(pb, x, t0, 1));
  CHECK_OK(pb->ctx, sr_consistency_set_batch(c, pb->y, 1));
  CHECK_OK(pb->ctx, sr_consistency_apply(c, x, 1, NULL, 1.0, 0.0, 1.0, 1));
  CHECK_OK(pb->ctx, st_transform(pb, x, t1, 1));
  double before = 0.0, after = 0.0;
  for (size_t k = 0; k < nt; ++k) {
    if (mask[k] == 0.0f) continue;
    for (int part = 0; part < 2; ++part) {
      const double d0 = t0[2 * k + part] - known[2 * k + part];
      const double d1 = t1[2 * k + part] - known[2 * k + part];
      before += d0 * d0, after += d1 * d1;
    }
  }
  const double moved = 1.0 - sqrt(after / before);
  printf("CT paper step (lambda 1): measured Fourier samples moved %.0f%% of the way to the data\n",
         100.0 * moved);
  CHECK_MSG(moved > 0.0 && moved < 0.6, "paper step moved the measured samples %.3g", moved);
  free(x), free(t0), free(t1), free(known), free(mask);
  sr_consistency_destroy(c);
  /* A short run in each mode: consistency of the result with y. */
  sr_sampler_params sp;
  sr_sampler_params_default(&sp);
  sp.sde.n = 40;
  sp.snr = 0.246;
  sp.seed = 5;
  float out[NSLICES * SIZE * SIZE];
  sp.consistency.mode = SR_CONSISTENCY_PAPER;
  sp.lambda = 0.841;
  CHECK_OK(pb->ctx, st_run(pb, &sp, 1, NSLICES, out, NULL, NULL, NULL, 0));
  const double r_paper = residual(pb, out, 0);
  sp.consistency.mode = SR_CONSISTENCY_EXACT;
  sp.lambda = 1.0;
  CHECK_OK(pb->ctx, st_run(pb, &sp, 1, NSLICES, out, NULL, NULL, NULL, 0));
  const double r_exact = residual(pb, out, 0);
  printf("CT (ct-fourier) after a run: ||A x - y|| / ||y|| paper %.2e, exact %.2e\n", r_paper,
         r_exact);
  CHECK(r_exact <= 2e-4);
  CHECK(r_paper > 10.0 * r_exact);
}

int main(void) {
  sr_context *ctx = st_context(SR_BACKEND_CPU, 1);
  if (!ctx) return 1;
  st_problem pb;
  if (st_ct_problem(ctx, SIZE, NFULL, NKEEP, NSLICES, TAU, &pb)) {
    projection_is_idempotent(&pb);
    exact_mode(&pb);
  }
  st_free(&pb);
  if (st_ct_fourier_problem(ctx, SIZE, NFULL, NKEEP, NSLICES, TAU, &pb)) paper_mode(&pb);
  st_free(&pb);
  sr_context_destroy(ctx);
  return sr_test_finish("test_sampler_ct");
}
