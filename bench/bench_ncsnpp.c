/* NCSN++ forward: ms per image and GFLOP/s on the context's backend, beside
 * the PyTorch peer (score_sde_pytorch's own NCSN++, bench/ncsnpp_peer.py)
 * run in the same rounds: each round times one forward of ours, then one of
 * the peer, so both see the same load (the machines are shared).
 *
 *   bench_ncsnpp MODEL.safetensors [--size S] [--batch N] [--repeats R]
 *                [--backend cpu|cuda] [--threads T] [--peer "COMMAND"] [--gap MS]
 *                [--precision fp32|tf32|bf16|fp16]
 *
 * --precision sets the convolutions' arithmetic (sr_model_set_precision);
 * other than fp32 the bench first runs the same batch in fp32 and prints the
 * error of the reduced-precision output against it (relative L2 over the
 * batch, and the largest absolute difference relative to the largest fp32
 * magnitude). --repeats 0 prints only that, no timing.
 *
 * COMMAND runs under sh with pipes on its stdin and stdout: it prints
 * "ready" once warmed up, then answers each line "run" with one forward of
 * the same batch and a line "peer_ms X" (X: ms for the batch); it exits at
 * end of input (ncsnpp_peer.py serve does this). Printed: medians over the
 * rounds of both, their ratio, and the median of the per-round ratios; the
 * CPU time of our forward (load-independent as long as the threads get a
 * core each); the load average before and after. Between the two sides of
 * a round the bench sleeps --gap ms (default 300): OpenMP runtimes spin
 * their idle threads for a while after a parallel region, and a side that
 * starts while the other's threads still spin loses a core to them (with 2
 * threads on 2 cores that made both sides up to 3x slower). FLOPs: 2 x
 * multiply-adds of the convolutions, attention, dense layers and FIR taps at
 * this size. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "scorerecon.h"

static double now(clockid_t clock) {
  struct timespec t;
  clock_gettime(clock, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* One peer forward; ms for the batch, or -1. */
static double peer_run(sr_bench_peer *p) {
  char line[512];
  return sr_bench_peer_run(p, "peer_ms", line, sizeof line) == 0 ? atof(line + 7) : -1.0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr,
            "usage: %s MODEL [--size S] [--batch N] [--repeats R] [--backend cpu|cuda] "
            "[--threads T] [--peer CMD] [--gap MS] [--precision fp32|tf32|bf16|fp16]\n",
            argv[0]);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  const char *path = argv[1], *peer_cmd = NULL;
  int size = 0, batch = 1, repeats = 5, threads = 0, gap_ms = 300;
  sr_backend_kind kind = SR_BACKEND_CPU;
  sr_precision precision = SR_PRECISION_FP32;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--size"))
      size = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--batch"))
      batch = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--repeats"))
      repeats = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--threads"))
      threads = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--peer"))
      peer_cmd = argv[i + 1];
    else if (!strcmp(argv[i], "--gap"))
      gap_ms = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--precision")) {
      if (sr_precision_from_name(argv[i + 1], &precision) != 0) {
        fprintf(stderr, "--precision: \"%s\" is not fp32, tf32, bf16 or fp16\n", argv[i + 1]);
        return 2;
      }
    } else if (!strcmp(argv[i], "--backend"))
      kind = !strcmp(argv[i + 1], "cuda") ? SR_BACKEND_CUDA : SR_BACKEND_CPU;
  }
  if (repeats < 0) repeats = 0;
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
  /* FLOPs at this size: the model's own count scales with the pixel count
   * (attention with its square: < 1% of the CT model, ignored) */
  const double flops = info.flops_per_sample * ((double)size * size) /
                       ((double)info.image_size * info.image_size) * batch;
  float *ref = NULL;
  if (precision != SR_PRECISION_FP32) { /* the fp32 output to measure against */
    ref = (float *)malloc(count * sizeof(float));
    if (!ref || sr_model_forward(m, &x, cond, &y) != SR_OK ||
        sr_tensor_download(ctx, &y, ref, count * sizeof(float)) != SR_OK) {
      fprintf(stderr, "%s\n", ref ? sr_context_last_error(ctx) : "out of memory");
      return 1;
    }
  }
  if (sr_model_set_precision(m, precision) != SR_OK ||
      sr_model_forward(m, &x, cond, &y) != SR_OK) { /* plans memory; warms caches */
    fprintf(stderr, "%s\n", sr_context_last_error(ctx));
    return 1;
  }
  if (ref) {
    float *got = (float *)malloc(count * sizeof(float));
    if (!got || sr_tensor_download(ctx, &y, got, count * sizeof(float)) != SR_OK) {
      fprintf(stderr, "%s\n", got ? sr_context_last_error(ctx) : "out of memory");
      return 1;
    }
    double num = 0.0, den = 0.0, max_diff = 0.0, max_ref = 0.0;
    for (size_t i = 0; i < count; ++i) {
      const double dv = (double)got[i] - ref[i];
      num += dv * dv, den += (double)ref[i] * ref[i];
      if (fabs(dv) > max_diff || isnan(dv)) max_diff = fabs(dv);
      if (fabs(ref[i]) > max_ref) max_ref = fabs(ref[i]);
    }
    printf("precision %s vs fp32 (%s backend, %dx%d, batch %d): relative L2 %.3e, max abs "
           "%.3e (%.3e of max |fp32|)\n",
           sr_precision_name(precision), sr_backend_name(sr_context_backend(ctx)), size, size,
           batch, den > 0.0 ? sqrt(num / den) : sqrt(num), max_diff,
           max_ref > 0.0 ? max_diff / max_ref : max_diff);
    free(got);
    free(ref);
  }
  if (repeats == 0) {
    free(host), free(cond);
    sr_tensor_free(ctx, &x), sr_tensor_free(ctx, &y);
    sr_model_free(m);
    sr_context_destroy(ctx);
    return 0;
  }
  sr_bench_peer pr = {0};
  if (peer_cmd && sr_bench_peer_start(&pr, peer_cmd) != 0) {
    fprintf(stderr, "peer \"%s\" did not start (no \"ready\" line)\n", peer_cmd);
    sr_bench_peer_stop(&pr);
    peer_cmd = NULL;
  }
  sr_bench_print_load("before");
  double *t = (double *)calloc((size_t)repeats, sizeof(double));
  double *cpu = (double *)calloc((size_t)repeats, sizeof(double));
  double *tp = (double *)calloc((size_t)repeats, sizeof(double));
  double *ratio = (double *)calloc((size_t)repeats, sizeof(double));
  int peer_ok = peer_cmd != NULL;
  const struct timespec gap = {gap_ms / 1000, (long)(gap_ms % 1000) * 1000000L};
  for (int r = 0; r < repeats; ++r) {
    if (peer_ok) nanosleep(&gap, NULL);
    const double t0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID);
    sr_model_forward(m, &x, cond, &y);
    sr_tensor_download(ctx, &y, host, count * sizeof(float)); /* waits for the device */
    t[r] = now(CLOCK_MONOTONIC) - t0;
    cpu[r] = now(CLOCK_PROCESS_CPUTIME_ID) - c0;
    if (peer_ok) {
      nanosleep(&gap, NULL);
      tp[r] = peer_run(&pr) * 1e-3;
      if (tp[r] <= 0.0)
        peer_ok = 0;
      else
        ratio[r] = tp[r] / t[r];
    }
  }
  sr_bench_print_load("after");
  const double med = sr_bench_median(t, repeats), cpu_med = sr_bench_median(cpu, repeats);
  printf("NCSN++ %s: %dx%d, batch %d, %s backend, %d threads, %s convolutions, %.2f GFLOP per "
         "image, %d params\n",
         path, size, size, batch, sr_backend_name(sr_context_backend(ctx)), threads,
         sr_precision_name(precision), flops / batch / 1e9, (int)info.num_params);
  printf("scorerecon: %.1f ms per image (median of %d, min %.1f), %.1f GFLOP/s; "
         "CPU time %.1f ms per image\n",
         1e3 * med / batch, repeats, 1e3 * t[0] / batch, flops / med / 1e9, 1e3 * cpu_med / batch);
  if (peer_cmd && peer_ok) {
    const double pmed = sr_bench_median(tp, repeats);
    printf("peer: %.1f ms per image (median of %d, min %.1f), %.1f GFLOP/s\n", 1e3 * pmed / batch,
           repeats, 1e3 * tp[0] / batch, flops / pmed / 1e9);
    printf("ratio (peer / scorerecon): %.2fx of the medians, %.2fx the median per round\n",
           pmed / med, sr_bench_median(ratio, repeats));
  } else if (peer_cmd) {
    printf("peer: no timing from \"%s\"\n", peer_cmd);
  }
  sr_bench_peer_stop(&pr);
  free(t), free(cpu), free(tp), free(ratio), free(host), free(cond);
  sr_tensor_free(ctx, &x), sr_tensor_free(ctx, &y);
  sr_model_free(m);
  sr_context_destroy(ctx);
  return 0;
}
