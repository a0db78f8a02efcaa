/* Every score-network op of one backend against plain loops
 * (nn_reference.h) on fresh random inputs, at the network's channel counts
 * and small images (CI sizes), for the shapes and epilogues NCSN++ uses:
 *   test_nn_ops cpu    the CPU backend (im2col/sgemm, vectorised GroupNorm)
 *   test_nn_ops cuda   the CUDA backend (plain kernels, cuBLAS, cuDNN when
 *                      built with it) against the reference AND the CPU
 *                      backend; exit 77 when no GPU answers. In the
 *                      emulation build this runs in three thread orders.
 * Tolerance: relative L2 <= 1e-5 per output (fp32 with different summation
 * orders). SR_TEST_SEED reproduces a run.
 *
 * Reduced precision (test_conv_precision): conv2d in tf32, bf16 and fp16
 * against ref_conv2d_prec. The CPU backend and the plain CUDA kernel (the
 * emulation build, or SR_CUDA_PLAIN_CONV=1 on a GPU) must implement the
 * rounding exactly: tf32 to 1e-5 relative L2; bf16/fp16, whose output
 * rounding turns fp32 summation noise into an occasional whole unit in the
 * last place, with at most 1% of outputs off by more than that noise. The
 * test first checks that this criterion rejects a convolution that skips
 * either rounding. cuDNN on a GPU computes the same thing with its own
 * tensor-core conversions: there only an error bound per format, printed. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "backend/backend.h"
#include "nn_reference.h"
#include "test_util.h"

static uint32_t rng;
static float frand(void) {
  rng = rng * 1664525u + 1013904223u;
  return ((float)(rng >> 8) / 16777216.0f) * 2.0f - 1.0f;
}

static float *rnd(size_t n, float scale, float offset) {
  float *x = (float *)malloc((n ? n : 1) * sizeof *x);
  for (size_t i = 0; i < n; ++i) x[i] = offset + scale * frand();
  return x;
}

typedef struct under_test {
  sr_context *ctx;
  sr_backend *b;
  sr_context *cpu_ctx; /* the CPU backend, compared too when testing CUDA */
  sr_backend *cpu;
} under_test;

/* device copy of host data (NULL stays NULL) */
static float *dev(under_test *t, sr_backend *b, const float *host, size_t n) {
  if (!host) return NULL;
  void *d = NULL;
  CHECK_OK(b->ctx, b->ops->alloc(b, (n ? n : 1) * sizeof(float), &d));
  if (n) CHECK_OK(b->ctx, b->ops->upload(b, d, host, n * sizeof(float)));
  return (float *)d;
}

static void back(sr_backend *b, float *host, const float *d, size_t n) {
  CHECK_OK(b->ctx, b->ops->download(b, host, d, n * sizeof(float)));
}

static void release(sr_backend *b, float *d) {
  if (d) b->ops->free(b, d);
}

static void expect(const char *what, const float *got, const float *ref, size_t n, double tol) {
  double err = sr_test_rel_l2(got, ref, n);
  CHECK_MSG(err <= tol, "%s: relative L2 error %.3g > %.3g", what, err, tol);
}

/* Runs one conv on backend b; returns host output (malloc'ed). */
static float *conv_on(sr_backend *b, const sr_conv2d_desc *d, const float *x, const float *w,
                      const float *bias, const float *bias_nc, const float *res, float scale) {
  size_t nx = (size_t)d->n * d->c_in * d->h * d->w, nw = (size_t)d->c_out * d->c_in * d->kh * d->kw;
  size_t ny = (size_t)d->n * d->c_out * d->h_out * d->w_out;
  float *dx = dev(NULL, b, x, nx), *dw = dev(NULL, b, w, nw);
  float *db = dev(NULL, b, bias, (size_t)d->c_out),
        *dbn = dev(NULL, b, bias_nc, (size_t)d->n * d->c_out);
  float *dr = dev(NULL, b, res, ny), *dy = NULL;
  CHECK_OK(b->ctx, b->ops->alloc(b, ny * sizeof(float), (void **)&dy));
  size_t ws = 0;
  void *dws = NULL;
  CHECK_OK(b->ctx, b->ops->conv2d_workspace(b, d, &ws));
  if (ws) CHECK_OK(b->ctx, b->ops->alloc(b, ws, &dws));
  CHECK_OK(b->ctx, b->ops->conv2d(b, d, dx, dw, db, dbn, dr, scale, dy, dws));
  float *y = (float *)malloc(ny * sizeof *y);
  back(b, y, dy, ny);
  release(b, dx), release(b, dw), release(b, db), release(b, dbn), release(b, dr), release(b, dy);
  if (dws) b->ops->free(b, dws);
  return y;
}

/* Fraction of outputs farther from ref than float32 summation noise,
 * 1e-4 x the rms of ref's finite values (equal values, infinities included,
 * and NaN against NaN count as matches). */
static double mismatch_fraction(const float *got, const float *ref, size_t n) {
  double ss = 0.0;
  size_t finite = 0, bad = 0;
  for (size_t i = 0; i < n; ++i)
    if (isfinite(ref[i])) ss += (double)ref[i] * ref[i], ++finite;
  const double tol = 1e-4 * sqrt(ss / (double)(finite ? finite : 1));
  for (size_t i = 0; i < n; ++i) {
    if (got[i] == ref[i] || (isnan(got[i]) && isnan(ref[i]))) continue;
    if (!(fabs((double)got[i] - ref[i]) <= tol)) ++bad;
  }
  return (double)bad / (double)(n ? n : 1);
}

/* Whether `got` implements d->precision exactly (see the header). */
static int precision_ok(int precision, const float *got, const float *ref, size_t n,
                        double *measure) {
  if (sr_precision_rounds_output(precision)) {
    *measure = mismatch_fraction(got, ref, n);
    return *measure <= 0.01;
  }
  *measure = sr_test_rel_l2(got, ref, n);
  return *measure <= 1e-5;
}

/* Whether this CUDA backend's convolutions are cuDNN's on a real GPU: then
 * reduced precision is checked against error bounds only. */
static int cudnn_on_gpu(const under_test *t) {
  const sr_build_info *bi = sr_get_build_info();
  return t->cpu && bi->cudnn_compiled && !bi->cuda_emulated && !getenv("SR_CUDA_PLAIN_CONV");
}

static void test_conv_precision(under_test *t, int precision, int n, int ci, int h, int w, int co,
                                int k, int stride, int pt, int pl, int pb, int pr, int epi,
                                float x_scale) {
  const int library = cudnn_on_gpu(t);
  if (library && x_scale > 100.0f) return; /* overflow: only where the rounding is ours */
  sr_conv2d_desc d;
  CHECK_OK(t->ctx, sr_conv2d_desc_init(t->ctx, &d, n, ci, h, w, co, k, k, stride, pt, pl, pb, pr));
  d.precision = precision;
  size_t nx = (size_t)n * ci * h * w, nw = (size_t)co * ci * k * k;
  size_t ny = (size_t)n * co * d.h_out * d.w_out;
  float *x = rnd(nx, x_scale, 0.0f), *wt = rnd(nw, 0.3f, 0.0f);
  float *bias = epi & 1 ? rnd((size_t)co, 1.0f, 0.0f) : NULL;
  float *bias_nc = epi & 2 ? rnd((size_t)n * co, 1.0f, 0.0f) : NULL;
  float *res = epi & 4 ? rnd(ny, 1.0f, 0.0f) : NULL;
  float scale = epi & 8 ? 0.70710678f : 1.0f;
  float *ref = (float *)malloc(ny * sizeof *ref), *wrong = (float *)malloc(ny * sizeof *wrong);
  ref_conv2d_prec(&d, x, wt, bias, bias_nc, res, scale, 0, 0, ref);
  char what[200];
  snprintf(what, sizeof what, "%s conv2d %s (%d,%d,%d,%d)->%d k%d s%d pad %d,%d,%d,%d epi %d",
           t->b->ops->name, sr_precision_name((sr_precision)precision), n, ci, h, w, co, k, stride,
           pt, pl, pb, pr, epi);
  double m = 0.0;
  /* the criterion can fail: it rejects each rounding left out */
  for (int skip = 0; skip < 2 && !library; ++skip) {
    if (skip == 1 && !sr_precision_rounds_output(precision)) break;
    ref_conv2d_prec(&d, x, wt, bias, bias_nc, res, scale, skip == 0, skip == 1, wrong);
    CHECK_MSG(!precision_ok(precision, wrong, ref, ny, &m),
              "%s: a conv without the %s rounding passes the check (%.3g)", what,
              skip == 0 ? "operand" : "output", m);
  }
  float *got = conv_on(t->b, &d, x, wt, bias, bias_nc, res, scale);
  if (library) {
    const double bound = precision == SR_PRECISION_TF32   ? 2e-3
                         : precision == SR_PRECISION_BF16 ? 1.6e-2
                                                          : 2e-3;
    m = sr_test_rel_l2(got, ref, ny);
    printf("%s: cuDNN relative L2 %.3g against the rounding reference (bound %.3g)\n", what, m,
           bound);
    CHECK_MSG(m <= bound, "%s: relative L2 %.3g > %.3g", what, m, bound);
  } else {
    CHECK_MSG(precision_ok(precision, got, ref, ny, &m), "%s: %s %.3g", what,
              sr_precision_rounds_output(precision) ? "mismatch fraction" : "relative L2", m);
    if (t->cpu) {
      float *cpu = conv_on(t->cpu, &d, x, wt, bias, bias_nc, res, scale);
      CHECK_MSG(precision_ok(precision, got, cpu, ny, &m), "%s vs CPU: %.3g", what, m);
      free(cpu);
    }
  }
  free(got), free(ref), free(wrong), free(x), free(wt), free(bias), free(bias_nc), free(res);
}

static void test_conv(under_test *t, int n, int ci, int h, int w, int co, int k, int stride, int pt,
                      int pl, int pb, int pr, int epi) {
  sr_conv2d_desc d;
  CHECK_OK(t->ctx, sr_conv2d_desc_init(t->ctx, &d, n, ci, h, w, co, k, k, stride, pt, pl, pb, pr));
  size_t nx = (size_t)n * ci * h * w, nw = (size_t)co * ci * k * k;
  size_t ny = (size_t)n * co * d.h_out * d.w_out;
  float *x = rnd(nx, 1.0f, 0.0f), *wt = rnd(nw, 0.3f, 0.0f);
  float *bias = epi & 1 ? rnd((size_t)co, 1.0f, 0.0f) : NULL;
  float *bias_nc = epi & 2 ? rnd((size_t)n * co, 1.0f, 0.0f) : NULL;
  float *res = epi & 4 ? rnd(ny, 1.0f, 0.0f) : NULL;
  float scale = epi & 8 ? 0.70710678f : 1.0f;
  float *ref = (float *)malloc(ny * sizeof *ref);
  ref_conv2d(&d, x, wt, bias, bias_nc, res, scale, ref);
  char what[160];
  snprintf(what, sizeof what, "%s conv2d (%d,%d,%d,%d)->%d k%d s%d pad %d,%d,%d,%d epi %d",
           t->b->ops->name, n, ci, h, w, co, k, stride, pt, pl, pb, pr, epi);
  float *got = conv_on(t->b, &d, x, wt, bias, bias_nc, res, scale);
  expect(what, got, ref, ny, 1e-5);
  if (t->cpu) {
    float *cpu = conv_on(t->cpu, &d, x, wt, bias, bias_nc, res, scale);
    strcat(what, " vs CPU");
    expect(what, got, cpu, ny, 1e-5);
    free(cpu);
  }
  free(got), free(ref), free(x), free(wt), free(bias), free(bias_nc), free(res);
}

/* conv2d_normed(x, group_norm_coeffs(x)) against the plain loops of GroupNorm
 * then conv, and bit for bit against group_norm then conv2d on the same
 * backend (the fused path must round the same). Skipped where the backend
 * has no fused ops. */
static void test_conv_normed(under_test *t, int n, int ci, int h, int w, int co, int k, int stride,
                             int pad, int silu, int precision) {
  sr_backend *b = t->b;
  if (!b->ops->conv2d_normed || !b->ops->group_norm_coeffs) return;
  sr_conv2d_desc d;
  CHECK_OK(t->ctx,
           sr_conv2d_desc_init(t->ctx, &d, n, ci, h, w, co, k, k, stride, pad, pad, pad, pad));
  d.precision = precision;
  const size_t groups = ci / 4 < 32 ? (size_t)ci / 4 : 32;
  const size_t nx = (size_t)n * ci * h * w, nw = (size_t)co * ci * k * k;
  const size_t ny = (size_t)n * co * d.h_out * d.w_out;
  float *x = rnd(nx, 2.0f, 3.0f), *wt = rnd(nw, 0.3f, 0.0f), *bias = rnd((size_t)co, 1.0f, 0.0f);
  float *g = rnd((size_t)ci, 0.2f, 1.0f), *bt = rnd((size_t)ci, 0.5f, 0.0f);
  float *res = rnd(ny, 1.0f, 0.0f);
  float *xn = (float *)malloc(nx * sizeof *xn), *ref = (float *)malloc(ny * sizeof *ref);
  ref_group_norm(x, (size_t)n, (size_t)ci, (size_t)h * w, groups, g, bt, 1e-6f, silu, xn);
  ref_conv2d_prec(&d, xn, wt, bias, NULL, res, 0.5f, 0, 0, ref);

  float *dx = dev(t, b, x, nx), *dw = dev(t, b, wt, nw), *db = dev(t, b, bias, (size_t)co);
  float *dg = dev(t, b, g, (size_t)ci), *dbt = dev(t, b, bt, (size_t)ci), *dr = dev(t, b, res, ny);
  float *dab = NULL, *dy = NULL, *dy2 = NULL, *dxn = NULL;
  CHECK_OK(t->ctx, b->ops->alloc(b, 2 * (size_t)n * ci * sizeof(float), (void **)&dab));
  CHECK_OK(t->ctx, b->ops->alloc(b, ny * sizeof(float), (void **)&dy));
  CHECK_OK(t->ctx, b->ops->alloc(b, ny * sizeof(float), (void **)&dy2));
  CHECK_OK(t->ctx, b->ops->alloc(b, nx * sizeof(float), (void **)&dxn));
  size_t ws = 0;
  void *dws = NULL;
  CHECK_OK(t->ctx, b->ops->conv2d_workspace(b, &d, &ws));
  if (ws) CHECK_OK(t->ctx, b->ops->alloc(b, ws, &dws));
  CHECK_OK(t->ctx, b->ops->group_norm_coeffs(b, dx, (size_t)n, (size_t)ci, (size_t)h * w, groups,
                                             dg, dbt, 1e-6f, dab));
  CHECK_OK(t->ctx, b->ops->conv2d_normed(b, &d, dx, dab, silu, dw, db, NULL, dr, 0.5f, dy, dws));
  CHECK_OK(t->ctx, b->ops->group_norm(b, dx, (size_t)n, (size_t)ci, (size_t)h * w, groups, dg, dbt,
                                      1e-6f, silu, dxn));
  CHECK_OK(t->ctx, b->ops->conv2d(b, &d, dxn, dw, db, NULL, dr, 0.5f, dy2, dws));
  float *got = (float *)malloc(ny * sizeof *got), *got2 = (float *)malloc(ny * sizeof *got2);
  back(b, got, dy, ny);
  back(b, got2, dy2, ny);
  if (precision != SR_PRECISION_FP32) {
    /* rounding turns the last-bit differences between the float GroupNorm
     * and ref_group_norm's double into whole units of the format: the
     * reference rounds the backend's own normalised input (group_norm is
     * checked against ref_group_norm on its own) */
    back(b, xn, dxn, nx);
    ref_conv2d_prec(&d, xn, wt, bias, NULL, res, 0.5f, 0, 0, ref);
  }
  char what[160];
  snprintf(what, sizeof what, "%s conv2d_normed %s (%d,%d,%d,%d)->%d k%d s%d pad %d silu %d",
           b->ops->name, sr_precision_name((sr_precision)precision), n, ci, h, w, co, k, stride,
           pad, silu);
  double m = 0.0;
  CHECK_MSG(precision_ok(precision, got, ref, ny, &m), "%s: %.3g", what, m);
  CHECK_MSG(memcmp(got, got2, ny * sizeof(float)) == 0, "%s: differs from group_norm + conv2d",
            what);
  release(b, dx), release(b, dw), release(b, db), release(b, dg), release(b, dbt);
  release(b, dr), release(b, dab), release(b, dy), release(b, dy2), release(b, dxn);
  if (dws) b->ops->free(b, dws);
  free(x), free(wt), free(bias), free(g), free(bt), free(res), free(xn), free(ref), free(got);
  free(got2);
}

static void test_group_norm(under_test *t, size_t n, size_t c, size_t hw, int silu, int inplace) {
  size_t count = n * c * hw, groups = c / 4 < 32 ? c / 4 : 32;
  float *x = rnd(count, 2.0f, 3.0f), *g = rnd(c, 0.2f, 1.0f), *bt = rnd(c, 0.5f, 0.0f);
  float *ref = (float *)malloc(count * sizeof *ref), *got = (float *)malloc(count * sizeof *got);
  ref_group_norm(x, n, c, hw, groups, g, bt, 1e-6f, silu, ref);
  sr_backend *b = t->b;
  float *dx = dev(t, b, x, count), *dg = dev(t, b, g, c), *db = dev(t, b, bt, c), *dy = dx;
  if (!inplace) CHECK_OK(t->ctx, b->ops->alloc(b, count * sizeof(float), (void **)&dy));
  CHECK_OK(t->ctx, b->ops->group_norm(b, dx, n, c, hw, groups, dg, db, 1e-6f, silu, dy));
  back(b, got, dy, count);
  char what[128];
  snprintf(what, sizeof what, "%s group_norm (%zu,%zu,%zu) silu %d inplace %d", b->ops->name, n, c,
           hw, silu, inplace);
  expect(what, got, ref, count, 1e-5);
  release(b, dx), release(b, dg), release(b, db);
  if (!inplace) release(b, dy);
  free(x), free(g), free(bt), free(ref), free(got);
}

static void test_silu_linear(under_test *t) {
  sr_backend *b = t->b;
  const size_t count = 5000;
  float *x = rnd(count, 30.0f, 0.0f), *ref = (float *)malloc(count * sizeof *ref);
  x[0] = -200.0f, x[1] = 200.0f, x[2] = 0.0f;
  for (size_t i = 0; i < count; ++i) ref[i] = (float)ref_silu(x[i]);
  float *dx = dev(t, b, x, count), *got = (float *)malloc(count * sizeof *got);
  CHECK_OK(t->ctx, b->ops->silu(b, dx, count, dx));
  back(b, got, dx, count);
  expect("silu", got, ref, count, 1e-6);
  size_t maxerr_i = 0;
  double maxerr = 0.0;
  for (size_t i = 0; i < count; ++i) {
    double e = fabs((double)got[i] - ref[i]) / (fabs(ref[i]) + 1e-30);
    if (e > maxerr && fabs(ref[i]) > 1e-30) maxerr = e, maxerr_i = i;
  }
  CHECK_MSG(maxerr < 1e-5, "silu: relative error %.3g at x = %g", maxerr, (double)x[maxerr_i]);
  release(b, dx);
  free(x), free(ref), free(got);

  const size_t n = 3, in = 64, out = 256;
  float *xl = rnd(n * in, 2.0f, 0.0f), *w = rnd(out * in, 0.2f, 0.0f), *bias = rnd(out, 1.0f, 0.0f);
  for (int silu_in = 0; silu_in < 2; ++silu_in) {
    float *r = (float *)malloc(n * out * sizeof *r), *g = (float *)malloc(n * out * sizeof *g);
    ref_linear(xl, n, in, out, w, bias, silu_in, r);
    float *dxl = dev(t, b, xl, n * in), *dw = dev(t, b, w, out * in), *dbias = dev(t, b, bias, out);
    float *dy = NULL;
    CHECK_OK(t->ctx, b->ops->alloc(b, n * out * sizeof(float), (void **)&dy));
    CHECK_OK(t->ctx, b->ops->linear(b, dxl, n, in, out, dw, dbias, silu_in, dy));
    back(b, g, dy, n * out);
    expect(silu_in ? "linear (silu in)" : "linear", g, r, n * out, 1e-5);
    release(b, dxl), release(b, dw), release(b, dbias), release(b, dy);
    free(r), free(g);
  }
  free(xl), free(w), free(bias);
}

static void test_attention(under_test *t, size_t n, size_t c, size_t hw) {
  sr_backend *b = t->b;
  float *qkv = rnd(n * 3 * c * hw, 1.5f, 0.0f);
  float *ref = (float *)malloc(n * c * hw * sizeof *ref),
        *got = (float *)malloc(n * c * hw * sizeof *got);
  const float scale = (float)pow((double)c, -0.5);
  ref_attention(qkv, n, c, hw, scale, ref);
  float *dq = dev(t, b, qkv, n * 3 * c * hw), *ws = NULL, *dout = NULL;
  CHECK_OK(t->ctx, b->ops->alloc(b, n * hw * hw * sizeof(float), (void **)&ws));
  CHECK_OK(t->ctx, b->ops->alloc(b, n * c * hw * sizeof(float), (void **)&dout));
  CHECK_OK(t->ctx, b->ops->attention(b, dq, n, c, hw, scale, ws, dout));
  back(b, got, dout, n * c * hw);
  char what[96];
  snprintf(what, sizeof what, "%s attention (%zu, %zu, %zu)", b->ops->name, n, c, hw);
  expect(what, got, ref, n * c * hw, 1e-5);
  release(b, dq), release(b, ws), release(b, dout);
  free(qkv), free(ref), free(got);
}

static void test_upfirdn(under_test *t, const sr_fir_desc *f, size_t planes, size_t h, size_t w,
                         int with_bias, const char *name) {
  sr_backend *b = t->b;
  sr_fir_desc across = *f;
  across.kh = f->kw;
  size_t ho = sr_fir_out_size(f, h), wo = sr_fir_out_size(&across, w);
  const size_t channels = 4;
  float *x = rnd(planes * h * w, 1.0f, 0.0f), *bias = with_bias ? rnd(channels, 1.0f, 0.0f) : NULL;
  float *ref = (float *)malloc(planes * ho * wo * sizeof *ref);
  float *got = (float *)malloc(planes * ho * wo * sizeof *got);
  ref_upfirdn2d(f, x, planes, h, w, bias, channels, ref);
  float *dx = dev(t, b, x, planes * h * w), *db = dev(t, b, bias, channels), *dy = NULL;
  CHECK_OK(t->ctx, b->ops->alloc(b, planes * ho * wo * sizeof(float), (void **)&dy));
  CHECK_OK(t->ctx, b->ops->upfirdn2d(b, f, dx, planes, h, w, db, channels, dy));
  back(b, got, dy, planes * ho * wo);
  char what[96];
  snprintf(what, sizeof what, "%s upfirdn2d %s %zux%zu -> %zux%zu", b->ops->name, name, h, w, ho,
           wo);
  expect(what, got, ref, planes * ho * wo, 1e-6);
  release(b, dx), release(b, db), release(b, dy);
  free(x), free(bias), free(ref), free(got);
}

static sr_fir_desc fir(int up, int down, int pad0, int pad1, const float *k1, int len, float gain) {
  sr_fir_desc f = {.up = up, .down = down, .pad0 = pad0, .pad1 = pad1, .kh = len, .kw = len};
  float sum = 0.0f;
  for (int i = 0; i < len; ++i)
    for (int j = 0; j < len; ++j) sum += k1[i] * k1[j];
  for (int i = 0; i < len; ++i)
    for (int j = 0; j < len; ++j) f.k[i * len + j] = k1[i] * k1[j] / sum * gain;
  return f;
}

static void test_concat(under_test *t) {
  sr_backend *b = t->b;
  const size_t n = 3, ca = 5, cb = 7, hw = 11;
  float *a = rnd(n * ca * hw, 1.0f, 0.0f), *bb = rnd(n * cb * hw, 1.0f, 0.0f);
  float *ref = (float *)malloc(n * (ca + cb) * hw * sizeof *ref),
        *got = (float *)malloc(n * (ca + cb) * hw * sizeof *got);
  for (size_t s = 0; s < n; ++s) {
    memcpy(ref + s * (ca + cb) * hw, a + s * ca * hw, ca * hw * sizeof(float));
    memcpy(ref + s * (ca + cb) * hw + ca * hw, bb + s * cb * hw, cb * hw * sizeof(float));
  }
  float *da = dev(t, b, a, n * ca * hw), *db = dev(t, b, bb, n * cb * hw), *dd = NULL;
  CHECK_OK(t->ctx, b->ops->alloc(b, n * (ca + cb) * hw * sizeof(float), (void **)&dd));
  CHECK_OK(t->ctx, b->ops->concat_channels(b, dd, da, db, n, ca, cb, hw));
  back(b, got, dd, n * (ca + cb) * hw);
  CHECK(memcmp(got, ref, n * (ca + cb) * hw * sizeof(float)) == 0);
  release(b, da), release(b, db), release(b, dd);
  free(a), free(bb), free(ref), free(got);
}

/* The CPU backend's results do not depend on the thread count (fixed
 * summation orders): conv2d, conv2d_normed, group_norm and upfirdn2d on 1
 * and 3 threads give the same bits. */
static void test_cpu_threads(void) {
  sr_context *ctx[2] = {NULL, NULL};
  const int threads[2] = {1, 3};
  for (int i = 0; i < 2; ++i) {
    sr_context_options o = sr_context_options_default();
    o.backend = SR_BACKEND_CPU;
    o.threads = threads[i];
    CHECK_OK(ctx[i], sr_context_create(&o, &ctx[i]));
  }
  if (sr_test_failures) return;
  sr_conv2d_desc d;
  CHECK_OK(ctx[0], sr_conv2d_desc_init(ctx[0], &d, 2, 32, 48, 40, 32, 3, 3, 1, 1, 1, 1, 1));
  const size_t nx = (size_t)2 * 32 * 48 * 40, nw = (size_t)32 * 32 * 9, ny = nx;
  float *x = rnd(nx, 1.0f, 0.5f), *w = rnd(nw, 0.3f, 0.0f), *bias = rnd(32, 1.0f, 0.0f);
  float *g = rnd(32, 0.2f, 1.0f), *bt = rnd(32, 0.5f, 0.0f), *ab = rnd(2 * 2 * 32, 1.0f, 0.0f);
  float *out[2][4];
  const float k4[4] = {1, 3, 3, 1};
  sr_fir_desc up = {.up = 2, .down = 1, .pad0 = 2, .pad1 = 1, .kh = 4, .kw = 4};
  for (int i = 0; i < 16; ++i) up.k[i] = k4[i / 4] * k4[i % 4] / 16.0f;
  for (int i = 0; i < 2; ++i) {
    sr_backend *b = sr_context_get_backend(ctx[i]);
    size_t ws = 0;
    CHECK_OK(ctx[i], b->ops->conv2d_workspace(b, &d, &ws));
    void *wsp = malloc(ws ? ws : 1);
    for (int j = 0; j < 4; ++j) out[i][j] = (float *)malloc(4 * ny * sizeof(float));
    CHECK_OK(ctx[i], b->ops->conv2d(b, &d, x, w, bias, NULL, x, 0.5f, out[i][0], wsp));
    if (b->ops->conv2d_normed)
      CHECK_OK(ctx[i],
               b->ops->conv2d_normed(b, &d, x, ab, 1, w, bias, NULL, NULL, 1.0f, out[i][1], wsp));
    CHECK_OK(ctx[i], b->ops->group_norm(b, x, 2, 32, 48 * 40, 8, g, bt, 1e-6f, 1, out[i][2]));
    CHECK_OK(ctx[i], b->ops->upfirdn2d(b, &up, x, 64, 48, 40, NULL, 0, out[i][3]));
    free(wsp);
  }
  const char *names[4] = {"conv2d", "conv2d_normed", "group_norm", "upfirdn2d"};
  const size_t counts[4] = {ny, ny, nx, 4 * nx};
  for (int j = 0; j < 4; ++j)
    CHECK_MSG(memcmp(out[0][j], out[1][j], counts[j] * sizeof(float)) == 0,
              "cpu %s: 1 and 3 threads differ", names[j]);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 4; ++j) free(out[i][j]);
  free(x), free(w), free(bias), free(g), free(bt), free(ab);
  sr_context_destroy(ctx[0]);
  sr_context_destroy(ctx[1]);
}

int main(int argc, char **argv) {
  const int cuda = argc > 1 && strcmp(argv[1], "cuda") == 0;
  const char *seed_env = getenv("SR_TEST_SEED");
  rng = seed_env ? (uint32_t)strtoul(seed_env, NULL, 10) : (uint32_t)time(NULL);
  printf("test_nn_ops %s: seed %u (set SR_TEST_SEED to reproduce)\n", cuda ? "cuda" : "cpu", rng);
  under_test t = {0};
  sr_context_options o = sr_context_options_default();
  o.backend = cuda ? SR_BACKEND_CUDA : SR_BACKEND_CPU;
  sr_status st = sr_context_create(&o, &t.ctx);
  if (cuda && st == SR_ERR_NO_DEVICE) {
    printf("skipped: %s\n", sr_context_last_error(t.ctx));
    sr_context_destroy(t.ctx);
    return SR_TEST_SKIP;
  }
  CHECK_OK(t.ctx, st);
  if (sr_test_failures) return sr_test_finish("test_nn_ops");
  t.b = sr_context_get_backend(t.ctx);
  if (cuda) {
    o.backend = SR_BACKEND_CPU;
    CHECK_OK(t.cpu_ctx, sr_context_create(&o, &t.cpu_ctx));
    t.cpu = sr_context_get_backend(t.cpu_ctx);
  }

  /* 3x3 pad 1 with every epilogue; the first conv (1 channel in); 1x1
   * shortcuts; FIR-downsampling convs (stride 2, no padding); the plain
   * stride-2 conv with bottom/right padding; the unpadded conv of
   * upsample_conv_2d; a batch of 3 */
  for (int epi = 0; epi < 16; epi += 5) test_conv(&t, 2, 32, 10, 12, 64, 3, 1, 1, 1, 1, 1, epi);
  test_conv(&t, 2, 64, 9, 9, 32, 3, 1, 1, 1, 1, 1, 15);
  test_conv(&t, 1, 1, 20, 20, 32, 3, 1, 1, 1, 1, 1, 1);
  test_conv(&t, 2, 96, 8, 8, 32, 1, 1, 0, 0, 0, 0, 13);
  test_conv(&t, 3, 32, 17, 17, 32, 3, 2, 0, 0, 0, 0, 1);
  test_conv(&t, 1, 32, 16, 16, 64, 3, 2, 0, 0, 1, 1, 1);
  test_conv(&t, 1, 16, 19, 19, 8, 3, 1, 0, 0, 0, 0, 0);
  /* the CPU's direct path: a 1x1 conv over several position chunks with a
   * partial last tile; one output channel (its own kernel) on a 5x5 map
   * (tiles spanning rows), on a 100-wide one and as a 1x1; 6 channels (a
   * partly empty channel block) on a 30-wide map;
   * padding on two sides only */
  test_conv(&t, 2, 32, 40, 40, 32, 1, 1, 0, 0, 0, 0, 13);
  test_conv(&t, 1, 32, 5, 5, 1, 3, 1, 1, 1, 1, 1, 1);
  test_conv(&t, 2, 8, 9, 100, 1, 3, 1, 1, 1, 1, 1, 15);
  test_conv(&t, 1, 16, 30, 30, 1, 1, 1, 0, 0, 0, 0, 5);
  test_conv(&t, 2, 8, 7, 30, 6, 3, 1, 1, 1, 1, 1, 15);
  test_conv(&t, 1, 4, 9, 11, 4, 3, 1, 0, 0, 1, 1, 0);

  /* GroupNorm folded into the conv: 3x3 (direct path, a width that is no
   * multiple of the tile), 1x1 (attention's projection, no SiLU), stride 2
   * (im2col path) */
  test_conv_normed(&t, 2, 32, 9, 13, 32, 3, 1, 1, 1, SR_PRECISION_FP32);
  test_conv_normed(&t, 2, 64, 5, 5, 192, 1, 1, 0, 0, SR_PRECISION_FP32);
  test_conv_normed(&t, 1, 16, 12, 12, 8, 3, 2, 1, 1, SR_PRECISION_FP32);

  /* reduced precision on each conv path: 3x3 (the CPU's direct path) with
   * every epilogue term; 1x1; stride 2 (im2col); the asymmetric padding that
   * cuDNN leaves to the plain kernel; fp16 sums past 65504 (inf); and the
   * fused GroupNorm conv, which rounds the activated input */
  for (int p = SR_PRECISION_TF32; p <= SR_PRECISION_FP16; ++p) {
    test_conv_precision(&t, p, 2, 32, 10, 12, 64, 3, 1, 1, 1, 1, 1, 15, 1.0f);
    test_conv_precision(&t, p, 2, 96, 8, 8, 32, 1, 1, 0, 0, 0, 0, 13, 1.0f);
    test_conv_precision(&t, p, 3, 32, 17, 17, 32, 3, 2, 0, 0, 0, 0, 1, 1.0f);
    test_conv_precision(&t, p, 1, 32, 16, 16, 64, 3, 2, 0, 0, 1, 1, 5, 1.0f);
    test_conv_precision(&t, p, 2, 8, 9, 100, 1, 3, 1, 1, 1, 1, 1, 15, 1.0f);
    test_conv_normed(&t, 2, 32, 9, 13, 32, 3, 1, 1, 1, p);
    test_conv_normed(&t, 1, 16, 12, 12, 8, 3, 2, 1, 1, p);
  }
  test_conv_precision(&t, SR_PRECISION_FP16, 1, 32, 8, 8, 16, 3, 1, 1, 1, 1, 1, 1, 3e4f);

  test_group_norm(&t, 2, 64, 144, 1, 0);
  test_group_norm(&t, 2, 64, 144, 0, 1);
  test_group_norm(&t, 1, 256, 25, 1, 1);
  test_group_norm(&t, 3, 8, 300, 1, 0);

  test_silu_linear(&t);

  test_attention(&t, 2, 64, 25);
  test_attention(&t, 1, 32, 100);

  const float k4[4] = {1, 3, 3, 1}, k2[2] = {1, 1};
  sr_fir_desc up = fir(2, 1, 2, 1, k4, 4, 4.0f), down = fir(1, 2, 1, 1, k4, 4, 1.0f);
  sr_fir_desc conv_down = fir(1, 1, 2, 2, k4, 4, 1.0f), conv_up = fir(1, 1, 1, 1, k4, 4, 4.0f);
  sr_fir_desc nearest = fir(2, 1, 1, 0, k2, 2, 4.0f), mean = fir(1, 2, 0, 0, k2, 2, 1.0f);
  const float one[1] = {1};
  sr_fir_desc zero_up = fir(2, 1, 2, 1, one, 1, 1.0f);
  test_upfirdn(&t, &up, 8, 12, 10, 0, "FIR up");
  test_upfirdn(&t, &down, 8, 12, 10, 0, "FIR down");
  test_upfirdn(&t, &conv_down, 8, 12, 10, 0, "FIR conv_down pad");
  test_upfirdn(&t, &conv_up, 8, 13, 11, 1, "FIR after conv, + bias");
  test_upfirdn(&t, &nearest, 8, 6, 5, 0, "nearest");
  test_upfirdn(&t, &mean, 8, 12, 10, 0, "2x2 mean");
  test_upfirdn(&t, &zero_up, 8, 6, 5, 0, "zero insertion");

  test_concat(&t);
  if (!cuda) test_cpu_threads();

  sr_context_destroy(t.ctx);
  sr_context_destroy(t.cpu_ctx);
  return sr_test_finish("test_nn_ops");
}
