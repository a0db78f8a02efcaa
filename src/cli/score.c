/* scorerecon score: evaluate the score network once, s(x, sigma), so a user
 * can check a converted model on an image of their own. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/options.h"
#include "cli/report.h"
#include "io/npy.h"

static const char *model_path, *in_path, *out_path;
static const char *sigma_text;
static int backend_choice;
static int precision_choice;
static int64_t threads;

static const sr_option options[] = {
    {"model", 'm', SR_OPT_STRING, &model_path, NULL, "weights (.safetensors, tools/convert.py)",
     NULL, "FILE"},
    {"in", 'i', SR_OPT_STRING, &in_path, NULL,
     "input image(s) .npy: (H, W), (C, H, W), (N, H, W) for 1-channel models, or (N, C, H, W)",
     NULL, "FILE"},
    {"sigma", 's', SR_OPT_STRING, &sigma_text, NULL,
     "noise level sigma (Fourier-embedding models) or time label (positional ones)", NULL, "S"},
    {"out", 'o', SR_OPT_STRING, &out_path, NULL, "output .npy, float32, shaped like the input",
     NULL, "FILE"},
    {"backend", 'b', SR_OPT_CHOICE, &backend_choice, "auto", "where to run", "auto|cpu|cuda", NULL},
    {"threads", 't', SR_OPT_INT, &threads, "0", "CPU threads (0: all cores)", NULL, NULL},
    {"precision", 0, SR_OPT_CHOICE, &precision_choice, "fp32",
     "convolution arithmetic: operands rounded to tf32, bf16 or fp16, fp32 accumulation "
     "(include/scorerecon.h, sr_precision)",
     "fp32|tf32|bf16|fp16", NULL},
};

static const sr_command_spec spec = {
    "score",
    "",
    "Evaluate the score network: OUT = s(IN, sigma) as the model computes it (divided by\n"
    "sigma for models with scale_by_sigma). Input data as the model expects them (e.g. in\n"
    "[0, 1] when its config says centered = false).",
    options,
    sizeof options / sizeof options[0],
    0,
    0};

/* (N, C, H, W) from the input's shape and the model's channel count. */
static int nchw(const sr_array *a, int channels, int64_t d[4]) {
  if (a->ndim == 2) {
    d[0] = 1, d[1] = 1, d[2] = a->shape[0], d[3] = a->shape[1];
  } else if (a->ndim == 3) {
    if (a->shape[0] == channels)
      d[0] = 1, d[1] = channels;
    else
      d[0] = a->shape[0], d[1] = 1;
    d[2] = a->shape[1], d[3] = a->shape[2];
  } else if (a->ndim == 4) {
    for (int i = 0; i < 4; ++i) d[i] = a->shape[i];
  } else {
    return 0;
  }
  return d[1] == channels;
}

int sr_cmd_score(int argc, char **argv) {
  int nargs;
  char **args;
  int rc = sr_options_parse(&spec, argc, argv, &nargs, &args);
  if (rc != SR_CLI_RUN) return rc;
  if (!model_path || !in_path || !out_path || !sigma_text)
    return sr_cli_usage("score", "--model, --in, --sigma and --out are required");
  char *end = NULL;
  const double sigma = strtod(sigma_text, &end);
  if (end == sigma_text || *end != '\0' || !isfinite(sigma))
    return sr_cli_usage("score", "--sigma: \"%s\" is not a finite number", sigma_text);
  sr_context_options o = sr_context_options_default();
  o.backend = backend_choice == 1   ? SR_BACKEND_CPU
              : backend_choice == 2 ? SR_BACKEND_CUDA
                                    : SR_BACKEND_AUTO;
  o.threads = (int)threads;
  sr_context *ctx = NULL;
  sr_status s = sr_context_create(&o, &ctx);
  if (s != SR_OK) {
    int code = sr_cli_fail_status("score", ctx, s);
    sr_context_destroy(ctx);
    return code;
  }
  sr_model *model = NULL;
  sr_array in = {0}, x32 = {0};
  sr_tensor tx = {0}, ty = {0};
  float *cond = NULL;
  int code = 0;
  if ((s = sr_model_load(ctx, model_path, &model)) != SR_OK) goto fail;
  {
    /* the choices are in sr_precision's order */
    static const sr_precision by_choice[] = {SR_PRECISION_FP32, SR_PRECISION_TF32,
                                             SR_PRECISION_BF16, SR_PRECISION_FP16};
    if ((s = sr_model_set_precision(model, by_choice[precision_choice])) != SR_OK) goto fail;
  }
  sr_model_info info;
  sr_model_get_info(model, &info);
  if ((s = sr_npy_read(ctx, in_path, &in)) != SR_OK) goto fail;
  int64_t d[4];
  if (!nchw(&in, info.num_channels, d)) {
    code = sr_cli_fail("score", "%s: cannot read a %d-D array as images for a %d-channel model",
                       in_path, in.ndim, info.num_channels);
    goto done;
  }
  if (info.size_multiple > 0 &&
      (d[2] % info.size_multiple != 0 || d[3] % info.size_multiple != 0)) {
    code =
        sr_cli_fail("score", "%s: %lldx%lld images: the model needs H and W to be multiples of %d",
                    in_path, (long long)d[2], (long long)d[3], info.size_multiple);
    goto done;
  }
  if ((s = sr_array_to_f32(ctx, in_path, &in, &x32)) != SR_OK) goto fail;
  {
    /* NaN or Inf in would come out as NaN everywhere: refuse it up front */
    const float *v = (const float *)x32.data;
    const size_t count = x32.nbytes / sizeof(float);
    size_t bad = 0, first = 0;
    for (size_t i = 0; i < count; ++i)
      if (!isfinite(v[i]) && bad++ == 0) first = i;
    if (bad) {
      code = sr_cli_fail("score", "%s: %zu non-finite values (NaN or Inf), the first at index %zu",
                         in_path, bad, first);
      goto done;
    }
  }
  if ((s = sr_tensor_alloc(ctx, SR_DTYPE_F32, d[0], d[1], d[2], d[3], &tx)) != SR_OK) goto fail;
  if ((s = sr_tensor_alloc(ctx, SR_DTYPE_F32, d[0], d[1], d[2], d[3], &ty)) != SR_OK) goto fail;
  if ((s = sr_tensor_upload(ctx, &tx, x32.data, x32.nbytes)) != SR_OK) goto fail;
  cond = (float *)malloc((size_t)d[0] * sizeof *cond);
  if (!cond) {
    code = sr_cli_fail("score", "out of memory");
    goto done;
  }
  for (int64_t i = 0; i < d[0]; ++i) cond[i] = (float)sigma;
  if ((s = sr_model_forward(model, &tx, cond, &ty)) != SR_OK) goto fail;
  /* the result goes back into x32 (same shape and dtype as the output) */
  if ((s = sr_tensor_download(ctx, &ty, x32.data, x32.nbytes)) != SR_OK) goto fail;
  if ((s = sr_npy_write(ctx, out_path, &x32)) != SR_OK) goto fail;
  goto done;
fail:
  code = sr_cli_fail_status("score", ctx, s);
done:
  free(cond);
  sr_tensor_free(ctx, &tx);
  sr_tensor_free(ctx, &ty);
  sr_array_free(&in);
  sr_array_free(&x32);
  sr_model_free(model);
  sr_context_destroy(ctx);
  return code;
}
