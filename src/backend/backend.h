/* The op table: every numeric operation the model, the operators and the
 * sampler need, declared once. src/backend/cpu/ fills it with plain C (the
 * reference), src/backend/cuda/ with kernels from kernels/. Callers never ask
 * which backend they run on.
 *
 * Conventions for every op:
 *  - pointers are backend memory (host for CPU, device for CUDA) unless the
 *    name says host; float32, contiguous, element counts in size_t;
 *  - ops are stream-ordered: results are visible to later ops on the same
 *    backend; results returned in host variables (reductions) are complete
 *    when the op returns;
 *  - failures return an sr_status with the message stored in b->ctx. */
#ifndef SR_BACKEND_H
#define SR_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "scorerecon.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sr_backend sr_backend;

/* Where a Philox stream of normals comes from. key = (seed, slice index);
 * counter = (element group, purpose, step, 0). A batch of slices draws slice
 * b from key (seed, first_slice + b), so a slice's noise does not depend on
 * the batch it runs in. See src/core/philox.h. */
typedef struct sr_rng_stream {
  uint32_t seed;
  uint32_t first_slice;
  uint32_t step;
  uint32_t purpose; /* an sr_draw_purpose */
} sr_rng_stream;

/* Why a draw is made: one value per field of noise in a sampler step, so two
 * fields of the same step never share random numbers. */
typedef enum sr_draw_purpose {
  SR_DRAW_GENERIC = 0,
  SR_DRAW_INITIAL_SAMPLE = 1,
  SR_DRAW_CONSISTENCY_BEFORE_CORRECTOR = 2,
  SR_DRAW_LANGEVIN = 3,
  SR_DRAW_CONSISTENCY_BEFORE_PREDICTOR = 4,
  SR_DRAW_PREDICTOR = 5,
  SR_DRAW_MEASUREMENT_NOISE = 6
} sr_draw_purpose;

typedef struct sr_backend_ops {
  const char *name;
  void (*destroy)(sr_backend *b);

  /* ---- memory */
  sr_status (*alloc)(sr_backend *b, size_t bytes, void **out);
  void (*free)(sr_backend *b, void *ptr);
  sr_status (*upload)(sr_backend *b, void *dst, const void *host_src, size_t bytes);
  sr_status (*download)(sr_backend *b, void *host_dst, const void *src, size_t bytes);
  sr_status (*copy)(sr_backend *b, void *dst, const void *src, size_t bytes);
  sr_status (*synchronize)(sr_backend *b);

  /* ---- elementwise, float32 */
  /* x[i] = value */
  sr_status (*fill)(sr_backend *b, float *x, size_t n, float value);
  /* x[i] *= alpha */
  sr_status (*scale)(sr_backend *b, float *x, size_t n, float alpha);
  /* y[i] = alpha * x[i] + beta * y[i] */
  sr_status (*axpby)(sr_backend *b, float *y, const float *x, size_t n, float alpha, float beta);
  /* z[i] = alpha * x[i] + beta * y[i] + gamma * z[i] (an SDE update in one pass) */
  sr_status (*axpbypgz)(sr_backend *b, float *z, const float *x, const float *y, size_t n,
                        float alpha, float beta, float gamma);
  /* z[i] = x[i] * y[i] */
  sr_status (*mul)(sr_backend *b, float *z, const float *x, const float *y, size_t n);
  /* x[i] = min(max(x[i], lo), hi) */
  sr_status (*clamp)(sr_backend *b, float *x, size_t n, float lo, float hi);
  /* Per slice: x[s*n + i] = alpha[s] * x[s*n + i] + beta[s] * y[s*n + i]
   * (per-sample step sizes, e.g. the Langevin step); alpha, beta are host arrays. */
  sr_status (*axpby_batched)(sr_backend *b, float *y, const float *x, size_t nslices,
                             size_t n, const float *alpha_host, const float *beta_host);

  /* ---- reductions, float32 in, double out (host), fixed summation order:
   * the result does not depend on the thread count. */
  sr_status (*sum)(sr_backend *b, const float *x, size_t n, double *out);
  sr_status (*dot)(sr_backend *b, const float *x, const float *y, size_t n, double *out);
  sr_status (*nrm2)(sr_backend *b, const float *x, size_t n, double *out);
  sr_status (*max_abs)(sr_backend *b, const float *x, size_t n, float *out);
  /* ||x_s|| for each of nslices contiguous slices of n elements: host out[nslices]. */
  sr_status (*nrm2_batched)(sr_backend *b, const float *x, size_t nslices, size_t n,
                            double *out_host);
  /* Counts elements that are NaN or +-Inf. */
  sr_status (*count_nonfinite)(sr_backend *b, const float *x, size_t n, size_t *out);

  /* ---- random numbers: standard normals from Philox4x32-10, bit-identical
   * on every backend. x holds nslices slices of n elements. */
  sr_status (*randn)(sr_backend *b, float *x, size_t nslices, size_t n, sr_rng_stream stream);

  /* ---- CT projection (issue 3: radon, backprojection, ramp filter) */

  /* ---- FFT and k-space (issue 3: MRI, the paper's Fourier-domain CT) */

  /* ---- score network (issue 4: conv2d, group_norm, silu, attention, upfirdn) */
} sr_backend_ops;

struct sr_backend {
  const sr_backend_ops *ops;
  sr_context *ctx; /* receives error messages */
  sr_backend_kind kind;
  int threads;  /* CPU threads (CPU backend) */
  int device;   /* CUDA device index (CUDA backend) */
  void *impl;   /* backend-private state */
};

/* Creates the backend for ctx->kind; used by sr_context_create. */
sr_status sr_backend_create(sr_context *ctx, sr_backend_kind kind, int device, int threads,
                            sr_backend **out);
void sr_backend_destroy(sr_backend *b);

/* The backend a context runs on (never NULL for a context that was created). */
sr_backend *sr_context_get_backend(sr_context *ctx);

/* Constructors of the concrete backends. */
sr_status sr_cpu_backend_create(sr_context *ctx, int threads, sr_backend **out);
#ifdef SR_HAVE_CUDA
sr_status sr_cuda_backend_create(sr_context *ctx, int device, sr_backend **out);
#endif

#ifdef __cplusplus
}
#endif

#endif
