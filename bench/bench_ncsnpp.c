/* NCSN++ forward: ms per image and GFLOP/s on the context's backend, beside
 * the PyTorch peer (score_sde_pytorch's own NCSN++, bench/ncsnpp_peer.py) run
 * in the same process tree right after, and the ratio.
 *
 *   bench_ncsnpp MODEL.safetensors [--size S] [--batch N] [--repeats R]
 *                [--backend cpu|cuda] [--threads T] [--peer "COMMAND"]
 *
 * COMMAND is run with popen and must print "peer_ms_per_image X" (see
 * bench/RESULTS.md for the exact line used). FLOPs: 2 x multiply-adds of
 * the convolutions, attention, dense layers and FIR taps at this size. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scorerecon.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s MODEL [--size S] [--batch N] [--repeats R] [--backend cpu|cuda] "
                    "[--threads T] [--peer CMD]\n", argv[0]);
    return 2;
  }
  const char *path = argv[1], *peer = NULL;
  int size = 0, batch = 1, repeats = 5, threads = 0;
  sr_backend_kind kind = SR_BACKEND_CPU;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--size")) size = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--batch")) batch = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--repeats")) repeats = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--threads")) threads = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--peer")) peer = argv[i + 1];
    else if (!strcmp(argv[i], "--backend"))
      kind = !strcmp(argv[i + 1], "cuda") ? SR_BACKEND_CUDA : SR_BACKEND_CPU;
  }
  sr_context_options o = sr_context_options_default();
  o.backend = kind;
  o.threads = threads;
  sr_context *ctx = NULL;
  if (sr_context_create(&o, &ctx) != SR_OK) {
    fprintf(stderr, "%s\n", ctx ? sr_context_last_error(ctx) : "no context");
    return 1;
  }
  sr_model *m = NULL;
  if (sr_model_load(ctx, path, &m) != SR_OK) {
    fprintf(stderr, "%s\n", sr_context_last_error(ctx));
    return 1;
  }
  sr_model_info info;
  sr_model_get_info(m, &info);
  if (!size) size = info.image_size;
  const int c = info.num_channels;
  const size_t count = (size_t)batch * c * size * size;
  float *host = (float *)malloc(count * sizeof(float));
  float *cond = (float *)malloc((size_t)batch * sizeof(float));
  for (size_t i = 0; i < count; ++i) host[i] = (float)((i * 2654435761u) % 1000) / 1000.0f;
  for (int i = 0; i < batch; ++i) cond[i] = 0.5f;
  sr_tensor x, y;
  if (sr_tensor_alloc(ctx, SR_DTYPE_F32, batch, c, size, size, &x) != SR_OK ||
      sr_tensor_alloc(ctx, SR_DTYPE_F32, batch, c, size, size, &y) != SR_OK ||
      sr_tensor_upload(ctx, &x, host, count * sizeof(float)) != SR_OK) {
    fprintf(stderr, "%s\n", sr_context_last_error(ctx));
    return 1;
  }
  /* FLOPs scale with the pixel count (attention with its square: ignored here,
   * it is < 1% of the CT model) */
  const double flops = info.flops_per_sample * ((double)size * size) /
                       ((double)info.image_size * info.image_size) * batch;
  double *t = (double *)malloc((size_t)repeats * sizeof(double));
  if (sr_model_forward(m, &x, cond, &y) != SR_OK) { /* plans memory; warms caches */
    fprintf(stderr, "%s\n", sr_context_last_error(ctx));
    return 1;
  }
  for (int r = 0; r < repeats; ++r) {
    double t0 = now();
    sr_model_forward(m, &x, cond, &y);
    sr_tensor_download(ctx, &y, host, count * sizeof(float)); /* waits for the device */
    t[r] = now() - t0;
  }
  qsort(t, (size_t)repeats, sizeof *t, cmp);
  const double med = t[repeats / 2];
  printf("NCSN++ %s: %dx%d, batch %d, %s backend, %.2f GFLOP per image, %d params\n", path,
         size, size, batch, sr_backend_name(sr_context_backend(ctx)), flops / batch / 1e9,
         (int)info.num_params);
  printf("scorerecon: %.1f ms per image (median of %d, min %.1f), %.1f GFLOP/s\n",
         1e3 * med / batch, repeats, 1e3 * t[0] / batch, flops / med / 1e9);
  if (peer) {
    FILE *p = popen(peer, "r");
    char line[512];
    double peer_ms = 0.0;
    while (p && fgets(line, sizeof line, p)) {
      if (!strncmp(line, "peer_ms_per_image", 17)) {
        peer_ms = atof(line + 17);
        printf("peer: %s", line);
      }
    }
    if (p) pclose(p);
    if (peer_ms > 0.0)
      printf("peer %.1f ms per image (%.1f GFLOP/s); scorerecon is %.2fx the peer\n", peer_ms,
             flops / batch / (peer_ms * 1e-3) / 1e9, peer_ms / (1e3 * med / batch));
    else
      printf("peer: no timing line from \"%s\"\n", peer);
  }
  free(t), free(host), free(cond);
  sr_tensor_free(ctx, &x), sr_tensor_free(ctx, &y);
  sr_model_free(m);
  sr_context_destroy(ctx);
  return 0;
}
