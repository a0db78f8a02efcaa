/* PSNR, SSIM and NMSE against scikit-image (goldens from
 * tools/golden_ssim.py): SSIM to 1e-6 (the issue asks 1e-4; both sides
 * compute in double), PSNR to 1e-9 dB relative, NMSE to 1e-9 relative; and
 * the edge cases (identical images, too small a slice, bad data range). */
#include <math.h>
#include <string.h>

#include "io/npy.h"
#include "metrics/image_metrics.h"
#include "test_util.h"

#ifndef SR_TEST_DATA
#define SR_TEST_DATA "."
#endif

static int load(sr_context *ctx, const char *name, sr_array *a) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", SR_TEST_DATA, name);
  sr_status st = sr_npy_read(ctx, path, a);
  CHECK_MSG(st == SR_OK, "%s", sr_context_last_error(ctx));
  return st == SR_OK;
}

int main(void) {
  sr_context_options o = sr_context_options_default();
  o.backend = SR_BACKEND_CPU;
  sr_context *ctx = NULL;
  CHECK_OK(ctx, sr_context_create(&o, &ctx));
  sr_array values = {0};
  if (!load(ctx, "metrics_values.npy", &values)) return sr_test_finish("test_metrics");
  size_t ncases = (size_t)values.shape[0];
  const double *v = (const double *)values.data;
  for (size_t k = 0; k < ncases; ++k) {
    char nx[64], nr[64];
    snprintf(nx, sizeof nx, "metrics_case%zu_x.npy", k);
    snprintf(nr, sizeof nr, "metrics_case%zu_ref.npy", k);
    sr_array x = {0}, ref = {0};
    if (!load(ctx, nx, &x) || !load(ctx, nr, &ref)) continue;
    size_t h = (size_t)x.shape[0], w = (size_t)x.shape[1];
    double range = v[4 * k], ssim = v[4 * k + 1], psnr = v[4 * k + 2], nmse = v[4 * k + 3];
    sr_image_metrics m;
    CHECK_OK(ctx, sr_image_metrics_slice(ctx, (const float *)x.data, (const float *)ref.data, h, w,
                                         range, &m));
    CHECK_MSG(fabs(m.ssim - ssim) < 1e-6, "case %zu SSIM %.9f vs scikit-image %.9f", k, m.ssim,
              ssim);
    CHECK_MSG(fabs(m.psnr - psnr) < 1e-9 * fabs(psnr), "case %zu PSNR %.9f vs %.9f", k, m.psnr,
              psnr);
    CHECK_MSG(fabs(m.nmse - nmse) < 1e-9 * nmse, "case %zu NMSE %.9g vs %.9g", k, m.nmse, nmse);
    printf("case %zu (%zux%zu, R=%g): SSIM %.9f (scikit-image %.9f, diff %.1e)\n", k, h, w, range,
           m.ssim, ssim, fabs(m.ssim - ssim));
    /* Identical images: SSIM 1, PSNR +inf, NMSE 0. */
    CHECK_OK(ctx, sr_image_metrics_slice(ctx, (const float *)ref.data, (const float *)ref.data, h,
                                         w, range, &m));
    CHECK(fabs(m.ssim - 1.0) < 1e-12 && isinf(m.psnr) && m.nmse == 0.0);
    sr_array_free(&x), sr_array_free(&ref);
  }
  float small[100] = {0};
  double s;
  CHECK_FAILS(ctx, sr_ssim(ctx, small, small, 10, 10, 1.0, &s), SR_ERR_SHAPE);
  CHECK_FAILS(ctx, sr_ssim(ctx, small, small, 10, 10, 0.0, &s), SR_ERR_SHAPE);
  float big[121] = {0};
  CHECK_FAILS(ctx, sr_ssim(ctx, big, big, 11, 11, -1.0, &s), SR_ERR_INVALID_ARGUMENT);
  CHECK(isnan(sr_nmse(big, big, 121)));
  sr_array_free(&values);
  sr_context_destroy(ctx);
  return sr_test_finish("test_metrics");
}
