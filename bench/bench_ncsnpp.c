/* NCSN++ forward: ms per image and GFLOP/s on the context's backend, beside
 * the PyTorch peer (score_sde_pytorch's own NCSN++, bench/ncsnpp_peer.py)
 * run in the same rounds: each round times one forward of ours, then one of
 * the peer, so both see the same load (the machines are shared).
 *
 *   bench_ncsnpp MODEL.safetensors [--size S] [--batch N] [--repeats R]
 *                [--backend cpu|cuda] [--threads T] [--peer "COMMAND"] [--gap MS]
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
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "scorerecon.h"

static double now(clockid_t clock) {
  struct timespec t;
  clock_gettime(clock, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static void print_load(const char *when) {
  FILE *f = fopen("/proc/loadavg", "r");
  char line[128] = "?";
  if (f) {
    if (!fgets(line, sizeof line, f)) strcpy(line, "?\n");
    fclose(f);
  }
  printf("load average %s: %s", when, line);
}

/* The peer: a child under sh -c with our pipes. */
typedef struct peer {
  pid_t pid;
  FILE *to, *from;
} peer;

static int peer_start(peer *p, const char *cmd) {
  int in[2], out[2];
  if (pipe(in) != 0 || pipe(out) != 0) return -1;
  p->pid = fork();
  if (p->pid < 0) return -1;
  if (p->pid == 0) {
    dup2(in[0], 0), dup2(out[1], 1);
    close(in[0]), close(in[1]), close(out[0]), close(out[1]);
    execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
    _exit(127);
  }
  close(in[0]), close(out[1]);
  p->to = fdopen(in[1], "w");
  p->from = fdopen(out[0], "r");
  char line[512];
  while (fgets(line, sizeof line, p->from))
    if (!strncmp(line, "ready", 5)) {
      printf("peer: %s", line);
      return 0;
    }
  return -1;
}

/* One peer forward; ms for the batch, or -1. */
static double peer_run(peer *p) {
  fputs("run\n", p->to);
  fflush(p->to);
  char line[512];
  while (fgets(line, sizeof line, p->from))
    if (!strncmp(line, "peer_ms", 7)) return atof(line + 7);
  return -1.0;
}

static void peer_stop(peer *p) {
  if (p->to) fclose(p->to);
  if (p->from) fclose(p->from);
  if (p->pid > 0) waitpid(p->pid, NULL, 0);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr,
            "usage: %s MODEL [--size S] [--batch N] [--repeats R] [--backend cpu|cuda] "
            "[--threads T] [--peer CMD] [--gap MS]\n",
            argv[0]);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  const char *path = argv[1], *peer_cmd = NULL;
  int size = 0, batch = 1, repeats = 5, threads = 0, gap_ms = 300;
  sr_backend_kind kind = SR_BACKEND_CPU;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--size")) size = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--batch")) batch = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--repeats")) repeats = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--threads")) threads = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--peer")) peer_cmd = argv[i + 1];
    else if (!strcmp(argv[i], "--gap")) gap_ms = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--backend"))
      kind = !strcmp(argv[i + 1], "cuda") ? SR_BACKEND_CUDA : SR_BACKEND_CPU;
  }
  if (repeats < 1) repeats = 1;
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
  if (sr_model_forward(m, &x, cond, &y) != SR_OK) { /* plans memory; warms caches */
    fprintf(stderr, "%s\n", sr_context_last_error(ctx));
    return 1;
  }
  peer pr = {0};
  if (peer_cmd && peer_start(&pr, peer_cmd) != 0) {
    fprintf(stderr, "peer \"%s\" did not start (no \"ready\" line)\n", peer_cmd);
    peer_stop(&pr);
    peer_cmd = NULL;
  }
  print_load("before");
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
      if (tp[r] <= 0.0) peer_ok = 0;
      else ratio[r] = tp[r] / t[r];
    }
  }
  print_load("after");
  const double med = median(t, repeats), cpu_med = median(cpu, repeats);
  printf("NCSN++ %s: %dx%d, batch %d, %s backend, %d threads, %.2f GFLOP per image, %d params\n",
         path, size, size, batch, sr_backend_name(sr_context_backend(ctx)), threads,
         flops / batch / 1e9, (int)info.num_params);
  printf("scorerecon: %.1f ms per image (median of %d, min %.1f), %.1f GFLOP/s; "
         "CPU time %.1f ms per image\n",
         1e3 * med / batch, repeats, 1e3 * t[0] / batch, flops / med / 1e9,
         1e3 * cpu_med / batch);
  if (peer_cmd && peer_ok) {
    const double pmed = median(tp, repeats);
    printf("peer: %.1f ms per image (median of %d, min %.1f), %.1f GFLOP/s\n",
           1e3 * pmed / batch, repeats, 1e3 * tp[0] / batch, flops / pmed / 1e9);
    printf("ratio (peer / scorerecon): %.2fx of the medians, %.2fx the median per round\n",
           pmed / med, median(ratio, repeats));
  } else if (peer_cmd) {
    printf("peer: no timing from \"%s\"\n", peer_cmd);
  }
  peer_stop(&pr);
  free(t), free(cpu), free(tp), free(ratio), free(host), free(cond);
  sr_tensor_free(ctx, &x), sr_tensor_free(ctx, &y);
  sr_model_free(m);
  sr_context_destroy(ctx);
  return 0;
}
