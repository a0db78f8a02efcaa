/* Parallel-beam CT projector benchmark: forward projection (radon),
 * backprojection (its adjoint) and FBP (ramp filter + backprojection + scale)
 * through the ct-parallel operator, on the CPU backend and, when a GPU
 * answers, the CUDA backend. For each case: one warm-up call, then the median
 * of --repeats timed calls (each ends with the backend synchronised), in ms
 * and in GUPS = N^2 n_angles batch / time / 1e9 (pixel updates: every pixel
 * meets every view once). "cpu ms" is the process's CPU time per call (the
 * mean): about threads x ms when the cores were ours alone, less when other
 * work shared them (then the wall times are not to be recorded).
 *
 *   bench_ct [--backend cpu|cuda|all] [--sizes 256,512] [--angles 180,360]
 *            [--batches 1,32] [--ops radon,backproject,fbp] [--repeats 5]
 *            [--threads N] [--csv]
 *
 * --csv prints one line per case (backend,op,n,angles,batch,ms,gups) for
 * bench/peers_ct.py, which runs the peers in the same session and prints the
 * ratios. Peers: see bench/peers_ct.py; results: bench/RESULTS.md. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend/backend.h"
#include "operators/ct_geometry.h"
#include "operators/ct_parallel.h"

#define MAX_LIST 8

typedef struct options {
  int sizes[MAX_LIST], n_sizes;
  int angles[MAX_LIST], n_angles;
  int batches[MAX_LIST], n_batches;
  int ops; /* bit mask: 1 radon, 2 backproject, 4 fbp */
  int repeats;
  int threads;
  int csv;
  const char *backend;
} options;

static const char *const op_names[3] = {"radon", "backproject", "fbp"};

static int parse_list(const char *s, int *out) {
  int n = 0;
  while (*s && n < MAX_LIST) {
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (end == s || v <= 0) return -1;
    out[n++] = (int)v;
    s = *end == ',' ? end + 1 : end;
  }
  return n;
}

static int parse_ops(const char *s) {
  int mask = 0;
  for (int i = 0; i < 3; ++i)
    if (strstr(s, op_names[i])) mask |= 1 << i;
  return mask;
}

static int parse_args(int argc, char **argv, options *o) {
  memset(o, 0, sizeof *o);
  o->sizes[0] = 256, o->sizes[1] = 512, o->n_sizes = 2;
  o->angles[0] = 180, o->angles[1] = 360, o->n_angles = 2;
  o->batches[0] = 1, o->batches[1] = 32, o->n_batches = 2;
  o->ops = 7;
  o->repeats = 5;
  o->backend = "all";
  for (int i = 1; i < argc; ++i) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--csv") == 0) {
      o->csv = 1;
      continue;
    }
    if (!v) return -1;
    ++i;
    if (strcmp(a, "--sizes") == 0)
      o->n_sizes = parse_list(v, o->sizes);
    else if (strcmp(a, "--angles") == 0)
      o->n_angles = parse_list(v, o->angles);
    else if (strcmp(a, "--batches") == 0)
      o->n_batches = parse_list(v, o->batches);
    else if (strcmp(a, "--ops") == 0)
      o->ops = parse_ops(v);
    else if (strcmp(a, "--repeats") == 0)
      o->repeats = atoi(v);
    else if (strcmp(a, "--threads") == 0)
      o->threads = atoi(v);
    else if (strcmp(a, "--backend") == 0)
      o->backend = v;
    else
      return -1;
    if (o->n_sizes <= 0 || o->n_angles <= 0 || o->n_batches <= 0 || o->repeats <= 0 || !o->ops)
      return -1;
  }
  return 0;
}

static double clock_ms(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* A smooth disc-shaped phantom (timing does not depend on the values). */
static void phantom(float *x, int n, int batch) {
  for (int s = 0; s < batch; ++s)
    for (int r = 0; r < n; ++r)
      for (int c = 0; c < n; ++c) {
        double dx = (c - n / 2) / (0.4 * n), dy = (r - n / 2) / (0.3 * n);
        double q = dx * dx + dy * dy;
        x[((size_t)s * n + r) * n + c] = q < 1.0 ? (float)(1.0 - q) : 0.0f;
      }
}

static sr_status run_op(sr_operator *op, int which, float *img, float *sino, size_t batch) {
  switch (which) {
  case 0: return op->vt->forward(op, img, sino, batch);
  case 1: return op->vt->adjoint(op, sino, img, batch);
  default: return sr_ct_fbp(op, sino, img, batch, SR_CT_FILTER_RAM_LAK);
  }
}

/* Times every selected op for one (n, angles, batch) on backend b. */
static int bench_case(sr_backend *b, const options *o, int n, int n_angles, int batch) {
  sr_context *ctx = b->ctx;
  sr_ct_geometry g;
  sr_operator *op = NULL;
  if (sr_ct_geometry_init(ctx, &g, n, n, n_angles) != SR_OK ||
      sr_ct_parallel_create(b, &g, &op) != SR_OK) {
    fprintf(stderr, "bench_ct: %s\n", sr_context_last_error(ctx));
    sr_ct_geometry_release(&g);
    return 1;
  }
  const size_t ni = (size_t)n * n * batch, nm = op->meas_elems * batch;
  float *host = (float *)malloc(ni * sizeof *host);
  void *img = NULL, *sino = NULL;
  int rc = 0;
  if (!host || b->ops->alloc(b, ni * 4, &img) != SR_OK ||
      b->ops->alloc(b, nm * 4, &sino) != SR_OK) {
    fprintf(stderr, "bench_ct: out of memory (%s)\n", sr_context_last_error(ctx));
    rc = 1;
    goto done;
  }
  phantom(host, n, batch);
  if (b->ops->upload(b, img, host, ni * 4) != SR_OK ||
      op->vt->forward(op, (const float *)img, sino, (size_t)batch) != SR_OK) {
    fprintf(stderr, "bench_ct: %s\n", sr_context_last_error(ctx));
    rc = 1;
    goto done;
  }
  for (int which = 0; which < 3; ++which) {
    if (!(o->ops & (1 << which))) continue;
    double *t = (double *)malloc((size_t)o->repeats * sizeof *t);
    double cpu_ms = 0.0;
    for (int r = -1; r < o->repeats; ++r) {
      double t0 = clock_ms(CLOCK_MONOTONIC), c0 = clock_ms(CLOCK_PROCESS_CPUTIME_ID);
      sr_status st = run_op(op, which, (float *)img, (float *)sino, (size_t)batch);
      if (st == SR_OK) st = b->ops->synchronize(b);
      double t1 = clock_ms(CLOCK_MONOTONIC);
      if (r >= 0) cpu_ms += clock_ms(CLOCK_PROCESS_CPUTIME_ID) - c0;
      if (st != SR_OK) {
        fprintf(stderr, "bench_ct: %s: %s\n", op_names[which], sr_context_last_error(ctx));
        rc = 1;
        break;
      }
      if (r >= 0) t[r] = t1 - t0;
    }
    if (rc) {
      free(t);
      break;
    }
    qsort(t, (size_t)o->repeats, sizeof *t, cmp_double);
    double ms =
        o->repeats % 2 ? t[o->repeats / 2] : 0.5 * (t[o->repeats / 2 - 1] + t[o->repeats / 2]);
    double gups = (double)n * n * n_angles * batch / (ms * 1e-3) / 1e9;
    cpu_ms /= o->repeats;
    if (o->csv)
      printf("%s,%s,%d,%d,%d,%.4f,%.4f,%.4f\n", b->ops->name, op_names[which], n, n_angles, batch,
             ms, gups, cpu_ms);
    else
      printf("%-5s %-12s %5d %6d %6d %11.3f %9.3f %11.3f\n", b->ops->name, op_names[which], n,
             n_angles, batch, ms, gups, cpu_ms);
    fflush(stdout);
    free(t);
  }
done:
  if (img) b->ops->free(b, img);
  if (sino) b->ops->free(b, sino);
  free(host);
  sr_operator_destroy(op);
  sr_ct_geometry_release(&g);
  return rc;
}

static void print_load(const options *o) {
  FILE *f = fopen("/proc/loadavg", "r");
  char line[128] = "?";
  if (f) {
    if (!fgets(line, sizeof line, f)) strcpy(line, "?");
    fclose(f);
  }
  line[strcspn(line, "\n")] = 0;
  printf("%s load average: %s; repeats %d (median)\n", o->csv ? "#" : "", line, o->repeats);
}

static int bench_backend(sr_backend_kind kind, const options *o) {
  sr_context_options co = sr_context_options_default();
  co.backend = kind;
  co.threads = o->threads;
  sr_context *ctx = NULL;
  if (sr_context_create(&co, &ctx) != SR_OK) {
    printf("%s%s backend unavailable: %s\n", o->csv ? "# " : "", sr_backend_name(kind),
           ctx ? sr_context_last_error(ctx) : "");
    sr_context_destroy(ctx);
    return kind == SR_BACKEND_CPU;
  }
  sr_backend *b = sr_context_get_backend(ctx);
  if (kind == SR_BACKEND_CPU) printf("%scpu backend: %d threads\n", o->csv ? "# " : "", b->threads);
  int rc = 0;
  for (int i = 0; i < o->n_sizes && !rc; ++i)
    for (int j = 0; j < o->n_angles && !rc; ++j)
      for (int k = 0; k < o->n_batches && !rc; ++k)
        rc = bench_case(b, o, o->sizes[i], o->angles[j], o->batches[k]);
  sr_context_destroy(ctx);
  return rc;
}

int main(int argc, char **argv) {
  options o;
  if (parse_args(argc, argv, &o) != 0) {
    fprintf(stderr,
            "usage: bench_ct [--backend cpu|cuda|all] [--sizes 256,512] [--angles 180,360]\n"
            "                [--batches 1,32] [--ops radon,backproject,fbp] [--repeats 5]\n"
            "                [--threads N] [--csv]\n");
    return 2;
  }
  print_load(&o);
  if (o.csv)
    printf("backend,op,n,angles,batch,ms,gups,cpu_ms\n");
  else
    printf("%-5s %-12s %5s %6s %6s %11s %9s %11s\n", "dev", "op", "N", "angles", "batch", "ms",
           "GUPS", "cpu ms");
  int rc = 0;
  if (strcmp(o.backend, "cpu") == 0 || strcmp(o.backend, "all") == 0)
    rc |= bench_backend(SR_BACKEND_CPU, &o);
  if (strcmp(o.backend, "cuda") == 0 || strcmp(o.backend, "all") == 0)
    rc |= bench_backend(SR_BACKEND_CUDA, &o);
  return rc;
}
