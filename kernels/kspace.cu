/* k-space kernels: centring sign patterns and shifts around cuFFT, zero-pad
 * embedding and cropping, masks and the consistency blend, magnitude,
 * gather / scatter between radial lines and the grid, and the
 * real-by-complex matmul. Complex values are interleaved float pairs, read
 * and written as float2. Grid-stride loops; CPU twins in
 * src/backend/cpu/cpu_kspace.c and cpu_fft.c. */
#include "cuda_check.h"
#include "cuda_compat.cuh"
#include "kernels.h"
#include "launch_config.cuh"

namespace {

#define SR_GRID_STRIDE(i, n)                                                                       \
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < (n);                          \
       i += (size_t)gridDim.x * blockDim.x)

/* out[s][i][j] = scale * (-1)^(i+j) * in[s][i][j]: the centring of an even
 * sized DFT (see cpu_fft.c). */
__global__ void csign_scale_kernel(float2 *out, const float2 *in, size_t total, size_t h, size_t w,
                                   float scale) {
  SR_GRID_STRIDE(k, total) {
    size_t p = k % (h * w);
    size_t i = p / w, j = p % w;
    float f = ((i + j) & 1) ? -scale : scale;
    float2 v = in[k];
    out[k] = make_float2(f * v.x, f * v.y);
  }
}

/* The value at (i, j) moves to ((i + sh) mod h, (j + sw) mod w); one thread
 * per output value (gathering from the inverse position). */
__global__ void shift2_kernel(float2 *out, const float2 *in, size_t total, size_t h, size_t w,
                              size_t sh, size_t sw, float scale) {
  SR_GRID_STRIDE(k, total) {
    size_t plane = h * w, s = k / plane, p = k % plane;
    size_t oi = p / w, oj = p % w;
    size_t i = (oi + h - sh) % h, j = (oj + w - sw) % w;
    float2 v = in[s * plane + i * w + j];
    out[k] = make_float2(scale * v.x, scale * v.y);
  }
}

/* One thread per output value of the (H, W) planes: the source pixel is
 * ((I - oy) mod H, (J - ox) mod W) when that lies inside the (h, w) image. */
__global__ void embed_real_kernel(float2 *out, const float *in, size_t total, size_t h, size_t w,
                                  size_t H, size_t W, size_t oy, size_t ox) {
  SR_GRID_STRIDE(k, total) {
    size_t plane = H * W, s = k / plane, p = k % plane;
    size_t I = p / W, J = p % W;
    size_t i = (I + H - oy % H) % H, j = (J + W - ox % W) % W;
    float v = (i < h && j < w) ? in[s * h * w + i * w + j] : 0.0f;
    out[k] = make_float2(v, 0.0f);
  }
}

__global__ void extract_real_kernel(float *out, const float2 *in, size_t total, size_t h, size_t w,
                                    size_t H, size_t W, size_t oy, size_t ox, float scale) {
  SR_GRID_STRIDE(k, total) {
    size_t s = k / (h * w), p = k % (h * w);
    size_t i = p / w, j = p % w;
    out[k] = scale * in[s * H * W + ((oy + i) % H) * W + (ox + j) % W].x;
  }
}

__global__ void cmask_kernel(float2 *out, const float2 *in, const float *mask, size_t total,
                             size_t n) {
  SR_GRID_STRIDE(k, total) {
    float m = mask[k % n];
    float2 v = in[k];
    out[k] = make_float2(m * v.x, m * v.y);
  }
}

__global__ void cblend_kernel(float2 *t, const float2 *known, const float *mask, size_t total,
                              size_t n, float lambda) {
  SR_GRID_STRIDE(k, total) {
    float a = lambda * mask[k % n];
    float2 v = t[k], y = known[k];
    t[k] = make_float2(v.x + a * (y.x - v.x), v.y + a * (y.y - v.y));
  }
}

__global__ void cabs_kernel(float *out, const float2 *in, size_t n) {
  SR_GRID_STRIDE(k, n) {
    /* In double, as the CPU: no overflow of re^2 + im^2 and the same rounding. */
    double re = in[k].x, im = in[k].y;
    out[k] = (float)sqrt(re * re + im * im);
  }
}

__global__ void cgather_kernel(float2 *out, const float2 *in, const int32_t *src, size_t total,
                               size_t n_out, size_t n_in) {
  SR_GRID_STRIDE(k, total) {
    size_t s = k / n_out, p = k % n_out;
    out[k] = in[s * n_in + (size_t)src[p]];
  }
}

__global__ void cscatter_kernel(float2 *out, const float2 *in, const int32_t *dst,
                                const int32_t *src, const float *w, size_t taps, size_t total,
                                size_t npts, size_t n_out, size_t n_in) {
  SR_GRID_STRIDE(k, total) {
    size_t s = k / npts, p = k % npts;
    const float2 *plane = in + s * n_in;
    float re = 0.0f, im = 0.0f;
    for (size_t t = 0; t < taps; ++t) {
      size_t q = p * taps + t;
      float wt = w ? w[q] : 1.0f;
      float2 v = plane[src[q]];
      re += wt * v.x;
      im += wt * v.y;
    }
    out[s * n_out + (size_t)dst[p]] = make_float2(re, im);
  }
}

/* One thread per output (r, j): consecutive threads read consecutive m
 * values of row k, and all of them the same in[r][k]. */
__global__ void rmatmul_c_kernel(float2 *out, const float *in, const float2 *m, size_t total,
                                 size_t n_in, size_t n_out) {
  SR_GRID_STRIDE(q, total) {
    size_t r = q / n_out, j = q % n_out;
    const float *x = in + r * n_in;
    float re = 0.0f, im = 0.0f;
    for (size_t k = 0; k < n_in; ++k) {
      float a = x[k];
      float2 v = m[k * n_out + j];
      re += a * v.x;
      im += a * v.y;
    }
    out[q] = make_float2(re, im);
  }
}

} // namespace

#define SR_KSPACE_LAUNCH(ctx, stream, n, kernel, ...)                                              \
  do {                                                                                             \
    if ((n) == 0) return SR_OK;                                                                    \
    SR_LAUNCH(kernel, sr::grid_for((n), sr::kElementwiseBlock), sr::kElementwiseBlock, 0,          \
              (stream), __VA_ARGS__);                                                              \
    SR_CUDA_CHECK_LAUNCH((ctx), #kernel);                                                          \
    return SR_OK;                                                                                  \
  } while (0)

extern "C" sr_status sr_k_csign_scale(sr_context *ctx, cudaStream_t s, float *out, const float *in,
                                      size_t nslices, size_t h, size_t w, float scale) {
  size_t total = nslices * h * w;
  SR_KSPACE_LAUNCH(ctx, s, total, csign_scale_kernel, (float2 *)out, (const float2 *)in, total, h,
                   w, scale);
}

extern "C" sr_status sr_k_fftshift2(sr_context *ctx, cudaStream_t s, float *out, const float *in,
                                    size_t nslices, size_t h, size_t w, int inverse, float scale) {
  size_t total = nslices * h * w;
  size_t sh = inverse ? (h + 1) / 2 : h / 2, sw = inverse ? (w + 1) / 2 : w / 2;
  SR_KSPACE_LAUNCH(ctx, s, total, shift2_kernel, (float2 *)out, (const float2 *)in, total, h, w, sh,
                   sw, scale);
}

extern "C" sr_status sr_k_embed_real(sr_context *ctx, cudaStream_t s, float *out, const float *in,
                                     size_t nslices, size_t h, size_t w, size_t H, size_t W,
                                     size_t oy, size_t ox) {
  size_t total = nslices * H * W;
  SR_KSPACE_LAUNCH(ctx, s, total, embed_real_kernel, (float2 *)out, in, total, h, w, H, W, oy, ox);
}

extern "C" sr_status sr_k_extract_real(sr_context *ctx, cudaStream_t s, float *out, const float *in,
                                       size_t nslices, size_t h, size_t w, size_t H, size_t W,
                                       size_t oy, size_t ox, float scale) {
  size_t total = nslices * h * w;
  SR_KSPACE_LAUNCH(ctx, s, total, extract_real_kernel, out, (const float2 *)in, total, h, w, H, W,
                   oy, ox, scale);
}

extern "C" sr_status sr_k_cmask(sr_context *ctx, cudaStream_t s, float *out, const float *in,
                                const float *mask, size_t nslices, size_t n) {
  size_t total = nslices * n;
  SR_KSPACE_LAUNCH(ctx, s, total, cmask_kernel, (float2 *)out, (const float2 *)in, mask, total, n);
}

extern "C" sr_status sr_k_cblend(sr_context *ctx, cudaStream_t s, float *t, const float *known,
                                 const float *mask, size_t nslices, size_t n, float lambda) {
  size_t total = nslices * n;
  SR_KSPACE_LAUNCH(ctx, s, total, cblend_kernel, (float2 *)t, (const float2 *)known, mask, total, n,
                   lambda);
}

extern "C" sr_status sr_k_cabs(sr_context *ctx, cudaStream_t s, float *out, const float *in,
                               size_t n) {
  SR_KSPACE_LAUNCH(ctx, s, n, cabs_kernel, out, (const float2 *)in, n);
}

extern "C" sr_status sr_k_cgather(sr_context *ctx, cudaStream_t s, float *out, const float *in,
                                  const int32_t *src, size_t nslices, size_t n_out, size_t n_in) {
  size_t total = nslices * n_out;
  SR_KSPACE_LAUNCH(ctx, s, total, cgather_kernel, (float2 *)out, (const float2 *)in, src, total,
                   n_out, n_in);
}

extern "C" sr_status sr_k_cscatter(sr_context *ctx, cudaStream_t s, float *out, const float *in,
                                   const int32_t *dst, const int32_t *src, const float *w,
                                   size_t taps, size_t npts, size_t nslices, size_t n_out,
                                   size_t n_in) {
  size_t total = nslices * npts;
  SR_KSPACE_LAUNCH(ctx, s, total, cscatter_kernel, (float2 *)out, (const float2 *)in, dst, src, w,
                   taps, total, npts, n_out, n_in);
}

extern "C" sr_status sr_k_rmatmul_c(sr_context *ctx, cudaStream_t s, float *out, const float *in,
                                    const float *m, size_t rows, size_t n_in, size_t n_out) {
  size_t total = rows * n_out;
  SR_KSPACE_LAUNCH(ctx, s, total, rmatmul_c_kernel, (float2 *)out, in, (const float2 *)m, total,
                   n_in, n_out);
}
