/* The CPU backend's op implementations, shared by its files. */
#ifndef SR_BACKEND_CPU_INTERNAL_H
#define SR_BACKEND_CPU_INTERNAL_H

#include "backend/backend.h"

/* Reductions are summed in chunks of this many elements, each in double and
 * in index order, then the chunk sums in order: the result is the same for
 * every thread count. The CUDA backend uses the same chunking. */
#define SR_REDUCE_CHUNK 4096

/* Loops shorter than this run on one thread: forking costs more. */
#define SR_CPU_PARALLEL_MIN 32768

sr_status sr_cpu_fill(sr_backend *b, float *x, size_t n, float value);
sr_status sr_cpu_scale(sr_backend *b, float *x, size_t n, float alpha);
sr_status sr_cpu_axpby(sr_backend *b, float *y, const float *x, size_t n, float alpha,
                       float beta);
sr_status sr_cpu_axpbypgz(sr_backend *b, float *z, const float *x, const float *y, size_t n,
                          float alpha, float beta, float gamma);
sr_status sr_cpu_mul(sr_backend *b, float *z, const float *x, const float *y, size_t n);
sr_status sr_cpu_clamp(sr_backend *b, float *x, size_t n, float lo, float hi);
sr_status sr_cpu_axpby_batched(sr_backend *b, float *y, const float *x, size_t nslices, size_t n,
                               const float *alpha, const float *beta);

sr_status sr_cpu_sum(sr_backend *b, const float *x, size_t n, double *out);
sr_status sr_cpu_dot(sr_backend *b, const float *x, const float *y, size_t n, double *out);
sr_status sr_cpu_nrm2(sr_backend *b, const float *x, size_t n, double *out);
sr_status sr_cpu_max_abs(sr_backend *b, const float *x, size_t n, float *out);
sr_status sr_cpu_nrm2_batched(sr_backend *b, const float *x, size_t nslices, size_t n,
                              double *out);
sr_status sr_cpu_count_nonfinite(sr_backend *b, const float *x, size_t n, size_t *out);

sr_status sr_cpu_randn(sr_backend *b, float *x, size_t nslices, size_t n, sr_rng_stream stream);

#endif
