/* Host launchers of the kernels in kernels/ (.cu files), callable from C. Each checks
 * its arguments, picks the launch configuration, launches on `stream` and
 * returns an sr_status (message in ctx). None allocates: scratch memory is
 * passed in by the caller. Pointers are device memory. */
#ifndef SR_KERNELS_H
#define SR_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include <cuda_runtime_api.h>

#include "scorerecon.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- elementwise.cu */
sr_status sr_k_fill(sr_context *ctx, cudaStream_t s, float *x, size_t n, float value);
sr_status sr_k_scale(sr_context *ctx, cudaStream_t s, float *x, size_t n, float alpha);
sr_status sr_k_axpby(sr_context *ctx, cudaStream_t s, float *y, const float *x, size_t n,
                     float alpha, float beta);
sr_status sr_k_axpbypgz(sr_context *ctx, cudaStream_t s, float *z, const float *x,
                        const float *y, size_t n, float alpha, float beta, float gamma);
sr_status sr_k_mul(sr_context *ctx, cudaStream_t s, float *z, const float *x, const float *y,
                   size_t n);
sr_status sr_k_clamp(sr_context *ctx, cudaStream_t s, float *x, size_t n, float lo, float hi);
/* alpha_beta: device array, alpha[0..nslices) then beta[0..nslices). */
sr_status sr_k_axpby_batched(sr_context *ctx, cudaStream_t s, float *y, const float *x,
                             size_t nslices, size_t n, const float *alpha_beta);

/* ---- reduce.cu: per-slice reductions over nslices slices of n elements.
 * Result out[slice] (device, double). partials: device scratch of at least
 * sr_k_reduce_scratch(nslices, n) doubles. */
typedef enum sr_reduce_op {
  SR_REDUCE_SUM = 0,
  SR_REDUCE_DOT,       /* sum x*y */
  SR_REDUCE_SUMSQ,     /* sum x*x */
  SR_REDUCE_MAXABS,    /* max |x|, NaN if any NaN */
  SR_REDUCE_NONFINITE  /* count of NaN/Inf */
} sr_reduce_op;

size_t sr_k_reduce_scratch(size_t nslices, size_t n);
sr_status sr_k_reduce(sr_context *ctx, cudaStream_t s, sr_reduce_op op, const float *x,
                      const float *y, size_t nslices, size_t n, double *partials, double *out);

/* ---- philox.cu: standard normals, bit-identical to the CPU backend. */
sr_status sr_k_randn(sr_context *ctx, cudaStream_t s, float *x, size_t nslices, size_t n,
                     uint32_t seed, uint32_t first_slice, uint32_t step, uint32_t purpose);

#ifdef __cplusplus
}
#endif

#endif
