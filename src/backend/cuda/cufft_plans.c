/* cuFFT glue: C2C plans cached per (h, w, batch) on each backend, bound to
 * its stream, every cufftResult checked. Only cufftPlanMany, cufftSetStream,
 * cufftExecC2C and cufftDestroy are used, which the emulation build's FFTW
 * shim provides too. */
#include <stdlib.h>

#include "backend/cuda/cuda_fft.h"
#include "backend/cuda/cuda_internal.h"

/* Enough for a sampler (one batch size, T and the MRI grid, 1-D line
 * transforms) and a benchmark sweep; each plan holds a work area. */
#define SR_CUFFT_CACHE_SIZE 8

typedef struct cufft_entry {
  size_t h, w, batch;
  cufftHandle plan;
  unsigned long long last_use; /* 0: empty slot */
} cufft_entry;

struct sr_cufft_cache {
  cufft_entry e[SR_CUFFT_CACHE_SIZE];
  unsigned long long clock;
};

const char *sr_cufft_result_name(cufftResult r) {
  switch (r) {
  case CUFFT_SUCCESS: return "CUFFT_SUCCESS";
  case CUFFT_INVALID_PLAN: return "CUFFT_INVALID_PLAN";
  case CUFFT_ALLOC_FAILED: return "CUFFT_ALLOC_FAILED";
  case CUFFT_INVALID_TYPE: return "CUFFT_INVALID_TYPE";
  case CUFFT_INVALID_VALUE: return "CUFFT_INVALID_VALUE";
  case CUFFT_INTERNAL_ERROR: return "CUFFT_INTERNAL_ERROR";
  case CUFFT_EXEC_FAILED: return "CUFFT_EXEC_FAILED";
  case CUFFT_SETUP_FAILED: return "CUFFT_SETUP_FAILED";
  case CUFFT_INVALID_SIZE: return "CUFFT_INVALID_SIZE";
  default: return "cufftResult error";
  }
}

void sr_cufft_cache_destroy(sr_backend *b) {
  sr_cuda_state *st = sr_cuda_state_of(b);
  if (!st || !st->fft) return;
  if (st->stream) cudaStreamSynchronize(st->stream);
  for (int i = 0; i < SR_CUFFT_CACHE_SIZE; ++i)
    if (st->fft->e[i].last_use) cufftDestroy(st->fft->e[i].plan);
  free(st->fft);
  st->fft = NULL;
}

sr_status sr_cufft_plan(sr_backend *b, size_t nslices, size_t h, size_t w, cufftHandle *out) {
  sr_cuda_state *st = sr_cuda_state_of(b);
  if (!st->fft) {
    st->fft = (sr_cufft_cache *)calloc(1, sizeof *st->fft);
    if (!st->fft) return sr_fail(b->ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate the cuFFT cache");
  }
  sr_cufft_cache *c = st->fft;
  int victim = 0;
  for (int i = 0; i < SR_CUFFT_CACHE_SIZE; ++i) {
    cufft_entry *e = &c->e[i];
    if (e->last_use && e->h == h && e->w == w && e->batch == nslices) {
      e->last_use = ++c->clock;
      *out = e->plan;
      return SR_OK;
    }
    if (e->last_use < c->e[victim].last_use) victim = i;
  }
  if (h > (size_t)INT32_MAX || w > (size_t)INT32_MAX || nslices > (size_t)INT32_MAX ||
      h * w * nslices > ((size_t)1 << 40))
    return sr_fail(b->ctx, SR_ERR_UNSUPPORTED, "FFT of %zu planes of %zu x %zu is too large",
                   nslices, h, w);
  cufft_entry *e = &c->e[victim];
  if (e->last_use) {
    /* The plan may still be queued on the stream. */
    SR_CUDA_CHECK(b->ctx, cudaStreamSynchronize(st->stream));
    cufftDestroy(e->plan);
    e->last_use = 0;
  }
  int n[2] = {(int)h, (int)w};
  int rank = h == 1 ? 1 : 2;
  int *dims = h == 1 ? &n[1] : n;
  int dist = (int)(h * w);
  cufftHandle plan;
  cufftResult r =
      cufftPlanMany(&plan, rank, dims, NULL, 1, dist, NULL, 1, dist, CUFFT_C2C, (int)nslices);
  if (r != CUFFT_SUCCESS)
    return SR_FAIL_HERE(b->ctx, r == CUFFT_ALLOC_FAILED ? SR_ERR_OUT_OF_MEMORY : SR_ERR_DEVICE,
                        "cufftPlanMany(%zu x %zu, batch %zu) failed: %s", h, w, nslices,
                        sr_cufft_result_name(r));
  r = cufftSetStream(plan, st->stream);
  if (r != CUFFT_SUCCESS) {
    cufftDestroy(plan);
    return SR_FAIL_HERE(b->ctx, SR_ERR_DEVICE, "cufftSetStream failed: %s",
                        sr_cufft_result_name(r));
  }
  e->h = h, e->w = w, e->batch = nslices, e->plan = plan;
  e->last_use = ++c->clock;
  *out = plan;
  return SR_OK;
}
