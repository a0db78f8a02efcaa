/* The forward SDEs of score_sde (Song et al. 2021, sde_lib.py) and their
 * discretisations, as scalars the sampler turns into op-table calls.
 *
 *   VE:  dx = sqrt(d[sigma^2(t)]/dt) dw,  sigma(t) = sigma_min (sigma_max / sigma_min)^t
 *        p_t(x | x0) = N(x0, sigma(t)^2 I); prior N(0, sigma_max^2 I)
 *        discrete grid (SMLD): sigma_k = exp(linspace(log sigma_min, log sigma_max, N))[k]
 *   VP:  dx = -beta(t) x / 2 dt + sqrt(beta(t)) dw,  beta(t) = beta_min + t (beta_max - beta_min)
 *        p_t(x | x0) = N(m(t) x0, (1 - m(t)^2) I), m(t) = exp(-t^2 (b1 - b0) / 4 - t b0 / 2)
 *        discrete grid (DDPM): beta_k = linspace(beta_min / N, beta_max / N, N)[k],
 *        alpha_k = 1 - beta_k
 *
 * Time runs from t = 1 (pure noise) down to eps. Every update the sampler
 * makes is x <- a x + b s + g z (s the score, z a fresh standard normal), so
 * the predictors here return the three coefficients. Values are computed in
 * double and rounded to float32 once, where the official JAX code computes in
 * float32 (differences of an ulp; the grid indices are computed exactly as
 * the official float32 expressions, see sr_sde_grid_index). */
#ifndef SR_SAMPLER_SDE_H
#define SR_SAMPLER_SDE_H

#include "scorerecon.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sr_sde_type { SR_SDE_TYPE_VE = 0, SR_SDE_TYPE_VP = 1 } sr_sde_type;

typedef struct sr_sde {
  sr_sde_type type;
  double sigma_min, sigma_max; /* VE */
  double beta_min, beta_max;   /* VP: beta(0), beta(1) */
  int n;                       /* N: discretisation steps (score_sde's num_scales) */
} sr_sde;

/* One update x <- a x + b s + g z. */
typedef struct sr_sde_update {
  float a, b, g;
} sr_sde_update;

/* The paper's: VE, sigma in [0.01, 128], N = 1000. */
sr_sde sr_sde_default(void);

/* "vesde" / "vpsde" (score_sde's names); SR_ERR_UNSUPPORTED otherwise. */
sr_status sr_sde_type_parse(sr_context *ctx, const char *name, sr_sde_type *out);
const char *sr_sde_type_name(sr_sde_type type);

/* Finite positive ranges, sigma_min < sigma_max, beta_min < beta_max,
 * 1 <= N <= 10^6; a message names the bad field. */
sr_status sr_sde_validate(sr_context *ctx, const sr_sde *sde);

/* t_i = linspace(1, eps, N)[i] in float32, as jnp.linspace computes it:
 * 1 (1 - i / (N - 1)) + eps i / (N - 1) with i / (N - 1) rounded first, and
 * exactly eps for i = N - 1. */
float sr_sde_time(int i, int n, float eps);

/* Mean coefficient m(t) and standard deviation of p_t(x | x0):
 * VE m = 1, std = sigma(t); VP as above. */
void sr_sde_marginal(const sr_sde *sde, double t, double *mean_coeff, double *std);

/* The standard deviation of the prior at t = 1 (VE sigma_max, VP 1). */
double sr_sde_prior_std(const sr_sde *sde);

/* Index of t on the discrete grid, as the official discretize():
 * (int32)(t * (N - 1) / T) in float32 arithmetic, T = 1. For t_i of
 * sr_sde_time with N = 1000 this is N - 1 - i for every i. */
int sr_sde_grid_index(const sr_sde *sde, float t);

/* VE: sigma_k (k < 0 gives 0, the sigma_{-1} of the first step); VP: beta_k. */
double sr_sde_discrete_sigma(const sr_sde *sde, int k);
double sr_sde_discrete_beta(const sr_sde *sde, int k);

/* Reverse diffusion predictor (score_sde's ReverseDiffusionPredictor):
 *   VE: k = grid index of t, x <- x + (sigma_k^2 - sigma_{k-1}^2) s + sqrt(...) z
 *   VP: x <- (2 - sqrt(alpha_k)) x + beta_k s + sqrt(beta_k) z */
sr_sde_update sr_sde_reverse_diffusion(const sr_sde *sde, float t);

/* Euler-Maruyama on the reverse SDE dx = [f - g^2 s] dt + g dw, dt = -1/N:
 *   x <- x - f(x, t) / N + g(t)^2 / N s + g(t) / sqrt(N) z
 *   VE: f = 0, g = sigma(t) sqrt(2 ln(sigma_max / sigma_min))
 *   VP: f = -beta(t) x / 2, g = sqrt(beta(t)) */
sr_sde_update sr_sde_euler_maruyama(const sr_sde *sde, float t);

/* The alpha factor of the Langevin step size: VE 1, VP alpha_k at t's index. */
double sr_sde_langevin_alpha(const sr_sde *sde, float t);

/* The final denoising step (Tweedie's formula at t = eps, as the official
 * `denoise`): x <- x / m + std^2 / m s, with (m, std) = marginal(eps):
 * a = 1 / m, b = std^2 / m, g = 0. */
sr_sde_update sr_sde_tweedie(const sr_sde *sde, float eps);

#ifdef __cplusplus
}
#endif

#endif
