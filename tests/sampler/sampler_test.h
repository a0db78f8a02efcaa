/* Shared set-up of the sampler tests: small MRI and CT problems whose
 * ground truth is drawn from an analytic Gaussian prior, so the posterior
 * is known in closed form. Everything is made on the host and moved
 * through the backend, so the same problem runs on CPU and CUDA. */
#ifndef SR_TESTS_SAMPLER_TEST_H
#define SR_TESTS_SAMPLER_TEST_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "operators/ct_geometry.h"
#include "operators/ct_fourier.h"
#include "operators/ct_parallel.h"
#include "operators/mri_cartesian.h"
#include "sampler/gaussian_prior.h"
#include "sampler/pc_sampler.h"
#include "test_util.h"

static inline sr_context *st_context(sr_backend_kind kind, int threads) {
  sr_context_options o = sr_context_options_default();
  o.backend = kind;
  o.threads = threads;
  sr_context *ctx = NULL;
  sr_status s = sr_context_create(&o, &ctx);
  if (s != SR_OK) {
    if (ctx) sr_context_destroy(ctx);
    return NULL;
  }
  return ctx;
}

/* Standard normals from a fixed 64-bit LCG + Box-Muller (test data only). */
static inline double st_normal(uint64_t *state) {
  double u[2];
  for (int k = 0; k < 2; ++k) {
    *state = *state * 6364136223846793005ull + 1442695040888963407ull;
    u[k] = ((double)(*state >> 11) + 0.5) / 9007199254740992.0;
  }
  return sqrt(-2.0 * log(u[0])) * cos(6.283185307179586 * u[1]);
}

typedef struct st_problem {
  sr_context *ctx;
  sr_operator *op;
  sr_gaussian_prior *prior;
  int64_t h, w;
  size_t n; /* h w */
  size_t nslices;
  size_t meas_floats; /* per slice */
  double tau;
  float *mean; /* (h, w) host: the prior mean */
  float *x0;   /* (nslices, h, w) host: ground truth, drawn from the prior */
  float *y;    /* (nslices, meas) host: noise-free A x0 */
  float *mask; /* MRI: (h, w) host */
} st_problem;

/* A smooth prior mean in [0.3, 0.7]. */
static inline void st_fill_mean(float *mean, int64_t h, int64_t w) {
  for (int64_t r = 0; r < h; ++r)
    for (int64_t c = 0; c < w; ++c)
      mean[r * w + c] = (float)(0.5 + 0.2 * cos(6.283185307179586 * (double)r / (double)h) *
                                          sin(6.283185307179586 * (double)c / (double)w));
}

/* x0 = mean + tau w and y = A x0, through the backend. */
static inline int st_finish_problem(st_problem *p, uint64_t seed) {
  sr_backend *b = sr_context_get_backend(p->ctx);
  p->meas_floats = p->op->meas_elems * (p->op->meas_dtype == SR_DTYPE_C64 ? 2 : 1);
  p->x0 = (float *)malloc(p->nslices * p->n * sizeof(float));
  p->y = (float *)malloc(p->nslices * p->meas_floats * sizeof(float));
  uint64_t st = seed;
  for (size_t s = 0; s < p->nslices; ++s)
    for (size_t i = 0; i < p->n; ++i)
      p->x0[s * p->n + i] = p->mean[i] + (float)(p->tau * st_normal(&st));
  float *xd = NULL, *yd = NULL;
  int ok = b->ops->alloc(b, p->nslices * p->n * sizeof(float), (void **)&xd) == SR_OK &&
           b->ops->alloc(b, p->nslices * p->meas_floats * sizeof(float), (void **)&yd) == SR_OK &&
           b->ops->upload(b, xd, p->x0, p->nslices * p->n * sizeof(float)) == SR_OK &&
           p->op->vt->forward(p->op, xd, yd, p->nslices) == SR_OK &&
           b->ops->download(b, p->y, yd, p->nslices * p->meas_floats * sizeof(float)) == SR_OK;
  if (xd) b->ops->free(b, xd);
  if (yd) b->ops->free(b, yd);
  sr_sde sde = sr_sde_default();
  ok = ok && sr_gaussian_prior_create(b, p->mean, p->h, p->w, p->tau, &sde, &p->prior) == SR_OK;
  CHECK_MSG(ok, "problem set-up: %s", sr_context_last_error(p->ctx));
  return ok;
}

/* MRI h x w, full columns `cols` measured. */
static inline int st_mri_problem(sr_context *ctx, int64_t h, int64_t w, const int *cols, int ncols,
                                 size_t nslices, double tau, st_problem *p) {
  memset(p, 0, sizeof *p);
  p->ctx = ctx;
  p->h = h, p->w = w, p->n = (size_t)(h * w), p->nslices = nslices, p->tau = tau;
  p->mean = (float *)malloc(p->n * sizeof(float));
  p->mask = (float *)calloc(p->n, sizeof(float));
  st_fill_mean(p->mean, h, w);
  for (int k = 0; k < ncols; ++k)
    for (int64_t r = 0; r < h; ++r) p->mask[r * w + cols[k]] = 1.0f;
  sr_status s = sr_mri_cartesian_create(sr_context_get_backend(ctx), h, w, p->mask, &p->op);
  CHECK_OK(ctx, s);
  return s == SR_OK && st_finish_problem(p, 12345);
}

/* Parallel-beam CT of size x size, n_keep of n_full views. */
static inline int st_ct_problem(sr_context *ctx, int64_t size, int64_t n_full, int64_t n_keep,
                                size_t nslices, double tau, st_problem *p) {
  memset(p, 0, sizeof *p);
  p->ctx = ctx;
  p->h = p->w = size, p->n = (size_t)(size * size), p->nslices = nslices, p->tau = tau;
  p->mean = (float *)malloc(p->n * sizeof(float));
  st_fill_mean(p->mean, size, size);
  sr_ct_geometry full, sparse;
  memset(&full, 0, sizeof full);
  memset(&sparse, 0, sizeof sparse);
  sr_status s = sr_ct_geometry_init(ctx, &full, size, size, n_full);
  if (s == SR_OK) s = sr_ct_geometry_sparse(ctx, &full, n_keep, &sparse, NULL);
  if (s == SR_OK) s = sr_ct_parallel_create(sr_context_get_backend(ctx), &sparse, &p->op);
  sr_ct_geometry_release(&full);
  sr_ct_geometry_release(&sparse);
  CHECK_OK(ctx, s);
  return s == SR_OK && st_finish_problem(p, 777);
}

/* The paper's Fourier-domain CT (ct-fourier): size x size, n_keep of n_full
 * views; forward / adjoint are the matched parallel-beam pair. */
static inline int st_ct_fourier_problem(sr_context *ctx, int64_t size, int64_t n_full,
                                        int64_t n_keep, size_t nslices, double tau, st_problem *p) {
  memset(p, 0, sizeof *p);
  p->ctx = ctx;
  p->h = p->w = size, p->n = (size_t)(size * size), p->nslices = nslices, p->tau = tau;
  p->mean = (float *)malloc(p->n * sizeof(float));
  st_fill_mean(p->mean, size, size);
  int64_t *rows = (int64_t *)malloc((size_t)n_keep * sizeof(int64_t));
  sr_status s = sr_ct_sparse_rows(ctx, n_full, n_keep, rows);
  sr_ct_fourier_params fp;
  memset(&fp, 0, sizeof fp);
  fp.image_size = size;
  fp.n_full = n_full;
  fp.rows = rows;
  fp.n_keep = n_keep;
  if (s == SR_OK) s = sr_ct_fourier_create(sr_context_get_backend(ctx), &fp, &p->op);
  free(rows);
  CHECK_OK(ctx, s);
  return s == SR_OK && st_finish_problem(p, 777);
}

static inline void st_free(st_problem *p) {
  sr_operator_destroy(p->op);
  sr_gaussian_prior_destroy(p->prior);
  free(p->mean);
  free(p->x0);
  free(p->y);
  free(p->mask);
  memset(p, 0, sizeof *p);
}

/* Runs the sampler on every slice: out_mean (and out_std, may be NULL)
 * (nslices, h, w) host. Returns the status; stats copied when not NULL. */
static inline sr_status st_run(st_problem *p, const sr_sampler_params *sp, int samples,
                               size_t batch, float *out_mean, float *out_std,
                               sr_sampler_stats *stats, char *method, size_t method_size) {
  sr_sampler *smp = NULL;
  sr_status s = sr_sampler_create(p->op, sp, sr_gaussian_prior_score, p->prior, batch, &smp);
  if (s == SR_OK)
    s = sr_sampler_reconstruct(smp, p->y, p->nslices, 0, samples, batch, out_mean, out_std);
  if (smp && stats) *stats = *sr_sampler_stats_get(smp);
  if (smp && method) snprintf(method, method_size, "%s", sr_sampler_consistency_method(smp));
  sr_sampler_destroy(smp);
  return s;
}

/* y_hat = A x for host images (nslices of them) into host meas. */
static inline sr_status st_forward(st_problem *p, const float *x, float *meas, size_t nslices) {
  sr_backend *b = sr_context_get_backend(p->ctx);
  float *xd = NULL, *yd = NULL;
  sr_status s = b->ops->alloc(b, nslices * p->n * sizeof(float), (void **)&xd);
  if (s == SR_OK) s = b->ops->alloc(b, nslices * p->meas_floats * sizeof(float), (void **)&yd);
  if (s == SR_OK) s = b->ops->upload(b, xd, x, nslices * p->n * sizeof(float));
  if (s == SR_OK) s = p->op->vt->forward(p->op, xd, yd, nslices);
  if (s == SR_OK) s = b->ops->download(b, meas, yd, nslices * p->meas_floats * sizeof(float));
  if (xd) b->ops->free(b, xd);
  if (yd) b->ops->free(b, yd);
  return s;
}

/* T x for host images into host complex planes (nslices, transform_elems). */
static inline sr_status st_transform(st_problem *p, const float *x, float *t, size_t nslices) {
  sr_backend *b = sr_context_get_backend(p->ctx);
  const size_t nt = 2 * p->op->transform_elems;
  float *xd = NULL, *td = NULL;
  sr_status s = b->ops->alloc(b, nslices * p->n * sizeof(float), (void **)&xd);
  if (s == SR_OK) s = b->ops->alloc(b, nslices * nt * sizeof(float), (void **)&td);
  if (s == SR_OK) s = b->ops->upload(b, xd, x, nslices * p->n * sizeof(float));
  if (s == SR_OK) s = p->op->vt->transform(p->op, xd, td, nslices);
  if (s == SR_OK) s = b->ops->download(b, t, td, nslices * nt * sizeof(float));
  if (xd) b->ops->free(b, xd);
  if (td) b->ops->free(b, td);
  return s;
}

#endif
