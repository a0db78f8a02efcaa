/* The "ct-parallel" operator: y = A x, the distance-driven parallel-beam
 * projection of a batch of images (nslices, H, W) into sinograms
 * (nslices, n_angles, n_det), float32 in backend memory, with its exact
 * adjoint (backend/ct_projection.h), and filtered backprojection. Sparse views
 * P(Λ) are a geometry whose angle list is the kept subset
 * (sr_ct_geometry_sparse). No transform T: the paper's Fourier-domain CT is
 * its own operator. */
#ifndef SR_OPERATORS_CT_PARALLEL_H
#define SR_OPERATORS_CT_PARALLEL_H

#include <stddef.h>

#include "backend/ct_projection.h"
#include "operators/ct_geometry.h"
#include "operators/operator.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Validates g, copies it and prepares the projector on b. */
sr_status sr_ct_parallel_create(sr_backend *b, const sr_ct_geometry *g, sr_operator **out);

/* The operator's geometry (NULL if op is not a ct-parallel operator). */
const sr_ct_geometry *sr_ct_parallel_geometry(const sr_operator *op);

/* Filtered backprojection of sino (nslices, n_angles, n_det) into image
 * (nslices, H, W), backend memory:
 *   image = π / (n_angles ps^2) A^T ramp_filter(sino)
 * (sr_ct_fbp_scale), with A^T the operator's own adjoint. Matches
 * scikit-image's iradon(..., circle=False) up to the projector's
 * discretisation. The filtered sinogram lives in operator scratch. */
sr_status sr_ct_fbp(sr_operator *op, const float *sino, float *image, size_t nslices,
                    sr_ct_filter filter);

/* Only the filtering step: out = ramp_filter(in), both (nslices, n_angles,
 * n_det) in backend memory; out may equal in. */
sr_status sr_ct_ramp_filter(sr_operator *op, const float *in, float *out, size_t nslices,
                            sr_ct_filter filter);

#ifdef __cplusplus
}
#endif

#endif
