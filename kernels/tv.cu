/* Total-variation kernels for the Chambolle-Pock baseline: forward-difference
 * gradient, its negative adjoint (divergence), and the per-pixel projection
 * of the dual field onto discs. One thread per pixel, grid-stride; CPU twins
 * in src/backend/cpu/cpu_tv.c (same formulas, same order of terms). */
#include "cuda_check.h"
#include "cuda_compat.cuh"
#include "kernels.h"
#include "launch_config.cuh"

namespace {

/* g (nslices, 2, h, w) from x (nslices, h, w). */
__global__ void grad2_kernel(float *g, const float *x, size_t total, size_t h, size_t w) {
  for (size_t k = blockIdx.x * (size_t)blockDim.x + threadIdx.x; k < total;
       k += (size_t)gridDim.x * blockDim.x) {
    size_t hw = h * w, s = k / hw, p = k % hw, i = p / w, j = p % w;
    const float *xs = x + s * hw;
    float *gs = g + 2 * s * hw;
    gs[p] = i + 1 < h ? xs[p + w] - xs[p] : 0.0f;
    gs[hw + p] = j + 1 < w ? xs[p + 1] - xs[p] : 0.0f;
  }
}

__global__ void div2_kernel(float *x, const float *g, size_t total, size_t h, size_t w) {
  for (size_t k = blockIdx.x * (size_t)blockDim.x + threadIdx.x; k < total;
       k += (size_t)gridDim.x * blockDim.x) {
    size_t hw = h * w, s = k / hw, p = k % hw, i = p / w, j = p % w;
    const float *g0 = g + 2 * s * hw, *g1 = g0 + hw;
    float d = 0.0f;
    if (i + 1 < h) d += g0[p];
    if (i > 0) d -= g0[p - w];
    if (j + 1 < w) d += g1[p];
    if (j > 0) d -= g1[p - 1];
    x[k] = d;
  }
}

__global__ void proj_l2ball2_kernel(float *p, size_t total, size_t hw, float radius) {
  for (size_t k = blockIdx.x * (size_t)blockDim.x + threadIdx.x; k < total;
       k += (size_t)gridDim.x * blockDim.x) {
    size_t s = k / hw, q = k % hw;
    float *p0 = p + 2 * s * hw + q, *p1 = p0 + hw;
    float a = *p0, b = *p1;
    float n = sqrtf(a * a + b * b);
    if (n > radius) {
      float f = radius / n;
      *p0 = a * f;
      *p1 = b * f;
    }
  }
}

} // namespace

#define SR_TV_LAUNCH(ctx, stream, n, kernel, ...)                                                  \
  do {                                                                                             \
    if ((n) == 0) return SR_OK;                                                                    \
    SR_LAUNCH(kernel, sr::grid_for((n), sr::kElementwiseBlock), sr::kElementwiseBlock, 0,          \
              (stream), __VA_ARGS__);                                                              \
    SR_CUDA_CHECK_LAUNCH((ctx), #kernel);                                                          \
    return SR_OK;                                                                                  \
  } while (0)

extern "C" sr_status sr_k_grad2(sr_context *ctx, cudaStream_t s, float *g, const float *x,
                                size_t nslices, size_t h, size_t w) {
  size_t total = nslices * h * w;
  SR_TV_LAUNCH(ctx, s, total, grad2_kernel, g, x, total, h, w);
}

extern "C" sr_status sr_k_div2(sr_context *ctx, cudaStream_t s, float *x, const float *g,
                               size_t nslices, size_t h, size_t w) {
  size_t total = nslices * h * w;
  SR_TV_LAUNCH(ctx, s, total, div2_kernel, x, g, total, h, w);
}

extern "C" sr_status sr_k_proj_l2ball2(sr_context *ctx, cudaStream_t s, float *p, size_t nslices,
                                       size_t hw, float radius) {
  size_t total = nslices * hw;
  SR_TV_LAUNCH(ctx, s, total, proj_l2ball2_kernel, p, total, hw, radius);
}
