/* MRI undersampling masks: the paper's n_keep rule column for column against
 * the official formulas (goldens from tools/golden_mri.py), fastMRI's random
 * and equispaced masks hit the requested acceleration and keep the centre
 * columns, the 2-D variable-density mask hits its sampling fraction, and
 * every mask is a function of its seed. */
#include <stdint.h>
#include <string.h>

#include "io/npy.h"
#include "operators/mri_mask.h"
#include "test_util.h"

#ifndef SR_TEST_DATA
#define SR_TEST_DATA "."
#endif

static void test_paper(sr_context *ctx, int64_t size, int n_keep, size_t expect_cols) {
  char path[1024];
  snprintf(path, sizeof path, "%s/mri_paper_mask_%lld_nkeep%d.npy", SR_TEST_DATA, (long long)size,
           n_keep);
  sr_array cols = {0};
  CHECK_OK(ctx, sr_npy_read(ctx, path, &cols));
  if (!cols.data) return;
  sr_mask_params p = sr_mask_params_default();
  p.kind = SR_MASK_PAPER;
  p.n_keep = n_keep;
  float *mask = (float *)malloc((size_t)(size * size) * sizeof(float));
  CHECK_OK(ctx, sr_mri_mask_make(ctx, &p, size, size, mask));
  size_t n = (size_t)cols.shape[0];
  CHECK_MSG(n == expect_cols, "paper mask %lld n_keep %d: golden has %zu columns", (long long)size,
            n_keep, n);
  CHECK(sr_mri_mask_columns(mask, size, size) == n);
  for (size_t k = 0; k < n; ++k) {
    int64_t j = ((const int64_t *)cols.data)[k];
    CHECK_MSG(mask[j] == 1.0f && mask[(size - 1) * size + j] == 1.0f,
              "paper mask n_keep %d lacks column %lld", n_keep, (long long)j);
  }
  double accel = sr_mri_mask_acceleration(mask, (size_t)(size * size));
  CHECK(fabs(accel - (double)size / (double)n) < 1e-12);
  printf("paper mask %lldx%lld n_keep %d: %zu columns, true acceleration %.2fx\n", (long long)size,
         (long long)size, n_keep, n, accel);
  free(mask);
  sr_array_free(&cols);
}

/* The central round(w * cf) columns are all kept (fastMRI's pad rule). */
static void check_center(const float *mask, int64_t w, double cf) {
  int64_t num_low = (int64_t)rint((double)w * cf);
  int64_t pad = (w - num_low + 1) / 2;
  for (int64_t j = pad; j < pad + num_low; ++j)
    CHECK_MSG(mask[j] == 1.0f, "centre column %lld missing", (long long)j);
}

static void test_fastmri(sr_context *ctx, sr_mask_kind kind, int64_t w, double accel, double cf) {
  sr_mask_params p = sr_mask_params_default();
  p.kind = kind;
  p.accel = accel;
  p.center_fraction = cf;
  int64_t h = 4;
  float *mask = (float *)malloc((size_t)(h * w) * sizeof(float));
  float *again = (float *)malloc((size_t)(h * w) * sizeof(float));
  double mean_cols = 0.0;
  const int seeds = kind == SR_MASK_RANDOM ? 200 : 20;
  for (int s = 0; s < seeds; ++s) {
    p.seed = (uint32_t)s * 7919u + 1u;
    CHECK_OK(ctx, sr_mri_mask_make(ctx, &p, h, w, mask));
    check_center(mask, w, cf);
    size_t cols = sr_mri_mask_columns(mask, h, w);
    mean_cols += (double)cols / seeds;
    /* Rows repeat the column pattern. */
    CHECK(memcmp(mask, mask + (h - 1) * w, (size_t)w * sizeof(float)) == 0);
    if (kind == SR_MASK_EQUISPACED)
      CHECK_MSG(fabs((double)cols - (double)w / accel) <= 1.0 + 1e-9,
                "equispaced w=%lld accel %g: %zu columns, wanted %.1f", (long long)w, accel, cols,
                (double)w / accel);
    CHECK_OK(ctx, sr_mri_mask_make(ctx, &p, h, w, again));
    CHECK(memcmp(mask, again, (size_t)(h * w) * sizeof(float)) == 0);
  }
  /* Random: the expected count is w / accel; the mean over seeds is within
   * 4 standard errors of it. */
  double want = (double)w / accel;
  double prob = (want - rint((double)w * cf)) / ((double)w - rint((double)w * cf));
  double se = sqrt(((double)w - rint((double)w * cf)) * prob * (1 - prob) / seeds);
  CHECK_MSG(fabs(mean_cols - want) <= 4.0 * se + 1.0,
            "%s w=%lld accel %g cf %g: mean %.2f columns, wanted %.2f", sr_mask_kind_name(kind),
            (long long)w, accel, cf, mean_cols, want);
  free(mask), free(again);
}

static void test_vd2d(sr_context *ctx) {
  sr_mask_params p = sr_mask_params_default();
  p.kind = SR_MASK_VD2D;
  p.accel = 6.0;
  p.center_fraction = 0.1;
  p.seed = 42;
  int64_t h = 128, w = 96;
  float *mask = (float *)malloc((size_t)(h * w) * sizeof(float));
  CHECK_OK(ctx, sr_mri_mask_make(ctx, &p, h, w, mask));
  double accel = sr_mri_mask_acceleration(mask, (size_t)(h * w));
  /* Bernoulli over ~12000 points: within 5% of the target. */
  CHECK_MSG(fabs(accel / 6.0 - 1.0) < 0.05, "vd2d: true acceleration %.3f for 6", accel);
  CHECK(mask[(h / 2) * w + w / 2] == 1.0f);
  CHECK(mask[(h / 2 + 4) * w + w / 2] == 1.0f); /* inside the centre disc (radius 4.8) */
  /* Density falls off: a larger sampled fraction in the inner half than the outer. */
  size_t inner = 0, outer = 0, n_inner = 0, n_outer = 0;
  for (int64_t i = 0; i < h; ++i)
    for (int64_t j = 0; j < w; ++j) {
      double dy = (double)(i - h / 2) / (h / 2.0), dx = (double)(j - w / 2) / (w / 2.0);
      int in = sqrt(dy * dy + dx * dx) < 0.5;
      n_inner += in, n_outer += !in;
      if (mask[i * w + j] != 0.0f) inner += in, outer += !in;
    }
  CHECK((double)inner / n_inner > 2.0 * (double)outer / n_outer);
  printf("vd2d %lldx%lld accel 6: true acceleration %.3f\n", (long long)h, (long long)w, accel);
  free(mask);
}

static void test_errors(sr_context *ctx) {
  sr_mask_params p = sr_mask_params_default();
  float mask[64];
  p.accel = 1.0;
  CHECK_FAILS(ctx, sr_mri_mask_make(ctx, &p, 4, 16, mask), SR_ERR_INVALID_ARGUMENT);
  p.accel = 8.0;
  p.center_fraction = 0.5; /* 8 central columns of 16 > 16 / 8 */
  CHECK_FAILS(ctx, sr_mri_mask_make(ctx, &p, 4, 16, mask), SR_ERR_INVALID_ARGUMENT);
  p.kind = SR_MASK_PAPER;
  p.n_keep = 0;
  CHECK_FAILS(ctx, sr_mri_mask_make(ctx, &p, 4, 16, mask), SR_ERR_INVALID_ARGUMENT);
  sr_mask_kind k;
  CHECK_FAILS(ctx, sr_mask_kind_parse(ctx, "spiral", &k), SR_ERR_INVALID_ARGUMENT);
  CHECK_OK(ctx, sr_mask_kind_parse(ctx, "vd2d", &k));
  CHECK(k == SR_MASK_VD2D);
}

int main(void) {
  sr_context_options o = sr_context_options_default();
  o.backend = SR_BACKEND_CPU;
  sr_context *ctx = NULL;
  CHECK_OK(ctx, sr_context_create(&o, &ctx));
  test_paper(ctx, 240, 30, 31); /* the BraTS setting: 31 columns, 7.7x */
  test_paper(ctx, 240, 60, 60);
  test_paper(ctx, 240, 10, 10);
  test_paper(ctx, 320, 30, 30);
  test_fastmri(ctx, SR_MASK_RANDOM, 368, 4.0, 0.08);
  test_fastmri(ctx, SR_MASK_RANDOM, 320, 8.0, 0.04);
  test_fastmri(ctx, SR_MASK_EQUISPACED, 368, 4.0, 0.08);
  test_fastmri(ctx, SR_MASK_EQUISPACED, 320, 8.0, 0.04);
  test_fastmri(ctx, SR_MASK_EQUISPACED, 241, 3.0, 0.1);
  test_vd2d(ctx);
  test_errors(ctx);
  sr_context_destroy(ctx);
  return sr_test_finish("test_mri_mask");
}
