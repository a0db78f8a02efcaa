// Speed of the CUDA emulator per emulated thread: a barrier-free kernel (saxpy), a tiled
// transpose with one barrier, and a shared-memory + shuffle reduction. Prints ns per thread;
// not a test. Run: emu_bench [million threads] (default 4).
#include "test_harness.cuh"

#include <stdlib.h>

#include <chrono>

namespace {

static __global__ void saxpy_kernel(float *y, const float *x, float a, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = a * x[i] + y[i];
}

static __global__ void transpose_kernel(float *out, const float *in, int h, int w) {
  __shared__ float tile[32][33];
  int x = blockIdx.x * 32 + threadIdx.x, y = blockIdx.y * 32 + threadIdx.y;
  for (int j = 0; j < 32; j += 8)
    if (x < w && y + j < h) tile[threadIdx.y + j][threadIdx.x] = in[(size_t)(y + j) * w + x];
  __syncthreads();
  x = blockIdx.y * 32 + threadIdx.x;
  y = blockIdx.x * 32 + threadIdx.y;
  for (int j = 0; j < 32; j += 8)
    if (x < h && y + j < w) out[(size_t)(y + j) * h + x] = tile[threadIdx.x][threadIdx.y + j];
}

static __global__ void sum_kernel(float *partial, const float *x, int n) {
  __shared__ float warp_sums[32];
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  float v = i < n ? x[i] : 0.0f;
  for (int offset = 16; offset > 0; offset /= 2) v += __shfl_down_sync(0xffffffffu, v, offset);
  if (threadIdx.x % 32 == 0) warp_sums[threadIdx.x / 32] = v;
  __syncthreads();
  if (threadIdx.x < 32) {
    v = threadIdx.x < blockDim.x / 32 ? warp_sums[threadIdx.x] : 0.0f;
    for (int offset = 16; offset > 0; offset /= 2) v += __shfl_down_sync(0xffffffffu, v, offset);
    if (threadIdx.x == 0) partial[blockIdx.x] = v;
  }
}

template <class F> double seconds(F f) {
  auto t0 = std::chrono::steady_clock::now();
  f();
  CUDA_OK(cudaDeviceSynchronize());
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

} // namespace

int main(int argc, char **argv) {
  const int n = (int)((argc > 1 ? atof(argv[1]) : 4.0) * 1e6);
  DeviceBuffer<float> x(n), y(n);
  CUDA_OK(cudaMemset(x.get(), 0, n * sizeof(float)));
  CUDA_OK(cudaMemset(y.get(), 0, n * sizeof(float)));

  double t = seconds(
      [&] { SR_LAUNCH(saxpy_kernel, (n + 255) / 256, 256, 0, 0, y.get(), x.get(), 2.0f, n); });
  printf("saxpy (no barrier)           %8.1f ns/thread  (%d threads, %.3f s)\n", t * 1e9 / n, n, t);

  int side = 1;
  while ((long long)side * side < n) side *= 2;
  side /= 2;
  DeviceBuffer<float> a((size_t)side * side), b((size_t)side * side);
  CUDA_OK(cudaMemset(a.get(), 0, (size_t)side * side * sizeof(float)));
  dim3 grid(side / 32, side / 32), block(32, 8);
  t = seconds(
      [&] { SR_LAUNCH(transpose_kernel, grid, block, 0, 0, b.get(), a.get(), side, side); });
  double threads = (double)grid.x * grid.y * 256;
  printf("transpose (1 barrier)        %8.1f ns/thread  (%.0f threads, %.3f s)\n",
         t * 1e9 / threads, threads, t);

  DeviceBuffer<float> partial((n + 255) / 256);
  t = seconds(
      [&] { SR_LAUNCH(sum_kernel, (n + 255) / 256, 256, 0, 0, partial.get(), x.get(), n); });
  printf("reduction (shuffles+barrier) %8.1f ns/thread  (%d threads, %.3f s)\n", t * 1e9 / n, n, t);
  return g_failures ? 1 : 0;
}
