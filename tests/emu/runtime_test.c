/* The emulator's CUDA runtime entry points, called from C11 compiled against the toolkit's
 * own cuda_runtime_api.h, as src/backend/cuda/ calls them: memory, copies and their checks,
 * errors, streams, events and device queries. */
#include <cuda_runtime_api.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "sr_emu.h"

static int failures = 0;
#define CHECK(cond)                                                                                \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);                     \
      ++failures;                                                                                  \
    }                                                                                              \
  } while (0)

static void test_memory(void) {
  float *d = NULL, *d2 = NULL;
  float host[64], back[64];
  CHECK(cudaMalloc((void **)&d, sizeof host) == cudaSuccess && d != NULL);
  CHECK(((uintptr_t)d & 255) == 0); /* cudaMalloc's alignment */
  CHECK(cudaMemcpy(back, d, sizeof back, cudaMemcpyDeviceToHost) == cudaSuccess);
  int nan_filled = 1;
  for (int i = 0; i < 64; ++i) nan_filled &= isnan(back[i]);
  CHECK(nan_filled); /* fresh device memory reads as NaN */

  for (int i = 0; i < 64; ++i) host[i] = (float)i;
  CHECK(cudaMalloc((void **)&d2, sizeof host) == cudaSuccess);
  CHECK(cudaMemcpy(d, host, sizeof host, cudaMemcpyHostToDevice) == cudaSuccess);
  CHECK(cudaMemcpy(d2, d, sizeof host, cudaMemcpyDeviceToDevice) == cudaSuccess);
  CHECK(cudaMemcpy(back, d2, sizeof back, cudaMemcpyDefault) == cudaSuccess);
  CHECK(memcmp(host, back, sizeof host) == 0);
  CHECK(cudaMemset(d2 + 8, 0, 8 * sizeof(float)) == cudaSuccess);
  CHECK(cudaMemcpy(back, d2, sizeof back, cudaMemcpyDeviceToHost) == cudaSuccess);
  CHECK(back[7] == 7.0f && back[8] == 0.0f && back[15] == 0.0f && back[16] == 16.0f);

  /* Misuse a GPU would reject. */
  CHECK(cudaMemcpy(d, host, sizeof host + 4, cudaMemcpyHostToDevice) == cudaErrorInvalidValue);
  CHECK(cudaGetLastError() == cudaErrorInvalidValue);
  CHECK(cudaGetLastError() == cudaSuccess); /* not sticky */
  CHECK(cudaMemcpy(host, d, sizeof host, cudaMemcpyHostToDevice) == cudaErrorInvalidValue);
  CHECK(cudaMemset(host, 0, 4) == cudaErrorInvalidValue);
  CHECK(cudaFree(host) == cudaErrorInvalidValue);
  CHECK(cudaFree(d + 1) == cudaErrorInvalidValue);
  CHECK(cudaFreeHost(d) == cudaErrorInvalidValue);
  CHECK(cudaPeekAtLastError() == cudaErrorInvalidValue);
  (void)cudaGetLastError();

  size_t free_before = 0, total = 0, free_after = 0;
  CHECK(cudaMemGetInfo(&free_before, &total) == cudaSuccess && total >= free_before);
  void *big = NULL;
  CHECK(cudaMalloc(&big, 1 << 20) == cudaSuccess);
  CHECK(cudaMemGetInfo(&free_after, &total) == cudaSuccess);
  CHECK(free_before - free_after == 1 << 20);
  CHECK(cudaFree(big) == cudaSuccess);
  void *none = (void *)1;
  CHECK(cudaMalloc(&none, 0) == cudaSuccess && none == NULL);
  CHECK(cudaFree(NULL) == cudaSuccess);

  float *pinned = NULL;
  CHECK(cudaMallocHost((void **)&pinned, sizeof host) == cudaSuccess);
  CHECK(cudaMemcpy(pinned, d, sizeof host, cudaMemcpyDeviceToHost) == cudaSuccess);
  CHECK(pinned[5] == 5.0f);
  CHECK(cudaFreeHost(pinned) == cudaSuccess);
  CHECK(cudaFree(d) == cudaSuccess && cudaFree(d2) == cudaSuccess);
}

static void test_streams_events(void) {
  cudaStream_t s = NULL, s2 = NULL;
  CHECK(cudaStreamCreate(&s) == cudaSuccess);
  CHECK(cudaStreamCreateWithFlags(&s2, cudaStreamNonBlocking) == cudaSuccess);
  float *d = NULL, host[16] = {0};
  CHECK(cudaMalloc((void **)&d, sizeof host) == cudaSuccess);
  CHECK(cudaMemsetAsync(d, 0, sizeof host, s) == cudaSuccess);
  CHECK(cudaMemcpyAsync(host, d, sizeof host, cudaMemcpyDeviceToHost, s2) == cudaSuccess);
  CHECK(cudaStreamSynchronize(s) == cudaSuccess && cudaStreamSynchronize(s2) == cudaSuccess);
  CHECK(host[3] == 0.0f);
  cudaEvent_t a = NULL, b = NULL;
  CHECK(cudaEventCreate(&a) == cudaSuccess && cudaEventCreate(&b) == cudaSuccess);
  float ms = -1;
  CHECK(cudaEventElapsedTime(&ms, a, b) == cudaErrorInvalidResourceHandle); /* not recorded */
  CHECK(cudaEventRecord(a, s) == cudaSuccess && cudaEventRecord(b, s) == cudaSuccess);
  CHECK(cudaEventSynchronize(b) == cudaSuccess);
  CHECK(cudaEventElapsedTime(&ms, a, b) == cudaSuccess && ms >= 0.0f);
  CHECK(cudaEventDestroy(a) == cudaSuccess && cudaEventDestroy(b) == cudaSuccess);
  CHECK(cudaStreamDestroy(s) == cudaSuccess && cudaStreamDestroy(s2) == cudaSuccess);
  CHECK(cudaStreamDestroy(s) == cudaErrorInvalidResourceHandle);
  CHECK(cudaMemsetAsync(d, 0, 4, s) == cudaErrorInvalidResourceHandle); /* destroyed */
  (void)cudaGetLastError();
  CHECK(cudaFree(d) == cudaSuccess);
}

static void test_device(void) {
  int count = 0, dev = -1, v = 0;
  CHECK(cudaGetDeviceCount(&count) == cudaSuccess && count == 1);
  CHECK(cudaSetDevice(0) == cudaSuccess && cudaGetDevice(&dev) == cudaSuccess && dev == 0);
  CHECK(cudaSetDevice(1) == cudaErrorInvalidDevice);
  (void)cudaGetLastError();
  struct cudaDeviceProp prop;
  CHECK(cudaGetDeviceProperties(&prop, 0) == cudaSuccess);
  CHECK(prop.name[0] && prop.warpSize == 32 && prop.maxThreadsPerBlock == 1024);
  CHECK(prop.sharedMemPerBlockOptin == 227 * 1024 && prop.totalGlobalMem > 0);
  CHECK(cudaDeviceGetAttribute(&v, cudaDevAttrWarpSize, 0) == cudaSuccess && v == 32);
  CHECK(cudaDeviceGetAttribute(&v, cudaDevAttrComputeCapabilityMajor, 0) == cudaSuccess && v == 9);
  CHECK(cudaRuntimeGetVersion(&v) == cudaSuccess && v == CUDART_VERSION);
  CHECK(cudaDriverGetVersion(&v) == cudaSuccess && v >= CUDART_VERSION);
  CHECK(strcmp(cudaGetErrorName(cudaErrorLaunchFailure), "cudaErrorLaunchFailure") == 0);
  CHECK(strcmp(cudaGetErrorString(cudaSuccess), "no error") == 0);
  CHECK(cudaDeviceSynchronize() == cudaSuccess);
}

static void test_order_api(void) {
  sr_emu_order saved = sr_emu_get_order();
  sr_emu_set_order(SR_EMU_ORDER_RANDOM, 42);
  CHECK(sr_emu_get_order() == SR_EMU_ORDER_RANDOM);
  CHECK(strcmp(sr_emu_order_name(SR_EMU_ORDER_REVERSE), "reverse") == 0);
  sr_emu_set_order(saved, 1);
}

int main(void) {
  test_memory();
  test_streams_events();
  test_device();
  test_order_api();
  if (failures) {
    fprintf(stderr, "emu_runtime_test: %d failures\n", failures);
    return 1;
  }
  printf("emu_runtime_test: all passed\n");
  return 0;
}
