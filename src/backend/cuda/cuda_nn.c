/* The CUDA backend's score-network ops: each puts its kernels (kernels/
 * conv.cu, groupnorm.cu, attention.cu, upfirdn.cu) or library calls on the
 * context's stream inside an NVTX range named for the op. Convolutions go to
 * cuDNN when the build has it (fp32/tf32: prefill the epilogue, then let
 * cuDNN add alpha * conv with beta = 1; bf16/fp16: half-precision tensors,
 * see cuda_cudnn_conv.c), else to the plain kernel. */
#include <stdlib.h>

#include "backend/cuda/cuda_internal.h"
#include "backend/cuda/cuda_nn.h"

static cudaStream_t stream_of(sr_backend *b) {
  return sr_cuda_state_of(b)->stream;
}

static sr_status conv2d(sr_backend *b, const sr_conv2d_desc *d, const float *x, const float *w,
                        const float *bias, const float *bias_nc, const float *residual, float scale,
                        float *y, void *workspace) {
#ifdef SR_HAVE_CUDNN
  if (sr_cudnn_conv_supported(d) && getenv("SR_CUDA_PLAIN_CONV") == NULL) {
    if (d->precision == SR_PRECISION_BF16 || d->precision == SR_PRECISION_FP16)
      return sr_cudnn_conv_half(b, d, x, w, bias, bias_nc, residual, scale, y, workspace);
    SR_TRY(sr_k_conv_epilogue(b->ctx, stream_of(b), d, bias, bias_nc, residual, scale, y));
    return sr_cudnn_conv_accumulate(b, d, x, w, scale, y, workspace);
  }
#endif
  (void)workspace;
  return sr_k_conv2d(b->ctx, stream_of(b), d, x, w, bias, bias_nc, residual, scale, y);
}

sr_status sr_cuda_conv2d(sr_backend *b, const sr_conv2d_desc *d, const float *x, const float *w,
                         const float *bias, const float *bias_nc, const float *residual,
                         float scale, float *y, void *workspace) {
  SR_NVTX_OP("conv2d", conv2d(b, d, x, w, bias, bias_nc, residual, scale, y, workspace));
}

sr_status sr_cuda_conv2d_workspace(sr_backend *b, const sr_conv2d_desc *d, size_t *bytes) {
  *bytes = 0;
#ifdef SR_HAVE_CUDNN
  if (getenv("SR_CUDA_PLAIN_CONV") == NULL) return sr_cudnn_conv_workspace(b, d, bytes);
#endif
  return SR_OK;
}

sr_status sr_cuda_group_norm(sr_backend *b, const float *x, size_t n, size_t c, size_t hw,
                             size_t groups, const float *gamma, const float *beta, float eps,
                             int silu, float *y) {
  SR_NVTX_OP("group_norm",
             sr_k_group_norm(b->ctx, stream_of(b), x, n, c, hw, groups, gamma, beta, eps, silu, y));
}

sr_status sr_cuda_silu(sr_backend *b, const float *x, size_t count, float *y) {
  SR_NVTX_OP("silu", sr_k_silu(b->ctx, stream_of(b), x, count, y));
}

sr_status sr_cuda_linear(sr_backend *b, const float *x, size_t n, size_t in, size_t out,
                         const float *w, const float *bias, int silu_in, float *y) {
  SR_NVTX_OP("linear", sr_k_linear(b->ctx, stream_of(b), x, n, in, out, w, bias, silu_in, y));
}

sr_status sr_cuda_attention(sr_backend *b, const float *qkv, size_t n, size_t c, size_t hw,
                            float scale, float *workspace, float *out) {
  SR_NVTX_OP("attention", sr_cublas_attention(b, qkv, n, c, hw, scale, workspace, out));
}

sr_status sr_cuda_upfirdn2d(sr_backend *b, const sr_fir_desc *f, const float *x, size_t planes,
                            size_t h, size_t w, const float *bias, size_t channels, float *y) {
  SR_NVTX_OP("upfirdn2d",
             sr_k_upfirdn2d(b->ctx, stream_of(b), f, x, planes, h, w, bias, channels, y));
}

sr_status sr_cuda_concat_channels(sr_backend *b, float *dst, const float *a, const float *bsrc,
                                  size_t n, size_t ca, size_t cb, size_t hw) {
  SR_NVTX_OP("concat_channels",
             sr_k_concat_channels(b->ctx, stream_of(b), dst, a, bsrc, n, ca, cb, hw));
}

void sr_cuda_nn_destroy(sr_backend *b) {
  sr_cublas_nn_destroy(b);
#ifdef SR_HAVE_CUDNN
  sr_cudnn_destroy(b);
#endif
}
