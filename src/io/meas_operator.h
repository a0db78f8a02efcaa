/* The measurement operator a measurement file describes, on a backend: the
 * one place that turns file geometry into operators, for `reconstruct`, the
 * sampler and the benchmarks.
 *
 *   MRI -> mri-cartesian with the file's mask;
 *   CT  -> ct-parallel with the file's angles and detector, or, with
 *          SR_MEAS_OP_FOURIER, ct-fourier (the paper's T, for its consistency
 *          step), which needs what that transform assumes: square images,
 *          n_det = ceil(sqrt(2) N) bins of the pixel size centred on the axis,
 *          and views that are rows of a full set linspace(0, pi, n_full)
 *          (view_index in the file, or every view of an evenly spaced scan).
 * The operator's noise_sigma is the file's. */
#ifndef SR_IO_MEAS_OPERATOR_H
#define SR_IO_MEAS_OPERATOR_H

#include "io/h5meas.h"
#include "operators/operator.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sr_meas_op_kind {
  SR_MEAS_OP_DEFAULT = 0, /* mri-cartesian or ct-parallel */
  SR_MEAS_OP_FOURIER = 1  /* ct-fourier for CT (MRI: mri-cartesian, which has T already) */
} sr_meas_op_kind;

sr_status sr_meas_make_operator(sr_backend *b, const sr_meas *m, sr_meas_op_kind kind,
                                sr_operator **out);

#ifdef __cplusplus
}
#endif

#endif
