/* The CUDA backend's compute ops: thin wrappers that put each kernel launch
 * on the context's stream inside an NVTX range. */
#include <math.h>
#include <stdlib.h>

#include "backend/cuda/cuda_internal.h"

static cudaStream_t stream_of(sr_backend *b) { return sr_cuda_state_of(b)->stream; }

sr_status sr_cuda_fill(sr_backend *b, float *x, size_t n, float value) {
  SR_NVTX_OP("fill", sr_k_fill(b->ctx, stream_of(b), x, n, value));
}

sr_status sr_cuda_scale(sr_backend *b, float *x, size_t n, float alpha) {
  SR_NVTX_OP("scale", sr_k_scale(b->ctx, stream_of(b), x, n, alpha));
}

sr_status sr_cuda_axpby(sr_backend *b, float *y, const float *x, size_t n, float alpha,
                        float beta) {
  SR_NVTX_OP("axpby", sr_k_axpby(b->ctx, stream_of(b), y, x, n, alpha, beta));
}

sr_status sr_cuda_axpbypgz(sr_backend *b, float *z, const float *x, const float *y, size_t n,
                           float alpha, float beta, float gamma) {
  SR_NVTX_OP("axpbypgz", sr_k_axpbypgz(b->ctx, stream_of(b), z, x, y, n, alpha, beta, gamma));
}

sr_status sr_cuda_mul(sr_backend *b, float *z, const float *x, const float *y, size_t n) {
  SR_NVTX_OP("mul", sr_k_mul(b->ctx, stream_of(b), z, x, y, n));
}

sr_status sr_cuda_clamp(sr_backend *b, float *x, size_t n, float lo, float hi) {
  SR_NVTX_OP("clamp", sr_k_clamp(b->ctx, stream_of(b), x, n, lo, hi));
}

/* The per-slice coefficients travel through scratch: one small upload. */
static sr_status axpby_batched(sr_backend *b, float *y, const float *x, size_t nslices, size_t n,
                               const float *alpha, const float *beta) {
  if (nslices == 0) return SR_OK;
  size_t bytes = 2 * nslices * sizeof(float);
  float *host = (float *)malloc(bytes);
  if (!host) return sr_fail(b->ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate %zu bytes", bytes);
  for (size_t s = 0; s < nslices; ++s) {
    host[s] = alpha[s];
    host[nslices + s] = beta[s];
  }
  void *dev = NULL;
  sr_status st = sr_cuda_scratch(b, bytes, &dev);
  if (st == SR_OK) st = b->ops->upload(b, dev, host, bytes);
  free(host);
  SR_TRY(st);
  return sr_k_axpby_batched(b->ctx, stream_of(b), y, x, nslices, n, (const float *)dev);
}

sr_status sr_cuda_axpby_batched(sr_backend *b, float *y, const float *x, size_t nslices,
                                size_t n, const float *alpha, const float *beta) {
  SR_NVTX_OP("axpby_batched", axpby_batched(b, y, x, nslices, n, alpha, beta));
}

/* Runs a per-slice reduction and brings the nslices doubles to the host.
 * Scratch layout: nslices results, then the partials. */
static sr_status reduce(sr_backend *b, sr_reduce_op op, const float *x, const float *y,
                        size_t nslices, size_t n, double *out_host) {
  if (nslices == 0) return SR_OK;
  size_t partials = sr_k_reduce_scratch(nslices, n);
  void *scratch = NULL;
  SR_TRY(sr_cuda_scratch(b, (nslices + partials) * sizeof(double), &scratch));
  double *results = (double *)scratch;
  SR_TRY(sr_k_reduce(b->ctx, stream_of(b), op, x, y, nslices, n, results + nslices, results));
  return b->ops->download(b, out_host, results, nslices * sizeof(double));
}

sr_status sr_cuda_sum(sr_backend *b, const float *x, size_t n, double *out) {
  SR_NVTX_OP("sum", reduce(b, SR_REDUCE_SUM, x, NULL, 1, n, out));
}

sr_status sr_cuda_dot(sr_backend *b, const float *x, const float *y, size_t n, double *out) {
  SR_NVTX_OP("dot", reduce(b, SR_REDUCE_DOT, x, y, 1, n, out));
}

static sr_status nrm2_batched(sr_backend *b, const float *x, size_t nslices, size_t n,
                              double *out) {
  SR_TRY(reduce(b, SR_REDUCE_SUMSQ, x, NULL, nslices, n, out));
  for (size_t s = 0; s < nslices; ++s) out[s] = sqrt(out[s]);
  return SR_OK;
}

sr_status sr_cuda_nrm2(sr_backend *b, const float *x, size_t n, double *out) {
  SR_NVTX_OP("nrm2", nrm2_batched(b, x, 1, n, out));
}

sr_status sr_cuda_nrm2_batched(sr_backend *b, const float *x, size_t nslices, size_t n,
                               double *out) {
  SR_NVTX_OP("nrm2_batched", nrm2_batched(b, x, nslices, n, out));
}

static sr_status max_abs(sr_backend *b, const float *x, size_t n, float *out) {
  double m = 0.0;
  SR_TRY(reduce(b, SR_REDUCE_MAXABS, x, NULL, 1, n, &m));
  *out = (float)m;
  return SR_OK;
}

sr_status sr_cuda_max_abs(sr_backend *b, const float *x, size_t n, float *out) {
  SR_NVTX_OP("max_abs", max_abs(b, x, n, out));
}

static sr_status count_nonfinite(sr_backend *b, const float *x, size_t n, size_t *out) {
  double c = 0.0;
  SR_TRY(reduce(b, SR_REDUCE_NONFINITE, x, NULL, 1, n, &c));
  *out = (size_t)c;
  return SR_OK;
}

sr_status sr_cuda_count_nonfinite(sr_backend *b, const float *x, size_t n, size_t *out) {
  SR_NVTX_OP("count_nonfinite", count_nonfinite(b, x, n, out));
}

sr_status sr_cuda_randn(sr_backend *b, float *x, size_t nslices, size_t n, sr_rng_stream st) {
  SR_NVTX_OP("randn", sr_k_randn(b->ctx, stream_of(b), x, nslices, n, st.seed, st.first_slice,
                                 st.step, st.purpose));
}
