/* The cuFFT shim against a naive DFT in double precision, through cuFFT's documented
 * semantics: unnormalised transforms, forward sign -1, the R2C half spectrum, batches, the
 * advanced layout with embeds, strides and distances, in-place transforms, and errors. */
#include <cuda_runtime_api.h>
#include <cufft.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;
#define CHECK(cond)                                                                                \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);                     \
      ++failures;                                                                                  \
    }                                                                                              \
  } while (0)

static const double kPi = 3.14159265358979323846;

typedef struct {
  double re, im;
} cdouble;

/* Naive 2-D DFT of an nx x ny array (row-major, ny fastest) with the given sign. */
static void dft2(const cdouble *x, cdouble *y, int nx, int ny, int sign) {
  for (int u = 0; u < nx; ++u)
    for (int v = 0; v < ny; ++v) {
      double re = 0, im = 0;
      for (int i = 0; i < nx; ++i)
        for (int j = 0; j < ny; ++j) {
          double a = sign * 2.0 * kPi * ((double)u * i / nx + (double)v * j / ny);
          re += x[i * ny + j].re * cos(a) - x[i * ny + j].im * sin(a);
          im += x[i * ny + j].re * sin(a) + x[i * ny + j].im * cos(a);
        }
      y[u * ny + v].re = re;
      y[u * ny + v].im = im;
    }
}

static double rel_err(const float *got, const cdouble *want, int n, int stride_got) {
  double num = 0, den = 0;
  for (int i = 0; i < n; ++i) {
    double dr = got[2 * i * stride_got] - want[i].re, di = got[2 * i * stride_got + 1] - want[i].im;
    num += dr * dr + di * di;
    den += want[i].re * want[i].re + want[i].im * want[i].im;
  }
  return sqrt(num / (den > 0 ? den : 1));
}

static float frand(unsigned *s) {
  *s = *s * 1664525u + 1013904223u;
  return (float)(*s >> 8) / 16777216.0f - 0.5f;
}

static void *to_device(const void *host, size_t bytes) {
  void *d = NULL;
  CHECK(cudaMalloc(&d, bytes) == cudaSuccess);
  CHECK(cudaMemcpy(d, host, bytes, cudaMemcpyHostToDevice) == cudaSuccess);
  return d;
}

static void from_device(void *host, const void *d, size_t bytes) {
  CHECK(cudaMemcpy(host, d, bytes, cudaMemcpyDeviceToHost) == cudaSuccess);
}

/* C2C 2-D, non-square, forward and inverse, out of place and in place. */
static void test_c2c(void) {
  enum { NX = 6, NY = 10, N = NX * NY };
  unsigned seed = 1;
  float x[2 * N], y[2 * N];
  cdouble xd[N], want[N];
  for (int i = 0; i < N; ++i) {
    x[2 * i] = frand(&seed), x[2 * i + 1] = frand(&seed);
    xd[i].re = x[2 * i], xd[i].im = x[2 * i + 1];
  }
  cufftHandle plan;
  CHECK(cufftPlan2d(&plan, NX, NY, CUFFT_C2C) == CUFFT_SUCCESS);
  CHECK(cufftSetStream(plan, 0) == CUFFT_SUCCESS);
  size_t work = 1;
  CHECK(cufftGetSize(plan, &work) == CUFFT_SUCCESS && work == 0);
  void *din = to_device(x, sizeof x), *dout = NULL;
  CHECK(cudaMalloc(&dout, sizeof y) == cudaSuccess);
  CHECK(cufftSetWorkArea(plan, dout) == CUFFT_SUCCESS);
  for (int sign = -1; sign <= 1; sign += 2) {
    CHECK(cufftExecC2C(plan, din, dout, sign == -1 ? CUFFT_FORWARD : CUFFT_INVERSE) ==
          CUFFT_SUCCESS);
    from_device(y, dout, sizeof y);
    dft2(xd, want, NX, NY, sign);
    CHECK(rel_err(y, want, N, 1) < 1e-6);
  }
  /* In place: forward then inverse gives N * x (no normalisation). */
  CHECK(cufftExecC2C(plan, din, din, CUFFT_FORWARD) == CUFFT_SUCCESS);
  CHECK(cufftExecC2C(plan, din, din, CUFFT_INVERSE) == CUFFT_SUCCESS);
  from_device(y, din, sizeof y);
  for (int i = 0; i < N; ++i) want[i].re = N * xd[i].re, want[i].im = N * xd[i].im;
  CHECK(rel_err(y, want, N, 1) < 1e-6);
  /* Misuse. */
  CHECK(cufftExecC2C(plan, din, dout, 0) == CUFFT_INVALID_VALUE);
  CHECK(cufftExecC2C(plan, (cufftComplex *)x, dout, CUFFT_FORWARD) == CUFFT_INVALID_VALUE);
  CHECK(cufftExecR2C(plan, din, dout) == CUFFT_INVALID_VALUE);
  CHECK(cufftDestroy(plan) == CUFFT_SUCCESS);
  CHECK(cufftDestroy(plan) == CUFFT_INVALID_PLAN);
  cudaFree(din);
  cudaFree(dout);
}

/* R2C and C2R, even and odd last dimension, batched through cufftPlanMany (NULL embeds). */
static void test_real(int nx, int ny) {
  enum { BATCH = 3 };
  int nh = ny / 2 + 1, n[2] = {nx, ny};
  int nreal = nx * ny, ncplx = nx * nh;
  float *x = malloc(sizeof(float) * nreal * BATCH), *y = malloc(sizeof(float) * 2 * ncplx * BATCH);
  float *back = malloc(sizeof(float) * nreal * BATCH);
  cdouble *xd = malloc(sizeof(cdouble) * nreal), *full = malloc(sizeof(cdouble) * nreal);
  cdouble *half = malloc(sizeof(cdouble) * ncplx);
  unsigned seed = 7;
  for (int i = 0; i < nreal * BATCH; ++i) x[i] = frand(&seed);
  cufftHandle r2c, c2r;
  CHECK(cufftPlanMany(&r2c, 2, n, NULL, 1, 0, NULL, 1, 0, CUFFT_R2C, BATCH) == CUFFT_SUCCESS);
  CHECK(cufftPlanMany(&c2r, 2, n, NULL, 1, 0, NULL, 1, 0, CUFFT_C2R, BATCH) == CUFFT_SUCCESS);
  void *dx = to_device(x, sizeof(float) * nreal * BATCH), *dy = NULL, *dback = NULL;
  CHECK(cudaMalloc(&dy, sizeof(float) * 2 * ncplx * BATCH) == cudaSuccess);
  CHECK(cudaMalloc(&dback, sizeof(float) * nreal * BATCH) == cudaSuccess);
  CHECK(cufftExecR2C(r2c, dx, dy) == CUFFT_SUCCESS);
  from_device(y, dy, sizeof(float) * 2 * ncplx * BATCH);
  for (int b = 0; b < BATCH; ++b) {
    for (int i = 0; i < nreal; ++i) xd[i].re = x[b * nreal + i], xd[i].im = 0;
    dft2(xd, full, nx, ny, -1);
    for (int u = 0; u < nx; ++u)
      for (int v = 0; v < nh; ++v) half[u * nh + v] = full[u * ny + v];
    CHECK(rel_err(y + 2 * b * ncplx, half, ncplx, 1) < 1e-6);
  }
  CHECK(cufftExecC2R(c2r, dy, dback) == CUFFT_SUCCESS);
  from_device(back, dback, sizeof(float) * nreal * BATCH);
  double err = 0;
  for (int i = 0; i < nreal * BATCH; ++i) err = fmax(err, fabs(back[i] - nreal * x[i]));
  CHECK(err < 1e-4 * nreal);
  CHECK(cufftExecC2C(r2c, dy, dy, CUFFT_FORWARD) == CUFFT_INVALID_VALUE);
  cufftDestroy(r2c);
  cufftDestroy(c2r);
  cudaFree(dx);
  cudaFree(dy);
  cudaFree(dback);
  free(x), free(y), free(back), free(xd), free(full), free(half);
}

/* The advanced layout: rows padded to a pitch (inembed), two interleaved signals
 * (istride 2, idist 1) written to a contiguous output (onembed = n). */
static void test_advanced_layout(void) {
  enum { NX = 4, NY = 5, PITCH = 7, BATCH = 2 };
  int n[2] = {NX, NY}, inembed[2] = {NX, PITCH}, onembed[2] = {NX, NY};
  const int istride = 2, idist = 1, ostride = 1, odist = NX * NY;
  const int in_len = istride * NX * PITCH; /* complex elements */
  float in[2 * in_len], out[2 * NX * NY * BATCH];
  unsigned seed = 3;
  for (int i = 0; i < 2 * in_len; ++i) in[i] = frand(&seed);
  cufftHandle plan;
  CHECK(cufftPlanMany(&plan, 2, n, inembed, istride, idist, onembed, ostride, odist, CUFFT_C2C,
                      BATCH) == CUFFT_SUCCESS);
  void *din = to_device(in, sizeof in), *dout = NULL;
  CHECK(cudaMalloc(&dout, sizeof out) == cudaSuccess);
  CHECK(cufftExecC2C(plan, din, dout, CUFFT_FORWARD) == CUFFT_SUCCESS);
  from_device(out, dout, sizeof out);
  for (int b = 0; b < BATCH; ++b) {
    cdouble x[NX * NY], want[NX * NY];
    for (int i = 0; i < NX; ++i)
      for (int j = 0; j < NY; ++j) {
        int at = b * idist + istride * (i * PITCH + j);
        x[i * NY + j].re = in[2 * at], x[i * NY + j].im = in[2 * at + 1];
      }
    dft2(x, want, NX, NY, -1);
    CHECK(rel_err(out + 2 * b * odist, want, NX * NY, ostride) < 1e-6);
  }
  cufftDestroy(plan);
  cudaFree(din);
  cudaFree(dout);
}

int main(void) {
  test_c2c();
  test_real(8, 6);
  test_real(5, 7);
  test_advanced_layout();
  cufftHandle plan;
  CHECK(cufftPlan2d(&plan, 4, 4, CUFFT_Z2Z) == CUFFT_NOT_SUPPORTED);
  CHECK(cufftPlan2d(&plan, 0, 4, CUFFT_C2C) == CUFFT_INVALID_SIZE);
  if (failures) {
    fprintf(stderr, "emu_cufft_test: %d failures\n", failures);
    return 1;
  }
  printf("emu_cufft_test: all passed\n");
  return 0;
}
