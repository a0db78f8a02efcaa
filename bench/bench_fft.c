/* FFT and MRI benchmark: the centred orthonormal 2-D FFT (fft2c, fastMRI's
 * convention) at 256^2 and 512^2, batch 1 and 32, forward; the paper's CT
 * transform T (pad to ceil(sqrt(2) N), x4, unshifted FFT) at N = 320; and
 * the MRI baselines at 320^2 (zero-filled, TV by Chambolle-Pock, per
 * iteration). CPU backend, and CUDA when a GPU answers. Each case: one
 * warm-up call, then the median of --repeats timed calls ending with the
 * backend synchronised, in ms.
 *
 *   bench_fft [--backend cpu|cuda|all] [--repeats 7] [--threads N] [--csv]
 *
 * --csv prints backend,case,n,batch,ms for bench/bench_fft_numpy.py, which
 * times numpy.fft on the same shapes in the same session and prints the
 * ratios. Results: bench/RESULTS.md ("FFT and MRI"). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend/backend.h"
#include "operators/ct_fourier.h"
#include "operators/mri_cartesian.h"
#include "operators/mri_mask.h"
#include "operators/tv_recon.h"

static int repeats = 7, csv = 0;

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

typedef sr_status (*bench_fn)(void *arg);

/* Median time of fn over the repeats, after one warm-up; -1 on failure. */
static double time_median(sr_backend *b, bench_fn fn, void *arg) {
  if (fn(arg) != SR_OK || b->ops->synchronize(b) != SR_OK) return -1.0;
  double t[64];
  int n = repeats < 64 ? repeats : 64;
  for (int i = 0; i < n; ++i) {
    double t0 = now_ms();
    if (fn(arg) != SR_OK || b->ops->synchronize(b) != SR_OK) return -1.0;
    t[i] = now_ms() - t0;
  }
  qsort(t, (size_t)n, sizeof *t, cmp_double);
  return t[n / 2];
}

static void report(sr_backend *b, const char *name, int n, int batch, double ms) {
  if (ms < 0.0) {
    fprintf(stderr, "bench_fft: %s %s failed: %s\n", b->ops->name, name,
            sr_context_last_error(b->ctx));
    return;
  }
  if (csv)
    printf("%s,%s,%d,%d,%.4f\n", b->ops->name, name, n, batch, ms);
  else
    printf("%-5s %-22s %5d^2 batch %3d  %10.3f ms  %8.3f ms/slice\n", b->ops->name, name, n, batch,
           ms, ms / batch);
}

typedef struct fft_arg {
  sr_backend *b;
  float *x;
  size_t batch, n;
} fft_arg;

static sr_status run_fft2c(void *p) {
  fft_arg *a = (fft_arg *)p;
  return a->b->ops->fft2c(a->b, a->x, a->x, a->batch, a->n, a->n, 0);
}

typedef struct op_arg {
  sr_operator *op;
  float *x, *y;
  size_t batch;
  int kind; /* 0 transform, 1 zero-filled, 2 tv */
  sr_tv_params tv;
} op_arg;

static sr_status run_op(void *p) {
  op_arg *a = (op_arg *)p;
  if (a->kind == 0) return a->op->vt->transform(a->op, a->x, a->y, a->batch);
  if (a->kind == 1) return sr_mri_zero_filled(a->op, a->y, a->x, a->batch);
  return sr_tv_reconstruct(a->op, a->y, a->x, a->batch, &a->tv, NULL);
}

static void bench_backend(sr_backend *b) {
  const int sizes[2] = {256, 512}, batches[2] = {1, 32};
  for (int si = 0; si < 2; ++si)
    for (int bi = 0; bi < 2; ++bi) {
      fft_arg a = {b, NULL, (size_t)batches[bi], (size_t)sizes[si]};
      size_t bytes = 2 * a.batch * a.n * a.n * sizeof(float);
      if (b->ops->alloc(b, bytes, (void **)&a.x) != SR_OK) continue;
      b->ops->fill(b, a.x, bytes / sizeof(float), 0.5f);
      report(b, "fft2c", sizes[si], batches[bi], time_median(b, run_fft2c, &a));
      b->ops->free(b, a.x);
    }

  /* The paper's CT transform T at N = 320 (a 1812^2 complex FFT). */
  sr_ct_fourier_params cp = {.image_size = 320};
  op_arg o = {0};
  if (sr_ct_fourier_create(b, &cp, &o.op) == SR_OK) {
    o.batch = 1;
    b->ops->alloc(b, 320 * 320 * sizeof(float), (void **)&o.x);
    b->ops->alloc(b, 2 * o.op->transform_elems * sizeof(float), (void **)&o.y);
    b->ops->fill(b, o.x, 320 * 320, 0.5f);
    report(b, "ct-fourier T", 320, 1, time_median(b, run_op, &o));
    b->ops->free(b, o.x), b->ops->free(b, o.y);
    sr_operator_destroy(o.op);
  }

  /* MRI baselines at 320^2: zero-filled, and TV per iteration (100). */
  static float mask[320 * 320];
  sr_mask_params mp = sr_mask_params_default();
  mp.accel = 4.0;
  sr_mri_mask_make(b->ctx, &mp, 320, 320, mask);
  const int mbatch[2] = {1, 8};
  for (int bi = 0; bi < 2; ++bi) {
    memset(&o, 0, sizeof o);
    if (sr_mri_cartesian_create(b, 320, 320, mask, &o.op) != SR_OK) continue;
    o.batch = (size_t)mbatch[bi];
    b->ops->alloc(b, o.batch * 320 * 320 * sizeof(float), (void **)&o.x);
    b->ops->alloc(b, 2 * o.batch * 320 * 320 * sizeof(float), (void **)&o.y);
    b->ops->fill(b, o.x, o.batch * 320 * 320, 0.5f);
    o.op->vt->forward(o.op, o.x, o.y, o.batch);
    o.kind = 1;
    report(b, "mri zero-filled", 320, mbatch[bi], time_median(b, run_op, &o));
    o.kind = 2;
    o.tv = sr_tv_params_default();
    o.tv.iters = 100;
    o.tv.power_iters = 10;
    int saved = repeats;
    repeats = 3;
    double ms = time_median(b, run_op, &o);
    repeats = saved;
    report(b, "mri tv (100 iters)", 320, mbatch[bi], ms);
    b->ops->free(b, o.x), b->ops->free(b, o.y);
    sr_operator_destroy(o.op);
  }
}

int main(int argc, char **argv) {
  const char *which = "all";
  int threads = 0;
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--csv") == 0)
      csv = 1;
    else if (strcmp(argv[i], "--backend") == 0 && i + 1 < argc)
      which = argv[++i];
    else if (strcmp(argv[i], "--repeats") == 0 && i + 1 < argc)
      repeats = atoi(argv[++i]);
    else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
      threads = atoi(argv[++i]);
    else {
      fprintf(stderr,
              "usage: bench_fft [--backend cpu|cuda|all] [--repeats N] [--threads N] [--csv]\n");
      return 2;
    }
  }
  if (repeats < 1) repeats = 1;
  const sr_backend_kind kinds[2] = {SR_BACKEND_CPU, SR_BACKEND_CUDA};
  for (int k = 0; k < 2; ++k) {
    if (strcmp(which, "all") != 0 && strcmp(which, k ? "cuda" : "cpu") != 0) continue;
    sr_context_options o = sr_context_options_default();
    o.backend = kinds[k];
    o.threads = threads;
    sr_context *ctx = NULL;
    if (sr_context_create(&o, &ctx) != SR_OK) {
      if (!csv) printf("%s: not available (%s)\n", k ? "cuda" : "cpu", sr_context_last_error(ctx));
      sr_context_destroy(ctx);
      continue;
    }
    bench_backend(sr_context_get_backend(ctx));
    sr_context_destroy(ctx);
  }
  return 0;
}
