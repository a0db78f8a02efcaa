/* FBP's ramp filter on the GPU, around cuFFT (src/backend/cuda/cuda_ramp_filter.c
 * runs the transforms): rows of n_det bins are zero-padded to P points,
 * transformed (R2C), multiplied by the real filter response H[f] / P, and
 * after the inverse (C2R) cropped back. These are the three elementwise steps.
 * CPU twin: src/backend/cpu/cpu_ramp_filter.c. */
#include "cuda_check.h"
#include "cuda_compat.cuh"
#include "kernels.h"
#include "launch_config.cuh"

namespace {

/* padded (rows, P) = in (rows, n_det) followed by zeros. */
__global__ void ramp_pad_kernel(const float *in, float *padded, size_t rows, int n_det, int P) {
  const size_t total = rows * (size_t)P;
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total;
       i += (size_t)gridDim.x * blockDim.x) {
    const size_t row = i / (size_t)P;
    const int j = (int)(i - row * (size_t)P);
    padded[i] = j < n_det ? in[row * (size_t)n_det + j] : 0.0f;
  }
}

/* spectrum (rows, nf) complex *= filter[f], nf = P / 2 + 1. */
__global__ void ramp_apply_kernel(float *spectrum, const float *filter, size_t rows, int nf) {
  const size_t total = rows * (size_t)nf;
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total;
       i += (size_t)gridDim.x * blockDim.x) {
    const float hf = filter[i % (size_t)nf];
    spectrum[2 * i] *= hf;
    spectrum[2 * i + 1] *= hf;
  }
}

/* out (rows, n_det) = the first n_det values of each padded row. */
__global__ void ramp_crop_kernel(const float *padded, float *out, size_t rows, int n_det, int P) {
  const size_t total = rows * (size_t)n_det;
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total;
       i += (size_t)gridDim.x * blockDim.x) {
    const size_t row = i / (size_t)n_det;
    out[i] = padded[row * (size_t)P + (i - row * (size_t)n_det)];
  }
}

} // namespace

extern "C" sr_status sr_k_ramp_pad(sr_context *ctx, cudaStream_t s, const float *in, float *padded,
                                   size_t rows, int n_det, int padded_len) {
  if (rows == 0) return SR_OK;
  SR_LAUNCH(ramp_pad_kernel, sr::grid_for(rows * (size_t)padded_len, sr::kElementwiseBlock),
            sr::kElementwiseBlock, 0, s, in, padded, rows, n_det, padded_len);
  SR_CUDA_CHECK_LAUNCH(ctx, "ramp_pad_kernel");
  return SR_OK;
}

extern "C" sr_status sr_k_ramp_apply(sr_context *ctx, cudaStream_t s, float *spectrum,
                                     const float *filter, size_t rows, int nf) {
  if (rows == 0) return SR_OK;
  SR_LAUNCH(ramp_apply_kernel, sr::grid_for(rows * (size_t)nf, sr::kElementwiseBlock),
            sr::kElementwiseBlock, 0, s, spectrum, filter, rows, nf);
  SR_CUDA_CHECK_LAUNCH(ctx, "ramp_apply_kernel");
  return SR_OK;
}

extern "C" sr_status sr_k_ramp_crop(sr_context *ctx, cudaStream_t s, const float *padded,
                                    float *out, size_t rows, int n_det, int padded_len) {
  if (rows == 0) return SR_OK;
  SR_LAUNCH(ramp_crop_kernel, sr::grid_for(rows * (size_t)n_det, sr::kElementwiseBlock),
            sr::kElementwiseBlock, 0, s, padded, out, rows, n_det, padded_len);
  SR_CUDA_CHECK_LAUNCH(ctx, "ramp_crop_kernel");
  return SR_OK;
}
