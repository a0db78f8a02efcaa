/* Predictors: one step of a reverse-time SDE solver from t_i towards
 * t_{i+1}, x <- a x + b s(x, t_i) + g z, with (a, b, g) from sde.c:
 *
 *   reverse diffusion (score_sde's ReverseDiffusionPredictor, the paper's):
 *     VE  x <- x + (sigma_k^2 - sigma_{k-1}^2) s + sqrt(sigma_k^2 - sigma_{k-1}^2) z,
 *         k = int(t_i (N - 1)) = N - 1 - i, sigma_{-1} = 0: the last step adds
 *         sigma_min noise; s is evaluated at the continuous sigma(t_i)
 *     VP  x <- (2 - sqrt(1 - beta_k)) x + beta_k s + sqrt(beta_k) z
 *   Euler-Maruyama: x <- x - f / N + g(t)^2 / N s + g(t) / sqrt(N) z */
#include "core/error.h"
#include "sampler/pc_steps.h"

sr_status sr_predictor_step(sr_pc_state *ps, sr_predictor_kind kind, float t, uint32_t i) {
  if (kind == SR_PREDICTOR_NONE) return SR_OK;
  sr_backend *b = ps->b;
  double m, sigma;
  sr_sde_marginal(ps->sde, t, &m, &sigma);
  SR_TRY(sr_pc_score(ps, t, sigma));
  const sr_sde_update u = kind == SR_PREDICTOR_REVERSE_DIFFUSION
                              ? sr_sde_reverse_diffusion(ps->sde, t)
                              : sr_sde_euler_maruyama(ps->sde, t);
  SR_TRY(sr_noise_draw(b, ps->seed, ps->items, ps->nb, ps->z, ps->n, SR_DRAW_PREDICTOR, i));
  /* x = b s + g z + a x in one pass. */
  return b->ops->axpbypgz(b, ps->x, ps->s, ps->z, ps->nb * ps->n, u.b, u.g, u.a);
}
