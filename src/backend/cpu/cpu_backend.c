/* The CPU backend: host memory, plain C loops with OpenMP. It is the
 * reference every CUDA op is compared with. */
#define _POSIX_C_SOURCE 200809L
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "backend/cpu/cpu_ct.h"
#include "backend/cpu/cpu_fft.h"
#include "backend/cpu/cpu_internal.h"
#include "backend/cpu/cpu_nn.h"
#include "core/error.h"

/* 64-byte alignment: a cache line, and enough for any AVX-512 load. */
static sr_status cpu_alloc(sr_backend *b, size_t bytes, void **out) {
  *out = NULL;
  if (bytes == 0) bytes = 1;
  void *p = NULL;
  if (posix_memalign(&p, 64, bytes) != 0 || !p)
    return sr_fail(b->ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate %zu bytes of host memory", bytes);
  *out = p;
  return SR_OK;
}

static void cpu_free(sr_backend *b, void *ptr) {
  free(ptr);
}

static sr_status cpu_copy(sr_backend *b, void *dst, const void *src, size_t bytes) {
  if (bytes) memmove(dst, src, bytes);
  return SR_OK;
}

static sr_status cpu_synchronize(sr_backend *b) {
  return SR_OK;
}

static void cpu_destroy(sr_backend *b) {
  free(b);
}

static const sr_backend_ops cpu_ops = {
    .name = "cpu",
    .destroy = cpu_destroy,
    .alloc = cpu_alloc,
    .free = cpu_free,
    .upload = cpu_copy,
    .download = cpu_copy,
    .copy = cpu_copy,
    .synchronize = cpu_synchronize,
    /* No profiler ranges: perf / VTune see the sampler's phases as its
     * functions (range_push / range_pop left NULL). */
    .mem_info = NULL, /* host memory: batch sizes are not device-bound */
    .range_push = NULL,
    .range_pop = NULL,
    .fill = sr_cpu_fill,
    .scale = sr_cpu_scale,
    .axpby = sr_cpu_axpby,
    .axpbypgz = sr_cpu_axpbypgz,
    .mul = sr_cpu_mul,
    .clamp = sr_cpu_clamp,
    .axpby_batched = sr_cpu_axpby_batched,
    .sum = sr_cpu_sum,
    .dot = sr_cpu_dot,
    .nrm2 = sr_cpu_nrm2,
    .max_abs = sr_cpu_max_abs,
    .nrm2_batched = sr_cpu_nrm2_batched,
    .count_nonfinite = sr_cpu_count_nonfinite,
    .randn = sr_cpu_randn,
    .ct_plan_create = sr_cpu_ct_plan_create,
    .ct_plan_destroy = sr_cpu_ct_plan_destroy,
    .radon = sr_cpu_radon,
    .backproject = sr_cpu_backproject,
    .ramp_filter = sr_cpu_ramp_filter,
    .fft2 = sr_cpu_fft2,
    .fft2c = sr_cpu_fft2c,
    .fftshift2 = sr_cpu_fftshift2,
    .embed_real = sr_cpu_embed_real,
    .extract_real = sr_cpu_extract_real,
    .cmask = sr_cpu_cmask,
    .cblend = sr_cpu_cblend,
    .cabs = sr_cpu_cabs,
    .cgather = sr_cpu_cgather,
    .cscatter = sr_cpu_cscatter,
    .rmatmul_c = sr_cpu_rmatmul_c,
    .grad2 = sr_cpu_grad2,
    .div2 = sr_cpu_div2,
    .proj_l2ball2 = sr_cpu_proj_l2ball2,
    .conv2d = sr_cpu_conv2d,
    .conv2d_workspace = sr_cpu_conv2d_workspace,
    .group_norm = sr_cpu_group_norm,
    .group_norm_coeffs = sr_cpu_group_norm_coeffs,
    .conv2d_normed = sr_cpu_conv2d_normed,
    .silu = sr_cpu_silu,
    .linear = sr_cpu_linear,
    .attention = sr_cpu_attention,
    .upfirdn2d = sr_cpu_upfirdn2d,
    .concat_channels = sr_cpu_concat_channels,
};

sr_status sr_cpu_backend_create(sr_context *ctx, int threads, sr_backend **out) {
  *out = NULL;
  sr_backend *b = (sr_backend *)calloc(1, sizeof *b);
  if (!b) return sr_fail(ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate the CPU backend");
  b->ops = &cpu_ops;
  b->ctx = ctx;
  b->kind = SR_BACKEND_CPU;
  b->threads = threads > 0 ? threads : omp_get_num_procs();
  *out = b;
  return SR_OK;
}
