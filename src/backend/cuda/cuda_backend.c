/* The CUDA backend: device, stream, memory and scratch. The ops themselves
 * are in cuda_ops.c; kernels in kernels/. This file also runs unchanged on
 * the CPU emulator (SR_CUDA_EMU), which implements the runtime calls used. */
#include <stdio.h>
#include <stdlib.h>

#include "backend/cuda/cuda_ct.h"
#include "backend/cuda/cuda_fft.h"
#include "backend/cuda/cuda_internal.h"
#include "backend/cuda/cuda_nn.h"

sr_status sr_cuda_probe_devices(int *device_count, char *why, size_t why_size) {
  int count = 0;
  cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) {
    if (why && why_size)
      snprintf(why, why_size, "%s (%s)", cudaGetErrorString(e), cudaGetErrorName(e));
    /* Reset the sticky error so a later context can report its own. */
    (void)cudaGetLastError();
    return SR_ERR_NO_DEVICE;
  }
  if (count <= 0) {
    if (why && why_size) snprintf(why, why_size, "the CUDA runtime reports no devices");
    return SR_ERR_NO_DEVICE;
  }
  if (device_count) *device_count = count;
  struct cudaDeviceProp prop;
  if (why && why_size && cudaGetDeviceProperties(&prop, 0) == cudaSuccess)
    snprintf(why, why_size, "%s (compute capability %d.%d, %.1f GiB)", prop.name, prop.major,
             prop.minor, (double)prop.totalGlobalMem / (1024.0 * 1024.0 * 1024.0));
  return SR_OK;
}

static sr_status cuda_alloc(sr_backend *b, size_t bytes, void **out) {
  *out = NULL;
  cudaError_t e = cudaMalloc(out, bytes ? bytes : 1);
  if (e != cudaSuccess) {
    (void)cudaGetLastError();
    size_t free_b = 0, total_b = 0;
    cudaMemGetInfo(&free_b, &total_b);
    return sr_fail(b->ctx, sr_cuda_status(e),
                   "cannot allocate %.1f MiB on GPU %d (%.1f MiB free of %.1f): %s",
                   (double)bytes / 1048576.0, b->device, (double)free_b / 1048576.0,
                   (double)total_b / 1048576.0, cudaGetErrorString(e));
  }
  return SR_OK;
}

static sr_status cuda_mem_info(sr_backend *b, size_t *free_bytes, size_t *total_bytes) {
  SR_CUDA_CHECK(b->ctx, cudaMemGetInfo(free_bytes, total_bytes));
  return SR_OK;
}

static void cuda_free(sr_backend *b, void *ptr) {
  if (ptr) cudaFree(ptr);
}

static sr_status cuda_memcpy(sr_backend *b, void *dst, const void *src, size_t bytes,
                             enum cudaMemcpyKind kind) {
  if (bytes == 0) return SR_OK;
  sr_cuda_state *st = sr_cuda_state_of(b);
  SR_CUDA_CHECK(b->ctx, cudaMemcpyAsync(dst, src, bytes, kind, st->stream));
  /* Host buffers are pageable and may be reused by the caller at once. */
  if (kind != cudaMemcpyDeviceToDevice) SR_CUDA_CHECK(b->ctx, cudaStreamSynchronize(st->stream));
  return SR_OK;
}

static sr_status cuda_upload(sr_backend *b, void *dst, const void *src, size_t bytes) {
  SR_NVTX_OP("upload", cuda_memcpy(b, dst, src, bytes, cudaMemcpyHostToDevice));
}

static sr_status cuda_download(sr_backend *b, void *dst, const void *src, size_t bytes) {
  SR_NVTX_OP("download", cuda_memcpy(b, dst, src, bytes, cudaMemcpyDeviceToHost));
}

static sr_status cuda_copy(sr_backend *b, void *dst, const void *src, size_t bytes) {
  SR_NVTX_OP("copy", cuda_memcpy(b, dst, src, bytes, cudaMemcpyDeviceToDevice));
}

static sr_status cuda_synchronize(sr_backend *b) {
  SR_CUDA_CHECK(b->ctx, cudaStreamSynchronize(sr_cuda_state_of(b)->stream));
  return SR_OK;
}

/* The sampler's phases (network, consistency, ...) as NVTX ranges: they
 * enclose the per-op ranges of SR_NVTX_OP in an Nsight timeline. NVTX is
 * a no-op unless a profiler is attached. */
static void cuda_range_push(sr_backend *b, const char *name) {
  (void)b;
  nvtxRangePushA(name);
}

static void cuda_range_pop(sr_backend *b) {
  (void)b;
  nvtxRangePop();
}

sr_status sr_cuda_scratch(sr_backend *b, size_t bytes, void **out) {
  sr_cuda_state *st = sr_cuda_state_of(b);
  if (bytes > st->scratch_bytes) {
    /* Earlier work may still read the old scratch. */
    SR_CUDA_CHECK(b->ctx, cudaStreamSynchronize(st->stream));
    if (st->scratch) cudaFree(st->scratch);
    st->scratch = NULL;
    st->scratch_bytes = 0;
    size_t grown = bytes < 4096 ? 4096 : bytes + bytes / 2;
    SR_TRY(cuda_alloc(b, grown, &st->scratch));
    st->scratch_bytes = grown;
  }
  *out = st->scratch;
  return SR_OK;
}

static void cuda_destroy(sr_backend *b) {
  sr_cuda_state *st = sr_cuda_state_of(b);
  if (st) {
    sr_cufft_cache_destroy(b);
    sr_cuda_nn_destroy(b);
    if (st->stream) {
      cudaStreamSynchronize(st->stream);
      cudaStreamDestroy(st->stream);
    }
    if (st->scratch) cudaFree(st->scratch);
    free(st);
  }
  free(b);
}

static const sr_backend_ops cuda_ops = {
    .name = "cuda",
    .destroy = cuda_destroy,
    .alloc = cuda_alloc,
    .free = cuda_free,
    .upload = cuda_upload,
    .download = cuda_download,
    .copy = cuda_copy,
    .synchronize = cuda_synchronize,
    .mem_info = cuda_mem_info,
    .range_push = cuda_range_push,
    .range_pop = cuda_range_pop,
    .fill = sr_cuda_fill,
    .scale = sr_cuda_scale,
    .axpby = sr_cuda_axpby,
    .axpbypgz = sr_cuda_axpbypgz,
    .mul = sr_cuda_mul,
    .clamp = sr_cuda_clamp,
    .axpby_batched = sr_cuda_axpby_batched,
    .sum = sr_cuda_sum,
    .dot = sr_cuda_dot,
    .nrm2 = sr_cuda_nrm2,
    .max_abs = sr_cuda_max_abs,
    .nrm2_batched = sr_cuda_nrm2_batched,
    .count_nonfinite = sr_cuda_count_nonfinite,
    .randn = sr_cuda_randn,
    .ct_plan_create = sr_cuda_ct_plan_create,
    .ct_plan_destroy = sr_cuda_ct_plan_destroy,
    .radon = sr_cuda_radon,
    .backproject = sr_cuda_backproject,
    .ramp_filter = sr_cuda_ramp_filter,
    .fft2 = sr_cuda_fft2,
    .fft2c = sr_cuda_fft2c,
    .fftshift2 = sr_cuda_fftshift2,
    .embed_real = sr_cuda_embed_real,
    .extract_real = sr_cuda_extract_real,
    .cmask = sr_cuda_cmask,
    .cblend = sr_cuda_cblend,
    .cabs = sr_cuda_cabs,
    .cgather = sr_cuda_cgather,
    .cscatter = sr_cuda_cscatter,
    .rmatmul_c = sr_cuda_rmatmul_c,
    .grad2 = sr_cuda_grad2,
    .div2 = sr_cuda_div2,
    .proj_l2ball2 = sr_cuda_proj_l2ball2,
    .conv2d = sr_cuda_conv2d,
    .conv2d_workspace = sr_cuda_conv2d_workspace,
    .group_norm = sr_cuda_group_norm,
    .silu = sr_cuda_silu,
    .linear = sr_cuda_linear,
    .attention = sr_cuda_attention,
    .upfirdn2d = sr_cuda_upfirdn2d,
    .concat_channels = sr_cuda_concat_channels,
};

sr_status sr_cuda_backend_create(sr_context *ctx, int device, sr_backend **out) {
  *out = NULL;
  int count = 0;
  char why[256];
  if (sr_cuda_probe_devices(&count, why, sizeof why) != SR_OK)
    return sr_fail(ctx, SR_ERR_NO_DEVICE, "no usable GPU: %s", why);
  if (device >= count)
    return sr_fail(ctx, SR_ERR_NO_DEVICE, "GPU %d requested, but only %d found", device, count);
  sr_backend *b = (sr_backend *)calloc(1, sizeof *b);
  sr_cuda_state *st = (sr_cuda_state *)calloc(1, sizeof *st);
  if (!b || !st) {
    free(b);
    free(st);
    return sr_fail(ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate the CUDA backend");
  }
  b->ops = &cuda_ops;
  b->ctx = ctx;
  b->kind = SR_BACKEND_CUDA;
  b->device = device;
  b->impl = st;
  *out = b;
  /* From here on, failures leave a backend that destroy() cleans up. */
  SR_CUDA_CHECK(ctx, cudaSetDevice(device));
  SR_CUDA_CHECK(ctx, cudaStreamCreateWithFlags(&st->stream, cudaStreamNonBlocking));
  return SR_OK;
}
