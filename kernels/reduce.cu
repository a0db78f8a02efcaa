/* Per-slice reductions (sum, dot, sum of squares, max |x|, non-finite count)
 * in two passes: one block per (chunk, slice) of SR_REDUCE_CHUNK elements
 * writes a double partial, then one block per slice combines its partials.
 * The chunking matches the CPU backend; the order inside a chunk differs
 * (strided threads, then a tree), so results agree to double rounding, and
 * are bit-identical run to run on the GPU. CPU twin: src/backend/cpu/cpu_reduce.c. */
#include <math.h>

#include "cuda_check.h"
#include "cuda_compat.cuh"
#include "kernels.h"

namespace {

constexpr int kBlock = 256;
constexpr int kWarps = kBlock / 32;
constexpr size_t kChunk = 4096; /* == SR_REDUCE_CHUNK in src/backend/cpu/cpu_internal.h */

__device__ __forceinline__ double identity(sr_reduce_op op) { return 0.0; }

/* max that lets NaN win, so a broken tensor can't hide behind a max. */
__device__ __forceinline__ double nan_max(double a, double b) {
  if (a != a || b != b) return (double)NAN;
  return a > b ? a : b;
}

__device__ __forceinline__ double combine(sr_reduce_op op, double a, double b) {
  return op == SR_REDUCE_MAXABS ? nan_max(a, b) : a + b;
}

__device__ __forceinline__ double element(sr_reduce_op op, const float *x, const float *y,
                                          size_t i) {
  switch (op) {
  case SR_REDUCE_SUM: return (double)x[i];
  case SR_REDUCE_DOT: return (double)x[i] * (double)y[i];
  case SR_REDUCE_SUMSQ: return (double)x[i] * (double)x[i];
  case SR_REDUCE_MAXABS: return fabs((double)x[i]);
  case SR_REDUCE_NONFINITE: return isfinite(x[i]) ? 0.0 : 1.0;
  }
  return 0.0;
}

/* Reduces `acc` over the block; thread 0 gets the result. */
__device__ double block_reduce(sr_reduce_op op, double acc) {
  __shared__ double warp_partial[kWarps];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  for (int offset = 16; offset > 0; offset >>= 1)
    acc = combine(op, acc, __shfl_down_sync(0xffffffffu, acc, offset));
  if (lane == 0) warp_partial[warp] = acc;
  __syncthreads();
  if (warp == 0) {
    acc = lane < kWarps ? warp_partial[lane] : identity(op);
    for (int offset = 16; offset > 0; offset >>= 1)
      acc = combine(op, acc, __shfl_down_sync(0xffffffffu, acc, offset));
  }
  return acc;
}

/* grid (nchunks, nslices): partials[slice * nchunks + chunk]. */
__global__ void chunk_reduce_kernel(sr_reduce_op op, const float *x, const float *y, size_t n,
                                    double *partials) {
  const size_t slice = blockIdx.y, chunk = blockIdx.x;
  const float *xs = x + slice * n;
  const float *ys = y ? y + slice * n : nullptr;
  const size_t begin = chunk * kChunk;
  const size_t end = begin + kChunk < n ? begin + kChunk : n;
  double acc = identity(op);
  for (size_t i = begin + threadIdx.x; i < end; i += kBlock)
    acc = combine(op, acc, element(op, xs, ys, i));
  acc = block_reduce(op, acc);
  if (threadIdx.x == 0) partials[slice * gridDim.x + chunk] = acc;
}

/* grid (nslices): out[slice] combines that slice's nchunks partials. */
__global__ void finish_reduce_kernel(sr_reduce_op op, const double *partials, size_t nchunks,
                                     double *out) {
  const double *p = partials + blockIdx.x * nchunks;
  double acc = identity(op);
  for (size_t c = threadIdx.x; c < nchunks; c += kBlock) acc = combine(op, acc, p[c]);
  acc = block_reduce(op, acc);
  if (threadIdx.x == 0) out[blockIdx.x] = acc;
}

} // namespace

extern "C" size_t sr_k_reduce_scratch(size_t nslices, size_t n) {
  size_t nchunks = (n + kChunk - 1) / kChunk;
  return nslices * (nchunks ? nchunks : 1);
}

extern "C" sr_status sr_k_reduce(sr_context *ctx, cudaStream_t s, sr_reduce_op op,
                                 const float *x, const float *y, size_t nslices, size_t n,
                                 double *partials, double *out) {
  if (nslices == 0) return SR_OK;
  if (nslices > 65535)
    return sr_fail(ctx, SR_ERR_UNSUPPORTED, "reduction over %zu slices (at most 65535)", nslices);
  if ((op == SR_REDUCE_DOT) != (y != nullptr))
    return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT, "reduction: y is for dot products only");
  size_t nchunks = (n + kChunk - 1) / kChunk;
  if (nchunks == 0) nchunks = 1;
  if (nchunks > 0x7fffffffu)
    return sr_fail(ctx, SR_ERR_UNSUPPORTED, "reduction over %zu elements is too long", n);
  dim3 grid((unsigned)nchunks, (unsigned)nslices);
  SR_LAUNCH(chunk_reduce_kernel, grid, kBlock, 0, s, op, x, y, n, partials);
  SR_CUDA_CHECK_LAUNCH(ctx, "chunk_reduce_kernel");
  SR_LAUNCH(finish_reduce_kernel, (unsigned)nslices, kBlock, 0, s, op, partials, nchunks, out);
  SR_CUDA_CHECK_LAUNCH(ctx, "finish_reduce_kernel");
  return SR_OK;
}
