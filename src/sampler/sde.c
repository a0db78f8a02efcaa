/* VE and VP SDEs as score_sde's sde_lib.py defines and discretises them. */
#include "sampler/sde.h"

#include <math.h>
#include <string.h>

#include "core/error.h"

sr_sde sr_sde_default(void) {
  sr_sde s;
  memset(&s, 0, sizeof s);
  s.type = SR_SDE_TYPE_VE;
  s.sigma_min = 0.01;
  s.sigma_max = 128.0;
  s.beta_min = 0.1;
  s.beta_max = 20.0;
  s.n = 1000;
  return s;
}

const char *sr_sde_type_name(sr_sde_type type) {
  return type == SR_SDE_TYPE_VE ? "vesde" : type == SR_SDE_TYPE_VP ? "vpsde" : "unknown";
}

sr_status sr_sde_type_parse(sr_context *ctx, const char *name, sr_sde_type *out) {
  if (strcmp(name, "vesde") == 0 || strcmp(name, "ve") == 0) {
    *out = SR_SDE_TYPE_VE;
    return SR_OK;
  }
  if (strcmp(name, "vpsde") == 0 || strcmp(name, "vp") == 0) {
    *out = SR_SDE_TYPE_VP;
    return SR_OK;
  }
  return sr_fail(ctx, SR_ERR_UNSUPPORTED, "SDE \"%s\" is not supported (vesde or vpsde)", name);
}

sr_status sr_sde_validate(sr_context *ctx, const sr_sde *s) {
  if (s->n < 1 || s->n > 1000000)
    return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT, "number of steps %d is outside [1, 1000000]",
                   s->n);
  if (s->type == SR_SDE_TYPE_VE) {
    if (!(isfinite(s->sigma_min) && isfinite(s->sigma_max) && s->sigma_min > 0.0 &&
          s->sigma_max > s->sigma_min))
      return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT,
                     "VE SDE needs 0 < sigma_min < sigma_max, got %g and %g", s->sigma_min,
                     s->sigma_max);
    return SR_OK;
  }
  if (s->type == SR_SDE_TYPE_VP) {
    if (!(isfinite(s->beta_min) && isfinite(s->beta_max) && s->beta_min > 0.0 &&
          s->beta_max > s->beta_min && s->beta_max < (double)s->n))
      return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT,
                     "VP SDE needs 0 < beta_min < beta_max < N, got %g, %g, N = %d", s->beta_min,
                     s->beta_max, s->n);
    return SR_OK;
  }
  return sr_fail(ctx, SR_ERR_UNSUPPORTED, "unknown SDE type %d", (int)s->type);
}

/* jnp.linspace(start, stop, num) in float32: start (1 - f) + stop f with
 * f = float32(i) / float32(num - 1); the endpoint is stop itself. */
static float linspace_f32(float start, float stop, int i, int num) {
  if (num <= 1) return start;
  if (i == num - 1) return stop;
  const float f = (float)i / (float)(num - 1);
  const float a = start * (1.0f - f);
  const float b = stop * f;
  return a + b;
}

float sr_sde_time(int i, int n, float eps) {
  return linspace_f32(1.0f, eps, i, n);
}

void sr_sde_marginal(const sr_sde *s, double t, double *mean_coeff, double *std) {
  if (s->type == SR_SDE_TYPE_VE) {
    *mean_coeff = 1.0;
    *std = s->sigma_min * pow(s->sigma_max / s->sigma_min, t);
    return;
  }
  /* log m(t) = -t^2 (b1 - b0) / 4 - t b0 / 2; std = sqrt(1 - m^2). */
  const double log_m = -0.25 * t * t * (s->beta_max - s->beta_min) - 0.5 * t * s->beta_min;
  *mean_coeff = exp(log_m);
  *std = sqrt(-expm1(2.0 * log_m));
}

double sr_sde_prior_std(const sr_sde *s) {
  return s->type == SR_SDE_TYPE_VE ? s->sigma_max : 1.0;
}

int sr_sde_grid_index(const sr_sde *s, float t) {
  /* timestep = (t * (N - 1) / T).astype(int32), T = 1, all float32. */
  float v = t * (float)(s->n - 1);
  v = v / 1.0f;
  int k = (int)v;
  if (k < 0) k = 0;
  if (k > s->n - 1) k = s->n - 1;
  return k;
}

double sr_sde_discrete_sigma(const sr_sde *s, int k) {
  if (k < 0) return 0.0;
  if (s->n == 1) return s->sigma_min;
  /* exp(np.linspace(log sigma_min, log sigma_max, N))[k], float64 linspace:
   * start + k (stop - start) / (N - 1), the endpoint exact. */
  const double lo = log(s->sigma_min), hi = log(s->sigma_max);
  const double v = k == s->n - 1 ? hi : lo + (double)k * ((hi - lo) / (double)(s->n - 1));
  return (double)(float)exp(v);
}

double sr_sde_discrete_beta(const sr_sde *s, int k) {
  return (double)linspace_f32((float)(s->beta_min / s->n), (float)(s->beta_max / s->n), k, s->n);
}

sr_sde_update sr_sde_reverse_diffusion(const sr_sde *s, float t) {
  sr_sde_update u;
  const int k = sr_sde_grid_index(s, t);
  if (s->type == SR_SDE_TYPE_VE) {
    /* f = 0, G = sqrt(sigma_k^2 - sigma_{k-1}^2):
     * x_mean = x - (f - G^2 s) = x + G^2 s, x = x_mean + G z. */
    const double sk = sr_sde_discrete_sigma(s, k), sk1 = sr_sde_discrete_sigma(s, k - 1);
    const double g2 = sk * sk - sk1 * sk1;
    u.a = 1.0f;
    u.b = (float)g2;
    u.g = (float)sqrt(g2);
    return u;
  }
  /* DDPM: f = sqrt(alpha_k) x - x, G = sqrt(beta_k):
   * x_mean = x - f + G^2 s = (2 - sqrt(alpha_k)) x + beta_k s. */
  const double beta = sr_sde_discrete_beta(s, k);
  u.a = (float)(2.0 - sqrt(1.0 - beta));
  u.b = (float)beta;
  u.g = (float)sqrt(beta);
  return u;
}

sr_sde_update sr_sde_euler_maruyama(const sr_sde *s, float t) {
  sr_sde_update u;
  const double n = (double)s->n;
  if (s->type == SR_SDE_TYPE_VE) {
    double m, sigma;
    sr_sde_marginal(s, t, &m, &sigma);
    const double g2 = sigma * sigma * 2.0 * log(s->sigma_max / s->sigma_min);
    u.a = 1.0f;
    u.b = (float)(g2 / n);
    u.g = (float)sqrt(g2 / n);
    return u;
  }
  const double beta_t = s->beta_min + (double)t * (s->beta_max - s->beta_min);
  u.a = (float)(1.0 + 0.5 * beta_t / n);
  u.b = (float)(beta_t / n);
  u.g = (float)sqrt(beta_t / n);
  return u;
}

double sr_sde_langevin_alpha(const sr_sde *s, float t) {
  if (s->type == SR_SDE_TYPE_VE) return 1.0;
  return 1.0 - sr_sde_discrete_beta(s, sr_sde_grid_index(s, t));
}

sr_sde_update sr_sde_tweedie(const sr_sde *s, float eps) {
  double m, std;
  sr_sde_marginal(s, eps, &m, &std);
  sr_sde_update u;
  u.a = (float)(1.0 / m);
  u.b = (float)(std * std / m);
  u.g = 0.0f;
  return u;
}
