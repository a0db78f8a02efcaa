/* Host launchers of the kernels in kernels/ (.cu files), callable from C. Each checks
 * its arguments, picks the launch configuration, launches on `stream` and
 * returns an sr_status (message in ctx). None allocates: scratch memory is
 * passed in by the caller. Pointers are device memory. */
#ifndef SR_KERNELS_H
#define SR_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include <cuda_runtime_api.h>

#include "backend/ct_projection.h"
#include "scorerecon.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- elementwise.cu */
sr_status sr_k_fill(sr_context *ctx, cudaStream_t s, float *x, size_t n, float value);
sr_status sr_k_scale(sr_context *ctx, cudaStream_t s, float *x, size_t n, float alpha);
sr_status sr_k_axpby(sr_context *ctx, cudaStream_t s, float *y, const float *x, size_t n,
                     float alpha, float beta);
sr_status sr_k_axpbypgz(sr_context *ctx, cudaStream_t s, float *z, const float *x, const float *y,
                        size_t n, float alpha, float beta, float gamma);
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
  SR_REDUCE_DOT,      /* sum x*y */
  SR_REDUCE_SUMSQ,    /* sum x*x */
  SR_REDUCE_MAXABS,   /* max |x|, NaN if any NaN */
  SR_REDUCE_NONFINITE /* count of NaN/Inf */
} sr_reduce_op;

size_t sr_k_reduce_scratch(size_t nslices, size_t n);
sr_status sr_k_reduce(sr_context *ctx, cudaStream_t s, sr_reduce_op op, const float *x,
                      const float *y, size_t nslices, size_t n, double *partials, double *out);

/* ---- philox.cu: standard normals, bit-identical to the CPU backend. */
sr_status sr_k_randn(sr_context *ctx, cudaStream_t s, float *x, size_t nslices, size_t n,
                     uint32_t seed, uint32_t first_slice, uint32_t step, uint32_t purpose);

/* ---- kspace.cu: complex64 interleaved, contracts as the FFT section of
 * backend.h. csign_scale: out = scale (-1)^(i+j) in per (h, w) plane (the
 * centring of even-sized DFTs); out may equal in. */
sr_status sr_k_csign_scale(sr_context *ctx, cudaStream_t s, float *out, const float *in,
                           size_t nslices, size_t h, size_t w, float scale);
sr_status sr_k_fftshift2(sr_context *ctx, cudaStream_t s, float *out, const float *in,
                         size_t nslices, size_t h, size_t w, int inverse, float scale);
sr_status sr_k_embed_real(sr_context *ctx, cudaStream_t s, float *out, const float *in,
                          size_t nslices, size_t h, size_t w, size_t H, size_t W, size_t oy,
                          size_t ox);
sr_status sr_k_extract_real(sr_context *ctx, cudaStream_t s, float *out, const float *in,
                            size_t nslices, size_t h, size_t w, size_t H, size_t W, size_t oy,
                            size_t ox, float scale);
sr_status sr_k_cmask(sr_context *ctx, cudaStream_t s, float *out, const float *in,
                     const float *mask, size_t nslices, size_t n);
sr_status sr_k_cblend(sr_context *ctx, cudaStream_t s, float *t, const float *known,
                      const float *mask, size_t nslices, size_t n, float lambda);
sr_status sr_k_cabs(sr_context *ctx, cudaStream_t s, float *out, const float *in, size_t n);
sr_status sr_k_cgather(sr_context *ctx, cudaStream_t s, float *out, const float *in,
                       const int32_t *src, size_t nslices, size_t n_out, size_t n_in);
sr_status sr_k_cscatter(sr_context *ctx, cudaStream_t s, float *out, const float *in,
                        const int32_t *dst, const int32_t *src, const float *w, size_t taps,
                        size_t npts, size_t nslices, size_t n_out, size_t n_in);
sr_status sr_k_rmatmul_c(sr_context *ctx, cudaStream_t s, float *out, const float *in,
                         const float *m, size_t rows, size_t n_in, size_t n_out);

/* ---- tv.cu: gradient (nslices, 2, h, w), divergence, disc projection. */
sr_status sr_k_grad2(sr_context *ctx, cudaStream_t s, float *g, const float *x, size_t nslices,
                     size_t h, size_t w);
sr_status sr_k_div2(sr_context *ctx, cudaStream_t s, float *x, const float *g, size_t nslices,
                    size_t h, size_t w);
sr_status sr_k_proj_l2ball2(sr_context *ctx, cudaStream_t s, float *p, size_t nslices, size_t hw,
                            float radius);

/* ---- score network (issue 4): conv.cu, groupnorm.cu, attention.cu,
 * upfirdn.cu; contracts as the score-network section of backend.h. */
struct sr_conv2d_desc;
struct sr_fir_desc;
/* The plain direct convolution with its fused epilogue. */
sr_status sr_k_conv2d(sr_context *ctx, cudaStream_t s, const struct sr_conv2d_desc *d,
                      const float *x, const float *w, const float *bias, const float *bias_nc,
                      const float *residual, float scale, float *y);
/* y = scale * (bias + bias_nc + residual): the prefill cuDNN accumulates onto. */
sr_status sr_k_conv_epilogue(sr_context *ctx, cudaStream_t s, const struct sr_conv2d_desc *d,
                             const float *bias, const float *bias_nc, const float *residual,
                             float scale, float *y);
/* bf16/fp16 convolutions through cuDNN's half-precision tensors: out
 * (count values of 2 bytes, __half for SR_PRECISION_FP16, __nv_bfloat16 for
 * SR_PRECISION_BF16) = x rounded as src/core/precision.h rounds operands. */
sr_status sr_k_to_half(sr_context *ctx, cudaStream_t s, const float *x, size_t count, int precision,
                       void *out);
/* y = scale * ((conv + bias + bias_nc) + residual), conv the half-precision
 * (d->precision) output of cuDNN: the CPU twin's bf16/fp16 epilogue. */
sr_status sr_k_conv_epilogue_half(sr_context *ctx, cudaStream_t s, const struct sr_conv2d_desc *d,
                                  const void *conv, const float *bias, const float *bias_nc,
                                  const float *residual, float scale, float *y);
sr_status sr_k_group_norm(sr_context *ctx, cudaStream_t s, const float *x, size_t n, size_t c,
                          size_t hw, size_t groups, const float *gamma, const float *beta,
                          float eps, int silu, float *y);
sr_status sr_k_silu(sr_context *ctx, cudaStream_t s, const float *x, size_t count, float *y);
sr_status sr_k_linear(sr_context *ctx, cudaStream_t s, const float *x, size_t n, size_t in,
                      size_t out, const float *w, const float *bias, int silu_in, float *y);
/* x (rows, len) <- row-wise softmax(scale * x), scale > 0. */
sr_status sr_k_softmax_rows(sr_context *ctx, cudaStream_t s, float *x, size_t rows, size_t len,
                            float scale);
sr_status sr_k_upfirdn2d(sr_context *ctx, cudaStream_t s, const struct sr_fir_desc *f,
                         const float *x, size_t planes, size_t h, size_t w, const float *bias,
                         size_t channels, float *y);
sr_status sr_k_concat_channels(sr_context *ctx, cudaStream_t s, float *dst, const float *a,
                               const float *b, size_t n, size_t ca, size_t cb, size_t hw);

/* ---- radon.cu, backproject.cu, ramp_filter.cu: the CT projector of
 * src/backend/ct_projection.h. views: device array of n_angles views; image
 * (nslices, h, w), sino (nslices, n_angles, n_det), float32. */
/* out (nslices, w, h) = each (h, w) plane of in transposed. */
sr_status sr_k_ct_transpose(sr_context *ctx, cudaStream_t s, const float *in, float *out,
                            size_t nslices, int h, int w);
/* sino = A image; image_t = the image transposed (sr_k_ct_transpose), read
 * by the views that walk columns (may be NULL when there are none). */
sr_status sr_k_radon(sr_context *ctx, cudaStream_t s, const sr_ct_view *views, int n_angles,
                     int n_det, int h, int w, float coef, const float *image, const float *image_t,
                     float *sino, size_t nslices);
/* image = A^T sino (overwritten). */
sr_status sr_k_backproject(sr_context *ctx, cudaStream_t s, const sr_ct_view *views, int n_angles,
                           int n_det, int h, int w, float coef, const float *sino, float *image,
                           size_t nslices);
/* FBP filter steps around cuFFT: padded (rows, P) = rows of in (rows, n_det)
 * and zeros; spectrum (rows, P/2 + 1) complex *= filter (P/2 + 1, real);
 * out (rows, n_det) = the first n_det values of each padded row. */
sr_status sr_k_ramp_pad(sr_context *ctx, cudaStream_t s, const float *in, float *padded,
                        size_t rows, int n_det, int padded_len);
sr_status sr_k_ramp_apply(sr_context *ctx, cudaStream_t s, float *spectrum, const float *filter,
                          size_t rows, int nf);
sr_status sr_k_ramp_crop(sr_context *ctx, cudaStream_t s, const float *padded, float *out,
                         size_t rows, int n_det, int padded_len);

#ifdef __cplusplus
}
#endif

#endif
