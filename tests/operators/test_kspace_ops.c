/* Every FFT, k-space and TV op of the CUDA backend against its CPU twin on
 * fresh random inputs (seed printed; SR_TEST_SEED reproduces), odd and even
 * sizes, batches > 1; then the operators built on them (mri-cartesian,
 * ct-fourier, TV) end to end on both backends. Label gpu on a real GPU
 * build (exit 77 without one), emu in the emulation build (three thread
 * orders). Tolerances, relative L2: data movement (shifts, embed, gather,
 * scatter, masks) bit for bit; FFTs 1e-6 (cuFFT and FFTW round
 * differently); matmul and TV 1e-6; operators 1e-5. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "backend/backend.h"
#include "operators/ct_fourier.h"
#include "operators/mri_cartesian.h"
#include "operators/mri_mask.h"
#include "operators/tv_recon.h"
#include "test_util.h"
#include "backend_pair.h"

typedef sr_test_pair pair;

static float frand(void) {
  return sr_test_frand();
}
static float *rnd(size_t n) {
  return sr_test_random(n, 1.0f);
}
static void *dev(pair *p, const void *host, size_t bytes) {
  return sr_test_upload(p, host, bytes);
}
static void back(pair *p, void *host, const void *d, size_t bytes) {
  sr_test_download(p, host, d, bytes);
}
static void compare(const char *what, const float *g, const float *c, size_t n, double tol) {
  double err = sr_test_rel_l2(g, c, n);
  if (tol == 0.0)
    CHECK_MSG(memcmp(g, c, n * sizeof(float)) == 0, "%s: CUDA differs from CPU (rel %.3g)", what,
              err);
  else
    CHECK_MSG(err <= tol, "%s: relative L2 %.3g > %.3g", what, err, tol);
}

/* Runs `call` (an expression of b, x, y) on both backends: x input (nx
 * floats), y output (ny floats, preset to y0 on both). */
#define BOTH(p, what, tol, x0, nx, y0, ny, call)                                                   \
  do {                                                                                             \
    float *yc = (float *)malloc((ny) * sizeof(float)),                                             \
          *yg = (float *)malloc((ny) * sizeof(float));                                             \
    const float *hx_ = (x0);                                                                       \
    memcpy(yc, (y0), (ny) * sizeof(float));                                                        \
    float *dx = (float *)dev((p), (x0), (nx) * sizeof(float));                                     \
    float *dy = (float *)dev((p), (y0), (ny) * sizeof(float));                                     \
    {                                                                                              \
      sr_backend *b = (p)->cpu;                                                                    \
      const float *x = hx_;                                                                        \
      float *y = yc;                                                                               \
      (void)x, (void)y;                                                                            \
      CHECK_OK((p)->cpu_ctx, call);                                                                \
    }                                                                                              \
    {                                                                                              \
      sr_backend *b = (p)->gpu;                                                                    \
      const float *x = dx;                                                                         \
      float *y = dy;                                                                               \
      (void)x, (void)y;                                                                            \
      CHECK_OK((p)->gpu_ctx, call);                                                                \
    }                                                                                              \
    back((p), yg, dy, (ny) * sizeof(float));                                                       \
    compare((what), yg, yc, (ny), (tol));                                                          \
    (p)->gpu->ops->free((p)->gpu, dx);                                                             \
    (p)->gpu->ops->free((p)->gpu, dy);                                                             \
    free(yc), free(yg);                                                                            \
  } while (0)

static void test_ffts(pair *p, size_t ns, size_t h, size_t w) {
  size_t n = 2 * ns * h * w;
  float *x = rnd(n), *y0 = rnd(n);
  char what[96];
  for (int inv = 0; inv < 2; ++inv) {
    snprintf(what, sizeof what, "fft2 %zux%zux%zu inverse=%d", ns, h, w, inv);
    BOTH(p, what, 1e-6, x, n, y0, n, b->ops->fft2(b, y, x, ns, h, w, inv, 0.5f));
    snprintf(what, sizeof what, "fft2c %zux%zux%zu inverse=%d", ns, h, w, inv);
    BOTH(p, what, 1e-6, x, n, y0, n, b->ops->fft2c(b, y, x, ns, h, w, inv));
    snprintf(what, sizeof what, "fftshift2 %zux%zux%zu inverse=%d", ns, h, w, inv);
    BOTH(p, what, 0.0, x, n, y0, n, b->ops->fftshift2(b, y, x, ns, h, w, inv, 1.5f));
  }
  free(x), free(y0);
}

static void test_data_ops(pair *p) {
  size_t ns = 3, h = 7, w = 10, H = 16, W = 13, n = ns * h * w, N = ns * H * W;
  float *x = rnd(2 * N), *y0 = rnd(2 * N), *mask = rnd(H * W);
  for (size_t i = 0; i < H * W; ++i) mask[i] = mask[i] > 0.0f ? 1.0f : 0.0f;
  float *dmask = (float *)dev(p, mask, H * W * sizeof(float));
  BOTH(p, "embed_real", 0.0, x, n, y0, 2 * N, b->ops->embed_real(b, y, x, ns, h, w, H, W, 11, 9));
  BOTH(p, "extract_real", 0.0, x, 2 * N, y0, n,
       b->ops->extract_real(b, y, x, ns, h, w, H, W, 11, 9, 0.25f));
  BOTH(p, "cmask", 0.0, x, 2 * N, y0, 2 * N,
       b->ops->cmask(b, y, x, b == p->cpu ? mask : dmask, ns, H * W));
  BOTH(p, "cblend", 1e-7, x, 2 * N, y0, 2 * N,
       b->ops->cblend(b, y, x, b == p->cpu ? mask : dmask, ns, H * W, 0.841f));
  BOTH(p, "cabs", 0.0, x, 2 * N, y0, N, b->ops->cabs(b, y, x, N));
  /* Gather and an interpolating scatter with 3 taps onto distinct points. */
  size_t nout = 50, npts = 40, taps = 3;
  int32_t src[50], dst[40], ssrc[120];
  float wts[120];
  for (size_t i = 0; i < nout; ++i) src[i] = (int32_t)((i * 37) % (H * W));
  for (size_t i = 0; i < npts; ++i) dst[i] = (int32_t)((i * 7 + 3) % (H * W));
  for (size_t i = 0; i < npts * taps; ++i) ssrc[i] = (int32_t)((i * 11) % nout), wts[i] = frand();
  int32_t *dsrc = (int32_t *)dev(p, src, sizeof src), *ddst = (int32_t *)dev(p, dst, sizeof dst);
  int32_t *dssrc = (int32_t *)dev(p, ssrc, sizeof ssrc);
  float *dw = (float *)dev(p, wts, sizeof wts);
  BOTH(p, "cgather", 0.0, x, 2 * N, y0, 2 * ns * nout,
       b->ops->cgather(b, y, x, b == p->cpu ? src : dsrc, ns, nout, H * W));
  BOTH(p, "cscatter", 1e-7, x, 2 * ns * nout, y0, 2 * N,
       b->ops->cscatter(b, y, x, b == p->cpu ? dst : ddst, b == p->cpu ? ssrc : dssrc,
                        b == p->cpu ? wts : dw, taps, npts, ns, H * W, nout));
  /* rmatmul_c: rows real (5 x 33) through a complex (33 x 29) matrix. */
  size_t rows = 5, nin = 33, nm = 29;
  float *m = rnd(2 * nin * nm), *dm = (float *)dev(p, m, 2 * nin * nm * sizeof(float));
  BOTH(p, "rmatmul_c", 1e-6, x, rows * nin, y0, 2 * rows * nm,
       b->ops->rmatmul_c(b, y, x, b == p->cpu ? m : dm, rows, nin, nm));
  /* TV pieces. */
  BOTH(p, "grad2", 0.0, x, n, y0, 2 * n, b->ops->grad2(b, y, x, ns, h, w));
  BOTH(p, "div2", 0.0, x, 2 * n, y0, n, b->ops->div2(b, y, x, ns, h, w));
  BOTH(p, "proj_l2ball2", 1e-7, x, 1, x, 2 * n, b->ops->proj_l2ball2(b, y, ns, h * w, 0.3f));
  void *bufs[] = {dmask, dsrc, ddst, dssrc, dw, dm};
  for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; ++i) p->gpu->ops->free(p->gpu, bufs[i]);
  free(x), free(y0), free(mask), free(m);
}

/* An operator's forward, adjoint, T, T^-1 and measurement_to_transform on
 * both backends. */
static void test_operator(pair *p, sr_operator *oc, sr_operator *og, size_t ns) {
  size_t n = ns * sr_operator_image_elems(oc);
  size_t m = ns * oc->meas_elems * (oc->meas_dtype == SR_DTYPE_C64 ? 2 : 1);
  size_t t = 2 * ns * oc->transform_elems;
  float *x = rnd(n), *y = rnd(m), *tt = rnd(t);
  char what[96];
  const char *name = oc->vt->name;
#define OPS(kind, in, nin, nout, fn)                                                               \
  do {                                                                                             \
    snprintf(what, sizeof what, "%s %s", name, kind);                                              \
    float *zero = (float *)calloc((nout), sizeof(float));                                          \
    BOTH(p, what, 1e-5, (in), (nin), zero, (nout),                                                 \
         (b == p->cpu ? oc : og)->vt->fn(b == p->cpu ? oc : og, x, y, ns));                        \
    free(zero);                                                                                    \
  } while (0)
  OPS("forward", x, n, m, forward);
  OPS("adjoint", y, m, n, adjoint);
  OPS("transform", x, n, t, transform);
  OPS("inverse_transform", tt, t, n, inverse_transform);
  OPS("measurement_to_transform", y, m, t, measurement_to_transform);
#undef OPS
  free(x), free(y), free(tt);
}

static void test_operators(pair *p) {
  int64_t h = 24, w = 18;
  float mask[24 * 18];
  sr_mask_params mp = sr_mask_params_default();
  mp.kind = SR_MASK_EQUISPACED;
  mp.accel = 3.0;
  mp.center_fraction = 0.1;
  CHECK_OK(p->cpu_ctx, sr_mri_mask_make(p->cpu_ctx, &mp, h, w, mask));
  sr_operator *oc = NULL, *og = NULL;
  CHECK_OK(p->cpu_ctx, sr_mri_cartesian_create(p->cpu, h, w, mask, &oc));
  CHECK_OK(p->gpu_ctx, sr_mri_cartesian_create(p->gpu, h, w, mask, &og));
  if (oc && og) test_operator(p, oc, og, 2);
  /* TV on the MRI operator: 20 iterations, same result within float rounding. */
  if (oc && og) {
    size_t n = 2 * (size_t)(h * w);
    float *x = rnd(n), *yc = (float *)malloc(2 * n * sizeof(float)),
          *xc = (float *)malloc(n * sizeof(float));
    float *xg = (float *)malloc(n * sizeof(float));
    CHECK_OK(p->cpu_ctx, oc->vt->forward(oc, x, yc, 2));
    float *dy = (float *)dev(p, yc, 2 * n * sizeof(float)),
          *dx = (float *)dev(p, NULL, n * sizeof(float));
    sr_tv_params tp = sr_tv_params_default();
    tp.iters = 20;
    tp.weight = 0.01;
    CHECK_OK(p->cpu_ctx, sr_tv_reconstruct(oc, yc, xc, 2, &tp, NULL));
    CHECK_OK(p->gpu_ctx, sr_tv_reconstruct(og, dy, dx, 2, &tp, NULL));
    back(p, xg, dx, n * sizeof(float));
    compare("tv (mri, 20 iterations)", xg, xc, n, 1e-4);
    p->gpu->ops->free(p->gpu, dy), p->gpu->ops->free(p->gpu, dx);
    free(x), free(yc), free(xc), free(xg);
  }
  sr_operator_destroy(oc), sr_operator_destroy(og);
  /* ct-fourier, 6 of 16 views on 16 x 16 (grid 92 x 92). */
  int64_t rows[6] = {0, 3, 6, 9, 12, 15};
  sr_ct_fourier_params cp = {.image_size = 16, .rows = rows, .n_keep = 6};
  oc = og = NULL;
  CHECK_OK(p->cpu_ctx, sr_ct_fourier_create(p->cpu, &cp, &oc));
  CHECK_OK(p->gpu_ctx, sr_ct_fourier_create(p->gpu, &cp, &og));
  if (oc && og) test_operator(p, oc, og, 2);
  sr_operator_destroy(oc), sr_operator_destroy(og);
}

int main(void) {
  pair p = {0};
  int rc = sr_test_pair_open(&p, "test_kspace_ops");
  if (rc >= 0) return rc;
  test_ffts(&p, 3, 8, 12); /* even: sign-pattern centring */
  test_ffts(&p, 2, 7, 9);  /* odd: shifts through scratch */
  test_ffts(&p, 2, 6, 5);  /* mixed */
  test_ffts(&p, 5, 1, 40); /* batched 1-D */
  test_data_ops(&p);
  test_operators(&p);
  sr_test_pair_close(&p);
  return sr_test_finish("test_kspace_ops");
}
