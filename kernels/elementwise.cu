/* Elementwise float32 ops: the SDE updates and housekeeping of the sampler.
 * Each kernel is a grid-stride loop; CPU twins in src/backend/cpu/cpu_elementwise.c. */
#include "cuda_check.h"
#include "cuda_compat.cuh"
#include "kernels.h"
#include "launch_config.cuh"

namespace {

__global__ void fill_kernel(float *x, size_t n, float value) {
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
       i += (size_t)gridDim.x * blockDim.x)
    x[i] = value;
}

__global__ void scale_kernel(float *x, size_t n, float alpha) {
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
       i += (size_t)gridDim.x * blockDim.x)
    x[i] *= alpha;
}

__global__ void axpby_kernel(float *y, const float *x, size_t n, float alpha, float beta) {
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
       i += (size_t)gridDim.x * blockDim.x)
    y[i] = alpha * x[i] + beta * y[i];
}

__global__ void axpbypgz_kernel(float *z, const float *x, const float *y, size_t n, float alpha,
                                float beta, float gamma) {
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
       i += (size_t)gridDim.x * blockDim.x)
    z[i] = alpha * x[i] + beta * y[i] + gamma * z[i];
}

__global__ void mul_kernel(float *z, const float *x, const float *y, size_t n) {
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
       i += (size_t)gridDim.x * blockDim.x)
    z[i] = x[i] * y[i];
}

__global__ void clamp_kernel(float *x, size_t n, float lo, float hi) {
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
       i += (size_t)gridDim.x * blockDim.x) {
    float v = x[i];
    v = v < lo ? lo : v;
    x[i] = v > hi ? hi : v;
  }
}

/* alpha_beta holds alpha[0..nslices) then beta[0..nslices). */
__global__ void axpby_batched_kernel(float *y, const float *x, size_t nslices, size_t n,
                                     const float *alpha_beta) {
  size_t total = nslices * n;
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total;
       i += (size_t)gridDim.x * blockDim.x) {
    size_t s = i / n;
    y[i] = alpha_beta[s] * x[i] + alpha_beta[nslices + s] * y[i];
  }
}

} // namespace

#define SR_ELEMENTWISE_LAUNCH(ctx, stream, n, kernel, ...)                                     \
  do {                                                                                         \
    if ((n) == 0) return SR_OK;                                                                \
    SR_LAUNCH(kernel, sr::grid_for((n), sr::kElementwiseBlock), sr::kElementwiseBlock, 0,      \
              (stream), __VA_ARGS__);                                                          \
    SR_CUDA_CHECK_LAUNCH((ctx), #kernel);                                                      \
    return SR_OK;                                                                              \
  } while (0)

extern "C" sr_status sr_k_fill(sr_context *ctx, cudaStream_t s, float *x, size_t n,
                               float value) {
  SR_ELEMENTWISE_LAUNCH(ctx, s, n, fill_kernel, x, n, value);
}

extern "C" sr_status sr_k_scale(sr_context *ctx, cudaStream_t s, float *x, size_t n,
                                float alpha) {
  SR_ELEMENTWISE_LAUNCH(ctx, s, n, scale_kernel, x, n, alpha);
}

extern "C" sr_status sr_k_axpby(sr_context *ctx, cudaStream_t s, float *y, const float *x,
                                size_t n, float alpha, float beta) {
  SR_ELEMENTWISE_LAUNCH(ctx, s, n, axpby_kernel, y, x, n, alpha, beta);
}

extern "C" sr_status sr_k_axpbypgz(sr_context *ctx, cudaStream_t s, float *z, const float *x,
                                   const float *y, size_t n, float alpha, float beta,
                                   float gamma) {
  SR_ELEMENTWISE_LAUNCH(ctx, s, n, axpbypgz_kernel, z, x, y, n, alpha, beta, gamma);
}

extern "C" sr_status sr_k_mul(sr_context *ctx, cudaStream_t s, float *z, const float *x,
                              const float *y, size_t n) {
  SR_ELEMENTWISE_LAUNCH(ctx, s, n, mul_kernel, z, x, y, n);
}

extern "C" sr_status sr_k_clamp(sr_context *ctx, cudaStream_t s, float *x, size_t n, float lo,
                                float hi) {
  SR_ELEMENTWISE_LAUNCH(ctx, s, n, clamp_kernel, x, n, lo, hi);
}

extern "C" sr_status sr_k_axpby_batched(sr_context *ctx, cudaStream_t s, float *y,
                                        const float *x, size_t nslices, size_t n,
                                        const float *alpha_beta) {
  SR_ELEMENTWISE_LAUNCH(ctx, s, nslices * n, axpby_batched_kernel, y, x, nslices, n, alpha_beta);
}
