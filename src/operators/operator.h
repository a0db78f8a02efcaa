/* Linear measurement operators as objects (after BART's linop): the sampler
 * and the classical solvers take an sr_operator and never ask which modality
 * it is. An operator maps a batch of real images (nslices, H, W) float32 to a
 * batch of measurements (nslices, meas_elems) of meas_dtype (float32 for a
 * sinogram, complex64 for k-space), all in backend memory.
 *
 * For the paper's data-consistency step an operator may also provide a
 * transform T (image -> complex transform domain of transform_elems values
 * per slice), its inverse T^-1 (keeping the real part), the mask Lambda of
 * measured transform-domain samples, and the map from a measurement into the
 * transform domain. Operators that lack them leave the pointers NULL.
 *
 * An operator owns scratch buffers sized for the largest batch seen so far:
 * one operator is used by one thread at a time. */
#ifndef SR_OPERATORS_OPERATOR_H
#define SR_OPERATORS_OPERATOR_H

#include <stddef.h>
#include <stdint.h>

#include "backend/backend.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sr_operator sr_operator;

typedef struct sr_operator_vtable {
  const char *name; /* "ct-parallel", "mri-cartesian", ... */
  void (*destroy)(sr_operator *op);
  /* y = A x, and x = A^T y (the exact adjoint: <A x, y> = <x, A^T y>). */
  sr_status (*forward)(sr_operator *op, const float *x, void *y, size_t nslices);
  sr_status (*adjoint)(sr_operator *op, const void *y, float *x, size_t nslices);
  /* Optional, for the paper's consistency step (interleaved complex64). */
  sr_status (*transform)(sr_operator *op, const float *x, float *t, size_t nslices);
  sr_status (*inverse_transform)(sr_operator *op, const float *t, float *x, size_t nslices);
  sr_status (*measurement_to_transform)(sr_operator *op, const void *y, float *t,
                                        size_t nslices);
} sr_operator_vtable;

struct sr_operator {
  const sr_operator_vtable *vt;
  sr_backend *backend;
  int64_t image_h, image_w;
  size_t meas_elems;     /* per slice, in elements of meas_dtype */
  sr_dtype meas_dtype;   /* SR_DTYPE_F32 or SR_DTYPE_C64 */
  size_t transform_elems; /* complex values per slice in T's domain; 0 if none */
  int64_t transform_h, transform_w; /* T's domain as a grid: transform_h * transform_w
                                     * == transform_elems (0 if none) */
  const float *mask;     /* transform_elems values in {0, 1} (backend memory) or NULL */
  /* Standard deviation of the measurement noise per real component of y
   * (0 when noise-free or unknown); read from the measurement file, for
   * samplers that weigh consistency by it. */
  float noise_sigma;
  void *impl;
};

static inline size_t sr_operator_image_elems(const sr_operator *op) {
  return (size_t)(op->image_h * op->image_w);
}

void sr_operator_destroy(sr_operator *op);

#ifdef __cplusplus
}
#endif

#endif
