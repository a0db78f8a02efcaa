/* The NCSN++ module list in exactly the order score_sde_pytorch's
 * NCSNpp.__init__ appends to all_modules, and the tensors each module owns
 * (names as in its state_dict). The order is what maps `all_modules.<i>` to
 * a layer; many layers share shapes, so it is checked by the golden tests
 * of all three layouts, not by shapes. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "model/ncsnpp.h"

int sr_ncsnpp_groups(int channels) {
  int g = channels / 4;
  return g < 32 ? g : 32;
}

typedef struct builder {
  sr_context *ctx;
  sr_ncsnpp *net;
  int cap_modules, cap_expected;
  size_t floats;
  sr_status st;
} builder;

static sr_module *add_module(builder *bd, sr_module_kind kind, int in_ch, int out_ch) {
  if (bd->st != SR_OK) return NULL;
  sr_ncsnpp *net = bd->net;
  if (net->n_modules == bd->cap_modules) {
    int cap = bd->cap_modules ? 2 * bd->cap_modules : 64;
    sr_module *m = (sr_module *)realloc(net->modules, (size_t)cap * sizeof *m);
    if (!m) {
      bd->st = sr_fail(bd->ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate the module list");
      return NULL;
    }
    net->modules = m;
    bd->cap_modules = cap;
  }
  sr_module *m = &net->modules[net->n_modules++];
  memset(m, 0, sizeof *m);
  for (int i = 0; i < SR_MODULE_MAX_PARAMS; ++i) m->p[i] = SR_PARAM_ABSENT;
  m->kind = kind;
  m->in_ch = in_ch;
  m->out_ch = out_ch;
  return m;
}

/* Declares tensor all_modules.<index>.<suffix> of the given shape, loaded
 * to `dst` (a float offset) by `op`. */
static void expect(builder *bd, int index, const char *suffix, int ndim, const int64_t *shape,
                   size_t dst, sr_load_op op) {
  if (bd->st != SR_OK) return;
  sr_ncsnpp *net = bd->net;
  if (net->n_expected == bd->cap_expected) {
    int cap = bd->cap_expected ? 2 * bd->cap_expected : 256;
    sr_expected_tensor *e = (sr_expected_tensor *)realloc(net->expected, (size_t)cap * sizeof *e);
    if (!e) {
      bd->st = sr_fail(bd->ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate the tensor list");
      return;
    }
    net->expected = e;
    bd->cap_expected = cap;
  }
  sr_expected_tensor *e = &net->expected[net->n_expected++];
  memset(e, 0, sizeof *e);
  snprintf(e->name, sizeof e->name, "all_modules.%d.%s", index, suffix);
  e->ndim = ndim;
  int64_t numel = 1;
  for (int d = 0; d < ndim; ++d) {
    e->shape[d] = shape[d];
    numel *= shape[d];
  }
  e->dst = dst;
  e->op = op;
  net->num_params += numel;
}

/* Reserves n floats of the weight block. */
static size_t reserve(builder *bd, size_t n) {
  size_t at = bd->floats;
  bd->floats += n;
  return at;
}

static int idx_of(builder *bd, const sr_module *m) { return (int)(m - bd->net->modules); }

/* A tensor that lands in its own slot as stored. */
static void param(builder *bd, sr_module *m, int slot, const char *suffix, int ndim, int64_t a,
                  int64_t b, int64_t c, int64_t d) {
  if (bd->st != SR_OK) return;
  const int64_t shape[4] = {a, b, c, d};
  size_t n = 1;
  for (int i = 0; i < ndim; ++i) n *= (size_t)shape[i];
  m->p[slot] = reserve(bd, n);
  expect(bd, idx_of(bd, m), suffix, ndim, shape, m->p[slot], SR_LOAD_COPY);
}

/* NIN (W (in, out), b (out)) loaded as a 1x1 conv weight (out, in). */
static void nin(builder *bd, sr_module *m, int wslot, int bslot, const char *prefix, int in,
                int out) {
  if (bd->st != SR_OK) return;
  char name[48];
  const int64_t ws[2] = {in, out}, bs[1] = {out};
  m->p[wslot] = reserve(bd, (size_t)in * out);
  m->p[bslot] = reserve(bd, (size_t)out);
  snprintf(name, sizeof name, "%s.W", prefix);
  expect(bd, idx_of(bd, m), name, 2, ws, m->p[wslot], SR_LOAD_TRANSPOSE);
  snprintf(name, sizeof name, "%s.b", prefix);
  expect(bd, idx_of(bd, m), name, 1, bs, m->p[bslot], SR_LOAD_COPY);
}

static void conv(builder *bd, int in, int out, int k) {
  sr_module *m = add_module(bd, SR_MOD_CONV, in, out);
  if (!m) return;
  m->ksize = k;
  param(bd, m, SR_P_W, "weight", 4, out, in, k, k);
  param(bd, m, SR_P_B, "bias", 1, out, 0, 0, 0);
}

static void group_norm(builder *bd, int ch) {
  sr_module *m = add_module(bd, SR_MOD_GROUPNORM, ch, ch);
  if (!m) return;
  param(bd, m, SR_P_W, "weight", 1, ch, 0, 0, 0);
  param(bd, m, SR_P_B, "bias", 1, ch, 0, 0, 0);
}

static void resblock(builder *bd, int in, int out, int up, int down) {
  const sr_ncsnpp_config *c = &bd->net->cfg;
  sr_module *m = add_module(bd, SR_MOD_RESBLOCK, in, out);
  if (!m) return;
  const int temb = 4 * c->nf;
  m->up = up, m->down = down;
  param(bd, m, SR_P_GN0_W, "GroupNorm_0.weight", 1, in, 0, 0, 0);
  param(bd, m, SR_P_GN0_B, "GroupNorm_0.bias", 1, in, 0, 0, 0);
  param(bd, m, SR_P_CONV0_W, "Conv_0.weight", 4, out, in, 3, 3);
  param(bd, m, SR_P_CONV0_B, "Conv_0.bias", 1, out, 0, 0, 0);
  /* score_sde_pytorch always passes temb_dim, so Dense_0 exists even in an
   * unconditional model (where forward never uses it). */
  param(bd, m, SR_P_DENSE_W, "Dense_0.weight", 2, out, temb, 0, 0);
  param(bd, m, SR_P_DENSE_B, "Dense_0.bias", 1, out, 0, 0, 0);
  param(bd, m, SR_P_GN1_W, "GroupNorm_1.weight", 1, out, 0, 0, 0);
  param(bd, m, SR_P_GN1_B, "GroupNorm_1.bias", 1, out, 0, 0, 0);
  param(bd, m, SR_P_CONV1_W, "Conv_1.weight", 4, out, out, 3, 3);
  param(bd, m, SR_P_CONV1_B, "Conv_1.bias", 1, out, 0, 0, 0);
  if (c->resblock_type == SR_RESBLOCK_BIGGAN) {
    m->has_skip = in != out || up || down;
    if (m->has_skip) {
      param(bd, m, SR_P_SKIP_W, "Conv_2.weight", 4, out, in, 1, 1);
      param(bd, m, SR_P_SKIP_B, "Conv_2.bias", 1, out, 0, 0, 0);
    }
  } else {
    /* ResnetBlockDDPMpp with conv_shortcut=False: a NIN when channels change. */
    m->has_skip = in != out;
    if (m->has_skip) nin(bd, m, SR_P_SKIP_W, SR_P_SKIP_B, "NIN_0", in, out);
  }
}

static void attn(builder *bd, int ch) {
  sr_module *m = add_module(bd, SR_MOD_ATTN, ch, ch);
  if (!m) return;
  param(bd, m, SR_P_ATTN_GN_W, "GroupNorm_0.weight", 1, ch, 0, 0, 0);
  param(bd, m, SR_P_ATTN_GN_B, "GroupNorm_0.bias", 1, ch, 0, 0, 0);
  if (bd->st != SR_OK) return;
  /* q, k, v projections stacked into one (3C, C) 1x1 conv: one pass over h. */
  m->p[SR_P_QKV_W] = reserve(bd, (size_t)3 * ch * ch);
  m->p[SR_P_QKV_B] = reserve(bd, (size_t)3 * ch);
  const int64_t ws[2] = {ch, ch}, bs[1] = {ch};
  for (int i = 0; i < 3; ++i) {
    char name[32];
    snprintf(name, sizeof name, "NIN_%d.W", i);
    expect(bd, idx_of(bd, m), name, 2, ws, m->p[SR_P_QKV_W] + (size_t)i * ch * ch,
           SR_LOAD_TRANSPOSE);
    snprintf(name, sizeof name, "NIN_%d.b", i);
    expect(bd, idx_of(bd, m), name, 1, bs, m->p[SR_P_QKV_B] + (size_t)i * ch, SR_LOAD_COPY);
  }
  nin(bd, m, SR_P_OUT_W, SR_P_OUT_B, "NIN_3", ch, ch);
}

/* layerspp.Downsample / Upsample: with a conv, `Conv2d_0` (FIR) or `Conv_0`. */
static void resample(builder *bd, sr_module_kind kind, int in, int out, int with_conv) {
  const sr_ncsnpp_config *c = &bd->net->cfg;
  sr_module *m = add_module(bd, kind, in, out);
  if (!m) return;
  m->with_conv = with_conv;
  if (!with_conv) return;
  const char *wname = c->fir ? "Conv2d_0.weight" : "Conv_0.weight";
  const char *bname = c->fir ? "Conv2d_0.bias" : "Conv_0.bias";
  param(bd, m, SR_P_W, wname, 4, out, in, 3, 3);
  param(bd, m, SR_P_B, bname, 1, out, 0, 0, 0);
}

static int has_attn(const sr_ncsnpp_config *c, int res) {
  for (int i = 0; i < c->num_attn; ++i)
    if (c->attn_resolutions[i] == res) return 1;
  return 0;
}

sr_status sr_ncsnpp_build(sr_context *ctx, const sr_ncsnpp_config *cfg, sr_ncsnpp *net) {
  memset(net, 0, sizeof *net);
  net->cfg = *cfg;
  builder bd = {.ctx = ctx, .net = net, .st = SR_OK};
  const sr_ncsnpp_config *c = &net->cfg;
  const int nf = c->nf, L = c->num_resolutions, channels = c->num_channels;

  if (c->embedding_type == SR_EMBED_FOURIER) {
    sr_module *m = add_module(&bd, SR_MOD_FOURIER, 0, 2 * nf);
    if (m) param(&bd, m, SR_P_W, "W", 1, nf, 0, 0, 0);
  }
  const int embed_dim = c->embedding_type == SR_EMBED_FOURIER ? 2 * nf : nf;
  if (c->conditional) {
    sr_module *m = add_module(&bd, SR_MOD_LINEAR, embed_dim, 4 * nf);
    if (m) {
      param(&bd, m, SR_P_W, "weight", 2, 4 * nf, embed_dim, 0, 0);
      param(&bd, m, SR_P_B, "bias", 1, 4 * nf, 0, 0, 0);
    }
    m = add_module(&bd, SR_MOD_LINEAR, 4 * nf, 4 * nf);
    if (m) {
      param(&bd, m, SR_P_W, "weight", 2, 4 * nf, 4 * nf, 0, 0);
      param(&bd, m, SR_P_B, "bias", 1, 4 * nf, 0, 0, 0);
    }
  }

  /* Downsampling path. hs_c mirrors the channel counts of the skip stack. */
  int hs_c[4 * SR_NCSNPP_MAX_LEVELS * 64 + 8];
  int n_hs = 0;
  int input_pyramid_ch = channels;
  conv(&bd, channels, nf, 3);
  hs_c[n_hs++] = nf;
  int in_ch = nf;
  for (int lv = 0; lv < L; ++lv) {
    const int res = c->image_size >> lv;
    for (int b = 0; b < c->num_res_blocks; ++b) {
      const int out_ch = nf * c->ch_mult[lv];
      resblock(&bd, in_ch, out_ch, 0, 0);
      in_ch = out_ch;
      if (has_attn(c, res)) attn(&bd, in_ch);
      hs_c[n_hs++] = in_ch;
    }
    if (lv != L - 1) {
      if (c->resblock_type == SR_RESBLOCK_DDPM)
        resample(&bd, SR_MOD_DOWNSAMPLE, in_ch, in_ch, c->resamp_with_conv);
      else
        resblock(&bd, in_ch, in_ch, 0, 1);
      if (c->progressive_input == SR_PROG_IN_INPUT_SKIP) {
        sr_module *m = add_module(&bd, SR_MOD_COMBINE, input_pyramid_ch, in_ch);
        if (m) {
          param(&bd, m, SR_P_W, "Conv_0.weight", 4, in_ch, input_pyramid_ch, 1, 1);
          param(&bd, m, SR_P_B, "Conv_0.bias", 1, in_ch, 0, 0, 0);
        }
        if (c->progressive_combine == SR_COMBINE_CAT) in_ch *= 2;
      } else if (c->progressive_input == SR_PROG_IN_RESIDUAL) {
        resample(&bd, SR_MOD_DOWNSAMPLE, input_pyramid_ch, in_ch, 1);
        input_pyramid_ch = in_ch;
      }
      hs_c[n_hs++] = in_ch;
    }
  }

  in_ch = hs_c[n_hs - 1];
  resblock(&bd, in_ch, in_ch, 0, 0);
  attn(&bd, in_ch);
  resblock(&bd, in_ch, in_ch, 0, 0);

  int pyramid_ch = 0;
  for (int lv = L - 1; lv >= 0; --lv) {
    const int res = c->image_size >> lv;
    for (int b = 0; b < c->num_res_blocks + 1; ++b) {
      const int out_ch = nf * c->ch_mult[lv];
      resblock(&bd, in_ch + hs_c[--n_hs], out_ch, 0, 0);
      in_ch = out_ch;
    }
    if (has_attn(c, res)) attn(&bd, in_ch);
    if (c->progressive != SR_PROG_NONE) {
      if (lv == L - 1) {
        group_norm(&bd, in_ch);
        if (c->progressive == SR_PROG_OUTPUT_SKIP) {
          conv(&bd, in_ch, channels, 3);
          pyramid_ch = channels;
        } else {
          conv(&bd, in_ch, in_ch, 3);
          pyramid_ch = in_ch;
        }
      } else if (c->progressive == SR_PROG_OUTPUT_SKIP) {
        group_norm(&bd, in_ch);
        conv(&bd, in_ch, channels, 3);
        pyramid_ch = channels;
      } else {
        resample(&bd, SR_MOD_UPSAMPLE, pyramid_ch, in_ch, 1);
        pyramid_ch = in_ch;
      }
    }
    if (lv != 0) {
      if (c->resblock_type == SR_RESBLOCK_DDPM)
        resample(&bd, SR_MOD_UPSAMPLE, in_ch, in_ch, c->resamp_with_conv);
      else
        resblock(&bd, in_ch, in_ch, 1, 0);
    }
  }
  if (bd.st == SR_OK && n_hs != 0)
    bd.st = SR_FAIL_HERE(ctx, SR_ERR_INTERNAL, "NCSN++ build: %d skip connections unused", n_hs);
  if (c->progressive != SR_PROG_OUTPUT_SKIP) {
    group_norm(&bd, in_ch);
    conv(&bd, in_ch, channels, 3);
  }
  net->weight_floats = bd.floats;
  if (bd.st != SR_OK) sr_ncsnpp_release(net);
  return bd.st;
}

void sr_ncsnpp_release(sr_ncsnpp *net) {
  free(net->modules);
  free(net->expected);
  net->modules = NULL;
  net->expected = NULL;
  net->n_modules = net->n_expected = 0;
}
