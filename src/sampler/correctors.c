/* Correctors: Langevin MCMC at a fixed noise level t_i,
 *   x <- x + eps s(x, t_i) + sqrt(2 eps) z,
 * with score_sde's step sizes:
 *   langevin (the paper's):  eps = 2 alpha (snr ||z|| / ||s||)^2
 *   ald (NCSN's annealed):   eps = 2 alpha (snr std(t_i))^2
 * alpha = 1 (VE) or alpha_k (VP). The norms are per item (our default:
 * each item's step depends on that item only) or, as the official code
 * computes them, the means over the batch of the per-item norms. */
#include <math.h>

#include "core/error.h"
#include "sampler/pc_steps.h"

sr_status sr_corrector_steps(sr_pc_state *ps, sr_corrector_kind kind, float t, double sigma,
                             double snr, int steps, int batch_average, uint32_t i) {
  if (kind == SR_CORRECTOR_NONE) return SR_OK;
  sr_backend *b = ps->b;
  const size_t nb = ps->nb, n = ps->n;
  const double alpha = sr_sde_langevin_alpha(ps->sde, t);
  for (int j = 0; j < steps; ++j) {
    SR_TRY(sr_pc_score(ps, t, sigma));
    SR_TRY(sr_noise_draw(b, ps->seed, ps->items, nb, ps->z, n, SR_DRAW_LANGEVIN,
                         i * (uint32_t)steps + (uint32_t)j));
    if (kind == SR_CORRECTOR_LANGEVIN) {
      SR_TRY(b->ops->nrm2_batched(b, ps->s, nb, n, ps->nrm_s));
      SR_TRY(b->ops->nrm2_batched(b, ps->z, nb, n, ps->nrm_z));
      if (batch_average) {
        double gs = 0.0, gz = 0.0;
        for (size_t k = 0; k < nb; ++k) gs += ps->nrm_s[k], gz += ps->nrm_z[k];
        for (size_t k = 0; k < nb; ++k) ps->nrm_s[k] = gs / nb, ps->nrm_z[k] = gz / nb;
      }
      for (size_t k = 0; k < nb; ++k) {
        const double r = ps->nrm_s[k] > 0.0 ? snr * ps->nrm_z[k] / ps->nrm_s[k] : 0.0;
        const double eps = 2.0 * alpha * r * r;
        ps->coef_s[k] = (float)eps;
        ps->coef_z[k] = (float)sqrt(2.0 * eps);
      }
    } else {
      const double r = snr * sigma;
      const double eps = 2.0 * alpha * r * r;
      for (size_t k = 0; k < nb; ++k) {
        ps->coef_s[k] = (float)eps;
        ps->coef_z[k] = (float)sqrt(2.0 * eps);
      }
    }
    /* x = x + eps s, then x = x + sqrt(2 eps) z (per item). */
    SR_TRY(b->ops->axpby_batched(b, ps->x, ps->s, nb, n, ps->coef_s, ps->ones));
    SR_TRY(b->ops->axpby_batched(b, ps->x, ps->z, nb, n, ps->coef_z, ps->ones));
  }
  return SR_OK;
}
