/* Files for test_score_cli.sh (the CLI has no writer of its own for them):
 *   score_cli_samples make DATA_DIR OUT_DIR
 *     from DATA_DIR/ct_io.safetensors (the CT layout's golden): x.npy (H, W)
 *     and x64.npy (the same in float64) = sample 0's input, out.npy its
 *     golden output, sigma.txt its noise level; bad inputs: odd.npy (H and
 *     W not multiples of the model's), two_channels.npy (1, 2, H, W) for a
 *     1-channel model, nan.npy (x with one NaN); truncated.safetensors (the
 *     first half of ct.safetensors).
 *   score_cli_samples compare A.npy B.npy TOL
 *     exit 0 when both are float32 of the same shape and ||A - B|| / ||B||
 *     <= TOL, printing the error. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/npy.h"
#include "io/safetensors.h"

static sr_context *ctx;

static int report(sr_status s) {
  if (s != SR_OK) fprintf(stderr, "score_cli_samples: %s\n", sr_context_last_error(ctx));
  return s != SR_OK;
}

static const char *at(const char *dir, const char *name) {
  static char buf[4][1024];
  static int next;
  char *b = buf[next++ & 3];
  snprintf(b, sizeof buf[0], "%s/%s", dir, name);
  return b;
}

/* An (ndim, shape) float32 array holding n floats from src (zeros if NULL). */
static int write_f32(const char *path, int ndim, const int64_t *shape, const float *src, size_t n) {
  sr_array a;
  if (report(sr_array_alloc(ctx, path, SR_DTYPE_F32, ndim, shape, &a))) return 1;
  if (src) memcpy(a.data, src, n * sizeof(float));
  int failed = report(sr_npy_write(ctx, path, &a));
  sr_array_free(&a);
  return failed;
}

static int make(const char *data, const char *out) {
  sr_safetensors *io = NULL;
  if (report(sr_safetensors_open(ctx, at(data, "ct_io.safetensors"), &io))) return 1;
  const sr_st_tensor *x = sr_safetensors_find(io, "x"), *y = sr_safetensors_find(io, "out");
  const sr_st_tensor *cond = sr_safetensors_find(io, "cond");
  if (!x || !y || !cond || x->ndim != 4 || x->dtype != SR_ST_F32) {
    fprintf(stderr, "score_cli_samples: ct_io.safetensors lacks x, out or cond\n");
    sr_safetensors_close(io);
    return 1;
  }
  const int64_t h = x->shape[2], w = x->shape[3];
  const size_t plane = (size_t)(h * w);
  const int64_t hw[2] = {h, w};
  int failed = write_f32(at(out, "x.npy"), 2, hw, (const float *)x->data, plane);
  failed |= write_f32(at(out, "out.npy"), 2, hw, (const float *)y->data, plane);
  sr_array a64;
  failed |= report(sr_array_alloc(ctx, "x64", SR_DTYPE_F64, 2, hw, &a64));
  if (!failed) {
    for (size_t i = 0; i < plane; ++i) ((double *)a64.data)[i] = ((const float *)x->data)[i];
    failed |= report(sr_npy_write(ctx, at(out, "x64.npy"), &a64));
  }
  sr_array_free(&a64);
  FILE *f = fopen(at(out, "sigma.txt"), "w");
  if (f) {
    fprintf(f, "%.9g\n", (double)((const float *)cond->data)[0]);
    fclose(f);
  }
  failed |= !f;

  const int64_t odd[2] = {h + 1, w + 1}, two[4] = {1, 2, h, w};
  failed |= write_f32(at(out, "odd.npy"), 2, odd, NULL, 0);
  failed |= write_f32(at(out, "two_channels.npy"), 4, two, NULL, 0);
  float *nan = (float *)malloc(plane * sizeof(float));
  memcpy(nan, x->data, plane * sizeof(float));
  nan[plane / 3] = NAN;
  failed |= write_f32(at(out, "nan.npy"), 2, hw, nan, plane);
  free(nan);
  sr_safetensors_close(io);

  /* the first half of the weights file */
  FILE *src = fopen(at(data, "ct.safetensors"), "rb");
  FILE *dst = fopen(at(out, "truncated.safetensors"), "wb");
  if (!src || !dst) failed = 1;
  if (src && dst) {
    fseek(src, 0, SEEK_END);
    const long half = ftell(src) / 2;
    fseek(src, 0, SEEK_SET);
    for (long i = 0; i < half; ++i) fputc(fgetc(src), dst);
  }
  if (src) fclose(src);
  if (dst) fclose(dst);
  return failed;
}

static int compare(const char *a_path, const char *b_path, double tol) {
  sr_array a = {0}, b = {0};
  int failed = report(sr_npy_read(ctx, a_path, &a)) || report(sr_npy_read(ctx, b_path, &b));
  if (!failed && (a.dtype != SR_DTYPE_F32 || b.dtype != SR_DTYPE_F32 || a.ndim != b.ndim ||
                  memcmp(a.shape, b.shape, (size_t)a.ndim * sizeof a.shape[0]) != 0)) {
    fprintf(stderr, "compare: %s and %s differ in dtype or shape\n", a_path, b_path);
    failed = 1;
  }
  if (!failed) {
    double num = 0.0, den = 0.0;
    const float *p = (const float *)a.data, *q = (const float *)b.data;
    for (size_t i = 0; i < a.nbytes / sizeof(float); ++i) {
      num += ((double)p[i] - q[i]) * ((double)p[i] - q[i]);
      den += (double)q[i] * q[i];
    }
    const double err = sqrt(num / (den > 0.0 ? den : 1e-300));
    printf("relative L2 error %.3g (tolerance %.3g)\n", err, tol);
    failed = !(err <= tol);
  }
  sr_array_free(&a);
  sr_array_free(&b);
  return failed;
}

int main(int argc, char **argv) {
  sr_context_options o = sr_context_options_default();
  o.backend = SR_BACKEND_CPU;
  if (sr_context_create(&o, &ctx) != SR_OK) return 1;
  int rc = 2;
  if (argc == 4 && !strcmp(argv[1], "make"))
    rc = make(argv[2], argv[3]);
  else if (argc == 5 && !strcmp(argv[1], "compare"))
    rc = compare(argv[2], argv[3], atof(argv[4]));
  else
    fprintf(stderr, "usage: score_cli_samples make DATA_DIR OUT_DIR | compare A B TOL\n");
  sr_context_destroy(ctx);
  return rc;
}
