/* The paper's Fourier-domain CT (ct-fourier):
 *  - radial-line tables against the official formulas (goldens from
 *    tools/golden_ct_fourier.py): every sample on the same grid point, the
 *    same fractional (angle, radius) position;
 *  - T against a direct DFT of the padded image at random grid points, and
 *    T^-1 T = identity;
 *  - the Fourier-slice check: k-space built from a simulated sinogram
 *    (measurement_to_transform) agrees with T x on the Lambda points, within
 *    the stated tolerance (the projector integrates pixel boxes over
 *    detector cells, which damps high frequencies: sinc factors);
 *  - measured views win shared grid points; lines <-> k-space round trip. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "io/meas_operator.h"
#include "io/npy.h"
#include "operators/ct_fourier.h"
#include "operators/ct_fourier_internal.h"
#include "operators/ct_geometry.h"
#include "test_util.h"

#ifndef SR_TEST_DATA
#define SR_TEST_DATA "."
#endif
#define PI 3.14159265358979323846

static void test_tables(sr_context *ctx, int64_t n) {
  char path[1024];
  sr_array grid = {0}, polar = {0};
  snprintf(path, sizeof path, "%s/ctf_N%lld_grid.npy", SR_TEST_DATA, (long long)n);
  CHECK_OK(ctx, sr_npy_read(ctx, path, &grid));
  snprintf(path, sizeof path, "%s/ctf_N%lld_polar.npy", SR_TEST_DATA, (long long)n);
  CHECK_OK(ctx, sr_npy_read(ctx, path, &polar));
  if (!grid.data || !polar.data) return;
  sr_ct_fourier_params p = {.image_size = n};
  sr_ct_fourier_grid g;
  CHECK_OK(ctx, sr_ct_fourier_grid_make(ctx, &p, &g));
  CHECK(grid.shape[1] == g.n_full && grid.shape[2] == g.ed);
  size_t samples = (size_t)(g.n_full * g.ed), bad = 0, bad_polar = 0;
  const int32_t *yx = (const int32_t *)grid.data;
  const double *pol = (const double *)polar.data;
  for (size_t s = 0; s < samples; ++s) {
    int32_t q = yx[s] * (int32_t)g.ed + yx[samples + s];
    bad += g.line_to_grid[s] != q;
    double th, rr;
    sr_ct_fourier_polar(&g, (int64_t)s / g.ed, (int64_t)s % g.ed, &th, &rr);
    bad_polar += fabs(th - pol[s]) > 1e-9 || fabs(rr - pol[samples + s]) > 1e-9;
  }
  CHECK_MSG(bad == 0, "N=%lld: %zu of %zu line samples on another grid point", (long long)n, bad,
            samples);
  CHECK_MSG(bad_polar == 0, "N=%lld: %zu of %zu polar positions differ", (long long)n, bad_polar,
            samples);
  printf("N=%lld (D=%lld, ED=%lld): %zu samples match the official grid; Lambda %zu points\n",
         (long long)n, (long long)g.d, (long long)g.ed, samples, g.n_lambda);
  sr_ct_fourier_grid_release(&g);
  sr_array_free(&grid), sr_array_free(&polar);
}

/* A smooth phantom: a few ellipses, blurred edges (values in [0, 1]). */
static void phantom(float *x, int64_t n) {
  const double e[4][6] = {{0, 0, 0.72, 0.85, 0.0, 0.8},
                          {0.15, -0.1, 0.25, 0.4, 0.5, 0.3},
                          {-0.3, 0.25, 0.15, 0.2, -0.4, -0.4},
                          {0.2, 0.4, 0.1, 0.1, 0.0, 0.2}};
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double y = (double)(i - n / 2) / (n / 2), xx = (double)(j - n / 2) / (n / 2), v = 0.0;
      for (int k = 0; k < 4; ++k) {
        double c = cos(e[k][4]), s = sin(e[k][4]);
        double u = ((xx - e[k][0]) * c + (y - e[k][1]) * s) / e[k][2];
        double w = (-(xx - e[k][0]) * s + (y - e[k][1]) * c) / e[k][3];
        double r = sqrt(u * u + w * w);
        v += e[k][5] / (1.0 + exp((r - 1.0) * 12.0));
      }
      x[i * n + j] = (float)v;
    }
}

static void test_transform(sr_context *ctx, int64_t n) {
  sr_backend *b = sr_context_get_backend(ctx);
  sr_ct_fourier_params p = {.image_size = n};
  sr_operator *op = NULL;
  CHECK_OK(ctx, sr_ct_fourier_create(b, &p, &op));
  if (!op) return;
  int64_t ed = op->transform_h;
  size_t grid = (size_t)(ed * ed);
  float *x = (float *)malloc(2 * (size_t)(n * n) * sizeof(float));
  float *t = (float *)malloc(2 * 2 * grid * sizeof(float));
  float *back = (float *)malloc(2 * (size_t)(n * n) * sizeof(float));
  uint32_t st = 99;
  for (int64_t i = 0; i < 2 * n * n; ++i) {
    st = st * 1664525u + 1013904223u;
    x[i] = (float)(st >> 8) / 16777216.0f - 0.5f;
  }
  CHECK_OK(ctx, op->vt->transform(op, x, t, 2));
  CHECK_OK(ctx, op->vt->inverse_transform(op, t, back, 2));
  CHECK_MSG(sr_test_rel_l2(back, x, 2 * (size_t)(n * n)) < 1e-6, "T^-1 T != I: %.3g",
            sr_test_rel_l2(back, x, 2 * (size_t)(n * n)));
  /* T at a few grid points by the direct sum, pixel (i, j) at (i - N/2, j - N/2). */
  double worst = 0.0;
  for (int k = 0; k < 12; ++k) {
    int64_t ky = (k * 37 + 5) % ed, kx = (k * 53 + 11) % ed;
    double re = 0.0, im = 0.0, scale = 0.0;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double ph = -2.0 * PI * ((double)(ky * (i - n / 2)) + (double)(kx * (j - n / 2))) / ed;
        re += x[i * n + j] * cos(ph);
        im += x[i * n + j] * sin(ph);
        scale += fabs(x[i * n + j]);
      }
    const float *v = t + 2 * (size_t)(ky * ed + kx);
    double err = hypot(v[0] - re, v[1] - im) / scale;
    worst = err > worst ? err : worst;
  }
  CHECK_MSG(worst < 1e-6, "T vs direct DFT: %.3g", worst);
  sr_operator_destroy(op);
  free(x), free(t), free(back);
}

/* Fourier slice: known k-space from A x vs T x on Lambda, split by radius. */
static void test_fourier_slice(sr_context *ctx, int64_t n, int64_t n_keep) {
  sr_backend *b = sr_context_get_backend(ctx);
  int64_t rows[512];
  if (n_keep < n) CHECK_OK(ctx, sr_ct_sparse_rows(ctx, n, n_keep, rows));
  sr_ct_fourier_params p = {.image_size = n, .rows = n_keep < n ? rows : NULL, .n_keep = n_keep};
  sr_operator *op = NULL;
  CHECK_OK(ctx, sr_ct_fourier_create(b, &p, &op));
  if (!op) return;
  const sr_ct_fourier_grid *g = sr_ct_fourier_grid_of(op);
  int64_t ed = g->ed;
  size_t grid = (size_t)(ed * ed);
  float *x = (float *)malloc((size_t)(n * n) * sizeof(float));
  float *y = (float *)malloc(op->meas_elems * sizeof(float));
  float *known = (float *)malloc(2 * grid * sizeof(float)),
        *t = (float *)malloc(2 * grid * sizeof(float));
  phantom(x, n);
  CHECK_OK(ctx, op->vt->forward(op, x, y, 1));
  CHECK_OK(ctx, op->vt->measurement_to_transform(op, y, known, 1));
  CHECK_OK(ctx, op->vt->transform(op, x, t, 1));
  /* Radius of each grid point in cycles per pixel; bands below 0.1 and 0.25. */
  double num[3] = {0}, den[3] = {0};
  size_t outside = 0;
  for (size_t q = 0; q < grid; ++q) {
    if (g->mask[q] == 0.0f) {
      outside += known[2 * q] != 0.0f || known[2 * q + 1] != 0.0f;
      continue;
    }
    int64_t ky = (int64_t)q / ed, kx = (int64_t)q % ed;
    ky = ky >= ed / 2 ? ky - ed : ky;
    kx = kx >= ed / 2 ? kx - ed : kx;
    double rho = hypot((double)ky, (double)kx) / (double)ed;
    double dr = known[2 * q] - t[2 * q], di = known[2 * q + 1] - t[2 * q + 1];
    double e2 = dr * dr + di * di,
           m2 = (double)t[2 * q] * t[2 * q] + (double)t[2 * q + 1] * t[2 * q + 1];
    int band = rho < 0.1 ? 0 : rho < 0.25 ? 1 : 2;
    for (int k = band; k < 3; ++k) num[k] += e2, den[k] += m2;
  }
  double e_low = sqrt(num[0] / den[0]), e_mid = sqrt(num[1] / den[1]),
         e_all = sqrt(num[2] / den[2]);
  printf("Fourier slice N=%lld, %lld of %lld views, Lambda %zu points: relative L2 %.4f "
         "(|k| < 0.1 cyc/px), %.4f (< 0.25), %.4f (all)\n",
         (long long)n, (long long)n_keep, (long long)n, g->n_lambda, e_low, e_mid, e_all);
  CHECK(outside == 0);
  /* Measured: 0.8% with every view, 1.1% with 16 of 64 (N = 64). */
  CHECK_MSG(e_low < 0.02 && e_mid < 0.02 && e_all < 0.02,
            "Fourier slice disagreement %.4f / %.4f / %.4f above 0.02", e_low, e_mid, e_all);

  /* Measured views win: every point a kept line reaches is in Lambda. */
  size_t missing = 0;
  for (int64_t k = 0; k < g->n_keep; ++k)
    for (int64_t j = 0; j < ed; ++j)
      missing += g->mask[g->line_to_grid[g->rows[k] * ed + j]] != 1.0f;
  CHECK_MSG(missing == 0, "%zu samples of measured lines outside Lambda", missing);

  /* lines <-> k-space: reached points come back, the others are untouched. */
  float *lines = (float *)malloc(2 * (size_t)(g->n_full * ed) * sizeof(float));
  float *t2 = (float *)malloc(2 * grid * sizeof(float));
  CHECK_OK(ctx, sr_ct_fourier_kspace_to_lines(op, t, lines, 1));
  for (size_t q = 0; q < 2 * grid; ++q) t2[q] = 7.0f;
  CHECK_OK(ctx, sr_ct_fourier_lines_to_kspace(op, lines, t2, 1));
  double num2 = 0.0, den2 = 0.0;
  size_t untouched_bad = 0;
  for (size_t q = 0; q < grid; ++q) {
    if (g->winner[q] < 0) {
      untouched_bad += t2[2 * q] != 7.0f;
      continue;
    }
    double dr = t2[2 * q] - t[2 * q], di = t2[2 * q + 1] - t[2 * q + 1];
    num2 += dr * dr + di * di;
    den2 += (double)t[2 * q] * t[2 * q] + (double)t[2 * q + 1] * t[2 * q + 1];
  }
  CHECK_MSG(sqrt(num2 / den2) < 1e-5, "lines round trip %.3g", sqrt(num2 / den2));
  CHECK(untouched_bad == 0);
  free(lines), free(t2);
  sr_operator_destroy(op);
  free(x), free(y), free(known), free(t);
}

/* A CT measurement file's operator: ct-fourier when its geometry fits the
 * paper's transform, a clear refusal otherwise. */
static void test_from_meas(sr_context *ctx) {
  sr_backend *b = sr_context_get_backend(ctx);
  sr_meas m;
  memset(&m, 0, sizeof m);
  m.modality = SR_MODALITY_CT;
  int32_t idx[4] = {0, 11, 21, 31};
  float ang[4];
  for (int v = 0; v < 4; ++v) ang[v] = (float)(PI * idx[v] / 32.0);
  m.ct.nslices = 1, m.ct.n_views = 4, m.ct.image_h = m.ct.image_w = 32;
  m.ct.n_det = sr_ct_fourier_d(32);
  m.ct.angles = ang, m.ct.view_index = idx, m.ct.n_full = 32;
  m.ct.det_spacing = m.ct.pixel_spacing = 1.0;
  m.ct.noise_sigma = 0.25;
  sr_operator *op = NULL;
  CHECK_OK(ctx, sr_meas_make_operator(b, &m, SR_MEAS_OP_FOURIER, &op));
  CHECK(op && strcmp(op->vt->name, "ct-fourier") == 0 && op->noise_sigma == 0.25f);
  CHECK(op && sr_ct_fourier_grid_of(op)->n_keep == 4 && sr_ct_fourier_grid_of(op)->rows[1] == 11);
  sr_operator_destroy(op);
  CHECK_OK(ctx, sr_meas_make_operator(b, &m, SR_MEAS_OP_DEFAULT, &op));
  CHECK(op && strcmp(op->vt->name, "ct-parallel") == 0);
  sr_operator_destroy(op);
  m.ct.det_offset = 0.5;
  CHECK_FAILS(ctx, sr_meas_make_operator(b, &m, SR_MEAS_OP_FOURIER, &op), SR_ERR_UNSUPPORTED);
}

int main(void) {
  sr_context_options o = sr_context_options_default();
  o.backend = SR_BACKEND_CPU;
  sr_context *ctx = NULL;
  CHECK_OK(ctx, sr_context_create(&o, &ctx));
  test_tables(ctx, 20);
  test_tables(ctx, 24);
  test_transform(ctx, 20);
  test_transform(ctx, 24);
  test_fourier_slice(ctx, 64, 64);
  test_fourier_slice(ctx, 64, 16);
  test_from_meas(ctx);
  sr_context_destroy(ctx);
  return sr_test_finish("test_ct_fourier");
}
