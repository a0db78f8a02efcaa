/* See png_read.c for how resources survive libpng's longjmp. */
#include <math.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "io/atomic_write.h"
#include "io/png.h"

typedef struct png_out {
  char message[256];
  png_structp png;
  png_infop info;
  unsigned char *encoded; /* the PNG file image */
  size_t size, cap;
  png_bytep *rows;
} png_out;

static void on_error(png_structp png, png_const_charp msg) {
  png_out *job = (png_out *)png_get_error_ptr(png);
  snprintf(job->message, sizeof job->message, "%s", msg ? msg : "unknown libpng error");
  png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg) {
  (void)png;
  (void)msg;
}

static void on_write(png_structp png, png_bytep data, png_size_t n) {
  png_out *job = (png_out *)png_get_io_ptr(png);
  if (n > job->cap - job->size) {
    size_t cap = job->cap ? job->cap : 4096;
    while (cap - job->size < n) cap *= 2;
    unsigned char *p = (unsigned char *)realloc(job->encoded, cap);
    if (!p) png_error(png, "out of memory");
    job->encoded = p;
    job->cap = cap;
  }
  memcpy(job->encoded + job->size, data, n);
  job->size += n;
}

static void on_flush(png_structp png) {
  (void)png;
}

/* Calls setjmp; pixels are (h, w) bytes. */
static int encode(png_out *job, const unsigned char *pixels, uint32_t w, uint32_t h) {
  if (setjmp(png_jmpbuf(job->png))) return -1;
  png_set_write_fn(job->png, job, on_write, on_flush);
  png_set_IHDR(job->png, job->info, w, h, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  job->rows = (png_bytep *)malloc((h ? h : 1) * sizeof *job->rows);
  if (!job->rows) png_error(job->png, "out of memory");
  for (uint32_t y = 0; y < h; ++y) job->rows[y] = (png_bytep)(pixels + (size_t)y * w);
  png_write_info(job->png, job->info);
  png_write_image(job->png, job->rows);
  png_write_end(job->png, NULL);
  return 0;
}

static sr_status check_image(sr_context *ctx, const char *path, const sr_array *image, float lo,
                             float hi) {
  if (image->dtype != SR_DTYPE_F32)
    return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT, "%s: PNG writer takes float32 data, got %s", path,
                   sr_dtype_name(image->dtype));
  if (image->ndim < 2)
    return sr_fail(ctx, SR_ERR_SHAPE, "%s: a PNG needs a 2-D image, the array has %d dimensions",
                   path, image->ndim);
  for (int i = 0; i + 2 < image->ndim; ++i)
    if (image->shape[i] != 1)
      return sr_fail(ctx, SR_ERR_SHAPE, "%s: a PNG holds one 2-D image; dimension %d has size %lld",
                     path, i, (long long)image->shape[i]);
  int64_t h = image->shape[image->ndim - 2], w = image->shape[image->ndim - 1];
  if (h < 1 || w < 1 || h > 65536 || w > 65536)
    return sr_fail(ctx, SR_ERR_SHAPE, "%s: a PNG must be 1..65536 pixels per side, got %lldx%lld",
                   path, (long long)w, (long long)h);
  if ((size_t)(h * w) * 4 != image->nbytes || !image->data)
    return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT, "%s: array data does not match its shape", path);
  if (!isfinite(lo) || !isfinite(hi) || !(lo < hi))
    return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT,
                   "%s: window [%g, %g] is invalid (need finite lo < hi)", path, (double)lo,
                   (double)hi);
  return SR_OK;
}

sr_status sr_png_write(sr_context *ctx, const char *path, const sr_array *image, float lo,
                       float hi) {
  SR_TRY(check_image(ctx, path, image, lo, hi));
  uint32_t h = (uint32_t)image->shape[image->ndim - 2];
  uint32_t w = (uint32_t)image->shape[image->ndim - 1];
  size_t n = (size_t)w * h;
  unsigned char *pixels = (unsigned char *)malloc(n);
  if (!pixels) return sr_fail(ctx, SR_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
  const float *v = (const float *)image->data;
  double scale = 255.0 / ((double)hi - (double)lo);
  for (size_t i = 0; i < n; ++i) {
    double u = ((double)v[i] - lo) * scale; /* NaN fails both tests below: 0 */
    pixels[i] = (unsigned char)(u >= 255.0 ? 255 : u > 0.0 ? (int)(u + 0.5) : 0);
  }
  png_out job;
  memset(&job, 0, sizeof job);
  sr_status s = SR_OK;
  job.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &job, on_error, on_warning);
  if (job.png) job.info = png_create_info_struct(job.png);
  if (!job.png || !job.info)
    s = sr_fail(ctx, SR_ERR_OUT_OF_MEMORY, "%s: cannot start libpng", path);
  else if (encode(&job, pixels, w, h) != 0)
    s = sr_fail(ctx, SR_ERR_INTERNAL, "%s: PNG encoding failed: %s", path, job.message);
  else
    s = sr_atomic_write_file(ctx, path, 0, job.encoded, job.size);
  png_destroy_write_struct(&job.png, &job.info);
  free(job.rows);
  free(job.encoded);
  free(pixels);
  return s;
}
