/* The plain convolution kernel: direct cross-correlation, correct for every
 * shape (any kernel size, stride, asymmetric padding), with the same fused
 * epilogue as the CPU twin (src/backend/cpu/cpu_conv.c):
 *   y = scale * (conv + bias[co] + bias_nc[n, co] + residual)
 * It is what the emulator runs and what a GPU build without cuDNN runs;
 * with cuDNN the backend uses src/backend/cuda/cuda_cudnn_conv.c and only
 * the epilogue kernel below (and, for bf16/fp16, the conversion kernels
 * around cuDNN's half-precision convolution). Reduced precision (d.precision,
 * backend.h) rounds each operand as it is loaded and, for bf16/fp16, the sum
 * before the epilogue, with the functions of src/core/precision.h that the
 * CPU twin uses. One thread computes kCoPerThread output
 * channels of one pixel, so each input sample read serves several FMAs. */
#include <math.h>

#include "backend/backend.h"
#include "cuda_check.h"
#include "cuda_compat.cuh"
#include "kernels.h"
// after cuda_compat.cuh: in emulation its emu_device.h defines __host__ __device__ and
// includes the half-precision headers in host mode
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "core/precision.h"
#include "launch_config.cuh"

namespace {

constexpr int kCoPerThread = 4;

struct ConvArgs {
  sr_conv2d_desc d;
  const float *x, *w, *bias, *bias_nc, *residual;
  float scale;
  float *y;
};

__global__ void conv2d_kernel(ConvArgs a) {
  const sr_conv2d_desc &d = a.d;
  const int groups = (d.c_out + kCoPerThread - 1) / kCoPerThread;
  const size_t hw_out = (size_t)d.h_out * d.w_out;
  const size_t total = (size_t)d.n * groups * hw_out;
  const int ksz = d.kh * d.kw;
  for (size_t idx = blockIdx.x * (size_t)blockDim.x + threadIdx.x; idx < total;
       idx += (size_t)gridDim.x * blockDim.x) {
    const size_t p = idx % hw_out;
    const int g = (int)((idx / hw_out) % groups);
    const int n = (int)(idx / (hw_out * groups));
    const int oy = (int)(p / d.w_out), ox = (int)(p % d.w_out);
    const int co0 = g * kCoPerThread;
    float acc[kCoPerThread];
    for (int q = 0; q < kCoPerThread; ++q) acc[q] = 0.0f;
    const float *xn = a.x + (size_t)n * d.c_in * d.h * d.w;
    for (int ci = 0; ci < d.c_in; ++ci) {
      const float *plane = xn + (size_t)ci * d.h * d.w;
      for (int i = 0; i < d.kh; ++i) {
        const int iy = oy * d.stride + i - d.pad_top;
        if (iy < 0 || iy >= d.h) continue;
        for (int j = 0; j < d.kw; ++j) {
          const int ix = ox * d.stride + j - d.pad_left;
          if (ix < 0 || ix >= d.w) continue;
          const float v = sr_round_operand(plane[(size_t)iy * d.w + ix], d.precision);
          const size_t wk = (size_t)ci * ksz + (size_t)i * d.kw + j;
          for (int q = 0; q < kCoPerThread; ++q)
            if (co0 + q < d.c_out)
              acc[q] +=
                  v * sr_round_operand(a.w[(size_t)(co0 + q) * d.c_in * ksz + wk], d.precision);
        }
      }
    }
    for (int q = 0; q < kCoPerThread; ++q) {
      const int co = co0 + q;
      if (co >= d.c_out) break;
      float add = 0.0f;
      if (a.bias) add += a.bias[co];
      if (a.bias_nc) add += a.bias_nc[(size_t)n * d.c_out + co];
      const size_t o = ((size_t)n * d.c_out + co) * hw_out + p;
      if (a.residual) add += a.residual[o];
      a.y[o] = a.scale * (sr_round_output(acc[q], d.precision) + add);
    }
  }
}

/* y = scale * (bias + bias_nc + residual): the prefill before cuDNN
 * accumulates scale * conv onto it (beta = 1). */
__global__ void conv_epilogue_kernel(sr_conv2d_desc d, const float *bias, const float *bias_nc,
                                     const float *residual, float scale, float *y) {
  const size_t hw_out = (size_t)d.h_out * d.w_out;
  const size_t total = (size_t)d.n * d.c_out * hw_out;
  for (size_t o = blockIdx.x * (size_t)blockDim.x + threadIdx.x; o < total;
       o += (size_t)gridDim.x * blockDim.x) {
    const size_t nc = o / hw_out;
    const int co = (int)(nc % d.c_out);
    float add = 0.0f;
    if (bias) add += bias[co];
    if (bias_nc) add += bias_nc[nc];
    if (residual) add += residual[o];
    y[o] = scale * add;
  }
}

/* Operands for cuDNN's bf16/fp16 convolution: rounded by the shared
 * function first, so the conversion itself is exact and the values are the
 * CPU twin's bit for bit. */
__global__ void to_half_kernel(const float *x, size_t count, int precision, void *out) {
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < count;
       i += (size_t)gridDim.x * blockDim.x) {
    const float v = sr_round_operand(x[i], precision);
    if (precision == SR_PRECISION_BF16)
      static_cast<__nv_bfloat16 *>(out)[i] = __float2bfloat16_rn(v);
    else
      static_cast<__half *>(out)[i] = __float2half_rn(v);
  }
}

/* cuDNN's half-precision sums (already rounded to the format) through the
 * float32 epilogue, in the order of the CPU twin's. */
__global__ void conv_epilogue_half_kernel(sr_conv2d_desc d, const void *conv, const float *bias,
                                          const float *bias_nc, const float *residual, float scale,
                                          float *y) {
  const size_t hw_out = (size_t)d.h_out * d.w_out;
  const size_t total = (size_t)d.n * d.c_out * hw_out;
  for (size_t o = blockIdx.x * (size_t)blockDim.x + threadIdx.x; o < total;
       o += (size_t)gridDim.x * blockDim.x) {
    const size_t nc = o / hw_out;
    const int co = (int)(nc % d.c_out);
    float add = 0.0f;
    if (bias) add += bias[co];
    if (bias_nc) add += bias_nc[nc];
    float v = d.precision == SR_PRECISION_BF16
                  ? __bfloat162float(static_cast<const __nv_bfloat16 *>(conv)[o])
                  : __half2float(static_cast<const __half *>(conv)[o]);
    v = v + add;
    if (residual) v = v + residual[o];
    y[o] = v * scale;
  }
}

} // namespace

extern "C" sr_status sr_k_conv2d(sr_context *ctx, cudaStream_t s, const sr_conv2d_desc *d,
                                 const float *x, const float *w, const float *bias,
                                 const float *bias_nc, const float *residual, float scale,
                                 float *y) {
  if (d->h_out <= 0 || d->w_out <= 0)
    return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT, "conv2d: descriptor not initialised");
  const size_t groups = (size_t)(d->c_out + kCoPerThread - 1) / kCoPerThread;
  const size_t total = (size_t)d->n * groups * d->h_out * d->w_out;
  ConvArgs a = {*d, x, w, bias, bias_nc, residual, scale, y};
  SR_LAUNCH(conv2d_kernel, sr::grid_for(total, sr::kElementwiseBlock), sr::kElementwiseBlock, 0, s,
            a);
  SR_CUDA_CHECK_LAUNCH(ctx, "conv2d_kernel");
  return SR_OK;
}

extern "C" sr_status sr_k_conv_epilogue(sr_context *ctx, cudaStream_t s, const sr_conv2d_desc *d,
                                        const float *bias, const float *bias_nc,
                                        const float *residual, float scale, float *y) {
  const size_t total = (size_t)d->n * d->c_out * d->h_out * d->w_out;
  SR_LAUNCH(conv_epilogue_kernel, sr::grid_for(total, sr::kElementwiseBlock), sr::kElementwiseBlock,
            0, s, *d, bias, bias_nc, residual, scale, y);
  SR_CUDA_CHECK_LAUNCH(ctx, "conv_epilogue_kernel");
  return SR_OK;
}

extern "C" sr_status sr_k_to_half(sr_context *ctx, cudaStream_t s, const float *x, size_t count,
                                  int precision, void *out) {
  if (precision != SR_PRECISION_BF16 && precision != SR_PRECISION_FP16)
    return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT, "to_half: precision %d is not bf16 or fp16",
                   precision);
  if (count == 0) return SR_OK;
  SR_LAUNCH(to_half_kernel, sr::grid_for(count, sr::kElementwiseBlock), sr::kElementwiseBlock, 0, s,
            x, count, precision, out);
  SR_CUDA_CHECK_LAUNCH(ctx, "to_half_kernel");
  return SR_OK;
}

extern "C" sr_status sr_k_conv_epilogue_half(sr_context *ctx, cudaStream_t s,
                                             const sr_conv2d_desc *d, const void *conv,
                                             const float *bias, const float *bias_nc,
                                             const float *residual, float scale, float *y) {
  if (d->precision != SR_PRECISION_BF16 && d->precision != SR_PRECISION_FP16)
    return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT,
                   "conv_epilogue_half: precision %d is not bf16 or fp16", d->precision);
  const size_t total = (size_t)d->n * d->c_out * d->h_out * d->w_out;
  SR_LAUNCH(conv_epilogue_half_kernel, sr::grid_for(total, sr::kElementwiseBlock),
            sr::kElementwiseBlock, 0, s, *d, conv, bias, bias_nc, residual, scale, y);
  SR_CUDA_CHECK_LAUNCH(ctx, "conv_epilogue_half_kernel");
  return SR_OK;
}
