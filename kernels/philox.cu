/* Philox normals on the GPU. Compiled with --fmad=false (nvcc) and
 * -ffp-contract=off (emulator) so src/core/philox.h rounds exactly as on the
 * CPU: the outputs are bit-identical to src/backend/cpu/cpu_rng.c. */
#include "cuda_check.h"
#include "cuda_compat.cuh"
#include "kernels.h"
#include "launch_config.cuh"
#include "core/philox.h"

namespace {

/* One thread per group of four elements; grid (groups, slices). */
__global__ void randn_kernel(float *x, size_t n, uint32_t seed, uint32_t first_slice,
                             uint32_t step, uint32_t purpose) {
  const size_t groups = (n + 3) / 4;
  const uint32_t slice = first_slice + blockIdx.y;
  float *xs = x + (size_t)blockIdx.y * n;
  for (size_t g = blockIdx.x * (size_t)blockDim.x + threadIdx.x; g < groups;
       g += (size_t)gridDim.x * blockDim.x) {
    sr_philox_u4 ctr = {{(uint32_t)g, purpose, step, (uint32_t)((uint64_t)g >> 32)}};
    float v[4];
    sr_philox_normal4(sr_philox4x32_10(ctr, seed, slice), v);
    const size_t base = g * 4;
    const size_t count = n - base < 4 ? n - base : 4;
    for (size_t k = 0; k < count; ++k) xs[base + k] = v[k];
  }
}

} // namespace

extern "C" sr_status sr_k_randn(sr_context *ctx, cudaStream_t s, float *x, size_t nslices,
                                size_t n, uint32_t seed, uint32_t first_slice, uint32_t step,
                                uint32_t purpose) {
  if (nslices == 0 || n == 0) return SR_OK;
  if (nslices > 65535)
    return sr_fail(ctx, SR_ERR_UNSUPPORTED, "randn over %zu slices (at most 65535)", nslices);
  dim3 grid(sr::grid_for((n + 3) / 4, sr::kElementwiseBlock), (unsigned)nslices);
  SR_LAUNCH(randn_kernel, grid, sr::kElementwiseBlock, 0, s, x, n, seed, first_slice, step,
            purpose);
  SR_CUDA_CHECK_LAUNCH(ctx, "randn_kernel");
  return SR_OK;
}
