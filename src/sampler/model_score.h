/* An NCSN++ model file as the sampler's score callback: the conditioning
 * the model was trained with, computed from the sampler's (sigma, t):
 *   VE, Fourier embedding (the paper's, continuous): cond = sigma(t); the
 *       network divides by sigma itself (scale_by_sigma)
 *   VE, positional (discrete NCSN++): cond = round((1 - t)(N - 1)), the
 *       index of the noise level
 *   VP, positional: cond = 999 t (score_sde's continuous VP label) and
 *       s = -output / std(t)
 * Images are single-channel (C = 1). */
#ifndef SR_SAMPLER_MODEL_SCORE_H
#define SR_SAMPLER_MODEL_SCORE_H

#include <stddef.h>
#include <stdint.h>

#include "sampler/sde.h"
#include "scorerecon.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sr_model_score {
  sr_context *ctx;
  sr_model *model;
  sr_model_info info;
  sr_sde sde;
  int64_t h, w;
  float *cond;    /* host, cap */
  float *inv_std; /* host, cap (VP) */
  float *zeros;   /* host, cap */
  size_t cap;
} sr_model_score;

/* The SDE a model was trained with (type, sigma or beta range, N). */
sr_status sr_model_score_sde(sr_context *ctx, const sr_model_info *info, sr_sde *out);

/* Prepares the adapter for images of h x w (multiples of the model's
 * size_multiple) and checks the model is one the sampler can drive. */
sr_status sr_model_score_init(sr_context *ctx, sr_model *model, int64_t h, int64_t w,
                              sr_model_score *ms);
void sr_model_score_release(sr_model_score *ms);

/* The sr_score_fn; user = an initialised sr_model_score. */
sr_status sr_model_score_fn(void *user, const float *x, const float *sigma_host,
                            const float *t_host, size_t n, float *score_out);

#ifdef __cplusplus
}
#endif

#endif
