/* The NCSN++ configuration from the JSON stored in a weights file's
 * `__metadata__` ("config"). Sections and names follow score_sde's
 * ml_collections configs (config.model.*, config.data.*, config.training.*)
 * so that converting a checkpoint is a copy of its config. Every key the
 * architecture depends on is required; a missing or mistyped one is named
 * in the error. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/error.h"
#include "io/json.h"
#include "model/ncsnpp.h"

typedef struct parser {
  sr_context *ctx;
  const char *what;
  const sr_json *section;
  const char *section_name;
} parser;

static const sr_json *member(parser *p, const char *key, int required, sr_status *st) {
  const sr_json *v = sr_json_get(p->section, key);
  if (!v && required)
    *st = sr_fail(p->ctx, SR_ERR_FORMAT, "%s: config.%s.%s is missing", p->what, p->section_name,
                  key);
  return v;
}

static sr_status get_int(parser *p, const char *key, int required, int dflt, int *out) {
  sr_status st = SR_OK;
  const sr_json *v = member(p, key, required, &st);
  if (st != SR_OK) return st;
  if (!v) {
    *out = dflt;
    return SR_OK;
  }
  int64_t i;
  double d;
  if (sr_json_as_int64(v, &i)) {
    if (i < -1000000000 || i > 1000000000) goto bad;
    *out = (int)i;
    return SR_OK;
  }
  /* "1000.0" from a Python float is still an integer. */
  if (sr_json_as_double(v, &d) && d == (double)(int64_t)d && d > -1e9 && d < 1e9) {
    *out = (int)d;
    return SR_OK;
  }
bad:
  return sr_fail(p->ctx, SR_ERR_FORMAT, "%s: config.%s.%s must be an integer", p->what,
                 p->section_name, key);
}

static sr_status get_double(parser *p, const char *key, int required, double dflt, double *out) {
  sr_status st = SR_OK;
  const sr_json *v = member(p, key, required, &st);
  if (st != SR_OK) return st;
  if (!v) {
    *out = dflt;
    return SR_OK;
  }
  if (!sr_json_as_double(v, out))
    return sr_fail(p->ctx, SR_ERR_FORMAT, "%s: config.%s.%s must be a number", p->what,
                   p->section_name, key);
  return SR_OK;
}

static sr_status get_bool(parser *p, const char *key, int required, int dflt, int *out) {
  sr_status st = SR_OK;
  const sr_json *v = member(p, key, required, &st);
  if (st != SR_OK) return st;
  if (!v) {
    *out = dflt;
    return SR_OK;
  }
  int64_t i;
  if (sr_json_as_bool(v, out)) return SR_OK;
  if (sr_json_as_int64(v, &i) && (i == 0 || i == 1)) {
    *out = (int)i;
    return SR_OK;
  }
  return sr_fail(p->ctx, SR_ERR_FORMAT, "%s: config.%s.%s must be true or false", p->what,
                 p->section_name, key);
}

/* Case-insensitive choice among names; *out gets the index. */
static sr_status get_choice(parser *p, const char *key, int required, int dflt,
                            const char *const *names, int count, int *out) {
  sr_status st = SR_OK;
  const sr_json *v = member(p, key, required, &st);
  if (st != SR_OK) return st;
  if (!v) {
    *out = dflt;
    return SR_OK;
  }
  const char *s = sr_json_as_string(v);
  if (s)
    for (int i = 0; i < count; ++i)
      if (strcasecmp(s, names[i]) == 0) {
        *out = i;
        return SR_OK;
      }
  char allowed[256] = "";
  for (int i = 0; i < count; ++i) {
    strncat(allowed, names[i], sizeof allowed - strlen(allowed) - 1);
    if (i + 1 < count) strncat(allowed, ", ", sizeof allowed - strlen(allowed) - 1);
  }
  return sr_fail(p->ctx, SR_ERR_FORMAT, "%s: config.%s.%s is %s%s%s, expected one of: %s", p->what,
                 p->section_name, key, s ? "\"" : "", s ? s : "not a string", s ? "\"" : "",
                 allowed);
}

/* An array of numbers into out[max]; *count elements. */
static sr_status get_numbers(parser *p, const char *key, int required, double *out, int max,
                             int *count) {
  sr_status st = SR_OK;
  const sr_json *v = member(p, key, required, &st);
  if (st != SR_OK) return st;
  *count = 0;
  if (!v) return SR_OK;
  if (sr_json_kind(v) != SR_JSON_ARRAY)
    return sr_fail(p->ctx, SR_ERR_FORMAT, "%s: config.%s.%s must be an array", p->what,
                   p->section_name, key);
  size_t n = sr_json_count(v);
  if (n > (size_t)max)
    return sr_fail(p->ctx, SR_ERR_UNSUPPORTED, "%s: config.%s.%s has %zu entries (at most %d)",
                   p->what, p->section_name, key, n, max);
  for (size_t i = 0; i < n; ++i)
    if (!sr_json_as_double(sr_json_at(v, i), &out[i]))
      return sr_fail(p->ctx, SR_ERR_FORMAT, "%s: config.%s.%s[%zu] must be a number", p->what,
                     p->section_name, key, i);
  *count = (int)n;
  return SR_OK;
}

static sr_status section(parser *p, const sr_json *root, const char *name) {
  p->section = sr_json_get(root, name);
  p->section_name = name;
  if (!p->section || sr_json_kind(p->section) != SR_JSON_OBJECT)
    return sr_fail(p->ctx, SR_ERR_FORMAT, "%s: config.%s is missing or not an object", p->what,
                   name);
  return SR_OK;
}

static sr_status parse_model(parser *p, sr_ncsnpp_config *c) {
  static const char *const arch[] = {"ncsnpp"};
  static const char *const act[] = {"swish", "silu"};
  static const char *const norm[] = {"GroupNorm"};
  static const char *const resblock[] = {"biggan", "ddpm"};
  static const char *const prog[] = {"none", "output_skip", "residual"};
  static const char *const prog_in[] = {"none", "input_skip", "residual"};
  static const char *const combine[] = {"sum", "cat"};
  static const char *const embed[] = {"fourier", "positional"};
  int idx;
  SR_TRY(get_choice(p, "name", 1, 0, arch, 1, &idx));
  SR_TRY(get_choice(p, "nonlinearity", 0, 0, act, 2, &idx));
  SR_TRY(get_choice(p, "normalization", 0, 0, norm, 1, &idx));
  SR_TRY(get_int(p, "nf", 1, 0, &c->nf));
  double nums[SR_NCSNPP_MAX_LEVELS > SR_NCSNPP_MAX_FIR ? SR_NCSNPP_MAX_LEVELS : SR_NCSNPP_MAX_FIR];
  int count;
  SR_TRY(get_numbers(p, "ch_mult", 1, nums, SR_NCSNPP_MAX_LEVELS, &count));
  c->num_resolutions = count;
  for (int i = 0; i < count; ++i) c->ch_mult[i] = (int)nums[i];
  SR_TRY(get_int(p, "num_res_blocks", 1, 0, &c->num_res_blocks));
  SR_TRY(get_numbers(p, "attn_resolutions", 1, nums, SR_NCSNPP_MAX_ATTN, &count));
  c->num_attn = count;
  for (int i = 0; i < count; ++i) c->attn_resolutions[i] = (int)nums[i];
  SR_TRY(get_bool(p, "resamp_with_conv", 1, 0, &c->resamp_with_conv));
  SR_TRY(get_bool(p, "fir", 1, 0, &c->fir));
  SR_TRY(get_numbers(p, "fir_kernel", c->fir, nums, SR_NCSNPP_MAX_FIR, &count));
  c->fir_len = count;
  for (int i = 0; i < count; ++i) c->fir_kernel[i] = (float)nums[i];
  SR_TRY(get_bool(p, "skip_rescale", 1, 0, &c->skip_rescale));
  SR_TRY(get_choice(p, "resblock_type", 1, 0, resblock, 2, &idx));
  c->resblock_type = (sr_resblock_type)idx;
  SR_TRY(get_choice(p, "progressive", 1, 0, prog, 3, &idx));
  c->progressive = (sr_progressive)idx;
  SR_TRY(get_choice(p, "progressive_input", 1, 0, prog_in, 3, &idx));
  c->progressive_input = (sr_progressive_input)idx;
  SR_TRY(get_choice(p, "progressive_combine", 1, 0, combine, 2, &idx));
  c->progressive_combine = (sr_combine)idx;
  SR_TRY(get_choice(p, "embedding_type", 1, 0, embed, 2, &idx));
  c->embedding_type = (sr_embedding)idx;
  SR_TRY(get_double(p, "fourier_scale", 0, 16.0, &c->fourier_scale));
  SR_TRY(get_double(p, "init_scale", 0, 0.0, &c->init_scale));
  SR_TRY(get_bool(p, "conditional", 1, 1, &c->conditional));
  SR_TRY(get_bool(p, "scale_by_sigma", 1, 0, &c->scale_by_sigma));
  SR_TRY(get_double(p, "dropout", 0, 0.0, &c->dropout));
  SR_TRY(get_double(p, "sigma_min", 0, 0.01, &c->sigma_min));
  SR_TRY(get_double(p, "sigma_max", 0, 50.0, &c->sigma_max));
  SR_TRY(get_double(p, "beta_min", 0, 0.1, &c->beta_min));
  SR_TRY(get_double(p, "beta_max", 0, 20.0, &c->beta_max));
  SR_TRY(get_int(p, "num_scales", 0, 1000, &c->num_scales));
  return SR_OK;
}

static sr_status validate(parser *p, const sr_ncsnpp_config *c) {
  const char *w = p->what;
  if (c->nf < 4 || c->nf > 4096)
    return sr_fail(p->ctx, SR_ERR_FORMAT, "%s: config.model.nf = %d is out of range", w, c->nf);
  if (c->num_resolutions < 1)
    return sr_fail(p->ctx, SR_ERR_FORMAT, "%s: config.model.ch_mult is empty", w);
  for (int i = 0; i < c->num_resolutions; ++i)
    if (c->ch_mult[i] < 1 || c->ch_mult[i] > 64)
      return sr_fail(p->ctx, SR_ERR_FORMAT, "%s: config.model.ch_mult[%d] = %d is out of range", w,
                     i, c->ch_mult[i]);
  if (c->num_res_blocks < 1 || c->num_res_blocks > 64)
    return sr_fail(p->ctx, SR_ERR_FORMAT, "%s: config.model.num_res_blocks = %d is out of range", w,
                   c->num_res_blocks);
  if (c->fir && (c->fir_len < 1 || c->fir_len > SR_FIR_MAX_TAPS))
    return sr_fail(p->ctx, SR_ERR_UNSUPPORTED,
                   "%s: config.model.fir_kernel has %d taps (1 to %d supported)", w, c->fir_len,
                   SR_FIR_MAX_TAPS);
  if (c->fir) {
    double sum = 0.0;
    for (int i = 0; i < c->fir_len; ++i) sum += c->fir_kernel[i];
    if (sum == 0.0)
      return sr_fail(p->ctx, SR_ERR_FORMAT, "%s: config.model.fir_kernel sums to 0", w);
  }
  if (c->image_size < 1 || c->image_size > 16384)
    return sr_fail(p->ctx, SR_ERR_FORMAT, "%s: config.data.image_size = %d is out of range", w,
                   c->image_size);
  if (c->image_size % (1 << (c->num_resolutions - 1)) != 0)
    return sr_fail(p->ctx, SR_ERR_FORMAT,
                   "%s: config.data.image_size %d is not divisible by 2^%d (%d levels)", w,
                   c->image_size, c->num_resolutions - 1, c->num_resolutions);
  if (c->num_channels < 1 || c->num_channels > 64)
    return sr_fail(p->ctx, SR_ERR_FORMAT, "%s: config.data.num_channels = %d is out of range", w,
                   c->num_channels);
  if (c->embedding_type == SR_EMBED_POSITIONAL && c->nf < 4)
    return sr_fail(p->ctx, SR_ERR_FORMAT, "%s: positional embedding needs nf >= 4", w);
  if (c->sigma_min <= 0.0 || c->sigma_max <= c->sigma_min)
    return sr_fail(p->ctx, SR_ERR_FORMAT, "%s: config.model needs 0 < sigma_min < sigma_max", w);
  if (c->num_scales < 1)
    return sr_fail(p->ctx, SR_ERR_FORMAT, "%s: config.model.num_scales must be positive", w);
  return SR_OK;
}

sr_status sr_ncsnpp_config_parse(sr_context *ctx, const char *what, const char *json,
                                 sr_ncsnpp_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  sr_json *root = NULL;
  SR_TRY(sr_json_parse(ctx, what, json, strlen(json), &root));
  parser p = {.ctx = ctx, .what = what};
  sr_status st = SR_OK;
  if (sr_json_kind(root) != SR_JSON_OBJECT) {
    st = sr_fail(ctx, SR_ERR_FORMAT, "%s: the config is not a JSON object", what);
    goto done;
  }
  if ((st = section(&p, root, "model")) != SR_OK) goto done;
  if ((st = parse_model(&p, cfg)) != SR_OK) goto done;
  if ((st = section(&p, root, "data")) != SR_OK) goto done;
  if ((st = get_int(&p, "image_size", 1, 0, &cfg->image_size)) != SR_OK) goto done;
  if ((st = get_int(&p, "num_channels", 1, 0, &cfg->num_channels)) != SR_OK) goto done;
  if ((st = get_bool(&p, "centered", 1, 0, &cfg->centered)) != SR_OK) goto done;
  if ((st = get_double(&p, "value_max", 0, 1.0, &cfg->value_max)) != SR_OK) goto done;
  if (!(cfg->value_max > 0.0) || cfg->value_max > 1e6) {
    st = sr_fail(ctx, SR_ERR_FORMAT, "%s: data.value_max %g must lie in (0, 1e6]", what,
                 cfg->value_max);
    goto done;
  }
  if ((st = section(&p, root, "training")) != SR_OK) goto done;
  {
    static const char *const sdes[] = {"vesde", "vpsde", "subvpsde"};
    int idx = 0;
    if ((st = get_choice(&p, "sde", 1, 0, sdes, 3, &idx)) != SR_OK) goto done;
    cfg->sde = (sr_sde_kind)idx;
    if ((st = get_bool(&p, "continuous", 0, 1, &cfg->continuous)) != SR_OK) goto done;
  }
  st = validate(&p, cfg);
done:
  sr_json_free(root);
  return st;
}

const char *sr_sde_kind_name(sr_sde_kind k) {
  switch (k) {
  case SR_SDE_VE: return "vesde";
  case SR_SDE_VP: return "vpsde";
  case SR_SDE_SUBVP: return "subvpsde";
  }
  return "?";
}
