/* Backend-independent parts of the CT projector: ramp filter spectra and the
 * plan's common half. See ct_projection.h. */
#include "backend/ct_projection.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"

static const char *const filter_names[SR_CT_FILTER_COUNT] = {"ram-lak", "shepp-logan", "cosine",
                                                             "hamming", "hann"};

const char *sr_ct_filter_name(sr_ct_filter filter) {
  return (unsigned)filter < SR_CT_FILTER_COUNT ? filter_names[filter] : NULL;
}

int sr_ct_filter_parse(const char *name, sr_ct_filter *out) {
  if (!name) return -1;
  if (strcmp(name, "ramp") == 0) {
    *out = SR_CT_FILTER_RAM_LAK;
    return 0;
  }
  for (int f = 0; f < SR_CT_FILTER_COUNT; ++f) {
    if (strcmp(name, filter_names[f]) == 0) {
      *out = (sr_ct_filter)f;
      return 0;
    }
  }
  return -1;
}

int64_t sr_ct_filter_padded_size(int64_t n_det) {
  int64_t p = 64;
  while (p < 2 * n_det) p *= 2;
  return p;
}

/* scikit-image's window value at FFT index i of `padded` (before taking the
 * even part). */
static double window_at(sr_ct_filter filter, int64_t i, int64_t padded) {
  const double pi = 3.14159265358979323846;
  const double p = (double)padded;
  /* fftshift of an even-length array: index i holds element (i + P/2) mod P. */
  const double shifted = (double)((i + padded / 2) % padded);
  switch (filter) {
  case SR_CT_FILTER_RAM_LAK: return 1.0;
  case SR_CT_FILTER_SHEPP_LOGAN: {
    if (i == 0) return 1.0;
    /* np.fft.fftfreq: i / P below P/2, (i - P) / P from P/2 on. */
    double omega = pi * (double)(i < padded / 2 ? i : i - padded) / p;
    return sin(omega) / omega;
  }
  case SR_CT_FILTER_COSINE: return sin(pi * shifted / p);
  case SR_CT_FILTER_HAMMING: return 0.54 - 0.46 * cos(2.0 * pi * shifted / (p - 1.0));
  case SR_CT_FILTER_HANN: return 0.5 - 0.5 * cos(2.0 * pi * shifted / (p - 1.0));
  case SR_CT_FILTER_COUNT: break;
  }
  return 0.0;
}

void sr_ct_filter_spectrum(sr_ct_filter filter, int64_t padded, double *out) {
  const double pi = 3.14159265358979323846;
  const int64_t half = padded / 2;
  /* cos(2π k / P) for every k: cos(2π f n / P) = table[(f n) mod P], so the
   * O(P^2 / 4) sum below makes no libm calls. */
  double *table = (double *)malloc((size_t)padded * sizeof *table);
  if (!table) {
    /* Never fails for the sizes used (a few kB); keep the output defined. */
    for (int64_t f = 0; f <= half; ++f) out[f] = 0.0;
    return;
  }
  for (int64_t k = 0; k < padded; ++k) table[k] = cos(2.0 * pi * (double)k / (double)padded);
  /* H[f] = h[0] + sum over odd i of h[i] cos(2π f i / P), where h[i] = h[P - i]
   * = -1 / (π n)^2 with n = min(i, P - i): each odd n < P/2 appears twice. */
  for (int64_t f = 0; f <= half; ++f) {
    double acc = 0.0;
    for (int64_t n = half - 1; n >= 1; n -= 2) /* small terms first */
      acc += table[(f * n) % padded] / ((double)n * (double)n);
    double ramp = 0.25 - 2.0 * acc / (pi * pi);
    double w =
        0.5 * (window_at(filter, f, padded) + window_at(filter, (padded - f) % padded, padded));
    out[f] = ramp * w;
  }
  free(table);
}

sr_status sr_ct_plan_alloc(sr_context *ctx, const sr_ct_projection *proj, sr_ct_plan **out) {
  *out = NULL;
  if (!proj || !proj->views)
    return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT, "CT projector: no view table");
  /* Indices are 32-bit inside the projector; a line position must stay far
   * from float's integer limit so that edge positions keep sub-pixel bits. */
  const int64_t max_dim = 1 << 20;
  if (proj->image_h < 1 || proj->image_w < 1 || proj->image_h > max_dim || proj->image_w > max_dim)
    return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT,
                   "CT projector: image %lld x %lld (each side must be 1 .. %lld)",
                   (long long)proj->image_h, (long long)proj->image_w, (long long)max_dim);
  if (proj->n_det < 1 || proj->n_det > max_dim)
    return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT, "CT projector: %lld detector bins (1 .. %lld)",
                   (long long)proj->n_det, (long long)max_dim);
  if (proj->n_angles < 1 || proj->n_angles > max_dim)
    return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT, "CT projector: %lld views (1 .. %lld)",
                   (long long)proj->n_angles, (long long)max_dim);
  if (proj->image_h * proj->image_w > INT32_MAX || proj->n_angles * proj->n_det > INT32_MAX)
    return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT,
                   "CT projector: an image or sinogram of more than 2^31 values");
  if (!isfinite(proj->coef) || proj->coef <= 0.0f)
    return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT, "CT projector: weight scale %g", proj->coef);
  for (int64_t a = 0; a < proj->n_angles; ++a) {
    const sr_ct_view *v = &proj->views[a];
    if (!isfinite(v->alpha) || !isfinite(v->beta0) || !isfinite(v->gamma) || v->alpha == 0.0f ||
        (v->major != SR_CT_ROWS && v->major != SR_CT_COLUMNS))
      return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT, "CT projector: view %lld is malformed",
                     (long long)a);
  }
  sr_ct_plan *p = (sr_ct_plan *)calloc(1, sizeof *p);
  sr_ct_view *views = (sr_ct_view *)malloc((size_t)proj->n_angles * sizeof *views);
  if (!p || !views) {
    free(p);
    free(views);
    return sr_fail(ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate a CT projector plan");
  }
  memcpy(views, proj->views, (size_t)proj->n_angles * sizeof *views);
  p->proj = *proj;
  p->proj.views = views;
  *out = p;
  return SR_OK;
}

void sr_ct_plan_release(sr_ct_plan *plan) {
  if (!plan) return;
  free((void *)plan->proj.views);
  free(plan);
}
