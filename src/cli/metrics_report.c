/* One line per slice, then the means (see metrics_report.h). */
#include "cli/metrics_report.h"

#include <math.h>

#include "core/error.h"
#include "metrics/image_metrics.h"

double sr_reference_range(const float *ref, size_t n) {
  float lo = ref[0], hi = ref[0];
  for (size_t i = 1; i < n; ++i) lo = ref[i] < lo ? ref[i] : lo, hi = ref[i] > hi ? ref[i] : hi;
  return (double)hi - (double)lo;
}

sr_status sr_cli_print_metrics(sr_context *ctx, FILE *out, const float *x, const float *ref,
                               int64_t nslices, int64_t h, int64_t w, double data_range) {
  size_t plane = (size_t)(h * w), n = (size_t)nslices * plane;
  const char *how = "given";
  if (!(data_range > 0.0)) {
    data_range = sr_reference_range(ref, n);
    how = "max - min of the reference";
    if (!(data_range > 0.0))
      return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT,
                     "the reference is constant: give --data-range for PSNR and SSIM");
  }
  fprintf(out, "data range %g (%s)\n", data_range, how);
  if (h < SR_SSIM_MIN_SIDE || w < SR_SSIM_MIN_SIDE)
    fprintf(out, "SSIM: n/a (slices smaller than %d x %d)\n", SR_SSIM_MIN_SIDE, SR_SSIM_MIN_SIDE);
  fprintf(out, "%-8s %10s %10s %12s\n", "slice", "PSNR(dB)", "SSIM", "NMSE");
  double sp = 0.0, ss = 0.0, sn = 0.0;
  for (int64_t s = 0; s < nslices; ++s) {
    sr_image_metrics m;
    const float *xs = x + (size_t)s * plane, *rs = ref + (size_t)s * plane;
    if (h >= SR_SSIM_MIN_SIDE && w >= SR_SSIM_MIN_SIDE) {
      SR_TRY(sr_image_metrics_slice(ctx, xs, rs, (size_t)h, (size_t)w, data_range, &m));
    } else {
      /* SSIM's 11-tap window does not fit: report the other two. */
      m.ssim = NAN;
      m.psnr = sr_psnr(xs, rs, plane, data_range);
      m.nmse = sr_nmse(xs, rs, plane);
    }
    fprintf(out, "%-8lld %10.4f %10.6f %12.6g\n", (long long)s, m.psnr, m.ssim, m.nmse);
    sp += m.psnr, ss += m.ssim, sn += m.nmse;
  }
  fprintf(out, "%-8s %10.4f %10.6f %12.6g\n", "mean", sp / (double)nslices, ss / (double)nslices,
          sn / (double)nslices);
  return SR_OK;
}
