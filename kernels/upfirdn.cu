/* upfirdn2d (score_sde's FIR up/down sampling) and channel concatenation.
 * One thread per output sample, visiting only the taps that meet a real
 * input sample, exactly as the CPU twin src/backend/cpu/cpu_upfirdn.c does
 * (same taps in the same order, so results agree to FMA contraction). The
 * FIR descriptor travels by value as a kernel argument. */
#include <math.h>

#include "backend/backend.h"
#include "cuda_check.h"
#include "cuda_compat.cuh"
#include "kernels.h"
#include "launch_config.cuh"

namespace {

__device__ __forceinline__ int first_tap(int base, int up) {
  int m = base % up;
  if (m < 0) m += up;
  return m == 0 ? 0 : up - m;
}

__global__ void upfirdn2d_kernel(sr_fir_desc f, const float *x, size_t planes, int h, int w,
                                 int ho, int wo, const float *bias, size_t channels, float *y) {
  const size_t total = planes * (size_t)ho * wo;
  const int hu = h * f.up, wu = w * f.up;
  for (size_t k = blockIdx.x * (size_t)blockDim.x + threadIdx.x; k < total;
       k += (size_t)gridDim.x * blockDim.x) {
    const int ox = (int)(k % wo), oy = (int)((k / wo) % ho);
    const size_t pl = k / ((size_t)wo * ho);
    const float *xp = x + pl * h * w;
    const int rbase = oy * f.down - f.pad0, cbase = ox * f.down - f.pad0;
    float acc = 0.0f;
    for (int i = first_tap(rbase, f.up); i < f.kh; i += f.up) {
      const int ru = rbase + i;
      if (ru < 0) continue;
      if (ru >= hu) break;
      const float *xrow = xp + (size_t)(ru / f.up) * w;
      const float *krow = f.k + (f.kh - 1 - i) * f.kw;
      for (int j = first_tap(cbase, f.up); j < f.kw; j += f.up) {
        const int cu = cbase + j;
        if (cu < 0) continue;
        if (cu >= wu) break;
        acc += xrow[cu / f.up] * krow[f.kw - 1 - j];
      }
    }
    y[k] = acc + (bias ? bias[pl % channels] : 0.0f);
  }
}

__global__ void concat_kernel(float *dst, const float *a, const float *b, size_t n, size_t na,
                              size_t nb) {
  const size_t per = na + nb;
  for (size_t k = blockIdx.x * (size_t)blockDim.x + threadIdx.x; k < n * per;
       k += (size_t)gridDim.x * blockDim.x) {
    const size_t s = k / per, i = k % per;
    dst[k] = i < na ? a[s * na + i] : b[s * nb + (i - na)];
  }
}

} // namespace

extern "C" sr_status sr_k_upfirdn2d(sr_context *ctx, cudaStream_t s, const sr_fir_desc *f,
                                    const float *x, size_t planes, size_t h, size_t w,
                                    const float *bias, size_t channels, float *y) {
  if (f->up < 1 || f->down < 1 || f->kh < 1 || f->kw < 1 || f->kh > SR_FIR_MAX_TAPS ||
      f->kw > SR_FIR_MAX_TAPS)
    return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT, "upfirdn2d: up %d, down %d, a %dx%d kernel",
                   f->up, f->down, f->kh, f->kw);
  if (bias && channels == 0)
    return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT, "upfirdn2d: a bias over 0 channels");
  sr_fir_desc across = *f;
  across.kh = f->kw;
  const size_t ho = sr_fir_out_size(f, h), wo = sr_fir_out_size(&across, w);
  if (ho == 0 || wo == 0)
    return sr_fail(ctx, SR_ERR_SHAPE, "upfirdn2d: empty output from a %zux%zu plane", h, w);
  const size_t total = planes * ho * wo;
  if (total == 0) return SR_OK;
  SR_LAUNCH(upfirdn2d_kernel, sr::grid_for(total, sr::kElementwiseBlock), sr::kElementwiseBlock,
            0, s, *f, x, planes, (int)h, (int)w, (int)ho, (int)wo, bias, channels ? channels : 1,
            y);
  SR_CUDA_CHECK_LAUNCH(ctx, "upfirdn2d_kernel");
  return SR_OK;
}

extern "C" sr_status sr_k_concat_channels(sr_context *ctx, cudaStream_t s, float *dst,
                                          const float *a, const float *b, size_t n, size_t ca,
                                          size_t cb, size_t hw) {
  const size_t total = n * (ca + cb) * hw;
  if (total == 0) return SR_OK;
  SR_LAUNCH(concat_kernel, sr::grid_for(total, sr::kElementwiseBlock), sr::kElementwiseBlock, 0,
            s, dst, a, b, n, ca * hw, cb * hw);
  SR_CUDA_CHECK_LAUNCH(ctx, "concat_kernel");
  return SR_OK;
}
