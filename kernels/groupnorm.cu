/* GroupNorm (+ SiLU), SiLU and the small dense layers of NCSN++. GroupNorm:
 * one block per (sample, group): the mean, then the centred sum of squares
 * (two passes, as the CPU twin src/backend/cpu/cpu_groupnorm.c; partial
 * sums in float per thread, combined in double), then y = x * a + c with
 * a = gamma * rstd, c = beta - mean * a, then SiLU. The summation order
 * differs from the CPU's, so results agree to float rounding. */
#include <math.h>

#include "backend/backend.h"
#include "cuda_check.h"
#include "cuda_compat.cuh"
#include "kernels.h"
#include "launch_config.cuh"

namespace {

constexpr int kBlock = 256;
constexpr int kWarps = kBlock / 32;

__device__ __forceinline__ float silu(float v) { return v / (1.0f + expf(-v)); }

/* Sum over the block in double; every thread gets the result. */
__device__ double block_sum(double v, double *shared) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  for (int off = 16; off > 0; off >>= 1) v += __shfl_down_sync(0xffffffffu, v, off);
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  double total = 0.0;
  for (int i = 0; i < kWarps; ++i) total += shared[i];
  __syncthreads(); /* shared is reused by the next call */
  return total;
}

/* grid (groups, n) */
__global__ void group_norm_kernel(const float *x, size_t c, size_t hw, size_t groups,
                                  const float *gamma, const float *beta, float eps, int silu_on,
                                  float *y) {
  __shared__ double partial[kWarps];
  const size_t g = blockIdx.x, s = blockIdx.y, cg = c / groups, len = cg * hw;
  const size_t base = (s * c + g * cg) * hw;
  const float *xg = x + base;
  float acc = 0.0f;
  for (size_t i = threadIdx.x; i < len; i += kBlock) acc += xg[i];
  const double mean = block_sum((double)acc, partial) / (double)len;
  const float meanf = (float)mean;
  acc = 0.0f;
  for (size_t i = threadIdx.x; i < len; i += kBlock) {
    const float dl = xg[i] - meanf;
    acc += dl * dl;
  }
  const double var = block_sum((double)acc, partial) / (double)len;
  const double rstd = 1.0 / sqrt(var + (double)eps);
  float *yg = y + base;
  for (size_t i = threadIdx.x; i < len; i += kBlock) {
    const size_t ch = g * cg + i / hw;
    const float a = (float)(gamma[ch] * rstd);
    const float b = (float)(beta[ch] - mean * gamma[ch] * rstd);
    const float v = xg[i] * a + b;
    yg[i] = silu_on ? silu(v) : v;
  }
}

__global__ void silu_kernel(const float *x, size_t count, float *y) {
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < count;
       i += (size_t)gridDim.x * blockDim.x)
    y[i] = silu(x[i]);
}

/* y (n, out) = act(x) (n, in) . w^T + bias; one thread per output. */
__global__ void linear_kernel(const float *x, size_t n, size_t in, size_t out, const float *w,
                              const float *bias, int silu_in, float *y) {
  for (size_t k = blockIdx.x * (size_t)blockDim.x + threadIdx.x; k < n * out;
       k += (size_t)gridDim.x * blockDim.x) {
    const size_t s = k / out, o = k % out;
    const float *xs = x + s * in, *wo = w + o * in;
    float acc = 0.0f;
    for (size_t i = 0; i < in; ++i) acc += wo[i] * (silu_in ? silu(xs[i]) : xs[i]);
    y[k] = acc + (bias ? bias[o] : 0.0f);
  }
}

} // namespace

extern "C" sr_status sr_k_group_norm(sr_context *ctx, cudaStream_t s, const float *x, size_t n,
                                     size_t c, size_t hw, size_t groups, const float *gamma,
                                     const float *beta, float eps, int silu_on, float *y) {
  if (groups == 0 || c % groups)
    return sr_fail(ctx, SR_ERR_SHAPE, "group_norm: %zu channels in %zu groups", c, groups);
  if (n == 0 || hw == 0) return SR_OK;
  if (n > 65535 || groups > 0x7fffffffu)
    return sr_fail(ctx, SR_ERR_UNSUPPORTED, "group_norm: batch %zu too large (at most 65535)", n);
  dim3 grid((unsigned)groups, (unsigned)n);
  SR_LAUNCH(group_norm_kernel, grid, kBlock, 0, s, x, c, hw, groups, gamma, beta, eps, silu_on,
            y);
  SR_CUDA_CHECK_LAUNCH(ctx, "group_norm_kernel");
  return SR_OK;
}

extern "C" sr_status sr_k_silu(sr_context *ctx, cudaStream_t s, const float *x, size_t count,
                               float *y) {
  if (count == 0) return SR_OK;
  SR_LAUNCH(silu_kernel, sr::grid_for(count, sr::kElementwiseBlock), sr::kElementwiseBlock, 0, s,
            x, count, y);
  SR_CUDA_CHECK_LAUNCH(ctx, "silu_kernel");
  return SR_OK;
}

extern "C" sr_status sr_k_linear(sr_context *ctx, cudaStream_t s, const float *x, size_t n,
                                 size_t in, size_t out, const float *w, const float *bias,
                                 int silu_in, float *y) {
  if (n * out == 0) return SR_OK;
  SR_LAUNCH(linear_kernel, sr::grid_for(n * out, sr::kElementwiseBlock), sr::kElementwiseBlock,
            0, s, x, n, in, out, w, bias, silu_in, y);
  SR_CUDA_CHECK_LAUNCH(ctx, "linear_kernel");
  return SR_OK;
}
