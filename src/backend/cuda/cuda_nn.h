/* The CUDA backend's score-network ops (issue 4) and the library handles
 * they keep: a cuBLAS handle (attention products) and, when built with
 * cuDNN, a cuDNN handle with one algorithm per convolution shape. Created
 * on first use, destroyed with the backend. */
#ifndef SR_BACKEND_CUDA_NN_H
#define SR_BACKEND_CUDA_NN_H

#include "backend/backend.h"

struct sr_cuda_nn;

void sr_cuda_nn_destroy(sr_backend *b);

sr_status sr_cuda_conv2d(sr_backend *b, const sr_conv2d_desc *d, const float *x, const float *w,
                         const float *bias, const float *bias_nc, const float *residual,
                         float scale, float *y, void *workspace);
sr_status sr_cuda_conv2d_workspace(sr_backend *b, const sr_conv2d_desc *d, size_t *bytes);
sr_status sr_cuda_group_norm(sr_backend *b, const float *x, size_t n, size_t c, size_t hw,
                             size_t groups, const float *gamma, const float *beta, float eps,
                             int silu, float *y);
sr_status sr_cuda_silu(sr_backend *b, const float *x, size_t count, float *y);
sr_status sr_cuda_linear(sr_backend *b, const float *x, size_t n, size_t in, size_t out,
                         const float *w, const float *bias, int silu_in, float *y);
sr_status sr_cuda_attention(sr_backend *b, const float *qkv, size_t n, size_t c, size_t hw,
                            float scale, float *workspace, float *out);
sr_status sr_cuda_upfirdn2d(sr_backend *b, const sr_fir_desc *f, const float *x, size_t planes,
                            size_t h, size_t w, const float *bias, size_t channels, float *y);
sr_status sr_cuda_concat_channels(sr_backend *b, float *dst, const float *a, const float *bsrc,
                                  size_t n, size_t ca, size_t cb, size_t hw);

/* cuda_cublas_nn.c: the attention products, strided-batched over samples. */
sr_status sr_cublas_attention(sr_backend *b, const float *qkv, size_t n, size_t c, size_t hw,
                              float scale, float *scores, float *out);
void sr_cublas_nn_destroy(sr_backend *b);

#ifdef SR_HAVE_CUDNN
/* cuda_cudnn_conv.c: cuDNN forward convolution for one shape (algorithm
 * chosen once per shape and cached; strict fp32, no Winograd/FFT). */
/* 0 for shapes cuDNN cannot express (asymmetric padding): the plain kernel runs them. */
int sr_cudnn_conv_supported(const sr_conv2d_desc *d);
sr_status sr_cudnn_conv_workspace(sr_backend *b, const sr_conv2d_desc *d, size_t *bytes);
/* y += alpha * conv(x, w) (y already holds the epilogue prefill); fp32 and
 * tf32. */
sr_status sr_cudnn_conv_accumulate(sr_backend *b, const sr_conv2d_desc *d, const float *x,
                                   const float *w, float alpha, float *y, void *workspace);
/* bf16/fp16: the whole conv2d op (x, w converted to half-precision
 * tensors in the workspace, cuDNN, then the float32 epilogue). */
sr_status sr_cudnn_conv_half(sr_backend *b, const sr_conv2d_desc *d, const float *x, const float *w,
                             const float *bias, const float *bias_nc, const float *residual,
                             float scale, float *y, void *workspace);
void sr_cudnn_destroy(sr_backend *b);
#endif

#endif
