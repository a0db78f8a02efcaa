/* PSNR, SSIM and NMSE (see image_metrics.h). SSIM follows scikit-image
 * step by step so the two agree to rounding: the five local moments by a
 * separable Gaussian filter (scipy.ndimage.gaussian_filter: rows first,
 * then columns, 'reflect' borders), then the SSIM map, then its mean over
 * the interior. The border mode never matters for the result: the crop
 * drops exactly the pixels whose window reaches past the edge. */
#include "metrics/image_metrics.h"

#include <math.h>
#include <stdlib.h>

#include "core/error.h"

#define SSIM_SIGMA 1.5
#define SSIM_TRUNCATE 3.5
#define SSIM_K1 0.01
#define SSIM_K2 0.03
/* scipy's radius: int(truncate * sigma + 0.5) = 5, so 11 taps. */
#define SSIM_RADIUS 5

double sr_psnr(const float *x, const float *ref, size_t n, double data_range) {
  double se = 0.0;
  for (size_t i = 0; i < n; ++i) {
    double d = (double)x[i] - (double)ref[i];
    se += d * d;
  }
  double mse = n ? se / (double)n : 0.0;
  return 10.0 * log10(data_range * data_range / mse);
}

double sr_nmse(const float *x, const float *ref, size_t n) {
  double num = 0.0, den = 0.0;
  for (size_t i = 0; i < n; ++i) {
    double d = (double)x[i] - (double)ref[i];
    num += d * d;
    den += (double)ref[i] * (double)ref[i];
  }
  return den > 0.0 ? num / den : NAN;
}

/* 'reflect' (half-sample symmetric) index into [0, n): d c b a | a b c d. */
static size_t reflect(long long i, size_t n) {
  long long m = (long long)n;
  long long period = 2 * m;
  i %= period;
  if (i < 0) i += period;
  return (size_t)(i < m ? i : period - 1 - i);
}

/* out = G * in (separable, rows i then columns j); tmp is h * w doubles. */
static void gaussian_filter(const double *in, double *out, double *tmp, size_t h, size_t w,
                            const double *k) {
  for (size_t i = 0; i < h; ++i) {
    for (size_t j = 0; j < w; ++j) {
      double s = 0.0;
      for (int t = -SSIM_RADIUS; t <= SSIM_RADIUS; ++t)
        s += k[t + SSIM_RADIUS] * in[reflect((long long)i + t, h) * w + j];
      tmp[i * w + j] = s;
    }
  }
  for (size_t i = 0; i < h; ++i) {
    for (size_t j = 0; j < w; ++j) {
      double s = 0.0;
      for (int t = -SSIM_RADIUS; t <= SSIM_RADIUS; ++t)
        s += k[t + SSIM_RADIUS] * tmp[i * w + reflect((long long)j + t, w)];
      out[i * w + j] = s;
    }
  }
}

sr_status sr_ssim(sr_context *ctx, const float *x, const float *ref, size_t h, size_t w,
                  double data_range, double *out) {
  if (h < SR_SSIM_MIN_SIDE || w < SR_SSIM_MIN_SIDE)
    return sr_fail(ctx, SR_ERR_SHAPE, "SSIM needs slices of at least %d x %d pixels, got %zu x %zu",
                   SR_SSIM_MIN_SIDE, SR_SSIM_MIN_SIDE, h, w);
  if (!(data_range > 0.0) || !isfinite(data_range))
    return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT, "SSIM data range must be > 0, got %g", data_range);
  double k[2 * SSIM_RADIUS + 1], ksum = 0.0;
  for (int t = -SSIM_RADIUS; t <= SSIM_RADIUS; ++t) {
    k[t + SSIM_RADIUS] = exp(-0.5 * (double)(t * t) / (SSIM_SIGMA * SSIM_SIGMA));
    ksum += k[t + SSIM_RADIUS];
  }
  for (int t = 0; t < 2 * SSIM_RADIUS + 1; ++t) k[t] /= ksum;

  size_t n = h * w;
  /* Five products, five moments, one temporary: 11 planes of doubles. */
  double *buf = (double *)malloc(11 * n * sizeof(double));
  if (!buf)
    return sr_fail(ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate SSIM buffers for %zu x %zu", h, w);
  double *px = buf, *py = px + n, *pxx = py + n, *pyy = pxx + n, *pxy = pyy + n;
  double *ux = pxy + n, *uy = ux + n, *uxx = uy + n, *uyy = uxx + n, *uxy = uyy + n;
  double *tmp = uxy + n;
  for (size_t i = 0; i < n; ++i) {
    px[i] = x[i];
    py[i] = ref[i];
    pxx[i] = px[i] * px[i];
    pyy[i] = py[i] * py[i];
    pxy[i] = px[i] * py[i];
  }
  gaussian_filter(px, ux, tmp, h, w, k);
  gaussian_filter(py, uy, tmp, h, w, k);
  gaussian_filter(pxx, uxx, tmp, h, w, k);
  gaussian_filter(pyy, uyy, tmp, h, w, k);
  gaussian_filter(pxy, uxy, tmp, h, w, k);

  double c1 = (SSIM_K1 * data_range) * (SSIM_K1 * data_range);
  double c2 = (SSIM_K2 * data_range) * (SSIM_K2 * data_range);
  double sum = 0.0;
  for (size_t i = SSIM_RADIUS; i < h - SSIM_RADIUS; ++i) {
    for (size_t j = SSIM_RADIUS; j < w - SSIM_RADIUS; ++j) {
      size_t p = i * w + j;
      double vx = uxx[p] - ux[p] * ux[p];
      double vy = uyy[p] - uy[p] * uy[p];
      double vxy = uxy[p] - ux[p] * uy[p];
      double a1 = 2.0 * ux[p] * uy[p] + c1, a2 = 2.0 * vxy + c2;
      double b1 = ux[p] * ux[p] + uy[p] * uy[p] + c1, b2 = vx + vy + c2;
      sum += (a1 * a2) / (b1 * b2);
    }
  }
  free(buf);
  *out = sum / (double)((h - 2 * SSIM_RADIUS) * (w - 2 * SSIM_RADIUS));
  return SR_OK;
}

sr_status sr_image_metrics_slice(sr_context *ctx, const float *x, const float *ref, size_t h,
                                 size_t w, double data_range, sr_image_metrics *out) {
  SR_TRY(sr_ssim(ctx, x, ref, h, w, data_range, &out->ssim));
  out->psnr = sr_psnr(x, ref, h * w, data_range);
  out->nmse = sr_nmse(x, ref, h * w);
  return SR_OK;
}
