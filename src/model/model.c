/* The public sr_model API: load a weights file (config from __metadata__,
 * tensors validated), plan memory per (N, H, W), run the network. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "io/safetensors.h"
#include "model/model_internal.h"

#define SR_MODEL_FORMAT "scorerecon.ncsnpp.v1"

/* Config JSON of an open weights file, or an error naming what is missing. */
static sr_status read_config(sr_context *ctx, const char *path, const sr_safetensors *st,
                             sr_ncsnpp_config *cfg) {
  const char *format = sr_safetensors_metadata(st, "format");
  const char *config = sr_safetensors_metadata(st, "config");
  if (!config)
    return sr_fail(ctx, SR_ERR_FORMAT,
                   "%s: no model configuration in __metadata__ (key \"config\"); convert the "
                   "checkpoint with tools/convert.py",
                   path);
  if (format && strcmp(format, SR_MODEL_FORMAT) != 0)
    return sr_fail(ctx, SR_ERR_UNSUPPORTED, "%s: model format \"%s\" (this build reads %s)", path,
                   format, SR_MODEL_FORMAT);
  return sr_ncsnpp_config_parse(ctx, path, config, cfg);
}

static void release_plan(sr_model *m) {
  if (m->arena) m->b->ops->free(m->b, m->arena);
  if (m->conv_ws) m->b->ops->free(m->b, m->conv_ws);
  free(m->temb_host);
  m->arena = m->conv_ws = NULL;
  m->temb_host = NULL;
  memset(&m->plan, 0, sizeof m->plan);
}

void sr_model_free(sr_model *m) {
  if (!m) return;
  if (m->b) {
    m->b->ops->synchronize(m->b);
    release_plan(m);
    if (m->weights) m->b->ops->free(m->b, m->weights);
  }
  free(m->fourier_w);
  sr_ncsnpp_release(&m->net);
  free(m);
}

sr_status sr_model_load(sr_context *ctx, const char *path, sr_model **out) {
  *out = NULL;
  sr_backend *b = sr_context_get_backend(ctx);
  if (!b) return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT, "context has no backend");
  sr_safetensors *st = NULL;
  SR_TRY(sr_safetensors_open(ctx, path, &st));
  sr_model *m = (sr_model *)calloc(1, sizeof *m);
  float *host = NULL;
  sr_status s = SR_OK;
  if (!m) {
    s = sr_fail(ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate a model");
    goto fail;
  }
  m->ctx = ctx;
  m->b = b;
  sr_ncsnpp_config cfg;
  if ((s = read_config(ctx, path, st, &cfg)) != SR_OK) goto fail;
  if ((s = sr_ncsnpp_build(ctx, &cfg, &m->net)) != SR_OK) goto fail;
  sr_ncsnpp_firs_init(&m->net.cfg, &m->firs);
  host = (float *)malloc(m->net.weight_floats * sizeof(float) + 1);
  if (!host) {
    s = sr_fail(ctx, SR_ERR_OUT_OF_MEMORY, "%s: cannot allocate %zu MB for the weights", path,
                m->net.weight_floats * sizeof(float) >> 20);
    goto fail;
  }
  if ((s = sr_ncsnpp_weights_load(ctx, path, &m->net, st, host)) != SR_OK) goto fail;
  if (m->net.cfg.embedding_type == SR_EMBED_FOURIER) {
    const sr_module *fm = &m->net.modules[0];
    m->fourier_w = (float *)malloc((size_t)m->net.cfg.nf * sizeof(float));
    if (!m->fourier_w) {
      s = sr_fail(ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate the embedding");
      goto fail;
    }
    memcpy(m->fourier_w, host + fm->p[SR_P_W], (size_t)m->net.cfg.nf * sizeof(float));
  }
  {
    const size_t bytes = m->net.weight_floats * sizeof(float);
    void *dev = NULL;
    if ((s = b->ops->alloc(b, bytes, &dev)) != SR_OK) goto fail;
    m->weights = (float *)dev;
    if ((s = b->ops->upload(b, dev, host, bytes)) != SR_OK) goto fail;
  }
  {
    sr_ncsnpp_plan native;
    const int size = m->net.cfg.image_size;
    if ((s = sr_ncsnpp_run(m, 1, 1, size, size, NULL, NULL, NULL, &native)) != SR_OK) goto fail;
    m->flops_native = native.flops;
  }
  free(host);
  sr_safetensors_close(st);
  *out = m;
  return SR_OK;
fail:
  free(host);
  sr_safetensors_close(st);
  sr_model_free(m);
  return s;
}

void sr_model_get_info(const sr_model *m, sr_model_info *info) {
  const sr_ncsnpp_config *c = &m->net.cfg;
  memset(info, 0, sizeof *info);
  info->architecture = "ncsnpp";
  info->image_size = c->image_size;
  info->num_channels = c->num_channels;
  info->centered = c->centered;
  info->value_max = c->value_max;
  info->sde = sr_sde_kind_name(c->sde);
  info->sigma_min = c->sigma_min, info->sigma_max = c->sigma_max;
  info->beta_min = c->beta_min, info->beta_max = c->beta_max;
  info->num_scales = c->num_scales;
  info->cond_is_sigma = c->embedding_type == SR_EMBED_FOURIER;
  info->size_multiple = 1 << (c->num_resolutions - 1);
  info->num_params = m->net.num_params;
  info->flops_per_sample = m->flops_native;
}

/* Plans (n, h, w) when it is not the current plan: a dry run for sizes,
 * then one allocation each for the arena, the conv workspace and the
 * embedding staging. */
static sr_status ensure_plan(sr_model *m, int n, int h, int w) {
  if (m->arena && m->plan.n == n && m->plan.h == h && m->plan.w == w) return SR_OK;
  SR_TRY(m->b->ops->synchronize(m->b));
  release_plan(m);
  sr_ncsnpp_plan plan;
  SR_TRY(sr_ncsnpp_run(m, 1, n, h, w, NULL, NULL, NULL, &plan));
  SR_TRY(m->b->ops->alloc(m->b, plan.arena_bytes, &m->arena));
  if (plan.conv_ws_bytes) SR_TRY(m->b->ops->alloc(m->b, plan.conv_ws_bytes, &m->conv_ws));
  m->temb_host = (float *)malloc((size_t)n * 2 * m->net.cfg.nf * sizeof(float));
  if (!m->temb_host)
    return sr_fail(m->ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate the noise embedding");
  m->plan = plan;
  return SR_OK;
}

sr_status sr_model_set_precision(sr_model *m, sr_precision precision) {
  if (precision != SR_PRECISION_FP32 && precision != SR_PRECISION_TF32 &&
      precision != SR_PRECISION_BF16 && precision != SR_PRECISION_FP16)
    return sr_fail(m->ctx, SR_ERR_INVALID_ARGUMENT, "precision %d: not an sr_precision",
                   (int)precision);
  if (precision == m->precision) return SR_OK;
  /* the conv workspace (rounded weights on the CPU, half-precision tensors
   * for cuDNN) depends on it: the next forward plans again */
  SR_TRY(m->b->ops->synchronize(m->b));
  release_plan(m);
  m->precision = precision;
  return SR_OK;
}

sr_precision sr_model_get_precision(const sr_model *m) {
  return m->precision;
}

static int same_shape_f32(const sr_tensor *t, int64_t n, int64_t c, int64_t h, int64_t w) {
  return t->dtype == SR_DTYPE_F32 && t->shape[0] == n && t->shape[1] == c && t->shape[2] == h &&
         t->shape[3] == w && sr_tensor_is_contiguous(t);
}

sr_status sr_model_forward(sr_model *m, const sr_tensor *x, const float *cond, sr_tensor *out) {
  sr_context *ctx = m->ctx;
  const sr_ncsnpp_config *c = &m->net.cfg;
  const int64_t n = x->shape[0], ch = x->shape[1], h = x->shape[2], w = x->shape[3];
  const int mult = 1 << (c->num_resolutions - 1);
  if (x->backend != m->b->kind || out->backend != m->b->kind)
    return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT, "model input and output must live on %s",
                   sr_backend_name(m->b->kind));
  if (!same_shape_f32(x, n, c->num_channels, h, w))
    return sr_fail(ctx, SR_ERR_SHAPE,
                   "model input must be contiguous float32 (N, %d, H, W), got (%lld, %lld, %lld, "
                   "%lld) %s",
                   c->num_channels, (long long)n, (long long)ch, (long long)h, (long long)w,
                   sr_dtype_name(x->dtype));
  if (n < 1 || n > 65535 || h < mult || w < mult || h % mult || w % mult || h > 16384 || w > 16384)
    return sr_fail(ctx, SR_ERR_SHAPE,
                   "model input of %lldx%lld with batch %lld: H and W must be positive multiples "
                   "of %d (the network halves them %d times)",
                   (long long)h, (long long)w, (long long)n, mult, c->num_resolutions - 1);
  if (!same_shape_f32(out, n, ch, h, w))
    return sr_fail(ctx, SR_ERR_SHAPE,
                   "model output must be a contiguous float32 tensor shaped "
                   "like the input");
  if (x->data == out->data)
    return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT, "model output must not alias the input");
  for (int64_t s = 0; s < n; ++s) {
    const float v = cond[s];
    if (!isfinite(v) || (c->embedding_type == SR_EMBED_FOURIER && v <= 0.0f))
      return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT,
                     "noise level %g of sample %lld: must be finite%s", (double)v, (long long)s,
                     c->embedding_type == SR_EMBED_FOURIER ? " and positive" : "");
    if (c->embedding_type == SR_EMBED_POSITIONAL && c->scale_by_sigma &&
        (v < 0.0f || v >= (float)c->num_scales))
      return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT,
                     "time label %g of sample %lld is outside [0, %d)", (double)v, (long long)s,
                     c->num_scales);
  }
  SR_TRY(ensure_plan(m, (int)n, (int)h, (int)w));
  return sr_ncsnpp_run(m, 0, (int)n, (int)h, (int)w, (const float *)x->data, cond,
                       (float *)out->data, NULL);
}

sr_status sr_model_plan_bytes(sr_model *m, int64_t n, int64_t h, int64_t w, size_t *bytes) {
  const int mult = 1 << (m->net.cfg.num_resolutions - 1);
  *bytes = 0;
  if (n < 1 || n > 65535 || h < mult || w < mult || h % mult || w % mult || h > 16384 || w > 16384)
    return sr_fail(m->ctx, SR_ERR_SHAPE,
                   "%lldx%lld with batch %lld: H and W must be positive multiples of %d",
                   (long long)h, (long long)w, (long long)n, mult);
  sr_ncsnpp_plan plan;
  SR_TRY(sr_ncsnpp_run(m, 1, (int)n, (int)h, (int)w, NULL, NULL, NULL, &plan));
  *bytes = plan.arena_bytes + plan.conv_ws_bytes;
  return SR_OK;
}

static void say(char *buf, size_t size, size_t *used, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void say(char *buf, size_t size, size_t *used, const char *fmt, ...) {
  if (*used >= size) return;
  va_list ap;
  va_start(ap, fmt);
  int k = vsnprintf(buf + *used, size - *used, fmt, ap);
  va_end(ap);
  if (k > 0) *used += (size_t)k;
}

sr_status sr_model_describe(sr_context *ctx, const char *path, char *buf, size_t size) {
  if (!buf || size == 0) return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT, "no buffer");
  buf[0] = '\0';
  sr_safetensors *st = NULL;
  SR_TRY(sr_safetensors_open(ctx, path, &st));
  sr_model *m = (sr_model *)calloc(1, sizeof *m);
  sr_status s = SR_OK;
  if (!m) {
    s = sr_fail(ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate a model");
    goto done;
  }
  m->ctx = ctx;
  sr_ncsnpp_config cfg;
  if ((s = read_config(ctx, path, st, &cfg)) != SR_OK) goto done;
  if ((s = sr_ncsnpp_build(ctx, &cfg, &m->net)) != SR_OK) goto done;
  sr_ncsnpp_firs_init(&m->net.cfg, &m->firs);
  sr_ncsnpp_plan plan;
  /* a dry run needs no backend: sizes and FLOPs only */
  if ((s = sr_ncsnpp_run(m, 1, 1, cfg.image_size, cfg.image_size, NULL, NULL, NULL, &plan)) !=
      SR_OK)
    goto done;
  const sr_ncsnpp_config *c = &m->net.cfg;
  static const char *const resblock[] = {"biggan", "ddpm"};
  static const char *const prog[] = {"none", "output_skip", "residual"};
  static const char *const prog_in[] = {"none", "input_skip", "residual"};
  static const char *const combine[] = {"sum", "cat"};
  size_t used = 0;
  say(buf, size, &used, "architecture: ncsnpp (NCSN++)\n");
  say(buf, size, &used, "image: %d x %d x %d channel%s, data %s\n", c->image_size, c->image_size,
      c->num_channels, c->num_channels == 1 ? "" : "s",
      c->centered ? "centred ([-1, 1])" : "in [0, 1]");
  say(buf, size, &used, "levels: %d, ch_mult (", c->num_resolutions);
  for (int i = 0; i < c->num_resolutions; ++i)
    say(buf, size, &used, "%s%d", i ? ", " : "", c->ch_mult[i]);
  say(buf, size, &used, "), nf %d, %d res blocks per level (%s), bottleneck %d x %d\n", c->nf,
      c->num_res_blocks, resblock[c->resblock_type], c->image_size >> (c->num_resolutions - 1),
      c->image_size >> (c->num_resolutions - 1));
  say(buf, size, &used, "attention at:");
  for (int i = 0; i < c->num_attn; ++i) say(buf, size, &used, " %d", c->attn_resolutions[i]);
  say(buf, size, &used, "%s and the bottleneck\n", c->num_attn ? "," : "");
  say(buf, size, &used, "resampling: %s%s, skip_rescale %s\n", c->fir ? "FIR" : "naive",
      c->resamp_with_conv ? " with conv" : "", c->skip_rescale ? "on" : "off");
  say(buf, size, &used, "progressive: output %s, input %s, combine %s\n", prog[c->progressive],
      prog_in[c->progressive_input], combine[c->progressive_combine]);
  say(buf, size, &used, "noise embedding: %s%s, output %s\n",
      c->embedding_type == SR_EMBED_FOURIER ? "Gaussian Fourier (cond = sigma)"
                                            : "positional (cond = time label)",
      c->conditional ? "" : " (unconditional)",
      c->scale_by_sigma ? "divided by sigma" : "not scaled");
  if (c->sde == SR_SDE_VE)
    say(buf, size, &used, "sde: vesde, sigma %g .. %g, %d scales\n", c->sigma_min, c->sigma_max,
        c->num_scales);
  else
    say(buf, size, &used, "sde: %s, beta %g .. %g, %d scales\n", sr_sde_kind_name(c->sde),
        c->beta_min, c->beta_max, c->num_scales);
  say(buf, size, &used, "modules: %d, tensors: %d, parameters: %lld (%.2f M)\n", m->net.n_modules,
      m->net.n_expected, (long long)m->net.num_params, (double)m->net.num_params / 1e6);
  say(buf, size, &used, "FLOPs per forward at %d x %d: %.2f G (batch 1; activations %.1f MB)\n",
      c->image_size, c->image_size, plan.flops / 1e9, (double)plan.arena_bytes / 1048576.0);
  sr_status check = sr_ncsnpp_weights_load(ctx, path, &m->net, st, NULL);
  if (check == SR_OK)
    say(buf, size, &used, "weights: all %d tensors present, float32, shapes match\n",
        m->net.n_expected);
  else
    say(buf, size, &used, "weights: DO NOT MATCH: %s\n", sr_context_last_error(ctx));
  if (used >= size && size > 4) memcpy(buf + size - 4, "...", 4);
done:
  if (m) {
    sr_ncsnpp_release(&m->net);
    free(m);
  }
  sr_safetensors_close(st);
  return s;
}
