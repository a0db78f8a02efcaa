#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "io/atomic_write.h"
#include "io/file.h"
#include "io/nifti.h"

static sr_status check_image(sr_context *ctx, const char *path, const sr_array *image) {
  if (image->dtype != SR_DTYPE_F32)
    return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT, "%s: NIfTI writer takes float32 data, got %s",
                   path, sr_dtype_name(image->dtype));
  if (image->ndim < 1 || image->ndim > 7)
    return sr_fail(ctx, SR_ERR_SHAPE, "%s: NIfTI holds 1 to 7 dimensions, the array has %d", path,
                   image->ndim);
  for (int i = 0; i < image->ndim; ++i)
    if (image->shape[i] < 1 || image->shape[i] > INT16_MAX)
      return sr_fail(ctx, SR_ERR_SHAPE, "%s: dimension %d is %lld; NIfTI-1 dimensions are 1..32767",
                     path, i, (long long)image->shape[i]);
  size_t nbytes = 0;
  SR_TRY(sr_shape_nbytes(ctx, path, 4, image->ndim, image->shape, &nbytes));
  if (nbytes != image->nbytes || !image->data)
    return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT, "%s: array holds %zu bytes, its shape needs %zu",
                   path, image->nbytes, nbytes);
  return SR_OK;
}

/* Geometry from the caller; everything describing the voxels from us. */
static void fill_header(const sr_nifti_header *geometry, const sr_array *image, int datatype,
                        int bitpix, sr_nifti_header *h) {
  if (geometry)
    *h = *geometry;
  else
    sr_nifti_header_init(h);
  h->dim[0] = (int16_t)image->ndim;
  for (int i = 1; i < 8; ++i) {
    h->dim[i] = i <= image->ndim ? (int16_t)image->shape[image->ndim - i] : 1;
    if (!(h->pixdim[i] > 0.0f) || !isfinite(h->pixdim[i])) h->pixdim[i] = 1.0f;
  }
  if (h->pixdim[0] != -1.0f) h->pixdim[0] = 1.0f; /* qfac is +1 or -1 */
  h->datatype = (int16_t)datatype;
  h->bitpix = (int16_t)bitpix;
  h->vox_offset = 352.0f;
  h->scl_slope = 1.0f;
  h->scl_inter = 0.0f;
  h->byte_swapped = 0;
}

/* Quantizes to int16. Integral data in range is stored exactly; anything
 * else maps [min, max] onto [-32767, 32767] with the float slope/inter the
 * header will hold, so a reader reproduces values within slope / 2. */
static sr_status quantize(sr_context *ctx, const char *path, const float *v, size_t n, int16_t *q,
                          sr_nifti_header *h) {
  float lo = INFINITY, hi = -INFINITY;
  int integral = 1;
  for (size_t i = 0; i < n; ++i) {
    if (!isfinite(v[i]))
      return sr_fail(ctx, SR_ERR_NUMERIC, "%s: value %g at voxel %zu cannot be stored as int16",
                     path, (double)v[i], i);
    if (v[i] < lo) lo = v[i];
    if (v[i] > hi) hi = v[i];
    if (v[i] != floorf(v[i])) integral = 0;
  }
  if (n == 0 || (integral && lo >= -32768.0f && hi <= 32767.0f)) {
    for (size_t i = 0; i < n; ++i) q[i] = (int16_t)v[i];
    return SR_OK;
  }
  float inter = (float)(((double)hi + (double)lo) / 2.0);
  float slope = (float)(((double)hi - (double)lo) / 65534.0);
  if (!(slope > 0.0f)) slope = 1.0f; /* constant image: every voxel stores 0 */
  for (size_t i = 0; i < n; ++i) {
    double s = nearbyint(((double)v[i] - inter) / slope);
    q[i] = (int16_t)(s < -32767.0 ? -32767.0 : s > 32767.0 ? 32767.0 : s);
  }
  h->scl_slope = slope;
  h->scl_inter = inter;
  return SR_OK;
}

sr_status sr_nifti_write(sr_context *ctx, const char *path, const sr_nifti_header *geometry,
                         const sr_array *image, sr_dtype file_dtype) {
  if (file_dtype != SR_DTYPE_F32 && file_dtype != SR_DTYPE_I16)
    return sr_fail(ctx, SR_ERR_UNSUPPORTED, "%s: NIfTI output is float32 or int16, not %s", path,
                   sr_dtype_name(file_dtype));
  SR_TRY(check_image(ctx, path, image));
  int as_int16 = file_dtype == SR_DTYPE_I16;
  sr_nifti_header h;
  fill_header(geometry, image, as_int16 ? SR_NIFTI_INT16 : SR_NIFTI_FLOAT32, as_int16 ? 16 : 32,
              &h);
  size_t n = image->nbytes / 4;
  const void *voxels = image->data;
  int16_t *q = NULL;
  if (as_int16) {
    q = (int16_t *)malloc(n ? n * sizeof *q : 1);
    if (!q) return sr_fail(ctx, SR_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
    sr_status s = quantize(ctx, path, (const float *)image->data, n, q, &h);
    if (s != SR_OK) {
      free(q);
      return s;
    }
    voxels = q;
  }
  unsigned char header[SR_NIFTI_HEADER_SIZE + 4] = {0}; /* + empty extension flag */
  sr_nifti_encode_header(&h, header);
  sr_atomic_file f;
  sr_status s = sr_atomic_open(ctx, path, sr_path_ends_with(path, ".gz"), &f);
  if (s == SR_OK) {
    sr_atomic_write(&f, header, sizeof header);
    sr_atomic_write(&f, voxels, n * (as_int16 ? 2 : 4));
    s = sr_atomic_commit(&f);
  }
  free(q);
  return s;
}
