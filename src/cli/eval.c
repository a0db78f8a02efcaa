/* scorerecon eval --ref GT --in RECON: image quality of a reconstruction. */
#include <stdio.h>

#include "cli/commands.h"
#include "cli/image_volume.h"
#include "cli/metrics_report.h"
#include "cli/options.h"
#include "cli/report.h"

static const char *ref_path, *in_path;
static double data_range;

static const sr_option options[] = {
    {"ref", 'r', SR_OPT_STRING, &ref_path, NULL, "reference image or volume (ground truth)", NULL,
     "GT"},
    {"in", 'i', SR_OPT_STRING, &in_path, NULL, "reconstruction to evaluate", NULL, "RECON"},
    {"data-range", 0, SR_OPT_DOUBLE, &data_range, "0",
     "data range R of PSNR and SSIM; 0: max - min of the reference volume", NULL, "R"},
};

static const sr_command_spec spec = {
    "eval",
    "",
    "Print PSNR (10 log10(R^2 / MSE)), SSIM (Wang et al. 2004: Gaussian window sigma 1.5,\n"
    "K1 0.01, K2 0.03, as scikit-image's structural_similarity with gaussian_weights=True,\n"
    "use_sample_covariance=False) and NMSE (||x - ref||^2 / ||ref||^2) per slice and their\n"
    "means. Files: .npy, .nii, .nii.gz, .png.",
    options,
    sizeof options / sizeof options[0],
    0,
    0};

int sr_cmd_eval(int argc, char **argv) {
  int nargs = 0;
  char **args = NULL;
  int rc = sr_options_parse(&spec, argc, argv, &nargs, &args);
  if (rc != SR_CLI_RUN) return rc;
  if (!ref_path || !in_path) return sr_cli_usage(spec.name, "--ref and --in are required");
  if (data_range < 0.0) return sr_cli_usage(spec.name, "--data-range must be >= 0");
  sr_context *ctx = sr_cli_host_context(spec.name);
  if (!ctx) return SR_EXIT_FAILURE;
  sr_volume ref = {0}, x = {0};
  sr_status st = sr_volume_read(ctx, ref_path, &ref);
  if (st == SR_OK) st = sr_volume_read(ctx, in_path, &x);
  if (st == SR_OK && (ref.nslices != x.nslices || ref.h != x.h || ref.w != x.w)) {
    rc = sr_cli_fail(spec.name,
                     "%s is %lld x %lld x %lld but the reference %s is %lld x %lld x %lld", in_path,
                     (long long)x.nslices, (long long)x.h, (long long)x.w, ref_path,
                     (long long)ref.nslices, (long long)ref.h, (long long)ref.w);
  } else if (st == SR_OK) {
    st = sr_cli_print_metrics(ctx, stdout, x.data, ref.data, x.nslices, x.h, x.w, data_range);
  }
  if (st != SR_OK)
    rc = sr_cli_fail_status(spec.name, ctx, st);
  else if (rc == SR_CLI_RUN)
    rc = 0;
  sr_volume_free(&ref);
  sr_volume_free(&x);
  sr_context_destroy(ctx);
  return rc;
}
