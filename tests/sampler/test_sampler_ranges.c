/* The sampler's profiler ranges (SR_RANGE_*, NVTX on the CUDA backend): a
 * CPU backend whose op table records range_push / range_pop shows that
 *  - the ranges open in the documented order (consistency setup; per level
 *    consistency, corrector > network, consistency, predictor > network;
 *    final-denoise > network, the last consistency) and always close;
 *  - work lands in its range: the score callback runs inside "network",
 *    the MRI transforms (fft2c) inside "consistency", the predictor's
 *    update (axpbypgz) inside "predictor", the Langevin updates
 *    (axpby_batched outside the score) inside "corrector";
 *  - a failing score callback leaves no range open;
 *  - the unmodified CPU table (NULL entries) runs the same sampler. */
#include <stdio.h>

#include "sampler_test.h"

#define LEVELS 3
#define MAX_EVENTS 256

static const char *stack[16];
static int depth, max_depth, overflow;
static const char *pushed[MAX_EVENTS];
static int pushed_depth[MAX_EVENTS];
static int n_pushed;
static int score_outside_network, score_calls, score_fail_at;
static int fft_outside_consistency, fft_calls;
static int pgz_outside_predictor, pgz_calls;
static int batched_in_corrector, batched_elsewhere;

static const sr_backend_ops *cpu_ops;

static const char *top(void) {
  return depth > 0 ? stack[depth - 1] : "";
}

static void rec_push(sr_backend *b, const char *name) {
  (void)b;
  if (depth >= 16 || n_pushed >= MAX_EVENTS) {
    overflow = 1;
    return;
  }
  pushed[n_pushed] = name;
  pushed_depth[n_pushed++] = depth;
  stack[depth++] = name;
  if (depth > max_depth) max_depth = depth;
}

static void rec_pop(sr_backend *b) {
  (void)b;
  if (depth == 0)
    overflow = 1;
  else
    --depth;
}

static sr_status rec_fft2c(sr_backend *b, float *out, const float *in, size_t nslices, size_t h,
                           size_t w, int inverse) {
  fft_calls++;
  if (strcmp(top(), SR_RANGE_CONSISTENCY) != 0) fft_outside_consistency++;
  return cpu_ops->fft2c(b, out, in, nslices, h, w, inverse);
}

static sr_status rec_axpbypgz(sr_backend *b, float *z, const float *x, const float *y, size_t n,
                              float alpha, float beta, float gamma) {
  pgz_calls++;
  if (strcmp(top(), SR_RANGE_PREDICTOR) != 0) pgz_outside_predictor++;
  return cpu_ops->axpbypgz(b, z, x, y, n, alpha, beta, gamma);
}

static sr_status rec_axpby_batched(sr_backend *b, float *y, const float *x, size_t nslices,
                                   size_t n, const float *alpha, const float *beta) {
  if (!strcmp(top(), SR_RANGE_CORRECTOR))
    batched_in_corrector++;
  else if (strcmp(top(), SR_RANGE_NETWORK) != 0) /* the Gaussian prior's own score */
    batched_elsewhere++;
  return cpu_ops->axpby_batched(b, y, x, nslices, n, alpha, beta);
}

static sr_status score(void *user, const float *x, const float *sigma, const float *t, size_t nb,
                       float *out) {
  if (strcmp(top(), SR_RANGE_NETWORK) != 0) score_outside_network++;
  if (++score_calls == score_fail_at) return SR_ERR_NUMERIC;
  return sr_gaussian_prior_score(user, x, sigma, t, nb, out);
}

static void reset(void) {
  depth = max_depth = overflow = n_pushed = 0;
  score_outside_network = score_calls = 0;
  fft_outside_consistency = fft_calls = pgz_outside_predictor = pgz_calls = 0;
  batched_in_corrector = batched_elsewhere = 0;
}

static sr_status run(st_problem *p, const sr_sampler_params *sp, float *x) {
  sr_backend *b = sr_context_get_backend(p->ctx);
  float *y = NULL;
  sr_sampler *s = NULL;
  sr_status st = b->ops->alloc(b, p->meas_floats * sizeof(float), (void **)&y);
  if (st == SR_OK) st = b->ops->upload(b, y, p->y, p->meas_floats * sizeof(float));
  if (st == SR_OK) st = sr_sampler_create(p->op, sp, score, p->prior, 1, &s);
  const sr_sample_item item = {0, 0};
  if (st == SR_OK) st = sr_sampler_run_batch(s, y, &item, 1, x);
  sr_sampler_destroy(s);
  if (y) b->ops->free(b, y);
  return st;
}

int main(void) {
  sr_context *ctx = st_context(SR_BACKEND_CPU, 1);
  if (!ctx) return 1;
  sr_backend *b = sr_context_get_backend(ctx);
  cpu_ops = b->ops;
  CHECK_MSG(cpu_ops->range_push == NULL && cpu_ops->range_pop == NULL,
            "the CPU backend has profiler ranges; this test expects none");
  static const int cols[] = {14, 15, 16, 17, 18, 3, 27};
  st_problem p;
  if (!st_mri_problem(ctx, 32, 32, cols, 7, 1, 0.2, &p))
    return sr_test_finish("test_sampler_ranges");
  sr_sampler_params sp;
  sr_sampler_params_default(&sp);
  sp.sde.n = LEVELS;
  sp.seed = 7;
  sp.consistency.mode = SR_CONSISTENCY_PAPER;
  sp.lambda = 0.9;
  sr_backend *dev = b;
  float *x_plain = NULL, *x_rec = NULL;
  CHECK_OK(ctx, dev->ops->alloc(dev, p.n * sizeof(float), (void **)&x_plain));
  CHECK_OK(ctx, dev->ops->alloc(dev, p.n * sizeof(float), (void **)&x_rec));

  /* The plain table: no ranges, and the reference result. */
  reset();
  CHECK_OK(ctx, run(&p, &sp, x_plain));
  CHECK_MSG(n_pushed == 0, "%d ranges recorded through NULL entries", n_pushed);

  /* The recording table. */
  sr_backend_ops rec = *cpu_ops;
  rec.range_push = rec_push;
  rec.range_pop = rec_pop;
  rec.fft2c = rec_fft2c;
  rec.axpbypgz = rec_axpbypgz;
  rec.axpby_batched = rec_axpby_batched;
  b->ops = &rec;
  reset();
  CHECK_OK(ctx, run(&p, &sp, x_rec));
  CHECK_MSG(memcmp(x_plain, x_rec, p.n * sizeof(float)) == 0,
            "ranges changed the result (rel L2 %.3g)", sr_test_rel_l2(x_plain, x_rec, p.n));
  CHECK_MSG(!overflow && depth == 0, "ranges unbalanced (depth %d at the end, overflow %d)", depth,
            overflow);
  CHECK_MSG(max_depth == 2, "ranges nest %d deep (network inside a step: 2)", max_depth);

  /* The expected order of pushes, with the depth each opens at. */
  const char *want[3 + 6 * LEVELS + 3];
  int want_depth[3 + 6 * LEVELS + 3], nw = 0;
#define WANT(name, d) (want[nw] = (name), want_depth[nw++] = (d))
  WANT(SR_RANGE_CONSISTENCY, 0);
  for (int i = 0; i < LEVELS; ++i) {
    WANT(SR_RANGE_CONSISTENCY, 0);
    WANT(SR_RANGE_CORRECTOR, 0);
    WANT(SR_RANGE_NETWORK, 1);
    WANT(SR_RANGE_CONSISTENCY, 0);
    WANT(SR_RANGE_PREDICTOR, 0);
    WANT(SR_RANGE_NETWORK, 1);
  }
  WANT(SR_RANGE_FINAL_DENOISE, 0);
  WANT(SR_RANGE_NETWORK, 1);
  WANT(SR_RANGE_CONSISTENCY, 0);
#undef WANT
  CHECK_MSG(n_pushed == nw, "%d ranges opened, expected %d", n_pushed, nw);
  for (int k = 0; k < nw && k < n_pushed; ++k)
    CHECK_MSG(!strcmp(pushed[k], want[k]) && pushed_depth[k] == want_depth[k],
              "range %d: \"%s\" at depth %d, expected \"%s\" at depth %d", k, pushed[k],
              pushed_depth[k], want[k], want_depth[k]);

  /* Work inside the right ranges. */
  CHECK_MSG(score_calls == 2 * LEVELS + 1 && score_outside_network == 0,
            "%d score calls, %d outside the network range", score_calls, score_outside_network);
  CHECK_MSG(fft_calls > 0 && fft_outside_consistency == 0,
            "%d MRI transforms, %d outside the consistency range", fft_calls,
            fft_outside_consistency);
  CHECK_MSG(pgz_calls == LEVELS && pgz_outside_predictor == 0,
            "%d predictor updates, %d outside the predictor range", pgz_calls,
            pgz_outside_predictor);
  CHECK_MSG(batched_in_corrector == 2 * LEVELS && batched_elsewhere == 0,
            "Langevin updates: %d in the corrector range (expected %d), %d elsewhere",
            batched_in_corrector, 2 * LEVELS, batched_elsewhere);

  /* A score that fails at any of its calls (corrector, predictor, final
   * denoise) leaves no range open. */
  for (int fail_at = 1; fail_at <= 2 * LEVELS + 1; ++fail_at) {
    reset();
    score_fail_at = fail_at;
    sr_status st = run(&p, &sp, x_rec);
    sr_context_clear_error(ctx);
    CHECK_MSG(st != SR_OK, "score failing at call %d: the sampler succeeded", fail_at);
    CHECK_MSG(depth == 0 && !overflow, "score failing at call %d: %d ranges left open", fail_at,
              depth);
  }
  score_fail_at = 0;
  b->ops = cpu_ops;

  dev->ops->free(dev, x_plain);
  dev->ops->free(dev, x_rec);
  st_free(&p);
  sr_context_destroy(ctx);
  printf("sampler ranges: %d opened per %d-level run, in order, balanced, work inside them\n", nw,
         LEVELS);
  return sr_test_finish("test_sampler_ranges");
}
