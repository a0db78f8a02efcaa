#include "backend/backend.h"

#include <stdio.h>

#include "core/error.h"

sr_status sr_backend_create(sr_context *ctx, sr_backend_kind kind, int device, int threads,
                            sr_backend **out) {
  *out = NULL;
  switch (kind) {
  case SR_BACKEND_CPU: return sr_cpu_backend_create(ctx, threads, out);
  case SR_BACKEND_CUDA:
#ifdef SR_HAVE_CUDA
    return sr_cuda_backend_create(ctx, device, out);
#else
    return sr_fail(ctx, SR_ERR_NO_DEVICE,
                   "the CUDA backend is not compiled into this build (rebuild with SR_CUDA=ON)");
#endif
  case SR_BACKEND_AUTO: break;
  }
  return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT, "backend kind %d cannot be created", (int)kind);
}

void sr_backend_destroy(sr_backend *b) {
  if (b && b->ops && b->ops->destroy) b->ops->destroy(b);
}

#ifdef SR_HAVE_CUDA
sr_status sr_cuda_probe_devices(int *device_count, char *why, size_t why_size);
#endif

sr_status sr_cuda_probe(int *device_count, char *why, size_t why_size) {
  if (device_count) *device_count = 0;
#ifdef SR_HAVE_CUDA
  return sr_cuda_probe_devices(device_count, why, why_size);
#else
  if (why && why_size) snprintf(why, why_size, "the CUDA backend is not compiled into this build");
  return SR_ERR_NO_DEVICE;
#endif
}
