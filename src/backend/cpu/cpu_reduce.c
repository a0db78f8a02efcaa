/* Reductions of the CPU backend. Each chunk of SR_REDUCE_CHUNK elements is
 * accumulated in double in index order, and the chunk results are combined in
 * chunk order, so the answer is bit-identical for every thread count. */
#include <math.h>
#include <stdlib.h>

#include "backend/cpu/cpu_internal.h"
#include "core/error.h"

typedef double (*chunk_fn)(const float *x, const float *y, size_t begin, size_t end);

static double chunk_sum(const float *x, const float *y, size_t begin, size_t end) {
  double s = 0.0;
  for (size_t i = begin; i < end; ++i) s += (double)x[i];
  return s;
}

static double chunk_dot(const float *x, const float *y, size_t begin, size_t end) {
  double s = 0.0;
  for (size_t i = begin; i < end; ++i) s += (double)x[i] * (double)y[i];
  return s;
}

/* Sums fn over [0, n) chunk by chunk. Small inputs use a stack buffer. */
static sr_status chunked_reduce(sr_backend *b, chunk_fn fn, const float *x, const float *y,
                                size_t n, double *out) {
  size_t nchunks = (n + SR_REDUCE_CHUNK - 1) / SR_REDUCE_CHUNK;
  double stack_partials[64];
  double *partials = stack_partials;
  if (nchunks > 64) {
    partials = (double *)malloc(nchunks * sizeof *partials);
    if (!partials)
      return sr_fail(b->ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate %zu reduction partials",
                     nchunks);
  }
#pragma omp parallel for schedule(static) num_threads(b->threads) if (nchunks > 8)
  for (size_t c = 0; c < nchunks; ++c) {
    size_t begin = c * SR_REDUCE_CHUNK;
    size_t end = begin + SR_REDUCE_CHUNK < n ? begin + SR_REDUCE_CHUNK : n;
    partials[c] = fn(x, y, begin, end);
  }
  double total = 0.0;
  for (size_t c = 0; c < nchunks; ++c) total += partials[c];
  if (partials != stack_partials) free(partials);
  *out = total;
  return SR_OK;
}

sr_status sr_cpu_sum(sr_backend *b, const float *x, size_t n, double *out) {
  return chunked_reduce(b, chunk_sum, x, NULL, n, out);
}

sr_status sr_cpu_dot(sr_backend *b, const float *x, const float *y, size_t n, double *out) {
  return chunked_reduce(b, chunk_dot, x, y, n, out);
}

sr_status sr_cpu_nrm2(sr_backend *b, const float *x, size_t n, double *out) {
  double ss = 0.0;
  SR_TRY(chunked_reduce(b, chunk_dot, x, x, n, &ss));
  *out = sqrt(ss);
  return SR_OK;
}

sr_status sr_cpu_nrm2_batched(sr_backend *b, const float *x, size_t nslices, size_t n,
                              double *out) {
  for (size_t s = 0; s < nslices; ++s) {
    const float *xs = x + s * n;
    SR_TRY(sr_cpu_nrm2(b, xs, n, &out[s]));
  }
  return SR_OK;
}

/* max |x|; NaN propagates (a NaN anywhere gives NaN), so callers can't
 * mistake a broken tensor for a small one. */
sr_status sr_cpu_max_abs(sr_backend *b, const float *x, size_t n, float *out) {
  float m = 0.0f;
  int saw_nan = 0;
#pragma omp parallel for schedule(static) num_threads(b->threads) if (n >= SR_CPU_PARALLEL_MIN) \
    reduction(max : m) reduction(| : saw_nan)
  for (size_t i = 0; i < n; ++i) {
    float a = fabsf(x[i]);
    if (a != a) saw_nan = 1;
    else if (a > m) m = a;
  }
  *out = saw_nan ? NAN : m;
  return SR_OK;
}

sr_status sr_cpu_count_nonfinite(sr_backend *b, const float *x, size_t n, size_t *out) {
  size_t count = 0;
#pragma omp parallel for schedule(static) num_threads(b->threads) if (n >= SR_CPU_PARALLEL_MIN) \
    reduction(+ : count)
  for (size_t i = 0; i < n; ++i) count += !isfinite(x[i]);
  *out = count;
  return SR_OK;
}
