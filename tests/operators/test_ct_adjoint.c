/* The CPU CT projector pair (ct-parallel operator) on many small geometries:
 *  - radon and backproject against the projector written from its definition
 *    (tests/operators/ct_test_util.h): relative L2 <= 1e-6;
 *  - the adjoint identity <A x, y> = <x, A^T y> for random x, y, in double:
 *    relative to |<A x, y>| for positive data and to ||A x|| ||y|| for signed
 *    data, <= 1e-6 (the CPU accumulates in double and rounds each output once,
 *    so both sides agree to about 1e-8);
 *  - exact views: θ = 0 gives column sums, θ = π/2 row sums, bin for bin;
 *  - A^T 1 = n_angles ps^2 / ds on every pixel inside the inscribed circle;
 *  - the same bits with 1 and 2 threads, and slice s of a batch equal to the
 *    slice projected alone.
 * Geometries: odd and even sizes, H != W, default and explicit n_det,
 * detector offset, rotation axis off the centre pixel, fine and coarse bins, pixel size != 1,
 * sparse subsets of a full scan, angles beyond [0, π) and exactly 0 and π/2. */
#include "ct_test_util.h"

typedef struct ct_case {
  const char *name;
  int h, w;
  int n_angles;         /* evenly spaced when angles == NULL */
  const double *angles; /* explicit list */
  int n_det;            /* 0: default */
  double ps, ds, offset;
  int sparse_of; /* > 0: keep n_angles of this many evenly spaced views */
  double center; /* center_x = center, center_y = -center */
} ct_case;

static const double kPi = 3.14159265358979323846;

/* A hash of the output bits, printed so that two builds (AVX2 and scalar
 * edge loops, e.g. the native and the sanitizer builds) can be compared: the
 * CPU projector computes the same bits with and without AVX2. */
static uint32_t fnv1a(const void *p, size_t n) {
  const unsigned char *c = (const unsigned char *)p;
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; ++i) h = (h ^ c[i]) * 16777619u;
  return h;
}

static sr_status make_geometry(sr_context *ctx, const ct_case *tc, sr_ct_geometry *g) {
  sr_status st;
  if (tc->sparse_of > 0) {
    sr_ct_geometry full;
    st = sr_ct_geometry_init(ctx, &full, tc->h, tc->w, tc->sparse_of);
    if (st != SR_OK) return st;
    st = sr_ct_geometry_sparse(ctx, &full, tc->n_angles, g, NULL);
    sr_ct_geometry_release(&full);
  } else if (tc->angles) {
    st = sr_ct_geometry_init_angles(ctx, g, tc->h, tc->w, tc->angles, tc->n_angles);
  } else {
    st = sr_ct_geometry_init(ctx, g, tc->h, tc->w, tc->n_angles);
  }
  if (st != SR_OK) return st;
  if (tc->n_det > 0) g->n_det = tc->n_det;
  g->pixel_size = tc->ps;
  g->det_spacing = tc->ds;
  g->det_offset = tc->offset;
  g->center_x = tc->center;
  g->center_y = -tc->center;
  return SR_OK;
}

/* Everything about one geometry on backend b; b1 is a 1-thread twin. */
static void run_case(sr_backend *b, sr_backend *b1, const ct_case *tc) {
  sr_context *ctx = b->ctx;
  sr_ct_geometry g;
  CHECK_OK(ctx, make_geometry(ctx, tc, &g));
  sr_operator *op = NULL, *op1 = NULL;
  CHECK_OK(ctx, sr_ct_parallel_create(b, &g, &op));
  CHECK_OK(b1->ctx, sr_ct_parallel_create(b1, &g, &op1));
  if (!op || !op1) {
    fprintf(stderr, "%s: no operator\n", tc->name);
    sr_operator_destroy(op);
    sr_operator_destroy(op1);
    sr_ct_geometry_release(&g);
    return;
  }
  const size_t ni = sr_operator_image_elems(op), nm = op->meas_elems, batch = 3;
  float *x = malloc(batch * ni * 4), *y = malloc(batch * nm * 4);
  float *ax = malloc(batch * nm * 4), *aty = malloc(batch * ni * 4);
  float *ax1 = malloc(batch * nm * 4), *aty1 = malloc(batch * ni * 4);
  double *ref_m = malloc(nm * 8), *ref_i = malloc(ni * 8);

  /* Slice 0 positive, slices 1 and 2 signed. */
  ct_fill_random(x, ni, 11, 0.0f, 1.0f);
  ct_fill_random(y, nm, 12, 0.0f, 1.0f);
  ct_fill_random(x + ni, 2 * ni, 13, -1.0f, 1.0f);
  ct_fill_random(y + nm, 2 * nm, 14, -1.0f, 1.0f);
  CHECK_OK(ctx, op->vt->forward(op, x, ax, batch));
  CHECK_OK(ctx, op->vt->adjoint(op, y, aty, batch));

  /* Against the definition, per slice. */
  sr_ct_view *views = malloc((size_t)g.n_angles * sizeof *views);
  sr_ct_projection proj;
  CHECK_OK(ctx, sr_ct_geometry_projection(ctx, &g, views, &proj));
  for (size_t s = 0; s < batch; ++s) {
    ct_reference(&proj, 0, x + s * ni, ref_m);
    double e = ct_rel_l2_d(ax + s * nm, ref_m, nm);
    CHECK_MSG(e <= 1e-6, "%s: radon slice %zu vs definition: rel L2 %.3g", tc->name, s, e);
    ct_reference(&proj, 1, y + s * nm, ref_i);
    e = ct_rel_l2_d(aty + s * ni, ref_i, ni);
    CHECK_MSG(e <= 1e-6, "%s: backproject slice %zu vs definition: rel L2 %.3g", tc->name, s, e);
  }

  /* The adjoint identity. */
  for (size_t s = 0; s < batch; ++s) {
    double lhs = ct_dot(ax + s * nm, y + s * nm, nm), rhs = ct_dot(x + s * ni, aty + s * ni, ni);
    double scale = s == 0 ? fabs(lhs) : ct_norm(ax + s * nm, nm) * ct_norm(y + s * nm, nm);
    double rel = fabs(lhs - rhs) / (scale > 0.0 ? scale : 1.0);
    CHECK_MSG(rel <= 1e-6, "%s: slice %zu <Ax,y> = %.12g, <x,A^T y> = %.12g (rel %.3g)", tc->name,
              s, lhs, rhs, rel);
    if (s == 1)
      printf("%-28s <Ax,y> vs <x,A^T y>: rel %.2e; bits of A x %08x, A^T y %08x\n", tc->name, rel,
             fnv1a(ax, batch * nm * 4), fnv1a(aty, batch * ni * 4));
  }

  /* Thread count and batch position change nothing. */
  CHECK_OK(b1->ctx, op1->vt->forward(op1, x, ax1, batch));
  CHECK_OK(b1->ctx, op1->vt->adjoint(op1, y, aty1, batch));
  CHECK_MSG(memcmp(ax, ax1, batch * nm * 4) == 0, "%s: radon differs with 1 thread", tc->name);
  CHECK_MSG(memcmp(aty, aty1, batch * ni * 4) == 0, "%s: backproject differs with 1 thread",
            tc->name);
  CHECK_OK(ctx, op->vt->forward(op, x + 2 * ni, ax1, 1));
  CHECK_OK(ctx, op->vt->adjoint(op, y + 2 * nm, aty1, 1));
  CHECK_MSG(memcmp(ax + 2 * nm, ax1, nm * 4) == 0, "%s: radon of slice 2 depends on the batch",
            tc->name);
  CHECK_MSG(memcmp(aty + 2 * ni, aty1, ni * 4) == 0,
            "%s: backprojection of slice 2 depends on the batch", tc->name);

  free(views);
  free(x), free(y), free(ax), free(aty), free(ax1), free(aty1), free(ref_m), free(ref_i);
  sr_operator_destroy(op);
  sr_operator_destroy(op1);
  sr_ct_geometry_release(&g);
}

/* θ = 0 and θ = π/2 are exact: column sums and row sums (ps = ds = 1). */
static void test_exact_views(sr_backend *b, int h, int w) {
  const double angles[2] = {0.0, kPi / 2};
  sr_ct_geometry g;
  CHECK_OK(b->ctx, sr_ct_geometry_init_angles(b->ctx, &g, h, w, angles, 2));
  sr_operator *op = NULL;
  CHECK_OK(b->ctx, sr_ct_parallel_create(b, &g, &op));
  if (!op) return;
  const int D = (int)g.n_det, cdet = D / 2;
  float *x = malloc((size_t)h * w * 4), *y = malloc((size_t)2 * D * 4);
  ct_fill_random(x, (size_t)h * w, 21, -1.0f, 1.0f);
  CHECK_OK(b->ctx, op->vt->forward(op, x, y, 1));
  double worst = 0.0;
  for (int k = 0; k < D; ++k) {
    /* θ = 0: bin k holds column c = k - n_det/2 + W/2. */
    double col = 0.0, row = 0.0;
    int c = k - cdet + w / 2;
    if (c >= 0 && c < w)
      for (int r = 0; r < h; ++r) col += x[(size_t)r * w + c];
    /* θ = π/2: u = -Y, so bin k holds row r = H/2 - (k - n_det/2). */
    int r = h / 2 - (k - cdet);
    if (r >= 0 && r < h)
      for (int cc = 0; cc < w; ++cc) row += x[(size_t)r * w + cc];
    worst = fmax(worst, fabs(y[k] - col));
    worst = fmax(worst, fabs(y[D + k] - row));
  }
  CHECK_MSG(worst <= 1e-5, "%d x %d: views 0 and π/2 differ from column/row sums by %.3g", h, w,
            worst);
  free(x), free(y);
  sr_operator_destroy(op);
  sr_ct_geometry_release(&g);
}

/* A^T 1 is flat: every pixel the detector reaches is covered by cells whose
 * overlaps sum to 1, times ps^2 / ds per view. */
static void test_flat_backprojection(sr_backend *b, int n, int n_angles, double ps, double ds) {
  sr_ct_geometry g;
  CHECK_OK(b->ctx, sr_ct_geometry_init(b->ctx, &g, n, n, n_angles));
  g.pixel_size = ps;
  g.det_spacing = ds;
  g.n_det = (int64_t)ceil(sr_ct_default_n_det(n, n) * ps / ds) + 2;
  sr_operator *op = NULL;
  CHECK_OK(b->ctx, sr_ct_parallel_create(b, &g, &op));
  if (!op) return;
  float *ones = malloc(op->meas_elems * 4), *img = malloc((size_t)n * n * 4);
  for (size_t i = 0; i < op->meas_elems; ++i) ones[i] = 1.0f;
  CHECK_OK(b->ctx, op->vt->adjoint(op, ones, img, 1));
  const double expect = n_angles * ps * ps / ds;
  double worst = 0.0;
  for (int r = 0; r < n; ++r)
    for (int c = 0; c < n; ++c) {
      double dx = c - n / 2, dy = r - n / 2;
      if (dx * dx + dy * dy <= (n / 2 - 1) * (n / 2 - 1))
        worst = fmax(worst, fabs(img[(size_t)r * n + c] / expect - 1.0));
    }
  CHECK_MSG(worst <= 1e-6, "A^T 1 (n=%d, ps=%g, ds=%g) varies by %.3g around %g", n, ps, ds, worst,
            expect);
  free(ones), free(img);
  sr_operator_destroy(op);
  sr_ct_geometry_release(&g);
}

int main(void) {
  sr_context *ctx = ct_make_cpu(2), *ctx1 = ct_make_cpu(1);
  sr_backend *b = sr_context_get_backend(ctx), *b1 = sr_context_get_backend(ctx1);

  static const double with_exact[] = {
      0.0, 0.3, 3.14159265358979323846 / 4, 3.14159265358979323846 / 2, 2.0, 2.9};
  static const double beyond[] = {-1.0, 3.5, 4.4, 5.9, -2.2, 6.1};
  const ct_case cases[] = {
      {"16x16 12 views", 16, 16, 12, NULL, 0, 1.0, 1.0, 0.0, 0, 0.0},
      {"17x17 exact angles n_det 25", 17, 17, 6, with_exact, 25, 1.0, 1.0, 0.0, 0, 0.0},
      {"13x20 offset 0.3", 13, 20, 9, NULL, 0, 1.0, 1.0, 0.3, 0, 0.0},
      {"20x13 odd n_det 33", 20, 13, 10, NULL, 33, 1.0, 1.0, -0.5, 0, 0.0},
      {"24x24 sparse 11 of 60", 24, 24, 11, NULL, 0, 1.0, 1.0, 0.0, 60, 0.0},
      {"15x15 fine bins ds 0.7", 15, 15, 8, NULL, 40, 1.0, 0.7, 0.0, 0, 0.0},
      {"12x12 coarse bins ds 2.3", 12, 12, 7, NULL, 11, 1.1, 2.3, 0.0, 0, 0.0},
      {"9x9 angles beyond [0, pi)", 9, 9, 6, beyond, 0, 1.0, 1.0, 0.0, 0, 0.0},
      {"1x1", 1, 1, 3, NULL, 0, 1.0, 1.0, 0.0, 0, 0.0},
      {"32x32 one view", 32, 32, 1, NULL, 0, 1.0, 1.0, 0.0, 0, 0.0},
      {"18x18 axis off centre", 18, 18, 10, NULL, 0, 1.0, 1.0, -0.5, 0, 0.7},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) run_case(b, b1, &cases[i]);

  test_exact_views(b, 16, 16);
  test_exact_views(b, 17, 15);
  test_flat_backprojection(b, 32, 30, 1.0, 1.0);
  test_flat_backprojection(b, 31, 17, 0.8, 0.5);
  test_flat_backprojection(b, 20, 13, 1.0, 1.6);

  sr_context_destroy(ctx);
  sr_context_destroy(ctx1);
  return sr_test_finish("test_ct_adjoint");
}
