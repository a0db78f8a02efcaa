/* Gaussian prior model files: a .safetensors with one tensor "mean" (H, W)
 * float32 and the prior's scalars in __metadata__ (gaussian_prior.h). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/context.h"
#include "core/error.h"
#include "io/safetensors.h"
#include "sampler/gaussian_prior.h"

int sr_gaussian_prior_file_is(sr_context *ctx, const char *path) {
  /* Probing must not leave a message behind: save and restore it. */
  char saved[sizeof ctx->last_error];
  const sr_status saved_status = ctx->last_status;
  memcpy(saved, ctx->last_error, sizeof saved);
  sr_safetensors *st = NULL;
  int is = 0;
  if (sr_safetensors_open(ctx, path, &st) == SR_OK) {
    const char *f = sr_safetensors_metadata(st, "format");
    is = f && strcmp(f, SR_GAUSSIAN_PRIOR_FORMAT) == 0;
    sr_safetensors_close(st);
  }
  ctx->last_status = saved_status;
  memcpy(ctx->last_error, saved, sizeof saved);
  return is;
}

/* A metadata number, or dflt when absent; SR_ERR_FORMAT when unparsable. */
static sr_status meta_double(sr_context *ctx, const char *path, const sr_safetensors *st,
                             const char *key, double dflt, double *out) {
  const char *v = sr_safetensors_metadata(st, key);
  if (!v) {
    *out = dflt;
    return SR_OK;
  }
  char *end = NULL;
  errno = 0;
  const double d = strtod(v, &end);
  if (end == v || *end != '\0' || errno || !isfinite(d))
    return sr_fail(ctx, SR_ERR_FORMAT, "%s: metadata %s = \"%s\" is not a number", path, key, v);
  *out = d;
  return SR_OK;
}

sr_status sr_gaussian_prior_load(sr_backend *b, const char *path, sr_gaussian_prior **out) {
  *out = NULL;
  sr_context *ctx = b->ctx;
  sr_safetensors *st = NULL;
  SR_TRY(sr_safetensors_open(ctx, path, &st));
  sr_status s = SR_OK;
  float *mean = NULL;
  const char *format = sr_safetensors_metadata(st, "format");
  const sr_st_tensor *t = sr_safetensors_find(st, "mean");
  sr_sde sde = sr_sde_default();
  double tau = 0.0, n_steps = sde.n;
  if (!format || strcmp(format, SR_GAUSSIAN_PRIOR_FORMAT) != 0) {
    s = sr_fail(ctx, SR_ERR_FORMAT, "%s: not a Gaussian prior file (format \"%s\")", path,
                format ? format : "");
    goto done;
  }
  if (!t || t->dtype != SR_ST_F32 || t->ndim != 2 || t->shape[0] < 1 || t->shape[1] < 1) {
    s = sr_fail(ctx, SR_ERR_FORMAT, "%s: needs a float32 tensor \"mean\" of shape (H, W)", path);
    goto done;
  }
  if ((s = meta_double(ctx, path, st, "std", 0.0, &tau)) != SR_OK) goto done;
  if ((s = meta_double(ctx, path, st, "sigma_min", sde.sigma_min, &sde.sigma_min)) != SR_OK ||
      (s = meta_double(ctx, path, st, "sigma_max", sde.sigma_max, &sde.sigma_max)) != SR_OK ||
      (s = meta_double(ctx, path, st, "beta_min", sde.beta_min, &sde.beta_min)) != SR_OK ||
      (s = meta_double(ctx, path, st, "beta_max", sde.beta_max, &sde.beta_max)) != SR_OK ||
      (s = meta_double(ctx, path, st, "num_scales", n_steps, &n_steps)) != SR_OK)
    goto done;
  if (n_steps != floor(n_steps) || n_steps < 1 || n_steps > 1e6) {
    s = sr_fail(ctx, SR_ERR_FORMAT, "%s: num_scales %g is not a step count", path, n_steps);
    goto done;
  }
  sde.n = (int)n_steps;
  const char *sde_name = sr_safetensors_metadata(st, "sde");
  if (sde_name && (s = sr_sde_type_parse(ctx, sde_name, &sde.type)) != SR_OK) goto done;
  if ((s = sr_sde_validate(ctx, &sde)) != SR_OK) goto done;
  mean = (float *)malloc(t->nbytes ? t->nbytes : 1);
  if (!mean) {
    s = sr_fail(ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate the prior mean");
    goto done;
  }
  memcpy(mean, t->data, t->nbytes);
  s = sr_gaussian_prior_create(b, mean, t->shape[0], t->shape[1], tau, &sde, out);
done:
  free(mean);
  sr_safetensors_close(st);
  return s;
}

sr_status sr_gaussian_prior_save(sr_context *ctx, const char *path, const float *mean_host,
                                 int64_t h, int64_t w, double std, const sr_sde *sde) {
  const sr_sde d = sde ? *sde : sr_sde_default();
  char v_std[32], v_smin[32], v_smax[32], v_bmin[32], v_bmax[32], v_n[32];
  snprintf(v_std, sizeof v_std, "%.17g", std);
  snprintf(v_smin, sizeof v_smin, "%.17g", d.sigma_min);
  snprintf(v_smax, sizeof v_smax, "%.17g", d.sigma_max);
  snprintf(v_bmin, sizeof v_bmin, "%.17g", d.beta_min);
  snprintf(v_bmax, sizeof v_bmax, "%.17g", d.beta_max);
  snprintf(v_n, sizeof v_n, "%d", d.n);
  const sr_st_metadata meta[] = {
      {"format", SR_GAUSSIAN_PRIOR_FORMAT},
      {"std", v_std},
      {"sde", sr_sde_type_name(d.type)},
      {"sigma_min", v_smin},
      {"sigma_max", v_smax},
      {"beta_min", v_bmin},
      {"beta_max", v_bmax},
      {"num_scales", v_n},
  };
  const int64_t shape[2] = {h, w};
  const sr_st_write_tensor tensor = {"mean", SR_ST_F32, 2, shape, mean_host};
  return sr_safetensors_write(ctx, path, &tensor, 1, meta, sizeof meta / sizeof meta[0]);
}
