/* The op table: every numeric operation the model, the operators and the
 * sampler need, declared once. src/backend/cpu/ fills it with plain C (the
 * reference), src/backend/cuda/ with kernels from kernels/. Callers never ask
 * which backend they run on.
 *
 * Conventions for every op:
 *  - pointers are backend memory (host for CPU, device for CUDA) unless the
 *    name says host; float32, contiguous, element counts in size_t;
 *  - ops are stream-ordered: results are visible to later ops on the same
 *    backend; results returned in host variables (reductions) are complete
 *    when the op returns;
 *  - failures return an sr_status with the message stored in b->ctx. */
#ifndef SR_BACKEND_H
#define SR_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "backend/ct_projection.h"
#include "scorerecon.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sr_backend sr_backend;

/* Where a Philox stream of normals comes from. key = (seed, slice index);
 * counter = (element group, purpose, step, 0). A batch of slices draws slice
 * b from key (seed, first_slice + b), so a slice's noise does not depend on
 * the batch it runs in. See src/core/philox.h. */
typedef struct sr_rng_stream {
  uint32_t seed;
  uint32_t first_slice;
  uint32_t step;
  uint32_t purpose; /* an sr_draw_purpose */
} sr_rng_stream;

/* Why a draw is made: one value per field of noise in a sampler step, so two
 * fields of the same step never share random numbers. */
typedef enum sr_draw_purpose {
  SR_DRAW_GENERIC = 0,
  SR_DRAW_INITIAL_SAMPLE = 1,
  SR_DRAW_CONSISTENCY_BEFORE_CORRECTOR = 2,
  SR_DRAW_LANGEVIN = 3,
  SR_DRAW_CONSISTENCY_BEFORE_PREDICTOR = 4,
  SR_DRAW_PREDICTOR = 5,
  SR_DRAW_MEASUREMENT_NOISE = 6
} sr_draw_purpose;

/* The shape of one convolution (score network, issue 4). */
typedef struct sr_conv2d_desc {
  int n, c_in, h, w;                            /* input (N, C_in, H, W) */
  int c_out, kh, kw;                            /* weight (C_out, C_in, KH, KW) */
  int stride;                                   /* same along H and W */
  int pad_top, pad_left, pad_bottom, pad_right; /* zero padding */
  int h_out, w_out;                             /* set by sr_conv2d_desc_init */
  /* sr_precision of the arithmetic (SR_PRECISION_FP32 from
   * sr_conv2d_desc_init): operands x and w rounded to the format
   * (src/core/precision.h), products summed in float32, and for bf16/fp16
   * the sum rounded to the format before the epilogue, which stays float32:
   *   y = scale * (round_out(sum round(x) round(w)) + bias + ... + residual)
   * Part of the shape: backends that cache per shape cache per precision. */
  int precision;
} sr_conv2d_desc;

/* Fills d and its output size; SR_ERR_SHAPE (message in ctx) when the shape is empty. */
sr_status sr_conv2d_desc_init(sr_context *ctx, sr_conv2d_desc *d, int n, int c_in, int h, int w,
                              int c_out, int kh, int kw, int stride, int pad_top, int pad_left,
                              int pad_bottom, int pad_right);

/* upfirdn2d: upsample by `up` (zero insertion), pad (pad0 before, pad1
 * after, both axes; negative crops), convolve with the kernel (a true
 * convolution: the kernel is flipped, as in score_sde's native path), keep
 * every `down`-th sample. H_out = (H * up + pad0 + pad1 - KH) / down + 1. */
#define SR_FIR_MAX_TAPS 8
typedef struct sr_fir_desc {
  int up, down, pad0, pad1;
  int kh, kw;
  float k[SR_FIR_MAX_TAPS * SR_FIR_MAX_TAPS]; /* (KH, KW), row-major */
} sr_fir_desc;

/* The output size of f on an h x w plane (0 when empty). */
size_t sr_fir_out_size(const sr_fir_desc *f, size_t n);

typedef struct sr_backend_ops {
  const char *name;
  void (*destroy)(sr_backend *b);

  /* ---- memory */
  sr_status (*alloc)(sr_backend *b, size_t bytes, void **out);
  void (*free)(sr_backend *b, void *ptr);
  sr_status (*upload)(sr_backend *b, void *dst, const void *host_src, size_t bytes);
  sr_status (*download)(sr_backend *b, void *host_dst, const void *src, size_t bytes);
  sr_status (*copy)(sr_backend *b, void *dst, const void *src, size_t bytes);
  sr_status (*synchronize)(sr_backend *b);
  /* Free and total device memory (optional: NULL on the CPU, where batch
   * sizes are not bounded by a device). */
  sr_status (*mem_info)(sr_backend *b, size_t *free_bytes, size_t *total_bytes);

  /* ---- profiling (optional: NULL where the backend has no profiler) */
  /* Opens / closes a named range on the profiler's timeline (NVTX on CUDA,
   * so an Nsight Systems profile shows the sampler's phases above the ops'
   * own ranges). Ranges nest; `name` must outlive the call only. Host-side
   * markers: they neither synchronise nor order device work. Call them
   * through sr_backend_range_push / _pop, which skip NULL entries. */
  void (*range_push)(sr_backend *b, const char *name);
  void (*range_pop)(sr_backend *b);

  /* ---- elementwise, float32 */
  /* x[i] = value */
  sr_status (*fill)(sr_backend *b, float *x, size_t n, float value);
  /* x[i] *= alpha */
  sr_status (*scale)(sr_backend *b, float *x, size_t n, float alpha);
  /* y[i] = alpha * x[i] + beta * y[i] */
  sr_status (*axpby)(sr_backend *b, float *y, const float *x, size_t n, float alpha, float beta);
  /* z[i] = alpha * x[i] + beta * y[i] + gamma * z[i] (an SDE update in one pass) */
  sr_status (*axpbypgz)(sr_backend *b, float *z, const float *x, const float *y, size_t n,
                        float alpha, float beta, float gamma);
  /* z[i] = x[i] * y[i] */
  sr_status (*mul)(sr_backend *b, float *z, const float *x, const float *y, size_t n);
  /* x[i] = min(max(x[i], lo), hi) */
  sr_status (*clamp)(sr_backend *b, float *x, size_t n, float lo, float hi);
  /* Per slice: x[s*n + i] = alpha[s] * x[s*n + i] + beta[s] * y[s*n + i]
   * (per-sample step sizes, e.g. the Langevin step); alpha, beta are host arrays. */
  sr_status (*axpby_batched)(sr_backend *b, float *y, const float *x, size_t nslices, size_t n,
                             const float *alpha_host, const float *beta_host);

  /* ---- reductions, float32 in, double out (host), fixed summation order:
   * the result does not depend on the thread count. */
  sr_status (*sum)(sr_backend *b, const float *x, size_t n, double *out);
  sr_status (*dot)(sr_backend *b, const float *x, const float *y, size_t n, double *out);
  sr_status (*nrm2)(sr_backend *b, const float *x, size_t n, double *out);
  sr_status (*max_abs)(sr_backend *b, const float *x, size_t n, float *out);
  /* ||x_s|| for each of nslices contiguous slices of n elements: host out[nslices]. */
  sr_status (*nrm2_batched)(sr_backend *b, const float *x, size_t nslices, size_t n,
                            double *out_host);
  /* Counts elements that are NaN or +-Inf. */
  sr_status (*count_nonfinite)(sr_backend *b, const float *x, size_t n, size_t *out);

  /* ---- random numbers: standard normals from Philox4x32-10, bit-identical
   * on every backend. x holds nslices slices of n elements. */
  sr_status (*randn)(sr_backend *b, float *x, size_t nslices, size_t n, sr_rng_stream stream);

  /* ---- CT projection (issue 3: radon, backprojection, ramp filter)
   * The distance-driven parallel-beam pair of backend/ct_projection.h. A plan
   * holds one projector (its view tables, FBP's FFT plans, scratch) on this
   * backend; the operators make it once per geometry. A plan serves one
   * thread at a time. Shapes: image (nslices, H, W), sinogram
   * (nslices, n_angles, n_det), both float32. */
  sr_status (*ct_plan_create)(sr_backend *b, const sr_ct_projection *proj, sr_ct_plan **out);
  void (*ct_plan_destroy)(sr_backend *b, sr_ct_plan *plan);
  /* sino = A image (the sinogram is overwritten). */
  sr_status (*radon)(sr_backend *b, sr_ct_plan *plan, const float *image, float *sino,
                     size_t nslices);
  /* image = A^T sino, the exact adjoint of radon (the image is overwritten). */
  sr_status (*backproject)(sr_backend *b, sr_ct_plan *plan, const float *sino, float *image,
                           size_t nslices);
  /* Each sinogram row convolved with FBP's filter in bin units (zero-padded
   * FFT, see sr_ct_filter_spectrum); out may equal in. */
  sr_status (*ramp_filter)(sr_backend *b, sr_ct_plan *plan, sr_ct_filter filter, const float *in,
                           float *out, size_t nslices);

  /* ---- FFT and k-space (issue 3: MRI, the paper's Fourier-domain CT)
   * Complex arrays are interleaved complex64: value k is (x[2k], x[2k+1]).
   * A batch is nslices contiguous (h, w) planes; counts are complex values.
   * FFT plans are made once per shape and cached in the backend; on the CPU
   * a plane's result depends only on its shape, never on the batch size or
   * the thread count. */
  /* Unshifted 2-D DFT of each plane, out = scale * F(in), F unnormalised
   * with kernel e^{-2 pi i k n / N} (inverse: e^{+...}): numpy's fft2 is
   * scale 1, its ifft2 scale 1 / (h w). h = 1 gives batched 1-D transforms
   * of length w. out may equal in. */
  sr_status (*fft2)(sr_backend *b, float *out, const float *in, size_t nslices, size_t h, size_t w,
                    int inverse, float scale);
  /* Centred orthonormal 2-D DFT, fastMRI's fft2c / ifft2c:
   *   out = fftshift(F(ifftshift(in))) / sqrt(h w)
   * (inverse: F^-1 unnormalised, times 1 / sqrt(h w)). out may equal in. */
  sr_status (*fft2c)(sr_backend *b, float *out, const float *in, size_t nslices, size_t h, size_t w,
                     int inverse);
  /* out = scale * fftshift(in) per plane, or ifftshift when `inverse` (the
   * two differ for odd sizes). out must not overlap in. */
  sr_status (*fftshift2)(sr_backend *b, float *out, const float *in, size_t nslices, size_t h,
                         size_t w, int inverse, float scale);
  /* Real (h, w) planes into zeroed complex (H, W) planes, wrapping around:
   *   out[(oy + i) mod H][(ox + j) mod W] = in[i][j] + 0i, zero elsewhere.
   * A zero pad followed by an ifftshift is one call. h <= H, w <= W. */
  sr_status (*embed_real)(sr_backend *b, float *out, const float *in, size_t nslices, size_t h,
                          size_t w, size_t H, size_t W, size_t oy, size_t ox);
  /* Its reverse, a crop keeping the real part:
   *   out[i][j] = scale * Re in[(oy + i) mod H][(ox + j) mod W]. */
  sr_status (*extract_real)(sr_backend *b, float *out, const float *in, size_t nslices, size_t h,
                            size_t w, size_t H, size_t W, size_t oy, size_t ox, float scale);
  /* out[s][k] = mask[k] * in[s][k]: n complex values per plane, one real
   * mask of n values shared by every plane. out may equal in. */
  sr_status (*cmask)(sr_backend *b, float *out, const float *in, const float *mask, size_t nslices,
                     size_t n);
  /* The data-consistency blend, t[s][k] += lambda mask[k] (known[s][k] - t[s][k]),
   * i.e. lambda Lambda known + (1 - lambda Lambda) t. */
  sr_status (*cblend)(sr_backend *b, float *t, const float *known, const float *mask,
                      size_t nslices, size_t n, float lambda);
  /* out[k] = |in[k]| for n complex values (out real; must not overlap in). */
  sr_status (*cabs)(sr_backend *b, float *out, const float *in, size_t n);
  /* Gather: out[s][p] = in[s][src[p]], n_out values per output plane, n_in
   * per input plane; src (int32, backend memory) in [0, n_in). */
  sr_status (*cgather)(sr_backend *b, float *out, const float *in, const int32_t *src,
                       size_t nslices, size_t n_out, size_t n_in);
  /* Interpolating scatter: out[s][dst[p]] = sum_t w[p*taps + t] in[s][src[p*taps + t]]
   * for p < npts; dst distinct (so no two writes race), other values of out
   * untouched; w == NULL means weights 1. Tap sums run in order t = 0, 1, ... */
  sr_status (*cscatter)(sr_backend *b, float *out, const float *in, const int32_t *dst,
                        const int32_t *src, const float *w, size_t taps, size_t npts,
                        size_t nslices, size_t n_out, size_t n_in);
  /* Real rows through a complex matrix, out[r][j] = sum_k in[r][k] m[k][j]
   * (in real (rows, n_in), m complex (n_in, n_out), out complex (rows,
   * n_out)), summed in k order: e.g. a DFT evaluated at arbitrary
   * frequencies. */
  sr_status (*rmatmul_c)(sr_backend *b, float *out, const float *in, const float *m, size_t rows,
                         size_t n_in, size_t n_out);

  /* ---- total variation (issue 3: the Chambolle-Pock baseline), float32.
   * A gradient field g is (nslices, 2, h, w): g[., 0] along rows (i), g[., 1]
   * along columns (j). */
  /* Forward differences with Neumann boundary: g0 = x[i+1][j] - x[i][j],
   * g1 = x[i][j+1] - x[i][j], zero on the last row / column. */
  sr_status (*grad2)(sr_backend *b, float *g, const float *x, size_t nslices, size_t h, size_t w);
  /* The divergence x = div g = -grad2^T g (exactly minus the adjoint). */
  sr_status (*div2)(sr_backend *b, float *x, const float *g, size_t nslices, size_t h, size_t w);
  /* Per pixel, the pair (g0, g1) of p is projected onto the disc of radius
   * r: p <- p / max(1, |p| / r) (the prox of the isotropic TV's dual). */
  sr_status (*proj_l2ball2)(sr_backend *b, float *p, size_t nslices, size_t hw, float radius);

  /* ---- score network (issue 4: conv2d, group_norm, silu, attention, upfirdn) */
  /* Cross-correlation as torch.nn.functional.conv2d, fused epilogue:
   *   y = scale * (conv(x, w) + bias[co] + bias_nc[n*C_out + co] + residual)
   * x (N, C_in, H, W), w (C_out, C_in, KH, KW), y and residual (N, C_out,
   * H_out, W_out); bias (C_out), bias_nc (N, C_out) and residual may be NULL.
   * y aliases none of the inputs. workspace: conv2d_workspace bytes. */
  sr_status (*conv2d)(sr_backend *b, const sr_conv2d_desc *d, const float *x, const float *w,
                      const float *bias, const float *bias_nc, const float *residual, float scale,
                      float *y, void *workspace);
  /* Bytes of workspace conv2d needs for this shape (0 when none). May pick and
   * cache an algorithm for the shape, so the planner calls it once per shape. */
  sr_status (*conv2d_workspace)(sr_backend *b, const sr_conv2d_desc *d, size_t *bytes);
  /* GroupNorm over x (N, C, HW) with `groups` groups of C/groups channels,
   * biased variance, then y = gamma[c] * xhat + beta[c], then SiLU when
   * `silu`. y may alias x. */
  sr_status (*group_norm)(sr_backend *b, const float *x, size_t n, size_t c, size_t hw,
                          size_t groups, const float *gamma, const float *beta, float eps, int silu,
                          float *y);
  /* Optional (NULL on a backend without them; the model then runs
   * group_norm and conv2d): GroupNorm (+ SiLU) folded into the next
   * convolution's input, so the normalised tensor is never written.
   * group_norm_coeffs: ab (N, C, 2) = (a, c) per sample and channel, the
   *   affine that group_norm applies, y = a x + c (a = gamma[c] rstd,
   *   c = beta[c] - mean a, mean and rstd of the channel's group);
   * conv2d_normed: conv2d (same contract and workspace) of act(a x + c),
   *   (a, c) = ab[n][ci] per input channel, act = SiLU when silu; the zero
   *   padding is of the activated tensor, as in conv2d(group_norm(x)). */
  sr_status (*group_norm_coeffs)(sr_backend *b, const float *x, size_t n, size_t c, size_t hw,
                                 size_t groups, const float *gamma, const float *beta, float eps,
                                 float *ab);
  sr_status (*conv2d_normed)(sr_backend *b, const sr_conv2d_desc *d, const float *x,
                             const float *ab, int silu, const float *w, const float *bias,
                             const float *bias_nc, const float *residual, float scale, float *y,
                             void *workspace);
  /* y[i] = x[i] * sigmoid(x[i]); y may alias x. */
  sr_status (*silu)(sr_backend *b, const float *x, size_t count, float *y);
  /* Fully connected, y (N, out) = act(x) (N, in) . w^T + bias, w (out, in)
   * as torch.nn.Linear; act = SiLU when silu_in, else identity. */
  sr_status (*linear)(sr_backend *b, const float *x, size_t n, size_t in, size_t out,
                      const float *w, const float *bias, int silu_in, float *y);
  /* Self-attention core of NCSN++'s AttnBlockpp for each sample:
   * qkv (N, 3C, HW) holds q, k, v; out (N, C, HW),
   *   out[:, p] = sum_j softmax_j(scale * q[:, p] . k[:, j]) v[:, j].
   * workspace: N * HW * HW floats. */
  sr_status (*attention)(sr_backend *b, const float *qkv, size_t n, size_t c, size_t hw,
                         float scale, float *workspace, float *out);
  /* upfirdn2d as in score_sde's up_or_down_sampling, on `planes` planes
   * x (planes, H, W) -> y (planes, H_out, W_out), see sr_fir_desc; then
   * y[p] += bias[p % channels] when bias is not NULL (the bias that
   * upsample_conv_2d adds after its FIR). */
  sr_status (*upfirdn2d)(sr_backend *b, const sr_fir_desc *f, const float *x, size_t planes,
                         size_t h, size_t w, const float *bias, size_t channels, float *y);
  /* Channel concatenation: dst (N, CA + CB, HW) = [a (N, CA, HW), b (N, CB, HW)]. */
  sr_status (*concat_channels)(sr_backend *b, float *dst, const float *a, const float *bsrc,
                               size_t n, size_t ca, size_t cb, size_t hw);
} sr_backend_ops;

struct sr_backend {
  const sr_backend_ops *ops;
  sr_context *ctx; /* receives error messages */
  sr_backend_kind kind;
  int threads; /* CPU threads (CPU backend) */
  int device;  /* CUDA device index (CUDA backend) */
  void *impl;  /* backend-private state */
};

/* A profiler range around a phase of the caller's work (see range_push in
 * the op table); nothing on backends without a profiler. */
static inline void sr_backend_range_push(sr_backend *b, const char *name) {
  if (b->ops->range_push) b->ops->range_push(b, name);
}
static inline void sr_backend_range_pop(sr_backend *b) {
  if (b->ops->range_pop) b->ops->range_pop(b);
}

/* Creates the backend for ctx->kind; used by sr_context_create. */
sr_status sr_backend_create(sr_context *ctx, sr_backend_kind kind, int device, int threads,
                            sr_backend **out);
void sr_backend_destroy(sr_backend *b);

/* The backend a context runs on (never NULL for a context that was created). */
sr_backend *sr_context_get_backend(sr_context *ctx);

/* Constructors of the concrete backends. */
sr_status sr_cpu_backend_create(sr_context *ctx, int threads, sr_backend **out);
#ifdef SR_HAVE_CUDA
sr_status sr_cuda_backend_create(sr_context *ctx, int device, sr_backend **out);
#endif

#ifdef __cplusplus
}
#endif

#endif
