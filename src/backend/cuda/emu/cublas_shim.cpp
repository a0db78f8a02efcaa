// cuBLAS for the emulation build, on OpenBLAS's cblas, with cuBLAS's documented semantics:
// column-major matrices, op(A) = A or its transpose, leading dimensions at least the rows
// stored, and C not read when beta is 0 (so the NaN bytes of fresh device memory do not
// leak into the result). The math mode is recorded but the product is always strict fp32.
// Only the entry points the CUDA backend calls are here; the symbol names are those
// cublas_v2.h maps the public names to (cublasSgemm -> cublasSgemm_v2).
#include "emu_internal.h"

#include <cblas.h>
#include <cublas_v2.h>

#include <string.h>

struct cublasContext {
  cudaStream_t stream;
  cublasMath_t mode;
};

namespace {

using sr_emu::note;

bool transposed(cublasOperation_t op) {
  return op == CUBLAS_OP_T || op == CUBLAS_OP_C;
}

// Bytes a column-major rows x cols matrix with leading dimension ld spans.
size_t matrix_bytes(int rows, int cols, int ld) {
  if (rows == 0 || cols == 0) return 0;
  return ((size_t)(cols - 1) * (size_t)ld + (size_t)rows) * sizeof(float);
}

// OpenBLAS is not instrumented, so check here what the GPU would fault on.
bool in_device_memory(const float *p, int rows, int cols, int ld, long long stride, int batch,
                      const char *what) {
  size_t one = matrix_bytes(rows, cols, ld);
  if (one == 0 || batch == 0) return true;
  size_t bytes = stride > 0 ? (size_t)(batch - 1) * (size_t)stride * sizeof(float) + one : one;
  if (sr_emu::device_range(p, bytes)) return true;
  note("cublasSgemm: matrix %s (%zu bytes at %p) is not inside one device allocation", what, bytes,
       (const void *)p);
  return false;
}

cublasStatus_t gemm(cublasHandle_t handle, cublasOperation_t ta, cublasOperation_t tb, int m, int n,
                    int k, const float *alpha, const float *A, int lda, long long sa,
                    const float *B, int ldb, long long sb, const float *beta, float *C, int ldc,
                    long long sc, int batch) {
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (sr_emu::sticky_error()) return CUBLAS_STATUS_EXECUTION_FAILED;
  const bool valid_ops =
      (ta == CUBLAS_OP_N || transposed(ta)) && (tb == CUBLAS_OP_N || transposed(tb));
  const int a_rows = transposed(ta) ? k : m, a_cols = transposed(ta) ? m : k;
  const int b_rows = transposed(tb) ? n : k, b_cols = transposed(tb) ? k : n;
  if (!valid_ops || m < 0 || n < 0 || k < 0 || batch < 0 || lda < (a_rows > 1 ? a_rows : 1) ||
      ldb < (b_rows > 1 ? b_rows : 1) || ldc < (m > 1 ? m : 1) || !alpha || !beta)
    return CUBLAS_STATUS_INVALID_VALUE;
  if (m == 0 || n == 0 || batch == 0) return CUBLAS_STATUS_SUCCESS;
  const bool reads_ab = k > 0 && *alpha != 0.0f;
  if ((reads_ab && (!in_device_memory(A, a_rows, a_cols, lda, sa, batch, "A") ||
                    !in_device_memory(B, b_rows, b_cols, ldb, sb, batch, "B"))) ||
      !in_device_memory(C, m, n, ldc, sc, batch, "C"))
    return CUBLAS_STATUS_INVALID_VALUE;
  for (int i = 0; i < batch; ++i) {
    float *c = C + (ptrdiff_t)i * sc;
    if (*beta == 0.0f)
      for (int j = 0; j < n; ++j) memset(c + (size_t)j * ldc, 0, (size_t)m * sizeof(float));
    if (!reads_ab) {
      if (*beta != 0.0f && *beta != 1.0f)
        for (int j = 0; j < n; ++j) cblas_sscal(m, *beta, c + (size_t)j * ldc, 1);
      continue;
    }
    cblas_sgemm(CblasColMajor, transposed(ta) ? CblasTrans : CblasNoTrans,
                transposed(tb) ? CblasTrans : CblasNoTrans, m, n, k, *alpha, A + (ptrdiff_t)i * sa,
                lda, B + (ptrdiff_t)i * sb, ldb, *beta, c, ldc);
  }
  return CUBLAS_STATUS_SUCCESS;
}

} // namespace

extern "C" {

cublasStatus_t cublasCreate_v2(cublasHandle_t *handle) {
  if (!handle) return CUBLAS_STATUS_INVALID_VALUE;
  *handle = new cublasContext{nullptr, CUBLAS_DEFAULT_MATH};
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasDestroy_v2(cublasHandle_t handle) {
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  delete handle;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetStream_v2(cublasHandle_t handle, cudaStream_t streamId) {
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!sr_emu::stream_valid(streamId)) return CUBLAS_STATUS_INVALID_VALUE;
  handle->stream = streamId;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetMathMode(cublasHandle_t handle, cublasMath_t mode) {
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  handle->mode = mode;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSgemm_v2(cublasHandle_t handle, cublasOperation_t transa,
                              cublasOperation_t transb, int m, int n, int k, const float *alpha,
                              const float *A, int lda, const float *B, int ldb, const float *beta,
                              float *C, int ldc) {
  return gemm(handle, transa, transb, m, n, k, alpha, A, lda, 0, B, ldb, 0, beta, C, ldc, 0, 1);
}

cublasStatus_t cublasSgemmStridedBatched(cublasHandle_t handle, cublasOperation_t transa,
                                         cublasOperation_t transb, int m, int n, int k,
                                         const float *alpha, const float *A, int lda,
                                         long long int strideA, const float *B, int ldb,
                                         long long int strideB, const float *beta, float *C,
                                         int ldc, long long int strideC, int batchCount) {
  return gemm(handle, transa, transb, m, n, k, alpha, A, lda, strideA, B, ldb, strideB, beta, C,
              ldc, strideC, batchCount);
}

} // extern "C"
