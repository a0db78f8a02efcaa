/* cuBLAS glue of the score network: the two products of attention, batched
 * over samples with cublasSgemmStridedBatched, in strict fp32
 * (CUBLAS_DEFAULT_MATH: no TF32). Row-major (C, HW) blocks are column-major
 * (HW, C) matrices with leading dimension HW, so per sample
 *   S' (HW x HW) = K' Q'^T   -> row-major S[p][j] = q[:, p] . k[:, j]
 *   O' (HW x C)  = S'^T V'   -> row-major out[c][p] = sum_j S[p][j] v[c][j]
 * with the row softmax (kernels/attention.cu) in between. Only the calls
 * the emulator shims are used (cublasCreate_v2, cublasSetStream_v2,
 * cublasSetMathMode, cublasSgemmStridedBatched, cublasDestroy_v2). */
#include <cublas_v2.h>

#include "backend/cuda/cuda_internal.h"
#include "backend/cuda/cuda_nn.h"

#define SR_CUBLAS_CHECK(ctx, call)                                                             \
  do {                                                                                         \
    cublasStatus_t sr_cublas_st_ = (call);                                                     \
    if (sr_cublas_st_ != CUBLAS_STATUS_SUCCESS)                                                \
      return SR_FAIL_HERE((ctx), SR_ERR_DEVICE, "%s failed: cuBLAS status %d", #call,          \
                          (int)sr_cublas_st_);                                                 \
  } while (0)

static sr_status handle_of(sr_backend *b, cublasHandle_t *out) {
  sr_cuda_state *st = sr_cuda_state_of(b);
  if (!st->cublas) {
    cublasHandle_t h = NULL;
    SR_CUBLAS_CHECK(b->ctx, cublasCreate_v2(&h));
    st->cublas = h;
    SR_CUBLAS_CHECK(b->ctx, cublasSetStream_v2(h, st->stream));
    SR_CUBLAS_CHECK(b->ctx, cublasSetMathMode(h, CUBLAS_DEFAULT_MATH));
  }
  *out = (cublasHandle_t)st->cublas;
  return SR_OK;
}

sr_status sr_cublas_attention(sr_backend *b, const float *qkv, size_t n, size_t c, size_t hw,
                              float scale, float *scores, float *out) {
  if (n == 0) return SR_OK;
  if (hw > 0x7fffffff / (hw ? hw : 1) || c > 0x7fffffff / 3 / (hw ? hw : 1) || n > 0x7fffffff)
    return sr_fail(b->ctx, SR_ERR_UNSUPPORTED, "attention over %zu x %zu is too large", c, hw);
  cublasHandle_t h = NULL;
  SR_TRY(handle_of(b, &h));
  const int m = (int)hw, k = (int)c;
  const long long qkv_stride = (long long)(3 * c * hw), s_stride = (long long)(hw * hw),
                  o_stride = (long long)(c * hw);
  const float one = 1.0f, zero = 0.0f;
  const float *q = qkv, *kk = qkv + c * hw, *v = qkv + 2 * c * hw;
  SR_CUBLAS_CHECK(b->ctx, cublasSgemmStridedBatched(h, CUBLAS_OP_N, CUBLAS_OP_T, m, m, k, &one,
                                                    kk, m, qkv_stride, q, m, qkv_stride, &zero,
                                                    scores, m, s_stride, (int)n));
  SR_TRY(sr_k_softmax_rows(b->ctx, sr_cuda_state_of(b)->stream, scores, n * hw, hw, scale));
  SR_CUBLAS_CHECK(b->ctx, cublasSgemmStridedBatched(h, CUBLAS_OP_T, CUBLAS_OP_N, m, k, m, &one,
                                                    scores, m, s_stride, v, m, qkv_stride, &zero,
                                                    out, m, o_stride, (int)n));
  return SR_OK;
}

void sr_cublas_nn_destroy(sr_backend *b) {
  sr_cuda_state *st = sr_cuda_state_of(b);
  if (st && st->cublas) {
    cublasDestroy_v2((cublasHandle_t)st->cublas);
    st->cublas = NULL;
  }
}
