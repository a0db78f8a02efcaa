/* Measurement files (HDF5), one layout per modality, both in the spirit of
 * fastMRI's single-coil files so that fastMRI's own tools open ours.
 *
 * MRI (fastMRI single-coil layout):
 *   /kspace              (slices, H, W) complex64, stored as the compound
 *                        {r: float32, i: float32} that h5py and fastMRI use;
 *                        centred orthonormal k-space, zero where unmeasured
 *   /mask                (H, W) uint8 in {0, 1}, the same for every slice
 *   /reconstruction_esc  (slices, H, W) float32 target image, when known
 *   attributes on /: modality "mri", acquisition, max (of the target),
 *   norm "ortho", mask_type, accel (nominal), true_acceleration,
 *   center_fraction, n_keep, seed, noise_sigma, scorerecon_version.
 *
 * CT (parallel beam):
 *   /sinogram   (slices, views, bins) float32 line integrals
 *   /angles     (views) float32 radians
 *   /view_index (views) int32: rows of a full set of n_full_views angles
 *               linspace(0, pi, n_full, endpoint=False), when the views are
 *               such a subset (the paper's sparse views)
 *   /target     (slices, H, W) float32, when known
 *   attributes on /: modality "ct", image_h, image_w, n_det, det_spacing,
 *   det_offset, pixel_spacing (src/operators/ct_geometry.h), n_full_views, noise ("none",
 * "gaussian", "poisson"), noise_sigma, i0, seed, scorerecon_version.
 *
 * Readers accept our files and real fastMRI single-coil files: k-space may
 * be stored as complex64 or complex128 compounds ({r, i} or {real, imag});
 * a missing mask means fully sampled (fastMRI train/val); a mask may be
 * (W,), (H, W) or (slices, H, W) of any integer, float or boolean type; when
 * the k-space grid is larger than the target (640 x 368 vs 320 x 320) it is
 * inverse transformed, centre-cropped to the target size and transformed
 * back (only for fully sampled data: a column mask does not survive the
 * crop). Every reader rejects malformed or mismatched files (wrong ranks or
 * shapes, mask and k-space disagreeing, NaN or Inf, masks that are not 0/1)
 * with one message naming the file; writers build the file in memory and
 * write it atomically (src/io/atomic_write.h), so a failure never leaves a
 * half-written file. */
#ifndef SR_IO_H5MEAS_H
#define SR_IO_H5MEAS_H

#include <stddef.h>
#include <stdint.h>

#include "scorerecon.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sr_modality { SR_MODALITY_NONE = 0, SR_MODALITY_MRI, SR_MODALITY_CT } sr_modality;

typedef struct sr_mri_meas {
  int64_t nslices, h, w;
  float *kspace; /* (nslices, h, w) complex64 interleaved */
  float *mask;   /* (h, w) in {0, 1} */
  float *target; /* (nslices, h, w) or NULL */
  /* Provenance (attributes); readers fill what the file has. */
  char mask_type[32];     /* "random", "equispaced", "paper", "vd2d", "full", ... */
  double accel;           /* nominal, 0 if unknown */
  double center_fraction; /* 0 if unknown */
  int64_t n_keep;         /* paper masks, 0 otherwise */
  int64_t seed;
  double noise_sigma;         /* per real component of k-space */
  int fastmri;                /* 1 when read from a fastMRI file (no scorerecon attributes) */
  int64_t source_h, source_w; /* the file's k-space grid before any crop */
} sr_mri_meas;

typedef struct sr_ct_meas {
  int64_t nslices, n_views, n_det;
  int64_t image_h, image_w;
  float *sinogram;     /* (nslices, n_views, n_det) */
  float *angles;       /* (n_views) radians */
  int32_t *view_index; /* (n_views) into the full set, or NULL */
  int64_t n_full;      /* size of the full set (0 when view_index is NULL) */
  double det_spacing, pixel_spacing;
  double det_offset; /* the axis' bin is n_det / 2 + det_offset (ct_geometry.h) */
  float *target;     /* (nslices, image_h, image_w) or NULL */
  char noise[16];    /* "none", "gaussian", "poisson" */
  double noise_sigma, i0;
  int64_t seed;
} sr_ct_meas;

typedef struct sr_meas {
  sr_modality modality;
  sr_mri_meas mri;
  sr_ct_meas ct;
} sr_meas;

/* Reads either modality (told apart by /kspace or /sinogram). *out is
 * zeroed first and holds nothing on failure. */
sr_status sr_meas_read(sr_context *ctx, const char *path, sr_meas *out);
void sr_meas_free(sr_meas *m);

/* Writers check what they are given (shapes, finite values, 0/1 masks and
 * k-space zero outside the mask) before writing anything. */
sr_status sr_mri_meas_write(sr_context *ctx, const char *path, const sr_mri_meas *m);
sr_status sr_ct_meas_write(sr_context *ctx, const char *path, const sr_ct_meas *m);

/* Checks an MRI measurement in memory as the reader does; `what` names it. */
sr_status sr_mri_meas_validate(sr_context *ctx, const char *what, const sr_mri_meas *m);
sr_status sr_ct_meas_validate(sr_context *ctx, const char *what, const sr_ct_meas *m);

#ifdef __cplusplus
}
#endif

#endif
