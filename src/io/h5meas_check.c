/* Validation of measurements in memory (the readers and writers share it),
 * freeing, and the small HDF5 helpers. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "io/h5meas_internal.h"

void sr_h5_silence(void) {
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

hid_t sr_h5_complex64_type(void) {
  hid_t t = H5Tcreate(H5T_COMPOUND, 2 * sizeof(float));
  if (t < 0) return t;
  H5Tinsert(t, "r", 0, H5T_NATIVE_FLOAT);
  H5Tinsert(t, "i", sizeof(float), H5T_NATIVE_FLOAT);
  return t;
}

void sr_h5_close(hid_t id) {
  if (id < 0) return;
  switch (H5Iget_type(id)) {
  case H5I_FILE: H5Fclose(id); break;
  case H5I_GROUP: H5Gclose(id); break;
  case H5I_DATASET: H5Dclose(id); break;
  case H5I_DATASPACE: H5Sclose(id); break;
  case H5I_DATATYPE: H5Tclose(id); break;
  case H5I_ATTR: H5Aclose(id); break;
  case H5I_GENPROP_LST: H5Pclose(id); break;
  default: break;
  }
}

/* Index of the first non-finite value, or n. */
static size_t first_nonfinite(const float *x, size_t n) {
  for (size_t i = 0; i < n; ++i)
    if (!isfinite(x[i])) return i;
  return n;
}

sr_status sr_mri_meas_validate(sr_context *ctx, const char *what, const sr_mri_meas *m) {
  if (m->nslices < 1 || m->h < 2 || m->w < 2)
    return sr_fail(ctx, SR_ERR_SHAPE, "%s: k-space shape (%lld, %lld, %lld) is empty or too small",
                   what, (long long)m->nslices, (long long)m->h, (long long)m->w);
  if (!m->kspace || !m->mask)
    return sr_fail(ctx, SR_ERR_FORMAT, "%s: k-space or mask missing", what);
  size_t plane = (size_t)(m->h * m->w), n = (size_t)m->nslices * plane;
  size_t ones = 0;
  for (size_t k = 0; k < plane; ++k) {
    float v = m->mask[k];
    if (v != 0.0f && v != 1.0f)
      return sr_fail(ctx, SR_ERR_FORMAT, "%s: mask value %g at (%zu, %zu) is neither 0 nor 1", what,
                     (double)v, k / (size_t)m->w, k % (size_t)m->w);
    ones += v != 0.0f;
  }
  if (ones == 0) return sr_fail(ctx, SR_ERR_FORMAT, "%s: the mask measures nothing", what);
  size_t bad = first_nonfinite(m->kspace, 2 * n);
  if (bad < 2 * n)
    return sr_fail(ctx, SR_ERR_NUMERIC, "%s: k-space holds NaN or Inf (slice %zu)", what,
                   bad / 2 / plane);
  for (size_t i = 0; i < n; ++i) {
    if (m->mask[i % plane] == 0.0f && (m->kspace[2 * i] != 0.0f || m->kspace[2 * i + 1] != 0.0f))
      return sr_fail(ctx, SR_ERR_FORMAT,
                     "%s: k-space is nonzero at (slice %zu, %zu, %zu) where the mask is 0: "
                     "mask and k-space disagree",
                     what, i / plane, i % plane / (size_t)m->w, i % (size_t)m->w);
  }
  if (m->target) {
    bad = first_nonfinite(m->target, n);
    if (bad < n)
      return sr_fail(ctx, SR_ERR_NUMERIC, "%s: the target image holds NaN or Inf (slice %zu)", what,
                     bad / plane);
  }
  if (!(m->noise_sigma >= 0.0) || !isfinite(m->noise_sigma))
    return sr_fail(ctx, SR_ERR_FORMAT, "%s: noise_sigma %g is not a number >= 0", what,
                   m->noise_sigma);
  return SR_OK;
}

sr_status sr_ct_meas_validate(sr_context *ctx, const char *what, const sr_ct_meas *m) {
  if (m->nslices < 1 || m->n_views < 1 || m->n_det < 2)
    return sr_fail(ctx, SR_ERR_SHAPE, "%s: sinogram shape (%lld, %lld, %lld) is empty or too small",
                   what, (long long)m->nslices, (long long)m->n_views, (long long)m->n_det);
  if (m->image_h < 2 || m->image_w < 2)
    return sr_fail(ctx, SR_ERR_FORMAT, "%s: image size %lld x %lld is missing or too small", what,
                   (long long)m->image_h, (long long)m->image_w);
  if (!m->sinogram || !m->angles)
    return sr_fail(ctx, SR_ERR_FORMAT, "%s: sinogram or angles missing", what);
  if (!(m->det_spacing > 0.0) || !isfinite(m->det_spacing) || !(m->pixel_spacing > 0.0) ||
      !isfinite(m->pixel_spacing))
    return sr_fail(ctx, SR_ERR_FORMAT, "%s: detector spacing %g or pixel spacing %g is not > 0",
                   what, m->det_spacing, m->pixel_spacing);
  if (!isfinite(m->det_offset) || fabs(m->det_offset) > (double)m->n_det)
    return sr_fail(ctx, SR_ERR_FORMAT, "%s: det_offset %g is not a finite bin offset", what,
                   m->det_offset);
  size_t n = (size_t)(m->nslices * m->n_views * m->n_det);
  size_t bad = first_nonfinite(m->sinogram, n);
  if (bad < n)
    return sr_fail(ctx, SR_ERR_NUMERIC, "%s: the sinogram holds NaN or Inf (slice %zu)", what,
                   bad / (size_t)(m->n_views * m->n_det));
  if (first_nonfinite(m->angles, (size_t)m->n_views) < (size_t)m->n_views)
    return sr_fail(ctx, SR_ERR_NUMERIC, "%s: the angles hold NaN or Inf", what);
  if (m->view_index) {
    if (m->n_full < m->n_views)
      return sr_fail(ctx, SR_ERR_FORMAT, "%s: %lld views cannot be a subset of %lld", what,
                     (long long)m->n_views, (long long)m->n_full);
    for (int64_t v = 0; v < m->n_views; ++v) {
      int32_t k = m->view_index[v];
      if (k < 0 || k >= m->n_full || (v > 0 && k <= m->view_index[v - 1]))
        return sr_fail(ctx, SR_ERR_FORMAT,
                       "%s: view_index[%lld] = %d is not increasing within [0, %lld)", what,
                       (long long)v, (int)k, (long long)m->n_full);
      double expect = SR_H5_PI * (double)k / (double)m->n_full;
      if (fabs((double)m->angles[v] - expect) > 1e-5)
        return sr_fail(ctx, SR_ERR_FORMAT,
                       "%s: angle %lld is %.7f rad but view_index says %.7f (row %d of %lld)", what,
                       (long long)v, (double)m->angles[v], expect, (int)k, (long long)m->n_full);
    }
  }
  if (m->target) {
    size_t nt = (size_t)(m->nslices * m->image_h * m->image_w);
    bad = first_nonfinite(m->target, nt);
    if (bad < nt)
      return sr_fail(ctx, SR_ERR_NUMERIC, "%s: the target image holds NaN or Inf", what);
  }
  return SR_OK;
}

void sr_meas_free(sr_meas *m) {
  if (!m) return;
  free(m->mri.kspace);
  free(m->mri.mask);
  free(m->mri.target);
  free(m->ct.sinogram);
  free(m->ct.angles);
  free(m->ct.view_index);
  free(m->ct.target);
  memset(m, 0, sizeof *m);
}
