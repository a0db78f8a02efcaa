/* The predictor-corrector loop with data consistency (pc_sampler.h). */
#define _POSIX_C_SOURCE 200809L
#include "sampler/pc_sampler.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/error.h"
#include "sampler/pc_steps.h"

struct sr_sampler {
  sr_operator *op;
  sr_backend *b;
  sr_sampler_params p;
  sr_score_fn score;
  void *score_user;
  size_t max_batch;
  size_t n;          /* H W */
  size_t meas_bytes; /* per slice */
  sr_consistency *cons;
  float *s, *z;         /* (max_batch, n) backend */
  float *y_dev, *x_dev; /* sr_sampler_reconstruct's staging, (max_batch, .) */
  float *x_host;        /* (max_batch, n) host */
  float *host_f;        /* 5 max_batch floats: sigma, t, coef_s, coef_z, ones */
  double *host_d;       /* 2 max_batch doubles: norms */
  sr_sample_item *items;
  sr_sampler_stats stats;
  int sync;
  sr_sampler_progress_fn progress;
  void *progress_user;
  size_t items_done, items_total; /* for progress reports */
  double t_origin;
};

/* ---------------------------------------------------------------- params */

void sr_sampler_params_default(sr_sampler_params *p) {
  memset(p, 0, sizeof *p);
  p->sde = sr_sde_default();
  p->eps = 1e-5;
  p->predictor = SR_PREDICTOR_REVERSE_DIFFUSION;
  p->corrector = SR_CORRECTOR_LANGEVIN;
  p->corrector_steps = 1;
  p->snr = 0.16;
  p->batch_norm_average = 0;
  sr_consistency_params_default(&p->consistency);
  p->lambda = 1.0;
  p->lambda_final = 1.0;
  p->denoise = 1;
  p->seed = 0;
}

const char *sr_sampler_preset_names(void) {
  return "ct320|brats240";
}

sr_status sr_sampler_preset(sr_context *ctx, const char *name, sr_sampler_params *p) {
  double snr, lambda_paper;
  if (strcmp(name, "ct320") == 0) {
    /* configs/ve/ct2d_320_ncsnpp_continuous.py: snr 0.246, coeff 0.841. */
    snr = 0.246;
    lambda_paper = 0.841;
  } else if (strcmp(name, "brats240") == 0) {
    /* configs/ve/brats_ncsnpp_continuous.py: snr 0.517, coeff 1.0. */
    snr = 0.517;
    lambda_paper = 1.0;
  } else {
    return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT, "unknown preset \"%s\" (one of %s)", name,
                   sr_sampler_preset_names());
  }
  p->sde = sr_sde_default(); /* VE, sigma 0.01 .. 128, N 1000 */
  p->eps = 1e-5;
  p->predictor = SR_PREDICTOR_REVERSE_DIFFUSION;
  p->corrector = SR_CORRECTOR_LANGEVIN;
  p->corrector_steps = 1;
  p->snr = snr;
  p->lambda = p->consistency.mode == SR_CONSISTENCY_EXACT ? 1.0 : lambda_paper;
  p->lambda_final = 1.0;
  p->denoise = 1;
  return SR_OK;
}

sr_status sr_predictor_parse(sr_context *ctx, const char *name, sr_predictor_kind *out) {
  if (strcmp(name, "reverse_diffusion") == 0)
    *out = SR_PREDICTOR_REVERSE_DIFFUSION;
  else if (strcmp(name, "euler_maruyama") == 0)
    *out = SR_PREDICTOR_EULER_MARUYAMA;
  else if (strcmp(name, "none") == 0)
    *out = SR_PREDICTOR_NONE;
  else
    return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT,
                   "predictor \"%s\" is not one of reverse_diffusion, euler_maruyama, none", name);
  return SR_OK;
}

sr_status sr_corrector_parse(sr_context *ctx, const char *name, sr_corrector_kind *out) {
  if (strcmp(name, "langevin") == 0)
    *out = SR_CORRECTOR_LANGEVIN;
  else if (strcmp(name, "ald") == 0)
    *out = SR_CORRECTOR_ALD;
  else if (strcmp(name, "none") == 0)
    *out = SR_CORRECTOR_NONE;
  else
    return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT,
                   "corrector \"%s\" is not one of langevin, ald, none", name);
  return SR_OK;
}

static sr_status validate(sr_context *ctx, const sr_sampler_params *p) {
  SR_TRY(sr_sde_validate(ctx, &p->sde));
  if (!(p->eps > 0.0 && p->eps < 1.0))
    return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT, "eps %g must lie in (0, 1)", p->eps);
  if (p->corrector_steps < 0 || p->corrector_steps > 1000)
    return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT, "corrector steps %d outside [0, 1000]",
                   p->corrector_steps);
  if (!(p->snr >= 0.0) || !isfinite(p->snr))
    return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT, "snr %g must be non-negative", p->snr);
  if (!(p->lambda >= 0.0 && p->lambda <= 1.0) ||
      !(p->lambda_final >= 0.0 && p->lambda_final <= 1.0))
    return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT, "lambda %g and final lambda %g must lie in [0, 1]",
                   p->lambda, p->lambda_final);
  if ((unsigned)p->predictor > SR_PREDICTOR_NONE || (unsigned)p->corrector > SR_CORRECTOR_NONE)
    return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT, "unknown predictor or corrector");
  return SR_OK;
}

/* ---------------------------------------------------------------- object */

void sr_sampler_destroy(sr_sampler *s) {
  if (!s) return;
  float **dev[] = {&s->s, &s->z, &s->y_dev, &s->x_dev};
  for (size_t i = 0; i < sizeof dev / sizeof dev[0]; ++i)
    if (*dev[i]) s->b->ops->free(s->b, *dev[i]);
  sr_consistency_destroy(s->cons);
  free(s->x_host);
  free(s->host_f);
  free(s->host_d);
  free(s->items);
  free(s);
}

sr_status sr_sampler_create(sr_operator *op, const sr_sampler_params *p, sr_score_fn score,
                            void *score_user, size_t max_batch, sr_sampler **out) {
  *out = NULL;
  sr_backend *b = op->backend;
  SR_TRY(validate(b->ctx, p));
  if (max_batch < 1 || max_batch > 65535)
    return sr_fail(b->ctx, SR_ERR_INVALID_ARGUMENT, "batch size %zu outside [1, 65535]", max_batch);
  if (!score) return sr_fail(b->ctx, SR_ERR_INVALID_ARGUMENT, "no score model");
  sr_sampler *s = (sr_sampler *)calloc(1, sizeof *s);
  if (!s) return sr_fail(b->ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate a sampler");
  s->op = op;
  s->b = b;
  s->p = *p;
  s->score = score;
  s->score_user = score_user;
  s->max_batch = max_batch;
  s->n = sr_operator_image_elems(op);
  s->meas_bytes = op->meas_elems * sr_dtype_size(op->meas_dtype);
  sr_status st = sr_consistency_create(op, &p->consistency, &s->cons);
  if (st == SR_OK) st = b->ops->alloc(b, max_batch * s->n * sizeof(float), (void **)&s->s);
  if (st == SR_OK) st = b->ops->alloc(b, max_batch * s->n * sizeof(float), (void **)&s->z);
  if (st == SR_OK) {
    s->host_f = (float *)calloc(5 * max_batch, sizeof(float));
    s->host_d = (double *)calloc(2 * max_batch, sizeof(double));
    s->items = (sr_sample_item *)calloc(max_batch, sizeof(sr_sample_item));
    if (!s->host_f || !s->host_d || !s->items)
      st = sr_fail(b->ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate sampler scratch");
  }
  if (st != SR_OK) {
    sr_sampler_destroy(s);
    return st;
  }
  for (size_t k = 0; k < max_batch; ++k) s->host_f[4 * max_batch + k] = 1.0f;
  *out = s;
  return SR_OK;
}

void sr_sampler_set_progress(sr_sampler *s, sr_sampler_progress_fn fn, void *user) {
  s->progress = fn;
  s->progress_user = user;
}
void sr_sampler_set_sync_timing(sr_sampler *s, int on) {
  s->sync = on;
}
const sr_sampler_stats *sr_sampler_stats_get(const sr_sampler *s) {
  return &s->stats;
}
const sr_sampler_params *sr_sampler_params_get(const sr_sampler *s) {
  return &s->p;
}
const char *sr_sampler_consistency_method(const sr_sampler *s) {
  return sr_consistency_method(s->cons);
}

/* ---------------------------------------------------------------- steps */

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double sr_pc_clock(sr_pc_state *ps) {
  if (ps->sync) ps->b->ops->synchronize(ps->b);
  return now_s();
}

sr_status sr_pc_score(sr_pc_state *ps, float t, double sigma) {
  for (size_t k = 0; k < ps->nb; ++k) {
    ps->sigma_host[k] = (float)sigma;
    ps->t_host[k] = t;
  }
  const double t0 = sr_pc_clock(ps);
  sr_backend_range_push(ps->b, SR_RANGE_NETWORK);
  sr_status st = ps->score(ps->score_user, ps->x, ps->sigma_host, ps->t_host, ps->nb, ps->s);
  sr_backend_range_pop(ps->b);
  ps->stats->network_s += sr_pc_clock(ps) - t0;
  ps->stats->score_evals += ps->nb;
  return st;
}

static sr_status consistency(sr_sampler *s, sr_pc_state *ps, sr_draw_purpose purpose, uint32_t step,
                             double m, double sigma, double lambda, int final) {
  sr_consistency_noise noise = {s->p.seed, ps->items, purpose, step};
  const double t0 = sr_pc_clock(ps);
  sr_backend_range_push(s->b, SR_RANGE_CONSISTENCY);
  sr_status st = sr_consistency_apply(s->cons, ps->x, ps->nb, final ? NULL : &noise, m,
                                      final ? 0.0 : sigma, lambda, final);
  sr_backend_range_pop(s->b);
  s->stats.consistency_s += sr_pc_clock(ps) - t0;
  s->stats.consistency_calls += 1;
  return st;
}

static void report(sr_sampler *s, size_t nb, int step) {
  if (!s->progress) return;
  sr_sampler_progress pr;
  pr.items_done = s->items_done;
  pr.items_total = s->items_total ? s->items_total : nb;
  pr.batch_items = nb;
  pr.step = step;
  pr.steps = s->p.sde.n;
  pr.elapsed_s = now_s() - s->t_origin;
  s->progress(s->progress_user, &pr);
}

sr_status sr_sampler_run_batch(sr_sampler *s, const void *y, const sr_sample_item *items, size_t nb,
                               float *x_out) {
  sr_backend *b = s->b;
  const sr_sampler_params *p = &s->p;
  if (nb < 1 || nb > s->max_batch)
    return sr_fail(b->ctx, SR_ERR_INVALID_ARGUMENT, "batch of %zu items (sampler made for %zu)", nb,
                   s->max_batch);
  if (!s->items_total) s->t_origin = now_s();
  const size_t mb = s->max_batch;
  sr_pc_state ps;
  memset(&ps, 0, sizeof ps);
  ps.b = b;
  ps.score = s->score;
  ps.score_user = s->score_user;
  ps.sde = &p->sde;
  ps.seed = p->seed;
  ps.items = items;
  ps.nb = nb;
  ps.n = s->n;
  ps.x = x_out;
  ps.s = s->s;
  ps.z = s->z;
  ps.sigma_host = s->host_f;
  ps.t_host = s->host_f + mb;
  ps.coef_s = s->host_f + 2 * mb;
  ps.coef_z = s->host_f + 3 * mb;
  ps.ones = s->host_f + 4 * mb;
  ps.nrm_s = s->host_d;
  ps.nrm_z = s->host_d + mb;
  ps.stats = &s->stats;
  ps.sync = s->sync;
  const double t_begin = sr_pc_clock(&ps);

  {
    const double t0 = sr_pc_clock(&ps);
    sr_backend_range_push(b, SR_RANGE_CONSISTENCY);
    sr_status st = sr_consistency_set_batch(s->cons, y, nb);
    sr_backend_range_pop(b);
    SR_TRY(st);
    s->stats.consistency_s += sr_pc_clock(&ps) - t0;
  }
  /* x = prior_std z0 (VE: sigma_max z0). */
  SR_TRY(sr_noise_draw(b, p->seed, items, nb, ps.x, s->n, SR_DRAW_INITIAL_SAMPLE, 0));
  SR_TRY(b->ops->scale(b, ps.x, nb * s->n, (float)sr_sde_prior_std(&p->sde)));

  const int n_steps = p->sde.n;
  for (int i = 0; i < n_steps; ++i) {
    const float t = sr_sde_time(i, n_steps, (float)p->eps);
    double m, sigma;
    sr_sde_marginal(&p->sde, t, &m, &sigma);
    sigma = (double)(float)sigma; /* the official computes it in float32 */
    /* (a) x = C(x; m y + sigma T z1, lambda) */
    SR_TRY(consistency(s, &ps, SR_DRAW_CONSISTENCY_BEFORE_CORRECTOR, (uint32_t)i, m, sigma,
                       p->lambda, 0));
    /* (b) Langevin corrector at t_i */
    sr_backend_range_push(b, SR_RANGE_CORRECTOR);
    sr_status st = sr_corrector_steps(&ps, p->corrector, t, sigma, p->snr, p->corrector_steps,
                                      p->batch_norm_average, (uint32_t)i);
    sr_backend_range_pop(b);
    SR_TRY(st);
    if (p->predictor != SR_PREDICTOR_NONE) {
      /* (c) x = C(x; m y + sigma T z3, lambda), a fresh z3 and the same sigma */
      SR_TRY(consistency(s, &ps, SR_DRAW_CONSISTENCY_BEFORE_PREDICTOR, (uint32_t)i, m, sigma,
                         p->lambda, 0));
      /* (d) predictor from t_i */
      sr_backend_range_push(b, SR_RANGE_PREDICTOR);
      st = sr_predictor_step(&ps, p->predictor, t, (uint32_t)i);
      sr_backend_range_pop(b);
      SR_TRY(st);
    }
    report(s, nb, i + 1);
  }
  if (p->denoise) {
    /* Tweedie at eps: x = x / m + std^2 / m s(x, eps). */
    const float t = (float)p->eps;
    double m, std;
    sr_sde_marginal(&p->sde, t, &m, &std);
    sr_backend_range_push(b, SR_RANGE_FINAL_DENOISE);
    sr_status st = sr_pc_score(&ps, t, (double)(float)std);
    const sr_sde_update u = sr_sde_tweedie(&p->sde, t);
    if (st == SR_OK) st = b->ops->axpby(b, ps.x, ps.s, nb * s->n, u.b, u.a);
    sr_backend_range_pop(b);
    SR_TRY(st);
  }
  /* Last consistency with the noise-free y. */
  SR_TRY(consistency(s, &ps, SR_DRAW_GENERIC, 0, 1.0, 0.0, p->lambda_final, 1));
  size_t bad = 0;
  SR_TRY(b->ops->count_nonfinite(b, ps.x, nb * s->n, &bad));
  s->stats.items += nb;
  s->stats.total_s += sr_pc_clock(&ps) - t_begin;
  s->stats.other_s = s->stats.total_s - s->stats.network_s - s->stats.consistency_s;
  if (bad)
    return sr_fail(b->ctx, SR_ERR_NUMERIC,
                   "the sampler produced %zu non-finite values (the score model returned NaN "
                   "or Inf, or the step sizes are too large)",
                   bad);
  return SR_OK;
}

/* ---------------------------------------------------------------- stacks */

sr_status sr_sampler_reconstruct(sr_sampler *s, const void *y_host, size_t nslices,
                                 uint32_t first_slice, int samples, size_t batch, float *mean_host,
                                 float *std_host) {
  sr_backend *b = s->b;
  if (samples < 1 || samples > (1 << 20))
    return sr_fail(b->ctx, SR_ERR_INVALID_ARGUMENT, "samples per slice %d outside [1, 2^20]",
                   samples);
  if (batch < 1 || batch > s->max_batch)
    return sr_fail(b->ctx, SR_ERR_INVALID_ARGUMENT, "batch %zu outside [1, %zu]", batch,
                   s->max_batch);
  if (nslices < 1) return sr_fail(b->ctx, SR_ERR_INVALID_ARGUMENT, "no slices to reconstruct");
  const size_t n = s->n, mb = s->max_batch;
  if (!s->y_dev) SR_TRY(b->ops->alloc(b, mb * s->meas_bytes, (void **)&s->y_dev));
  if (!s->x_dev) SR_TRY(b->ops->alloc(b, mb * n * sizeof(float), (void **)&s->x_dev));
  if (!s->x_host) {
    s->x_host = (float *)malloc(mb * n * sizeof(float));
    if (!s->x_host) return sr_fail(b->ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate");
  }
  const size_t total = nslices * (size_t)samples;
  const unsigned char *yh = (const unsigned char *)y_host;
  s->items_total = total;
  s->items_done = 0;
  s->t_origin = now_s();
  sr_status st = SR_OK;
  for (size_t start = 0; start < total && st == SR_OK; start += batch) {
    const size_t nb = total - start < batch ? total - start : batch;
    /* Items are slice-major; each needs its slice's measurement. */
    for (size_t k = 0; k < nb && st == SR_OK; ++k) {
      const size_t j = start + k;
      const size_t slice = j / (size_t)samples;
      s->items[k].slice = first_slice + (uint32_t)slice;
      s->items[k].sample = (uint32_t)(j % (size_t)samples);
      st = b->ops->upload(b, (unsigned char *)s->y_dev + k * s->meas_bytes,
                          yh + slice * s->meas_bytes, s->meas_bytes);
    }
    if (st == SR_OK) st = sr_sampler_run_batch(s, s->y_dev, s->items, nb, s->x_dev);
    if (st == SR_OK) st = b->ops->download(b, s->x_host, s->x_dev, nb * n * sizeof(float));
    for (size_t k = 0; k < nb && st == SR_OK; ++k) {
      const size_t j = start + k, slice = j / (size_t)samples;
      const size_t smp = j % (size_t)samples;
      const float *x = s->x_host + k * n;
      float *mean = mean_host + slice * n;
      float *m2 = std_host ? std_host + slice * n : NULL;
      if (smp == 0) {
        memcpy(mean, x, n * sizeof(float));
        if (m2) memset(m2, 0, n * sizeof(float));
        continue;
      }
      /* Welford: mean_k = mean + (x - mean) / k, M2 += (x - mean_old)(x - mean_k). */
      const float inv = 1.0f / (float)(smp + 1);
      for (size_t i = 0; i < n; ++i) {
        const float d = x[i] - mean[i];
        mean[i] += d * inv;
        if (m2) m2[i] += d * (x[i] - mean[i]);
      }
    }
    s->items_done += nb;
  }
  if (st == SR_OK && std_host) {
    const float div = samples > 1 ? 1.0f / (float)(samples - 1) : 0.0f;
    for (size_t i = 0; i < nslices * n; ++i) std_host[i] = sqrtf(std_host[i] * div);
  }
  s->items_total = 0;
  return st;
}
