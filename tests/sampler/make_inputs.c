/* Inputs for the sampler's CLI tests:
 *   make_inputs prior OUT.safetensors H W STD [MEAN]
 *       an analytic Gaussian prior model file (sampler/gaussian_prior.h),
 *       mean MEAN everywhere (default 0.5);
 *   make_inputs phantom OUT.npy SLICES N
 *       a (SLICES, N, N) float32 stack of ellipse phantoms in [0, 1]. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/npy.h"
#include "sampler/gaussian_prior.h"

static sr_status phantom(sr_context *ctx, const char *path, long slices, long n) {
  const int64_t shape[3] = {slices, n, n};
  sr_array a;
  sr_status st = sr_array_alloc(ctx, path, SR_DTYPE_F32, 3, shape, &a);
  if (st != SR_OK) return st;
  float *v = (float *)a.data;
  for (long s = 0; s < slices; ++s)
    for (long r = 0; r < n; ++r)
      for (long c = 0; c < n; ++c) {
        const double x = (c - n / 2 + 0.5) / (n / 2.0), y = (r - n / 2 + 0.5) / (n / 2.0);
        double p = 0.0;
        if (x * x / 0.8 + y * y / 0.6 < 1.0) p = 0.6;
        if ((x - 0.2 - 0.05 * s) * (x - 0.2 - 0.05 * s) + (y + 0.1) * (y + 0.1) < 0.05) p = 1.0;
        if ((x + 0.3) * (x + 0.3) / 0.02 + (y - 0.2) * (y - 0.2) / 0.08 < 1.0) p = 0.3;
        v[(s * n + r) * n + c] = (float)p;
      }
  st = sr_npy_write(ctx, path, &a);
  sr_array_free(&a);
  return st;
}

int main(int argc, char **argv) {
  sr_context_options o = sr_context_options_default();
  o.backend = SR_BACKEND_CPU;
  sr_context *ctx = NULL;
  if (sr_context_create(&o, &ctx) != SR_OK) return 1;
  sr_status st = SR_ERR_INVALID_ARGUMENT;
  if (argc >= 6 && strcmp(argv[1], "prior") == 0) {
    const long h = atol(argv[3]), w = atol(argv[4]);
    const float m = argc > 6 ? (float)atof(argv[6]) : 0.5f;
    float *mean = (float *)malloc((size_t)(h > 0 && w > 0 ? h * w : 1) * sizeof(float));
    for (long i = 0; i < h * w; ++i) mean[i] = m;
    st = sr_gaussian_prior_save(ctx, argv[2], mean, h, w, atof(argv[5]), NULL);
    free(mean);
  } else if (argc == 5 && strcmp(argv[1], "phantom") == 0) {
    st = phantom(ctx, argv[2], atol(argv[3]), atol(argv[4]));
  } else {
    fprintf(stderr, "usage: make_inputs prior OUT H W STD [MEAN] | phantom OUT SLICES N\n");
    sr_context_destroy(ctx);
    return 2;
  }
  if (st != SR_OK) fprintf(stderr, "make_inputs: %s\n", sr_context_last_error(ctx));
  sr_context_destroy(ctx);
  return st == SR_OK ? 0 : 1;
}
