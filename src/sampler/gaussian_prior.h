/* An analytic score model: the Gaussian prior x ~ N(mu, tau^2 I) on (H, W)
 * images. Its diffused marginals are Gaussian too,
 *   p_t(x) = N(m(t) mu, (m(t)^2 tau^2 + std(t)^2) I),
 *   s(x, t) = (m(t) mu - x) / (m(t)^2 tau^2 + std(t)^2),
 * (VE: m = 1, std = sigma), so the sampler's output can be checked against
 * closed forms without trained weights: an isotropic (white) prior is
 * diagonal in any orthonormal basis, e.g. the MRI k-space, where the
 * posterior given measured components leaves the others at the prior.
 *
 * Selectable in tests, or from a .safetensors file whose __metadata__ says
 * format = "scorerecon.gaussian_prior.v1": tensor "mean" (H, W) float32,
 * metadata "std" (tau) and optionally "sde" (vesde | vpsde), "sigma_min",
 * "sigma_max", "beta_min", "beta_max", "num_scales" (the SDE the sampler
 * uses; default the paper's VE). */
#ifndef SR_SAMPLER_GAUSSIAN_PRIOR_H
#define SR_SAMPLER_GAUSSIAN_PRIOR_H

#include <stddef.h>
#include <stdint.h>

#include "backend/backend.h"
#include "sampler/sde.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SR_GAUSSIAN_PRIOR_FORMAT "scorerecon.gaussian_prior.v1"

typedef struct sr_gaussian_prior sr_gaussian_prior;

/* mean_host: n = h * w values (copied to the backend); std = tau > 0;
 * sde gives m(t) (NULL: VE). */
sr_status sr_gaussian_prior_create(sr_backend *b, const float *mean_host, int64_t h, int64_t w,
                                   double std, const sr_sde *sde, sr_gaussian_prior **out);
void sr_gaussian_prior_destroy(sr_gaussian_prior *g);

int64_t sr_gaussian_prior_height(const sr_gaussian_prior *g);
int64_t sr_gaussian_prior_width(const sr_gaussian_prior *g);
double sr_gaussian_prior_std(const sr_gaussian_prior *g);
const sr_sde *sr_gaussian_prior_sde(const sr_gaussian_prior *g);

/* An sr_score_fn (user = the prior): out = (m mu - x) / (m^2 tau^2 + sigma^2)
 * per sample, x and out (n, H, W). */
sr_status sr_gaussian_prior_score(void *user, const float *x, const float *sigma_host,
                                  const float *t_host, size_t n, float *score_out);

/* 1 when the file's metadata names the format (0 for other or unreadable
 * files, without touching ctx's message). */
int sr_gaussian_prior_file_is(sr_context *ctx, const char *path);
sr_status sr_gaussian_prior_load(sr_backend *b, const char *path, sr_gaussian_prior **out);
sr_status sr_gaussian_prior_save(sr_context *ctx, const char *path, const float *mean_host,
                                 int64_t h, int64_t w, double std, const sr_sde *sde);

#ifdef __cplusplus
}
#endif

#endif
