/* Reading and writing image volumes (see image_volume.h). */
#include "cli/image_volume.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "io/array.h"
#include "io/file.h"
#include "io/npy.h"
#include "io/png.h"

void sr_volume_free(sr_volume *v) {
  if (!v) return;
  free(v->data);
  memset(v, 0, sizeof *v);
}

/* Takes the float32 data of a (.., H, W) array with leading dimensions
 * folded into slices. */
static sr_status from_array(sr_context *ctx, const char *path, sr_array *a, sr_volume *out) {
  if (a->ndim < 2 || a->ndim > 4 || (a->ndim == 4 && a->shape[1] != 1))
    return sr_fail(ctx, SR_ERR_SHAPE,
                   "%s: expected an image (H, W), a volume (slices, H, W) or (slices, 1, H, W), "
                   "got %d dimensions",
                   path, a->ndim);
  sr_array f = {0};
  if (a->dtype == SR_DTYPE_F32) {
    f = *a;
    memset(a, 0, sizeof *a);
  } else {
    SR_TRY(sr_array_to_f32(ctx, path, a, &f));
  }
  out->h = f.shape[f.ndim - 2];
  out->w = f.shape[f.ndim - 1];
  out->nslices = 1;
  for (int i = 0; i < f.ndim - 2; ++i) out->nslices *= f.shape[i];
  out->data = (float *)f.data;
  size_t n = (size_t)(out->nslices * out->h * out->w);
  for (size_t i = 0; i < n; ++i)
    if (!isfinite(out->data[i])) {
      sr_volume_free(out);
      return sr_fail(ctx, SR_ERR_NUMERIC, "%s: the image holds NaN or Inf", path);
    }
  if (out->nslices < 1 || out->h < 2 || out->w < 2) {
    sr_volume_free(out);
    return sr_fail(ctx, SR_ERR_SHAPE, "%s: image is empty or smaller than 2 x 2", path);
  }
  return SR_OK;
}

sr_status sr_volume_read(sr_context *ctx, const char *path, sr_volume *out) {
  memset(out, 0, sizeof *out);
  sr_array a = {0};
  sr_status st;
  if (sr_path_ends_with(path, ".npy")) {
    st = sr_npy_read(ctx, path, &a);
  } else if (sr_path_ends_with(path, ".nii") || sr_path_ends_with(path, ".nii.gz")) {
    st = sr_nifti_read(ctx, path, &out->nifti, &a);
    out->has_nifti = st == SR_OK;
  } else if (sr_path_ends_with(path, ".png")) {
    sr_png_info info;
    st = sr_png_read(ctx, path, &a, &info);
    if (st == SR_OK) {
      float scale = info.bit_depth == 16 ? 1.0f / 65535.0f : 1.0f / 255.0f;
      float *d = (float *)a.data;
      for (int64_t i = 0; i < sr_array_numel(&a); ++i) d[i] *= scale;
    }
  } else {
    return sr_fail(ctx, SR_ERR_UNSUPPORTED,
                   "%s: unknown image type (use .npy, .nii, .nii.gz or .png)", path);
  }
  if (st == SR_OK) st = from_array(ctx, path, &a, out);
  sr_array_free(&a);
  if (st != SR_OK) sr_volume_free(out);
  return st;
}

sr_status sr_volume_write(sr_context *ctx, const char *path, const float *data, int64_t nslices,
                          int64_t h, int64_t w, const sr_volume *geometry) {
  sr_array a;
  memset(&a, 0, sizeof a);
  a.dtype = SR_DTYPE_F32;
  a.ndim = 3;
  a.shape[0] = nslices, a.shape[1] = h, a.shape[2] = w;
  a.data = (void *)data;
  a.nbytes = (size_t)(nslices * h * w) * sizeof(float);
  if (sr_path_ends_with(path, ".npy")) return sr_npy_write(ctx, path, &a);
  if (sr_path_ends_with(path, ".nii") || sr_path_ends_with(path, ".nii.gz"))
    return sr_nifti_write(ctx, path, geometry && geometry->has_nifti ? &geometry->nifti : NULL, &a,
                          SR_DTYPE_F32);
  return sr_fail(ctx, SR_ERR_UNSUPPORTED, "%s: unknown output type (use .npy, .nii or .nii.gz)",
                 path);
}
