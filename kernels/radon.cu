/* Forward projection, sino = A image, on the GPU: the distance-driven
 * projector of src/backend/ct_projection.h, one thread per (view, detector
 * cell) ray, each walking the image lines its cell crosses and summing
 * overlap(cell, pixel) x pixel over the 1 .. 3 pixels of each line (no
 * atomics, no shared accumulators: the order of the sum is the line order, so
 * results are bit-identical run to run). A thread carries up to kSlices
 * slices of the batch, so the geometry is computed once for them.
 *
 * Memory: adjacent threads are adjacent cells of one view, so on a line they
 * read adjacent pixels. Views that walk image columns read a transposed copy
 * (transpose_kernel, (nslices, W, H)) to keep that true.
 *
 * CPU twin: src/backend/cpu/cpu_radon.c (the same positions q(l, m), summed
 * through prefix tables in double). Shapes: image (nslices, H, W), sino
 * (nslices, n_angles, n_det), float32. */
#include "cuda_check.h"
#include "cuda_compat.cuh"
#include "kernels.h"

namespace {

constexpr int kRayBlock = 128; /* cells of one view per block */
constexpr int kSlices = 4;     /* slices per thread */
constexpr int kTile = 32;      /* transpose tile */

/* out (nslices, w, h) = in (nslices, h, w) transposed, through a 32 x 33
 * shared tile so that both the reads and the writes are coalesced. Block
 * (32, 8); grid (tiles along w, tiles along h, nslices). */
__global__ void transpose_kernel(const float *in, float *out, int h, int w) {
  __shared__ float tile[kTile][kTile + 1];
  const size_t plane = (size_t)h * w;
  const float *src = in + blockIdx.z * plane;
  float *dst = out + blockIdx.z * plane;
  const int c0 = blockIdx.x * kTile, r0 = blockIdx.y * kTile;
  for (int i = threadIdx.y; i < kTile; i += blockDim.y) {
    int r = r0 + i, c = c0 + threadIdx.x;
    if (r < h && c < w) tile[i][threadIdx.x] = src[(size_t)r * w + c];
  }
  __syncthreads();
  for (int i = threadIdx.y; i < kTile; i += blockDim.y) {
    int c = c0 + i, r = r0 + threadIdx.x; /* out row c, column r */
    if (r < h && c < w) dst[(size_t)c * h + r] = tile[threadIdx.x][i];
  }
}

/* The lines [*l0, *l1) on which the cell between edges k and k + 1 can
 * overlap a pixel of a line of length L. A superset: the positions here,
 * lo/hi + gamma l, round differently from the fmaf chain of the loop, so the
 * bounds are widened by eps (positions) and one line; the loop checks each
 * line exactly. Views with gamma == 0 (θ = 0) walk every line. */
__device__ __forceinline__ void line_range(const sr_ct_view &v, int k, int lines, int L, int *l0,
                                           int *l1) {
  *l0 = 0;
  *l1 = lines;
  if (v.gamma == 0.0f) return;
  const float qa = fmaf(v.alpha, (float)k, v.beta0), qb = fmaf(v.alpha, (float)(k + 1), v.beta0);
  const float lo = fminf(qa, qb), hi = fmaxf(qa, qb);
  const float eps = 4e-6f * (1.0f + fabsf(v.beta0) + fabsf(v.alpha) * (float)(k + 1) +
                             fabsf(v.gamma) * (float)lines + (float)L);
  /* Line l shifts both edges by gamma l: need hi + gamma l > -1/2 and
   * lo + gamma l < L - 1/2. */
  const float a = (-0.5f - eps - hi) / v.gamma, b = ((float)L - 0.5f + eps - lo) / v.gamma;
  const float first = fminf(a, b) - 1.0f, last = fmaxf(a, b) + 2.0f;
  *l0 = first <= 0.0f ? 0 : first >= (float)lines ? lines : (int)first;
  *l1 = last <= 0.0f ? 0 : last >= (float)lines ? lines : (int)ceilf(last);
}

/* Block: kRayBlock cells of one view; grid.x = n_angles x tiles of cells,
 * grid.y = groups of kSlices slices. */
__global__ void radon_kernel(const sr_ct_view *views, int n_det, int h, int w, float coef,
                             const float *image, const float *image_t, float *sino, int nslices) {
  const int tiles = (n_det + kRayBlock - 1) / kRayBlock;
  const int a = blockIdx.x / tiles;
  const int k = (blockIdx.x % tiles) * kRayBlock + threadIdx.x;
  if (k >= n_det) return;
  const sr_ct_view v = views[a];
  const bool rows = v.major == SR_CT_ROWS;
  const int lines = rows ? h : w, L = rows ? w : h;
  const int s0 = blockIdx.y * kSlices;
  const int ns = nslices - s0 < kSlices ? nslices - s0 : kSlices;
  const size_t plane = (size_t)h * w;
  const float *src = (rows ? image : image_t) + (size_t)s0 * plane;

  float acc[kSlices];
  for (int s = 0; s < kSlices; ++s) acc[s] = 0.0f;
  int l0, l1;
  line_range(v, k, lines, L, &l0, &l1);
  for (int l = l0; l < l1; ++l) {
    const float base = sr_ct_line_base(&v, l);
    const float qa = sr_ct_edge(&v, base, k), qb = sr_ct_edge(&v, base, k + 1);
    const int c0 = max((int)floorf(fminf(qa, qb) + 0.5f), 0);
    const int c1 = min((int)floorf(fmaxf(qa, qb) + 0.5f), L - 1);
    const float *line = src + (size_t)l * L;
    for (int c = c0; c <= c1; ++c) {
      const float wgt = sr_ct_overlap(qa, qb, c);
      for (int s = 0; s < kSlices; ++s)
        if (s < ns) acc[s] += wgt * line[s * plane + c];
    }
  }
  float *out = sino + (size_t)s0 * ((size_t)gridDim.x / tiles) * n_det + (size_t)a * n_det + k;
  const size_t sino_plane = (size_t)(gridDim.x / tiles) * n_det;
  for (int s = 0; s < kSlices; ++s)
    if (s < ns) out[s * sino_plane] = coef * acc[s];
}

} // namespace

extern "C" sr_status sr_k_ct_transpose(sr_context *ctx, cudaStream_t s, const float *in, float *out,
                                       size_t nslices, int h, int w) {
  if (nslices == 0) return SR_OK;
  if (nslices > 65535)
    return sr_fail(ctx, SR_ERR_UNSUPPORTED, "transpose of %zu slices (at most 65535)", nslices);
  dim3 grid((unsigned)((w + kTile - 1) / kTile), (unsigned)((h + kTile - 1) / kTile),
            (unsigned)nslices);
  if (grid.y > 65535)
    return sr_fail(ctx, SR_ERR_UNSUPPORTED, "transpose of %d rows is too tall", h);
  SR_LAUNCH(transpose_kernel, grid, dim3(kTile, 8), 0, s, in, out, h, w);
  SR_CUDA_CHECK_LAUNCH(ctx, "transpose_kernel");
  return SR_OK;
}

extern "C" sr_status sr_k_radon(sr_context *ctx, cudaStream_t s, const sr_ct_view *views,
                                int n_angles, int n_det, int h, int w, float coef,
                                const float *image, const float *image_t, float *sino,
                                size_t nslices) {
  if (nslices == 0) return SR_OK;
  const size_t tiles = ((size_t)n_det + kRayBlock - 1) / kRayBlock;
  const size_t blocks = tiles * (size_t)n_angles, groups = (nslices + kSlices - 1) / kSlices;
  if (blocks > 0x7fffffffu || groups > 65535 || nslices > 0x7fffffffu)
    return sr_fail(ctx, SR_ERR_UNSUPPORTED,
                   "CT projection of %zu slices x %d views x %d bins is too large for one launch",
                   nslices, n_angles, n_det);
  SR_LAUNCH(radon_kernel, dim3((unsigned)blocks, (unsigned)groups), kRayBlock, 0, s, views, n_det,
            h, w, coef, image, image_t, sino, (int)nslices);
  SR_CUDA_CHECK_LAUNCH(ctx, "radon_kernel");
  return SR_OK;
}
