/* Elementwise float32 ops of the CPU backend. */
#include <stddef.h>

#include "backend/cpu/cpu_internal.h"

/* OpenMP loops over n elements; short loops stay on the calling thread. */
#define CPU_PARALLEL_FOR(b, n)                                                                 \
  _Pragma("omp parallel for schedule(static) num_threads((b)->threads) if ((n) >= SR_CPU_PARALLEL_MIN)")

sr_status sr_cpu_fill(sr_backend *b, float *x, size_t n, float value) {
  CPU_PARALLEL_FOR(b, n)
  for (size_t i = 0; i < n; ++i) x[i] = value;
  return SR_OK;
}

sr_status sr_cpu_scale(sr_backend *b, float *x, size_t n, float alpha) {
  CPU_PARALLEL_FOR(b, n)
  for (size_t i = 0; i < n; ++i) x[i] *= alpha;
  return SR_OK;
}

sr_status sr_cpu_axpby(sr_backend *b, float *y, const float *x, size_t n, float alpha,
                       float beta) {
  CPU_PARALLEL_FOR(b, n)
  for (size_t i = 0; i < n; ++i) y[i] = alpha * x[i] + beta * y[i];
  return SR_OK;
}

sr_status sr_cpu_axpbypgz(sr_backend *b, float *z, const float *x, const float *y, size_t n,
                          float alpha, float beta, float gamma) {
  CPU_PARALLEL_FOR(b, n)
  for (size_t i = 0; i < n; ++i) z[i] = alpha * x[i] + beta * y[i] + gamma * z[i];
  return SR_OK;
}

sr_status sr_cpu_mul(sr_backend *b, float *z, const float *x, const float *y, size_t n) {
  CPU_PARALLEL_FOR(b, n)
  for (size_t i = 0; i < n; ++i) z[i] = x[i] * y[i];
  return SR_OK;
}

sr_status sr_cpu_clamp(sr_backend *b, float *x, size_t n, float lo, float hi) {
  CPU_PARALLEL_FOR(b, n)
  for (size_t i = 0; i < n; ++i) {
    float v = x[i];
    v = v < lo ? lo : v;
    x[i] = v > hi ? hi : v;
  }
  return SR_OK;
}

sr_status sr_cpu_axpby_batched(sr_backend *b, float *y, const float *x, size_t nslices, size_t n,
                               const float *alpha, const float *beta) {
  size_t total = nslices * n;
  CPU_PARALLEL_FOR(b, total)
  for (size_t i = 0; i < total; ++i) {
    size_t s = i / n;
    y[i] = alpha[s] * x[i] + beta[s] * y[i];
  }
  return SR_OK;
}
