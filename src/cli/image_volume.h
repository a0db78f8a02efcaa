/* Image volumes for simulate / reconstruct / eval: a stack of 2-D slices
 * (slices, H, W) float32 on the host, read from .npy ((H, W), (S, H, W) or
 * (S, 1, H, W)), .nii / .nii.gz (dim (X, Y, Z) gives Z slices of Y x X) or
 * .png (one slice; 8-bit values / 255, 16-bit / 65535, so in [0, 1]), and
 * written as .npy or .nii[.gz] (float32; a NIfTI header read earlier may
 * lend its geometry). */
#ifndef SR_CLI_IMAGE_VOLUME_H
#define SR_CLI_IMAGE_VOLUME_H

#include <stdint.h>

#include "io/nifti.h"
#include "scorerecon.h"

typedef struct sr_volume {
  int64_t nslices, h, w;
  float *data; /* (nslices, h, w), malloc'ed */
  int has_nifti;
  sr_nifti_header nifti; /* geometry of a NIfTI input */
} sr_volume;

sr_status sr_volume_read(sr_context *ctx, const char *path, sr_volume *out);
/* geometry: a volume whose NIfTI header to copy (NULL or not NIfTI: none). */
sr_status sr_volume_write(sr_context *ctx, const char *path, const float *data, int64_t nslices,
                          int64_t h, int64_t w, const sr_volume *geometry);
void sr_volume_free(sr_volume *v);

#endif
