// Planted bugs that the emulation build must catch: each case is run as its own process
// (emu_negative <case>) and check_negative.cmake asserts the expected report. The line of
// each planted bug carries a BUG(<case>) marker so the check can demand the report name it.
// The program exits 1 when the bug was reported (through a CUDA error or a wrong result),
// 0 when it went unnoticed, 77 for cases that need AddressSanitizer in a build without it.
#include "test_harness.cuh"

#include <math.h>
#include <string.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(HAVE_ASAN)
#define HAVE_ASAN 1
#endif
#ifndef HAVE_ASAN
#define HAVE_ASAN 0
#endif

namespace {

static __global__ void global_oob_kernel(float *out, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i <= n) out[i] = 1.0f; // BUG(global_oob): <= writes one element past the end
}

static __global__ void static_shared_oob_kernel(float *out) {
  __shared__ float s[64];
  s[threadIdx.x + 1] = (float)threadIdx.x; // BUG(static_shared_oob): the last thread overflows
  __syncthreads();
  out[threadIdx.x] = s[threadIdx.x];
}

static __global__ void dynamic_shared_oob_kernel(float *out) {
  SR_DYNAMIC_SHARED(float, s);
  s[threadIdx.x] = (float)threadIdx.x; // BUG(dynamic_shared_oob): launched with one float less
  __syncthreads();
  out[threadIdx.x] = s[threadIdx.x];
}

// Each thread reads its left neighbour's value without a barrier in between: right in
// forward order, where the neighbour ran first; wrong in reverse and random order.
static __global__ void missing_sync_kernel(float *out, const float *in) {
  __shared__ float s[128];
  int t = threadIdx.x;
  s[t] = in[t];
  out[t] = t > 0 ? s[t - 1] : 0.0f; // BUG(missing_sync): no __syncthreads() before the read
}

static __global__ void uninit_shared_kernel(float *out, const float *in) {
  __shared__ float s[128];
  int t = threadIdx.x;
  if (t < 100) s[t] = in[t];
  __syncthreads();
  out[t] = s[t]; // BUG(uninit_shared): elements 100..127 were never written
}

static __global__ void barrier_divergence_kernel(float *out) {
  if (threadIdx.x < 16) {
    __syncthreads(); // BUG(barrier_divergence)
    out[threadIdx.x] = 1.0f;
  } else {
    __syncthreads();
    out[threadIdx.x] = 2.0f;
  }
}

static __global__ void shfl_exited_lane_kernel(float *out) {
  if (threadIdx.x >= 16) return;
  float v = __shfl_down_sync(0xffffffffu, 1.0f, 1); // BUG(shfl_exited_lane): lanes 16..31 left
  out[threadIdx.x] = v;
}

static __global__ void warp_divergence_kernel(float *out) {
  float v = (float)threadIdx.x;
  if (threadIdx.x % 2)
    v = __shfl_xor_sync(0xffffffffu, v, 1); // BUG(warp_divergence)
  else
    v = __shfl_xor_sync(0xffffffffu, v, 1);
  out[threadIdx.x] = v;
}

static __global__ void plain_kernel(float *out, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = 1.0f;
}

static __global__ void smem_kernel(float *out) {
  SR_DYNAMIC_SHARED(float, s);
  s[threadIdx.x] = 1.0f;
  out[threadIdx.x] = s[threadIdx.x];
}

// Reports the CUDA status after a launch; returns true if the launch failed.
bool launch_failed(const char *what) {
  cudaError_t launch = cudaGetLastError(), sync = cudaDeviceSynchronize();
  printf("%s: launch %s, synchronize %s\n", what, cudaGetErrorName(launch), cudaGetErrorName(sync));
  return launch != cudaSuccess || sync != cudaSuccess;
}

int run(const char *c) {
  const int n = 128;
  DeviceBuffer<float> out(n), in(n);
  std::vector<float> ramp(n);
  for (int i = 0; i < n; ++i) ramp[i] = (float)(i + 1);
  in.upload(ramp);

  if (!strcmp(c, "global_oob") || !strcmp(c, "static_shared_oob") ||
      !strcmp(c, "dynamic_shared_oob")) {
    if (!HAVE_ASAN) {
      printf("%s needs AddressSanitizer\n", c);
      return 77;
    }
    if (!strcmp(c, "global_oob")) {
      DeviceBuffer<float> small(100);
      SR_LAUNCH(global_oob_kernel, 1, 128, 0, 0, small.get(), 100);
    } else if (!strcmp(c, "static_shared_oob")) {
      SR_LAUNCH(static_shared_oob_kernel, 1, 64, 0, 0, out.get());
    } else {
      SR_LAUNCH(dynamic_shared_oob_kernel, 1, 64, 63 * sizeof(float), 0, out.get());
    }
    return launch_failed(c) ? 1 : 0; // AddressSanitizer should have ended the process
  }
  if (!strcmp(c, "missing_sync") || !strcmp(c, "uninit_shared")) {
    out.fill_zero();
    if (c[0] == 'm')
      SR_LAUNCH(missing_sync_kernel, 1, 128, 0, 0, out.get(), in.get());
    else
      SR_LAUNCH(uninit_shared_kernel, 1, 128, 0, 0, out.get(), in.get());
    if (launch_failed(c)) return 1;
    std::vector<float> got = out.download();
    int wrong = 0, nans = 0;
    for (int t = 0; t < n; ++t) {
      float want = c[0] == 'm' ? (t > 0 ? ramp[t - 1] : 0.0f) : ramp[t];
      nans += isnan(got[t]);
      wrong += !(got[t] == want);
    }
    printf("%s: WRONG RESULT in %d of %d elements, %d of them NaN\n", c, wrong, n, nans);
    return wrong ? 1 : 0;
  }
  if (!strcmp(c, "barrier_divergence")) {
    SR_LAUNCH(barrier_divergence_kernel, 2, 32, 0, 0, out.get());
  } else if (!strcmp(c, "shfl_exited_lane")) {
    SR_LAUNCH(shfl_exited_lane_kernel, 1, 32, 0, 0, out.get());
  } else if (!strcmp(c, "warp_divergence")) {
    SR_LAUNCH(warp_divergence_kernel, 1, 32, 0, 0, out.get());
  } else if (!strcmp(c, "too_many_threads")) {
    SR_LAUNCH(plain_kernel, 1, 2048, 0, 0, out.get(), n);
  } else if (!strcmp(c, "smem_too_large")) {
    SR_LAUNCH(smem_kernel, 1, 32, 228 * 1024, 0, out.get());
  } else if (!strcmp(c, "smem_needs_optin")) {
    SR_LAUNCH(smem_kernel, 1, 32, 64 * 1024, 0, out.get());
  } else if (!strcmp(c, "host_pointer_arg")) {
    std::vector<float> host(n);
    SR_LAUNCH(plain_kernel, 1, n, 0, 0, host.data(), n);
  } else if (!strcmp(c, "bad_free")) {
    float host[4];
    cudaError_t e = cudaFree(host);
    printf("bad_free: cudaFree returned %s\n", cudaGetErrorName(e));
    return e != cudaSuccess;
  } else if (!strcmp(c, "memcpy_overrun")) {
    std::vector<float> host(n + 1);
    cudaError_t e =
        cudaMemcpy(host.data(), out.get(), (n + 1) * sizeof(float), cudaMemcpyDeviceToHost);
    printf("memcpy_overrun: cudaMemcpy returned %s\n", cudaGetErrorName(e));
    return e != cudaSuccess;
  } else {
    fprintf(stderr, "unknown case %s\n", c);
    return 2;
  }
  return launch_failed(c) ? 1 : 0;
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s <case>\n", argv[0]);
    return 2;
  }
  int rc = run(argv[1]);
  if (rc == 0) printf("%s: the planted bug went unnoticed\n", argv[1]);
  return rc;
}
