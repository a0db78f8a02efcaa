/* conv2d on the CPU. Stride-1 convolutions take the direct AVX2 path of
 * cpu_conv_direct.c when the CPU has it; the rest (strided convs, or a CPU
 * without AVX2) im2col + OpenBLAS sgemm, tiled over output rows so the
 * column buffer stays small (the full im2col of a 3x3 conv at 320x320 with
 * 256 input channels would be 900 MB).
 *
 * Per sample n and tile of R output rows (T = R * W_out pixels):
 *   cols (K, T), K = C_in * KH * KW   <- im2col of the rows the tile reads
 *   y[n][:, tile] (C_out, T)  = scale * w (C_out, K) . cols + epilogue
 * The epilogue (bias, per-sample bias, residual, all times scale) is written
 * into the tile of y first and sgemm accumulates onto it with beta = 1.
 * 1x1 stride-1 unpadded convolutions skip im2col: the input block already
 * is the column matrix.
 *
 * Reduced precision (d->precision, see backend.h): the weights are rounded
 * into the workspace once per call, the column buffer as im2col fills it
 * (a 1x1 conv then copies its input into the buffer too); for bf16/fp16
 * sgemm writes the plain sum (alpha 1, beta 0), which is rounded before the
 * epilogue is applied to it. fp32 takes the code paths unchanged.
 *
 * Threads: OpenMP runs tiles in parallel, each thread with its own column
 * buffer, calling sgemm single-threaded. Letting OpenBLAS thread each call
 * instead made its idle threads spin against OpenMP's between calls (half
 * the run time in sched_yield on 2 cores). Every output element is one dot
 * product in sgemm's fixed order, whatever thread computes it, so results
 * do not depend on the thread count. */
#define _POSIX_C_SOURCE 200809L
#include <cblas.h>
#include <omp.h>
#include <string.h>

#include "backend/cpu/cpu_conv_direct.h"
#include "backend/cpu/cpu_internal.h"
#include "backend/cpu/cpu_nn.h"
#include "core/error.h"
#include "core/precision.h"

/* Column buffer per thread: a few hundred KB keeps the packed panels and the
 * im2col rows in L2/L3; wide enough that sgemm runs at speed. */
#define SR_CONV_COLS_BYTES (1u << 20)
/* Pixels per task of a 1x1 conv. */
#define SR_CONV_POINTWISE_TILE 4096

static int is_pointwise(const sr_conv2d_desc *d) {
  return d->kh == 1 && d->kw == 1 && d->stride == 1 && d->pad_top == 0 && d->pad_left == 0 &&
         d->pad_bottom == 0 && d->pad_right == 0;
}

/* Output rows per tile: at least one. */
static int tile_rows(const sr_conv2d_desc *d) {
  size_t k = (size_t)d->c_in * d->kh * d->kw;
  size_t per_row = k * (size_t)d->w_out * sizeof(float);
  size_t rows = per_row ? SR_CONV_COLS_BYTES / per_row : 1;
  if (rows < 1) rows = 1;
  if (rows > (size_t)d->h_out) rows = (size_t)d->h_out;
  return (int)rows;
}

static size_t tile_bytes(const sr_conv2d_desc *d) {
  return (size_t)d->c_in * d->kh * d->kw * (size_t)tile_rows(d) * d->w_out * sizeof(float);
}

static int backend_threads(const sr_backend *b) {
  return b->threads > 0 ? b->threads : 1;
}

/* im2col path: a column buffer per thread; a 1x1 conv uses it only for
 * conv2d_normed's activated copy of its input tile. */
static size_t im2col_bytes(const sr_conv2d_desc *d, int threads) {
  const size_t per_thread =
      is_pointwise(d) ? (size_t)d->c_in * SR_CONV_POINTWISE_TILE * sizeof(float) : tile_bytes(d);
  return per_thread * (size_t)threads;
}

/* Reduced precision: the rounded copy of the weights, after the column
 * buffers. */
static size_t rounded_weight_bytes(const sr_conv2d_desc *d) {
  if (d->precision == SR_PRECISION_FP32) return 0;
  return (size_t)d->c_out * d->c_in * d->kh * d->kw * sizeof(float);
}

void sr_cpu_round_operands(const float *x, float *y, size_t n, int precision) {
  switch (precision) {
  case SR_PRECISION_TF32:
    for (size_t i = 0; i < n; ++i) y[i] = sr_round_tf32(x[i]);
    break;
  case SR_PRECISION_BF16:
    for (size_t i = 0; i < n; ++i) y[i] = sr_round_bf16(x[i]);
    break;
  case SR_PRECISION_FP16:
    for (size_t i = 0; i < n; ++i) y[i] = sr_round_fp16(x[i]);
    break;
  default:
    if (y != x) memmove(y, x, n * sizeof(float));
  }
}

sr_status sr_cpu_conv2d_workspace(sr_backend *b, const sr_conv2d_desc *d, size_t *bytes) {
  *bytes = sr_cpu_conv_direct_supported(d)
               ? sr_cpu_conv_direct_workspace(d, backend_threads(b))
               : im2col_bytes(d, backend_threads(b)) + rounded_weight_bytes(d);
  return SR_OK;
}

/* cols (K, R * W_out) for output rows [oy0, oy0 + rows) of one sample. Row
 * kidx = (ci * KH + i) * KW + j holds x[ci][oy*s + i - pt][ox*s + j - pl]
 * or 0 outside the input; activated by abn[ci] = (a, c) when abn is set. */
static void im2col_rows(const sr_conv2d_desc *d, const float *xn, const float *abn, int silu,
                        int oy0, int rows, float *cols) {
  const int k = d->c_in * d->kh * d->kw;
  const size_t t = (size_t)rows * d->w_out;
  const int s = d->stride, wo = d->w_out;
  for (int kidx = 0; kidx < k; ++kidx) {
    const int j = kidx % d->kw, i = (kidx / d->kw) % d->kh, ci = kidx / (d->kw * d->kh);
    const float *plane = xn + (size_t)ci * d->h * d->w;
    float *dst = cols + (size_t)kidx * t;
    /* Valid output columns: 0 <= ox*s + j - pl < W. */
    int ox_lo = 0, ox_hi = wo; /* [ox_lo, ox_hi) */
    {
      int off = j - d->pad_left;
      if (off < 0) ox_lo = (-off + s - 1) / s;
      int lim = d->w - off; /* ox*s < lim */
      int hi = lim <= 0 ? 0 : (lim + s - 1) / s;
      if (hi < ox_hi) ox_hi = hi;
      if (ox_lo > ox_hi) ox_lo = ox_hi;
    }
    for (int r = 0; r < rows; ++r) {
      float *row = dst + (size_t)r * wo;
      const int iy = (oy0 + r) * s + i - d->pad_top;
      if (iy < 0 || iy >= d->h) {
        memset(row, 0, (size_t)wo * sizeof(float));
        continue;
      }
      for (int ox = 0; ox < ox_lo; ++ox) row[ox] = 0.0f;
      if (ox_hi > ox_lo) {
        /* the input sample of output column ox_lo */
        const float *src = plane + (size_t)iy * d->w + (ox_lo * s + j - d->pad_left);
        if (s == 1) {
          memcpy(row + ox_lo, src, (size_t)(ox_hi - ox_lo) * sizeof(float));
        } else {
          for (int ox = ox_lo; ox < ox_hi; ++ox) row[ox] = src[(size_t)(ox - ox_lo) * s];
        }
        if (abn)
          sr_cpu_affine_act(row + ox_lo, row + ox_lo, (size_t)(ox_hi - ox_lo), abn[2 * ci],
                            abn[2 * ci + 1], silu);
      }
      for (int ox = ox_hi; ox < wo; ++ox) row[ox] = 0.0f;
    }
  }
}

/* y[n][:, p0 : p0 + len] = scale * (bias + bias_nc + residual), y plane
 * stride P. */
static void write_epilogue(const sr_conv2d_desc *d, int n, size_t p0, size_t len, const float *bias,
                           const float *bias_nc, const float *residual, float scale, float *y) {
  const size_t p = (size_t)d->h_out * d->w_out;
  for (int co = 0; co < d->c_out; ++co) {
    float add = 0.0f;
    if (bias) add += bias[co];
    if (bias_nc) add += bias_nc[(size_t)n * d->c_out + co];
    float *yc = y + ((size_t)n * d->c_out + co) * p + p0;
    if (residual) {
      const float *rc = residual + ((size_t)n * d->c_out + co) * p + p0;
      for (size_t i = 0; i < len; ++i) yc[i] = scale * (rc[i] + add);
    } else {
      const float v = scale * add;
      for (size_t i = 0; i < len; ++i) yc[i] = v;
    }
  }
}

/* bf16/fp16: y[n][:, p0 : p0 + len] holds the plain sums; rounds each to
 * the format, then y = scale * ((sum + bias + bias_nc) + residual), the
 * order of the direct path's epilogue. */
static void round_then_epilogue(const sr_conv2d_desc *d, int n, size_t p0, size_t len,
                                const float *bias, const float *bias_nc, const float *residual,
                                float scale, float *y) {
  const size_t p = (size_t)d->h_out * d->w_out;
  for (int co = 0; co < d->c_out; ++co) {
    float add = 0.0f;
    if (bias) add += bias[co];
    if (bias_nc) add += bias_nc[(size_t)n * d->c_out + co];
    float *yc = y + ((size_t)n * d->c_out + co) * p + p0;
    const float *rc = residual ? residual + ((size_t)n * d->c_out + co) * p + p0 : NULL;
    for (size_t i = 0; i < len; ++i) {
      const float v = sr_round_output(yc[i], d->precision) + add;
      yc[i] = (rc ? v + rc[i] : v) * scale;
    }
  }
}

int sr_cpu_blas_single_begin(void) {
  int saved = openblas_get_num_threads();
  if (saved != 1) openblas_set_num_threads(1);
  return saved;
}

void sr_cpu_blas_single_end(int saved) {
  if (saved != 1) openblas_set_num_threads(saved);
}

/* Both entry points: ab == NULL for a plain conv2d. */
static sr_status conv2d_any(sr_backend *b, const sr_conv2d_desc *d, const float *x, const float *ab,
                            int silu, const float *w, const float *bias, const float *bias_nc,
                            const float *residual, float scale, float *y, void *workspace) {
  if (d->h_out <= 0 || d->w_out <= 0)
    return SR_FAIL_HERE(b->ctx, SR_ERR_INVALID_ARGUMENT, "conv2d: descriptor not initialised");
  if (!workspace)
    return SR_FAIL_HERE(b->ctx, SR_ERR_INVALID_ARGUMENT, "conv2d: no workspace given");
  if (sr_cpu_conv_direct_supported(d)) {
    sr_cpu_conv_direct(d, backend_threads(b), x, ab, silu, w, bias, bias_nc, residual, scale, y,
                       workspace);
    return SR_OK;
  }
  const int pointwise = is_pointwise(d);
  const int k = d->c_in * d->kh * d->kw;
  const size_t p_in = (size_t)d->h * d->w, p_out = (size_t)d->h_out * d->w_out;
  const int rows = pointwise ? 0 : tile_rows(d);
  const size_t cols_floats = im2col_bytes(d, 1) / sizeof(float);
  /* tasks: (sample, tile) pairs */
  const long long tiles_per_sample =
      pointwise ? (long long)((p_out + SR_CONV_POINTWISE_TILE - 1) / SR_CONV_POINTWISE_TILE)
                : (long long)((d->h_out + rows - 1) / rows);
  const long long tasks = tiles_per_sample * d->n;
  const int nthreads = b->threads > 0 ? b->threads : 1;
  const double work = 2.0 * (double)d->c_out * (double)k * (double)p_out * d->n;
  const int parallel = nthreads > 1 && tasks > 1 && work > 4e6;
  const int prec = d->precision, round_out = sr_precision_rounds_output(prec);
  if (prec != SR_PRECISION_FP32) {
    float *wr = (float *)workspace + (size_t)nthreads * cols_floats;
    sr_cpu_round_operands(w, wr, (size_t)d->c_out * k, prec);
    w = wr;
  }
  const int saved = sr_cpu_blas_single_begin();
#pragma omp parallel for schedule(dynamic, 1) num_threads(nthreads) if (parallel)
  for (long long task = 0; task < tasks; ++task) {
    const int n = (int)(task / tiles_per_sample);
    const long long tile = task % tiles_per_sample;
    const float *xn = x + (size_t)n * d->c_in * p_in;
    const float *abn = ab ? ab + 2 * (size_t)n * d->c_in : NULL;
    float *yn = y + (size_t)n * d->c_out * p_out;
    const int me = parallel ? omp_get_thread_num() : 0;
    float *cols = (float *)workspace + (size_t)me * cols_floats;
    if (pointwise) {
      const size_t p0 = (size_t)tile * SR_CONV_POINTWISE_TILE;
      const size_t len = p_out - p0 < SR_CONV_POINTWISE_TILE ? p_out - p0 : SR_CONV_POINTWISE_TILE;
      const float *src = xn + p0;
      size_t ld = p_in;
      if (abn) {
        for (int ci = 0; ci < d->c_in; ++ci)
          sr_cpu_affine_act(xn + (size_t)ci * p_in + p0, cols + (size_t)ci * len, len, abn[2 * ci],
                            abn[2 * ci + 1], silu);
        src = cols, ld = len;
      }
      if (prec != SR_PRECISION_FP32) {
        for (int ci = 0; ci < d->c_in; ++ci)
          sr_cpu_round_operands(src + (size_t)ci * ld, cols + (size_t)ci * len, len, prec);
        src = cols, ld = len;
      }
      if (round_out) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, d->c_out, (int)len, d->c_in, 1.0f, w,
                    d->c_in, src, (int)ld, 0.0f, yn + p0, (int)p_out);
        round_then_epilogue(d, n, p0, len, bias, bias_nc, residual, scale, y);
        continue;
      }
      write_epilogue(d, n, p0, len, bias, bias_nc, residual, scale, y);
      /* y (C_out, len) += scale * w (C_out, C_in) . x (C_in, len) */
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, d->c_out, (int)len, d->c_in, scale, w,
                  d->c_in, src, (int)ld, 1.0f, yn + p0, (int)p_out);
    } else {
      const int oy0 = (int)tile * rows;
      const int r = oy0 + rows <= d->h_out ? rows : d->h_out - oy0;
      const int t = r * d->w_out;
      im2col_rows(d, xn, abn, silu, oy0, r, cols);
      if (prec != SR_PRECISION_FP32) sr_cpu_round_operands(cols, cols, (size_t)k * t, prec);
      if (round_out) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, d->c_out, t, k, 1.0f, w, k, cols, t,
                    0.0f, yn + (size_t)oy0 * d->w_out, (int)p_out);
        round_then_epilogue(d, n, (size_t)oy0 * d->w_out, (size_t)t, bias, bias_nc, residual, scale,
                            y);
        continue;
      }
      write_epilogue(d, n, (size_t)oy0 * d->w_out, (size_t)t, bias, bias_nc, residual, scale, y);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, d->c_out, t, k, scale, w, k, cols, t,
                  1.0f, yn + (size_t)oy0 * d->w_out, (int)p_out);
    }
  }
  sr_cpu_blas_single_end(saved);
  return SR_OK;
}

sr_status sr_cpu_conv2d(sr_backend *b, const sr_conv2d_desc *d, const float *x, const float *w,
                        const float *bias, const float *bias_nc, const float *residual, float scale,
                        float *y, void *workspace) {
  return conv2d_any(b, d, x, NULL, 0, w, bias, bias_nc, residual, scale, y, workspace);
}

sr_status sr_cpu_conv2d_normed(sr_backend *b, const sr_conv2d_desc *d, const float *x,
                               const float *ab, int silu, const float *w, const float *bias,
                               const float *bias_nc, const float *residual, float scale, float *y,
                               void *workspace) {
  return conv2d_any(b, d, x, ab, silu, w, bias, bias_nc, residual, scale, y, workspace);
}
