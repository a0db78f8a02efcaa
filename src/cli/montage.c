#define _POSIX_C_SOURCE 200809L
#include "cli/montage.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "io/array.h"
#include "io/png.h"

#define GUTTER 2

sr_status sr_montage_write(sr_context *ctx, const char *path, const float *data, int64_t nslices,
                           int64_t h, int64_t w) {
  int64_t cols = 1;
  while (cols * cols < nslices) ++cols;
  const int64_t rows = (nslices + cols - 1) / cols;
  const int64_t H = rows * h + (rows - 1) * GUTTER, W = cols * w + (cols - 1) * GUTTER;
  float lo = INFINITY, hi = -INFINITY;
  for (size_t i = 0; i < (size_t)(nslices * h * w); ++i)
    if (isfinite(data[i])) lo = data[i] < lo ? data[i] : lo, hi = data[i] > hi ? data[i] : hi;
  if (!(lo < hi)) lo = 0.0f, hi = lo + 1.0f; /* constant or empty: any window shows it */
  sr_array img;
  const int64_t shape[2] = {H, W};
  SR_TRY(sr_array_alloc(ctx, path, SR_DTYPE_F32, 2, shape, &img));
  float *g = (float *)img.data;
  for (size_t i = 0; i < (size_t)(H * W); ++i) g[i] = lo; /* gutter: black */
  for (int64_t s = 0; s < nslices; ++s) {
    const int64_t r0 = (s / cols) * (h + GUTTER), c0 = (s % cols) * (w + GUTTER);
    for (int64_t y = 0; y < h; ++y)
      memcpy(g + (size_t)((r0 + y) * W + c0), data + (size_t)((s * h + y) * w),
             (size_t)w * sizeof(float));
  }
  sr_status st = sr_png_write(ctx, path, &img, lo, hi);
  sr_array_free(&img);
  return st;
}
