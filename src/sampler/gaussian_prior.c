/* The closed-form score of a Gaussian prior, over the op table. */
#include "sampler/gaussian_prior.h"

#include <math.h>
#include <stdlib.h>

#include "core/error.h"

struct sr_gaussian_prior {
  sr_backend *b;
  int64_t h, w;
  float *mean; /* (h, w) backend memory */
  double var;  /* tau^2 */
  double std;
  sr_sde sde;
  float *coef_x, *coef_mu; /* host, per sample; grown as needed */
  size_t coef_cap;
};

sr_status sr_gaussian_prior_create(sr_backend *b, const float *mean_host, int64_t h, int64_t w,
                                   double std, const sr_sde *sde, sr_gaussian_prior **out) {
  *out = NULL;
  if (h < 1 || w < 1 || h > 65536 || w > 65536)
    return sr_fail(b->ctx, SR_ERR_INVALID_ARGUMENT, "Gaussian prior of %lld x %lld pixels",
                   (long long)h, (long long)w);
  if (!(std > 0.0) || !isfinite(std))
    return sr_fail(b->ctx, SR_ERR_INVALID_ARGUMENT,
                   "Gaussian prior standard deviation %g must be positive and finite", std);
  const size_t n = (size_t)(h * w);
  for (size_t i = 0; i < n; ++i)
    if (!isfinite(mean_host[i]))
      return sr_fail(b->ctx, SR_ERR_NUMERIC, "Gaussian prior mean is not finite at %zu", i);
  sr_gaussian_prior *g = (sr_gaussian_prior *)calloc(1, sizeof *g);
  if (!g) return sr_fail(b->ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate a Gaussian prior");
  g->b = b;
  g->h = h;
  g->w = w;
  g->std = std;
  g->var = std * std;
  g->sde = sde ? *sde : sr_sde_default();
  sr_status st = b->ops->alloc(b, n * sizeof(float), (void **)&g->mean);
  if (st == SR_OK) st = b->ops->upload(b, g->mean, mean_host, n * sizeof(float));
  if (st != SR_OK) {
    sr_gaussian_prior_destroy(g);
    return st;
  }
  *out = g;
  return SR_OK;
}

void sr_gaussian_prior_destroy(sr_gaussian_prior *g) {
  if (!g) return;
  if (g->mean) g->b->ops->free(g->b, g->mean);
  free(g->coef_x);
  free(g);
}

int64_t sr_gaussian_prior_height(const sr_gaussian_prior *g) {
  return g->h;
}
int64_t sr_gaussian_prior_width(const sr_gaussian_prior *g) {
  return g->w;
}
double sr_gaussian_prior_std(const sr_gaussian_prior *g) {
  return g->std;
}
const sr_sde *sr_gaussian_prior_sde(const sr_gaussian_prior *g) {
  return &g->sde;
}

sr_status sr_gaussian_prior_score(void *user, const float *x, const float *sigma_host,
                                  const float *t_host, size_t n, float *score_out) {
  sr_gaussian_prior *g = (sr_gaussian_prior *)user;
  sr_backend *b = g->b;
  const size_t plane = (size_t)(g->h * g->w);
  if (n > g->coef_cap) {
    free(g->coef_x);
    g->coef_x = (float *)malloc(2 * n * sizeof(float));
    g->coef_cap = g->coef_x ? n : 0;
    if (!g->coef_x) return sr_fail(b->ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate");
    g->coef_mu = g->coef_x + n;
  }
  /* c = 1 / (m^2 tau^2 + sigma^2); out = c m mu - c x. */
  for (size_t s = 0; s < n; ++s) {
    double m = 1.0, std_t;
    if (g->sde.type != SR_SDE_TYPE_VE) sr_sde_marginal(&g->sde, t_host[s], &m, &std_t);
    const double c = 1.0 / (m * m * g->var + (double)sigma_host[s] * sigma_host[s]);
    g->coef_x[s] = (float)-c;
    g->coef_mu[s] = (float)(c * m);
    SR_TRY(b->ops->copy(b, score_out + s * plane, g->mean, plane * sizeof(float)));
  }
  return b->ops->axpby_batched(b, score_out, x, n, plane, g->coef_x, g->coef_mu);
}
