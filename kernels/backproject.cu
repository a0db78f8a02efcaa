/* Backprojection, image = A^T sino, on the GPU: the exact transpose of
 * radon.cu, pixel-driven. Each thread owns one pixel (and up to kSlices
 * slices of the batch); for every view it finds the detector cells whose
 * footprint on the pixel's line can overlap the pixel and gathers
 * overlap(cell, pixel) x sino[cell], with the overlap computed by the very
 * same expression the forward uses (sr_ct_edge, sr_ct_overlap), so the two
 * kernels apply the same weights bit for bit. No atomics: every output is
 * written once, its sum taken in view order, so results are bit-identical
 * run to run.
 *
 * The candidate cells come from inverting the edge positions, which rounds
 * differently: they are widened by a margin and each is checked exactly (a
 * cell that does not overlap weighs 0). With ds = ps there are 2 or 3
 * candidates per view.
 *
 * Memory: a block is 32 x 8 pixels; for views that walk rows, the 32 threads
 * of a warp read 32 adjacent cells; for views that walk columns, their cells
 * advance by |cos θ| < 0.71 per thread. Either way a warp reads a short run
 * of one sinogram row, which stays in L1 for the block's next rows.
 *
 * CPU twin: src/backend/cpu/cpu_backproject.c. Shapes: sino (nslices,
 * n_angles, n_det), image (nslices, H, W), float32; the image is overwritten. */
#include "cuda_check.h"
#include "cuda_compat.cuh"
#include "kernels.h"

namespace {

constexpr int kBlockX = 32, kBlockY = 8;
constexpr int kSlices = 4;

/* grid.x = tiles_x x tiles_y pixel tiles, grid.y = groups of kSlices slices. */
__global__ void backproject_kernel(const sr_ct_view *views, int n_angles, int n_det, int h, int w,
                                   float coef, const float *sino, float *image, int nslices,
                                   int tiles_x) {
  const int c = (blockIdx.x % tiles_x) * kBlockX + threadIdx.x;
  const int r = (blockIdx.x / tiles_x) * kBlockY + threadIdx.y;
  if (r >= h || c >= w) return;
  const int s0 = blockIdx.y * kSlices;
  const int ns = nslices - s0 < kSlices ? nslices - s0 : kSlices;
  const size_t sino_plane = (size_t)n_angles * n_det, plane = (size_t)h * w;
  const float *y = sino + (size_t)s0 * sino_plane;

  float acc[kSlices];
  for (int s = 0; s < kSlices; ++s) acc[s] = 0.0f;
  for (int a = 0; a < n_angles; ++a) {
    const sr_ct_view v = views[a];
    const bool rows = v.major == SR_CT_ROWS;
    const int l = rows ? r : c, p = rows ? c : r;
    const float base = sr_ct_line_base(&v, l);
    /* Cell k spans the edges k and k + 1: it can overlap [p - 1/2, p + 1/2]
     * only for k in (min(t1, t2) - 1, max(t1, t2)). */
    const float t1 = ((float)p - 0.5f - base) / v.alpha, t2 = ((float)p + 0.5f - base) / v.alpha;
    const float inv = 1.0f / fabsf(v.alpha);
    const float margin =
        1e-3f + 4e-6f * (1.0f + fabsf(base) + fabsf(v.alpha) * (float)n_det + (float)p) * inv;
    const float lo = fmaxf(fminf(t1, t2) - 1.0f - margin, -1.0f);
    const float hi = fminf(fmaxf(t1, t2) + margin, (float)n_det);
    const int k0 = (int)ceilf(lo), k1 = min((int)floorf(hi), n_det - 1);
    const float *row = y + (size_t)a * n_det;
    for (int k = max(k0, 0); k <= k1; ++k) {
      const float wgt = sr_ct_overlap(sr_ct_edge(&v, base, k), sr_ct_edge(&v, base, k + 1), p);
      if (wgt == 0.0f) continue;
      for (int s = 0; s < kSlices; ++s)
        if (s < ns) acc[s] += wgt * row[s * sino_plane + k];
    }
  }
  float *out = image + (size_t)s0 * plane + (size_t)r * w + c;
  for (int s = 0; s < kSlices; ++s)
    if (s < ns) out[s * plane] = coef * acc[s];
}

} // namespace

extern "C" sr_status sr_k_backproject(sr_context *ctx, cudaStream_t s, const sr_ct_view *views,
                                      int n_angles, int n_det, int h, int w, float coef,
                                      const float *sino, float *image, size_t nslices) {
  if (nslices == 0) return SR_OK;
  const size_t tiles_x = ((size_t)w + kBlockX - 1) / kBlockX;
  const size_t tiles = tiles_x * (((size_t)h + kBlockY - 1) / kBlockY);
  const size_t groups = (nslices + kSlices - 1) / kSlices;
  if (tiles > 0x7fffffffu || groups > 65535 || nslices > 0x7fffffffu)
    return sr_fail(ctx, SR_ERR_UNSUPPORTED,
                   "CT backprojection of %zu slices of %d x %d is too large for one launch",
                   nslices, h, w);
  SR_LAUNCH(backproject_kernel, dim3((unsigned)tiles, (unsigned)groups), dim3(kBlockX, kBlockY), 0,
            s, views, n_angles, n_det, h, w, coef, sino, image, (int)nslices, (int)tiles_x);
  SR_CUDA_CHECK_LAUNCH(ctx, "backproject_kernel");
  return SR_OK;
}
