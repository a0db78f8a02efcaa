/* Plain-loop references of the score-network ops, written from their
 * definitions in backend.h with no tiling, fusion or library: what the CPU
 * backend's im2col/sgemm/vectorised versions are checked against. Double
 * accumulation throughout. */
#ifndef SR_TEST_NN_REFERENCE_H
#define SR_TEST_NN_REFERENCE_H

#include <math.h>
#include <stddef.h>
#include <stdlib.h>

#include "backend/backend.h"
#include "core/precision.h"

static void ref_conv2d(const sr_conv2d_desc *d, const float *x, const float *w, const float *bias,
                       const float *bias_nc, const float *residual, float scale, float *y) {
  for (int n = 0; n < d->n; ++n)
    for (int co = 0; co < d->c_out; ++co)
      for (int oy = 0; oy < d->h_out; ++oy)
        for (int ox = 0; ox < d->w_out; ++ox) {
          double acc = 0.0;
          for (int ci = 0; ci < d->c_in; ++ci)
            for (int i = 0; i < d->kh; ++i)
              for (int j = 0; j < d->kw; ++j) {
                int iy = oy * d->stride + i - d->pad_top, ix = ox * d->stride + j - d->pad_left;
                if (iy < 0 || iy >= d->h || ix < 0 || ix >= d->w) continue;
                acc += (double)x[(((size_t)n * d->c_in + ci) * d->h + iy) * d->w + ix] *
                       w[(((size_t)co * d->c_in + ci) * d->kh + i) * d->kw + j];
              }
          size_t o = (((size_t)n * d->c_out + co) * d->h_out + oy) * d->w_out + ox;
          if (bias) acc += bias[co];
          if (bias_nc) acc += bias_nc[(size_t)n * d->c_out + co];
          if (residual) acc += residual[o];
          y[o] = (float)(scale * acc);
        }
}

/* conv2d in d->precision (backend.h): operands rounded by
 * src/core/precision.h (tested on its own against known bit patterns and
 * an independent frexp/nearbyint rounding), the products summed in double,
 * the sum rounded to float and then, for bf16/fp16, to the format; the
 * epilogue in double. skip_operands / skip_output leave out one of the two
 * roundings: the wrong answers a test must be able to tell apart. */
static void ref_conv2d_prec(const sr_conv2d_desc *d, const float *x, const float *w,
                            const float *bias, const float *bias_nc, const float *residual,
                            float scale, int skip_operands, int skip_output, float *y) {
  const int p = d->precision;
  for (int n = 0; n < d->n; ++n)
    for (int co = 0; co < d->c_out; ++co)
      for (int oy = 0; oy < d->h_out; ++oy)
        for (int ox = 0; ox < d->w_out; ++ox) {
          double acc = 0.0;
          for (int ci = 0; ci < d->c_in; ++ci)
            for (int i = 0; i < d->kh; ++i)
              for (int j = 0; j < d->kw; ++j) {
                int iy = oy * d->stride + i - d->pad_top, ix = ox * d->stride + j - d->pad_left;
                if (iy < 0 || iy >= d->h || ix < 0 || ix >= d->w) continue;
                float xv = x[(((size_t)n * d->c_in + ci) * d->h + iy) * d->w + ix];
                float wv = w[(((size_t)co * d->c_in + ci) * d->kh + i) * d->kw + j];
                if (!skip_operands) xv = sr_round_operand(xv, p), wv = sr_round_operand(wv, p);
                acc += (double)xv * wv;
              }
          size_t o = (((size_t)n * d->c_out + co) * d->h_out + oy) * d->w_out + ox;
          double v = skip_output ? acc : (double)sr_round_output((float)acc, p);
          if (bias) v += bias[co];
          if (bias_nc) v += bias_nc[(size_t)n * d->c_out + co];
          if (residual) v += residual[o];
          y[o] = (float)(scale * v);
        }
}

static double ref_silu(double v) {
  return v / (1.0 + exp(-v));
}

static void ref_group_norm(const float *x, size_t n, size_t c, size_t hw, size_t groups,
                           const float *gamma, const float *beta, float eps, int silu, float *y) {
  size_t cg = c / groups;
  for (size_t s = 0; s < n; ++s)
    for (size_t g = 0; g < groups; ++g) {
      const float *xg = x + (s * c + g * cg) * hw;
      double mean = 0.0, var = 0.0;
      for (size_t i = 0; i < cg * hw; ++i) mean += xg[i];
      mean /= (double)(cg * hw);
      for (size_t i = 0; i < cg * hw; ++i) var += (xg[i] - mean) * (xg[i] - mean);
      var /= (double)(cg * hw);
      for (size_t i = 0; i < cg * hw; ++i) {
        size_t ch = g * cg + i / hw;
        double v = (xg[i] - mean) / sqrt(var + eps) * gamma[ch] + beta[ch];
        y[(s * c + g * cg) * hw + i] = (float)(silu ? ref_silu(v) : v);
      }
    }
}

static void ref_linear(const float *x, size_t n, size_t in, size_t out, const float *w,
                       const float *bias, int silu_in, float *y) {
  for (size_t s = 0; s < n; ++s)
    for (size_t o = 0; o < out; ++o) {
      double acc = bias ? bias[o] : 0.0;
      for (size_t i = 0; i < in; ++i)
        acc += (double)w[o * in + i] * (silu_in ? ref_silu(x[s * in + i]) : x[s * in + i]);
      y[s * out + o] = (float)acc;
    }
}

static void ref_attention(const float *qkv, size_t n, size_t c, size_t hw, float scale,
                          float *out) {
  double *row = (double *)malloc(hw * sizeof *row);
  for (size_t s = 0; s < n; ++s) {
    const float *q = qkv + s * 3 * c * hw, *k = q + c * hw, *v = k + c * hw;
    for (size_t p = 0; p < hw; ++p) {
      double m = -INFINITY, sum = 0.0;
      for (size_t j = 0; j < hw; ++j) {
        double d = 0.0;
        for (size_t ch = 0; ch < c; ++ch) d += (double)q[ch * hw + p] * k[ch * hw + j];
        row[j] = d * scale;
        m = row[j] > m ? row[j] : m;
      }
      for (size_t j = 0; j < hw; ++j) sum += (row[j] = exp(row[j] - m));
      for (size_t ch = 0; ch < c; ++ch) {
        double acc = 0.0;
        for (size_t j = 0; j < hw; ++j) acc += row[j] / sum * v[ch * hw + j];
        out[s * c * hw + ch * hw + p] = (float)acc;
      }
    }
  }
  free(row);
}

/* By the definition: materialise the upsampled, padded plane, then
 * convolve with the flipped kernel and keep every down-th sample. */
static void ref_upfirdn2d(const sr_fir_desc *f, const float *x, size_t planes, size_t h, size_t w,
                          const float *bias, size_t channels, float *y) {
  long hp = (long)h * f->up + f->pad0 + f->pad1, wp = (long)w * f->up + f->pad0 + f->pad1;
  long ho = (hp - f->kh) / f->down + 1, wo = (wp - f->kw) / f->down + 1;
  double *p = (double *)malloc((size_t)(hp * wp) * sizeof *p);
  for (size_t pl = 0; pl < planes; ++pl) {
    for (long r = 0; r < hp; ++r)
      for (long c = 0; c < wp; ++c) {
        long ur = r - f->pad0, uc = c - f->pad0;
        double v = 0.0;
        if (ur >= 0 && uc >= 0 && ur < (long)h * f->up && uc < (long)w * f->up && ur % f->up == 0 &&
            uc % f->up == 0)
          v = x[pl * h * w + (size_t)(ur / f->up) * w + (size_t)(uc / f->up)];
        p[r * wp + c] = v;
      }
    for (long oy = 0; oy < ho; ++oy)
      for (long ox = 0; ox < wo; ++ox) {
        double acc = bias ? bias[pl % channels] : 0.0;
        for (int i = 0; i < f->kh; ++i)
          for (int j = 0; j < f->kw; ++j)
            acc += p[(oy * f->down + i) * wp + ox * f->down + j] *
                   f->k[(f->kh - 1 - i) * f->kw + (f->kw - 1 - j)];
        y[pl * (size_t)(ho * wo) + (size_t)(oy * wo + ox)] = (float)acc;
      }
  }
  free(p);
}

#endif
