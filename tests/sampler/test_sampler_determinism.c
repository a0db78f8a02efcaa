/* Reproducibility on the CPU backend (CLARIFICATIONS: bit-identical across
 * runs, thread counts and batch sizes): the same seed gives the same bits
 * whatever the batch size, the item's position in its batch and the
 * number of threads, for MRI in both consistency modes and CT in exact
 * mode; samples differ from each other, seeds differ from each other; and
 * the K-sample mean / std do not depend on the batch either. Images are
 * large enough (128 x 128) for the parallel CPU paths to engage. */
#include <stdio.h>

#include "sampler_test.h"

#define SLICES 3

static const int cols[] = {60, 62, 63, 64, 65, 66, 68, 10, 100};

static float *run(st_problem *pb, const sr_sampler_params *sp, int samples, size_t batch,
                  int want_std) {
  const size_t total = pb->nslices * pb->n;
  float *out = (float *)calloc(2 * total, sizeof(float));
  CHECK_OK(pb->ctx,
           st_run(pb, sp, samples, batch, out, want_std ? out + total : NULL, NULL, NULL, 0));
  return out;
}

static void check_same(const float *a, const float *b, size_t n, const char *what) {
  CHECK_MSG(memcmp(a, b, n * sizeof(float)) == 0, "%s: not bit-identical (rel L2 %.3g)", what,
            sr_test_rel_l2(a, b, n));
}

/* Batch sizes 1, 2, 3 and threads 1 vs 2 give the same bits. */
static void across_batches_and_threads(st_problem *p1, st_problem *p2, const sr_sampler_params *sp,
                                       const char *what) {
  const size_t total = p1->nslices * p1->n;
  float *ref = run(p1, sp, 1, 1, 0);
  float *again = run(p1, sp, 1, 1, 0);
  float *b2 = run(p1, sp, 1, 2, 0);
  float *b3 = run(p1, sp, 1, 3, 0);
  float *t2 = run(p2, sp, 1, 3, 0);
  char msg[128];
  snprintf(msg, sizeof msg, "%s: run twice", what);
  check_same(ref, again, total, msg);
  snprintf(msg, sizeof msg, "%s: batch 2 vs 1", what);
  check_same(ref, b2, total, msg);
  snprintf(msg, sizeof msg, "%s: batch 3 vs 1", what);
  check_same(ref, b3, total, msg);
  snprintf(msg, sizeof msg, "%s: 2 threads vs 1", what);
  check_same(ref, t2, total, msg);
  /* Different seeds differ. */
  sr_sampler_params other = *sp;
  other.seed = sp->seed + 1;
  float *s2 = run(p1, &other, 1, 3, 0);
  CHECK_MSG(sr_test_rel_l2(s2, ref, total) > 1e-3, "%s: seed does not matter", what);
  printf("%s: bit-identical across runs, batch sizes 1/2/3 and 1/2 threads\n", what);
  free(ref), free(again), free(b2), free(b3), free(t2), free(s2);
}

/* K samples: mean and std independent of the batch; sample 0 is the
 * single-sample run. */
static void samples_mean_std(st_problem *p1, st_problem *p2, const sr_sampler_params *sp) {
  const size_t total = p1->nslices * p1->n;
  float *one = run(p1, sp, 1, 3, 0);
  float *k4a = run(p1, sp, 4, 1, 1);
  float *k4b = run(p1, sp, 4, 5, 1);
  float *k4c = run(p2, sp, 4, 12, 1);
  check_same(k4a, k4b, 2 * total, "4 samples: batch 5 vs 1");
  check_same(k4a, k4c, 2 * total, "4 samples: batch 12 on 2 threads vs batch 1");
  /* The samples differ: the std is positive, the mean is not sample 0. */
  double std_mean = 0.0;
  for (size_t i = 0; i < total; ++i) std_mean += k4a[total + i] / (double)total;
  CHECK_MSG(std_mean > 1e-3, "posterior std %.3g: samples are identical", std_mean);
  CHECK(sr_test_rel_l2(k4a, one, total) > 1e-4);
  /* Sample 0 of a multi-sample run is the single-sample run. */
  sr_sampler *s = NULL;
  CHECK_OK(p1->ctx, sr_sampler_create(p1->op, sp, sr_gaussian_prior_score, p1->prior, 3, &s));
  if (s) {
    sr_backend *b = sr_context_get_backend(p1->ctx);
    float *y = NULL, *x = NULL;
    CHECK_OK(p1->ctx, b->ops->alloc(b, 3 * p1->meas_floats * sizeof(float), (void **)&y));
    CHECK_OK(p1->ctx, b->ops->alloc(b, 3 * p1->n * sizeof(float), (void **)&x));
    /* items: (slice 2, sample 1), (slice 1, sample 0), (slice 2, sample 0) */
    const sr_sample_item items[3] = {{2, 1}, {1, 0}, {2, 0}};
    const size_t which[3] = {2, 1, 2};
    for (int k = 0; k < 3; ++k)
      memcpy(y + k * p1->meas_floats, p1->y + which[k] * p1->meas_floats,
             p1->meas_floats * sizeof(float));
    CHECK_OK(p1->ctx, sr_sampler_run_batch(s, y, items, 3, x));
    check_same(x + 1 * p1->n, one + 1 * p1->n, p1->n, "item (1, 0) in a mixed batch");
    check_same(x + 2 * p1->n, one + 2 * p1->n, p1->n, "item (2, 0) in a mixed batch");
    CHECK(sr_test_rel_l2(x, x + 2 * p1->n, p1->n) > 1e-4);
    b->ops->free(b, y);
    b->ops->free(b, x);
  }
  sr_sampler_destroy(s);
  printf("samples: mean / std bit-identical across batch sizes and threads\n");
  free(one), free(k4a), free(k4b), free(k4c);
}

int main(void) {
  sr_context *c1 = st_context(SR_BACKEND_CPU, 1);
  sr_context *c2 = st_context(SR_BACKEND_CPU, 2);
  if (!c1 || !c2) return 1;
  sr_sampler_params sp;
  sr_sampler_params_default(&sp);
  sp.sde.n = 6;
  sp.snr = 0.2;
  sp.seed = 42;
  st_problem m1, m2;
  const int nc = (int)(sizeof cols / sizeof cols[0]);
  if (st_mri_problem(c1, 128, 128, cols, nc, SLICES, 0.2, &m1) &&
      st_mri_problem(c2, 128, 128, cols, nc, SLICES, 0.2, &m2)) {
    sp.consistency.mode = SR_CONSISTENCY_PAPER;
    sp.lambda = 0.8;
    across_batches_and_threads(&m1, &m2, &sp, "MRI paper");
    sp.consistency.mode = SR_CONSISTENCY_EXACT;
    sp.lambda = 1.0;
    across_batches_and_threads(&m1, &m2, &sp, "MRI exact");
    samples_mean_std(&m1, &m2, &sp);
  }
  st_free(&m1);
  st_free(&m2);
  st_problem k1, k2;
  if (st_ct_problem(c1, 64, 64, 10, SLICES, 0.2, &k1) &&
      st_ct_problem(c2, 64, 64, 10, SLICES, 0.2, &k2)) {
    sp.consistency.mode = SR_CONSISTENCY_EXACT;
    sp.consistency.cg_iters_final = 20;
    across_batches_and_threads(&k1, &k2, &sp, "CT exact (CG)");
  }
  st_free(&k1);
  st_free(&k2);
  sr_context_destroy(c1);
  sr_context_destroy(c2);
  return sr_test_finish("test_sampler_determinism");
}
