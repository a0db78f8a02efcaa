/* k-space housekeeping of the CPU backend: shifts, zero-pad embedding and
 * cropping, masks and the consistency blend, magnitude, gather / scatter
 * between radial lines and the Cartesian grid, and the real-by-complex
 * matmul that evaluates a DFT at arbitrary frequencies. Complex arrays are
 * interleaved (re, im) float pairs. CUDA twins: kernels/kspace.cu. */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "backend/cpu/cpu_fft.h"
#include "backend/cpu/cpu_internal.h"

/* The pragma text cannot take macro arguments: loops name their size par_n. */
// clang-format off
#define KS_PARALLEL_FOR \
  _Pragma("omp parallel for schedule(static) num_threads(b->threads) if (par_n >= SR_CPU_PARALLEL_MIN)")
// clang-format on

/* fftshift rolls by floor(n/2), ifftshift by ceil(n/2): the value at i moves
 * to (i + shift) mod n. */
sr_status sr_cpu_fftshift2(sr_backend *b, float *out, const float *in, size_t nslices, size_t h,
                           size_t w, int inverse, float scale) {
  size_t sh = inverse ? (h + 1) / 2 : h / 2;
  size_t sw = inverse ? (w + 1) / 2 : w / 2;
  long long rows = (long long)(nslices * h);
  size_t total = nslices * h * w;
  const size_t par_n = total;
  KS_PARALLEL_FOR
  for (long long r = 0; r < rows; ++r) {
    size_t s = (size_t)r / h, i = (size_t)r % h;
    size_t oi = (i + sh) % h;
    const float *src = in + 2 * (s * h + i) * w;
    float *dst = out + 2 * (s * h + oi) * w;
    for (size_t j = 0; j < w; ++j) {
      size_t oj = (j + sw) % w;
      dst[2 * oj] = scale * src[2 * j];
      dst[2 * oj + 1] = scale * src[2 * j + 1];
    }
  }
  return SR_OK;
}

sr_status sr_cpu_embed_real(sr_backend *b, float *out, const float *in, size_t nslices, size_t h,
                            size_t w, size_t H, size_t W, size_t oy, size_t ox) {
  size_t total = nslices * H * W;
  const size_t par_n = total;
  KS_PARALLEL_FOR
  for (size_t s = 0; s < nslices; ++s) memset(out + 2 * s * H * W, 0, 2 * H * W * sizeof(float));
  long long rows = (long long)(nslices * h);
  KS_PARALLEL_FOR
  for (long long r = 0; r < rows; ++r) {
    size_t s = (size_t)r / h, i = (size_t)r % h;
    const float *src = in + (s * h + i) * w;
    float *dst = out + 2 * (s * H + (oy + i) % H) * W;
    for (size_t j = 0; j < w; ++j) dst[2 * ((ox + j) % W)] = src[j];
  }
  return SR_OK;
}

sr_status sr_cpu_extract_real(sr_backend *b, float *out, const float *in, size_t nslices, size_t h,
                              size_t w, size_t H, size_t W, size_t oy, size_t ox, float scale) {
  long long rows = (long long)(nslices * h);
  size_t total = nslices * h * w;
  const size_t par_n = total;
  KS_PARALLEL_FOR
  for (long long r = 0; r < rows; ++r) {
    size_t s = (size_t)r / h, i = (size_t)r % h;
    const float *src = in + 2 * (s * H + (oy + i) % H) * W;
    float *dst = out + (s * h + i) * w;
    for (size_t j = 0; j < w; ++j) dst[j] = scale * src[2 * ((ox + j) % W)];
  }
  return SR_OK;
}

sr_status sr_cpu_cmask(sr_backend *b, float *out, const float *in, const float *mask,
                       size_t nslices, size_t n) {
  size_t total = nslices * n;
  const size_t par_n = total;
  KS_PARALLEL_FOR
  for (size_t i = 0; i < total; ++i) {
    float m = mask[i % n];
    out[2 * i] = m * in[2 * i];
    out[2 * i + 1] = m * in[2 * i + 1];
  }
  return SR_OK;
}

sr_status sr_cpu_cblend(sr_backend *b, float *t, const float *known, const float *mask,
                        size_t nslices, size_t n, float lambda) {
  size_t total = nslices * n;
  const size_t par_n = total;
  KS_PARALLEL_FOR
  for (size_t i = 0; i < total; ++i) {
    float a = lambda * mask[i % n];
    t[2 * i] += a * (known[2 * i] - t[2 * i]);
    t[2 * i + 1] += a * (known[2 * i + 1] - t[2 * i + 1]);
  }
  return SR_OK;
}

sr_status sr_cpu_cabs(sr_backend *b, float *out, const float *in, size_t n) {
  const size_t par_n = n;
  KS_PARALLEL_FOR
  for (size_t i = 0; i < n; ++i) {
    /* Through double: |z| without overflow or underflow of re^2 + im^2. */
    double re = in[2 * i], im = in[2 * i + 1];
    out[i] = (float)sqrt(re * re + im * im);
  }
  return SR_OK;
}

sr_status sr_cpu_cgather(sr_backend *b, float *out, const float *in, const int32_t *src,
                         size_t nslices, size_t n_out, size_t n_in) {
  size_t total = nslices * n_out;
  const size_t par_n = total;
  KS_PARALLEL_FOR
  for (size_t i = 0; i < total; ++i) {
    size_t s = i / n_out, p = i % n_out;
    const float *v = in + 2 * (s * n_in + (size_t)src[p]);
    out[2 * i] = v[0];
    out[2 * i + 1] = v[1];
  }
  return SR_OK;
}

sr_status sr_cpu_cscatter(sr_backend *b, float *out, const float *in, const int32_t *dst,
                          const int32_t *src, const float *w, size_t taps, size_t npts,
                          size_t nslices, size_t n_out, size_t n_in) {
  size_t total = nslices * npts;
  const size_t par_n = total * taps;
  KS_PARALLEL_FOR
  for (size_t i = 0; i < total; ++i) {
    size_t s = i / npts, p = i % npts;
    const float *plane = in + 2 * s * n_in;
    float re = 0.0f, im = 0.0f;
    for (size_t t = 0; t < taps; ++t) {
      size_t k = p * taps + t;
      float wt = w ? w[k] : 1.0f;
      re += wt * plane[2 * (size_t)src[k]];
      im += wt * plane[2 * (size_t)src[k] + 1];
    }
    float *o = out + 2 * (s * n_out + (size_t)dst[p]);
    o[0] = re;
    o[1] = im;
  }
  return SR_OK;
}

/* One row at a time: the inner loop over j runs along contiguous rows of m
 * and of the accumulator, which the compiler vectorises; k order is fixed. */
sr_status sr_cpu_rmatmul_c(sr_backend *b, float *out, const float *in, const float *m, size_t rows,
                           size_t n_in, size_t n_out) {
  long long nrows = (long long)rows;
  size_t work = rows * n_in * n_out;
  const size_t par_n = work;
  KS_PARALLEL_FOR
  for (long long r = 0; r < nrows; ++r) {
    float *acc = out + 2 * (size_t)r * n_out;
    const float *x = in + (size_t)r * n_in;
    memset(acc, 0, 2 * n_out * sizeof(float));
    for (size_t k = 0; k < n_in; ++k) {
      float a = x[k];
      const float *mk = m + 2 * k * n_out;
      for (size_t j = 0; j < 2 * n_out; ++j) acc[j] += a * mk[j];
    }
  }
  return SR_OK;
}
