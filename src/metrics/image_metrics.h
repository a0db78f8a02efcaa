/* Image quality metrics of a reconstruction x against a reference, per 2-D
 * slice, on host float32 arrays, computed in double:
 *
 *  - PSNR = 10 log10(R^2 / MSE) with a stated data range R (scikit-image's
 *    peak_signal_noise_ratio with data_range=R);
 *  - SSIM, Wang et al. 2004 as scikit-image's structural_similarity(x, ref,
 *    gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
 *    data_range=R): Gaussian window (sigma 1.5, truncated at 3.5 sigma: 11
 *    taps), K1 = 0.01, K2 = 0.03, population covariances, the SSIM map
 *    averaged over the pixels at least 5 from every edge;
 *  - NMSE = ||x - ref||^2 / ||ref||^2 (fastMRI's definition). */
#ifndef SR_METRICS_IMAGE_METRICS_H
#define SR_METRICS_IMAGE_METRICS_H

#include <stddef.h>

#include "scorerecon.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sr_image_metrics {
  double psnr; /* dB; +inf when x == ref */
  double ssim;
  double nmse; /* NaN when ref is all zeros */
} sr_image_metrics;

/* Smallest slice side SSIM accepts: the 11-tap window must fit. */
#define SR_SSIM_MIN_SIDE 11

double sr_psnr(const float *x, const float *ref, size_t n, double data_range);
double sr_nmse(const float *x, const float *ref, size_t n);
/* SSIM of one (h, w) slice; h, w >= SR_SSIM_MIN_SIDE, data_range > 0.
 * Fails only for bad sizes or a failed allocation (message in ctx). */
sr_status sr_ssim(sr_context *ctx, const float *x, const float *ref, size_t h, size_t w,
                  double data_range, double *out);

/* All three for one slice. */
sr_status sr_image_metrics_slice(sr_context *ctx, const float *x, const float *ref, size_t h,
                                 size_t w, double data_range, sr_image_metrics *out);

#ifdef __cplusplus
}
#endif

#endif
