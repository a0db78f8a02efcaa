/* Every CPU-backend op against a plain loop written here, and the promise that
 * reductions do not depend on the thread count. */
#include <stdint.h>
#include <string.h>

#include "backend/backend.h"
#include "test_util.h"

static sr_context *make_cpu(int threads) {
  sr_context_options o = sr_context_options_default();
  o.backend = SR_BACKEND_CPU;
  o.threads = threads;
  sr_context *ctx = NULL;
  sr_status st = sr_context_create(&o, &ctx);
  if (st != SR_OK) {
    fprintf(stderr, "cannot create CPU context: %s\n", sr_context_last_error(ctx));
    exit(1);
  }
  return ctx;
}

/* Deterministic test data from a small LCG (independent of the Philox code
 * under test). */
static void fill_random(float *x, size_t n, uint32_t seed) {
  uint32_t s = seed * 2654435761u + 1u;
  for (size_t i = 0; i < n; ++i) {
    s = s * 1664525u + 1013904223u;
    x[i] = ((float)(s >> 8) / 16777216.0f) * 2.0f - 1.0f;
  }
}

static int same_bits(const float *a, const float *b, size_t n) {
  return memcmp(a, b, n * sizeof *a) == 0;
}

static void test_elementwise(sr_backend *b, size_t n) {
  float *x = malloc(n * 4), *y = malloc(n * 4), *z = malloc(n * 4), *ref = malloc(n * 4);
  fill_random(x, n, 1);
  fill_random(y, n, 2);
  fill_random(z, n, 3);

  CHECK_OK(b->ctx, b->ops->fill(b, ref, n, 2.5f));
  for (size_t i = 0; i < n; ++i) CHECK(ref[i] == 2.5f);

  memcpy(ref, x, n * 4);
  CHECK_OK(b->ctx, b->ops->scale(b, ref, n, -0.75f));
  for (size_t i = 0; i < n; ++i) CHECK(ref[i] == x[i] * -0.75f);

  memcpy(ref, y, n * 4);
  CHECK_OK(b->ctx, b->ops->axpby(b, ref, x, n, 0.3f, 1.7f));
  for (size_t i = 0; i < n; ++i)
    CHECK(fabsf(ref[i] - (0.3f * x[i] + 1.7f * y[i])) <= 1e-6f);

  memcpy(ref, z, n * 4);
  CHECK_OK(b->ctx, b->ops->axpbypgz(b, ref, x, y, n, 0.5f, -2.0f, 0.25f));
  for (size_t i = 0; i < n; ++i)
    CHECK(fabsf(ref[i] - (0.5f * x[i] - 2.0f * y[i] + 0.25f * z[i])) <= 1e-5f);

  CHECK_OK(b->ctx, b->ops->mul(b, ref, x, y, n));
  for (size_t i = 0; i < n; ++i) CHECK(ref[i] == x[i] * y[i]);

  memcpy(ref, x, n * 4);
  CHECK_OK(b->ctx, b->ops->clamp(b, ref, n, -0.5f, 0.25f));
  for (size_t i = 0; i < n; ++i)
    CHECK(ref[i] == (x[i] < -0.5f ? -0.5f : x[i] > 0.25f ? 0.25f : x[i]));

  const size_t ns = 3, per = n / 3;
  float alpha[3] = {0.5f, -1.0f, 2.0f}, beta[3] = {1.0f, 0.0f, -0.5f};
  memcpy(ref, y, n * 4);
  CHECK_OK(b->ctx, b->ops->axpby_batched(b, ref, x, ns, per, alpha, beta));
  for (size_t s = 0; s < ns; ++s)
    for (size_t i = s * per; i < (s + 1) * per; ++i)
      CHECK(fabsf(ref[i] - (alpha[s] * x[i] + beta[s] * y[i])) <= 1e-6f);
  for (size_t i = ns * per; i < n; ++i) CHECK(ref[i] == y[i]); /* past the slices: untouched */
  free(x), free(y), free(z), free(ref);
}

static void test_reductions(sr_backend *b, size_t n) {
  float *x = malloc(n * 4), *y = malloc(n * 4);
  fill_random(x, n, 4);
  fill_random(y, n, 5);
  double sum_ref = 0, dot_ref = 0, ss = 0;
  float max_ref = 0;
  for (size_t i = 0; i < n; ++i) {
    sum_ref += x[i];
    dot_ref += (double)x[i] * y[i];
    ss += (double)x[i] * x[i];
    if (fabsf(x[i]) > max_ref) max_ref = fabsf(x[i]);
  }
  double s, d, nrm;
  float m;
  CHECK_OK(b->ctx, b->ops->sum(b, x, n, &s));
  CHECK_OK(b->ctx, b->ops->dot(b, x, y, n, &d));
  CHECK_OK(b->ctx, b->ops->nrm2(b, x, n, &nrm));
  CHECK_OK(b->ctx, b->ops->max_abs(b, x, n, &m));
  CHECK_MSG(fabs(s - sum_ref) <= 1e-9 * (fabs(sum_ref) + n), "sum %.17g vs %.17g", s, sum_ref);
  CHECK_MSG(fabs(d - dot_ref) <= 1e-9 * (fabs(dot_ref) + n), "dot %.17g vs %.17g", d, dot_ref);
  CHECK_MSG(fabs(nrm - sqrt(ss)) <= 1e-12 * sqrt(ss) * n, "nrm2 %.17g vs %.17g", nrm, sqrt(ss));
  CHECK(m == max_ref);

  const size_t ns = 4, per = n / 4;
  double norms[4];
  CHECK_OK(b->ctx, b->ops->nrm2_batched(b, x, ns, per, norms));
  for (size_t k = 0; k < ns; ++k) {
    double r = 0;
    for (size_t i = k * per; i < (k + 1) * per; ++i) r += (double)x[i] * x[i];
    CHECK(fabs(norms[k] - sqrt(r)) <= 1e-12 * sqrt(r) * per + 1e-30);
  }

  size_t bad = 99;
  CHECK_OK(b->ctx, b->ops->count_nonfinite(b, x, n, &bad));
  CHECK(bad == 0);
  x[n / 2] = NAN;
  x[n - 1] = -INFINITY;
  CHECK_OK(b->ctx, b->ops->count_nonfinite(b, x, n, &bad));
  CHECK(bad == 2);
  CHECK_OK(b->ctx, b->ops->max_abs(b, x, n, &m));
  CHECK(isnan(m));
  free(x), free(y);
}

/* Reductions and normals must be the same bits with 1, 2 and 3 threads. */
static void test_thread_invariance(void) {
  const size_t n = 1000003;
  float *x = malloc(n * 4), *r1 = malloc(n * 4), *r3 = malloc(n * 4);
  fill_random(x, n, 9);
  double s[3], nrm[3];
  sr_rng_stream st = {.seed = 5, .first_slice = 0, .step = 1, .purpose = 2};
  for (int t = 1; t <= 3; ++t) {
    sr_context *ctx = make_cpu(t);
    sr_backend *b = sr_context_get_backend(ctx);
    CHECK_OK(ctx, b->ops->sum(b, x, n, &s[t - 1]));
    CHECK_OK(ctx, b->ops->nrm2(b, x, n, &nrm[t - 1]));
    CHECK_OK(ctx, b->ops->randn(b, t == 1 ? r1 : r3, 1, n, st));
    sr_context_destroy(ctx);
  }
  CHECK(s[0] == s[1] && s[1] == s[2]);
  CHECK(nrm[0] == nrm[1] && nrm[1] == nrm[2]);
  CHECK(same_bits(r1, r3, n));
  free(x), free(r1), free(r3);
}

static void test_tensors(sr_context *ctx) {
  sr_tensor t;
  CHECK_OK(ctx, sr_tensor_alloc(ctx, SR_DTYPE_F32, 2, 3, 5, 7, &t));
  CHECK(sr_tensor_numel(&t) == 210);
  CHECK(sr_tensor_is_contiguous(&t));
  CHECK(t.strides[0] == 105 && t.strides[1] == 35 && t.strides[2] == 7 && t.strides[3] == 1);
  float host[210], back[210];
  fill_random(host, 210, 11);
  CHECK_OK(ctx, sr_tensor_upload(ctx, &t, host, sizeof host));
  CHECK_OK(ctx, sr_tensor_download(ctx, &t, back, sizeof back));
  CHECK(same_bits(host, back, 210));
  CHECK_FAILS(ctx, sr_tensor_upload(ctx, &t, host, 100), SR_ERR_SHAPE);
  sr_tensor_free(ctx, &t);
  CHECK(t.data == NULL);
  CHECK_FAILS(ctx, sr_tensor_alloc(ctx, SR_DTYPE_F32, 0, 1, 1, 1, &t), SR_ERR_SHAPE);
  CHECK_FAILS(ctx, sr_tensor_alloc(ctx, SR_DTYPE_F32, INT64_MAX / 2, 4, 1, 1, &t), SR_ERR_SHAPE);
  CHECK(strstr(sr_context_last_error(ctx), "overflows") != NULL);
}

static void test_context_errors(void) {
  sr_context_options o = sr_context_options_default();
  o.threads = -1;
  sr_context *ctx = NULL;
  CHECK_FAILS(ctx, sr_context_create(&o, &ctx), SR_ERR_INVALID_ARGUMENT);
  CHECK(ctx && strstr(sr_context_last_error(ctx), "threads") != NULL);
  sr_context_destroy(ctx);
  CHECK(strcmp(sr_strerror(SR_ERR_FORMAT), "malformed file") == 0);
  CHECK(sr_dtype_size(SR_DTYPE_C64) == 8 && sr_dtype_size(SR_DTYPE_BF16) == 2);
}

int main(void) {
  sr_context *ctx = make_cpu(2);
  sr_backend *b = sr_context_get_backend(ctx);
  const size_t sizes[] = {1, 3, 4097, 100000};
  for (size_t k = 0; k < sizeof sizes / sizeof *sizes; ++k) {
    test_elementwise(b, sizes[k] < 3 ? 3 : sizes[k]);
    test_reductions(b, sizes[k] < 4 ? 4 : sizes[k]);
  }
  test_thread_invariance();
  test_tensors(ctx);
  test_context_errors();
  sr_context_destroy(ctx);
  return sr_test_finish("test_cpu_ops");
}
