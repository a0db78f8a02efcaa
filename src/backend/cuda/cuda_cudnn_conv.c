/* cuDNN convolutions for the score network, compiled only with cuDNN
 * (SR_HAVE_CUDNN). Per shape and precision (d->precision is part of the
 * descriptor), once: descriptors, an algorithm from
 * cudnnGetConvolutionForwardAlgorithm_v7 (first in its ranking that is not
 * Winograd or FFT, whose rounding differs more from the reference), and its
 * workspace size; the planner asks for the workspace through
 * conv2d_workspace, so the forward never allocates. Every cudnnStatus is
 * checked. The precisions (backend.h, src/core/precision.h):
 *   fp32  float tensors, CUDNN_FMA_MATH: strict fp32, no TF32;
 *   tf32  float tensors, CUDNN_TENSOR_OP_MATH, which lets Ampere and later
 *         run fp32 data on TF32 tensor cores (an algorithm whose mathType is
 *         tensor-op preferred; NVIDIA_TF32_OVERRIDE=0 in the environment
 *         turns TF32 off globally, and the result is then plain fp32);
 *   bf16, fp16  CUDNN_DATA_BFLOAT16 / CUDNN_DATA_HALF tensors with a
 *         CUDNN_DATA_FLOAT compute type (fp32 accumulation), tensor-op math:
 *         x and w are converted into workspace buffers (kernels/conv.cu,
 *         rounding as the CPU twin does), cuDNN writes a half-precision sum,
 *         the epilogue kernel adds bias and residual in float32. The weights
 *         are converted per call: one pass over them, next to the conv's
 *         H_out x W_out passes, and no cache that could go stale.
 * This file can only be proven on a GPU (tools/gpu-check.sh); the emulator
 * runs the plain kernel instead, which rounds the same way. */
#ifdef SR_HAVE_CUDNN
#include <cudnn.h>
#include <stdlib.h>
#include <string.h>

#include "backend/cuda/cuda_internal.h"
#include "backend/cuda/cuda_nn.h"

#define SR_CUDNN_CHECK(ctx, call)                                                                  \
  do {                                                                                             \
    cudnnStatus_t sr_cudnn_st_ = (call);                                                           \
    if (sr_cudnn_st_ != CUDNN_STATUS_SUCCESS)                                                      \
      return SR_FAIL_HERE((ctx), SR_ERR_DEVICE, "%s failed: %s", #call,                            \
                          cudnnGetErrorString(sr_cudnn_st_));                                      \
  } while (0)

#define SR_CUDNN_CACHE 512

typedef struct conv_plan {
  sr_conv2d_desc d;
  cudnnTensorDescriptor_t x, y;
  cudnnFilterDescriptor_t w;
  cudnnConvolutionDescriptor_t conv;
  cudnnConvolutionFwdAlgo_t algo;
  size_t ws;       /* cuDNN's workspace */
  size_t ws_total; /* + the half-precision x, w and y of bf16/fp16 */
  int ready;       /* planned completely (a failed plan stays cached, not ready) */
} conv_plan;

typedef struct sr_cudnn_state {
  cudnnHandle_t handle;
  conv_plan plans[SR_CUDNN_CACHE];
  int count;
} sr_cudnn_state;

static sr_status state_of(sr_backend *b, sr_cudnn_state **out) {
  sr_cuda_state *st = sr_cuda_state_of(b);
  if (!st->cudnn) {
    sr_cudnn_state *s = (sr_cudnn_state *)calloc(1, sizeof *s);
    if (!s) return sr_fail(b->ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate the cuDNN cache");
    st->cudnn = s;
    SR_CUDNN_CHECK(b->ctx, cudnnCreate(&s->handle));
    SR_CUDNN_CHECK(b->ctx, cudnnSetStream(s->handle, st->stream));
  }
  *out = (sr_cudnn_state *)st->cudnn;
  return SR_OK;
}

static int half_precision(const sr_conv2d_desc *d) {
  return d->precision == SR_PRECISION_BF16 || d->precision == SR_PRECISION_FP16;
}

static cudnnDataType_t data_type(const sr_conv2d_desc *d) {
  return d->precision == SR_PRECISION_BF16   ? CUDNN_DATA_BFLOAT16
         : d->precision == SR_PRECISION_FP16 ? CUDNN_DATA_HALF
                                             : CUDNN_DATA_FLOAT;
}

static size_t align256(size_t bytes) {
  return (bytes + 255) / 256 * 256;
}

static size_t count_x(const sr_conv2d_desc *d) {
  return (size_t)d->n * d->c_in * d->h * d->w;
}
static size_t count_w(const sr_conv2d_desc *d) {
  return (size_t)d->c_out * d->c_in * d->kh * d->kw;
}
static size_t count_y(const sr_conv2d_desc *d) {
  return (size_t)d->n * d->c_out * d->h_out * d->w_out;
}

static int forbidden(cudnnConvolutionFwdAlgo_t a) {
  return a == CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD ||
         a == CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED || a == CUDNN_CONVOLUTION_FWD_ALGO_FFT ||
         a == CUDNN_CONVOLUTION_FWD_ALGO_FFT_TILING;
}

/* cuDNN pads symmetrically; asymmetric padding (the plain stride-2
 * downsampling conv pads bottom/right only) falls back to the plain kernel. */
int sr_cudnn_conv_supported(const sr_conv2d_desc *d) {
  return d->pad_top == d->pad_bottom && d->pad_left == d->pad_right;
}

static sr_status plan_for(sr_backend *b, const sr_conv2d_desc *d, conv_plan **out) {
  sr_cudnn_state *s = NULL;
  SR_TRY(state_of(b, &s));
  for (int i = 0; i < s->count; ++i)
    if (memcmp(&s->plans[i].d, d, sizeof *d) == 0) {
      if (!s->plans[i].ready) /* e.g. no bf16 algorithm on this GPU: say so again */
        return sr_fail(b->ctx, SR_ERR_UNSUPPORTED,
                       "cuDNN could not plan this %dx%d %s convolution (see the first error)",
                       d->kh, d->kw, sr_precision_name((sr_precision)d->precision));
      *out = &s->plans[i];
      return SR_OK;
    }
  if (s->count == SR_CUDNN_CACHE)
    return SR_FAIL_HERE(b->ctx, SR_ERR_INTERNAL, "more than %d convolution shapes", SR_CUDNN_CACHE);
  conv_plan *p = &s->plans[s->count];
  memset(p, 0, sizeof *p);
  p->d = *d;
  sr_context *ctx = b->ctx;
  SR_CUDNN_CHECK(ctx, cudnnCreateTensorDescriptor(&p->x));
  SR_CUDNN_CHECK(ctx, cudnnCreateTensorDescriptor(&p->y));
  SR_CUDNN_CHECK(ctx, cudnnCreateFilterDescriptor(&p->w));
  SR_CUDNN_CHECK(ctx, cudnnCreateConvolutionDescriptor(&p->conv));
  ++s->count; /* from here destroy() releases the descriptors */
  const cudnnDataType_t dt = data_type(d);
  const cudnnMathType_t math =
      d->precision == SR_PRECISION_FP32 ? CUDNN_FMA_MATH : CUDNN_TENSOR_OP_MATH;
  SR_CUDNN_CHECK(
      ctx, cudnnSetTensor4dDescriptor(p->x, CUDNN_TENSOR_NCHW, dt, d->n, d->c_in, d->h, d->w));
  SR_CUDNN_CHECK(ctx, cudnnSetTensor4dDescriptor(p->y, CUDNN_TENSOR_NCHW, dt, d->n, d->c_out,
                                                 d->h_out, d->w_out));
  SR_CUDNN_CHECK(ctx, cudnnSetFilter4dDescriptor(p->w, dt, CUDNN_TENSOR_NCHW, d->c_out, d->c_in,
                                                 d->kh, d->kw));
  /* the compute type is float for every precision: fp32 accumulation */
  SR_CUDNN_CHECK(ctx, cudnnSetConvolution2dDescriptor(p->conv, d->pad_top, d->pad_left, d->stride,
                                                      d->stride, 1, 1, CUDNN_CROSS_CORRELATION,
                                                      CUDNN_DATA_FLOAT));
  SR_CUDNN_CHECK(ctx, cudnnSetConvolutionMathType(p->conv, math));
  int n_out = 0, h_out = 0, w_out = 0, c_out = 0;
  SR_CUDNN_CHECK(ctx, cudnnGetConvolution2dForwardOutputDim(p->conv, p->x, p->w, &n_out, &c_out,
                                                            &h_out, &w_out));
  if (h_out != d->h_out || w_out != d->w_out)
    return SR_FAIL_HERE(ctx, SR_ERR_INTERNAL, "cuDNN output %dx%d, expected %dx%d", h_out, w_out,
                        d->h_out, d->w_out);
  cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
  int found = 0;
  SR_CUDNN_CHECK(ctx, cudnnGetConvolutionForwardAlgorithm_v7(s->handle, p->x, p->w, p->conv, p->y,
                                                             CUDNN_CONVOLUTION_FWD_ALGO_COUNT,
                                                             &found, perf));
  /* fp32: only FMA kernels. tf32: a tensor-op kernel first in the ranking,
   * else the best FMA one (what a GPU without TF32 runs anyway). bf16/fp16:
   * the first allowed. */
  int chosen = -1;
  for (int pass = 0; pass < 2 && chosen < 0; ++pass)
    for (int i = 0; i < found && chosen < 0; ++i) {
      if (perf[i].status != CUDNN_STATUS_SUCCESS || forbidden(perf[i].algo)) continue;
      const int fma = perf[i].mathType == CUDNN_FMA_MATH;
      if (d->precision == SR_PRECISION_FP32   ? fma
          : d->precision == SR_PRECISION_TF32 ? (pass == 1 || !fma)
                                              : 1)
        chosen = i;
    }
  if (chosen < 0)
    return sr_fail(ctx, SR_ERR_UNSUPPORTED,
                   "cuDNN offers no %s algorithm (no Winograd/FFT) for a %dx%d conv of (%d, %d, "
                   "%d, %d)",
                   sr_precision_name((sr_precision)d->precision), d->kh, d->kw, d->n, d->c_in, d->h,
                   d->w);
  p->algo = perf[chosen].algo;
  /* run with the math type the ranking measured the algorithm with */
  SR_CUDNN_CHECK(ctx, cudnnSetConvolutionMathType(p->conv, perf[chosen].mathType));
  SR_CUDNN_CHECK(ctx, cudnnGetConvolutionForwardWorkspaceSize(s->handle, p->x, p->w, p->conv, p->y,
                                                              p->algo, &p->ws));
  p->ws_total = p->ws;
  if (half_precision(d))
    p->ws_total = align256(p->ws) + align256(2 * count_x(d)) + align256(2 * count_w(d)) +
                  align256(2 * count_y(d));
  p->ready = 1;
  *out = p;
  return SR_OK;
}

sr_status sr_cudnn_conv_workspace(sr_backend *b, const sr_conv2d_desc *d, size_t *bytes) {
  *bytes = 0;
  if (!sr_cudnn_conv_supported(d)) return SR_OK;
  conv_plan *p;
  SR_TRY(plan_for(b, d, &p));
  *bytes = p->ws_total;
  return SR_OK;
}

sr_status sr_cudnn_conv_accumulate(sr_backend *b, const sr_conv2d_desc *d, const float *x,
                                   const float *w, float alpha, float *y, void *workspace) {
  if (!sr_cudnn_conv_supported(d))
    return SR_FAIL_HERE(b->ctx, SR_ERR_INTERNAL, "cuDNN called for asymmetric padding");
  if (half_precision(d))
    return SR_FAIL_HERE(b->ctx, SR_ERR_INTERNAL, "cuDNN float accumulate called for %s",
                        sr_precision_name((sr_precision)d->precision));
  conv_plan *p;
  SR_TRY(plan_for(b, d, &p));
  if (p->ws && !workspace)
    return SR_FAIL_HERE(b->ctx, SR_ERR_INVALID_ARGUMENT,
                        "conv2d needs %zu bytes of workspace, none given", p->ws);
  sr_cudnn_state *s = (sr_cudnn_state *)sr_cuda_state_of(b)->cudnn;
  const float beta = 1.0f;
  SR_CUDNN_CHECK(b->ctx, cudnnConvolutionForward(s->handle, &alpha, p->x, x, p->w, w, p->conv,
                                                 p->algo, workspace, p->ws, &beta, p->y, y));
  return SR_OK;
}

sr_status sr_cudnn_conv_half(sr_backend *b, const sr_conv2d_desc *d, const float *x, const float *w,
                             const float *bias, const float *bias_nc, const float *residual,
                             float scale, float *y, void *workspace) {
  if (!sr_cudnn_conv_supported(d) || !half_precision(d))
    return SR_FAIL_HERE(b->ctx, SR_ERR_INTERNAL, "cuDNN half conv called for %s",
                        sr_precision_name((sr_precision)d->precision));
  conv_plan *p;
  SR_TRY(plan_for(b, d, &p));
  if (!workspace)
    return SR_FAIL_HERE(b->ctx, SR_ERR_INVALID_ARGUMENT,
                        "conv2d needs %zu bytes of workspace, none given", p->ws_total);
  sr_cuda_state *st = sr_cuda_state_of(b);
  sr_cudnn_state *s = (sr_cudnn_state *)st->cudnn;
  char *at = (char *)workspace;
  void *ws = p->ws ? at : NULL;
  at += align256(p->ws);
  void *xh = at;
  at += align256(2 * count_x(d));
  void *wh = at;
  at += align256(2 * count_w(d));
  void *yh = at;
  SR_TRY(sr_k_to_half(b->ctx, st->stream, x, count_x(d), d->precision, xh));
  SR_TRY(sr_k_to_half(b->ctx, st->stream, w, count_w(d), d->precision, wh));
  const float one = 1.0f, zero = 0.0f;
  SR_CUDNN_CHECK(b->ctx, cudnnConvolutionForward(s->handle, &one, p->x, xh, p->w, wh, p->conv,
                                                 p->algo, ws, p->ws, &zero, p->y, yh));
  return sr_k_conv_epilogue_half(b->ctx, st->stream, d, yh, bias, bias_nc, residual, scale, y);
}

void sr_cudnn_destroy(sr_backend *b) {
  sr_cuda_state *st = sr_cuda_state_of(b);
  if (!st || !st->cudnn) return;
  sr_cudnn_state *s = (sr_cudnn_state *)st->cudnn;
  for (int i = 0; i < s->count; ++i) {
    conv_plan *p = &s->plans[i];
    if (p->x) cudnnDestroyTensorDescriptor(p->x);
    if (p->y) cudnnDestroyTensorDescriptor(p->y);
    if (p->w) cudnnDestroyFilterDescriptor(p->w);
    if (p->conv) cudnnDestroyConvolutionDescriptor(p->conv);
  }
  if (s->handle) cudnnDestroy(s->handle);
  free(s);
  st->cudnn = NULL;
}
#endif
