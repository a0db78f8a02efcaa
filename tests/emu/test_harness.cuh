// A few helpers for the emulator's own tests, written in plain CUDA so the same sources also
// build with nvcc and run on a GPU: checks that count failures, and device buffers.
#ifndef SR_TESTS_EMU_TEST_HARNESS_CUH
#define SR_TESTS_EMU_TEST_HARNESS_CUH

#include "cuda_compat.cuh"

#include <stdio.h>
#include <stdlib.h>

#include <vector>

static int g_failures = 0;

#define EXPECT(cond, ...)                                                                          \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      fprintf(stderr, "%s:%d: EXPECT(%s) failed: ", __FILE__, __LINE__, #cond);                    \
      fprintf(stderr, __VA_ARGS__);                                                                \
      fputc('\n', stderr);                                                                         \
      ++g_failures;                                                                                \
    }                                                                                              \
  } while (0)

#define CUDA_OK(call)                                                                              \
  do {                                                                                             \
    cudaError_t e_ = (call);                                                                       \
    if (e_ != cudaSuccess) {                                                                       \
      fprintf(stderr, "%s:%d: %s -> %s\n", __FILE__, __LINE__, #call, cudaGetErrorName(e_));       \
      ++g_failures;                                                                                \
    }                                                                                              \
  } while (0)

// Checks that the last launch went through and the stream drained without error.
#define LAUNCH_OK()                                                                                \
  do {                                                                                             \
    CUDA_OK(cudaGetLastError());                                                                   \
    CUDA_OK(cudaDeviceSynchronize());                                                              \
  } while (0)

template <class T> class DeviceBuffer {
public:
  explicit DeviceBuffer(size_t n) : n_(n) { CUDA_OK(cudaMalloc((void **)&p_, n * sizeof(T))); }
  explicit DeviceBuffer(const std::vector<T> &v) : DeviceBuffer(v.size()) { upload(v); }
  ~DeviceBuffer() { cudaFree(p_); }
  DeviceBuffer(const DeviceBuffer &) = delete;
  DeviceBuffer &operator=(const DeviceBuffer &) = delete;

  T *get() const { return p_; }
  size_t size() const { return n_; }
  void upload(const std::vector<T> &v) {
    CUDA_OK(cudaMemcpy(p_, v.data(), v.size() * sizeof(T), cudaMemcpyHostToDevice));
  }
  void fill_zero() { CUDA_OK(cudaMemset(p_, 0, n_ * sizeof(T))); }
  std::vector<T> download() const {
    std::vector<T> v(n_);
    CUDA_OK(cudaMemcpy(v.data(), p_, n_ * sizeof(T), cudaMemcpyDeviceToHost));
    return v;
  }

private:
  T *p_ = nullptr;
  size_t n_;
};

#endif
