/* The CUDA backend's CT ops (radon, backproject, ramp_filter, and FBP built
 * on them) against their CPU twins, on fresh random inputs (the seed is
 * printed; SR_TEST_SEED reproduces a run), for odd and non-square sizes,
 * batches that do not fill the kernels' groups of 4 slices, sparse and
 * unordered angles, fine and coarse detectors. Runs on a real GPU (label gpu,
 * exit 77 when none answers) and on the emulator (label emu, forward, reverse
 * and random thread order).
 *
 * Tolerances (relative L2 per tensor): radon and backproject 1e-5 (the
 * weights are the same numbers on both backends; the GPU sums in float, the
 * CPU in double), ramp filter 1e-5 (FFTW vs cuFFT in float), FBP 1e-5. On the
 * GPU alone: <A x, y> = <x, A^T y> to 1e-5 of ||A x|| ||y|| (float sums), the
 * same bits on a second run, and slice s of a batch equal to that slice run
 * alone (the per-slice arithmetic does not depend on the batch). */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "backend/backend.h"
#include "operators/ct_geometry.h"
#include "operators/ct_parallel.h"
#include "test_util.h"
#include "backend_pair.h"

typedef sr_test_pair pair;

static float *random_host(size_t n) {
  return sr_test_random(n, 1.0f);
}

static float *to_device(pair *p, const float *host, size_t n) {
  return (float *)sr_test_upload(p, host, n * sizeof(float));
}

/* The device array back on the host, malloc'ed. */
static float *from_device(pair *p, const float *dev, size_t n) {
  float *h = (float *)malloc(n * sizeof *h);
  sr_test_download(p, h, dev, n * sizeof(float));
  return h;
}

static double worst_error; /* per case, printed */

static void expect_close(const char *what, const char *name, const float *got, const float *ref,
                         size_t n, double tol) {
  double e = sr_test_rel_l2(got, ref, n);
  if (e > worst_error) worst_error = e;
  CHECK_MSG(e <= tol, "%s: %s relative L2 %.3g > %.3g", name, what, e, tol);
}

static double dot(const float *a, const float *b, size_t n) {
  double s = 0.0;
  for (size_t i = 0; i < n; ++i) s += (double)a[i] * b[i];
  return s;
}

typedef struct ct_case {
  const char *name;
  int h, w, n_angles;
  const double *angles; /* NULL: evenly spaced */
  int n_det;            /* 0: default */
  double ps, ds, offset;
  size_t batch;
} ct_case;

static void run_case(pair *p, const ct_case *tc) {
  sr_ct_geometry g;
  CHECK_OK(p->cpu_ctx,
           tc->angles
               ? sr_ct_geometry_init_angles(p->cpu_ctx, &g, tc->h, tc->w, tc->angles, tc->n_angles)
               : sr_ct_geometry_init(p->cpu_ctx, &g, tc->h, tc->w, tc->n_angles));
  if (tc->n_det) g.n_det = tc->n_det;
  g.pixel_size = tc->ps, g.det_spacing = tc->ds, g.det_offset = tc->offset;
  sr_operator *oc = NULL, *og = NULL;
  CHECK_OK(p->cpu_ctx, sr_ct_parallel_create(p->cpu, &g, &oc));
  CHECK_OK(p->gpu_ctx, sr_ct_parallel_create(p->gpu, &g, &og));
  if (!oc || !og) {
    sr_operator_destroy(oc), sr_operator_destroy(og), sr_ct_geometry_release(&g);
    return;
  }
  worst_error = 0.0;
  const size_t B = tc->batch, ni = sr_operator_image_elems(oc) * B, nm = oc->meas_elems * B;
  float *x = random_host(ni), *y = random_host(nm);
  float *cx = (float *)malloc(nm * 4), *cy = (float *)malloc(ni * 4);
  float *dx = to_device(p, x, ni), *dy = to_device(p, y, nm);
  float *gm = to_device(p, y, nm), *gi = to_device(p, x, ni); /* outputs */

  /* radon */
  CHECK_OK(p->cpu_ctx, oc->vt->forward(oc, x, cx, B));
  CHECK_OK(p->gpu_ctx, og->vt->forward(og, dx, gm, B));
  float *ax = from_device(p, gm, nm);
  expect_close("radon", tc->name, ax, cx, nm, 1e-5);
  /* backproject */
  CHECK_OK(p->cpu_ctx, oc->vt->adjoint(oc, y, cy, B));
  CHECK_OK(p->gpu_ctx, og->vt->adjoint(og, dy, gi, B));
  float *aty = from_device(p, gi, ni);
  expect_close("backproject", tc->name, aty, cy, ni, 1e-5);
  /* the adjoint identity on the GPU, slice by slice */
  for (size_t s = 0; s < B; ++s) {
    const size_t mi = ni / B, mm = nm / B;
    double lhs = dot(ax + s * mm, y + s * mm, mm), rhs = dot(x + s * mi, aty + s * mi, mi);
    double scale = sqrt(dot(ax + s * mm, ax + s * mm, mm) * dot(y + s * mm, y + s * mm, mm));
    CHECK_MSG(fabs(lhs - rhs) <= 1e-5 * scale, "%s: GPU slice %zu <Ax,y> %.9g vs <x,A^T y> %.9g",
              tc->name, s, lhs, rhs);
  }
  /* the same bits again, and the last slice alone */
  CHECK_OK(p->gpu_ctx, og->vt->forward(og, dx, gm, B));
  CHECK_OK(p->gpu_ctx, og->vt->adjoint(og, dy, gi, B));
  float *ax2 = from_device(p, gm, nm), *aty2 = from_device(p, gi, ni);
  CHECK_MSG(memcmp(ax, ax2, nm * 4) == 0, "%s: GPU radon differs between runs", tc->name);
  CHECK_MSG(memcmp(aty, aty2, ni * 4) == 0, "%s: GPU backproject differs between runs", tc->name);
  free(ax2), free(aty2);
  const size_t last_i = ni / B * (B - 1), last_m = nm / B * (B - 1);
  CHECK_OK(p->gpu_ctx, og->vt->forward(og, dx + last_i, gm, 1));
  CHECK_OK(p->gpu_ctx, og->vt->adjoint(og, dy + last_m, gi, 1));
  ax2 = from_device(p, gm, nm / B), aty2 = from_device(p, gi, ni / B);
  CHECK_MSG(memcmp(ax + last_m, ax2, nm / B * 4) == 0,
            "%s: GPU radon of a slice depends on the batch", tc->name);
  CHECK_MSG(memcmp(aty + last_i, aty2, ni / B * 4) == 0,
            "%s: GPU backproject of a slice depends on the batch", tc->name);
  free(ax2), free(aty2);

  /* ramp filter, every filter, in place on the GPU */
  for (int f = 0; f < SR_CT_FILTER_COUNT; ++f) {
    CHECK_OK(p->cpu_ctx, sr_ct_ramp_filter(oc, y, cx, B, (sr_ct_filter)f));
    CHECK_OK(p->gpu_ctx, p->gpu->ops->upload(p->gpu, gm, y, nm * 4));
    CHECK_OK(p->gpu_ctx, sr_ct_ramp_filter(og, gm, gm, B, (sr_ct_filter)f));
    float *got = from_device(p, gm, nm);
    char what[64];
    snprintf(what, sizeof what, "ramp filter %s", sr_ct_filter_name((sr_ct_filter)f));
    expect_close(what, tc->name, got, cx, nm, 1e-5);
    free(got);
  }
  /* FBP end to end */
  CHECK_OK(p->cpu_ctx, sr_ct_fbp(oc, y, cy, B, SR_CT_FILTER_SHEPP_LOGAN));
  CHECK_OK(p->gpu_ctx, sr_ct_fbp(og, dy, gi, B, SR_CT_FILTER_SHEPP_LOGAN));
  float *rec = from_device(p, gi, ni);
  expect_close("fbp", tc->name, rec, cy, ni, 1e-5);
  free(rec);

  printf("%-36s worst relative L2 vs CPU %.2e\n", tc->name, worst_error);
  free(ax), free(aty), free(x), free(y), free(cx), free(cy);
  p->gpu->ops->free(p->gpu, dx), p->gpu->ops->free(p->gpu, dy);
  p->gpu->ops->free(p->gpu, gm), p->gpu->ops->free(p->gpu, gi);
  sr_operator_destroy(oc);
  sr_operator_destroy(og);
  sr_ct_geometry_release(&g);
}

int main(void) {
  pair p = {0};
  int rc = sr_test_pair_open(&p, "test_ct_ops");
  if (rc >= 0) return rc;

  static const double mixed[] = {0.0, 1.5707963267948966, 2.7, 0.4, 3.9, -0.8, 0.7853981633974483};
  const ct_case cases[] = {
      {"23x23, 13 views, batch 5", 23, 23, 13, NULL, 0, 1.0, 1.0, 0.0, 5},
      {"18x29, 9 views, offset", 18, 29, 9, NULL, 0, 1.0, 1.0, 0.4, 3},
      {"31x17, mixed angles, n_det 40", 31, 17, 7, mixed, 40, 1.0, 1.0, -0.5, 2},
      {"20x20, fine bins ds 0.6", 20, 20, 8, NULL, 50, 1.0, 0.6, 0.0, 1},
      {"21x21, coarse bins ds 1.7 ps 0.9", 21, 21, 11, NULL, 17, 0.9, 1.7, 0.0, 6},
      {"40x40, 45 views", 40, 40, 45, NULL, 0, 1.0, 1.0, 0.0, 2},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) run_case(&p, &cases[i]);

  sr_test_pair_close(&p);
  return sr_test_finish("test_ct_ops");
}
