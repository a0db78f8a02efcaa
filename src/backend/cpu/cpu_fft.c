/* Batched 2-D complex FFTs on FFTW3 (single precision).
 *
 * A plane (h, w) is transformed row-column: first its rows (w-point
 * transforms), then its columns (h-point transforms). Both passes run in
 * fixed blocks of SR_FFT_BLOCK rows or columns, each block one FFTW call
 * planned for exactly that block, and the blocks of every plane of the
 * batch are shared among the OpenMP threads. A column block is copied into
 * a contiguous per-thread buffer (transposed), transformed there and copied
 * back: strided columns of a power-of-two plane alias in the cache, which
 * made them 7x slower than this at 512^2. So a plane's result depends on
 * its shape only: never on the thread count, the batch size or its position
 * in the batch (the CPU backend's reproducibility promise), and one plane at
 * batch 1 still uses every core.
 *
 * Plans are made with FFTW_ESTIMATE: FFTW_MEASURE picks algorithms by timing,
 * so two runs could round differently. They are made once per (h, w,
 * direction, alignment) and kept for the life of the process in one cache
 * (FFTW plans are process-wide objects anyway), behind the planner lock. */
#define _POSIX_C_SOURCE 200809L
#include <fftw3.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backend/cpu/cpu_fft.h"
#include "backend/cpu/cpu_internal.h"
#include "core/error.h"

/* Rows (or columns) per FFTW call: enough for FFTW to vectorise across
 * adjacent columns, few enough to spread a 256-row plane over the threads. */
#define SR_FFT_BLOCK 16

static pthread_mutex_t g_planner_mutex = PTHREAD_MUTEX_INITIALIZER;

void sr_fftw_planner_lock(void) {
  pthread_mutex_lock(&g_planner_mutex);
}
void sr_fftw_planner_unlock(void) {
  pthread_mutex_unlock(&g_planner_mutex);
}

/* The four plans of one (h, w, sign, alignment); NULL where the pass has no
 * block of that kind (e.g. no tail when h is a multiple of the block). */
typedef struct fft_plans {
  size_t h, w;
  int sign;
  int unaligned;
  int columns;                /* 0: a stack of 1-D transforms, no column pass */
  fftwf_plan rows, rows_tail; /* SR_FFT_BLOCK (tail: h % block) contiguous rows */
  fftwf_plan cols, cols_tail; /* SR_FFT_BLOCK (tail: w % block) columns, transposed
                               * into a contiguous (block, h) buffer */
  struct fft_plans *next;
} fft_plans;

static fft_plans *g_plans; /* guarded by g_planner_mutex */

/* howmany transforms of n points, element stride `stride`, transform
 * distance `dist`, in place on buf. */
static fftwf_plan plan_block(fftwf_complex *buf, size_t n, size_t howmany, size_t stride,
                             size_t dist, int sign, unsigned flags) {
  int nn = (int)n;
  return fftwf_plan_many_dft(1, &nn, (int)howmany, buf, NULL, (int)stride, (int)dist, buf, NULL,
                             (int)stride, (int)dist, sign, flags);
}

/* columns == 0: rows only (batched 1-D transforms). */
static sr_status get_plans(sr_backend *b, size_t h, size_t w, int sign, int unaligned, int columns,
                           const fft_plans **out) {
  sr_fftw_planner_lock();
  for (fft_plans *p = g_plans; p; p = p->next) {
    if (p->h == h && p->w == w && p->sign == sign && p->unaligned == unaligned &&
        p->columns == columns) {
      sr_fftw_planner_unlock();
      *out = p;
      return SR_OK;
    }
  }
  fft_plans *p = (fft_plans *)calloc(1, sizeof *p);
  /* ESTIMATE never touches the buffer; it only fixes sizes and alignment. */
  fftwf_complex *buf = (fftwf_complex *)fftwf_malloc(h * w * sizeof(fftwf_complex));
  if (!p || !buf) {
    sr_fftw_planner_unlock();
    free(p);
    fftwf_free(buf);
    return sr_fail(b->ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate an FFT plan for %zu x %zu", h, w);
  }
  unsigned flags = FFTW_ESTIMATE | (unaligned ? FFTW_UNALIGNED : 0u);
  p->h = h;
  p->w = w;
  p->sign = sign;
  p->unaligned = unaligned;
  p->columns = columns;
  int ok = 1;
  size_t row_blocks = h / SR_FFT_BLOCK, row_tail = h % SR_FFT_BLOCK;
  if (row_blocks) ok &= (p->rows = plan_block(buf, w, SR_FFT_BLOCK, 1, w, sign, flags)) != NULL;
  if (row_tail) ok &= (p->rows_tail = plan_block(buf, w, row_tail, 1, w, sign, flags)) != NULL;
  if (columns) {
    size_t col_blocks = w / SR_FFT_BLOCK, col_tail = w % SR_FFT_BLOCK;
    /* The column buffers come from fftwf_malloc: always aligned. */
    unsigned cflags = FFTW_ESTIMATE;
    if (col_blocks) ok &= (p->cols = plan_block(buf, h, SR_FFT_BLOCK, 1, h, sign, cflags)) != NULL;
    if (col_tail) ok &= (p->cols_tail = plan_block(buf, h, col_tail, 1, h, sign, cflags)) != NULL;
  }
  fftwf_free(buf);
  if (!ok) {
    if (p->rows) fftwf_destroy_plan(p->rows);
    if (p->rows_tail) fftwf_destroy_plan(p->rows_tail);
    if (p->cols) fftwf_destroy_plan(p->cols);
    if (p->cols_tail) fftwf_destroy_plan(p->cols_tail);
    free(p);
    sr_fftw_planner_unlock();
    return SR_FAIL_HERE(b->ctx, SR_ERR_INTERNAL, "FFTW could not plan a %zu x %zu transform", h, w);
  }
  p->next = g_plans;
  g_plans = p;
  sr_fftw_planner_unlock();
  *out = p;
  return SR_OK;
}

/* FFTW's aligned plans may only run on arrays aligned like the planning
 * buffer; the block offsets below keep a plane's alignment when its base
 * is, so only plane bases decide. */
static int needs_unaligned(const float *x, size_t nslices, size_t h, size_t w) {
  if (fftwf_alignment_of((float *)x) != 0) return 1;
  return nslices > 1 && (h * w) % 2 == 1;
}

/* In-place unnormalised DFT of every plane of x (nslices, h, w). */
static sr_status fft_planes(sr_backend *b, float *x, size_t nslices, size_t h, size_t w,
                            int inverse) {
  if (nslices == 0 || h == 0 || w == 0) return SR_OK;
  if (h > INT32_MAX || w > INT32_MAX || h * w > (size_t)INT32_MAX)
    return sr_fail(b->ctx, SR_ERR_UNSUPPORTED, "FFT plane %zu x %zu is too large", h, w);
  int sign = inverse ? FFTW_BACKWARD : FFTW_FORWARD;
  /* h == 1: each plane is one row, so the batch is one tall plane of rows. */
  size_t planes = nslices, ph = h;
  if (h == 1) {
    planes = 1;
    ph = nslices;
    if (ph > INT32_MAX) return sr_fail(b->ctx, SR_ERR_UNSUPPORTED, "too many FFT rows");
  }
  const fft_plans *p = NULL;
  SR_TRY(get_plans(b, ph, w, sign, needs_unaligned(x, planes, ph, w), h > 1, &p));
  fftwf_complex *c = (fftwf_complex *)x;
  size_t plane = ph * w;
  size_t row_blocks = (ph + SR_FFT_BLOCK - 1) / SR_FFT_BLOCK;
  long long row_tasks = (long long)(planes * row_blocks);
  /* Small transforms stay on one thread: forking costs more. */
  int par = planes * plane >= SR_CPU_PARALLEL_MIN / 4;
#pragma omp parallel for schedule(static) num_threads(b->threads) if (par && row_tasks > 1)
  for (long long t = 0; t < row_tasks; ++t) {
    size_t s = (size_t)t / row_blocks, blk = (size_t)t % row_blocks;
    fftwf_complex *base = c + s * plane + blk * SR_FFT_BLOCK * w;
    int tail = (blk + 1) * SR_FFT_BLOCK > ph;
    fftwf_execute_dft(tail ? p->rows_tail : p->rows, base, base);
  }
  if (h > 1) {
    size_t col_blocks = (w + SR_FFT_BLOCK - 1) / SR_FFT_BLOCK;
    long long col_tasks = (long long)(planes * col_blocks);
    int failed = 0;
#pragma omp parallel num_threads(b->threads) if (par && col_tasks > 1) reduction(| : failed)
    {
      fftwf_complex *tb = (fftwf_complex *)fftwf_malloc(SR_FFT_BLOCK * ph * sizeof(fftwf_complex));
      if (!tb) failed = 1;
#pragma omp for schedule(static)
      for (long long t = 0; t < col_tasks; ++t) {
        if (!tb) continue;
        size_t s = (size_t)t / col_blocks, blk = (size_t)t % col_blocks;
        size_t c0 = blk * SR_FFT_BLOCK;
        size_t nc = c0 + SR_FFT_BLOCK > w ? w - c0 : SR_FFT_BLOCK;
        fftwf_complex *base = c + s * plane + c0;
        for (size_t i = 0; i < ph; ++i)
          for (size_t k = 0; k < nc; ++k) {
            tb[k * ph + i][0] = base[i * w + k][0];
            tb[k * ph + i][1] = base[i * w + k][1];
          }
        fftwf_execute_dft(nc < SR_FFT_BLOCK ? p->cols_tail : p->cols, tb, tb);
        for (size_t i = 0; i < ph; ++i)
          for (size_t k = 0; k < nc; ++k) {
            base[i * w + k][0] = tb[k * ph + i][0];
            base[i * w + k][1] = tb[k * ph + i][1];
          }
      }
      fftwf_free(tb);
    }
    if (failed)
      return sr_fail(b->ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate FFT column buffers (%zu x %zu)",
                     ph, w);
  }
  return SR_OK;
}

sr_status sr_cpu_fft2(sr_backend *b, float *out, const float *in, size_t nslices, size_t h,
                      size_t w, int inverse, float scale) {
  size_t n = 2 * nslices * h * w; /* floats */
  if (out != in) memcpy(out, in, n * sizeof(float));
  SR_TRY(fft_planes(b, out, nslices, h, w, inverse));
  if (scale != 1.0f) {
#pragma omp parallel for schedule(static) num_threads(b->threads) if (n >= SR_CPU_PARALLEL_MIN)
    for (size_t i = 0; i < n; ++i) out[i] *= scale;
  }
  return SR_OK;
}

/* Even h and w: the centring shifts are a sign pattern. With N even,
 *   fftshift(F(ifftshift x))[k] = (-1)^(N/2) (-1)^k F((-1)^n x[n])[k]
 * per axis (either direction), so the transform runs in place between two
 * passes that multiply by (-1)^(i+j) (exact), the second also by
 * (-1)^(h/2 + w/2) / sqrt(h w). */
static sr_status fft2c_even(sr_backend *b, float *out, const float *in, size_t nslices, size_t h,
                            size_t w, int inverse) {
  size_t rows = nslices * h;
  long long nrows = (long long)rows;
#pragma omp parallel for schedule(static)                                                          \
    num_threads(b->threads) if (rows * w >= SR_CPU_PARALLEL_MIN)
  for (long long r = 0; r < nrows; ++r) {
    size_t i = (size_t)r % h;
    const float *src = in + 2 * (size_t)r * w;
    float *dst = out + 2 * (size_t)r * w;
    for (size_t j = 0; j < w; ++j) {
      float sgn = ((i + j) & 1) ? -1.0f : 1.0f;
      dst[2 * j] = sgn * src[2 * j];
      dst[2 * j + 1] = sgn * src[2 * j + 1];
    }
  }
  SR_TRY(fft_planes(b, out, nslices, h, w, inverse));
  float c = (float)(1.0 / sqrt((double)h * (double)w));
  if (((h / 2 + w / 2) & 1) != 0) c = -c;
#pragma omp parallel for schedule(static)                                                          \
    num_threads(b->threads) if (rows * w >= SR_CPU_PARALLEL_MIN)
  for (long long r = 0; r < nrows; ++r) {
    size_t i = (size_t)r % h;
    float *dst = out + 2 * (size_t)r * w;
    for (size_t j = 0; j < w; ++j) {
      float f = ((i + j) & 1) ? -c : c;
      dst[2 * j] *= f;
      dst[2 * j + 1] *= f;
    }
  }
  return SR_OK;
}

sr_status sr_cpu_fft2c(sr_backend *b, float *out, const float *in, size_t nslices, size_t h,
                       size_t w, int inverse) {
  if (nslices == 0 || h == 0 || w == 0) return SR_OK;
  if (h % 2 == 0 && w % 2 == 0) return fft2c_even(b, out, in, nslices, h, w, inverse);
  /* Odd sizes: real shifts through one plane of scratch, plane by plane
   * (each plane's transform still uses every thread). */
  size_t plane = h * w;
  float *tmp = (float *)fftwf_malloc(2 * plane * sizeof(float));
  if (!tmp)
    return sr_fail(b->ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate FFT scratch (%zu x %zu)", h, w);
  float scale = (float)(1.0 / sqrt((double)h * (double)w));
  sr_status st = SR_OK;
  for (size_t s = 0; s < nslices && st == SR_OK; ++s) {
    st = sr_cpu_fftshift2(b, tmp, in + 2 * s * plane, 1, h, w, 1, 1.0f);
    if (st == SR_OK) st = fft_planes(b, tmp, 1, h, w, inverse);
    if (st == SR_OK) st = sr_cpu_fftshift2(b, out + 2 * s * plane, tmp, 1, h, w, 0, scale);
  }
  fftwf_free(tmp);
  return st;
}
