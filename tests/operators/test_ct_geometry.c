/* CT geometry as a value object: defaults (scikit-image's and the paper's
 * detector), the paper's sparse-view rule (NumPy's round-half-even), subsets,
 * copies, bad geometries refused with a clear status and message, FBP filter
 * names and responses (against scikit-image's _get_fourier_filter, values
 * computed by tools/golden_skimage_radon.py's formula and checked here in
 * closed form). */
#include <string.h>

#include "ct_test_util.h"

static const double kPi = 3.14159265358979323846;

static void test_defaults(sr_context *ctx) {
  CHECK(sr_ct_default_n_det(320, 320) == 453); /* the paper: 453 bins for 320² */
  CHECK(sr_ct_default_n_det(64, 64) == 91);    /* scikit-image circle=False */
  CHECK(sr_ct_default_n_det(256, 256) == 363);
  CHECK(sr_ct_default_n_det(512, 512) == 725);
  CHECK(sr_ct_default_n_det(13, 20) == 29);
  sr_ct_geometry g;
  CHECK_OK(ctx, sr_ct_geometry_init(ctx, &g, 320, 320, 320));
  CHECK(g.n_angles == 320 && g.n_det == 453 && g.pixel_size == 1.0 && g.det_spacing == 1.0);
  CHECK(g.angles[0] == 0.0 && fabs(g.angles[160] - kPi / 2) < 1e-15 && g.angles[319] < kPi);
  CHECK_OK(ctx, sr_ct_geometry_validate(ctx, &g));
  sr_ct_geometry c;
  CHECK_OK(ctx, sr_ct_geometry_copy(ctx, &g, &c));
  CHECK(c.angles != g.angles && memcmp(c.angles, g.angles, 320 * sizeof(double)) == 0);
  sr_ct_geometry_release(&c);
  CHECK(c.angles == NULL);
  sr_ct_geometry_release(&c); /* twice is harmless */
  sr_ct_geometry_release(&g);
}

static void test_sparse(sr_context *ctx) {
  /* np.round(np.linspace(0, 319, 23)): steps of 14.5, halves to even. */
  static const int64_t paper23[23] = {0,   14,  29,  44,  58,  72,  87,  102, 116, 130, 145, 160,
                                      174, 188, 203, 218, 232, 246, 261, 276, 290, 304, 319};
  int64_t rows[23];
  CHECK_OK(ctx, sr_ct_sparse_rows(ctx, 320, 23, rows));
  CHECK(memcmp(rows, paper23, sizeof rows) == 0);
  for (int i = 0; i < 23; ++i)
    if (rows[i] != paper23[i])
      fprintf(stderr, "row %d: %lld vs %lld\n", i, (long long)rows[i], (long long)paper23[i]);
  int64_t one;
  CHECK_OK(ctx, sr_ct_sparse_rows(ctx, 180, 1, &one));
  CHECK(one == 0);
  int64_t all[7];
  CHECK_OK(ctx, sr_ct_sparse_rows(ctx, 7, 7, all));
  for (int i = 0; i < 7; ++i) CHECK(all[i] == i);
  CHECK_FAILS(ctx, sr_ct_sparse_rows(ctx, 10, 11, all), SR_ERR_INVALID_ARGUMENT);
  CHECK_FAILS(ctx, sr_ct_sparse_rows(ctx, 10, 0, all), SR_ERR_INVALID_ARGUMENT);

  sr_ct_geometry full, sparse;
  CHECK_OK(ctx, sr_ct_geometry_init(ctx, &full, 320, 320, 320));
  int64_t kept[23];
  CHECK_OK(ctx, sr_ct_geometry_sparse(ctx, &full, 23, &sparse, kept));
  CHECK(sparse.n_angles == 23 && sparse.n_det == 453);
  for (int i = 0; i < 23; ++i) CHECK(sparse.angles[i] == full.angles[paper23[i]]);
  sr_ct_geometry_release(&sparse);
  const int64_t bad[3] = {5, 5, 9}, out_of_range[2] = {3, 320};
  CHECK_FAILS(ctx, sr_ct_geometry_subset(ctx, &full, bad, 3, &sparse), SR_ERR_INVALID_ARGUMENT);
  CHECK_FAILS(ctx, sr_ct_geometry_subset(ctx, &full, out_of_range, 2, &sparse),
              SR_ERR_INVALID_ARGUMENT);
  CHECK_FAILS(ctx, sr_ct_geometry_sparse(ctx, &full, 321, &sparse, NULL), SR_ERR_INVALID_ARGUMENT);
  sr_ct_geometry_release(&full);
}

/* Every bad field gives SR_ERR_INVALID_ARGUMENT and a message naming it, both
 * from validate and from operator creation. */
static void expect_bad(sr_context *ctx, sr_backend *b, const sr_ct_geometry *g, const char *word) {
  sr_context_clear_error(ctx);
  CHECK_FAILS(ctx, sr_ct_geometry_validate(ctx, g), SR_ERR_INVALID_ARGUMENT);
  CHECK_MSG(strstr(sr_context_last_error(ctx), word) != NULL, "message '%s' lacks '%s'",
            sr_context_last_error(ctx), word);
  sr_operator *op = NULL;
  CHECK_FAILS(ctx, sr_ct_parallel_create(b, g, &op), SR_ERR_INVALID_ARGUMENT);
  CHECK(op == NULL);
}

static void test_bad(sr_context *ctx, sr_backend *b) {
  sr_ct_geometry g;
  CHECK_FAILS(ctx, sr_ct_geometry_init(ctx, &g, 0, 64, 10), SR_ERR_INVALID_ARGUMENT);
  CHECK_FAILS(ctx, sr_ct_geometry_init(ctx, &g, 64, -3, 10), SR_ERR_INVALID_ARGUMENT);
  CHECK_FAILS(ctx, sr_ct_geometry_init(ctx, &g, 64, 64, 0), SR_ERR_INVALID_ARGUMENT);
  CHECK(strstr(sr_context_last_error(ctx), "angles") != NULL);
  CHECK_FAILS(ctx, sr_ct_geometry_init_angles(ctx, &g, 64, 64, NULL, 4), SR_ERR_INVALID_ARGUMENT);

  CHECK_OK(ctx, sr_ct_geometry_init(ctx, &g, 64, 48, 30));
  sr_ct_geometry t = g;
  t.n_det = 47; /* narrower than the inscribed circle (48) */
  expect_bad(ctx, b, &t, "detector bins");
  t.n_det = 24;
  t.det_spacing = 1.9; /* 45.6 < 48 */
  expect_bad(ctx, b, &t, "truncated");
  t = g;
  t.n_det = 0;
  expect_bad(ctx, b, &t, "detector bins");
  t = g;
  t.pixel_size = 0.0;
  expect_bad(ctx, b, &t, "pixel size");
  t = g;
  t.det_spacing = NAN;
  expect_bad(ctx, b, &t, "detector spacing");
  t = g;
  t.det_offset = INFINITY;
  expect_bad(ctx, b, &t, "offset");
  t = g;
  t.center_y = NAN;
  expect_bad(ctx, b, &t, "centre");
  t = g;
  t.image_h = 0;
  expect_bad(ctx, b, &t, "image");
  t = g;
  t.angles[7] = NAN;
  expect_bad(ctx, b, &t, "angle 7");
  t.angles[7] = 90.0; /* degrees by mistake */
  expect_bad(ctx, b, &t, "radians");
  t.angles[7] = 0.5;
  t.n_angles = 0;
  expect_bad(ctx, b, &t, "angles");
  t = g;
  t.angles = NULL;
  expect_bad(ctx, b, &t, "angle");
  /* Just wide enough is fine. */
  t = g;
  t.n_det = 48;
  CHECK_OK(ctx, sr_ct_geometry_validate(ctx, &t));
  sr_ct_geometry_release(&g);

  /* The backend's own check of a projection table. */
  sr_ct_view v = {0.0f, 1.0f, 0.0f, SR_CT_ROWS};
  sr_ct_projection p = {8, 8, 1, 12, 1.0f, &v};
  sr_ct_plan *plan = NULL;
  CHECK_FAILS(ctx, b->ops->ct_plan_create(b, &p, &plan), SR_ERR_INVALID_ARGUMENT);
  v.alpha = 1.0f;
  v.beta0 = NAN;
  CHECK_FAILS(ctx, b->ops->ct_plan_create(b, &p, &plan), SR_ERR_INVALID_ARGUMENT);
  CHECK(plan == NULL);
}

/* The filter response against the closed form of Kak & Slaney's ramp:
 * H[0] = 1/4 - (2/π²) Σ_{odd n < P/2} 1/n², the Nyquist value
 * 1/4 + (2/π²) Σ 1/n², and windows as scikit-image defines them. */
static void test_filters(void) {
  const int64_t P = sr_ct_filter_padded_size(91);
  CHECK(P == 256);
  CHECK(sr_ct_filter_padded_size(1) == 64 && sr_ct_filter_padded_size(32) == 64 &&
        sr_ct_filter_padded_size(33) == 128 && sr_ct_filter_padded_size(453) == 1024);
  double odd = 0.0;
  for (int64_t n = 1; n < P / 2; n += 2) odd += 1.0 / ((double)n * (double)n);
  double *h = malloc((size_t)(P / 2 + 1) * sizeof *h);
  sr_ct_filter_spectrum(SR_CT_FILTER_RAM_LAK, P, h);
  CHECK(fabs(h[0] - (0.25 - 2.0 * odd / (kPi * kPi))) < 1e-15);
  CHECK(fabs(h[P / 2] - (0.25 + 2.0 * odd / (kPi * kPi))) < 1e-14);
  CHECK(h[0] > 0.0 && h[0] < 1e-2); /* small but not zero: no DC offset */
  /* Close to |f| / P in between (the ramp, in cycles per bin). */
  for (int64_t f = 8; f < P / 2; f += 8) CHECK(fabs(h[f] - (double)f / P) < 2e-3);
  double *w = malloc((size_t)(P / 2 + 1) * sizeof *w);
  sr_ct_filter_spectrum(SR_CT_FILTER_SHEPP_LOGAN, P, w);
  for (int64_t f = 1; f <= P / 2; ++f) {
    double om = kPi * (double)f / P;
    CHECK(fabs(w[f] - h[f] * sin(om) / om) < 1e-15);
  }
  sr_ct_filter_spectrum(SR_CT_FILTER_COSINE, P, w);
  for (int64_t f = 0; f < P / 2; ++f) CHECK(fabs(w[f] - h[f] * cos(kPi * f / P)) < 1e-14);
  sr_ct_filter_spectrum(SR_CT_FILTER_HANN, P, w);
  for (int64_t f = 0; f <= P / 2; ++f) {
    /* The even part of fftshift(np.hanning(P)). */
    double a = 0.5 - 0.5 * cos(2 * kPi * ((f + P / 2) % P) / (P - 1.0));
    double b = 0.5 - 0.5 * cos(2 * kPi * ((P - f + P / 2) % P) / (P - 1.0));
    CHECK(fabs(w[f] - h[f] * 0.5 * (a + b)) < 1e-15);
  }
  free(h), free(w);

  sr_ct_filter f;
  CHECK(sr_ct_filter_parse("ramp", &f) == 0 && f == SR_CT_FILTER_RAM_LAK);
  CHECK(sr_ct_filter_parse("ram-lak", &f) == 0 && f == SR_CT_FILTER_RAM_LAK);
  CHECK(sr_ct_filter_parse("hann", &f) == 0 && f == SR_CT_FILTER_HANN);
  CHECK(sr_ct_filter_parse("shepp-logan", &f) == 0 && f == SR_CT_FILTER_SHEPP_LOGAN);
  CHECK(sr_ct_filter_parse("hanning", &f) != 0);
  CHECK(sr_ct_filter_parse(NULL, &f) != 0);
  CHECK(strcmp(sr_ct_filter_name(SR_CT_FILTER_COSINE), "cosine") == 0);
  CHECK(sr_ct_filter_name(SR_CT_FILTER_COUNT) == NULL);
}

/* FBP and the ramp filter refuse what they cannot do. */
static void test_fbp_args(sr_context *ctx, sr_backend *b) {
  sr_ct_geometry g;
  CHECK_OK(ctx, sr_ct_geometry_init(ctx, &g, 8, 8, 4));
  sr_operator *op = NULL;
  CHECK_OK(ctx, sr_ct_parallel_create(b, &g, &op));
  float sino[4 * 12] = {0}, img[64];
  CHECK(op && op->meas_elems == 4 * 12 && op->meas_dtype == SR_DTYPE_F32);
  CHECK(strcmp(op->vt->name, "ct-parallel") == 0 && op->vt->transform == NULL);
  CHECK(sr_ct_parallel_geometry(op)->n_det == 12);
  CHECK_FAILS(ctx, sr_ct_fbp(op, sino, img, 1, SR_CT_FILTER_COUNT), SR_ERR_INVALID_ARGUMENT);
  CHECK_FAILS(ctx, b->ops->ramp_filter(b, NULL, (sr_ct_filter)-1, sino, sino, 1),
              SR_ERR_INVALID_ARGUMENT);
  CHECK_OK(ctx, sr_ct_fbp(op, sino, img, 1, SR_CT_FILTER_HANN));
  for (int i = 0; i < 64; ++i) CHECK(img[i] == 0.0f);
  sr_operator_destroy(op);
  sr_ct_geometry_release(&g);
}

int main(void) {
  sr_context *ctx = ct_make_cpu(2);
  sr_backend *b = sr_context_get_backend(ctx);
  test_defaults(ctx);
  test_sparse(ctx);
  test_bad(ctx, b);
  test_filters();
  test_fbp_args(ctx, b);
  sr_context_destroy(ctx);
  return sr_test_finish("test_ct_geometry");
}
