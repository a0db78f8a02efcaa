/* 2-D parallel-beam CT geometry: a value object (after ASTRA's projection
 * geometries) that says where the pixels, the detector bins and the views
 * are, separate from the projector that uses it.
 *
 * Conventions (the same as scikit-image's radon/iradon, so its sinograms and
 * ours line up bin for bin):
 *  - Pixel (r, c) of the H x W image has its centre at
 *      X = (c - W/2 - center_x) ps,  Y = (r - H/2 - center_y) ps
 *    (integer division: W/2 = W // 2; center_x = center_y = 0 by default), so
 *    the rotation axis passes through the centre of pixel (H/2, W/2); X runs
 *    along columns (right), Y along rows (down). For even sizes this is half a
 *    pixel off the geometric centre ((W - 1) / 2, as ASTRA uses: center_x =
 *    center_y = -0.5 gives ASTRA's convention).
 *  - Bin k (0 <= k < n_det) of the detector sits at
 *      u = (k - n_det/2 - det_offset) ds
 *    (det_offset in bins, 0 by default: the axis projects onto bin n_det // 2;
 *    det_offset = -0.5 for an even n_det gives ASTRA's centred detector).
 *  - The view at angle θ (radians) integrates along the lines
 *      X cos θ - Y sin θ = u,
 *    i.e. u = x cos θ + y sin θ with y = -Y pointing up: the textbook Radon
 *    transform of the image as displayed. θ = 0 sums each column (bin k ~
 *    column k - n_det/2 + W/2); θ = π/2 sums rows, top row at the high bins.
 *  - Sinograms are (n_angles, n_det), one row per view, in the order of
 *    `angles`; values are line integrals in the unit of ps (scikit-image's are
 *    in pixels: ps = 1).
 *
 * The default detector, n_det = ceil(√2 max(H, W)) bins of ds = ps, is
 * scikit-image's (circle=False) and the paper's (453 bins for 320²); it spans
 * the image's diagonal up to the corner pixels of an even-sized image, which
 * reach 1/√2 pixel further because of the off-centre axis (those corners are
 * outside every CT field of view). */
#ifndef SR_OPERATORS_CT_GEOMETRY_H
#define SR_OPERATORS_CT_GEOMETRY_H

#include <stddef.h>
#include <stdint.h>

#include "backend/ct_projection.h"
#include "scorerecon.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sr_ct_geometry {
  int64_t image_h, image_w;  /* rows, columns */
  double pixel_size;         /* ps: pixel edge, any length unit (1 by default) */
  int64_t n_det;             /* detector bins */
  double det_spacing;        /* ds: bin width, same unit as ps (1 by default) */
  double det_offset;         /* shift of the axis' bin from n_det / 2, in bins */
  double center_x, center_y; /* shift of the axis from pixel (H/2, W/2), in pixels */
  int64_t n_angles;
  double *angles; /* n_angles view angles in radians; owned: sr_ct_geometry_release */
} sr_ct_geometry;

/* ceil(√2 max(h, w)): the default detector (scikit-image's, the paper's). */
int64_t sr_ct_default_n_det(int64_t image_h, int64_t image_w);

/* A full scan: n_angles views at a π / n_angles, a = 0 .. n_angles - 1
 * (linspace(0, π, n_angles, endpoint=False)), ps = ds = 1, the default
 * detector. Fields may be changed afterwards; the operator validates them. */
sr_status sr_ct_geometry_init(sr_context *ctx, sr_ct_geometry *g, int64_t image_h, int64_t image_w,
                              int64_t n_angles);
/* The same with an explicit list of angles in radians (copied). */
sr_status sr_ct_geometry_init_angles(sr_context *ctx, sr_ct_geometry *g, int64_t image_h,
                                     int64_t image_w, const double *angles, int64_t n_angles);
/* A deep copy; dst is overwritten (not released first). */
sr_status sr_ct_geometry_copy(sr_context *ctx, const sr_ct_geometry *src, sr_ct_geometry *dst);
/* Frees the angle list and zeroes g; safe on a zeroed or released g. */
void sr_ct_geometry_release(sr_ct_geometry *g);

/* Every field checked, with a message naming the first bad one: sizes >= 1
 * (at most 2^20 a side), ps and ds positive and finite, angles finite and in
 * radians (|θ| <= 2π: degrees are refused), det_offset finite, and a detector
 * at least as wide as the image's inscribed circle (n_det ds >= min(H, W) ps;
 * less would truncate every projection). */
sr_status sr_ct_geometry_validate(sr_context *ctx, const sr_ct_geometry *g);

/* Sparse views P(Λ). The paper's rule: rows round(linspace(0, n_full - 1,
 * n_keep)) of a full set of n_full views, rounding half to even as NumPy
 * does (23 of 320: 0, 14, 29, 44, ...). rows: n_keep values, increasing. */
sr_status sr_ct_sparse_rows(sr_context *ctx, int64_t n_full, int64_t n_keep, int64_t *rows);
/* The geometry of the views rows[0 .. n) of full (strictly increasing). */
sr_status sr_ct_geometry_subset(sr_context *ctx, const sr_ct_geometry *full, const int64_t *rows,
                                int64_t n, sr_ct_geometry *out);
/* sr_ct_sparse_rows + sr_ct_geometry_subset; rows_out (n_keep) may be NULL. */
sr_status sr_ct_geometry_sparse(sr_context *ctx, const sr_ct_geometry *full, int64_t n_keep,
                                sr_ct_geometry *out, int64_t *rows_out);

/* The same scanner seen through a finer model, for simulating data without
 * the inverse crime (CLARIFICATIONS.md): an image `factor` times larger with
 * pixels `factor` times smaller, a detector of factor x n_det bins of
 * ds / factor, and centre and detector offsets such that fine pixels
 * factor c .. factor c + factor - 1 tile coarse pixel c and fine bins
 * factor k .. factor k + factor - 1 tile coarse bin k. So the projection of
 * an image upsampled by pixel replication, with each group of `factor` fine
 * bins averaged, approximates the coarse projection, and with a smooth
 * upsampling it is a finer model of the same object. */
sr_status sr_ct_geometry_upsampled(sr_context *ctx, const sr_ct_geometry *g, int factor,
                                   sr_ct_geometry *out);

/* The projector's tables for g (validated first): views (n_angles, caller's
 * memory) and proj, which points at views. */
sr_status sr_ct_geometry_projection(sr_context *ctx, const sr_ct_geometry *g, sr_ct_view *views,
                                    sr_ct_projection *proj);

/* FBP's scale: image = π / (n_angles ps^2) A^T (filtered sinogram). π /
 * n_angles is the angular step of a full scan; the 1 / ps^2 undoes the
 * ps^2 / ds of the adjoint's weights together with the filter's 1 / ds. */
double sr_ct_fbp_scale(const sr_ct_geometry *g);

#ifdef __cplusplus
}
#endif

#endif
