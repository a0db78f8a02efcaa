/* The mri-cartesian operator: every function is a few op-table calls, so
 * the same code runs on the CPU and the CUDA backend. */
#include "operators/mri_cartesian.h"

#include <stdlib.h>

#include "core/error.h"

typedef struct mri_impl {
  float *mask;    /* (h, w) in {0, 1}, backend memory */
  float *scratch; /* complex (scratch_slices, h, w), backend memory */
  size_t scratch_slices;
} mri_impl;

static mri_impl *impl_of(sr_operator *op) {
  return (mri_impl *)op->impl;
}

static size_t plane(const sr_operator *op) {
  return (size_t)(op->image_h * op->image_w);
}

static sr_status scratch(sr_operator *op, size_t nslices, float **out) {
  mri_impl *m = impl_of(op);
  sr_backend *b = op->backend;
  if (nslices > m->scratch_slices) {
    if (m->scratch) b->ops->free(b, m->scratch);
    m->scratch = NULL;
    m->scratch_slices = 0;
    SR_TRY(b->ops->alloc(b, nslices * plane(op) * 2 * sizeof(float), (void **)&m->scratch));
    m->scratch_slices = nslices;
  }
  *out = m->scratch;
  return SR_OK;
}

/* t (nslices, h, w) complex = F x. */
static sr_status mri_transform(sr_operator *op, const float *x, float *t, size_t nslices) {
  sr_backend *b = op->backend;
  size_t h = (size_t)op->image_h, w = (size_t)op->image_w;
  SR_TRY(b->ops->embed_real(b, t, x, nslices, h, w, h, w, 0, 0));
  return b->ops->fft2c(b, t, t, nslices, h, w, 0);
}

/* x = Re F^-1 t; t is left as it was. */
static sr_status mri_inverse_transform(sr_operator *op, const float *t, float *x, size_t nslices) {
  sr_backend *b = op->backend;
  size_t h = (size_t)op->image_h, w = (size_t)op->image_w;
  float *tmp = NULL;
  SR_TRY(scratch(op, nslices, &tmp));
  SR_TRY(b->ops->fft2c(b, tmp, t, nslices, h, w, 1));
  return b->ops->extract_real(b, x, tmp, nslices, h, w, h, w, 0, 0, 1.0f);
}

static sr_status mri_forward(sr_operator *op, const float *x, void *y, size_t nslices) {
  sr_backend *b = op->backend;
  SR_TRY(mri_transform(op, x, (float *)y, nslices));
  return b->ops->cmask(b, (float *)y, (const float *)y, impl_of(op)->mask, nslices, plane(op));
}

static sr_status mri_adjoint(sr_operator *op, const void *y, float *x, size_t nslices) {
  sr_backend *b = op->backend;
  size_t h = (size_t)op->image_h, w = (size_t)op->image_w;
  float *tmp = NULL;
  SR_TRY(scratch(op, nslices, &tmp));
  SR_TRY(b->ops->cmask(b, tmp, (const float *)y, impl_of(op)->mask, nslices, plane(op)));
  SR_TRY(b->ops->fft2c(b, tmp, tmp, nslices, h, w, 1));
  return b->ops->extract_real(b, x, tmp, nslices, h, w, h, w, 0, 0, 1.0f);
}

/* The measurement already lives on T's grid; the mask only clears values a
 * file may carry outside it. */
static sr_status mri_measurement_to_transform(sr_operator *op, const void *y, float *t,
                                              size_t nslices) {
  sr_backend *b = op->backend;
  return b->ops->cmask(b, t, (const float *)y, impl_of(op)->mask, nslices, plane(op));
}

static void mri_destroy(sr_operator *op) {
  mri_impl *m = impl_of(op);
  if (m) {
    if (m->mask) op->backend->ops->free(op->backend, m->mask);
    if (m->scratch) op->backend->ops->free(op->backend, m->scratch);
    free(m);
  }
  free(op);
}

static const sr_operator_vtable mri_vtable;

sr_status sr_mri_zero_filled(sr_operator *op, const void *y, float *x, size_t nslices) {
  if (!op || op->vt != &mri_vtable)
    return sr_fail(op ? op->backend->ctx : NULL, SR_ERR_INVALID_ARGUMENT,
                   "zero-filled reconstruction needs an mri-cartesian operator");
  sr_backend *b = op->backend;
  size_t h = (size_t)op->image_h, w = (size_t)op->image_w;
  float *tmp = NULL;
  SR_TRY(scratch(op, nslices, &tmp));
  SR_TRY(b->ops->cmask(b, tmp, (const float *)y, impl_of(op)->mask, nslices, plane(op)));
  SR_TRY(b->ops->fft2c(b, tmp, tmp, nslices, h, w, 1));
  return b->ops->cabs(b, x, tmp, nslices * plane(op));
}

static const sr_operator_vtable mri_vtable = {
    .name = "mri-cartesian",
    .destroy = mri_destroy,
    .forward = mri_forward,
    .adjoint = mri_adjoint,
    .transform = mri_transform,
    .inverse_transform = mri_inverse_transform,
    .measurement_to_transform = mri_measurement_to_transform,
};

sr_status sr_mri_cartesian_create(sr_backend *b, int64_t h, int64_t w, const float *mask_host,
                                  sr_operator **out) {
  *out = NULL;
  if (h < 1 || w < 1 || h > (1 << 20) || w > (1 << 20))
    return sr_fail(b->ctx, SR_ERR_INVALID_ARGUMENT, "MRI image size %lld x %lld is not usable",
                   (long long)h, (long long)w);
  size_t n = (size_t)(h * w);
  for (size_t k = 0; k < n; ++k)
    if (mask_host[k] != 0.0f && mask_host[k] != 1.0f)
      return sr_fail(b->ctx, SR_ERR_INVALID_ARGUMENT,
                     "MRI mask value %g at index %zu is neither 0 nor 1", (double)mask_host[k], k);
  sr_operator *op = (sr_operator *)calloc(1, sizeof *op);
  mri_impl *m = (mri_impl *)calloc(1, sizeof *m);
  if (!op || !m) {
    free(op);
    free(m);
    return sr_fail(b->ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate the MRI operator");
  }
  op->vt = &mri_vtable;
  op->backend = b;
  op->impl = m;
  op->image_h = h;
  op->image_w = w;
  op->meas_elems = n;
  op->meas_dtype = SR_DTYPE_C64;
  op->transform_elems = n;
  op->transform_h = h;
  op->transform_w = w;
  sr_status st = b->ops->alloc(b, n * sizeof(float), (void **)&m->mask);
  if (st == SR_OK) st = b->ops->upload(b, m->mask, mask_host, n * sizeof(float));
  if (st != SR_OK) {
    mri_destroy(op);
    return st;
  }
  op->mask = m->mask;
  *out = op;
  return SR_OK;
}
