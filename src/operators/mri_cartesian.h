/* Single-coil Cartesian MRI: A = P(Lambda) F, F the centred orthonormal 2-D
 * DFT with fastMRI's conventions (ifftshift, fft2 with norm "ortho",
 * fftshift; for h x w images the scale is 1 / sqrt(h w)), P(Lambda) the
 * undersampling mask. Images are real (nslices, h, w) float32; measurements
 * are complex64 k-space on the full (h, w) grid, zero where the mask is 0
 * (fastMRI's layout for undersampled data).
 *
 * For the paper's consistency step T = F (complex (h, w) grid), T^-1 =
 * Re F^-1, the mask Lambda is the sampling mask, and measurement_to_transform
 * is the masked copy. The adjoint is A^T y = Re F^-1 (mask y), exact for the
 * real inner product <A x, y> = Re sum conj(A x) y. */
#ifndef SR_OPERATORS_MRI_CARTESIAN_H
#define SR_OPERATORS_MRI_CARTESIAN_H

#include "operators/operator.h"

#ifdef __cplusplus
extern "C" {
#endif

/* mask_host: h * w values in {0, 1} (host memory, copied). */
sr_status sr_mri_cartesian_create(sr_backend *b, int64_t h, int64_t w, const float *mask_host,
                                  sr_operator **out);

/* The zero-filled baseline: x = |F^-1 (mask y)| (the magnitude, as
 * fastMRI's), y (nslices, h, w) complex, x (nslices, h, w) real; op must be
 * an mri-cartesian operator. */
sr_status sr_mri_zero_filled(sr_operator *op, const void *y, float *x, size_t nslices);

#ifdef __cplusplus
}
#endif

#endif
