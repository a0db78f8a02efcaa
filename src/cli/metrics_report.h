/* The metrics table shared by `eval` and `reconstruct --ref`: PSNR, SSIM and
 * NMSE per slice and their means (src/metrics/image_metrics.h). */
#ifndef SR_CLI_METRICS_REPORT_H
#define SR_CLI_METRICS_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "scorerecon.h"

/* max - min of the n reference values: the default data range of PSNR and
 * SSIM (n >= 1). */
double sr_reference_range(const float *ref, size_t n);

/* data_range <= 0: max - min of the whole reference volume (printed).
 * Returns SR_OK or the failure (message in ctx). */
sr_status sr_cli_print_metrics(sr_context *ctx, FILE *out, const float *x, const float *ref,
                               int64_t nslices, int64_t h, int64_t w, double data_range);

#endif
