/* NCSN++ behind the sampler's score callback (model_score.h). */
#include "sampler/model_score.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "core/error.h"

sr_status sr_model_score_sde(sr_context *ctx, const sr_model_info *info, sr_sde *out) {
  sr_sde sde = sr_sde_default();
  SR_TRY(sr_sde_type_parse(ctx, info->sde, &sde.type));
  sde.sigma_min = info->sigma_min;
  sde.sigma_max = info->sigma_max;
  sde.beta_min = info->beta_min;
  sde.beta_max = info->beta_max;
  sde.n = info->num_scales > 0 ? info->num_scales : 1000;
  SR_TRY(sr_sde_validate(ctx, &sde));
  *out = sde;
  return SR_OK;
}

sr_status sr_model_score_init(sr_context *ctx, sr_model *model, int64_t h, int64_t w,
                              sr_model_score *ms) {
  memset(ms, 0, sizeof *ms);
  ms->ctx = ctx;
  ms->model = model;
  sr_model_get_info(model, &ms->info);
  if (ms->info.num_channels != 1)
    return sr_fail(ctx, SR_ERR_UNSUPPORTED,
                   "the model has %d channels; the sampler reconstructs single-channel images",
                   ms->info.num_channels);
  const int mult = ms->info.size_multiple > 0 ? ms->info.size_multiple : 1;
  if (h < mult || w < mult || h % mult || w % mult)
    return sr_fail(ctx, SR_ERR_SHAPE,
                   "images of %lld x %lld: the model needs sides that are multiples of %d",
                   (long long)h, (long long)w, mult);
  SR_TRY(sr_model_score_sde(ctx, &ms->info, &ms->sde));
  if (ms->sde.type == SR_SDE_TYPE_VP && ms->info.cond_is_sigma)
    return sr_fail(ctx, SR_ERR_UNSUPPORTED, "a VP model with a noise-level embedding");
  ms->h = h;
  ms->w = w;
  return SR_OK;
}

void sr_model_score_release(sr_model_score *ms) {
  free(ms->cond);
  memset(ms, 0, sizeof *ms);
}

static void tensor4(sr_tensor *t, sr_backend_kind kind, const float *data, size_t n, int64_t h,
                    int64_t w) {
  memset(t, 0, sizeof *t);
  t->backend = kind;
  t->dtype = SR_DTYPE_F32;
  t->shape[0] = (int64_t)n;
  t->shape[1] = 1;
  t->shape[2] = h;
  t->shape[3] = w;
  t->strides[3] = 1;
  t->strides[2] = w;
  t->strides[1] = h * w;
  t->strides[0] = h * w;
  t->data = (void *)data;
}

sr_status sr_model_score_fn(void *user, const float *x, const float *sigma_host,
                            const float *t_host, size_t n, float *score_out) {
  sr_model_score *ms = (sr_model_score *)user;
  if (n > ms->cap) {
    free(ms->cond);
    ms->cond = (float *)malloc(3 * n * sizeof(float));
    ms->cap = ms->cond ? n : 0;
    if (!ms->cond) return sr_fail(ms->ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate");
    ms->inv_std = ms->cond + n;
    ms->zeros = ms->cond + 2 * n;
    for (size_t k = 0; k < n; ++k) ms->zeros[k] = 0.0f;
  }
  const sr_sde *sde = &ms->sde;
  for (size_t k = 0; k < n; ++k) {
    if (ms->info.cond_is_sigma)
      ms->cond[k] = sigma_host[k];
    else if (sde->type == SR_SDE_TYPE_VE)
      ms->cond[k] = (float)rint((1.0 - (double)t_host[k]) * (sde->n - 1));
    else
      ms->cond[k] = t_host[k] * 999.0f;
    ms->inv_std[k] = sigma_host[k] > 0.0f ? -1.0f / sigma_host[k] : 0.0f;
  }
  const sr_backend_kind kind = sr_context_backend(ms->ctx);
  sr_tensor tx, ts;
  tensor4(&tx, kind, x, n, ms->h, ms->w);
  tensor4(&ts, kind, score_out, n, ms->h, ms->w);
  SR_TRY(sr_model_forward(ms->model, &tx, ms->cond, &ts));
  if (sde->type == SR_SDE_TYPE_VP) {
    /* score = -output / std */
    sr_backend *b = sr_context_get_backend(ms->ctx);
    SR_TRY(b->ops->axpby_batched(b, score_out, score_out, n, (size_t)(ms->h * ms->w), ms->inv_std,
                                 ms->zeros));
  }
  return SR_OK;
}
