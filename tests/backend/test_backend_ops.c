/* Every op of the CUDA backend against its CPU twin on fresh random inputs
 * (the seed is printed; SR_TEST_SEED reproduces a run), for sizes that are
 * not multiples of the block size and batches > 1. Runs on a real GPU (ctest
 * label gpu; exit 77 when none answers) and on the emulator (label emu, in
 * forward, reverse and random thread order). Tolerances: elementwise ops
 * relative L2 <= 1e-6 (FMA contraction may differ), reductions 1e-12 relative
 * (both sum in double), normals bit for bit. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "backend/backend.h"
#include "test_util.h"
#include "backend_pair.h"

typedef sr_test_pair pair;

/* Inputs in [-2, 2). */
static float *random_host(size_t n) {
  return sr_test_random(n, 2.0f);
}

static float *to_device(pair *p, const float *host, size_t n) {
  return (float *)sr_test_upload(p, host, n * sizeof(float));
}

static void from_device(pair *p, float *host, const float *dev, size_t n) {
  sr_test_download(p, host, dev, n * sizeof(float));
}

static void expect_close(const char *op, size_t n, const float *got, const float *ref, double tol) {
  double err = sr_test_rel_l2(got, ref, n);
  CHECK_MSG(err <= tol, "%s (n=%zu): relative L2 error %.3g > %.3g", op, n, err, tol);
}

/* Runs one elementwise op on both backends with the same inputs x, y, z
 * (z is the in/out operand) and compares the outputs. */
typedef enum { OP_FILL, OP_SCALE, OP_AXPBY, OP_AXPBYPGZ, OP_MUL, OP_CLAMP, OP_BATCHED } ew_op;
static const char *ew_names[] = {"fill", "scale", "axpby",        "axpbypgz",
                                 "mul",  "clamp", "axpby_batched"};

static sr_status run_ew(sr_backend *b, ew_op op, float *z, const float *x, const float *y, size_t n,
                        size_t nslices) {
  const float alpha[3] = {0.7f, -1.25f, 0.0f}, beta[3] = {1.5f, 0.5f, -2.0f};
  switch (op) {
  case OP_FILL: return b->ops->fill(b, z, n, -3.5f);
  case OP_SCALE: return b->ops->scale(b, z, n, 0.37f);
  case OP_AXPBY: return b->ops->axpby(b, z, x, n, 0.37f, -1.9f);
  case OP_AXPBYPGZ: return b->ops->axpbypgz(b, z, x, y, n, 0.5f, -0.25f, 1.125f);
  case OP_MUL: return b->ops->mul(b, z, x, y, n);
  case OP_CLAMP: return b->ops->clamp(b, z, n, -0.5f, 1.0f);
  case OP_BATCHED: return b->ops->axpby_batched(b, z, x, nslices, n / nslices, alpha, beta);
  }
  return SR_ERR_INTERNAL;
}

static void test_elementwise(pair *p, size_t n) {
  for (int op = OP_FILL; op <= OP_BATCHED; ++op) {
    float *x = random_host(n), *y = random_host(n), *z = random_host(n);
    float *got = (float *)malloc(n * sizeof *got);
    float *dx = to_device(p, x, n), *dy = to_device(p, y, n), *dz = to_device(p, z, n);
    CHECK_OK(p->cpu_ctx, run_ew(p->cpu, (ew_op)op, z, x, y, n, 3));
    CHECK_OK(p->gpu_ctx, run_ew(p->gpu, (ew_op)op, dz, dx, dy, n, 3));
    from_device(p, got, dz, n);
    expect_close(ew_names[op], n, got, z, 1e-6);
    p->gpu->ops->free(p->gpu, dx), p->gpu->ops->free(p->gpu, dy), p->gpu->ops->free(p->gpu, dz);
    free(x), free(y), free(z), free(got);
  }
}

static void expect_rel(const char *op, size_t n, double got, double ref, double tol) {
  double err = fabs(got - ref) / (fabs(ref) > 1e-300 ? fabs(ref) : 1.0);
  CHECK_MSG(err <= tol, "%s (n=%zu): %.17g vs CPU %.17g (rel %.3g)", op, n, got, ref, err);
}

static void test_reductions(pair *p, size_t n, size_t nslices) {
  size_t total = n * nslices;
  float *x = random_host(total), *y = random_host(total);
  float *dx = to_device(p, x, total), *dy = to_device(p, y, total);
  double c, g;
  CHECK_OK(p->cpu_ctx, p->cpu->ops->sum(p->cpu, x, total, &c));
  CHECK_OK(p->gpu_ctx, p->gpu->ops->sum(p->gpu, dx, total, &g));
  expect_rel("sum", total, g, c, 1e-12);
  CHECK_OK(p->cpu_ctx, p->cpu->ops->dot(p->cpu, x, y, total, &c));
  CHECK_OK(p->gpu_ctx, p->gpu->ops->dot(p->gpu, dx, dy, total, &g));
  expect_rel("dot", total, g, c, 1e-12);
  CHECK_OK(p->cpu_ctx, p->cpu->ops->nrm2(p->cpu, x, total, &c));
  CHECK_OK(p->gpu_ctx, p->gpu->ops->nrm2(p->gpu, dx, total, &g));
  expect_rel("nrm2", total, g, c, 1e-12);

  double *nc = (double *)malloc(nslices * sizeof *nc), *ng = (double *)malloc(nslices * sizeof *ng);
  CHECK_OK(p->cpu_ctx, p->cpu->ops->nrm2_batched(p->cpu, x, nslices, n, nc));
  CHECK_OK(p->gpu_ctx, p->gpu->ops->nrm2_batched(p->gpu, dx, nslices, n, ng));
  for (size_t s = 0; s < nslices; ++s) expect_rel("nrm2_batched", n, ng[s], nc[s], 1e-12);

  float mc, mg;
  CHECK_OK(p->cpu_ctx, p->cpu->ops->max_abs(p->cpu, x, total, &mc));
  CHECK_OK(p->gpu_ctx, p->gpu->ops->max_abs(p->gpu, dx, total, &mg));
  CHECK_MSG(mc == mg, "max_abs: %g vs CPU %g", mg, mc);

  /* Plant non-finite values at the first, a middle and the last element. */
  size_t cc, cg;
  x[0] = NAN;
  x[total / 2] = INFINITY;
  x[total - 1] = -INFINITY;
  p->gpu->ops->free(p->gpu, dx);
  dx = to_device(p, x, total);
  CHECK_OK(p->cpu_ctx, p->cpu->ops->count_nonfinite(p->cpu, x, total, &cc));
  CHECK_OK(p->gpu_ctx, p->gpu->ops->count_nonfinite(p->gpu, dx, total, &cg));
  CHECK_MSG(cc == cg && cc == (total >= 3 ? 3u : cc), "count_nonfinite: %zu vs CPU %zu", cg, cc);
  CHECK_OK(p->gpu_ctx, p->gpu->ops->max_abs(p->gpu, dx, total, &mg));
  CHECK_MSG(isnan(mg), "max_abs with a NaN gave %g", mg);

  free(nc), free(ng), free(x), free(y);
  p->gpu->ops->free(p->gpu, dx), p->gpu->ops->free(p->gpu, dy);
}

static void test_randn(pair *p, size_t n, size_t nslices) {
  size_t total = n * nslices;
  float *c = (float *)malloc(total * sizeof *c), *g = (float *)malloc(total * sizeof *g);
  void *d = NULL;
  CHECK_OK(p->gpu_ctx, p->gpu->ops->alloc(p->gpu, total * sizeof(float), &d));
  sr_rng_stream st = {.seed = p->seed, .first_slice = 3, .step = 17, .purpose = SR_DRAW_LANGEVIN};
  CHECK_OK(p->cpu_ctx, p->cpu->ops->randn(p->cpu, c, nslices, n, st));
  CHECK_OK(p->gpu_ctx, p->gpu->ops->randn(p->gpu, (float *)d, nslices, n, st));
  from_device(p, g, (float *)d, total);
  size_t first_diff = total;
  for (size_t i = 0; i < total && first_diff == total; ++i)
    if (memcmp(&c[i], &g[i], sizeof(float)) != 0) first_diff = i;
  CHECK_MSG(first_diff == total, "randn (n=%zu x %zu): element %zu differs: %.9g vs CPU %.9g", n,
            nslices, first_diff, first_diff < total ? g[first_diff] : 0.0f,
            first_diff < total ? c[first_diff] : 0.0f);
  p->gpu->ops->free(p->gpu, d);
  free(c), free(g);
}

/* Uploading, copying and downloading returns the same bytes. */
static void test_memory(pair *p, size_t n) {
  float *x = random_host(n), *back = (float *)malloc(n * sizeof *back);
  float *d1 = to_device(p, x, n), *d2 = NULL;
  CHECK_OK(p->gpu_ctx, p->gpu->ops->alloc(p->gpu, n * sizeof(float), (void **)&d2));
  CHECK_OK(p->gpu_ctx, p->gpu->ops->copy(p->gpu, d2, d1, n * sizeof(float)));
  CHECK_OK(p->gpu_ctx, p->gpu->ops->synchronize(p->gpu));
  from_device(p, back, d2, n);
  CHECK(memcmp(x, back, n * sizeof *x) == 0);
  p->gpu->ops->free(p->gpu, d1), p->gpu->ops->free(p->gpu, d2);
  free(x), free(back);
}

int main(void) {
  pair p = {0};
  int rc = sr_test_pair_open(&p, "test_backend_ops");
  if (rc >= 0) return rc;

  /* Odd sizes straddle block (256), chunk (4096) and grid-stride boundaries. */
  const size_t sizes[] = {3, 255, 257, 4097, 70001};
  for (size_t k = 0; k < sizeof sizes / sizeof *sizes; ++k) {
    test_memory(&p, sizes[k]);
    test_elementwise(&p, sizes[k]);
    test_reductions(&p, sizes[k], 1);
    test_reductions(&p, sizes[k], 3);
    test_randn(&p, sizes[k], 1);
    test_randn(&p, sizes[k], 5);
  }
  sr_test_pair_close(&p);
  return sr_test_finish("test_backend_ops");
}
