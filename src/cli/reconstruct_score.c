/* reconstruct --method score: the measurement file's operator, a score
 * model (NCSN++ weights, or an analytic Gaussian prior file), the PC
 * sampler over batches of slices, progress on stderr, the output volume
 * (and the posterior std with --samples), metrics against a reference. */
#define _POSIX_C_SOURCE 200809L
#include "cli/reconstruct_score.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backend/backend.h"
#include "cli/image_volume.h"
#include "cli/metrics_report.h"
#include "cli/json_out.h"
#include "cli/paths.h"
#include "cli/report.h"
#include "core/clock.h"
#include "core/error.h"
#include "io/meas_operator.h"
#include "sampler/gaussian_prior.h"
#include "sampler/model_score.h"
#include "sampler/pc_sampler.h"

sr_score_cli_options sr_score_cli;

int sr_reconstruct_score_check(const char *command) {
  const sr_score_cli_options *o = &sr_score_cli;
  if (o->samples < 1 || o->samples > 100000)
    return sr_cli_usage(command, "--samples must lie in [1, 100000]");
  if (o->steps < 0 || o->steps > 1000000)
    return sr_cli_usage(command, "--steps must lie in [0, 1000000] (0: the preset's)");
  if (o->corrector_steps < -1 || o->corrector_steps > 1000)
    return sr_cli_usage(command, "--corrector-steps must lie in [0, 1000] (-1: the preset's)");
  if (o->snr < 0.0 && o->snr != -1.0)
    return sr_cli_usage(command, "--snr must be >= 0 (-1: the preset's)");
  if ((o->lambda != -1.0 && !(o->lambda >= 0.0 && o->lambda <= 1.0)) ||
      !(o->lambda_final >= 0.0 && o->lambda_final <= 1.0))
    return sr_cli_usage(command, "--lambda and --final-lambda must lie in [0, 1]");
  if (o->cg_iters < 0 || o->cg_iters_final < 0 || o->cg_delta < 0.0 || o->cg_delta_final < 0.0)
    return sr_cli_usage(command, "--cg-iters, --cg-iters-final, --cg-delta and "
                                 "--cg-delta-final must be >= 0");
  if (o->data_scale < 0.0) return sr_cli_usage(command, "--data-scale must be >= 0");
  if (o->seed < 0 || o->seed > 0xFFFFFFFFll)
    return sr_cli_usage(command, "--seed must lie in [0, 2^32)");
  return 0;
}

/* ---------------------------------------------------------------- progress */

typedef struct progress {
  const char *command;
  int tty;
  double last;
  size_t last_done;
} progress;

static void fmt_time(char *buf, size_t n, double s) {
  if (!(s >= 0.0) || s > 1e7)
    snprintf(buf, n, "?");
  else if (s < 60.0)
    snprintf(buf, n, "%.0fs", s);
  else if (s < 3600.0)
    snprintf(buf, n, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60.0));
  else
    snprintf(buf, n, "%dh%02dm", (int)(s / 3600), (int)fmod(s / 60.0, 60.0));
}

/* A bar with ETA when stderr is a terminal (redrawn at most 5 times a
 * second), else one line per finished batch. */
static void on_progress(void *user, const sr_sampler_progress *p) {
  progress *pr = (progress *)user;
  const double total = (double)p->items_total;
  const double done = (double)p->items_done + (double)p->batch_items * p->step / p->steps;
  const double f = total > 0.0 ? done / total : 0.0;
  const double eta = f > 0.0 ? p->elapsed_s * (1.0 - f) / f : -1.0;
  char el[32], et[32];
  fmt_time(el, sizeof el, p->elapsed_s);
  fmt_time(et, sizeof et, eta);
  const int batch_end = p->step == p->steps;
  if (pr->tty) {
    const double t = sr_clock_seconds();
    if (!batch_end && t - pr->last < 0.2) return;
    pr->last = t;
    char bar[31];
    const int fill = (int)(f * 30.0 + 0.5);
    for (int i = 0; i < 30; ++i) bar[i] = i < fill ? '#' : '.';
    bar[30] = '\0';
    fprintf(stderr, "\r%s: [%s] %3.0f%%  items %zu-%zu of %zu, step %d/%d, %s elapsed, ETA %s   ",
            pr->command, bar, 100.0 * f, p->items_done + 1, p->items_done + p->batch_items,
            p->items_total, p->step, p->steps, el, et);
    fflush(stderr);
  } else if (batch_end && p->items_done + p->batch_items != pr->last_done) {
    pr->last_done = p->items_done + p->batch_items;
    fprintf(stderr, "%s: items %zu-%zu of %zu done (%d steps), %s elapsed, ETA %s\n", pr->command,
            p->items_done + 1, p->items_done + p->batch_items, p->items_total, p->steps, el, et);
  }
}

/* ---------------------------------------------------------------- run */

/* The image value that the model sees as 1: --data-scale, else 1 (our
 * files and the paper's data are in [0, 1]), except for fastMRI files,
 * whose k-space is in scanner units: the largest |zero-filled| value. */
static sr_status data_scale(sr_operator *op, const sr_meas *m, const float *y_dev_all,
                            size_t nslices, double *out) {
  *out = sr_score_cli.data_scale > 0.0 ? sr_score_cli.data_scale : 1.0;
  if (sr_score_cli.data_scale > 0.0 || m->modality != SR_MODALITY_MRI || !m->mri.fastmri)
    return SR_OK;
  sr_backend *b = op->backend;
  float *x = NULL;
  SR_TRY(b->ops->alloc(b, nslices * sr_operator_image_elems(op) * sizeof(float), (void **)&x));
  sr_status st = op->vt->adjoint(op, y_dev_all, x, nslices);
  float mx = 0.0f;
  if (st == SR_OK) st = b->ops->max_abs(b, x, nslices * sr_operator_image_elems(op), &mx);
  b->ops->free(b, x);
  if (st == SR_OK && mx > 0.0f && isfinite(mx)) *out = mx;
  return st;
}

typedef struct score_model {
  sr_gaussian_prior *prior;
  sr_model *model;
  sr_model_score ms;
  sr_score_fn fn;
  void *user;
  sr_sde sde;
  double value_max; /* outputs are clipped to [0, value_max] */
  char what[96];
} score_model;

static sr_status load_model(sr_context *ctx, const char *path, int64_t h, int64_t w,
                            score_model *sm) {
  memset(sm, 0, sizeof *sm);
  sr_backend *b = sr_context_get_backend(ctx);
  if (sr_gaussian_prior_file_is(ctx, path)) {
    SR_TRY(sr_gaussian_prior_load(b, path, &sm->prior));
    if (sr_gaussian_prior_height(sm->prior) != h || sr_gaussian_prior_width(sm->prior) != w)
      return sr_fail(ctx, SR_ERR_SHAPE,
                     "%s: a Gaussian prior of %lld x %lld, the images are %lld x %lld", path,
                     (long long)sr_gaussian_prior_height(sm->prior),
                     (long long)sr_gaussian_prior_width(sm->prior), (long long)h, (long long)w);
    sm->fn = sr_gaussian_prior_score;
    sm->user = sm->prior;
    sm->sde = *sr_gaussian_prior_sde(sm->prior);
    sm->value_max = 1.0;
    snprintf(sm->what, sizeof sm->what, "Gaussian prior (std %g)",
             sr_gaussian_prior_std(sm->prior));
    return SR_OK;
  }
  SR_TRY(sr_model_load(ctx, path, &sm->model));
  SR_TRY(sr_model_score_init(ctx, sm->model, h, w, &sm->ms));
  sm->fn = sr_model_score_fn;
  sm->user = &sm->ms;
  sm->sde = sm->ms.sde;
  sm->value_max = sm->ms.info.value_max;
  snprintf(sm->what, sizeof sm->what, "NCSN++ (%.2f M parameters, trained at %d^2)",
           (double)sm->ms.info.num_params / 1e6, sm->ms.info.image_size);
  return SR_OK;
}

static void free_model(score_model *sm) {
  sr_gaussian_prior_destroy(sm->prior);
  sr_model_score_release(&sm->ms);
  sr_model_free(sm->model);
}

/* Sampler parameters: preset (by modality when not named), the model's SDE,
 * then the explicit options. */
static sr_status make_params(sr_context *ctx, const sr_meas *m, const score_model *sm,
                             sr_sampler_params *p) {
  const sr_score_cli_options *o = &sr_score_cli;
  sr_sampler_params_default(p);
  p->consistency.mode = o->consistency == 1 ? SR_CONSISTENCY_EXACT : SR_CONSISTENCY_PAPER;
  const char *preset =
      o->preset ? o->preset : (m->modality == SR_MODALITY_CT ? "ct320" : "brats240");
  SR_TRY(sr_sampler_preset(ctx, preset, p));
  p->sde = sm->sde; /* the model's SDE and N */
  if (o->steps > 0) p->sde.n = (int)o->steps;
  if (o->snr >= 0.0) p->snr = o->snr;
  if (o->corrector_steps >= 0) p->corrector_steps = (int)o->corrector_steps;
  if (o->lambda >= 0.0) p->lambda = o->lambda;
  p->lambda_final = o->lambda_final;
  p->seed = (uint32_t)o->seed;
  p->batch_norm_average = o->batch_average;
  p->predictor = (sr_predictor_kind)o->predictor;
  p->corrector = (sr_corrector_kind)o->corrector;
  p->consistency.cg_iters = (int)o->cg_iters;
  p->consistency.cg_iters_final = (int)o->cg_iters_final;
  p->consistency.cg_delta = o->cg_delta;
  p->consistency.cg_delta_final = o->cg_delta_final;
  return SR_OK;
}

/* ---------------------------------------------------------------- model cache */

/* A worker keeps the last few models it loaded: a manifest of CT and MRI
 * studies alternates between two, and loading an NCSN++ file and planning
 * its buffers for a size costs more than a small batch. */
#define SR_SCORE_CACHE_SLOTS 4

typedef struct cache_slot {
  char *path;
  int64_t h, w;
  score_model sm;
  uint64_t last_use;
  int busy; /* a job holds it */
} cache_slot;

struct sr_score_model_cache {
  cache_slot slots[SR_SCORE_CACHE_SLOTS];
  uint64_t clock;
};

sr_score_model_cache *sr_score_model_cache_create(void) {
  return (sr_score_model_cache *)calloc(1, sizeof(sr_score_model_cache));
}

static void slot_clear(cache_slot *s) {
  if (s->path) free_model(&s->sm);
  free(s->path);
  memset(s, 0, sizeof *s);
}

void sr_score_model_cache_destroy(sr_score_model_cache *c) {
  if (!c) return;
  for (int i = 0; i < SR_SCORE_CACHE_SLOTS; ++i) slot_clear(&c->slots[i]);
  free(c);
}

/* The model for (path, h, w): a cached one, or loaded into the least
 * recently used free slot. */
static sr_status cache_get(sr_context *ctx, sr_score_model_cache *c, const char *path, int64_t h,
                           int64_t w, cache_slot **out) {
  cache_slot *victim = NULL;
  for (int i = 0; i < SR_SCORE_CACHE_SLOTS; ++i) {
    cache_slot *s = &c->slots[i];
    if (s->path && !s->busy && s->h == h && s->w == w && strcmp(s->path, path) == 0) {
      s->last_use = ++c->clock;
      s->busy = 1;
      *out = s;
      return SR_OK;
    }
    if (!s->busy && (!victim || !s->path || (victim->path && s->last_use < victim->last_use)))
      victim = s;
  }
  if (!victim) return SR_FAIL_HERE(ctx, SR_ERR_INTERNAL, "every model cache slot is in use");
  slot_clear(victim);
  victim->path = strdup(path);
  if (!victim->path) return sr_fail(ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate a path");
  sr_status st = load_model(ctx, path, h, w, &victim->sm);
  if (st != SR_OK) {
    free_model(&victim->sm);
    free(victim->path);
    memset(victim, 0, sizeof *victim);
    return st;
  }
  victim->h = h, victim->w = w;
  victim->last_use = ++c->clock;
  victim->busy = 1;
  *out = victim;
  return SR_OK;
}

/* ---------------------------------------------------------------- a study */

struct sr_score_job {
  sr_context *ctx;
  const char *model_path;
  sr_score_model_cache *own_cache; /* when the caller gave none */
  cache_slot *slot;
  sr_sampler_params p;
  sr_operator *op;
  sr_sampler *smp;
  float *y; /* host, (nslices, meas) / scale */
  size_t yfl, n, bs;
  int64_t nslices, h, w;
  double scale;
  progress pr;
  int progress_on;
};

/* Items per sampler batch when --batch is 0. On a GPU: as many as fit in
 * 80% of the free memory, counting the network's planned memory per image
 * (sr_model_plan_bytes at batch 1 and 2: the difference is per image) and
 * the sampler's per-item buffers (estimated as 8 images and 6 measurement
 * vectors: state, noise, score, consistency transforms), at most 64. On the
 * CPU: 4 (a larger batch does not make a CPU forward cheaper per image, see
 * bench/RESULTS.md, and 4 keeps progress lines frequent). */
static size_t auto_batch(sr_context *ctx, score_model *sm, const sr_operator *op, int64_t h,
                         int64_t w) {
  sr_backend *b = sr_context_get_backend(ctx);
  size_t free_b = 0, total_b = 0;
  if (sr_context_backend(ctx) != SR_BACKEND_CUDA || !b->ops->mem_info ||
      b->ops->mem_info(b, &free_b, &total_b) != SR_OK)
    return sr_context_backend(ctx) == SR_BACKEND_CUDA ? 16 : 4;
  size_t one = 0, two = 0;
  if (sm->model && (sr_model_plan_bytes(sm->model, 1, h, w, &one) != SR_OK ||
                    sr_model_plan_bytes(sm->model, 2, h, w, &two) != SR_OK))
    return 16;
  const size_t meas = op->meas_elems * (op->meas_dtype == SR_DTYPE_C64 ? 8 : 4);
  const size_t inc = two > one ? two - one : one;
  const size_t per_item = inc + 8 * (size_t)(h * w) * 4 + 6 * meas;
  const size_t budget = free_b / 10 * 8, base = one > inc ? one - inc : 0;
  size_t n = budget > base ? (budget - base) / per_item : 1;
  return n < 1 ? 1 : (n > 64 ? 64 : n);
}

sr_status sr_score_job_open(sr_context *ctx, const sr_meas *m, const char *model_path,
                            sr_score_model_cache *cache, int64_t batch, sr_score_job **out) {
  const sr_score_cli_options *o = &sr_score_cli;
  *out = NULL;
  sr_score_job *j = (sr_score_job *)calloc(1, sizeof *j);
  if (!j) return sr_fail(ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate a job");
  j->ctx = ctx, j->model_path = model_path;
  sr_backend *b = sr_context_get_backend(ctx);
  const int is_mri = m->modality == SR_MODALITY_MRI;
  j->nslices = is_mri ? m->mri.nslices : m->ct.nslices;
  j->h = is_mri ? m->mri.h : m->ct.image_h, j->w = is_mri ? m->mri.w : m->ct.image_w;
  j->n = (size_t)(j->h * j->w);
  j->scale = 1.0;
  sr_status st = SR_OK;
  if (!cache) {
    cache = j->own_cache = sr_score_model_cache_create();
    if (!cache) st = sr_fail(ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate a model cache");
  }
  if (st == SR_OK) st = cache_get(ctx, cache, model_path, j->h, j->w, &j->slot);
  if (st == SR_OK) st = make_params(ctx, m, &j->slot->sm, &j->p);
  /* paper mode needs T: the paper's Fourier-domain operator for CT. */
  if (st == SR_OK)
    st = sr_meas_make_operator(b, m,
                               j->p.consistency.mode == SR_CONSISTENCY_PAPER ? SR_MEAS_OP_FOURIER
                                                                             : SR_MEAS_OP_DEFAULT,
                               &j->op);
  /* y / scale on the host (the operators are linear). */
  if (st == SR_OK) {
    float *y_dev = NULL;
    j->yfl = j->op->meas_elems * (j->op->meas_dtype == SR_DTYPE_C64 ? 2 : 1);
    const size_t all = (size_t)j->nslices * j->yfl;
    const float *src = is_mri ? m->mri.kspace : m->ct.sinogram;
    j->y = (float *)malloc(all * sizeof(float));
    if (!j->y)
      st = sr_fail(ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate %lld slices", (long long)j->nslices);
    if (st == SR_OK) st = b->ops->alloc(b, all * sizeof(float), (void **)&y_dev);
    if (st == SR_OK) st = b->ops->upload(b, y_dev, src, all * sizeof(float));
    if (st == SR_OK) st = data_scale(j->op, m, y_dev, (size_t)j->nslices, &j->scale);
    if (st == SR_OK)
      for (size_t i = 0; i < all; ++i) j->y[i] = (float)(src[i] / j->scale);
    if (y_dev) b->ops->free(b, y_dev);
  }
  const size_t total = (size_t)j->nslices * (size_t)o->samples;
  if (st == SR_OK)
    j->bs = batch > 0 ? (size_t)batch : auto_batch(ctx, &j->slot->sm, j->op, j->h, j->w);
  if (j->bs > total) j->bs = total;
  if (st == SR_OK)
    st = sr_sampler_create(j->op, &j->p, j->slot->sm.fn, j->slot->sm.user, j->bs, &j->smp);
  if (st != SR_OK) {
    sr_score_job_close(j);
    return st;
  }
  *out = j;
  return SR_OK;
}

void sr_score_job_show_progress(sr_score_job *j, const char *command) {
  j->pr = (progress){command, isatty(2), 0.0, 0};
  j->progress_on = 1;
  sr_sampler_set_progress(j->smp, on_progress, &j->pr);
}

void sr_score_job_describe(const sr_score_job *j, FILE *f, const char *command) {
  fprintf(f,
          "%s: %s, %lld slice(s) x %d sample(s) of %lld x %lld, %s consistency (%s), N = %d, "
          "snr %g, lambda %g, batch %zu, on %s\n",
          command, j->slot->sm.what, (long long)j->nslices, (int)sr_score_cli.samples,
          (long long)j->h, (long long)j->w, sr_consistency_mode_name(j->p.consistency.mode),
          sr_sampler_consistency_method(j->smp), j->p.sde.n, j->p.snr, j->p.lambda, j->bs,
          sr_context_get_backend(j->ctx)->ops->name);
}

sr_status sr_score_job_run(sr_score_job *j, size_t s0, size_t ns, float *mean, float *sd) {
  const sr_score_cli_options *o = &sr_score_cli;
  if (s0 > (size_t)j->nslices || ns > (size_t)j->nslices - s0)
    return SR_FAIL_HERE(j->ctx, SR_ERR_INVALID_ARGUMENT, "slices %zu..%zu of %lld", s0, s0 + ns,
                        (long long)j->nslices);
  const int samples = (int)o->samples;
  /* The slice index keys the noise (first_slice), so a study cut into
   * chunks samples exactly what one call over all slices would. */
  SR_TRY(sr_sampler_reconstruct(j->smp, j->y + s0 * j->yfl, ns, (uint32_t)s0, samples, j->bs, mean,
                                samples > 1 ? sd : NULL));
  if (j->progress_on && j->pr.tty && !o->quiet) fputc('\n', stderr);
  /* Back to the data's units; clipped to the model's [0, value_max] x scale
   * unless --no-clip. */
  const float vmax = (float)j->slot->sm.value_max;
  for (size_t i = 0; i < ns * j->n; ++i) {
    float v = mean[i];
    if (!o->no_clip) v = v < 0.0f ? 0.0f : (v > vmax ? vmax : v);
    mean[i] = (float)(v * j->scale);
    if (samples > 1 && sd) sd[i] = (float)(sd[i] * j->scale);
  }
  return SR_OK;
}

void sr_score_job_report(const sr_score_job *j, FILE *f, double secs, const char *out_path) {
  const sr_score_cli_options *o = &sr_score_cli;
  const sr_sampler_stats *s = sr_sampler_stats_get(j->smp);
  const double tot = s->total_s > 0.0 ? s->total_s : 1.0;
  const double items = (double)j->nslices * (double)o->samples;
  fprintf(f,
          "reconstruct: score (%s consistency, %s), %lld slice(s) x %d sample(s) of %lld x %lld "
          "on %s in %.2f s (%.2f s per slice per sample; network %.0f%%, consistency %.0f%%, "
          "rest %.0f%%) -> %s\n",
          sr_consistency_mode_name(j->p.consistency.mode), sr_sampler_consistency_method(j->smp),
          (long long)j->nslices, (int)o->samples, (long long)j->h, (long long)j->w,
          sr_context_get_backend(j->ctx)->ops->name, secs, secs / items, 100.0 * s->network_s / tot,
          100.0 * s->consistency_s / tot, 100.0 * s->other_s / tot, out_path);
}

/* The settings that decide the output, as JSON members (for sidecars: a
 * finished output counts as done only for the same settings). */
void sr_score_job_settings_json(const sr_score_job *j, FILE *f) {
  const sr_score_cli_options *o = &sr_score_cli;
  const sr_sampler_params *p = &j->p;
  fputs("\"model\": ", f);
  sr_json_write_string(f, j->model_path);
  fputs(", ", f);
  static const char *pred[] = {"reverse_diffusion", "euler_maruyama", "none"};
  static const char *corr[] = {"langevin", "ald", "none"};
  fprintf(f,
          "\"model_kind\": \"%s\", \"sde\": \"%s\", \"consistency\": \"%s\", "
          "\"consistency_method\": \"%s\", \"steps\": %d, \"snr\": %.17g, "
          "\"corrector_steps\": %d, \"lambda\": %.17g, \"final_lambda\": %.17g, \"seed\": %u, "
          "\"samples\": %d, \"predictor\": \"%s\", \"corrector\": \"%s\", "
          "\"batch_norm_average\": %s, \"cg_iters\": %d, \"cg_iters_final\": %d, "
          "\"cg_delta\": %.17g, \"cg_delta_final\": %.17g, \"data_scale\": %.17g, \"clip\": %s, "
          "\"clip_max\": %.17g, "
          "\"batch\": %zu",
          j->slot->sm.prior ? "gaussian-prior" : "ncsnpp",
          p->sde.type == SR_SDE_TYPE_VE ? "ve" : "vp",
          sr_consistency_mode_name(p->consistency.mode), sr_sampler_consistency_method(j->smp),
          p->sde.n, p->snr, p->corrector_steps, p->lambda, p->lambda_final, p->seed,
          (int)o->samples, pred[p->predictor], corr[p->corrector],
          p->batch_norm_average ? "true" : "false", p->consistency.cg_iters,
          p->consistency.cg_iters_final, p->consistency.cg_delta, p->consistency.cg_delta_final,
          j->scale, o->no_clip ? "false" : "true", j->slot->sm.value_max, j->bs);
}

const sr_sampler_stats *sr_score_job_stats(const sr_score_job *j) {
  return sr_sampler_stats_get(j->smp);
}

void sr_score_job_close(sr_score_job *j) {
  if (!j) return;
  sr_sampler_destroy(j->smp);
  sr_operator_destroy(j->op);
  if (j->slot) j->slot->busy = 0;
  sr_score_model_cache_destroy(j->own_cache);
  free(j->y);
  free(j);
}

/* OUT's companion path for the posterior std (--std-out, or OUT_std.ext);
 * malloc'ed. */
char *sr_score_std_path(const char *out_path) {
  if (sr_score_cli.std_out) return strdup(sr_score_cli.std_out);
  return sr_volume_path_variant(out_path, "_std", NULL);
}
