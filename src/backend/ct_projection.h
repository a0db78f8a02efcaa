/* The discretised parallel-beam CT projector shared by both backends (issue 3):
 * per-view line tables, the plan object the CT ops take, the ramp filters.
 * src/operators/ct_geometry.c turns a physical geometry into these tables;
 * the backends only ever see the tables.
 *
 * The projector is distance-driven (De Man & Basu, Phys. Med. Biol. 49, 2004),
 * not Joseph's: for each view the image is cut into lines (rows when the rays
 * are closer to vertical, |cos θ| >= |sin θ|, else columns) and every detector
 * cell's two edges are mapped onto each line. The weight of pixel c of a line
 * for cell k is the overlap of the cell's footprint [q_k, q_k+1] with the pixel
 * [c - 1/2, c + 1/2], times ps^2 / ds. Why not Joseph: the exact transpose of
 * Joseph's linear interpolation, used as the backprojector, leaves a moiré of a
 * few per cent wherever the rays are sparser than the pixels (every view away
 * from 0 and π/2 when ds = ps: A^T 1 is not flat), and FBP and the sampler's
 * consistency step use that transpose. The distance-driven pair is matched and
 * smooth both ways: every pixel inside the detector's reach is covered by cells
 * whose overlaps sum to exactly 1, so A^T 1 = n_angles · ps^2 / ds there. It
 * costs what Joseph costs (one interpolation per cell edge and line).
 *
 * Positions along a line, in pixel units (pixel c of the line spans
 * [c - 1/2, c + 1/2]): the edge m (0 <= m <= n_det; cell k lies between edges k
 * and k + 1) meets line l at
 *     q(l, m) = fmaf(alpha, m, fmaf(gamma, l, beta0))
 * in float, evaluated by the same inline functions on both backends, so the
 * CPU and CUDA projectors are the same matrix, and each backend's forward and
 * adjoint use the very same numbers. */
#ifndef SR_BACKEND_CT_PROJECTION_H
#define SR_BACKEND_CT_PROJECTION_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "scorerecon.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__CUDACC__)
#define SR_CT_INLINE __host__ __device__ __forceinline__
#else
#define SR_CT_INLINE static inline
#endif

/* Which image lines a view walks: rows (y) or columns (x). */
typedef enum sr_ct_major { SR_CT_ROWS = 0, SR_CT_COLUMNS = 1 } sr_ct_major;

/* One view (projection angle) of the projector, see q(l, m) above. For
 * SR_CT_ROWS, line l is image row l and positions are column coordinates;
 * for SR_CT_COLUMNS, line l is column l and positions are row coordinates. */
typedef struct sr_ct_view {
  float alpha;   /* edge spacing along a line, pixels per bin, signed */
  float beta0;   /* position of edge 0 on line 0 */
  float gamma;   /* shift of every edge from one line to the next */
  int32_t major; /* an sr_ct_major */
} sr_ct_view;

/* The whole projector: image (H, W) <-> sinogram (n_angles, n_det). */
typedef struct sr_ct_projection {
  int64_t image_h, image_w;
  int64_t n_angles, n_det;
  float coef;              /* ps^2 / ds: every overlap weight is scaled by it */
  const sr_ct_view *views; /* n_angles views (host memory) */
} sr_ct_projection;

/* A projector prepared on one backend (views uploaded, FFT plans, scratch).
 * Made by ops->ct_plan_create; one plan is used by one thread at a time. */
typedef struct sr_ct_plan {
  sr_ct_projection proj; /* views: the plan's own host copy */
  void *impl;            /* backend-private */
} sr_ct_plan;

/* The window applied to the ramp filter in FBP, as scikit-image names them. */
typedef enum sr_ct_filter {
  SR_CT_FILTER_RAM_LAK = 0, /* the plain ramp, "ramp" in scikit-image */
  SR_CT_FILTER_SHEPP_LOGAN,
  SR_CT_FILTER_COSINE,
  SR_CT_FILTER_HAMMING,
  SR_CT_FILTER_HANN,
  SR_CT_FILTER_COUNT
} sr_ct_filter;

/* "ram-lak", "shepp-logan", "cosine", "hamming", "hann" (NULL if out of range). */
const char *sr_ct_filter_name(sr_ct_filter filter);
/* Accepts the names above and scikit-image's "ramp"; 0 on success, -1 if unknown. */
int sr_ct_filter_parse(const char *name, sr_ct_filter *out);

/* The zero-padded length of a filtered projection, as scikit-image's iradon:
 * max(64, the power of two >= 2 n_det). */
int64_t sr_ct_filter_padded_size(int64_t n_det);

/* The real, even frequency response H[f], f = 0 .. padded/2, of the filter for
 * one projection row in bin units: the DFT of Kak & Slaney's spatial ramp
 * (h[0] = 1/4, h[n] = -1/(π n)^2 for odd n, 0 for even n; Principles of
 * Computerized Tomographic Imaging, ch. 3 eq. 61) times the window, which
 * keeps the DC term right where sampling |f| would not. This is exactly half
 * of scikit-image's _get_fourier_filter (its iradon scales by π/(2 n_angles),
 * ours by π/n_angles); its Hamming and Hann windows are not exactly even
 * (np.hanning over `padded` points, then fftshift), and since iradon keeps the
 * real part, what it applies is their even part, which is what this returns. */
void sr_ct_filter_spectrum(sr_ct_filter filter, int64_t padded, double *out);

/* Copies proj (views included) into a new plan with impl = NULL. Validates
 * the tables: SR_ERR_INVALID_ARGUMENT with a message when sizes are not
 * positive, too large for 32-bit indices, or a view is not finite. */
sr_status sr_ct_plan_alloc(sr_context *ctx, const sr_ct_projection *proj, sr_ct_plan **out);
/* Frees what sr_ct_plan_alloc made (the backend frees impl first). */
void sr_ct_plan_release(sr_ct_plan *plan);

/* ---- the projector's arithmetic, identical on both backends */

/* Where edge 0 meets line l. */
SR_CT_INLINE float sr_ct_line_base(const sr_ct_view *v, int line) {
  return fmaf(v->gamma, (float)line, v->beta0);
}

/* Where edge m meets the line whose base is `base`. */
SR_CT_INLINE float sr_ct_edge(const sr_ct_view *v, float base, int m) {
  return fmaf(v->alpha, (float)m, base);
}

/* Length of the overlap of the cell between edge positions a and b (either
 * order) with pixel c, [c - 1/2, c + 1/2]; 0 when they are apart. */
SR_CT_INLINE float sr_ct_overlap(float a, float b, int c) {
  float lo = fminf(a, b), hi = fmaxf(a, b);
  float w = fminf(hi, (float)c + 0.5f) - fmaxf(lo, (float)c - 0.5f);
  return fmaxf(w, 0.0f);
}

#ifdef __cplusplus
}
#endif

#endif
