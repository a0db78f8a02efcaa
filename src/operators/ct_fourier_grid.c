/* The host tables of the Fourier-domain CT operator (see ct_fourier.h):
 * where each radial sample lands on the oversampled grid, which sample wins
 * each grid point, and the mask Lambda. Arithmetic follows the official
 * NumPy expressions operation by operation (double precision, round half to
 * even, Python's modulo), so the same grid points come out. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "operators/ct_fourier.h"
#include "operators/ct_fourier_internal.h"

int64_t sr_ct_fourier_d(int64_t n) {
  if (n < 1) return 0;
  /* pad_image: N + ceil(sqrt(2) N - N) = ceil(sqrt(2) N) (never an integer). */
  return n + (int64_t)ceil(sqrt(2.0) * (double)n - (double)n);
}

int64_t sr_ct_fourier_ed(int64_t d, double expansion) {
  if (d < 1 || !(expansion >= 1.0) || !isfinite(expansion)) return 0;
  int64_t ed = (int64_t)((double)d * expansion);
  return ed % 2 ? ed + 1 : ed;
}

/* numpy.linspace(start, stop, num): arange(num) * step + start, the last
 * value set to stop. */
double sr_ct_fourier_linspace(double start, double stop, int64_t num, int64_t i) {
  if (num > 1 && i == num - 1) return stop;
  double step = (stop - start) / (double)(num - 1);
  return (double)i * step + start;
}

double sr_ct_fourier_radius(int64_t d, int64_t ed, int64_t j) {
  if (d % 2 == 0) {
    double radius = (double)d / 2.0 - 0.5;
    return sr_ct_fourier_linspace(-radius, radius, ed, j) + -0.5;
  }
  double radius = (double)(d - 1) / 2.0;
  return sr_ct_fourier_linspace(-radius, radius, ed, j);
}

double sr_ct_fourier_angle(int64_t n_full, int64_t v) {
  /* linspace(0, pi, n_full, endpoint=False): step pi / n_full. */
  return (double)v * (M_PI_D / (double)n_full);
}

/* np.round(c * ed / d) as a signed grid coordinate. */
double sr_ct_fourier_round(double c, int64_t d, int64_t ed) {
  return rint(c * (double)ed / (double)d);
}

static int64_t wrap(double v, int64_t ed) {
  int64_t m = (int64_t)v % ed;
  return m < 0 ? m + ed : m;
}

sr_status sr_ct_fourier_grid_make(sr_context *ctx, const sr_ct_fourier_params *p,
                                  sr_ct_fourier_grid *g) {
  memset(g, 0, sizeof *g);
  if (p->image_size < 2 || p->image_size > 4096)
    return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT,
                   "Fourier-domain CT needs an image side in [2, 4096], got %lld",
                   (long long)p->image_size);
  int64_t n_full = p->n_full ? p->n_full : p->image_size;
  double expansion = p->expansion > 0.0 ? p->expansion : 4.0;
  int64_t d = sr_ct_fourier_d(p->image_size), ed = sr_ct_fourier_ed(d, expansion);
  if (n_full < 2 || n_full > 100000)
    return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT, "full view count %lld is out of range",
                   (long long)n_full);
  if (ed < 2 || expansion > 16.0 || (double)ed * (double)ed > 2147483647.0 ||
      (double)n_full * (double)ed > 2147483647.0)
    return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT,
                   "expansion %g gives a %lld-point grid: too large or invalid", expansion,
                   (long long)ed);
  int64_t n_keep = p->rows ? p->n_keep : n_full;
  if (n_keep < 1 || n_keep > n_full)
    return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT, "%lld kept views of %lld", (long long)n_keep,
                   (long long)n_full);
  g->n = p->image_size, g->d = d, g->ed = ed, g->n_full = n_full, g->n_keep = n_keep;
  size_t grid = (size_t)(ed * ed), samples = (size_t)(n_full * ed);
  g->rows = (int64_t *)malloc((size_t)n_keep * sizeof(int64_t));
  g->line_to_grid = (int32_t *)malloc(samples * sizeof(int32_t));
  g->winner = (int32_t *)malloc(grid * sizeof(int32_t));
  g->mask = (float *)calloc(grid, sizeof(float));
  unsigned char *kept = (unsigned char *)calloc((size_t)n_full, 1);
  if (!g->rows || !g->line_to_grid || !g->winner || !g->mask || !kept) {
    free(kept);
    sr_ct_fourier_grid_release(g);
    return sr_fail(ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate Fourier CT tables (%lld^2 grid)",
                   (long long)ed);
  }
  for (int64_t k = 0; k < n_keep; ++k) {
    int64_t r = p->rows ? p->rows[k] : k;
    if (r < 0 || r >= n_full || (k > 0 && r <= g->rows[k - 1])) {
      free(kept);
      sr_ct_fourier_grid_release(g);
      return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT,
                     "kept view rows must increase within [0, %lld); row %lld is %lld",
                     (long long)n_full, (long long)k, (long long)r);
    }
    g->rows[k] = r;
    kept[r] = 1;
  }
  for (size_t q = 0; q < grid; ++q) g->winner[q] = -1;
  /* Scatter in (view, sample) order: a later sample replaces an earlier one
   * of the same class, a measured one replaces an unmeasured one, never the
   * reverse. */
  for (int64_t v = 0; v < n_full; ++v) {
    double a = sr_ct_fourier_angle(n_full, v);
    double ca = cos(a), sa = sin(a);
    for (int64_t j = 0; j < ed; ++j) {
      double r = sr_ct_fourier_radius(d, ed, j);
      int64_t x = wrap(sr_ct_fourier_round(r * ca, d, ed), ed);
      int64_t y = wrap(sr_ct_fourier_round(-r * sa, d, ed), ed);
      int32_t q = (int32_t)(y * ed + x), s = (int32_t)(v * ed + j);
      g->line_to_grid[s] = q;
      int32_t prev = g->winner[q];
      if (prev < 0 || kept[v] || !kept[prev / ed]) g->winner[q] = s;
    }
  }
  for (size_t q = 0; q < grid; ++q) {
    if (g->winner[q] >= 0 && kept[g->winner[q] / ed]) {
      g->mask[q] = 1.0f;
      ++g->n_lambda;
    }
  }
  free(kept);
  return SR_OK;
}

void sr_ct_fourier_grid_release(sr_ct_fourier_grid *g) {
  if (!g) return;
  free(g->rows);
  free(g->line_to_grid);
  free(g->winner);
  free(g->mask);
  memset(g, 0, sizeof *g);
}

/* The official polar position of a line sample's grid point, from the
 * sample (its signs of zero decide theta = 0 or pi on the axis):
 *   round_z = round_x - 1j * round_y, r = |z| (negated and theta += pi when
 *   theta < 0), then both mapped to fractional indices of the (n_full, ED)
 *   slices array. */
void sr_ct_fourier_polar(const sr_ct_fourier_grid *g, int64_t v, int64_t j, double *theta_idx,
                         double *r_idx) {
  double a = sr_ct_fourier_angle(g->n_full, v), r = sr_ct_fourier_radius(g->d, g->ed, j);
  double dd = (double)g->d, ed = (double)g->ed;
  double cy = -r * sin(a), cx = r * cos(a);
  double ry = sr_ct_fourier_round(cy, g->d, g->ed) * dd / ed;
  double rx = sr_ct_fourier_round(cx, g->d, g->ed) * dd / ed;
  /* 1j * ry as NumPy multiplies complex numbers: (0 ry - 1 * 0) + (0 * 0 + 1 ry) i. */
  double jr = 0.0 * ry - 1.0 * 0.0, ji = 0.0 * 0.0 + 1.0 * ry;
  double zr = rx - jr, zi = 0.0 - ji;
  double rr = hypot(zr, zi), th = atan2(zi, zr);
  if (th < 0.0) {
    rr = -rr;
    th = th + M_PI_D;
  }
  double a_max = sr_ct_fourier_angle(g->n_full, g->n_full - 1);
  double r_min = sr_ct_fourier_radius(g->d, g->ed, 0),
         r_max = sr_ct_fourier_radius(g->d, g->ed, g->ed - 1);
  *theta_idx = (th - 0.0) / (a_max - 0.0) * (double)(g->n_full - 1);
  *r_idx = (rr - r_min) / (r_max - r_min) * (double)(g->ed - 1);
}
