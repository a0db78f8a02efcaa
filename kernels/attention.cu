/* Row softmax for NCSN++'s attention: S (rows, len) <- softmax(scale * S)
 * per row, one block per row (max, then the sum of exponentials, both
 * block reductions). The two matrix products around it go through cuBLAS
 * (src/backend/cuda/cuda_cublas_nn.c). CPU twin: src/backend/cpu/cpu_attention.c. */
#include <math.h>

#include "backend/backend.h"
#include "cuda_check.h"
#include "cuda_compat.cuh"
#include "kernels.h"

namespace {

constexpr int kBlock = 256;
constexpr int kWarps = kBlock / 32;

__device__ float block_max(float v, float *shared) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  for (int off = 16; off > 0; off >>= 1) v = fmaxf(v, __shfl_down_sync(0xffffffffu, v, off));
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  float m = shared[0];
  for (int i = 1; i < kWarps; ++i) m = fmaxf(m, shared[i]);
  __syncthreads();
  return m;
}

__device__ float block_sum(float v, float *shared) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  for (int off = 16; off > 0; off >>= 1) v += __shfl_down_sync(0xffffffffu, v, off);
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  float total = 0.0f;
  for (int i = 0; i < kWarps; ++i) total += shared[i];
  __syncthreads();
  return total;
}

__global__ void softmax_rows_kernel(float *s, size_t len, float scale) {
  __shared__ float partial[kWarps];
  float *row = s + (size_t)blockIdx.x * len;
  float m = -INFINITY;
  for (size_t j = threadIdx.x; j < len; j += kBlock) m = fmaxf(m, row[j]);
  const float ms = block_max(m, partial) * scale; /* scale > 0 */
  float sum = 0.0f;
  for (size_t j = threadIdx.x; j < len; j += kBlock) {
    const float e = expf(row[j] * scale - ms);
    row[j] = e;
    sum += e;
  }
  const float inv = 1.0f / block_sum(sum, partial);
  for (size_t j = threadIdx.x; j < len; j += kBlock) row[j] *= inv;
}

} // namespace

extern "C" sr_status sr_k_softmax_rows(sr_context *ctx, cudaStream_t s, float *x, size_t rows,
                                       size_t len, float scale) {
  if (rows == 0 || len == 0) return SR_OK;
  if (rows > 0x7fffffffu)
    return sr_fail(ctx, SR_ERR_UNSUPPORTED, "softmax over %zu rows is too many", rows);
  if (!(scale > 0.0f))
    return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT, "softmax: scale must be positive");
  SR_LAUNCH(softmax_rows_kernel, (unsigned)rows, kBlock, 0, s, x, len, scale);
  SR_CUDA_CHECK_LAUNCH(ctx, "softmax_rows_kernel");
  return SR_OK;
}
