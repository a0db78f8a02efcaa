/* PNG through libpng: 8-bit grayscale output with a display window, and
 * grayscale input of 1 to 16 bits (simulate accepts PNG images).
 *
 * Reading returns float32 with the raw sample values: 0..255 for 8-bit
 * files (1-, 2- and 4-bit files are expanded to 8 bits by libpng, so their
 * values span 0..255 too) and 0..65535 for 16-bit files; no gamma or
 * intensity scaling. Colour and palette images are accepted only when they
 * are grey in fact (R = G = B in every pixel) and fully opaque, and then
 * read as that grey; anything else is rejected with the first offending
 * pixel named, since silently mixing channels would invent intensities.
 * libpng's errors come back as SR_ERR_FORMAT with the file name; its
 * warnings are dropped (the library never prints). */
#ifndef SR_IO_PNG_H
#define SR_IO_PNG_H

#include <stddef.h>
#include <stdint.h>

#include "io/array.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sr_png_info {
  uint32_t width, height;
  int bit_depth;          /* per sample, as stored: 1, 2, 4, 8 or 16 */
  int channels;           /* as stored: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA (palette: 1) */
  const char *color_type; /* "gray", "gray+alpha", "rgb", "rgba", "palette" */
  int interlaced;
} sr_png_info;

/* Reads a PNG into a float32 (height, width) array; info may be NULL. */
sr_status sr_png_read(sr_context *ctx, const char *path, sr_array *out, sr_png_info *info);
/* The same from a file image in memory; `name` is used in messages. */
sr_status sr_png_parse(sr_context *ctx, const char *name, const void *bytes, size_t size,
                       sr_array *out, sr_png_info *info);
/* Only the header (IHDR): size, bit depth, colour type. */
sr_status sr_png_read_info(sr_context *ctx, const char *path, sr_png_info *info);

/* Writes a float32 image of shape (H, W) (leading dimensions of size 1 are
 * allowed) as 8-bit greyscale: lo maps to 0, hi to 255, values outside the
 * window are clipped (in the PNG only) and NaN becomes 0. lo < hi, finite. */
sr_status sr_png_write(sr_context *ctx, const char *path, const sr_array *image, float lo,
                       float hi);

#ifdef __cplusplus
}
#endif

#endif
