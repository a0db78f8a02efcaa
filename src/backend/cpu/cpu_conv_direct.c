/* Direct convolution on the CPU for stride-1 convolutions (every conv of
 * NCSN++'s BigGAN layouts, and nearly all of its FLOPs): no im2col matrix,
 * no packing of the image, an AVX2+FMA micro-kernel.
 *
 * Grid. A task is one sample and a band of R output rows. The input rows
 * the band reads are copied into a zero-padded scratch
 *   xs[ci][r][c], r < R + KH - 1, c < Wp = W + pad_left + pad_right,
 * plane stride S, activated on the way for conv2d_normed (act(a x + c), the
 * GroupNorm that precedes most convolutions, so that the normalised tensor
 * is never written). On that grid the output pixel at flat position
 * q = oy * Wp + ox (ox < W_out = Wp - KW + 1) reads tap (i, j) of channel ci
 * at xs[ci][q + i * Wp + j]: one offset per tap, the same for every pixel.
 * NR consecutive positions are NR consecutive floats for every tap, whatever
 * rows they span; positions with ox >= W_out are computed and dropped (KW - 1
 * of every Wp). Rows are copied just before the first tile that reads them
 * (and prefetched a chunk earlier), so the kernel finds them in L1/L2.
 * Unpadded 1x1 convolutions copy a chunk of positions per task instead, C_in
 * sequential runs rather than C_in interleaved streams.
 *
 * Micro-kernel: MR = 4 output channels x NR = 24 positions in 12 ymm
 * accumulators; per (ci, tap) 3 unaligned loads, 4 broadcast weights and 12
 * FMAs. Weights are packed per call as wp[co / MR][ci][tap][MR] (zero rows
 * pad C_out to a multiple of MR), read in order. The epilogue goes from the
 * registers to the output when a tile's positions are real outputs of one
 * row, through a small buffer otherwise.
 *
 * Order: each output element is one FMA chain over k = (ci, i, j) in that
 * order from 0, then ((acc + bias + bias_nc) + residual) * scale. Nothing
 * depends on the band, tile, thread or batch size, so results are
 * bit-identical across thread counts and batch sizes.
 *
 * Reduced precision (d->precision, see backend.h): pack_weights rounds the
 * weights, the grid rows are rounded as they are copied, and for bf16/fp16
 * the epilogue rounds each sum before adding to it. fp32 runs as before.
 *
 * Compiled for AVX2+FMA by function attribute and chosen at run time, so a
 * build without -march=native (the sanitizer builds) runs and tests it too. */
#define _POSIX_C_SOURCE 200809L
#include <omp.h>
#include <stdint.h>
#include <string.h>

#include "backend/cpu/cpu_conv_direct.h"
#include "backend/cpu/cpu_math.h"
#include "backend/cpu/cpu_nn.h"
#include "core/precision.h"

#define SR_DIRECT_AVX2 SR_HAVE_AVX2_PATH

#define MR 4
#define NR 24
/* A single output channel (the output convs of progressive output_skip): 1 x
 * NR1 positions in the same 12 accumulators, since 4 channels of which 3 are
 * zero padding would waste 3 of every 4 FMAs. */
#define NR1 96
#define NR_MAX NR1
/* Scratch floats per thread (4 MB): enough rows per band that its halo rows
 * are a small part of the copy; only the rows in use need to be in cache. */
#define BAND_FLOATS (1024u * 1024u)
/* Positions per task of a 1x1 convolution (a multiple of NR): C_in x this
 * many floats stay in L2. */
#define POINTWISE_CHUNK (NR * 32)
/* Positions per chunk of run_grid (a multiple of NR and NR1): about one
 * 320-wide row; a chunk's accumulators, MR x STAGE floats, stay in L1. */
#define STAGE (16 * NR)

static int is_pointwise(const sr_conv2d_desc *d) {
  return d->kh == 1 && d->kw == 1 && d->pad_top == 0 && d->pad_left == 0 && d->pad_bottom == 0 &&
         d->pad_right == 0;
}

int sr_cpu_conv_direct_supported(const sr_conv2d_desc *d) {
#if SR_DIRECT_AVX2
  return sr_cpu_has_avx2() && d->stride == 1 && d->kh * d->kw <= SR_CONV_DIRECT_MAX_TAPS &&
         d->c_out <= SR_CONV_DIRECT_MAX_COUT && d->c_in <= SR_CONV_DIRECT_MAX_CIN &&
         d->pad_top >= 0 && d->pad_left >= 0 && d->pad_bottom >= 0 && d->pad_right >= 0;
#else
  (void)d;
  return 0;
#endif
}

/* A plane stride of at least `floats`, a multiple of 16 floats, whose byte
 * stride is an odd multiple of 64: consecutive planes start in different L1
 * sets, so C_in row pieces at one offset do not evict each other. */
static size_t plane_stride(size_t floats) {
  return (floats + 31) / 32 * 32 + 16;
}

static size_t packed_weight_floats(const sr_conv2d_desc *d) {
  size_t blocks = ((size_t)d->c_out + MR - 1) / MR;
  return blocks * MR * (size_t)d->c_in * d->kh * d->kw;
}

static size_t round64(size_t bytes) {
  return (bytes + 63) / 64 * 64;
}

/* Output rows per band: as many as fit BAND_FLOATS, but at most enough that
 * every thread gets about eight tasks when the image allows (dynamic
 * scheduling then evens out threads that the machine runs slower). */
static int band_rows(const sr_conv2d_desc *d, int threads) {
  const size_t wp = (size_t)d->w + d->pad_left + d->pad_right;
  size_t fit = BAND_FLOATS / ((size_t)d->c_in * wp);
  int r = fit > (size_t)(d->kh - 1) ? (int)(fit - (size_t)(d->kh - 1)) : 1;
  const int want_tasks = 8 * threads;
  const int bands_per_sample = (want_tasks + d->n - 1) / d->n;
  const int even = (d->h_out + bands_per_sample - 1) / bands_per_sample;
  if (r > even) r = even;
  if (r > d->h_out) r = d->h_out;
  return r < 1 ? 1 : r;
}

/* Floats of one thread's scratch. */
static size_t scratch_floats(const sr_conv2d_desc *d, int threads) {
  if (is_pointwise(d)) return (size_t)d->c_in * plane_stride(POINTWISE_CHUNK);
  const size_t wp = (size_t)d->w + d->pad_left + d->pad_right;
  const size_t rows = (size_t)band_rows(d, threads) + d->kh - 1;
  return (size_t)d->c_in * plane_stride(rows * wp + NR_MAX);
}

size_t sr_cpu_conv_direct_workspace(const sr_conv2d_desc *d, int threads) {
  return round64(packed_weight_floats(d) * sizeof(float)) +
         (size_t)threads * round64(scratch_floats(d, threads) * sizeof(float));
}

#if SR_DIRECT_AVX2

/* wp[co / MR][ci][tap][MR] from w (C_out, C_in, KH, KW); zero rows past C_out. */
static void pack_weights(const sr_conv2d_desc *d, const float *w, float *wp) {
  const int taps = d->kh * d->kw, blocks = (d->c_out + MR - 1) / MR;
  for (int cb = 0; cb < blocks; ++cb)
    for (int ci = 0; ci < d->c_in; ++ci)
      for (int t = 0; t < taps; ++t) {
        float *dst = wp + (((size_t)cb * d->c_in + ci) * taps + t) * MR;
        for (int m = 0; m < MR; ++m) {
          const int co = cb * MR + m;
          dst[m] = co < d->c_out
                       ? sr_round_operand(w[((size_t)co * d->c_in + ci) * taps + t], d->precision)
                       : 0.0f;
        }
      }
}

/* The 4 x 24 accumulators of one tile, three ymm per output channel. */
typedef struct tile_acc {
  __m256 v[MR][NR / 8];
} tile_acc;

/* acc[m][l] = sum over ci, tap of wp[ci][tap][m] * xs[ci * plane + off[tap] + l],
 * an FMA chain in (ci, tap) order from 0. Inlined, so the accumulators
 * stay in registers through the epilogue. */
SR_TARGET_AVX2 static inline __attribute__((always_inline)) tile_acc
micro_kernel(const float *restrict xs, size_t plane, const int *restrict off, int taps, int cin,
             const float *restrict wp) {
  __m256 c00 = _mm256_setzero_ps(), c01 = c00, c02 = c00, c10 = c00, c11 = c00, c12 = c00;
  __m256 c20 = c00, c21 = c00, c22 = c00, c30 = c00, c31 = c00, c32 = c00;
  for (int ci = 0; ci < cin; ++ci) {
    const float *xc = xs + (size_t)ci * plane;
    for (int t = 0; t < taps; ++t, wp += MR) {
      const float *p = xc + off[t];
      const __m256 x0 = _mm256_loadu_ps(p), x1 = _mm256_loadu_ps(p + 8);
      const __m256 x2 = _mm256_loadu_ps(p + 16);
      __m256 w = _mm256_broadcast_ss(wp);
      c00 = _mm256_fmadd_ps(w, x0, c00), c01 = _mm256_fmadd_ps(w, x1, c01);
      c02 = _mm256_fmadd_ps(w, x2, c02);
      w = _mm256_broadcast_ss(wp + 1);
      c10 = _mm256_fmadd_ps(w, x0, c10), c11 = _mm256_fmadd_ps(w, x1, c11);
      c12 = _mm256_fmadd_ps(w, x2, c12);
      w = _mm256_broadcast_ss(wp + 2);
      c20 = _mm256_fmadd_ps(w, x0, c20), c21 = _mm256_fmadd_ps(w, x1, c21);
      c22 = _mm256_fmadd_ps(w, x2, c22);
      w = _mm256_broadcast_ss(wp + 3);
      c30 = _mm256_fmadd_ps(w, x0, c30), c31 = _mm256_fmadd_ps(w, x1, c31);
      c32 = _mm256_fmadd_ps(w, x2, c32);
    }
  }
  tile_acc a = {{{c00, c01, c02}, {c10, c11, c12}, {c20, c21, c22}, {c30, c31, c32}}};
  return a;
}

/* What the epilogue adds and where the band's output lives. */
typedef struct band_out {
  float *y;            /* output of channel 0, first row of the band: (C_out, rows, ...) */
  const float *res;    /* residual at the same place, or NULL */
  size_t y_plane;      /* floats between output channels */
  int wp, w_out, rows; /* grid width, valid columns per row, rows in the band */
  int c_out;
  const float *add; /* bias + bias_nc per channel of this sample (C_out) */
  float scale;
  int round_out; /* bf16/fp16: the precision whose format each sum is rounded to, else 0 */
} band_out;

/* The epilogue of a chunk: y = ((acc + add) + res) * scale for the real
 * outputs among grid positions [q0, q0 + lanes) of the block's channels,
 * in runs, one per row (the dropped columns skipped). acc holds the lanes of
 * each channel `stride` apart. Done once per chunk from an L1 buffer rather
 * than tile by tile from registers: stores that miss the cache, scattered
 * between the kernel's loads, held them up (a tenth of the kernel's speed). */
SR_TARGET_AVX2 static void store_runs(const band_out *o, int co0, int r0, int ox0, const float *acc,
                                      int lanes, int stride) {
  const int mmax = o->c_out - co0 < MR ? o->c_out - co0 : MR;
  for (int m = 0; m < mmax; ++m) {
    const float add = o->add[co0 + m];
    const size_t plane = (size_t)(co0 + m) * o->y_plane;
    int r = r0, ox = ox0, l = 0;
    while (l < lanes && r < o->rows) {
      if (ox >= o->w_out) { /* the dropped columns to the row's end */
        l += o->wp - ox;
        ox = 0, ++r;
        continue;
      }
      const int len = o->w_out - ox < lanes - l ? o->w_out - ox : lanes - l;
      const size_t at = plane + (size_t)r * o->w_out + ox;
      const float *a = acc + (size_t)m * stride + l;
      float *yy = o->y + at;
      if (o->round_out) {
        for (int i = 0; i < len; ++i) {
          const float v = sr_round_output(a[i], o->round_out) + add;
          yy[i] = (o->res ? v + o->res[at + i] : v) * o->scale;
        }
      } else if (o->res) {
        const float *rr = o->res + at;
        for (int i = 0; i < len; ++i) yy[i] = (a[i] + add + rr[i]) * o->scale;
      } else {
        for (int i = 0; i < len; ++i) yy[i] = (a[i] + add) * o->scale;
      }
      l += len, ox += len;
    }
  }
}

/* One 4-channel tile into the chunk buffer: stage[m][l0 + l], l < NR. Not
 * inlined: inside the task loop the compiler ran out of registers and
 * reloaded the kernel's pointers from the stack at every tap. */
SR_TARGET_AVX2 __attribute__((noinline)) static void
run_tile(const float *restrict xs, size_t plane, const int *restrict off, int taps, int cin,
         const float *restrict wp, float *stage, int l0) {
  const tile_acc a = micro_kernel(xs, plane, off, taps, cin, wp);
  for (int m = 0; m < MR; ++m)
    for (int v = 0; v < NR / 8; ++v)
      _mm256_storeu_ps(stage + (size_t)m * STAGE + l0 + 8 * v, a.v[m][v]);
}

/* The single-channel tile, positions [q0, q0 + NR1) of channel 0 into
 * stage[0][l0 + l]; weights read from the packed block (MR apart, its
 * padding rows unused); the same FMA chain per output as run_tile. */
SR_TARGET_AVX2 __attribute__((noinline)) static void
run_tile1(const float *restrict xs, size_t plane, const int *restrict off, int taps, int cin,
          const float *restrict wp, float *stage, int l0) {
  __m256 c[NR1 / 8];
#pragma GCC unroll 12
  for (int v = 0; v < NR1 / 8; ++v) c[v] = _mm256_setzero_ps();
  for (int ci = 0; ci < cin; ++ci) {
    const float *xc = xs + (size_t)ci * plane;
    for (int t = 0; t < taps; ++t, wp += MR) {
      const float *p = xc + off[t];
      const __m256 w = _mm256_broadcast_ss(wp);
#pragma GCC unroll 12
      for (int v = 0; v < NR1 / 8; ++v) c[v] = _mm256_fmadd_ps(w, _mm256_loadu_ps(p + 8 * v), c[v]);
    }
  }
#pragma GCC unroll 12
  for (int v = 0; v < NR1 / 8; ++v) _mm256_storeu_ps(stage + l0 + 8 * v, c[v]);
}

/* The input grid of one task and how much of it is filled. Rows are copied
 * just before the first tile that reads them, so they are still in L1/L2
 * when the micro-kernel streams C_in x KH row pieces (too many streams for
 * the hardware prefetcher to follow from L3). */
typedef struct grid_in {
  const sr_conv2d_desc *d;
  const float *xn;  /* the sample's input (C_in, H, W) */
  const float *abn; /* conv2d_normed: (a, c) per input channel of the sample, or NULL */
  int silu;
  float *xs; /* the grid, C_in planes of `plane` floats */
  size_t plane;
  int wp, oy0, rows; /* grid width, first output row, grid rows (band + KH - 1) */
  int filled;        /* grid rows [0, filled) hold their input */
} grid_in;

/* Fills grid rows [g->filled, upto): input row oy0 + r - pad_top
 * (activated, act(a x + c), for conv2d_normed), zero outside the image and
 * in the side padding; with the last row, the NR floats past the grid that
 * the last tile reads. */
static void fill_rows(grid_in *g, int upto) {
  const sr_conv2d_desc *d = g->d;
  if (upto > g->rows) upto = g->rows;
  if (upto <= g->filled) return;
  for (int ci = 0; ci < d->c_in; ++ci) {
    const float *src = g->xn + (size_t)ci * d->h * d->w;
    float *dst = g->xs + (size_t)ci * g->plane;
    for (int r = g->filled; r < upto; ++r) {
      float *row = dst + (size_t)r * g->wp;
      const int iy = g->oy0 + r - d->pad_top;
      if (iy < 0 || iy >= d->h) {
        memset(row, 0, (size_t)g->wp * sizeof(float));
        continue;
      }
      for (int c = 0; c < d->pad_left; ++c) row[c] = 0.0f;
      if (g->abn)
        sr_cpu_affine_act(src + (size_t)iy * d->w, row + d->pad_left, (size_t)d->w, g->abn[2 * ci],
                          g->abn[2 * ci + 1], g->silu);
      else
        memcpy(row + d->pad_left, src + (size_t)iy * d->w, (size_t)d->w * sizeof(float));
      if (d->precision != SR_PRECISION_FP32)
        sr_cpu_round_operands(row + d->pad_left, row + d->pad_left, (size_t)d->w, d->precision);
      for (int c = d->pad_left + d->w; c < g->wp; ++c) row[c] = 0.0f;
    }
    if (upto == g->rows) memset(dst + (size_t)g->rows * g->wp, 0, NR_MAX * sizeof(float));
  }
  g->filled = upto;
}

/* Grid rows a chunk of tiles of nr positions [qa, qb) reads: [0, returned). */
static int rows_for(const sr_conv2d_desc *d, const grid_in *g, int qa, int qb, int nr) {
  /* the chunk's last read: its last tile's q0 + nr - 1 + (KH - 1) Wp + KW - 1 */
  const int last_q0 = qa + (qb - qa - 1) / nr * nr;
  const int last = last_q0 + nr - 1 + (d->kh - 1) * g->wp + d->kw - 1;
  const int rows = last / g->wp + 1;
  return rows < g->rows ? rows : g->rows;
}

/* Software prefetch of the input rows the next chunk's fill will copy, a
 * few cache lines before each micro-kernel call of this chunk: each row of
 * a channel is only W floats, too short for the hardware prefetcher to ramp
 * up before the copy reaches its end. */
typedef struct row_prefetch {
  const grid_in *g;
  int row, row_end, ci, line, lines_per_row, per_call;
} row_prefetch;

static void prefetch_start(row_prefetch *pf, const grid_in *g, int row_end, int calls) {
  pf->g = g;
  pf->row = g->filled, pf->row_end = row_end, pf->ci = 0, pf->line = 0;
  pf->lines_per_row = (int)(((size_t)g->d->w * sizeof(float) + 63) / 64);
  const long long total = (long long)(row_end - g->filled) * g->d->c_in * pf->lines_per_row;
  pf->per_call = total > 0 ? (int)((total + calls - 1) / calls) : 0;
}

static void prefetch_some(row_prefetch *pf) {
  const sr_conv2d_desc *d = pf->g->d;
  for (int k = 0; k < pf->per_call && pf->row < pf->row_end; ++k) {
    const int iy = pf->g->oy0 + pf->row - d->pad_top;
    if (iy >= 0 && iy < d->h)
      __builtin_prefetch(pf->g->xn + ((size_t)pf->ci * d->h + iy) * d->w + (size_t)pf->line * 16, 0,
                         3);
    if (++pf->line == pf->lines_per_row) {
      pf->line = 0;
      if (++pf->ci == d->c_in) pf->ci = 0, ++pf->row;
    }
  }
}

/* Every channel block for every position tile in [0, q_end) of the grid;
 * g fills the grid as the tiles advance (NULL: already complete). Tiles go
 * in chunks of STAGE positions: for each channel block, the chunk's tiles
 * into an L1 buffer, then its epilogue; the block's packed weights stay in
 * L1 across the chunk, the chunk's input rows in L2, and each output channel
 * is written in runs the hardware prefetcher follows. */
static void run_grid(const sr_conv2d_desc *d, grid_in *g, const float *xs, size_t plane,
                     const int *off, const float *wp, const band_out *o, int q_end) {
  const int taps = d->kh * d->kw, blocks = (d->c_out + MR - 1) / MR;
  const size_t block_floats = (size_t)d->c_in * taps * MR;
  const int nr = d->c_out == 1 ? NR1 : NR, chunk = STAGE;
  float stage[MR * STAGE] __attribute__((aligned(32))); /* a chunk's accumulators */
  row_prefetch pf = {0};
  for (int qa = 0; qa < q_end; qa += chunk) {
    const int qb = qa + chunk < q_end ? qa + chunk : q_end;
    if (g) {
      fill_rows(g, rows_for(d, g, qa, qb, nr));
      const int qc = qb + chunk < q_end ? qb + chunk : q_end;
      const int calls = blocks * ((qb - qa + nr - 1) / nr);
      prefetch_start(&pf, g, qb < q_end ? rows_for(d, g, qb, qc, nr) : g->filled, calls);
    }
    const int ra = qa / o->wp, oxa = qa % o->wp;
    for (int cb = 0; cb < blocks; ++cb) {
      for (int q0 = qa; q0 < qb; q0 += nr) {
        if (g) prefetch_some(&pf);
        if (nr == NR1)
          run_tile1(xs + q0, plane, off, taps, d->c_in, wp, stage, q0 - qa);
        else
          run_tile(xs + q0, plane, off, taps, d->c_in, wp + cb * block_floats, stage, q0 - qa);
      }
      store_runs(o, cb * MR, ra, oxa, stage, qb - qa, STAGE);
    }
  }
}

/* bias + bias_nc of sample n, into add (C_out). */
static void sample_add(const sr_conv2d_desc *d, int n, const float *bias, const float *bias_nc,
                       float *add) {
  for (int co = 0; co < d->c_out; ++co) {
    float a = 0.0f;
    if (bias) a += bias[co];
    if (bias_nc) a += bias_nc[(size_t)n * d->c_out + co];
    add[co] = a;
  }
}

void sr_cpu_conv_direct(const sr_conv2d_desc *d, int threads, const float *x, const float *ab,
                        int silu, const float *w, const float *bias, const float *bias_nc,
                        const float *residual, float scale, float *y, void *workspace) {
  float *wp = (float *)workspace;
  char *scratch0 = (char *)workspace + round64(packed_weight_floats(d) * sizeof(float));
  const size_t scratch_bytes = round64(scratch_floats(d, threads) * sizeof(float));
  pack_weights(d, w, wp);

  const int pointwise = is_pointwise(d);
  const size_t p_in = (size_t)d->h * d->w, p_out = (size_t)d->h_out * d->w_out;
  const int wpad = d->w + d->pad_left + d->pad_right;
  const int rows = pointwise ? 0 : band_rows(d, threads);
  const long long per_sample = pointwise
                                   ? (long long)((p_out + POINTWISE_CHUNK - 1) / POINTWISE_CHUNK)
                                   : (long long)((d->h_out + rows - 1) / rows);
  const long long tasks = per_sample * d->n;
  /* tap offsets on the grid (a 1x1 conv has one, 0) */
  int off[SR_CONV_DIRECT_MAX_TAPS];
  for (int i = 0; i < d->kh; ++i)
    for (int j = 0; j < d->kw; ++j) off[i * d->kw + j] = i * wpad + j;
  const double work = 2.0 * d->c_out * (double)d->c_in * d->kh * d->kw * (double)p_out * d->n;
  const int parallel = threads > 1 && tasks > 1 && work > 4e6;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) if (parallel)
  for (long long task = 0; task < tasks; ++task) {
    const int n = (int)(task / per_sample);
    const long long part = task % per_sample;
    const int me = parallel ? omp_get_thread_num() : 0;
    float *xs = (float *)(scratch0 + (size_t)me * scratch_bytes);
    float add[SR_CONV_DIRECT_MAX_COUT];
    sample_add(d, n, bias, bias_nc, add);
    const float *xn = x + (size_t)n * d->c_in * p_in;
    const float *abn = ab ? ab + 2 * (size_t)n * d->c_in : NULL;
    band_out o = {.y = y + (size_t)n * d->c_out * p_out,
                  .res = residual ? residual + (size_t)n * d->c_out * p_out : NULL,
                  .y_plane = p_out,
                  .c_out = d->c_out,
                  .add = add,
                  .scale = scale,
                  .round_out = sr_precision_rounds_output(d->precision) ? d->precision : 0};
    if (pointwise) {
      /* positions [q0, q0 + len) of the plane, copied (zero-padded to a
       * whole tile) into one grid row per channel: C_in long sequential
       * copies instead of C_in interleaved streams from memory */
      const size_t q0 = (size_t)part * POINTWISE_CHUNK;
      const int len = (int)(p_out - q0 < POINTWISE_CHUNK ? p_out - q0 : POINTWISE_CHUNK);
      const int nr = d->c_out == 1 ? NR1 : NR;
      const int padded = (len + nr - 1) / nr * nr;
      const size_t plane = plane_stride(POINTWISE_CHUNK);
      for (int ci = 0; ci < d->c_in; ++ci) {
        float *dst = xs + (size_t)ci * plane;
        if (abn)
          sr_cpu_affine_act(xn + (size_t)ci * p_in + q0, dst, (size_t)len, abn[2 * ci],
                            abn[2 * ci + 1], silu);
        else
          memcpy(dst, xn + (size_t)ci * p_in + q0, (size_t)len * sizeof(float));
        if (d->precision != SR_PRECISION_FP32)
          sr_cpu_round_operands(dst, dst, (size_t)len, d->precision);
        memset(dst + len, 0, (size_t)(padded - len) * sizeof(float));
      }
      o.y += q0;
      if (o.res) o.res += q0;
      o.wp = padded;
      o.w_out = len;
      o.rows = 1;
      run_grid(d, NULL, xs, plane, off, wp, &o, len);
    } else {
      const int oy0 = (int)part * rows;
      const int r = oy0 + rows <= d->h_out ? rows : d->h_out - oy0;
      grid_in g = {.d = d,
                   .xn = xn,
                   .abn = abn,
                   .silu = silu,
                   .xs = xs,
                   .wp = wpad,
                   .oy0 = oy0,
                   .rows = r + d->kh - 1};
      g.plane = plane_stride((size_t)g.rows * wpad + NR_MAX);
      o.y += (size_t)oy0 * d->w_out;
      if (o.res) o.res += (size_t)oy0 * d->w_out;
      o.wp = wpad;
      o.w_out = d->w_out;
      o.rows = r;
      /* the last real output of the band is at q = (r - 1) * Wp + W_out - 1 */
      run_grid(d, &g, xs, g.plane, off, wp, &o, (r - 1) * wpad + d->w_out);
    }
  }
}

#else

void sr_cpu_conv_direct(const sr_conv2d_desc *d, int threads, const float *x, const float *ab,
                        int silu, const float *w, const float *bias, const float *bias_nc,
                        const float *residual, float scale, float *y, void *workspace) {
  (void)d, (void)threads, (void)x, (void)ab, (void)silu, (void)w, (void)bias, (void)bias_nc;
  (void)residual, (void)scale, (void)y, (void)workspace;
}

#endif
