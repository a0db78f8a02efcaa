/* The CPU backend's FFT and k-space ops: fastMRI's centred orthonormal FFT
 * against NumPy goldens (tools/golden_mri.py), the unnormalised FFT against
 * a direct DFT in double, round trips and unitarity (Parseval), results
 * independent of batch size, batch position and thread count (bit for
 * bit), and the small k-space and TV ops against plain loops. */
#include <complex.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "backend/backend.h"
#include "io/npy.h"
#include "test_util.h"

#ifndef SR_TEST_DATA
#define SR_TEST_DATA "."
#endif

static uint32_t rng_state = 12345u;
static float frand(void) {
  rng_state = rng_state * 1664525u + 1013904223u;
  return ((float)(rng_state >> 8) / 16777216.0f) * 2.0f - 1.0f;
}
static float *random_floats(size_t n) {
  float *x = (float *)malloc(n * sizeof *x);
  for (size_t i = 0; i < n; ++i) x[i] = frand();
  return x;
}

static sr_context *cpu_context(int threads) {
  sr_context_options o = sr_context_options_default();
  o.backend = SR_BACKEND_CPU;
  o.threads = threads;
  sr_context *ctx = NULL;
  CHECK_OK(ctx, sr_context_create(&o, &ctx));
  return ctx;
}

static int load(sr_context *ctx, const char *name, sr_array *a) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", SR_TEST_DATA, name);
  sr_status st = sr_npy_read(ctx, path, a);
  CHECK_MSG(st == SR_OK, "cannot read %s: %s", path, sr_context_last_error(ctx));
  return st == SR_OK;
}

/* Complex64 (or float32 promoted to complex) golden data as interleaved floats. */
static float *as_complex(const sr_array *a) {
  size_t n = (size_t)sr_array_numel(a);
  float *c = (float *)calloc(2 * n, sizeof(float));
  for (size_t i = 0; i < n; ++i) {
    if (a->dtype == SR_DTYPE_C64) {
      c[2 * i] = ((const float *)a->data)[2 * i];
      c[2 * i + 1] = ((const float *)a->data)[2 * i + 1];
    } else {
      c[2 * i] = ((const float *)a->data)[i];
    }
  }
  return c;
}

static void golden_fft2c(sr_context *ctx, const char *in_name, const char *out_name, int inverse) {
  sr_array in = {0}, ref = {0};
  if (!load(ctx, in_name, &in) || !load(ctx, out_name, &ref)) return;
  size_t ns = (size_t)in.shape[0], h = (size_t)in.shape[1], w = (size_t)in.shape[2];
  size_t n = ns * h * w;
  float *x = as_complex(&in), *r = as_complex(&ref), *y = (float *)calloc(2 * n, sizeof(float));
  sr_backend *b = sr_context_get_backend(ctx);
  CHECK_OK(ctx, b->ops->fft2c(b, y, x, ns, h, w, inverse));
  double err = sr_test_rel_l2(y, r, 2 * n);
  CHECK_MSG(err < 1e-6, "fft2c%s %s vs NumPy: relative L2 %.3g", inverse ? " inverse" : "", in_name,
            err);
  /* In place gives the same bits. */
  CHECK_OK(ctx, b->ops->fft2c(b, x, x, ns, h, w, inverse));
  CHECK(memcmp(x, y, 2 * n * sizeof(float)) == 0);
  free(x), free(r), free(y);
  sr_array_free(&in), sr_array_free(&ref);
}

/* Direct DFT in double: out = scale * sum x e^{-+2 pi i (k m / h + l n / w)}. */
static void naive_dft(const float *x, double *out, size_t h, size_t w, int inverse, double scale) {
  double sgn = inverse ? 1.0 : -1.0;
  for (size_t k = 0; k < h; ++k)
    for (size_t l = 0; l < w; ++l) {
      double complex acc = 0;
      for (size_t m = 0; m < h; ++m)
        for (size_t n = 0; n < w; ++n) {
          double ph = sgn * 2.0 * 3.14159265358979323846 *
                      ((double)(k * m % h) / h + (double)(l * n % w) / w);
          acc += ((double)x[2 * (m * w + n)] + I * (double)x[2 * (m * w + n) + 1]) * cexp(I * ph);
        }
      out[2 * (k * w + l)] = scale * creal(acc);
      out[2 * (k * w + l) + 1] = scale * cimag(acc);
    }
}

static void test_fft2_vs_dft(sr_context *ctx, size_t ns, size_t h, size_t w, int inverse) {
  sr_backend *b = sr_context_get_backend(ctx);
  size_t n = ns * h * w;
  float *x = random_floats(2 * n), *y = (float *)malloc(2 * n * sizeof(float));
  double *ref = (double *)malloc(2 * n * sizeof(double));
  float *reff = (float *)malloc(2 * n * sizeof(float));
  float scale = inverse ? 1.0f / (float)(h * w) : 1.0f;
  CHECK_OK(ctx, b->ops->fft2(b, y, x, ns, h, w, inverse, scale));
  for (size_t s = 0; s < ns; ++s)
    naive_dft(x + 2 * s * h * w, ref + 2 * s * h * w, h, w, inverse, scale);
  for (size_t i = 0; i < 2 * n; ++i) reff[i] = (float)ref[i];
  double err = sr_test_rel_l2(y, reff, 2 * n);
  CHECK_MSG(err < 2e-6, "fft2 %zux%zux%zu inverse=%d vs direct DFT: relative L2 %.3g", ns, h, w,
            inverse, err);
  free(x), free(y), free(ref), free(reff);
}

/* ifft2c(fft2c(x)) == x and ||fft2c x|| == ||x||. */
static void test_round_trip(sr_context *ctx, size_t ns, size_t h, size_t w) {
  sr_backend *b = sr_context_get_backend(ctx);
  size_t n = ns * h * w;
  float *x = random_floats(2 * n), *k = (float *)malloc(2 * n * sizeof(float));
  float *back = (float *)malloc(2 * n * sizeof(float));
  CHECK_OK(ctx, b->ops->fft2c(b, k, x, ns, h, w, 0));
  CHECK_OK(ctx, b->ops->fft2c(b, back, k, ns, h, w, 1));
  double err = sr_test_rel_l2(back, x, 2 * n);
  CHECK_MSG(err < 1e-6, "round trip %zux%zux%zu: relative L2 %.3g", ns, h, w, err);
  double nx = 0.0, nk = 0.0;
  for (size_t i = 0; i < 2 * n; ++i) nx += (double)x[i] * x[i], nk += (double)k[i] * k[i];
  CHECK_MSG(fabs(sqrt(nk) / sqrt(nx) - 1.0) < 1e-6, "Parseval %zux%zux%zu: |F x| / |x| = %.9f", ns,
            h, w, sqrt(nk / nx));
  free(x), free(k), free(back);
}

/* Plane s of a batch equals the same plane transformed alone, bit for bit,
 * whatever the thread count. */
static void test_reproducible(size_t ns, size_t h, size_t w) {
  sr_context *c1 = cpu_context(1), *c2 = cpu_context(2);
  sr_backend *b1 = sr_context_get_backend(c1), *b2 = sr_context_get_backend(c2);
  size_t plane = h * w;
  float *x = random_floats(2 * ns * plane);
  float *batch = (float *)malloc(2 * ns * plane * sizeof(float));
  float *one = (float *)malloc(2 * plane * sizeof(float));
  CHECK_OK(c2, b2->ops->fft2c(b2, batch, x, ns, h, w, 0));
  for (size_t s = 0; s < ns; ++s) {
    CHECK_OK(c1, b1->ops->fft2c(b1, one, x + 2 * s * plane, 1, h, w, 0));
    CHECK_MSG(memcmp(one, batch + 2 * s * plane, 2 * plane * sizeof(float)) == 0,
              "fft2c %zux%zu: plane %zu of a batch of %zu differs from it alone", h, w, s, ns);
  }
  free(x), free(batch), free(one);
  sr_context_destroy(c1), sr_context_destroy(c2);
}

static void test_shift_embed(sr_context *ctx) {
  sr_backend *b = sr_context_get_backend(ctx);
  /* fftshift of 0..n-1 along one axis of odd length 5: [3 4 0 1 2]. */
  float in[10], out[10], back[10];
  for (int i = 0; i < 5; ++i) in[2 * i] = (float)i, in[2 * i + 1] = (float)-i;
  CHECK_OK(ctx, b->ops->fftshift2(b, out, in, 1, 1, 5, 0, 1.0f));
  const float expect[5] = {3, 4, 0, 1, 2};
  for (int i = 0; i < 5; ++i) CHECK(out[2 * i] == expect[i] && out[2 * i + 1] == -expect[i]);
  CHECK_OK(ctx, b->ops->fftshift2(b, back, out, 1, 1, 5, 1, 1.0f));
  CHECK(memcmp(back, in, sizeof in) == 0);
  /* embed then extract with wrap-around is the identity on the patch. */
  size_t h = 3, w = 4, H = 7, W = 6, oy = 5, ox = 4;
  float *x = random_floats(2 * h * w), *c = (float *)malloc(2 * 2 * H * W * sizeof(float));
  float *y = (float *)malloc(2 * h * w * sizeof(float));
  CHECK_OK(ctx, b->ops->embed_real(b, c, x, 2, h, w, H, W, oy, ox));
  CHECK_OK(ctx, b->ops->extract_real(b, y, c, 2, h, w, H, W, oy, ox, 2.0f));
  for (size_t i = 0; i < 2 * h * w; ++i) CHECK(y[i] == 2.0f * x[i]);
  double total = 0.0;
  for (size_t i = 0; i < 2 * 2 * H * W; ++i) total += fabs(c[i]);
  double expect_total = 0.0;
  for (size_t i = 0; i < 2 * h * w; ++i) expect_total += fabs(x[i]);
  CHECK(fabs(total - expect_total) < 1e-4);
  CHECK(c[2 * ((size_t)((oy + 2) % H) * W + (ox + 3) % W)] == x[2 * w + 3]);
  free(x), free(c), free(y);
}

static void test_small_ops(sr_context *ctx) {
  sr_backend *b = sr_context_get_backend(ctx);
  size_t ns = 3, n = 10;
  float *x = random_floats(2 * ns * n), *k = random_floats(2 * ns * n);
  float *t = (float *)malloc(2 * ns * n * sizeof(float)), mask[10];
  for (size_t i = 0; i < n; ++i) mask[i] = (i % 3 == 0) ? 1.0f : 0.0f;
  CHECK_OK(ctx, b->ops->cmask(b, t, x, mask, ns, n));
  for (size_t i = 0; i < ns * n; ++i)
    CHECK(t[2 * i] == mask[i % n] * x[2 * i] && t[2 * i + 1] == mask[i % n] * x[2 * i + 1]);
  memcpy(t, x, 2 * ns * n * sizeof(float));
  CHECK_OK(ctx, b->ops->cblend(b, t, k, mask, ns, n, 0.25f));
  for (size_t i = 0; i < ns * n; ++i) {
    float a = 0.25f * mask[i % n];
    CHECK(fabsf(t[2 * i] - (x[2 * i] + a * (k[2 * i] - x[2 * i]))) < 1e-7f);
  }
  float mag[30];
  CHECK_OK(ctx, b->ops->cabs(b, mag, x, ns * n));
  for (size_t i = 0; i < ns * n; ++i) CHECK(fabsf(mag[i] - hypotf(x[2 * i], x[2 * i + 1])) < 1e-6f);
  /* gather 4 of 10, then scatter them back with weights 2 and 1 taps. */
  int32_t src[4] = {9, 0, 4, 4}, dst[3] = {1, 7, 3};
  float g[2 * 3 * 4];
  CHECK_OK(ctx, b->ops->cgather(b, g, x, src, ns, 4, n));
  for (size_t s = 0; s < ns; ++s)
    for (size_t p = 0; p < 4; ++p) CHECK(g[2 * (s * 4 + p)] == x[2 * (s * n + (size_t)src[p])]);
  int32_t ssrc[6] = {0, 1, 2, 3, 1, 1};
  float wts[6] = {0.5f, 0.5f, 1.0f, -1.0f, 2.0f, 0.0f};
  float *o = (float *)calloc(2 * ns * n, sizeof(float));
  CHECK_OK(ctx, b->ops->cscatter(b, o, g, dst, ssrc, wts, 2, 3, ns, n, 4));
  for (size_t s = 0; s < ns; ++s) {
    const float *gs = g + 2 * s * 4;
    float *os = o + 2 * s * n;
    CHECK(fabsf(os[2 * 1] - (0.5f * gs[0] + 0.5f * gs[2])) < 1e-6f);
    CHECK(fabsf(os[2 * 7 + 1] - (gs[2 * 2 + 1] - gs[2 * 3 + 1])) < 1e-6f);
    CHECK(fabsf(os[2 * 3] - 2.0f * gs[2]) < 1e-6f);
    CHECK(os[0] == 0.0f && os[2 * 9] == 0.0f);
  }
  /* rmatmul_c against a double loop. */
  size_t rows = 5, nin = 7, nout = 6;
  float *r = random_floats(rows * nin), *m = random_floats(2 * nin * nout);
  float *out = (float *)malloc(2 * rows * nout * sizeof(float));
  float *ref = (float *)malloc(2 * rows * nout * sizeof(float));
  CHECK_OK(ctx, b->ops->rmatmul_c(b, out, r, m, rows, nin, nout));
  for (size_t i = 0; i < rows; ++i)
    for (size_t j = 0; j < 2 * nout; ++j) {
      double acc = 0.0;
      for (size_t q = 0; q < nin; ++q) acc += (double)r[i * nin + q] * m[2 * q * nout + j];
      ref[i * 2 * nout + j] = (float)acc;
    }
  CHECK(sr_test_rel_l2(out, ref, 2 * rows * nout) < 1e-6);
  free(x), free(k), free(t), free(o), free(r), free(m), free(out), free(ref);
}

/* <grad x, g> = -<x, div g>, and the projection lands on the disc. */
static void test_tv_ops(sr_context *ctx, size_t ns, size_t h, size_t w) {
  sr_backend *b = sr_context_get_backend(ctx);
  size_t n = ns * h * w;
  float *x = random_floats(n), *g = random_floats(2 * n);
  float *gx = (float *)malloc(2 * n * sizeof(float)), *dg = (float *)malloc(n * sizeof(float));
  CHECK_OK(ctx, b->ops->grad2(b, gx, x, ns, h, w));
  CHECK_OK(ctx, b->ops->div2(b, dg, g, ns, h, w));
  double lhs = 0.0, rhs = 0.0, scale = 0.0;
  for (size_t s = 0; s < ns; ++s)
    for (size_t c = 0; c < 2; ++c)
      for (size_t p = 0; p < h * w; ++p) {
        size_t i = p / w, j = p % w;
        /* grad2 leaves the last row (c = 0) / column (c = 1) zero. */
        int edge = c == 0 ? i + 1 == h : j + 1 == w;
        double gv = g[(s * 2 + c) * h * w + p], xv = gx[(s * 2 + c) * h * w + p];
        if (edge) CHECK(xv == 0.0);
        lhs += xv * gv;
        scale += fabs(xv * gv);
      }
  for (size_t i = 0; i < n; ++i) rhs -= (double)x[i] * dg[i];
  CHECK_MSG(fabs(lhs - rhs) <= 1e-6 * scale, "grad/div adjoint %zux%zux%zu: %.9g vs %.9g", ns, h, w,
            lhs, rhs);
  CHECK_OK(ctx, b->ops->proj_l2ball2(b, g, ns, h * w, 0.5f));
  for (size_t s = 0; s < ns; ++s)
    for (size_t p = 0; p < h * w; ++p) {
      float a = g[(2 * s) * h * w + p], c = g[(2 * s + 1) * h * w + p];
      CHECK(sqrtf(a * a + c * c) <= 0.5f * (1.0f + 1e-6f));
    }
  free(x), free(g), free(gx), free(dg);
}

int main(void) {
  sr_context *ctx = cpu_context(0);
  golden_fft2c(ctx, "mri_real_2x6x8.npy", "mri_real_2x6x8_fft2c.npy", 0);
  golden_fft2c(ctx, "mri_complex_1x5x7.npy", "mri_complex_1x5x7_fft2c.npy", 0);
  golden_fft2c(ctx, "mri_complex_1x5x7.npy", "mri_complex_1x5x7_ifft2c.npy", 1);
  golden_fft2c(ctx, "mri_complex_1x4x9.npy", "mri_complex_1x4x9_fft2c.npy", 0);
  test_fft2_vs_dft(ctx, 2, 6, 8, 0);
  test_fft2_vs_dft(ctx, 1, 17, 20, 1);
  test_fft2_vs_dft(ctx, 3, 1, 33, 0);  /* batched 1-D */
  test_fft2_vs_dft(ctx, 1, 35, 18, 0); /* more rows than one block, a tail */
  test_round_trip(ctx, 3, 64, 48);
  test_round_trip(ctx, 2, 33, 17);
  test_round_trip(ctx, 1, 320, 320);
  test_reproducible(5, 48, 40);
  test_reproducible(3, 35, 21);
  test_shift_embed(ctx);
  test_small_ops(ctx);
  test_tv_ops(ctx, 2, 13, 9);
  test_tv_ops(ctx, 1, 1, 7);
  sr_context_destroy(ctx);
  return sr_test_finish("test_fft");
}
