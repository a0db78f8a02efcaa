/* The mri-cartesian operator: forward equals mask * NumPy's fft2c (golden),
 * the adjoint is exact for the real inner product (<A x, y> = <x, A^T y> to
 * float32 rounding, summed in double), T^-1 T is the identity on real
 * images, and measurement_to_transform keeps only measured samples. */
#include <stdint.h>
#include <string.h>

#include "io/npy.h"
#include "operators/mri_cartesian.h"
#include "operators/mri_mask.h"
#include "test_util.h"

#ifndef SR_TEST_DATA
#define SR_TEST_DATA "."
#endif

static uint32_t rng_state = 777u;
static float frand(void) {
  rng_state = rng_state * 1664525u + 1013904223u;
  return ((float)(rng_state >> 8) / 16777216.0f) * 2.0f - 1.0f;
}

static void test_golden(sr_context *ctx) {
  sr_array img = {0}, k = {0};
  CHECK_OK(ctx, sr_npy_read(ctx, SR_TEST_DATA "/mri_real_2x6x8.npy", &img));
  CHECK_OK(ctx, sr_npy_read(ctx, SR_TEST_DATA "/mri_real_2x6x8_fft2c.npy", &k));
  if (!img.data || !k.data) return;
  sr_backend *b = sr_context_get_backend(ctx);
  float mask[48];
  for (int i = 0; i < 48; ++i) mask[i] = (i % 8 == 3 || i % 8 == 4 || i % 8 == 0) ? 1.0f : 0.0f;
  sr_operator *op = NULL;
  CHECK_OK(ctx, sr_mri_cartesian_create(b, 6, 8, mask, &op));
  if (!op) return;
  CHECK(op->meas_dtype == SR_DTYPE_C64 && op->meas_elems == 48 && op->transform_elems == 48);
  float y[2 * 2 * 48], ref[2 * 2 * 48];
  CHECK_OK(ctx, op->vt->forward(op, (const float *)img.data, y, 2));
  for (int i = 0; i < 2 * 48; ++i) {
    ref[2 * i] = mask[i % 48] * ((const float *)k.data)[2 * i];
    ref[2 * i + 1] = mask[i % 48] * ((const float *)k.data)[2 * i + 1];
  }
  CHECK_MSG(sr_test_rel_l2(y, ref, 4 * 48) < 1e-6, "forward vs NumPy: %.3g",
            sr_test_rel_l2(y, ref, 4 * 48));
  sr_operator_destroy(op);
  sr_array_free(&img), sr_array_free(&k);
}

static void test_adjoint_and_transform(sr_context *ctx, size_t ns, int64_t h, int64_t w) {
  sr_backend *b = sr_context_get_backend(ctx);
  size_t n = (size_t)(h * w);
  float *mask = (float *)malloc(n * sizeof(float));
  sr_mask_params mp = sr_mask_params_default();
  mp.kind = SR_MASK_VD2D;
  mp.accel = 3.0;
  mp.center_fraction = 0.1;
  CHECK_OK(ctx, sr_mri_mask_make(ctx, &mp, h, w, mask));
  sr_operator *op = NULL;
  CHECK_OK(ctx, sr_mri_cartesian_create(b, h, w, mask, &op));
  if (!op) return;
  float *x = (float *)malloc(ns * n * sizeof(float)),
        *aty = (float *)malloc(ns * n * sizeof(float));
  float *y = (float *)malloc(2 * ns * n * sizeof(float)),
        *ax = (float *)malloc(2 * ns * n * sizeof(float));
  for (size_t i = 0; i < ns * n; ++i) x[i] = frand();
  for (size_t i = 0; i < 2 * ns * n; ++i) y[i] = frand();
  CHECK_OK(ctx, op->vt->forward(op, x, ax, ns));
  CHECK_OK(ctx, op->vt->adjoint(op, y, aty, ns));
  double lhs = 0.0, rhs = 0.0;
  for (size_t i = 0; i < 2 * ns * n; ++i) lhs += (double)ax[i] * y[i];
  for (size_t i = 0; i < ns * n; ++i) rhs += (double)x[i] * aty[i];
  double rel = fabs(lhs - rhs) / fabs(lhs);
  CHECK_MSG(rel < 1e-5, "adjoint %zux%lldx%lld: <Ax,y> %.9g vs <x,A^T y> %.9g (rel %.3g)", ns,
            (long long)h, (long long)w, lhs, rhs, rel);
  printf("mri-cartesian %zux%lldx%lld adjoint: relative mismatch %.2e\n", ns, (long long)h,
         (long long)w, rel);
  /* T^-1 T x == x for real x; T keeps everything, the mask does not enter. */
  float *t = (float *)malloc(2 * ns * n * sizeof(float)),
        *back = (float *)malloc(ns * n * sizeof(float));
  CHECK_OK(ctx, op->vt->transform(op, x, t, ns));
  CHECK_OK(ctx, op->vt->inverse_transform(op, t, back, ns));
  CHECK(sr_test_rel_l2(back, x, ns * n) < 1e-6);
  /* measurement_to_transform zeroes what lies outside the mask. */
  CHECK_OK(ctx, op->vt->measurement_to_transform(op, y, t, ns));
  for (size_t i = 0; i < ns * n; ++i)
    CHECK(t[2 * i] == mask[i % n] * y[2 * i] && t[2 * i + 1] == mask[i % n] * y[2 * i + 1]);
  sr_operator_destroy(op);
  free(mask), free(x), free(aty), free(y), free(ax), free(t), free(back);
}

static void test_rejects(sr_context *ctx) {
  sr_backend *b = sr_context_get_backend(ctx);
  float mask[4] = {1, 0, 0.5f, 1};
  sr_operator *op = NULL;
  CHECK_FAILS(ctx, sr_mri_cartesian_create(b, 2, 2, mask, &op), SR_ERR_INVALID_ARGUMENT);
  CHECK(op == NULL);
}

int main(void) {
  sr_context_options o = sr_context_options_default();
  o.backend = SR_BACKEND_CPU;
  sr_context *ctx = NULL;
  CHECK_OK(ctx, sr_context_create(&o, &ctx));
  test_golden(ctx);
  test_adjoint_and_transform(ctx, 3, 32, 24);
  test_adjoint_and_transform(ctx, 2, 27, 15);
  test_adjoint_and_transform(ctx, 1, 240, 240);
  test_rejects(ctx);
  sr_context_destroy(ctx);
  return sr_test_finish("test_mri_operator");
}
