/* Operators from measurement files (see meas_operator.h). */
#include "io/meas_operator.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "operators/ct_fourier.h"
#include "operators/ct_geometry.h"
#include "operators/ct_parallel.h"
#include "operators/mri_cartesian.h"

static sr_status ct_parallel(sr_backend *b, const sr_ct_meas *c, sr_operator **out) {
  double *ang = (double *)malloc((size_t)c->n_views * sizeof(double));
  if (!ang) return sr_fail(b->ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate angles");
  for (int64_t v = 0; v < c->n_views; ++v) ang[v] = c->angles[v];
  sr_ct_geometry g;
  memset(&g, 0, sizeof g);
  sr_status st = sr_ct_geometry_init_angles(b->ctx, &g, c->image_h, c->image_w, ang, c->n_views);
  free(ang);
  if (st == SR_OK) {
    g.n_det = c->n_det;
    g.det_spacing = c->det_spacing;
    g.pixel_size = c->pixel_spacing;
    g.det_offset = c->det_offset;
    st = sr_ct_parallel_create(b, &g, out);
  }
  sr_ct_geometry_release(&g);
  return st;
}

static sr_status ct_fourier(sr_backend *b, const sr_ct_meas *c, sr_operator **out) {
  int64_t n = c->image_h;
  const char *why = NULL;
  if (c->image_w != n)
    why = "the image is not square";
  else if (c->n_det != sr_ct_fourier_d(n))
    why = "the detector does not have ceil(sqrt(2) N) bins";
  else if (c->det_spacing != c->pixel_spacing)
    why = "detector and pixel spacing differ";
  else if (c->det_offset != 0.0)
    why = "the detector is offset";
  if (why)
    return sr_fail(b->ctx, SR_ERR_UNSUPPORTED,
                   "the paper's Fourier-domain CT transform does not fit this geometry: %s", why);
  int64_t n_full = c->view_index ? c->n_full : c->n_views;
  int64_t *rows = (int64_t *)malloc((size_t)c->n_views * sizeof(int64_t));
  if (!rows) return sr_fail(b->ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate view rows");
  sr_status st = SR_OK;
  for (int64_t v = 0; v < c->n_views && st == SR_OK; ++v) {
    rows[v] = c->view_index ? c->view_index[v] : v;
    double expect = 3.14159265358979323846 * (double)rows[v] / (double)n_full;
    if (fabs((double)c->angles[v] - expect) > 1e-5)
      st = sr_fail(b->ctx, SR_ERR_UNSUPPORTED,
                   "the paper's Fourier-domain CT needs views at k pi / %lld; view %lld is at %g",
                   (long long)n_full, (long long)v, (double)c->angles[v]);
  }
  sr_ct_fourier_params p = {.image_size = n, .n_full = n_full, .rows = rows, .n_keep = c->n_views};
  if (st == SR_OK) st = sr_ct_fourier_create(b, &p, out);
  free(rows);
  return st;
}

sr_status sr_meas_make_operator(sr_backend *b, const sr_meas *m, sr_meas_op_kind kind,
                                sr_operator **out) {
  *out = NULL;
  sr_status st;
  if (m->modality == SR_MODALITY_MRI) {
    st = sr_mri_cartesian_create(b, m->mri.h, m->mri.w, m->mri.mask, out);
    if (st == SR_OK) (*out)->noise_sigma = (float)m->mri.noise_sigma;
  } else if (m->modality == SR_MODALITY_CT) {
    st = kind == SR_MEAS_OP_FOURIER ? ct_fourier(b, &m->ct, out) : ct_parallel(b, &m->ct, out);
    if (st == SR_OK) (*out)->noise_sigma = (float)m->ct.noise_sigma;
  } else {
    st = sr_fail(b->ctx, SR_ERR_INVALID_ARGUMENT, "no measurement to build an operator from");
  }
  return st;
}
