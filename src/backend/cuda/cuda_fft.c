/* The CUDA backend's FFT, k-space and TV ops: cuFFT for the transforms,
 * kernels/kspace.cu and kernels/tv.cu for the rest, each op in an NVTX
 * range on the context's stream. */
#include <math.h>
#include <stdint.h>

#include "backend/cuda/cuda_fft.h"
#include "backend/cuda/cuda_internal.h"

static cudaStream_t stream_of(sr_backend *b) {
  return sr_cuda_state_of(b)->stream;
}

/* In-place unnormalised C2C transform of every plane of x. */
static sr_status exec_c2c(sr_backend *b, float *x, size_t nslices, size_t h, size_t w,
                          int inverse) {
  if (nslices == 0 || h == 0 || w == 0) return SR_OK;
  cufftHandle plan;
  SR_TRY(sr_cufft_plan(b, nslices, h, w, &plan));
  SR_CUFFT_CHECK(b->ctx, cufftExecC2C(plan, (cufftComplex *)x, (cufftComplex *)x,
                                      inverse ? CUFFT_INVERSE : CUFFT_FORWARD));
  return SR_OK;
}

static sr_status fft2(sr_backend *b, float *out, const float *in, size_t nslices, size_t h,
                      size_t w, int inverse, float scale) {
  size_t bytes = 2 * nslices * h * w * sizeof(float);
  if (out != in)
    SR_CUDA_CHECK(b->ctx, cudaMemcpyAsync(out, in, bytes, cudaMemcpyDeviceToDevice, stream_of(b)));
  SR_TRY(exec_c2c(b, out, nslices, h, w, inverse));
  if (scale != 1.0f) return sr_k_scale(b->ctx, stream_of(b), out, 2 * nslices * h * w, scale);
  return SR_OK;
}

sr_status sr_cuda_fft2(sr_backend *b, float *out, const float *in, size_t nslices, size_t h,
                       size_t w, int inverse, float scale) {
  SR_NVTX_OP("fft2", fft2(b, out, in, nslices, h, w, inverse, scale));
}

/* Even sizes: sign patterns around an in-place transform (see cpu_fft.c);
 * odd sizes: true shifts through scratch. */
static sr_status fft2c(sr_backend *b, float *out, const float *in, size_t nslices, size_t h,
                       size_t w, int inverse) {
  if (nslices == 0 || h == 0 || w == 0) return SR_OK;
  float scale = (float)(1.0 / sqrt((double)h * (double)w));
  if (h % 2 == 0 && w % 2 == 0) {
    float c = ((h / 2 + w / 2) & 1) ? -scale : scale;
    SR_TRY(sr_k_csign_scale(b->ctx, stream_of(b), out, in, nslices, h, w, 1.0f));
    SR_TRY(exec_c2c(b, out, nslices, h, w, inverse));
    return sr_k_csign_scale(b->ctx, stream_of(b), out, out, nslices, h, w, c);
  }
  void *tmp = NULL;
  SR_TRY(sr_cuda_scratch(b, 2 * nslices * h * w * sizeof(float), &tmp));
  SR_TRY(sr_k_fftshift2(b->ctx, stream_of(b), (float *)tmp, in, nslices, h, w, 1, 1.0f));
  SR_TRY(exec_c2c(b, (float *)tmp, nslices, h, w, inverse));
  return sr_k_fftshift2(b->ctx, stream_of(b), out, (const float *)tmp, nslices, h, w, 0, scale);
}

sr_status sr_cuda_fft2c(sr_backend *b, float *out, const float *in, size_t nslices, size_t h,
                        size_t w, int inverse) {
  SR_NVTX_OP("fft2c", fft2c(b, out, in, nslices, h, w, inverse));
}

sr_status sr_cuda_fftshift2(sr_backend *b, float *out, const float *in, size_t nslices, size_t h,
                            size_t w, int inverse, float scale) {
  SR_NVTX_OP("fftshift2",
             sr_k_fftshift2(b->ctx, stream_of(b), out, in, nslices, h, w, inverse, scale));
}

sr_status sr_cuda_embed_real(sr_backend *b, float *out, const float *in, size_t nslices, size_t h,
                             size_t w, size_t H, size_t W, size_t oy, size_t ox) {
  SR_NVTX_OP("embed_real",
             sr_k_embed_real(b->ctx, stream_of(b), out, in, nslices, h, w, H, W, oy, ox));
}

sr_status sr_cuda_extract_real(sr_backend *b, float *out, const float *in, size_t nslices, size_t h,
                               size_t w, size_t H, size_t W, size_t oy, size_t ox, float scale) {
  SR_NVTX_OP("extract_real",
             sr_k_extract_real(b->ctx, stream_of(b), out, in, nslices, h, w, H, W, oy, ox, scale));
}

sr_status sr_cuda_cmask(sr_backend *b, float *out, const float *in, const float *mask,
                        size_t nslices, size_t n) {
  SR_NVTX_OP("cmask", sr_k_cmask(b->ctx, stream_of(b), out, in, mask, nslices, n));
}

sr_status sr_cuda_cblend(sr_backend *b, float *t, const float *known, const float *mask,
                         size_t nslices, size_t n, float lambda) {
  SR_NVTX_OP("cblend", sr_k_cblend(b->ctx, stream_of(b), t, known, mask, nslices, n, lambda));
}

sr_status sr_cuda_cabs(sr_backend *b, float *out, const float *in, size_t n) {
  SR_NVTX_OP("cabs", sr_k_cabs(b->ctx, stream_of(b), out, in, n));
}

sr_status sr_cuda_cgather(sr_backend *b, float *out, const float *in, const int32_t *src,
                          size_t nslices, size_t n_out, size_t n_in) {
  SR_NVTX_OP("cgather", sr_k_cgather(b->ctx, stream_of(b), out, in, src, nslices, n_out, n_in));
}

sr_status sr_cuda_cscatter(sr_backend *b, float *out, const float *in, const int32_t *dst,
                           const int32_t *src, const float *w, size_t taps, size_t npts,
                           size_t nslices, size_t n_out, size_t n_in) {
  SR_NVTX_OP("cscatter", sr_k_cscatter(b->ctx, stream_of(b), out, in, dst, src, w, taps, npts,
                                       nslices, n_out, n_in));
}

sr_status sr_cuda_rmatmul_c(sr_backend *b, float *out, const float *in, const float *m, size_t rows,
                            size_t n_in, size_t n_out) {
  SR_NVTX_OP("rmatmul_c", sr_k_rmatmul_c(b->ctx, stream_of(b), out, in, m, rows, n_in, n_out));
}

sr_status sr_cuda_grad2(sr_backend *b, float *g, const float *x, size_t nslices, size_t h,
                        size_t w) {
  SR_NVTX_OP("grad2", sr_k_grad2(b->ctx, stream_of(b), g, x, nslices, h, w));
}

sr_status sr_cuda_div2(sr_backend *b, float *x, const float *g, size_t nslices, size_t h,
                       size_t w) {
  SR_NVTX_OP("div2", sr_k_div2(b->ctx, stream_of(b), x, g, nslices, h, w));
}

sr_status sr_cuda_proj_l2ball2(sr_backend *b, float *p, size_t nslices, size_t hw, float radius) {
  SR_NVTX_OP("proj_l2ball2", sr_k_proj_l2ball2(b->ctx, stream_of(b), p, nslices, hw, radius));
}
