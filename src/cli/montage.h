/* A PNG montage of a reconstructed volume: the slices in a near-square
 * grid, one grey window for all (so slices compare), for a quick look
 * without a NIfTI viewer. */
#ifndef SR_CLI_MONTAGE_H
#define SR_CLI_MONTAGE_H

#include <stdint.h>

#include "scorerecon.h"

/* Writes the (nslices, h, w) volume as a grid of ceil(sqrt(nslices))
 * columns with a 2-pixel black gutter, window [min, max] of the finite
 * values. */
sr_status sr_montage_write(sr_context *ctx, const char *path, const float *data, int64_t nslices,
                           int64_t h, int64_t w);

#endif
