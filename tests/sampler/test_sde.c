/* The SDEs and their discretisation against the formulas of score_sde's
 * sde_lib.py / sampling.py (and values worked out by hand). */
#include <math.h>
#include <string.h>

#include "sampler/sde.h"
#include "test_util.h"

static int close_rel(double a, double b, double tol) {
  return fabs(a - b) <= tol * fmax(fabs(a), fabs(b));
}

static void test_time_grid(void) {
  const sr_sde sde = sr_sde_default();
  CHECK(sr_sde_time(0, 1000, 1e-5f) == 1.0f);
  CHECK(sr_sde_time(999, 1000, 1e-5f) == 1e-5f);
  /* The predictor's grid index is N - 1 - i at every step for N = 1000 and
   * for other step counts the CLI accepts. */
  const int ns[] = {2, 10, 100, 999, 1000, 1001, 2000, 4000};
  for (size_t k = 0; k < sizeof ns / sizeof ns[0]; ++k) {
    sr_sde s = sde;
    s.n = ns[k];
    int bad = 0;
    for (int i = 0; i < s.n; ++i)
      bad += sr_sde_grid_index(&s, sr_sde_time(i, s.n, 1e-5f)) != s.n - 1 - i;
    CHECK_MSG(bad == 0, "N = %d: %d steps off the grid", s.n, bad);
  }
  /* Strictly decreasing times. */
  for (int i = 1; i < 1000; ++i)
    CHECK(sr_sde_time(i, 1000, 1e-5f) < sr_sde_time(i - 1, 1000, 1e-5f));
}

static void test_ve(void) {
  const sr_sde s = sr_sde_default();
  double m, std;
  sr_sde_marginal(&s, 1.0, &m, &std);
  CHECK(m == 1.0 && close_rel(std, 128.0, 1e-12));
  sr_sde_marginal(&s, 0.0, &m, &std);
  CHECK(close_rel(std, 0.01, 1e-12));
  sr_sde_marginal(&s, 0.5, &m, &std);
  CHECK(close_rel(std, sqrt(0.01 * 128.0), 1e-12));
  CHECK(sr_sde_prior_std(&s) == 128.0);
  /* Discrete grid: endpoints, geometric spacing, sigma_{-1} = 0. */
  CHECK(close_rel(sr_sde_discrete_sigma(&s, 0), 0.01, 1e-7));
  CHECK(close_rel(sr_sde_discrete_sigma(&s, 999), 128.0, 1e-7));
  CHECK(sr_sde_discrete_sigma(&s, -1) == 0.0);
  const double ratio = pow(12800.0, 1.0 / 999.0);
  CHECK(close_rel(sr_sde_discrete_sigma(&s, 500) / sr_sde_discrete_sigma(&s, 499), ratio, 1e-6));
  /* Reverse diffusion: G^2 = sigma_k^2 - sigma_{k-1}^2; the last step
   * (k = 0) adds sigma_min noise. */
  sr_sde_update u = sr_sde_reverse_diffusion(&s, sr_sde_time(999, 1000, 1e-5f));
  CHECK(u.a == 1.0f && close_rel(u.g, 0.01, 1e-6) && close_rel(u.b, 1e-4, 1e-6));
  u = sr_sde_reverse_diffusion(&s, sr_sde_time(0, 1000, 1e-5f));
  const double s9 = sr_sde_discrete_sigma(&s, 999), s8 = sr_sde_discrete_sigma(&s, 998);
  CHECK(close_rel(u.b, s9 * s9 - s8 * s8, 1e-6) && close_rel(u.g, sqrt(s9 * s9 - s8 * s8), 1e-6));
  /* Euler-Maruyama: g^2 / N = sigma^2 2 ln(sigma_max / sigma_min) / N. */
  u = sr_sde_euler_maruyama(&s, 0.5f);
  CHECK(close_rel(u.b, 0.01 * 128.0 * 2.0 * log(12800.0) / 1000.0, 1e-6));
  CHECK(close_rel((double)u.g * u.g, u.b, 1e-6));
  CHECK(sr_sde_langevin_alpha(&s, 0.3f) == 1.0);
  /* Tweedie at eps: x + sigma(eps)^2 s. */
  u = sr_sde_tweedie(&s, 1e-5f);
  sr_sde_marginal(&s, 1e-5, &m, &std);
  CHECK(u.a == 1.0f && close_rel(u.b, std * std, 1e-6) && u.g == 0.0f);
}

static void test_vp(void) {
  sr_sde s = sr_sde_default();
  s.type = SR_SDE_TYPE_VP;
  double m, std;
  sr_sde_marginal(&s, 1.0, &m, &std);
  /* log m(1) = -(20 - 0.1) / 4 - 0.1 / 2 */
  CHECK(close_rel(m, exp(-19.9 / 4.0 - 0.05), 1e-12));
  CHECK(close_rel(std, sqrt(1.0 - m * m), 1e-12));
  sr_sde_marginal(&s, 1e-3, &m, &std);
  CHECK(close_rel(std * std + m * m, 1.0, 1e-12));
  CHECK(sr_sde_prior_std(&s) == 1.0);
  CHECK(close_rel(sr_sde_discrete_beta(&s, 0), 0.1 / 1000, 1e-6));
  CHECK(close_rel(sr_sde_discrete_beta(&s, 999), 20.0 / 1000, 1e-6));
  const float t = sr_sde_time(10, 1000, 1e-5f);
  const double beta = sr_sde_discrete_beta(&s, 989);
  sr_sde_update u = sr_sde_reverse_diffusion(&s, t);
  CHECK(close_rel(u.a, 2.0 - sqrt(1.0 - beta), 1e-6) && close_rel(u.b, beta, 1e-6));
  CHECK(close_rel(sr_sde_langevin_alpha(&s, t), 1.0 - beta, 1e-6));
  u = sr_sde_euler_maruyama(&s, 0.5f);
  const double bt = 0.1 + 0.5 * 19.9;
  CHECK(close_rel(u.a, 1.0 + 0.5 * bt / 1000, 1e-6) && close_rel(u.b, bt / 1000, 1e-6));
  u = sr_sde_tweedie(&s, 1e-5f);
  sr_sde_marginal(&s, 1e-5, &m, &std);
  CHECK(close_rel(u.a, 1.0 / m, 1e-6) && close_rel(u.b, std * std / m, 1e-5));
}

static void test_validate(void) {
  sr_context_options o = sr_context_options_default();
  o.backend = SR_BACKEND_CPU;
  sr_context *ctx = NULL;
  CHECK_OK(ctx, sr_context_create(&o, &ctx));
  sr_sde s = sr_sde_default();
  CHECK_OK(ctx, sr_sde_validate(ctx, &s));
  s.sigma_min = 200.0;
  CHECK_FAILS(ctx, sr_sde_validate(ctx, &s), SR_ERR_INVALID_ARGUMENT);
  s = sr_sde_default();
  s.n = 0;
  CHECK_FAILS(ctx, sr_sde_validate(ctx, &s), SR_ERR_INVALID_ARGUMENT);
  sr_sde_type ty;
  CHECK_OK(ctx, sr_sde_type_parse(ctx, "vpsde", &ty));
  CHECK(ty == SR_SDE_TYPE_VP);
  CHECK_FAILS(ctx, sr_sde_type_parse(ctx, "subvpsde", &ty), SR_ERR_UNSUPPORTED);
  sr_context_destroy(ctx);
}

int main(void) {
  test_time_grid();
  test_ve();
  test_vp();
  test_validate();
  return sr_test_finish("test_sde");
}
