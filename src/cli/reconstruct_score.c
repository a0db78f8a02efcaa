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
#include "cli/report.h"
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

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

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
    const double t = now_s();
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

/* OUT with "_std" before its extension (.nii.gz, .nii, .npy). */
static char *std_path(const char *out) {
  static const char *exts[] = {".nii.gz", ".nii", ".npy"};
  const size_t len = strlen(out);
  char *p = (char *)malloc(len + 8);
  if (!p) return NULL;
  for (size_t i = 0; i < sizeof exts / sizeof exts[0]; ++i) {
    const size_t el = strlen(exts[i]);
    if (len > el && strcmp(out + len - el, exts[i]) == 0) {
      memcpy(p, out, len - el);
      snprintf(p + len - el, 8 + el, "_std%s", exts[i]);
      return p;
    }
  }
  snprintf(p, len + 8, "%s_std", out);
  return p;
}

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
    snprintf(sm->what, sizeof sm->what, "Gaussian prior (std %g)",
             sr_gaussian_prior_std(sm->prior));
    return SR_OK;
  }
  SR_TRY(sr_model_load(ctx, path, &sm->model));
  SR_TRY(sr_model_score_init(ctx, sm->model, h, w, &sm->ms));
  sm->fn = sr_model_score_fn;
  sm->user = &sm->ms;
  sm->sde = sm->ms.sde;
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

int sr_reconstruct_score(const char *command, sr_context *ctx, const sr_meas *m,
                         const sr_score_cli_common *c) {
  const sr_score_cli_options *o = &sr_score_cli;
  if (!c->model_path)
    return sr_cli_usage(command, "--method score needs --model (NCSN++ weights or a Gaussian "
                                 "prior file)");
  sr_backend *b = sr_context_get_backend(ctx);
  const int is_mri = m->modality == SR_MODALITY_MRI;
  const int64_t nslices = is_mri ? m->mri.nslices : m->ct.nslices;
  const int64_t h = is_mri ? m->mri.h : m->ct.image_h, w = is_mri ? m->mri.w : m->ct.image_w;
  const size_t n = (size_t)(h * w);
  const int samples = (int)o->samples;
  score_model sm;
  sr_sampler_params p;
  sr_operator *op = NULL;
  sr_sampler *smp = NULL;
  float *y = NULL, *mean = NULL, *sd = NULL, *y_dev = NULL;
  char *sd_path = NULL;
  sr_volume refv;
  memset(&refv, 0, sizeof refv);
  double scale = 1.0;
  sr_status st = load_model(ctx, c->model_path, h, w, &sm);
  if (st == SR_OK) st = make_params(ctx, m, &sm, &p);
  /* paper mode needs T: the paper's Fourier-domain operator for CT. */
  if (st == SR_OK)
    st = sr_meas_make_operator(
        b, m, p.consistency.mode == SR_CONSISTENCY_PAPER ? SR_MEAS_OP_FOURIER : SR_MEAS_OP_DEFAULT,
        &op);
  /* y / scale on the host (the operators are linear). */
  size_t yfl = 0;
  if (st == SR_OK) {
    yfl = op->meas_elems * (op->meas_dtype == SR_DTYPE_C64 ? 2 : 1);
    const float *src = is_mri ? m->mri.kspace : m->ct.sinogram;
    y = (float *)malloc((size_t)nslices * yfl * sizeof(float));
    mean = (float *)malloc((size_t)nslices * n * sizeof(float));
    if (samples > 1) sd = (float *)malloc((size_t)nslices * n * sizeof(float));
    if (!y || !mean || (samples > 1 && !sd))
      st = sr_fail(ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate %lld slices", (long long)nslices);
    if (st == SR_OK) st = b->ops->alloc(b, (size_t)nslices * yfl * sizeof(float), (void **)&y_dev);
    if (st == SR_OK) st = b->ops->upload(b, y_dev, src, (size_t)nslices * yfl * sizeof(float));
    if (st == SR_OK) st = data_scale(op, m, y_dev, (size_t)nslices, &scale);
    if (st == SR_OK)
      for (size_t i = 0; i < (size_t)nslices * yfl; ++i) y[i] = (float)(src[i] / scale);
    if (y_dev) b->ops->free(b, y_dev);
  }
  const size_t total = (size_t)nslices * (size_t)samples;
  const int cuda = sr_context_backend(ctx) == SR_BACKEND_CUDA;
  size_t bs = c->batch > 0 ? (size_t)c->batch : (cuda ? 16 : 4);
  if (bs > total) bs = total;
  if (st == SR_OK) st = sr_sampler_create(op, &p, sm.fn, sm.user, bs, &smp);
  progress pr = {command, isatty(2), 0.0, 0};
  if (st == SR_OK && !o->quiet) {
    sr_sampler_set_progress(smp, on_progress, &pr);
    fprintf(stderr,
            "%s: %s, %lld slice(s) x %d sample(s) of %lld x %lld, %s consistency (%s), N = %d, "
            "snr %g, lambda %g, batch %zu, on %s\n",
            command, sm.what, (long long)nslices, samples, (long long)h, (long long)w,
            sr_consistency_mode_name(p.consistency.mode), sr_sampler_consistency_method(smp),
            p.sde.n, p.snr, p.lambda, bs, b->ops->name);
  }
  const double t0 = now_s();
  if (st == SR_OK) st = sr_sampler_reconstruct(smp, y, (size_t)nslices, 0, samples, bs, mean, sd);
  const double secs = now_s() - t0;
  if (pr.tty && !o->quiet && smp) fputc('\n', stderr);
  /* Back to the data's units; clipped to [0, 1] x scale unless --no-clip. */
  if (st == SR_OK) {
    for (size_t i = 0; i < (size_t)nslices * n; ++i) {
      float v = mean[i];
      if (!o->no_clip) v = v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
      mean[i] = (float)(v * scale);
      if (sd) sd[i] = (float)(sd[i] * scale);
    }
    st = sr_volume_write(ctx, c->out_path, mean, nslices, h, w, NULL);
  }
  if (st == SR_OK && sd) {
    sd_path = o->std_out ? NULL : std_path(c->out_path);
    const char *path = o->std_out ? o->std_out : sd_path;
    if (!path)
      st = sr_fail(ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate a path");
    else
      st = sr_volume_write(ctx, path, sd, nslices, h, w, NULL);
    if (st == SR_OK) printf("posterior std of %d samples -> %s\n", samples, path);
  }
  if (st == SR_OK) {
    const sr_sampler_stats *s = sr_sampler_stats_get(smp);
    const double tot = s->total_s > 0.0 ? s->total_s : 1.0;
    printf("reconstruct: score (%s consistency, %s), %lld slice(s) x %d sample(s) of %lld x %lld "
           "on %s in %.2f s (%.2f s per slice per sample; network %.0f%%, consistency %.0f%%, "
           "rest %.0f%%) -> %s\n",
           sr_consistency_mode_name(p.consistency.mode), sr_sampler_consistency_method(smp),
           (long long)nslices, samples, (long long)h, (long long)w, b->ops->name, secs,
           secs / (double)total, 100.0 * s->network_s / tot, 100.0 * s->consistency_s / tot,
           100.0 * s->other_s / tot, c->out_path);
  }
  /* Metrics against --ref, or the target stored in the file. */
  const float *ref = NULL;
  if (st == SR_OK && c->ref_path) {
    st = sr_volume_read(ctx, c->ref_path, &refv);
    if (st == SR_OK && (refv.nslices != nslices || refv.h != h || refv.w != w))
      st = sr_fail(ctx, SR_ERR_SHAPE,
                   "%s is %lld x %lld x %lld, the reconstruction %lld x %lld x %lld", c->ref_path,
                   (long long)refv.nslices, (long long)refv.h, (long long)refv.w,
                   (long long)nslices, (long long)h, (long long)w);
    ref = refv.data;
  } else if (st == SR_OK) {
    ref = is_mri ? m->mri.target : m->ct.target;
    if (ref) printf("reference: the target stored in %s\n", c->in_path);
  }
  if (st == SR_OK && ref)
    st = sr_cli_print_metrics(ctx, stdout, mean, ref, nslices, h, w, c->data_range);
  sr_volume_free(&refv);
  sr_sampler_destroy(smp);
  sr_operator_destroy(op);
  free_model(&sm);
  free(y);
  free(mean);
  free(sd);
  free(sd_path);
  return st == SR_OK ? 0 : sr_cli_fail_status(command, ctx, st);
}
