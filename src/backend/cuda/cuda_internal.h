/* State of the CUDA backend shared by its host files. */
#ifndef SR_BACKEND_CUDA_INTERNAL_H
#define SR_BACKEND_CUDA_INTERNAL_H

#include <cuda_runtime_api.h>
#include <nvtx3/nvToolsExt.h>

#include "backend/backend.h"
#include "cuda_check.h"
#include "kernels.h"

typedef struct sr_cuda_state {
  cudaStream_t stream; /* one stream per context: every op is ordered on it */
  /* Device scratch for reduction partials and small per-call parameters.
   * It grows when a call needs more and is reused otherwise, so steady-state
   * ops never allocate. */
  void *scratch;
  size_t scratch_bytes;
  struct sr_cufft_cache *fft; /* cuFFT plans by shape (cufft_plans.c), NULL until used */
  void *cublas; /* cublasHandle_t of the score network (cuda_cublas_nn.c), NULL until used */
  void *cudnn;  /* cuDNN handle and per-shape plans (cuda_cudnn_conv.c), NULL until used */
} sr_cuda_state;

static inline sr_cuda_state *sr_cuda_state_of(sr_backend *b) { return (sr_cuda_state *)b->impl; }

/* Returns scratch of at least `bytes`, growing it (after the stream drains). */
sr_status sr_cuda_scratch(sr_backend *b, size_t bytes, void **out);

/* Compute ops (cuda_ops.c), same contracts as in backend.h. */
sr_status sr_cuda_fill(sr_backend *b, float *x, size_t n, float value);
sr_status sr_cuda_scale(sr_backend *b, float *x, size_t n, float alpha);
sr_status sr_cuda_axpby(sr_backend *b, float *y, const float *x, size_t n, float alpha,
                        float beta);
sr_status sr_cuda_axpbypgz(sr_backend *b, float *z, const float *x, const float *y, size_t n,
                           float alpha, float beta, float gamma);
sr_status sr_cuda_mul(sr_backend *b, float *z, const float *x, const float *y, size_t n);
sr_status sr_cuda_clamp(sr_backend *b, float *x, size_t n, float lo, float hi);
sr_status sr_cuda_axpby_batched(sr_backend *b, float *y, const float *x, size_t nslices,
                                size_t n, const float *alpha, const float *beta);
sr_status sr_cuda_sum(sr_backend *b, const float *x, size_t n, double *out);
sr_status sr_cuda_dot(sr_backend *b, const float *x, const float *y, size_t n, double *out);
sr_status sr_cuda_nrm2(sr_backend *b, const float *x, size_t n, double *out);
sr_status sr_cuda_max_abs(sr_backend *b, const float *x, size_t n, float *out);
sr_status sr_cuda_nrm2_batched(sr_backend *b, const float *x, size_t nslices, size_t n,
                               double *out);
sr_status sr_cuda_count_nonfinite(sr_backend *b, const float *x, size_t n, size_t *out);
sr_status sr_cuda_randn(sr_backend *b, float *x, size_t nslices, size_t n, sr_rng_stream st);

/* Every op runs inside an NVTX range named for it, so nsys timelines read
 * like the op table. */
#define SR_NVTX_OP(name, expr)                                                                 \
  do {                                                                                         \
    nvtxRangePushA(name);                                                                      \
    sr_status sr_nvtx_status_ = (expr);                                                        \
    nvtxRangePop();                                                                            \
    return sr_nvtx_status_;                                                                    \
  } while (0)

#endif
