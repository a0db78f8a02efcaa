/* The CUDA backend's FFT, k-space and total-variation ops (issue 3), same
 * contracts as in backend.h, and the cuFFT plan cache they run on
 * (cufft_plans.c). Kernels: kernels/kspace.cu, kernels/tv.cu. */
#ifndef SR_BACKEND_CUDA_FFT_H
#define SR_BACKEND_CUDA_FFT_H

#include <cufft.h>

#include "backend/backend.h"

/* Plans by (h, w, batch), a few kept per backend (least recently used go),
 * each bound to the backend's stream. */
typedef struct sr_cufft_cache sr_cufft_cache;

/* A C2C plan for nslices (h, w) planes (h == 1: 1-D transforms of length w),
 * made on first use and reused after. */
sr_status sr_cufft_plan(sr_backend *b, size_t nslices, size_t h, size_t w, cufftHandle *out);
/* Destroys every cached plan (after the stream drains); the backend's
 * destroy calls it. */
void sr_cufft_cache_destroy(sr_backend *b);
/* A cufftResult as text, for messages. */
const char *sr_cufft_result_name(cufftResult r);

/* Returns from the calling function with SR_ERR_DEVICE (SR_ERR_OUT_OF_MEMORY
 * for CUFFT_ALLOC_FAILED) and "<call> failed: <result>" at this file:line
 * unless the cuFFT call succeeds. */
#define SR_CUFFT_CHECK(ctx, call)                                                                  \
  do {                                                                                             \
    cufftResult sr_cufft_r_ = (call);                                                              \
    if (sr_cufft_r_ != CUFFT_SUCCESS)                                                              \
      return sr_fail_at(                                                                           \
          (ctx), sr_cufft_r_ == CUFFT_ALLOC_FAILED ? SR_ERR_OUT_OF_MEMORY : SR_ERR_DEVICE,         \
          __FILE__, __LINE__, "%s failed: %s", #call, sr_cufft_result_name(sr_cufft_r_));          \
  } while (0)

sr_status sr_cuda_fft2(sr_backend *b, float *out, const float *in, size_t nslices, size_t h,
                       size_t w, int inverse, float scale);
sr_status sr_cuda_fft2c(sr_backend *b, float *out, const float *in, size_t nslices, size_t h,
                        size_t w, int inverse);
sr_status sr_cuda_fftshift2(sr_backend *b, float *out, const float *in, size_t nslices, size_t h,
                            size_t w, int inverse, float scale);
sr_status sr_cuda_embed_real(sr_backend *b, float *out, const float *in, size_t nslices, size_t h,
                             size_t w, size_t H, size_t W, size_t oy, size_t ox);
sr_status sr_cuda_extract_real(sr_backend *b, float *out, const float *in, size_t nslices, size_t h,
                               size_t w, size_t H, size_t W, size_t oy, size_t ox, float scale);
sr_status sr_cuda_cmask(sr_backend *b, float *out, const float *in, const float *mask,
                        size_t nslices, size_t n);
sr_status sr_cuda_cblend(sr_backend *b, float *t, const float *known, const float *mask,
                         size_t nslices, size_t n, float lambda);
sr_status sr_cuda_cabs(sr_backend *b, float *out, const float *in, size_t n);
sr_status sr_cuda_cgather(sr_backend *b, float *out, const float *in, const int32_t *src,
                          size_t nslices, size_t n_out, size_t n_in);
sr_status sr_cuda_cscatter(sr_backend *b, float *out, const float *in, const int32_t *dst,
                           const int32_t *src, const float *w, size_t taps, size_t npts,
                           size_t nslices, size_t n_out, size_t n_in);
sr_status sr_cuda_rmatmul_c(sr_backend *b, float *out, const float *in, const float *m, size_t rows,
                            size_t n_in, size_t n_out);
sr_status sr_cuda_grad2(sr_backend *b, float *g, const float *x, size_t nslices, size_t h,
                        size_t w);
sr_status sr_cuda_div2(sr_backend *b, float *x, const float *g, size_t nslices, size_t h, size_t w);
sr_status sr_cuda_proj_l2ball2(sr_backend *b, float *p, size_t nslices, size_t hw, float radius);

#endif
