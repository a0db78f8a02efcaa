/* The classical baselines on a piecewise-constant phantom: TV by
 * Chambolle-Pock beats zero-filling on 4x undersampled MRI and FBP on
 * sparse-view CT by stated PSNR margins, the norm estimate of the
 * orthonormal MRI operator is 1, and weight 0 with a full mask gives back
 * the image (least squares with A = F). */
#include <math.h>
#include <string.h>

#include "metrics/image_metrics.h"
#include "operators/ct_geometry.h"
#include "operators/ct_parallel.h"
#include "operators/mri_cartesian.h"
#include "operators/mri_mask.h"
#include "operators/tv_recon.h"
#include "test_util.h"

static void phantom(float *x, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double y = (double)(i - n / 2) / (n / 2), xx = (double)(j - n / 2) / (n / 2);
      double v = 0.0;
      if (xx * xx / 0.7 + y * y / 0.85 < 1.0) v = 0.8;
      if ((xx - 0.2) * (xx - 0.2) / 0.04 + y * y / 0.1 < 1.0) v = 0.3;
      if ((xx + 0.3) * (xx + 0.3) + (y + 0.3) * (y + 0.3) < 0.02) v = 1.0;
      x[i * n + j] = (float)v;
    }
}

static void test_mri(sr_context *ctx) {
  sr_backend *b = sr_context_get_backend(ctx);
  const int64_t n = 64;
  float x[64 * 64], mask[64 * 64], zf[64 * 64], tv[64 * 64], y[2 * 64 * 64];
  phantom(x, n);
  sr_mask_params mp = sr_mask_params_default();
  mp.kind = SR_MASK_RANDOM;
  mp.accel = 4.0;
  mp.center_fraction = 0.08;
  mp.seed = 5;
  CHECK_OK(ctx, sr_mri_mask_make(ctx, &mp, n, n, mask));
  sr_operator *op = NULL;
  CHECK_OK(ctx, sr_mri_cartesian_create(b, n, n, mask, &op));
  if (!op) return;
  double norm = 0.0;
  CHECK_OK(ctx, sr_operator_norm(op, 20, 1, &norm));
  CHECK_MSG(fabs(norm - 1.0) < 1e-3, "||A|| of masked orthonormal FFT: %g", norm);
  CHECK_OK(ctx, op->vt->forward(op, x, y, 1));
  CHECK_OK(ctx, sr_mri_zero_filled(op, y, zf, 1));
  sr_tv_params tp = sr_tv_params_default();
  tp.iters = 300;
  tp.weight = 0.002;
  sr_tv_info info;
  CHECK_OK(ctx, sr_tv_reconstruct(op, y, tv, 1, &tp, &info));
  double p_zf = sr_psnr(zf, x, 64 * 64, 1.0), p_tv = sr_psnr(tv, x, 64 * 64, 1.0);
  printf("MRI 64x64, random 4x: zero-filled %.2f dB, TV %.2f dB (||K|| %.3f)\n", p_zf, p_tv,
         info.norm_k);
  CHECK_MSG(p_tv > p_zf + 15.0, "TV %.2f dB does not beat zero-filled %.2f dB by 15 dB", p_tv,
            p_zf);
  sr_operator_destroy(op);

  /* Full mask, no regulariser: least squares recovers x exactly. */
  for (int i = 0; i < 64 * 64; ++i) mask[i] = 1.0f;
  CHECK_OK(ctx, sr_mri_cartesian_create(b, n, n, mask, &op));
  if (!op) return;
  CHECK_OK(ctx, op->vt->forward(op, x, y, 1));
  tp.weight = 0.0;
  tp.iters = 200;
  CHECK_OK(ctx, sr_tv_reconstruct(op, y, tv, 1, &tp, NULL));
  CHECK_MSG(sr_test_rel_l2(tv, x, 64 * 64) < 1e-3, "LS with a full mask: %.3g",
            sr_test_rel_l2(tv, x, 64 * 64));
  sr_operator_destroy(op);
}

static void test_ct(sr_context *ctx) {
  sr_backend *b = sr_context_get_backend(ctx);
  const int64_t n = 64;
  sr_ct_geometry g;
  CHECK_OK(ctx, sr_ct_geometry_init(ctx, &g, n, n, 24));
  sr_operator *op = NULL;
  CHECK_OK(ctx, sr_ct_parallel_create(b, &g, &op));
  sr_ct_geometry_release(&g);
  if (!op) return;
  float x[64 * 64], fbp[64 * 64], tv[64 * 64];
  float *y = (float *)malloc(op->meas_elems * sizeof(float));
  phantom(x, n);
  CHECK_OK(ctx, op->vt->forward(op, x, y, 1));
  CHECK_OK(ctx, sr_ct_fbp(op, y, fbp, 1, SR_CT_FILTER_RAM_LAK));
  sr_tv_params tp = sr_tv_params_default();
  tp.iters = 300;
  tp.weight = 0.5;
  tp.nonneg = 1;
  sr_tv_info info;
  CHECK_OK(ctx, sr_tv_reconstruct(op, y, tv, 1, &tp, &info));
  double p_fbp = sr_psnr(fbp, x, 64 * 64, 1.0), p_tv = sr_psnr(tv, x, 64 * 64, 1.0);
  printf("CT 64x64, 24 views: FBP %.2f dB, TV %.2f dB (||A|| %.2f, ||K|| %.3f)\n", p_fbp, p_tv,
         info.norm_a, info.norm_k);
  CHECK_MSG(p_tv > p_fbp + 10.0, "TV %.2f dB does not beat FBP %.2f dB by 10 dB", p_tv, p_fbp);
  free(y);
  sr_operator_destroy(op);
}

int main(void) {
  sr_context_options o = sr_context_options_default();
  o.backend = SR_BACKEND_CPU;
  sr_context *ctx = NULL;
  CHECK_OK(ctx, sr_context_create(&o, &ctx));
  test_mri(ctx);
  test_ct(ctx);
  sr_context_destroy(ctx);
  return sr_test_finish("test_tv_recon");
}
