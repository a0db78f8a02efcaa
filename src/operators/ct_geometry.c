/* Parallel-beam CT geometry: construction, validation, sparse-view subsets
 * and the projector tables (see ct_geometry.h for the conventions). */
#include "operators/ct_geometry.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

#define CT_MAX_SIDE ((int64_t)1 << 20)

static const double kPi = 3.14159265358979323846;

int64_t sr_ct_default_n_det(int64_t image_h, int64_t image_w) {
  int64_t n = image_h > image_w ? image_h : image_w;
  /* √2 n is never an integer, so ceil has no tie to worry about. */
  return (int64_t)ceil(sqrt(2.0) * (double)n);
}

static sr_status alloc_angles(sr_context *ctx, int64_t n, double **out) {
  *out = NULL;
  if (n < 1 || n > CT_MAX_SIDE)
    return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT, "CT geometry: %lld angles (need 1 .. %lld)",
                   (long long)n, (long long)CT_MAX_SIDE);
  *out = (double *)malloc((size_t)n * sizeof **out);
  if (!*out) return sr_fail(ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate %lld angles", (long long)n);
  return SR_OK;
}

static sr_status check_image(sr_context *ctx, int64_t h, int64_t w) {
  if (h < 1 || w < 1 || h > CT_MAX_SIDE || w > CT_MAX_SIDE)
    return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT,
                   "CT geometry: image %lld x %lld (each side must be 1 .. %lld)", (long long)h,
                   (long long)w, (long long)CT_MAX_SIDE);
  return SR_OK;
}

static void set_defaults(sr_ct_geometry *g, int64_t h, int64_t w, int64_t n_angles,
                         double *angles) {
  memset(g, 0, sizeof *g);
  g->image_h = h;
  g->image_w = w;
  g->pixel_size = 1.0;
  g->n_det = sr_ct_default_n_det(h, w);
  g->det_spacing = 1.0;
  g->det_offset = 0.0;
  g->n_angles = n_angles;
  g->angles = angles;
}

sr_status sr_ct_geometry_init(sr_context *ctx, sr_ct_geometry *g, int64_t image_h, int64_t image_w,
                              int64_t n_angles) {
  memset(g, 0, sizeof *g);
  SR_TRY(check_image(ctx, image_h, image_w));
  double *angles = NULL;
  SR_TRY(alloc_angles(ctx, n_angles, &angles));
  /* NumPy's linspace(0, π, n, endpoint=False): a * (π / n). */
  const double step = kPi / (double)n_angles;
  for (int64_t a = 0; a < n_angles; ++a) angles[a] = (double)a * step;
  set_defaults(g, image_h, image_w, n_angles, angles);
  return SR_OK;
}

sr_status sr_ct_geometry_init_angles(sr_context *ctx, sr_ct_geometry *g, int64_t image_h,
                                     int64_t image_w, const double *angles, int64_t n_angles) {
  memset(g, 0, sizeof *g);
  SR_TRY(check_image(ctx, image_h, image_w));
  if (!angles) return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT, "CT geometry: no angle list");
  double *copy = NULL;
  SR_TRY(alloc_angles(ctx, n_angles, &copy));
  memcpy(copy, angles, (size_t)n_angles * sizeof *copy);
  set_defaults(g, image_h, image_w, n_angles, copy);
  return SR_OK;
}

sr_status sr_ct_geometry_copy(sr_context *ctx, const sr_ct_geometry *src, sr_ct_geometry *dst) {
  memset(dst, 0, sizeof *dst);
  if (!src->angles) return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT, "CT geometry: no angle list");
  double *copy = NULL;
  SR_TRY(alloc_angles(ctx, src->n_angles, &copy));
  memcpy(copy, src->angles, (size_t)src->n_angles * sizeof *copy);
  *dst = *src;
  dst->angles = copy;
  return SR_OK;
}

void sr_ct_geometry_release(sr_ct_geometry *g) {
  if (!g) return;
  free(g->angles);
  memset(g, 0, sizeof *g);
}

sr_status sr_ct_geometry_validate(sr_context *ctx, const sr_ct_geometry *g) {
  if (!g) return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT, "CT geometry: none given");
  SR_TRY(check_image(ctx, g->image_h, g->image_w));
  if (!isfinite(g->pixel_size) || g->pixel_size <= 0.0)
    return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT,
                   "CT geometry: pixel size %g (must be positive and finite)", g->pixel_size);
  if (!isfinite(g->det_spacing) || g->det_spacing <= 0.0)
    return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT,
                   "CT geometry: detector spacing %g (must be positive and finite)",
                   g->det_spacing);
  if (g->n_det < 1 || g->n_det > CT_MAX_SIDE)
    return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT, "CT geometry: %lld detector bins (need 1 .. %lld)",
                   (long long)g->n_det, (long long)CT_MAX_SIDE);
  if (!isfinite(g->det_offset) || fabs(g->det_offset) > (double)g->n_det)
    return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT,
                   "CT geometry: detector offset %g bins (must be finite, at most n_det = %lld)",
                   g->det_offset, (long long)g->n_det);
  const double side = (double)(g->image_h > g->image_w ? g->image_h : g->image_w);
  if (!isfinite(g->center_x) || !isfinite(g->center_y) || fabs(g->center_x) > side ||
      fabs(g->center_y) > side)
    return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT,
                   "CT geometry: rotation centre offset (%g, %g) pixels (must be finite, within "
                   "the image)",
                   g->center_x, g->center_y);
  if (g->n_angles < 1 || g->n_angles > CT_MAX_SIDE)
    return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT, "CT geometry: %lld angles (need 1 .. %lld)",
                   (long long)g->n_angles, (long long)CT_MAX_SIDE);
  if (!g->angles) return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT, "CT geometry: no angle list");
  for (int64_t a = 0; a < g->n_angles; ++a) {
    if (!isfinite(g->angles[a]))
      return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT, "CT geometry: angle %lld is %g", (long long)a,
                     g->angles[a]);
    if (fabs(g->angles[a]) > 2.0 * kPi + 1e-9)
      return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT,
                     "CT geometry: angle %lld is %g, outside [-2π, 2π]: angles are in radians",
                     (long long)a, g->angles[a]);
  }
  const int64_t small = g->image_h < g->image_w ? g->image_h : g->image_w;
  const double width = (double)g->n_det * g->det_spacing, need = (double)small * g->pixel_size;
  if (width < need * (1.0 - 1e-12))
    return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT,
                   "CT geometry: %lld detector bins of %g span %g, less than the %g of the "
                   "image's inscribed circle: every projection would be truncated (use at least "
                   "%lld bins; the default %lld covers the whole image)",
                   (long long)g->n_det, g->det_spacing, width, need,
                   (long long)ceil(need / g->det_spacing),
                   (long long)ceil(sr_ct_default_n_det(g->image_h, g->image_w) * g->pixel_size /
                                   g->det_spacing));
  return SR_OK;
}

sr_status sr_ct_sparse_rows(sr_context *ctx, int64_t n_full, int64_t n_keep, int64_t *rows) {
  if (n_full < 1 || n_keep < 1 || n_keep > n_full)
    return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT,
                   "sparse views: keeping %lld of %lld views (need 1 <= kept <= all)",
                   (long long)n_keep, (long long)n_full);
  if (n_keep == 1) {
    rows[0] = 0;
    return SR_OK;
  }
  /* As np.linspace: step = (stop - start) / (num - 1), y = i * step, and the
   * last value set to stop exactly; np.round is half to even, as rint is in
   * the default rounding mode. */
  const double step = (double)(n_full - 1) / (double)(n_keep - 1);
  for (int64_t i = 0; i < n_keep - 1; ++i) rows[i] = (int64_t)nearbyint((double)i * step);
  rows[n_keep - 1] = n_full - 1;
  return SR_OK;
}

sr_status sr_ct_geometry_subset(sr_context *ctx, const sr_ct_geometry *full, const int64_t *rows,
                                int64_t n, sr_ct_geometry *out) {
  memset(out, 0, sizeof *out);
  if (!full->angles) return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT, "CT geometry: no angle list");
  double *angles = NULL;
  SR_TRY(alloc_angles(ctx, n, &angles));
  for (int64_t i = 0; i < n; ++i) {
    if (rows[i] < 0 || rows[i] >= full->n_angles || (i > 0 && rows[i] <= rows[i - 1])) {
      free(angles);
      return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT,
                     "sparse views: view %lld of %lld views (views must be increasing and in "
                     "range)",
                     (long long)rows[i], (long long)full->n_angles);
    }
    angles[i] = full->angles[rows[i]];
  }
  *out = *full;
  out->n_angles = n;
  out->angles = angles;
  return SR_OK;
}

sr_status sr_ct_geometry_sparse(sr_context *ctx, const sr_ct_geometry *full, int64_t n_keep,
                                sr_ct_geometry *out, int64_t *rows_out) {
  memset(out, 0, sizeof *out);
  if (n_keep < 1 || n_keep > full->n_angles)
    return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT,
                   "sparse views: keeping %lld of %lld views (need 1 <= kept <= all)",
                   (long long)n_keep, (long long)full->n_angles);
  int64_t *rows = (int64_t *)malloc((size_t)n_keep * sizeof *rows);
  if (!rows)
    return sr_fail(ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate %lld rows", (long long)n_keep);
  sr_status st = sr_ct_sparse_rows(ctx, full->n_angles, n_keep, rows);
  if (st == SR_OK) st = sr_ct_geometry_subset(ctx, full, rows, n_keep, out);
  if (st == SR_OK && rows_out) memcpy(rows_out, rows, (size_t)n_keep * sizeof *rows);
  free(rows);
  return st;
}

sr_status sr_ct_geometry_projection(sr_context *ctx, const sr_ct_geometry *g, sr_ct_view *views,
                                    sr_ct_projection *proj) {
  SR_TRY(sr_ct_geometry_validate(ctx, g));
  const double r = g->det_spacing / g->pixel_size; /* bins in pixel units */
  const double cdet = (double)(g->n_det / 2) + g->det_offset;
  const double cx = (double)(g->image_w / 2) + g->center_x;
  const double cy = (double)(g->image_h / 2) + g->center_y;
  for (int64_t a = 0; a < g->n_angles; ++a) {
    const double c = cos(g->angles[a]), s = sin(g->angles[a]);
    double alpha, gamma, beta0;
    int major;
    /* Edge m of the detector sits at u = (m - 1/2 - cdet) r pixels. */
    if (fabs(c) >= fabs(s)) {
      /* Rays closer to vertical: walk rows. Row Y = l - cy meets the edge at
       * column X + cx with X = u / cos θ + Y tan θ. */
      major = SR_CT_ROWS;
      alpha = r / c;
      gamma = s / c;
      beta0 = (-0.5 - cdet) * alpha - cy * gamma + cx;
    } else {
      /* Walk columns: column X = l - cx meets it at row Y + cy with
       * Y = -u / sin θ + X cot θ. */
      major = SR_CT_COLUMNS;
      alpha = -r / s;
      gamma = c / s;
      beta0 = (-0.5 - cdet) * alpha - cx * gamma + cy;
    }
    views[a].alpha = (float)alpha;
    views[a].beta0 = (float)beta0;
    views[a].gamma = (float)gamma;
    views[a].major = major;
  }
  proj->image_h = g->image_h;
  proj->image_w = g->image_w;
  proj->n_angles = g->n_angles;
  proj->n_det = g->n_det;
  /* A cell's value is (1 / |alpha|) x (step along the ray, ps / |cos θ|) x
   * (overlap in pixels): ps^2 / ds for every view. */
  proj->coef = (float)(g->pixel_size * g->pixel_size / g->det_spacing);
  proj->views = views;
  return SR_OK;
}

/* The offset, on a grid `factor` times finer (centre index factor n / 2), of
 * the point at index n / 2 + offset of the coarse grid: coarse cell i covers
 * fine cells factor i .. factor i + factor - 1, centred on
 * factor i + (factor - 1) / 2. */
static double fine_offset(int64_t coarse_n, double coarse_offset, int factor) {
  const double f = (double)factor;
  return f * (double)(coarse_n / 2) + f * coarse_offset + 0.5 * (f - 1.0) -
         (double)((factor * coarse_n) / 2);
}

sr_status sr_ct_geometry_upsampled(sr_context *ctx, const sr_ct_geometry *g, int factor,
                                   sr_ct_geometry *out) {
  memset(out, 0, sizeof *out);
  SR_TRY(sr_ct_geometry_validate(ctx, g));
  if (factor < 1 || factor > 16 || g->image_h * factor > CT_MAX_SIDE ||
      g->image_w * factor > CT_MAX_SIDE || g->n_det * factor > CT_MAX_SIDE)
    return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT,
                   "CT geometry: upsampling by %d (1 .. 16, at most %lld pixels or bins a side)",
                   factor, (long long)CT_MAX_SIDE);
  SR_TRY(sr_ct_geometry_copy(ctx, g, out));
  out->image_h = g->image_h * factor;
  out->image_w = g->image_w * factor;
  out->pixel_size = g->pixel_size / factor;
  out->center_x = fine_offset(g->image_w, g->center_x, factor);
  out->center_y = fine_offset(g->image_h, g->center_y, factor);
  out->n_det = g->n_det * factor;
  out->det_spacing = g->det_spacing / factor;
  out->det_offset = fine_offset(g->n_det, g->det_offset, factor);
  return SR_OK;
}

double sr_ct_fbp_scale(const sr_ct_geometry *g) {
  return kPi / ((double)g->n_angles * g->pixel_size * g->pixel_size);
}
