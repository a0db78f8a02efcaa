/* The sampler's only view of a score model: a callback. The sampler never
 * knows the network's layers nor the backend it runs on.
 *
 *   x          (n, C, H, W) float32 in backend memory, data scale [0, 1]
 *              for the paper's models (the network maps x -> 2x - 1 itself)
 *   sigma_host (n) host: the marginal standard deviation of p_t at each
 *              sample's time (VE: sigma(t); what a VE model is conditioned on)
 *   t_host     (n) host: each sample's time in [eps, 1] (VP models turn it
 *              into their time label)
 *   score_out  (n, C, H, W) backend memory, never aliasing x:
 *              s(x, t) ~ grad_x log p_t(x)
 *
 * Implementations: sr_model_score (an NCSN++ file, sampler/model_score.h)
 * and sr_gaussian_prior_score (a closed-form prior for tests,
 * sampler/gaussian_prior.h). */
#ifndef SR_SAMPLER_SCORE_H
#define SR_SAMPLER_SCORE_H

#include <stddef.h>

#include "scorerecon.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef sr_status (*sr_score_fn)(void *user, const float *x, const float *sigma_host,
                                 const float *t_host, size_t n, float *score_out);

#ifdef __cplusplus
}
#endif

#endif
