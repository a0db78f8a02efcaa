/* The sampler on MRI with an analytic Gaussian prior x ~ N(mu, tau^2 I),
 * where the posterior is known: T = the orthonormal FFT, so the prior is
 * white in k-space and, given the measured components, every unmeasured
 * component keeps its prior law (mean (F mu)(k), variance tau^2 / 2 for
 * its real and imaginary parts).
 *
 *  1. exact mode (Hermitian): measured k-space equals y (noise-free) in
 *     every sample, and the unmeasured components' sample means and
 *     variances match the closed form within 5 standard errors plus the
 *     sampler's discretisation bias, predicted by the variance recursion
 *     below (it shrinks as N grows for the predictor; the Langevin
 *     corrector's bias is ~snr^2 at any N);
 *  2. exact mode by CG gives the same samples as the Hermitian form (both
 *     are the orthogonal projection onto the same set);
 *  3. paper mode (the official step): measured columns whose mirror column
 *     is measured equal y, a column whose mirror is not does not.
 *
 * 16 x 16 images; measured columns 0 (Nyquist, its own mirror), 8 (DC),
 * 3 & 13 and 7 & 9 (mirror pairs) and 5 (mirror 11 unmeasured). */
#include <complex.h>
#include <math.h>
#include <stdio.h>

#include "sampler_test.h"

#define H 16
#define W 16
#define NPIX (H * W)
static const int cols[] = {0, 3, 5, 7, 8, 9, 13};
#define NCOLS ((int)(sizeof cols / sizeof cols[0]))
#define TAU 0.2

static int mirror(int i, int n) {
  return (n - i) % n;
}
static int col_measured(int c) {
  for (int k = 0; k < NCOLS; ++k)
    if (cols[k] == c) return 1;
  return 0;
}
static int col_measured_h(int c) {
  return col_measured(c) || col_measured(mirror(c, W));
}

/* The expected relative bias of the final variance of an unmeasured
 * coordinate, var = tau^2 (1 + bias), by propagating its variance V
 * through the sampler's linear updates (d = x - mu):
 *   corrector  V <- V (1 - eps c)^2 + 2 eps,   c = 1 / (tau^2 + sigma_i^2),
 *              eps = 2 snr^2 n / (c^2 (n_u V + D_m + n_m sigma_i^2))
 *              (E||z||^2 / E||s||^2 with the measured coordinates at y_hat)
 *   predictor  V <- V (1 - G_i^2 c)^2 + G_i^2
 *   denoise    V <- V (tau^2 / (tau^2 + sigma_eps^2))^2
 * It neglects the fluctuation of eps (O(1/n)). */
static double predicted_bias(const sr_sampler_params *p, double n_m, double d_m) {
  const double tau2 = TAU * TAU, n = NPIX, n_u = NPIX - n_m;
  double V = p->sde.sigma_max * p->sde.sigma_max;
  for (int i = 0; i < p->sde.n; ++i) {
    const float t = sr_sde_time(i, p->sde.n, (float)p->eps);
    double m, sigma;
    sr_sde_marginal(&p->sde, t, &m, &sigma);
    sigma = (float)sigma;
    const double c = 1.0 / (tau2 + sigma * sigma);
    if (p->corrector == SR_CORRECTOR_LANGEVIN)
      for (int j = 0; j < p->corrector_steps; ++j) {
        const double s2 = c * c * (n_u * V + d_m + n_m * sigma * sigma);
        const double eps = 2.0 * p->snr * p->snr * n / s2;
        V = V * (1.0 - eps * c) * (1.0 - eps * c) + 2.0 * eps;
      }
    const sr_sde_update u = sr_sde_reverse_diffusion(&p->sde, t);
    V = V * (1.0 - u.b * c) * (1.0 - u.b * c) + u.b;
  }
  double m, se;
  sr_sde_marginal(&p->sde, p->eps, &m, &se);
  se = (float)se;
  const double f = tau2 / (tau2 + se * se);
  return V * f * f / tau2 - 1.0;
}

/* M samples of the same slice (M slice keys, one sample each). */
static float *sample_many(st_problem *pb, const sr_sampler_params *sp, int M, char *method) {
  float *y_rep = (float *)malloc((size_t)M * pb->meas_floats * sizeof(float));
  float *x = (float *)malloc((size_t)M * NPIX * sizeof(float));
  for (int s = 0; s < M; ++s)
    memcpy(y_rep + (size_t)s * pb->meas_floats, pb->y, pb->meas_floats * sizeof(float));
  sr_sampler *smp = NULL;
  sr_status st = sr_sampler_create(pb->op, sp, sr_gaussian_prior_score, pb->prior, 256, &smp);
  if (st == SR_OK) st = sr_sampler_reconstruct(smp, y_rep, (size_t)M, 1000, 1, 256, x, NULL);
  CHECK_OK(pb->ctx, st);
  if (smp && method) snprintf(method, 16, "%s", sr_sampler_consistency_method(smp));
  sr_sampler_destroy(smp);
  free(y_rep);
  if (st != SR_OK) {
    free(x);
    return NULL;
  }
  return x;
}

/* Largest |T x - y| over the measured (Hermitian-extended when `ext`)
 * values of M samples, relative to max |y|. */
static double measured_error(st_problem *pb, const float *tx, int M, int ext) {
  const float complex *y = (const float complex *)pb->y;
  double ymax = 0.0, err = 0.0;
  for (int k = 0; k < NPIX; ++k) ymax = fmax(ymax, cabsf(y[k]));
  for (int s = 0; s < M; ++s) {
    const float complex *t = (const float complex *)tx + (size_t)s * NPIX;
    for (int r = 0; r < H; ++r)
      for (int c = 0; c < W; ++c) {
        float complex want;
        if (col_measured(c))
          want = y[r * W + c];
        else if (ext && col_measured(mirror(c, W)))
          want = conjf(y[mirror(r, H) * W + mirror(c, W)]);
        else
          continue;
        err = fmax(err, cabsf(t[r * W + c] - want));
      }
  }
  return err / ymax;
}

/* Checks the unmeasured components of M samples against the prior with
 * the predicted bias; prints the aggregate. */
static void check_unmeasured(st_problem *pb, const float *tx, int M, double bias,
                             const char *what) {
  float complex tmu[NPIX];
  CHECK_OK(pb->ctx, st_transform(pb, pb->mean, (float *)tmu, 1));
  const double v_exp = 0.5 * TAU * TAU * (1.0 + bias); /* var of Re, Im */
  double sum_ratio = 0.0;
  int n_comp = 0, bad_mean = 0, bad_var = 0;
  for (int r = 0; r < H; ++r)
    for (int c = 0; c < W; ++c) {
      if (col_measured_h(c)) continue;
      for (int part = 0; part < 2; ++part) {
        double sum = 0.0, sum2 = 0.0;
        for (int s = 0; s < M; ++s) {
          const float complex v = ((const float complex *)tx)[(size_t)s * NPIX + r * W + c];
          const double x = part ? cimagf(v) : crealf(v);
          sum += x;
          sum2 += x * x;
        }
        const double mean = sum / M, var = (sum2 - M * mean * mean) / (M - 1);
        const double mu = part ? cimagf(tmu[r * W + c]) : crealf(tmu[r * W + c]);
        /* 5 standard errors of the sample mean and variance. */
        if (fabs(mean - mu) > 5.0 * sqrt(v_exp / M)) ++bad_mean;
        if (fabs(var / v_exp - 1.0) > 5.0 * sqrt(2.0 / (M - 1))) ++bad_var;
        sum_ratio += var / (0.5 * TAU * TAU);
        ++n_comp;
      }
    }
  const double agg = sum_ratio / n_comp - 1.0;
  /* Re and Im of k and -k are two copies of the same coordinate: n_comp / 2
   * independent variance estimates. */
  const double se = sqrt(2.0 / (M - 1)) / sqrt(n_comp / 2.0);
  printf("%s: %d unmeasured components, variance bias %+.4f (predicted %+.4f, 5 s.e. %.4f)\n", what,
         n_comp, agg, bias, 5.0 * se);
  CHECK_MSG(bad_mean == 0, "%s: %d component means off by > 5 s.e.", what, bad_mean);
  CHECK_MSG(bad_var == 0, "%s: %d component variances off by > 5 s.e.", what, bad_var);
  CHECK_MSG(fabs(agg - bias) <= 5.0 * se + 0.01,
            "%s: aggregate variance bias %+.4f, predicted %+.4f", what, agg, bias);
}

static void exact_mode(st_problem *pb, int steps, sr_corrector_kind corr, int M, double *bias_out) {
  sr_sampler_params sp;
  sr_sampler_params_default(&sp);
  sp.sde.n = steps;
  sp.corrector = corr;
  sp.snr = 0.16;
  sp.seed = 7;
  sp.consistency.mode = SR_CONSISTENCY_EXACT;
  char method[16] = "";
  float *x = sample_many(pb, &sp, M, method);
  if (!x) return;
  CHECK(strcmp(method, "hermitian") == 0);
  float *tx = (float *)malloc((size_t)M * 2 * NPIX * sizeof(float));
  CHECK_OK(pb->ctx, st_transform(pb, x, tx, (size_t)M));
  /* D_m: the ground truth's squared distance to the prior mean on the
   * measured (extended) coordinates (Parseval in k-space). */
  float complex d[NPIX];
  float diff[NPIX];
  for (int i = 0; i < NPIX; ++i) diff[i] = pb->x0[i] - pb->mean[i];
  CHECK_OK(pb->ctx, st_transform(pb, diff, (float *)d, 1));
  double d_m = 0.0, n_m = 0.0;
  for (int i = 0; i < NPIX; ++i)
    if (col_measured_h(i % W)) d_m += (double)cabsf(d[i]) * cabsf(d[i]), n_m += 1.0;
  const double bias = predicted_bias(&sp, n_m, d_m);
  char what[96];
  snprintf(what, sizeof what, "exact N=%d %s", steps,
           corr == SR_CORRECTOR_LANGEVIN ? "langevin snr 0.16" : "predictor only");
  const double err = measured_error(pb, tx, M, 1);
  printf("%s: measured k-space vs y: max relative error %.2e\n", what, err);
  CHECK_MSG(err < 2e-6, "%s: measured components differ from y by %.3g", what, err);
  check_unmeasured(pb, tx, M, bias, what);
  if (bias_out) *bias_out = bias;
  free(tx);
  free(x);
}

/* Exact mode by CG and by the Hermitian extension draw the same samples. */
static void cg_equals_hermitian(st_problem *pb) {
  sr_sampler_params sp;
  sr_sampler_params_default(&sp);
  sp.sde.n = 40;
  sp.seed = 3;
  sp.consistency.mode = SR_CONSISTENCY_EXACT;
  sp.consistency.cg_delta = 1e-7;
  sp.consistency.cg_iters = 6;
  char m1[16] = "", m2[16] = "";
  float *xh = sample_many(pb, &sp, 4, m1);
  sp.consistency.solver = SR_EXACT_CG;
  float *xc = sample_many(pb, &sp, 4, m2);
  if (xh && xc) {
    CHECK(strcmp(m1, "hermitian") == 0 && strcmp(m2, "cg") == 0);
    const double rel = sr_test_rel_l2(xc, xh, 4 * NPIX);
    printf("exact mode, CG vs Hermitian: relative L2 difference %.2e\n", rel);
    CHECK_MSG(rel < 1e-4, "CG and Hermitian exact modes differ by %.3g", rel);
    float *tx = (float *)malloc(4 * 2 * NPIX * sizeof(float));
    CHECK_OK(pb->ctx, st_transform(pb, xc, tx, 4));
    const double err = measured_error(pb, tx, 4, 1);
    CHECK_MSG(err < 1e-5, "CG exact mode: measured components off by %.3g", err);
    free(tx);
  }
  free(xh);
  free(xc);
}

/* The official step: measured columns with a measured mirror column end at
 * y, column 5 (mirror 11 unmeasured) does not. */
static void paper_mode(st_problem *pb) {
  sr_sampler_params sp;
  sr_sampler_params_default(&sp);
  sp.sde.n = 60;
  sp.snr = 0.16;
  sp.seed = 11;
  sp.consistency.mode = SR_CONSISTENCY_PAPER;
  const int M = 8;
  char method[16] = "";
  float *x = sample_many(pb, &sp, M, method);
  if (!x) return;
  CHECK(strcmp(method, "paper") == 0);
  float *tx = (float *)malloc((size_t)M * 2 * NPIX * sizeof(float));
  CHECK_OK(pb->ctx, st_transform(pb, x, tx, (size_t)M));
  const float complex *y = (const float complex *)pb->y;
  double ymax = 0.0;
  for (int k = 0; k < NPIX; ++k) ymax = fmax(ymax, cabsf(y[k]));
  for (int ci = 0; ci < NCOLS; ++ci) {
    const int c = cols[ci];
    double err = 0.0, mean_dev = 0.0;
    for (int s = 0; s < M; ++s)
      for (int r = 0; r < H; ++r) {
        const float complex t = ((const float complex *)tx)[(size_t)s * NPIX + r * W + c];
        err = fmax(err, cabsf(t - y[r * W + c]));
        mean_dev += cabsf(t - y[r * W + c]) / (M * H);
      }
    const int paired = col_measured(mirror(c, W));
    printf("paper mode: column %2d (mirror %2d %s): max |Tx - y| / max|y| = %.2e, mean %.3g\n", c,
           mirror(c, W), paired ? "measured" : "unmeasured", err / ymax, mean_dev);
    if (paired)
      CHECK_MSG(err / ymax < 2e-6, "column %d with a measured mirror: |Tx - y| = %.3g", c, err);
    else /* pulled halfway each step: (y_hat(k) + conj X(-k)) / 2 */
      CHECK_MSG(err / ymax > 1e-4, "column %d without a measured mirror equals y (%.3g)", c,
                err / ymax);
  }
  free(tx);
  free(x);
}

/* The VP SDE end to end, unconditionally (no consistency): samples of the
 * Gaussian prior through VP's reverse diffusion + Langevin steps; pixel
 * means within 5 s.e. of mu and the pooled variance within 10% of tau^2
 * (VP's discretisation bias at N = 200 is a few percent). */
static void vp_unconditional(st_problem *pb) {
  sr_sde vp = sr_sde_default();
  vp.type = SR_SDE_TYPE_VP;
  vp.n = 200;
  sr_gaussian_prior *prior = NULL;
  CHECK_OK(pb->ctx, sr_gaussian_prior_create(sr_context_get_backend(pb->ctx), pb->mean, H, W, TAU,
                                             &vp, &prior));
  sr_sampler_params sp;
  sr_sampler_params_default(&sp);
  sp.sde = vp;
  sp.eps = 1e-3;
  sp.snr = 0.16;
  sp.consistency.mode = SR_CONSISTENCY_NONE;
  const int M = 256;
  float *y_rep = (float *)calloc((size_t)M * pb->meas_floats, sizeof(float));
  float *x = (float *)malloc((size_t)M * NPIX * sizeof(float));
  sr_sampler *smp = NULL;
  sr_status st = prior ? sr_sampler_create(pb->op, &sp, sr_gaussian_prior_score, prior, 256, &smp)
                       : SR_ERR_INVALID_ARGUMENT;
  if (st == SR_OK) st = sr_sampler_reconstruct(smp, y_rep, (size_t)M, 0, 1, 256, x, NULL);
  CHECK_OK(pb->ctx, st);
  if (st == SR_OK) {
    int bad = 0;
    double pooled = 0.0;
    for (int i = 0; i < NPIX; ++i) {
      double sum = 0.0, sum2 = 0.0;
      for (int s = 0; s < M; ++s)
        sum += x[s * NPIX + i], sum2 += (double)x[s * NPIX + i] * x[s * NPIX + i];
      const double mean = sum / M, var = (sum2 - M * mean * mean) / (M - 1);
      bad += fabs(mean - pb->mean[i]) > 5.0 * TAU / sqrt(M);
      pooled += var / NPIX;
    }
    printf("VP, unconditional: pooled variance / tau^2 = %.4f, %d pixel means off by > 5 s.e.\n",
           pooled / (TAU * TAU), bad);
    CHECK(bad == 0);
    CHECK_MSG(fabs(pooled / (TAU * TAU) - 1.0) < 0.1, "VP prior samples: variance ratio %.3g",
              pooled / (TAU * TAU));
  }
  sr_sampler_destroy(smp);
  sr_gaussian_prior_destroy(prior);
  free(y_rep);
  free(x);
}

int main(void) {
  /* One thread: the test is small, and forking per op costs more. */
  sr_context *ctx = st_context(SR_BACKEND_CPU, 1);
  if (!ctx) return 1;
  st_problem pb;
  if (st_mri_problem(ctx, H, W, cols, NCOLS, 1, TAU, &pb)) {
    double b_short = 0.0, b_long = 0.0;
    exact_mode(&pb, 100, SR_CORRECTOR_LANGEVIN, 512, NULL);
    exact_mode(&pb, 25, SR_CORRECTOR_NONE, 512, &b_short);
    exact_mode(&pb, 200, SR_CORRECTOR_NONE, 512, &b_long);
    CHECK_MSG(fabs(b_long) < 0.5 * fabs(b_short), "predictor bias does not shrink with N");
    cg_equals_hermitian(&pb);
    paper_mode(&pb);
    vp_unconditional(&pb);
  }
  st_free(&pb);
  sr_context_destroy(ctx);
  return sr_test_finish("test_sampler_mri");
}
