/* Turning CUDA runtime errors into sr_status with file and line. Included by
 * kernel launchers (kernels/ (.cu files)) and the CUDA backend's host files. */
#ifndef SR_KERNELS_CUDA_CHECK_H
#define SR_KERNELS_CUDA_CHECK_H

#include <cuda_runtime_api.h>

#include "core/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* An allocation failure is the user's problem (batch too big), anything else
 * is a device failure. */
static inline sr_status sr_cuda_status(cudaError_t e) {
  return e == cudaErrorMemoryAllocation ? SR_ERR_OUT_OF_MEMORY : SR_ERR_DEVICE;
}

#define SR_CUDA_CHECK(ctx, call)                                                               \
  do {                                                                                         \
    cudaError_t sr_cuda_err_ = (call);                                                         \
    if (sr_cuda_err_ != cudaSuccess)                                                           \
      return sr_fail_at((ctx), sr_cuda_status(sr_cuda_err_), __FILE__, __LINE__,               \
                        "%s failed: %s (%s)", #call, cudaGetErrorString(sr_cuda_err_),         \
                        cudaGetErrorName(sr_cuda_err_));                                       \
  } while (0)

/* After a launch: configuration errors show at once, faults in the kernel on
 * the next synchronising call, which is checked the same way. */
#define SR_CUDA_CHECK_LAUNCH(ctx, kernel_name) SR_CUDA_CHECK((ctx), cudaGetLastError())

#ifdef __cplusplus
}
#endif

#endif
