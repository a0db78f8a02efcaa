/* The cuBLAS shim against a naive column-major GEMM in double precision: every transpose
 * combination with padded leading dimensions, beta = 0 over NaN-filled C (cuBLAS does not
 * read C then), k = 0, the strided batched form, and argument errors. */
#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int failures = 0;
#define CHECK(cond)                                                                                \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);                     \
      ++failures;                                                                                  \
    }                                                                                              \
  } while (0)

static float frand(unsigned *s) {
  *s = *s * 1664525u + 1013904223u;
  return (float)(*s >> 8) / 16777216.0f - 0.5f;
}

/* C = alpha * op(A) op(B) + beta * C, column-major; beta == 0 ignores C's old values. */
static void naive_gemm(int ta, int tb, int m, int n, int k, float alpha, const float *A, int lda,
                       const float *B, int ldb, float beta, float *C, int ldc) {
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < m; ++i) {
      double s = 0;
      for (int p = 0; p < k; ++p) {
        double a = ta ? A[p + (size_t)i * lda] : A[i + (size_t)p * lda];
        double b = tb ? B[j + (size_t)p * ldb] : B[p + (size_t)j * ldb];
        s += a * b;
      }
      double c = beta == 0.0f ? 0.0 : (double)beta * C[i + (size_t)j * ldc];
      C[i + (size_t)j * ldc] = (float)(alpha * s + c);
    }
}

static float *device_copy(const float *h, size_t n) {
  float *d = NULL;
  CHECK(cudaMalloc((void **)&d, n * sizeof(float)) == cudaSuccess);
  if (h) CHECK(cudaMemcpy(d, h, n * sizeof(float), cudaMemcpyHostToDevice) == cudaSuccess);
  return d;
}

static double max_diff(const float *a, const float *b, size_t n) {
  double d = 0;
  for (size_t i = 0; i < n; ++i) d = fmax(d, fabs((double)a[i] - b[i]));
  if (d != d) return INFINITY;
  for (size_t i = 0; i < n; ++i)
    if (a[i] != a[i] || b[i] != b[i]) return INFINITY;
  return d;
}

static void test_gemm(cublasHandle_t h, int ta, int tb, float beta, int fresh_c) {
  const int m = 5, n = 7, k = 3, batch = 3;
  const int lda = (ta ? k : m) + 2, ldb = (tb ? n : k) + 1, ldc = m + 3;
  const long long sa = (long long)lda * (ta ? m : k) + 4, sb = (long long)ldb * (tb ? k : n);
  const long long sc = (long long)ldc * n + 1;
  const size_t na = sa * batch, nb = sb * batch, nc = sc * batch;
  float *A = malloc(na * sizeof(float)), *B = malloc(nb * sizeof(float));
  float *C = malloc(nc * sizeof(float)), *want = malloc(nc * sizeof(float));
  float *got = malloc(nc * sizeof(float));
  unsigned seed = 11u + ta * 2u + tb;
  for (size_t i = 0; i < na; ++i) A[i] = frand(&seed);
  for (size_t i = 0; i < nb; ++i) B[i] = frand(&seed);
  for (size_t i = 0; i < nc; ++i) C[i] = want[i] = frand(&seed);
  const float alpha = 1.5f;
  float *dA = device_copy(A, na), *dB = device_copy(B, nb);
  float *dC = device_copy(fresh_c ? NULL : C, nc); /* fresh: NaN bytes everywhere */
  cublasOperation_t oa = ta ? CUBLAS_OP_T : CUBLAS_OP_N, ob = tb ? CUBLAS_OP_T : CUBLAS_OP_N;

  /* One GEMM on the first matrices. */
  CHECK(cublasSgemm(h, oa, ob, m, n, k, &alpha, dA, lda, dB, ldb, &beta, dC, ldc) ==
        CUBLAS_STATUS_SUCCESS);
  CHECK(cudaMemcpy(got, dC, nc * sizeof(float), cudaMemcpyDeviceToHost) == cudaSuccess);
  naive_gemm(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, want, ldc);
  for (int j = 0; j < n; ++j)
    CHECK(max_diff(got + (size_t)j * ldc, want + (size_t)j * ldc, m) < 1e-5);

  /* The strided batched form over all three. */
  if (!fresh_c) CHECK(cudaMemcpy(dC, C, nc * sizeof(float), cudaMemcpyHostToDevice) == cudaSuccess);
  CHECK(cublasSgemmStridedBatched(h, oa, ob, m, n, k, &alpha, dA, lda, sa, dB, ldb, sb, &beta, dC,
                                  ldc, sc, batch) == CUBLAS_STATUS_SUCCESS);
  CHECK(cudaMemcpy(got, dC, nc * sizeof(float), cudaMemcpyDeviceToHost) == cudaSuccess);
  for (size_t i = 0; i < nc; ++i) want[i] = C[i];
  for (int b = 0; b < batch; ++b) {
    naive_gemm(ta, tb, m, n, k, alpha, A + b * sa, lda, B + b * sb, ldb, beta, want + b * sc, ldc);
    for (int j = 0; j < n; ++j)
      CHECK(max_diff(got + b * sc + (size_t)j * ldc, want + b * sc + (size_t)j * ldc, m) < 1e-5);
  }
  cudaFree(dA), cudaFree(dB), cudaFree(dC);
  free(A), free(B), free(C), free(want), free(got);
}

int main(void) {
  cublasHandle_t h;
  CHECK(cublasCreate(&h) == CUBLAS_STATUS_SUCCESS);
  CHECK(cublasSetStream(h, 0) == CUBLAS_STATUS_SUCCESS);
  CHECK(cublasSetMathMode(h, CUBLAS_PEDANTIC_MATH) == CUBLAS_STATUS_SUCCESS);
  for (int ta = 0; ta < 2; ++ta)
    for (int tb = 0; tb < 2; ++tb) {
      test_gemm(h, ta, tb, -0.5f, 0);
      test_gemm(h, ta, tb, 0.0f, 1);
    }

  /* k = 0: C = beta * C. */
  float c[4] = {1, 2, 3, 4}, got[4], one = 1.0f, two = 2.0f;
  float *dC = device_copy(c, 4), *dA = device_copy(c, 4);
  CHECK(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 0, &one, dA, 2, dA, 1, &two, dC, 2) ==
        CUBLAS_STATUS_SUCCESS);
  CHECK(cudaMemcpy(got, dC, sizeof got, cudaMemcpyDeviceToHost) == cudaSuccess);
  CHECK(got[0] == 2 && got[3] == 8);
  /* Errors: lda below the rows of A, a host matrix, a negative size. */
  CHECK(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 2, &one, dA, 1, dA, 2, &two, dC, 2) ==
        CUBLAS_STATUS_INVALID_VALUE);
  CHECK(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 2, &one, c, 2, dA, 2, &two, dC, 2) ==
        CUBLAS_STATUS_INVALID_VALUE);
  CHECK(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, -1, 2, 2, &one, dA, 2, dA, 2, &two, dC, 2) ==
        CUBLAS_STATUS_INVALID_VALUE);
  cudaFree(dC), cudaFree(dA);
  CHECK(cublasDestroy(h) == CUBLAS_STATUS_SUCCESS);
  if (failures) {
    fprintf(stderr, "emu_cublas_test: %d failures\n", failures);
    return 1;
  }
  printf("emu_cublas_test: all passed\n");
  return 0;
}
