/* The CUDA-vs-CPU comparison tests' common part: a CPU and a CUDA context
 * side by side (exit 77 when no GPU answers and the build is not the
 * emulator), a seeded generator of fresh random inputs (the seed is
 * printed; SR_TEST_SEED reproduces a run), and device upload / download
 * that count failures. Include after test_util.h. */
#ifndef SR_TEST_BACKEND_PAIR_H
#define SR_TEST_BACKEND_PAIR_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "backend/backend.h"
#include "scorerecon.h"

typedef struct sr_test_pair {
  sr_context *cpu_ctx, *gpu_ctx;
  sr_backend *cpu, *gpu;
  uint32_t seed;
} sr_test_pair;

static uint32_t sr_test_rng_state;

/* Uniform in [-1, 1) (a linear congruential generator: inputs, not noise). */
static inline float sr_test_frand(void) {
  sr_test_rng_state = sr_test_rng_state * 1664525u + 1013904223u;
  return ((float)(sr_test_rng_state >> 8) / 16777216.0f) * 2.0f - 1.0f;
}

/* n values sr_test_frand() * scale, malloc'ed. */
static inline float *sr_test_random(size_t n, float scale) {
  float *x = (float *)malloc((n ? n : 1) * sizeof *x);
  for (size_t i = 0; i < n; ++i) x[i] = scale * sr_test_frand();
  return x;
}

/* Creates both contexts and seeds the generator. Returns -1 to go on,
 * SR_TEST_SKIP when no GPU answers, or the failure exit code. */
static inline int sr_test_pair_open(sr_test_pair *p, const char *name) {
  const char *seed_env = getenv("SR_TEST_SEED");
  p->seed = seed_env ? (uint32_t)strtoul(seed_env, NULL, 10) : (uint32_t)time(NULL);
  sr_test_rng_state = p->seed;
  printf("%s: seed %u (set SR_TEST_SEED to reproduce)\n", name, p->seed);
  sr_context_options o = sr_context_options_default();
  o.backend = SR_BACKEND_CUDA;
  sr_status st = sr_context_create(&o, &p->gpu_ctx);
  if (st == SR_ERR_NO_DEVICE) {
    printf("skipped: %s\n", sr_context_last_error(p->gpu_ctx));
    sr_context_destroy(p->gpu_ctx);
    p->gpu_ctx = NULL;
    return SR_TEST_SKIP;
  }
  CHECK_OK(p->gpu_ctx, st);
  o.backend = SR_BACKEND_CPU;
  CHECK_OK(p->cpu_ctx, sr_context_create(&o, &p->cpu_ctx));
  if (sr_test_failures) return sr_test_finish(name);
  p->cpu = sr_context_get_backend(p->cpu_ctx);
  p->gpu = sr_context_get_backend(p->gpu_ctx);
  return -1;
}

static inline void sr_test_pair_close(sr_test_pair *p) {
  sr_context_destroy(p->cpu_ctx);
  sr_context_destroy(p->gpu_ctx);
}

/* bytes of device memory, filled from host unless host is NULL. */
static inline void *sr_test_upload(sr_test_pair *p, const void *host, size_t bytes) {
  void *d = NULL;
  CHECK_OK(p->gpu_ctx, p->gpu->ops->alloc(p->gpu, bytes, &d));
  if (host && d) CHECK_OK(p->gpu_ctx, p->gpu->ops->upload(p->gpu, d, host, bytes));
  return d;
}

static inline void sr_test_download(sr_test_pair *p, void *host, const void *dev, size_t bytes) {
  CHECK_OK(p->gpu_ctx, p->gpu->ops->download(p->gpu, host, dev, bytes));
}

#endif
