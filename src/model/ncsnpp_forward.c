/* The NCSN++ forward pass over the op table, following score_sde_pytorch's
 * NCSNpp.forward step by step (module index m_idx walks all_modules in the
 * same order). Activations are reference-counted handles into one arena;
 * a dry run records the peak and the workspace sizes, later runs reuse the
 * plan. Fusions, all exact rewrites of the reference:
 *   act(GroupNorm(x))            -> group_norm(silu=1)
 *   conv(act(GroupNorm(x)))      -> group_norm_coeffs + conv2d_normed, on
 *                                   backends that have them (the CPU): the
 *                                   normalised tensor is never written
 *   Conv_0(h) + Dense_0(act(temb))[:, :, None, None]
 *                                -> conv2d with per-sample bias (bias_nc)
 *   (x + Conv_1(h)) / sqrt(2)    -> conv2d with residual and scale
 *   NIN_0/1/2 of AttnBlockpp     -> one 1x1 conv to (3C) channels
 *   Combine 'sum', output_skip's pyramid + conv(...)
 *                                -> conv2d with residual */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "model/model_internal.h"

#define MAX_ACTS 128

typedef struct act {
  size_t off, bytes;
  int c, h, w;
  int refs;
} act;

typedef struct exec {
  sr_model *m;
  sr_backend *b;
  sr_context *ctx;
  const sr_ncsnpp_config *cfg;
  int dry;
  int n, h, w;
  sr_arena arena;
  char *base;       /* arena memory (NULL when dry) */
  const float *wts; /* weight block (NULL when dry) */
  size_t conv_ws_need;
  double flops;
  act pool[MAX_ACTS];
  sr_status st;
} exec;

static const float kInvSqrt2 = 0.70710678118654752f;

/* ---------------------------------------------------------------- handles */

static act *new_act(exec *e, int c, int h, int w) {
  if (e->st != SR_OK) return NULL;
  act *a = NULL;
  for (int i = 0; i < MAX_ACTS && !a; ++i)
    if (e->pool[i].refs == 0) a = &e->pool[i];
  if (!a) {
    e->st =
        SR_FAIL_HERE(e->ctx, SR_ERR_INTERNAL, "NCSN++: more than %d live activations", MAX_ACTS);
    return NULL;
  }
  a->c = c, a->h = h, a->w = w;
  a->bytes = (size_t)e->n * c * h * w * sizeof(float);
  if (sr_arena_alloc(&e->arena, a->bytes, &a->off) != 0) {
    e->st = SR_FAIL_HERE(e->ctx, SR_ERR_INTERNAL, "NCSN++: arena bookkeeping is full");
    return NULL;
  }
  if (!e->dry && e->arena.top > e->m->plan.arena_bytes) {
    e->st = SR_FAIL_HERE(e->ctx, SR_ERR_INTERNAL, "NCSN++: the run left its plan (%zu > %zu)",
                         e->arena.top, e->m->plan.arena_bytes);
    return NULL;
  }
  a->refs = 1;
  return a;
}

static act *ref(act *a) {
  if (a) ++a->refs;
  return a;
}

static void release(exec *e, act *a) {
  if (!a || --a->refs > 0) return;
  if (sr_arena_free(&e->arena, a->off, a->bytes) != 0 && e->st == SR_OK)
    e->st = SR_FAIL_HERE(e->ctx, SR_ERR_INTERNAL, "NCSN++: arena bookkeeping is full");
}

static float *P(exec *e, const act *a) {
  return e->dry || !a ? NULL : (float *)(e->base + a->off);
}

static const float *W(exec *e, size_t off) {
  return e->dry || off == SR_PARAM_ABSENT ? NULL : e->wts + off;
}

static size_t per_sample(const act *a) {
  return (size_t)a->c * a->h * a->w;
}

#define RUN(call)                                                                                  \
  do {                                                                                             \
    if (e->st == SR_OK && !e->dry) e->st = (call);                                                 \
  } while (0)

/* ---------------------------------------------------------------- layers */

/* y = scale * (conv(x') + bias + bias_nc + residual), x' = x, or
 * act(a x + c) with (a, c) per channel from ab (conv2d_normed). */
static act *conv_ab(exec *e, act *x, act *ab, int silu, int c_out, int k, int stride, int pt,
                    int pl, int pb, int pr, size_t w_off, size_t b_off, act *bias_nc, act *residual,
                    float scale) {
  if (e->st != SR_OK || !x) return NULL;
  sr_conv2d_desc d;
  e->st =
      sr_conv2d_desc_init(e->ctx, &d, e->n, x->c, x->h, x->w, c_out, k, k, stride, pt, pl, pb, pr);
  if (e->st != SR_OK) return NULL;
  d.precision = e->m->precision; /* the workspace may depend on it: planned with it too */
  act *y = new_act(e, c_out, d.h_out, d.w_out);
  if (!y) return NULL;
  e->flops += 2.0 * e->n * c_out * d.h_out * d.w_out * (double)x->c * k * k;
  if (e->dry) {
    if (e->b) {
      size_t ws = 0;
      e->st = e->b->ops->conv2d_workspace(e->b, &d, &ws);
      if (ws > e->conv_ws_need) e->conv_ws_need = ws;
    }
    return y;
  }
  if (ab)
    RUN(e->b->ops->conv2d_normed(e->b, &d, P(e, x), P(e, ab), silu, W(e, w_off), W(e, b_off),
                                 P(e, bias_nc), P(e, residual), scale, P(e, y), e->m->conv_ws));
  else
    RUN(e->b->ops->conv2d(e->b, &d, P(e, x), W(e, w_off), W(e, b_off), P(e, bias_nc),
                          P(e, residual), scale, P(e, y), e->m->conv_ws));
  return y;
}

static act *conv(exec *e, act *x, int c_out, int k, int stride, int pt, int pl, int pb, int pr,
                 size_t w_off, size_t b_off, act *bias_nc, act *residual, float scale) {
  return conv_ab(e, x, NULL, 0, c_out, k, stride, pt, pl, pb, pr, w_off, b_off, bias_nc, residual,
                 scale);
}

static act *conv3(exec *e, act *x, int c_out, size_t w_off, size_t b_off, act *bias_nc,
                  act *residual, float scale) {
  return conv(e, x, c_out, 3, 1, 1, 1, 1, 1, w_off, b_off, bias_nc, residual, scale);
}

static act *conv1(exec *e, act *x, int c_out, size_t w_off, size_t b_off, act *residual,
                  float scale) {
  return conv(e, x, c_out, 1, 1, 0, 0, 0, 0, w_off, b_off, NULL, residual, scale);
}

static void group_norm_into(exec *e, act *x, act *y, size_t g_off, size_t b_off, int silu) {
  if (e->st != SR_OK || !x || !y) return;
  RUN(e->b->ops->group_norm(e->b, P(e, x), (size_t)e->n, (size_t)x->c, (size_t)x->h * x->w,
                            (size_t)sr_ncsnpp_groups(x->c), W(e, g_off), W(e, b_off), 1e-6f, silu,
                            P(e, y)));
}

static act *group_norm(exec *e, act *x, size_t g_off, size_t b_off, int silu) {
  if (e->st != SR_OK || !x) return NULL;
  act *y = new_act(e, x->c, x->h, x->w);
  group_norm_into(e, x, y, g_off, b_off, silu);
  return y;
}

/* Whether GroupNorm can be folded into the convolution that follows it. */
static int fused_norm(const exec *e) {
  return e->b && e->b->ops->group_norm_coeffs && e->b->ops->conv2d_normed;
}

/* A k x k stride-1 "same" conv (k = 3 or 1) of act(GroupNorm(x)): folded
 * into the conv where the backend can; otherwise the normalised tensor,
 * written over x when `consume` (the caller's x is not used again). */
static act *norm_conv(exec *e, act *x, size_t g_off, size_t gb_off, int silu, int consume,
                      int c_out, int k, size_t w_off, size_t b_off, act *bias_nc, act *residual,
                      float scale) {
  if (e->st != SR_OK || !x) return NULL;
  const int p = k / 2;
  if (fused_norm(e)) {
    act *ab = new_act(e, 2 * x->c, 1, 1); /* (N, C, 2) */
    if (!ab) return NULL;
    RUN(e->b->ops->group_norm_coeffs(e->b, P(e, x), (size_t)e->n, (size_t)x->c, (size_t)x->h * x->w,
                                     (size_t)sr_ncsnpp_groups(x->c), W(e, g_off), W(e, gb_off),
                                     1e-6f, P(e, ab)));
    act *y =
        conv_ab(e, x, ab, silu, c_out, k, 1, p, p, p, p, w_off, b_off, bias_nc, residual, scale);
    release(e, ab);
    return y;
  }
  act *h = consume ? ref(x) : new_act(e, x->c, x->h, x->w);
  group_norm_into(e, x, h, g_off, gb_off, silu);
  act *y = conv(e, h, c_out, k, 1, p, p, p, p, w_off, b_off, bias_nc, residual, scale);
  release(e, h);
  return y;
}

static act *fir(exec *e, act *x, const sr_fir_desc *f, size_t bias_off) {
  if (e->st != SR_OK || !x) return NULL;
  sr_fir_desc across = *f;
  across.kh = f->kw;
  const int ho = (int)sr_fir_out_size(f, (size_t)x->h),
            wo = (int)sr_fir_out_size(&across, (size_t)x->w);
  if (ho <= 0 || wo <= 0) {
    e->st =
        sr_fail(e->ctx, SR_ERR_SHAPE, "NCSN++: resampling a %dx%d map leaves nothing", x->h, x->w);
    return NULL;
  }
  act *y = new_act(e, x->c, ho, wo);
  if (!y) return NULL;
  /* taps that meet real samples: KH*KW/up^2 per output */
  e->flops += 2.0 * e->n * x->c * ho * wo * (double)f->kh * f->kw / ((double)f->up * f->up);
  RUN(e->b->ops->upfirdn2d(e->b, f, P(e, x), (size_t)e->n * x->c, (size_t)x->h, (size_t)x->w,
                           W(e, bias_off), (size_t)x->c, P(e, y)));
  return y;
}

/* Dense_0(act(temb)) of a resblock: (N, out). */
static act *linear(exec *e, act *x, int out, size_t w_off, size_t b_off, int silu_in) {
  if (e->st != SR_OK || !x) return NULL;
  act *y = new_act(e, out, 1, 1);
  if (!y) return NULL;
  e->flops += 2.0 * e->n * x->c * (double)out;
  RUN(e->b->ops->linear(e->b, P(e, x), (size_t)e->n, (size_t)x->c, (size_t)out, W(e, w_off),
                        W(e, b_off), silu_in, P(e, y)));
  return y;
}

static act *concat(exec *e, act *a, act *b) {
  if (e->st != SR_OK || !a || !b) return NULL;
  act *y = new_act(e, a->c + b->c, a->h, a->w);
  if (!y) return NULL;
  RUN(e->b->ops->concat_channels(e->b, P(e, y), P(e, a), P(e, b), (size_t)e->n, (size_t)a->c,
                                 (size_t)b->c, (size_t)a->h * a->w));
  return y;
}

/* ResnetBlockBigGANpp / ResnetBlockDDPMpp. Consumes nothing: x stays owned
 * by the caller. */
static act *resblock(exec *e, const sr_module *m, act *x, act *temb) {
  if (e->st != SR_OK || !x) return NULL;
  act *dense = temb ? linear(e, temb, m->out_ch, m->p[SR_P_DENSE_W], m->p[SR_P_DENSE_B], 1) : NULL;
  act *xs = ref(x);
  act *h2;
  if (!m->up && !m->down) {
    h2 = norm_conv(e, x, m->p[SR_P_GN0_W], m->p[SR_P_GN0_B], 1, 0, m->out_ch, 3, m->p[SR_P_CONV0_W],
                   m->p[SR_P_CONV0_B], dense, NULL, 1.0f);
  } else {
    /* GroupNorm, FIR or naive resampling of both branches (the descriptors
     * hold whichever the config asks for), then Conv_0 */
    act *h = group_norm(e, x, m->p[SR_P_GN0_W], m->p[SR_P_GN0_B], 1);
    const sr_fir_desc *f = m->up ? &e->m->firs.up : &e->m->firs.down;
    act *hr = fir(e, h, f, SR_PARAM_ABSENT);
    release(e, h);
    act *x2 = fir(e, xs, f, SR_PARAM_ABSENT);
    release(e, xs);
    xs = x2;
    h2 = conv3(e, hr, m->out_ch, m->p[SR_P_CONV0_W], m->p[SR_P_CONV0_B], dense, NULL, 1.0f);
    release(e, hr);
  }
  release(e, dense);
  act *skip = xs;
  if (m->has_skip) {
    skip = conv1(e, xs, m->out_ch, m->p[SR_P_SKIP_W], m->p[SR_P_SKIP_B], NULL, 1.0f);
    release(e, xs);
  }
  /* GroupNorm_1, act, Dropout_0 (identity), Conv_1 with the skip added */
  const float scale = e->cfg->skip_rescale ? kInvSqrt2 : 1.0f;
  act *y = norm_conv(e, h2, m->p[SR_P_GN1_W], m->p[SR_P_GN1_B], 1, 1, m->out_ch, 3,
                     m->p[SR_P_CONV1_W], m->p[SR_P_CONV1_B], NULL, skip, scale);
  release(e, h2);
  release(e, skip);
  return y;
}

/* AttnBlockpp: x + NIN_3(softmax(q^T k / sqrt(C)) v), optionally / sqrt 2. */
static act *attention(exec *e, const sr_module *m, act *x) {
  if (e->st != SR_OK || !x) return NULL;
  act *qkv = norm_conv(e, x, m->p[SR_P_ATTN_GN_W], m->p[SR_P_ATTN_GN_B], 0, 0, 3 * x->c, 1,
                       m->p[SR_P_QKV_W], m->p[SR_P_QKV_B], NULL, NULL, 1.0f);
  const int hw = x->h * x->w;
  act *ws = new_act(e, hw, hw, 1); /* (N, HW, HW) scores */
  act *o = new_act(e, x->c, x->h, x->w);
  if (e->st == SR_OK) {
    e->flops += 4.0 * e->n * (double)hw * hw * x->c;
    RUN(e->b->ops->attention(e->b, P(e, qkv), (size_t)e->n, (size_t)x->c, (size_t)hw,
                             (float)pow((double)x->c, -0.5), P(e, ws), P(e, o)));
  }
  release(e, ws);
  release(e, qkv);
  const float scale = e->cfg->skip_rescale ? kInvSqrt2 : 1.0f;
  act *y = conv1(e, o, x->c, m->p[SR_P_OUT_W], m->p[SR_P_OUT_B], x, scale);
  release(e, o);
  return y;
}

/* layerspp.Downsample (with or without conv; FIR or not). */
static act *downsample(exec *e, const sr_module *m, act *x) {
  if (e->st != SR_OK || !x) return NULL;
  if (!m->with_conv) return fir(e, x, &e->m->firs.down, SR_PARAM_ABSENT);
  if (e->cfg->fir) {
    act *p = fir(e, x, &e->m->firs.conv_down, SR_PARAM_ABSENT);
    act *y = conv(e, p, m->out_ch, 3, 2, 0, 0, 0, 0, m->p[SR_P_W], m->p[SR_P_B], NULL, NULL, 1.0f);
    release(e, p);
    return y;
  }
  /* F.pad(x, (0, 1, 0, 1)) then a 3x3 stride-2 conv without padding */
  return conv(e, x, m->out_ch, 3, 2, 0, 0, 1, 1, m->p[SR_P_W], m->p[SR_P_B], NULL, NULL, 1.0f);
}

/* layerspp.Upsample. With FIR and conv: upsample_conv_2d, a stride-2
 * transposed conv written as zero insertion + a 3x3 conv, then the FIR,
 * then the bias. */
static act *upsample(exec *e, const sr_module *m, act *x) {
  if (e->st != SR_OK || !x) return NULL;
  if (!m->with_conv) return fir(e, x, &e->m->firs.up, SR_PARAM_ABSENT);
  if (e->cfg->fir) {
    act *z = fir(e, x, &e->m->firs.zero_up, SR_PARAM_ABSENT);
    act *c =
        conv(e, z, m->out_ch, 3, 1, 0, 0, 0, 0, m->p[SR_P_W], SR_PARAM_ABSENT, NULL, NULL, 1.0f);
    release(e, z);
    act *y = fir(e, c, &e->m->firs.conv_up, m->p[SR_P_B]);
    release(e, c);
    return y;
  }
  act *u = fir(e, x, &e->m->firs.up, SR_PARAM_ABSENT); /* nearest x2 */
  act *y = conv3(e, u, m->out_ch, m->p[SR_P_W], m->p[SR_P_B], NULL, NULL, 1.0f);
  release(e, u);
  return y;
}

/* ---------------------------------------------------------------- embedding */

/* The noise embedding on the host, in float32 with score_sde_pytorch's
 * operation order so the phases (up to ~1e3 radians) round the same way. */
static sr_status embed(exec *e, const float *cond, float *temb, int *width) {
  const sr_ncsnpp_config *c = e->cfg;
  const int nf = c->nf;
  if (c->embedding_type == SR_EMBED_FOURIER) {
    *width = 2 * nf;
    if (e->dry) return SR_OK;
    const float two_pi_factor = 3.14159265358979323846f; /* np.pi as float32 */
    for (int s = 0; s < e->n; ++s) {
      const float ls = logf(cond[s]);
      for (int i = 0; i < nf; ++i) {
        float v = ls * e->m->fourier_w[i];
        v = v * 2.0f;
        v = v * two_pi_factor;
        temb[(size_t)s * 2 * nf + i] = sinf(v);
        temb[(size_t)s * 2 * nf + nf + i] = cosf(v);
      }
    }
    return SR_OK;
  }
  *width = nf;
  if (e->dry) return SR_OK;
  const int half = nf / 2;
  const float step = (float)(-log(10000.0) / (double)(half - 1));
  for (int s = 0; s < e->n; ++s) {
    float *t = temb + (size_t)s * nf;
    for (int i = 0; i < half; ++i) {
      const float f = expf((float)i * step);
      const float v = cond[s] * f;
      t[i] = sinf(v);
      t[half + i] = cosf(v);
    }
    if (nf % 2) t[nf - 1] = 0.0f;
  }
  return SR_OK;
}

/* sigma per sample for scale_by_sigma: the input itself (Fourier), or the
 * discrete VE table exp(linspace(log sigma_max, log sigma_min, N)) at the
 * label (positional). */
static sr_status used_sigma(exec *e, float cond, double *sigma) {
  const sr_ncsnpp_config *c = e->cfg;
  if (c->embedding_type == SR_EMBED_FOURIER) {
    *sigma = cond;
    return SR_OK;
  }
  long long i = (long long)cond; /* .long() truncates toward zero */
  if (i < 0 || i >= c->num_scales)
    return sr_fail(e->ctx, SR_ERR_INVALID_ARGUMENT,
                   "time label %g is outside the model's %d noise levels", (double)cond,
                   c->num_scales);
  const double lo = log(c->sigma_min), hi = log(c->sigma_max);
  const double t = c->num_scales > 1 ? (double)i / (c->num_scales - 1) : 0.0;
  *sigma = exp(hi + (lo - hi) * t);
  return SR_OK;
}

/* ---------------------------------------------------------------- network */

static void network(exec *e, const float *x_in, const float *cond, float *out) {
  const sr_ncsnpp_config *c = e->cfg;
  const sr_module *mods = e->m->net.modules;
  const int L = c->num_resolutions, nrb = c->num_res_blocks;
  int mi = 0;
  int width = 0;

  /* temb: embedding uploaded, then Dense_0, act, Dense_1 */
  if ((e->st = embed(e, cond, e->m->temb_host, &width)) != SR_OK) return;
  act *temb = new_act(e, width, 1, 1);
  if (!temb) return;
  RUN(e->b->ops->upload(e->b, P(e, temb), e->m->temb_host, temb->bytes));
  if (c->embedding_type == SR_EMBED_FOURIER) ++mi;
  if (c->conditional) {
    act *t1 = linear(e, temb, 4 * c->nf, mods[mi].p[SR_P_W], mods[mi].p[SR_P_B], 0);
    ++mi;
    act *t2 = linear(e, t1, 4 * c->nf, mods[mi].p[SR_P_W], mods[mi].p[SR_P_B], 1);
    ++mi;
    release(e, temb);
    release(e, t1);
    temb = t2;
  } else {
    release(e, temb);
    temb = NULL;
  }

  /* x into the arena; 2x - 1 (fill with -1, then y = 2x + 1*y) when the
   * data are in [0, 1] */
  act *x = new_act(e, c->num_channels, e->h, e->w);
  if (!x) return;
  const size_t x_count = x->bytes / sizeof(float);
  if (c->centered) {
    RUN(e->b->ops->copy(e->b, P(e, x), x_in, x->bytes));
  } else {
    RUN(e->b->ops->fill(e->b, P(e, x), x_count, -1.0f));
    RUN(e->b->ops->axpby(e->b, P(e, x), x_in, x_count, 2.0f, 1.0f));
  }

  /* Downsampling path. hs is the skip stack. */
  act *hs[4 * SR_NCSNPP_MAX_LEVELS * 64 + 8];
  int n_hs = 0;
  act *input_pyramid = c->progressive_input != SR_PROG_IN_NONE ? ref(x) : NULL;
  hs[n_hs++] =
      conv3(e, x, mods[mi].out_ch, mods[mi].p[SR_P_W], mods[mi].p[SR_P_B], NULL, NULL, 1.0f);
  ++mi;
  release(e, x);
  for (int lv = 0; lv < L && e->st == SR_OK; ++lv) {
    for (int b = 0; b < nrb; ++b) {
      act *h = resblock(e, &mods[mi++], hs[n_hs - 1], temb);
      if (mi < e->m->net.n_modules && mods[mi].kind == SR_MOD_ATTN) {
        /* the builder put an attention block here iff this level has one */
        act *a = attention(e, &mods[mi++], h);
        release(e, h);
        h = a;
      }
      hs[n_hs++] = h;
    }
    if (lv != L - 1) {
      act *h;
      if (c->resblock_type == SR_RESBLOCK_DDPM)
        h = downsample(e, &mods[mi++], hs[n_hs - 1]);
      else
        h = resblock(e, &mods[mi++], hs[n_hs - 1], temb);
      if (c->progressive_input == SR_PROG_IN_INPUT_SKIP) {
        act *p = fir(e, input_pyramid, &e->m->firs.down, SR_PARAM_ABSENT);
        release(e, input_pyramid);
        input_pyramid = p;
        const sr_module *cm = &mods[mi++];
        if (c->progressive_combine == SR_COMBINE_CAT) {
          act *hc = conv1(e, input_pyramid, cm->out_ch, cm->p[SR_P_W], cm->p[SR_P_B], NULL, 1.0f);
          act *cat = concat(e, hc, h);
          release(e, hc);
          release(e, h);
          h = cat;
        } else {
          act *sum = conv1(e, input_pyramid, cm->out_ch, cm->p[SR_P_W], cm->p[SR_P_B], h, 1.0f);
          release(e, h);
          h = sum;
        }
      } else if (c->progressive_input == SR_PROG_IN_RESIDUAL) {
        act *p = downsample(e, &mods[mi++], input_pyramid);
        release(e, input_pyramid);
        /* (pyramid + h) / sqrt 2, into p */
        if (p && h)
          RUN(e->b->ops->axpby(e->b, P(e, p), P(e, h), p->bytes / sizeof(float),
                               c->skip_rescale ? kInvSqrt2 : 1.0f,
                               c->skip_rescale ? kInvSqrt2 : 1.0f));
        release(e, h);
        input_pyramid = p;
        h = ref(p);
      }
      hs[n_hs++] = h;
    }
  }

  act *h = resblock(e, &mods[mi++], hs[n_hs - 1], temb);
  act *t = attention(e, &mods[mi++], h);
  release(e, h);
  h = resblock(e, &mods[mi++], t, temb);
  release(e, t);

  act *pyramid = NULL;
  for (int lv = L - 1; lv >= 0 && e->st == SR_OK; --lv) {
    for (int b = 0; b < nrb + 1; ++b) {
      act *skip = hs[--n_hs];
      act *cat = concat(e, h, skip);
      release(e, h);
      release(e, skip);
      h = resblock(e, &mods[mi++], cat, temb);
      release(e, cat);
    }
    if (mi < e->m->net.n_modules && mods[mi].kind == SR_MOD_ATTN) {
      act *a = attention(e, &mods[mi++], h);
      release(e, h);
      h = a;
    }
    if (c->progressive != SR_PROG_NONE) {
      if (lv == L - 1 || c->progressive == SR_PROG_OUTPUT_SKIP) {
        /* GroupNorm + act + conv3x3; output_skip adds the upsampled pyramid */
        const sr_module *gn = &mods[mi++];
        const sr_module *cv = &mods[mi++];
        act *up = NULL;
        if (lv != L - 1) {
          up = fir(e, pyramid, &e->m->firs.up, SR_PARAM_ABSENT);
          release(e, pyramid);
          pyramid = NULL;
        }
        act *p = norm_conv(e, h, gn->p[SR_P_W], gn->p[SR_P_B], 1, 0, cv->out_ch, 3, cv->p[SR_P_W],
                           cv->p[SR_P_B], NULL, up, 1.0f);
        release(e, up);
        release(e, pyramid);
        pyramid = p;
      } else {
        /* residual: pyramid = (Upsample(pyramid) + h) / sqrt 2; h = pyramid */
        act *p = upsample(e, &mods[mi++], pyramid);
        release(e, pyramid);
        if (p && h)
          RUN(e->b->ops->axpby(e->b, P(e, p), P(e, h), p->bytes / sizeof(float),
                               c->skip_rescale ? kInvSqrt2 : 1.0f,
                               c->skip_rescale ? kInvSqrt2 : 1.0f));
        release(e, h);
        pyramid = p;
        h = ref(p);
      }
    }
    if (lv != 0) {
      act *u = c->resblock_type == SR_RESBLOCK_DDPM ? upsample(e, &mods[mi++], h)
                                                    : resblock(e, &mods[mi++], h, temb);
      release(e, h);
      h = u;
    }
  }

  act *result;
  if (c->progressive == SR_PROG_OUTPUT_SKIP) {
    result = ref(pyramid);
  } else {
    const sr_module *gn = &mods[mi++];
    const sr_module *cv = &mods[mi++];
    result = norm_conv(e, h, gn->p[SR_P_W], gn->p[SR_P_B], 1, 0, cv->out_ch, 3, cv->p[SR_P_W],
                       cv->p[SR_P_B], NULL, NULL, 1.0f);
  }
  release(e, pyramid);
  release(e, h);
  release(e, input_pyramid);
  release(e, temb);
  if (e->st != SR_OK) return;
  if (mi != e->m->net.n_modules || n_hs != 0) {
    e->st =
        SR_FAIL_HERE(e->ctx, SR_ERR_INTERNAL, "NCSN++ forward used %d of %d modules, %d skips left",
                     mi, e->m->net.n_modules, n_hs);
    return;
  }
  /* out = result, divided by sigma per sample when scale_by_sigma */
  RUN(e->b->ops->copy(e->b, out, P(e, result), result->bytes));
  if (c->scale_by_sigma && !e->dry) {
    const size_t each = per_sample(result);
    for (int s = 0; s < e->n && e->st == SR_OK; ++s) {
      double sigma = 1.0;
      if ((e->st = used_sigma(e, cond[s], &sigma)) != SR_OK) break;
      RUN(e->b->ops->scale(e->b, out + (size_t)s * each, each, (float)(1.0 / sigma)));
    }
  }
  release(e, result);
}

sr_status sr_ncsnpp_run(sr_model *m, int dry, int n, int h, int w, const float *x,
                        const float *cond, float *out, sr_ncsnpp_plan *plan) {
  exec *e = (exec *)calloc(1, sizeof *e);
  if (!e) return sr_fail(m->ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate the NCSN++ executor");
  e->m = m;
  e->b = m->b;
  e->ctx = m->ctx;
  e->cfg = &m->net.cfg;
  e->dry = dry;
  e->n = n, e->h = h, e->w = w;
  sr_arena_reset(&e->arena);
  e->base = dry ? NULL : (char *)m->arena;
  e->wts = dry ? NULL : m->weights;
  network(e, x, cond, out);
  sr_status st = e->st;
  if (st == SR_OK && plan) {
    plan->n = n, plan->h = h, plan->w = w;
    plan->arena_bytes = e->arena.peak;
    plan->conv_ws_bytes = e->conv_ws_need;
    plan->flops = e->flops;
  }
  free(e);
  return st;
}

void sr_ncsnpp_firs_init(const sr_ncsnpp_config *cfg, sr_ncsnpp_firs *f) {
  memset(f, 0, sizeof *f);
  /* _setup_kernel: outer product of the 1-D kernel, normalised to sum 1 */
  float k2[SR_FIR_MAX_TAPS * SR_FIR_MAX_TAPS];
  int len = cfg->fir ? cfg->fir_len : 2;
  float k1[SR_FIR_MAX_TAPS];
  for (int i = 0; i < len; ++i) k1[i] = cfg->fir ? cfg->fir_kernel[i] : 1.0f;
  float sum = 0.0f;
  for (int i = 0; i < len; ++i)
    for (int j = 0; j < len; ++j) {
      k2[i * len + j] = k1[i] * k1[j];
      sum += k2[i * len + j];
    }
  for (int i = 0; i < len * len; ++i) k2[i] /= sum;

/* Python's floor division, for negative paddings */
#define FLOORDIV2(v) ((v) >= 0 ? (v) / 2 : -((-(v) + 1) / 2))
  const int fac = 2, conv_k = 3;
  sr_fir_desc base = {.up = 1, .down = 1, .kh = len, .kw = len};
  /* upsample_2d: gain * factor^2 = 4; pad ((p+1)//2 + factor - 1, p//2), p = len - factor.
   * Without FIR, the same with [1, 1] is nearest-neighbour x2 (naive_upsample_2d). */
  f->up = base;
  f->up.up = fac;
  {
    int p = len - fac;
    f->up.pad0 = FLOORDIV2(p + 1) + fac - 1;
    f->up.pad1 = FLOORDIV2(p);
  }
  for (int i = 0; i < len * len; ++i) f->up.k[i] = k2[i] * (float)(fac * fac);
  /* downsample_2d: pad ((p+1)//2, p//2), p = len - factor; [1, 1] is the 2x2 mean */
  f->down = base;
  f->down.down = fac;
  {
    int p = len - fac;
    f->down.pad0 = FLOORDIV2(p + 1);
    f->down.pad1 = FLOORDIV2(p);
  }
  for (int i = 0; i < len * len; ++i) f->down.k[i] = k2[i];
  /* conv_downsample_2d: FIR with pad ((p+1)//2, p//2), p = len - factor + conv_k - 1,
   * then a stride-2 conv */
  f->conv_down = base;
  {
    int p = (len - fac) + (conv_k - 1);
    f->conv_down.pad0 = FLOORDIV2(p + 1);
    f->conv_down.pad1 = FLOORDIV2(p);
  }
  for (int i = 0; i < len * len; ++i) f->conv_down.k[i] = k2[i];
  /* upsample_conv_2d: conv_transpose2d(stride 2) == zero insertion, pad
   * conv_k - 1 each side (upfirdn's up leaves one trailing zero: pad1 one less),
   * unpadded conv; then FIR x4 with pad ((p+1)//2 + factor - 1, p//2 + 1),
   * p = len - factor - (conv_k - 1). */
  f->zero_up =
      (sr_fir_desc){.up = fac, .down = 1, .pad0 = conv_k - 1, .pad1 = conv_k - 2, .kh = 1, .kw = 1};
  f->zero_up.k[0] = 1.0f;
  f->conv_up = base;
  {
    int p = (len - fac) - (conv_k - 1);
    f->conv_up.pad0 = FLOORDIV2(p + 1) + fac - 1;
    f->conv_up.pad1 = FLOORDIV2(p) + 1;
  }
  for (int i = 0; i < len * len; ++i) f->conv_up.k[i] = k2[i] * (float)(fac * fac);
#undef FLOORDIV2
}
