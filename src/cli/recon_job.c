/* See recon_job.h. The baselines (FBP, zero-filled, TV) run here; the
 * sampler in cli/reconstruct_score.c. */
#define _POSIX_C_SOURCE 200809L
#include "cli/recon_job.h"

#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "cli/json_out.h"
#include "core/error.h"
#include "io/meas_operator.h"
#include "operators/ct_parallel.h"
#include "operators/mri_cartesian.h"

sr_recon_cli_options sr_recon_cli;

const char *sr_recon_method_name(sr_recon_method m) {
  static const char *names[] = {"auto", "fbp", "zero-filled", "tv", "score"};
  return (unsigned)m < sizeof names / sizeof names[0] ? names[m] : "?";
}

const char *sr_recon_model_for(const sr_meas *m) {
  const sr_recon_cli_options *o = &sr_recon_cli;
  if (m->modality == SR_MODALITY_CT && o->model_ct) return o->model_ct;
  if (m->modality == SR_MODALITY_MRI && o->model_mri) return o->model_mri;
  return o->model_path;
}

static sr_tv_params tv_params(const sr_meas *m) {
  const sr_recon_cli_options *o = &sr_recon_cli;
  sr_tv_params tp = sr_tv_params_default();
  tp.iters = (int)o->iters;
  tp.weight = o->tv_weight > 0.0 ? o->tv_weight : (m->modality == SR_MODALITY_MRI ? 0.002 : 0.5);
  tp.nonneg = o->nonneg;
  tp.step_ratio = o->step_ratio;
  return tp;
}

sr_status sr_recon_job_open(sr_context *ctx, const sr_meas *m, const char *what,
                            const char *model_path, sr_score_model_cache *cache, sr_recon_job *j) {
  const sr_recon_cli_options *o = &sr_recon_cli;
  memset(j, 0, sizeof *j);
  j->ctx = ctx, j->m = m;
  const int is_mri = m->modality == SR_MODALITY_MRI;
  j->nslices = is_mri ? m->mri.nslices : m->ct.nslices;
  j->h = is_mri ? m->mri.h : m->ct.image_h, j->w = is_mri ? m->mri.w : m->ct.image_w;
  j->method = o->method == SR_RECON_AUTO ? (is_mri ? SR_RECON_ZERO_FILLED : SR_RECON_FBP)
                                         : (sr_recon_method)o->method;
  if (j->method == SR_RECON_FBP && is_mri)
    return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT,
                   "%s holds MRI k-space: FBP is for CT (use zero-filled or tv)", what);
  if (j->method == SR_RECON_ZERO_FILLED && !is_mri)
    return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT,
                   "%s holds a CT sinogram: zero-filled is for MRI (use fbp or tv)", what);
  if (j->method == SR_RECON_SCORE) {
    if (!model_path)
      return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT, "%s: no score model for %s data (--model%s)",
                     what, is_mri ? "MRI" : "CT", is_mri ? " or --model-mri" : " or --model-ct");
    return sr_score_job_open(ctx, m, model_path, cache, o->batch, &j->score);
  }
  sr_backend *b = sr_context_get_backend(ctx);
  j->bs = (size_t)(o->batch > 0 && o->batch < j->nslices ? o->batch : j->nslices);
  sr_status st = sr_meas_make_operator(b, m, SR_MEAS_OP_DEFAULT, &j->op);
  if (st == SR_OK) {
    j->yfl = j->op->meas_elems * (j->op->meas_dtype == SR_DTYPE_C64 ? 2 : 1);
    st = b->ops->alloc(b, j->bs * j->yfl * sizeof(float), (void **)&j->dy);
  }
  if (st == SR_OK)
    st = b->ops->alloc(b, j->bs * (size_t)(j->h * j->w) * sizeof(float), (void **)&j->dx);
  if (st != SR_OK) sr_recon_job_close(j);
  return st;
}

/* One batch of a baseline: slices [s0, s0 + ns), ns <= bs. */
static sr_status run_baseline(sr_recon_job *j, size_t s0, size_t ns, float *out) {
  sr_backend *b = sr_context_get_backend(j->ctx);
  const sr_meas *m = j->m;
  const float *y = m->modality == SR_MODALITY_MRI ? m->mri.kspace : m->ct.sinogram;
  SR_TRY(b->ops->upload(b, j->dy, y + s0 * j->yfl, ns * j->yfl * sizeof(float)));
  if (j->method == SR_RECON_ZERO_FILLED) {
    SR_TRY(sr_mri_zero_filled(j->op, j->dy, j->dx, ns));
  } else if (j->method == SR_RECON_FBP) {
    SR_TRY(sr_ct_fbp(j->op, j->dy, j->dx, ns, (sr_ct_filter)sr_recon_cli.filter));
  } else {
    const sr_tv_params tp = tv_params(m);
    SR_TRY(sr_tv_reconstruct(j->op, j->dy, j->dx, ns, &tp, &j->tv_info));
  }
  return b->ops->download(b, out, j->dx, ns * (size_t)(j->h * j->w) * sizeof(float));
}

sr_status sr_recon_job_run(sr_recon_job *j, size_t s0, size_t ns, float *out, float *sd) {
  if (j->score) return sr_score_job_run(j->score, s0, ns, out, sd);
  const size_t n = (size_t)(j->h * j->w);
  for (size_t k = 0; k < ns; k += j->bs) {
    const size_t nb = ns - k < j->bs ? ns - k : j->bs;
    SR_TRY(run_baseline(j, s0 + k, nb, out + k * n));
  }
  return SR_OK;
}

int sr_recon_job_has_std(const sr_recon_job *j) {
  return j->score && sr_score_cli.samples > 1;
}

void sr_recon_job_settings_json(const sr_recon_job *j, FILE *f) {
  const sr_recon_cli_options *o = &sr_recon_cli;
  fprintf(f, "\"method\": \"%s\", ", sr_recon_method_name(j->method));
  if (j->score) {
    sr_score_job_settings_json(j->score, f);
    return;
  }
  static const char *filters[] = {"ram-lak", "shepp-logan", "cosine", "hamming", "hann"};
  if (j->method == SR_RECON_FBP) fprintf(f, "\"filter\": \"%s\"", filters[o->filter]);
  if (j->method == SR_RECON_ZERO_FILLED) fputs("\"magnitude\": true", f);
  if (j->method == SR_RECON_TV) {
    const sr_tv_params tp = tv_params(j->m);
    fprintf(f, "\"iters\": %d, \"tv_weight\": %.17g, \"nonneg\": %s, \"step_ratio\": %.17g",
            tp.iters, tp.weight, tp.nonneg ? "true" : "false", tp.step_ratio);
  }
}

void sr_recon_job_close(sr_recon_job *j) {
  sr_backend *b = j->ctx ? sr_context_get_backend(j->ctx) : NULL;
  if (b && j->dy) b->ops->free(b, j->dy);
  if (b && j->dx) b->ops->free(b, j->dx);
  sr_operator_destroy(j->op);
  sr_score_job_close(j->score);
  memset(j, 0, sizeof *j);
}
