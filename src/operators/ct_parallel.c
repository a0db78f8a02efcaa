/* The ct-parallel operator: a geometry, its projector plan on a backend, and
 * FBP on top. All numbers come from the backend's CT ops. */
#include "operators/ct_parallel.h"

#include <math.h>
#include <stdlib.h>

#include "core/error.h"

typedef struct ct_parallel {
  sr_ct_geometry geom;
  sr_ct_plan *plan;
  float *filtered; /* (slices, n_angles, n_det) FBP scratch, backend memory */
  size_t filtered_slices;
} ct_parallel;

static ct_parallel *impl_of(sr_operator *op) {
  return (ct_parallel *)op->impl;
}

static sr_status ct_forward(sr_operator *op, const float *x, void *y, size_t nslices) {
  sr_backend *b = op->backend;
  return b->ops->radon(b, impl_of(op)->plan, x, (float *)y, nslices);
}

static sr_status ct_adjoint(sr_operator *op, const void *y, float *x, size_t nslices) {
  sr_backend *b = op->backend;
  return b->ops->backproject(b, impl_of(op)->plan, (const float *)y, x, nslices);
}

static void ct_destroy(sr_operator *op) {
  if (!op) return;
  ct_parallel *ct = impl_of(op);
  sr_backend *b = op->backend;
  if (ct) {
    if (ct->filtered) b->ops->free(b, ct->filtered);
    if (ct->plan) b->ops->ct_plan_destroy(b, ct->plan);
    sr_ct_geometry_release(&ct->geom);
    free(ct);
  }
  free(op);
}

static const sr_operator_vtable ct_parallel_vtable = {
    .name = "ct-parallel",
    .destroy = ct_destroy,
    .forward = ct_forward,
    .adjoint = ct_adjoint,
};

sr_status sr_ct_parallel_create(sr_backend *b, const sr_ct_geometry *g, sr_operator **out) {
  *out = NULL;
  if (!b->ops->ct_plan_create)
    return sr_fail(b->ctx, SR_ERR_UNSUPPORTED, "the %s backend has no CT projector", b->ops->name);
  SR_TRY(sr_ct_geometry_validate(b->ctx, g));
  sr_operator *op = (sr_operator *)calloc(1, sizeof *op);
  ct_parallel *ct = (ct_parallel *)calloc(1, sizeof *ct);
  if (!op || !ct) {
    free(op);
    free(ct);
    return sr_fail(b->ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate a CT operator");
  }
  op->vt = &ct_parallel_vtable;
  op->backend = b;
  op->impl = ct;
  sr_status st = sr_ct_geometry_copy(b->ctx, g, &ct->geom);
  sr_ct_view *views = NULL;
  if (st == SR_OK) {
    views = (sr_ct_view *)malloc((size_t)g->n_angles * sizeof *views);
    if (!views) st = sr_fail(b->ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate CT view tables");
  }
  sr_ct_projection proj;
  if (st == SR_OK) st = sr_ct_geometry_projection(b->ctx, &ct->geom, views, &proj);
  if (st == SR_OK) st = b->ops->ct_plan_create(b, &proj, &ct->plan);
  free(views);
  if (st != SR_OK) {
    ct_destroy(op);
    return st;
  }
  op->image_h = g->image_h;
  op->image_w = g->image_w;
  op->meas_elems = (size_t)(g->n_angles * g->n_det);
  op->meas_dtype = SR_DTYPE_F32;
  *out = op;
  return SR_OK;
}

const sr_ct_geometry *sr_ct_parallel_geometry(const sr_operator *op) {
  if (!op || op->vt != &ct_parallel_vtable) return NULL;
  return &((const ct_parallel *)op->impl)->geom;
}

static sr_status check_op(sr_operator *op, sr_ct_filter filter) {
  if (!op || op->vt != &ct_parallel_vtable)
    return sr_fail(op ? op->backend->ctx : NULL, SR_ERR_INVALID_ARGUMENT,
                   "FBP needs a ct-parallel operator");
  if ((unsigned)filter >= SR_CT_FILTER_COUNT)
    return sr_fail(op->backend->ctx, SR_ERR_INVALID_ARGUMENT, "unknown FBP filter %d", (int)filter);
  return SR_OK;
}

sr_status sr_ct_ramp_filter(sr_operator *op, const float *in, float *out, size_t nslices,
                            sr_ct_filter filter) {
  SR_TRY(check_op(op, filter));
  sr_backend *b = op->backend;
  return b->ops->ramp_filter(b, impl_of(op)->plan, filter, in, out, nslices);
}

sr_status sr_ct_fbp(sr_operator *op, const float *sino, float *image, size_t nslices,
                    sr_ct_filter filter) {
  SR_TRY(check_op(op, filter));
  if (nslices == 0) return SR_OK;
  sr_backend *b = op->backend;
  ct_parallel *ct = impl_of(op);
  if (nslices > ct->filtered_slices) {
    if (ct->filtered) b->ops->free(b, ct->filtered);
    ct->filtered = NULL;
    ct->filtered_slices = 0;
    void *p = NULL;
    SR_TRY(b->ops->alloc(b, nslices * op->meas_elems * sizeof(float), &p));
    ct->filtered = (float *)p;
    ct->filtered_slices = nslices;
  }
  SR_TRY(b->ops->ramp_filter(b, ct->plan, filter, sino, ct->filtered, nslices));
  SR_TRY(b->ops->backproject(b, ct->plan, ct->filtered, image, nslices));
  return b->ops->scale(b, image, nslices * sr_operator_image_elems(op),
                       (float)sr_ct_fbp_scale(&ct->geom));
}
