/* libpng reports errors by longjmp. Everything that must be released after
 * one lives in a `png_job` owned by the caller of the function that calls
 * setjmp, so no local variable of that function is read after the jump (C11
 * 7.13.2.1: such locals are indeterminate unless volatile). */
#include <png.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "io/file.h"
#include "io/png.h"

/* Anything beyond this is not a medical slice; it also bounds allocation. */
#define PNG_MAX_SIDE 65536u

typedef struct png_job {
  sr_context *ctx;
  const char *name;
  const unsigned char *data;
  size_t size, pos;
  char message[256]; /* libpng's error text */
  png_structp png;
  png_infop info;
  unsigned char *pixels; /* decoded rows */
  png_bytep *rows;
  size_t rowbytes;
  int channels, depth; /* after transformations */
  sr_png_info stored;  /* the file as stored, before transformations */
} png_job;

static void on_error(png_structp png, png_const_charp msg) {
  png_job *job = (png_job *)png_get_error_ptr(png);
  snprintf(job->message, sizeof job->message, "%s", msg ? msg : "unknown libpng error");
  png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg) {
  (void)png;
  (void)msg;
}

static void on_read(png_structp png, png_bytep out, png_size_t n) {
  png_job *job = (png_job *)png_get_io_ptr(png);
  if (n > job->size - job->pos) png_error(png, "file is truncated");
  memcpy(out, job->data + job->pos, n);
  job->pos += n;
}

static void job_release(png_job *job) {
  png_destroy_read_struct(&job->png, &job->info, NULL);
  free(job->rows);
  free(job->pixels);
  job->rows = NULL;
  job->pixels = NULL;
}

static void describe(png_job *job, sr_png_info *info) {
  int ct = png_get_color_type(job->png, job->info);
  info->width = png_get_image_width(job->png, job->info);
  info->height = png_get_image_height(job->png, job->info);
  info->bit_depth = png_get_bit_depth(job->png, job->info);
  info->channels = png_get_channels(job->png, job->info);
  info->interlaced = png_get_interlace_type(job->png, job->info) != PNG_INTERLACE_NONE;
  info->color_type = ct == PNG_COLOR_TYPE_GRAY         ? "gray"
                     : ct == PNG_COLOR_TYPE_GRAY_ALPHA ? "gray+alpha"
                     : ct == PNG_COLOR_TYPE_RGB        ? "rgb"
                     : ct == PNG_COLOR_TYPE_RGBA       ? "rgba"
                     : ct == PNG_COLOR_TYPE_PALETTE    ? "palette"
                                                       : "unknown";
}

/* Expands low bit depths and palettes so every pixel reads as 8- or 16-bit
 * samples: grey, grey+alpha, RGB or RGBA. */
static void set_transforms(png_job *job) {
  int ct = png_get_color_type(job->png, job->info);
  if (ct == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(job->png);
  if (ct == PNG_COLOR_TYPE_GRAY && png_get_bit_depth(job->png, job->info) < 8)
    png_set_expand_gray_1_2_4_to_8(job->png);
  /* Palette transparency matters (a see-through pixel is not grey data);
   * a grey file's single transparent value does not change its samples. */
  if (ct == PNG_COLOR_TYPE_PALETTE && png_get_valid(job->png, job->info, PNG_INFO_tRNS))
    png_set_tRNS_to_alpha(job->png);
  png_set_interlace_handling(job->png);
  png_read_update_info(job->png, job->info);
  job->channels = png_get_channels(job->png, job->info);
  job->depth = png_get_bit_depth(job->png, job->info);
  job->rowbytes = png_get_rowbytes(job->png, job->info);
}

/* Calls setjmp: reads the header and, unless header_only, every row. */
static int decode(png_job *job, int header_only) {
  if (setjmp(png_jmpbuf(job->png))) return -1;
  png_set_read_fn(job->png, job, on_read);
  png_set_user_limits(job->png, PNG_MAX_SIDE, PNG_MAX_SIDE);
  png_read_info(job->png, job->info);
  describe(job, &job->stored);
  if (header_only) return 0;
  set_transforms(job);
  uint32_t h = png_get_image_height(job->png, job->info);
  uint64_t total;
  if (sr_mul_overflows_u64(job->rowbytes, h, &total) || total > SR_ARRAY_MAX_BYTES)
    png_error(job->png, "image too large");
  job->pixels = (unsigned char *)malloc((size_t)total ? (size_t)total : 1);
  job->rows = (png_bytep *)malloc((h ? h : 1) * sizeof *job->rows);
  if (!job->pixels || !job->rows) png_error(job->png, "out of memory");
  for (uint32_t y = 0; y < h; ++y) job->rows[y] = job->pixels + (size_t)y * job->rowbytes;
  png_read_image(job->png, job->rows);
  png_read_end(job->png, NULL); /* checks the chunks after the image too */
  return 0;
}

static unsigned sample(const unsigned char *row, size_t index, int depth) {
  return depth == 16 ? (unsigned)row[2 * index] << 8 | row[2 * index + 1] : row[index];
}

/* Decoded samples to float grey, refusing pixels that are not grey or not
 * opaque. */
static sr_status to_gray(png_job *job, uint32_t w, uint32_t h, float *out) {
  int c = job->channels;
  unsigned opaque = job->depth == 16 ? 65535u : 255u;
  for (uint32_t y = 0; y < h; ++y) {
    const unsigned char *row = job->rows[y];
    for (uint32_t x = 0; x < w; ++x) {
      size_t i = (size_t)x * (size_t)c;
      unsigned g = sample(row, i, job->depth);
      if (c >= 3 && (sample(row, i + 1, job->depth) != g || sample(row, i + 2, job->depth) != g))
        return sr_fail(job->ctx, SR_ERR_UNSUPPORTED,
                       "%s: colour image (pixel x=%u, y=%u is not grey); scorerecon reads "
                       "greyscale PNGs only",
                       job->name, x, y);
      if ((c == 2 || c == 4) && sample(row, i + (size_t)c - 1, job->depth) != opaque)
        return sr_fail(job->ctx, SR_ERR_UNSUPPORTED,
                       "%s: pixel x=%u, y=%u is transparent; only opaque PNGs are read", job->name,
                       x, y);
      out[(size_t)y * w + x] = (float)g;
    }
  }
  return SR_OK;
}

static sr_status run(png_job *job, int header_only, sr_array *out, sr_png_info *info) {
  if (job->size < 8 || png_sig_cmp(job->data, 0, 8) != 0)
    return sr_fail(job->ctx, SR_ERR_FORMAT, "%s: not a PNG file (bad signature)", job->name);
  job->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, job, on_error, on_warning);
  if (job->png) job->info = png_create_info_struct(job->png);
  if (!job->png || !job->info)
    return sr_fail(job->ctx, SR_ERR_OUT_OF_MEMORY, "%s: cannot start libpng", job->name);
  if (decode(job, header_only) != 0)
    return sr_fail(job->ctx, SR_ERR_FORMAT, "%s: invalid PNG: %s", job->name, job->message);
  sr_png_info local;
  if (!info) info = &local;
  *info = job->stored;
  if (header_only) return SR_OK;
  int64_t shape[2] = {info->height, info->width};
  SR_TRY(sr_array_alloc(job->ctx, job->name, SR_DTYPE_F32, 2, shape, out));
  sr_status s = to_gray(job, info->width, info->height, (float *)out->data);
  if (s != SR_OK) sr_array_free(out);
  return s;
}

sr_status sr_png_parse(sr_context *ctx, const char *name, const void *bytes, size_t size,
                       sr_array *out, sr_png_info *info) {
  memset(out, 0, sizeof *out);
  png_job job;
  memset(&job, 0, sizeof job);
  job.ctx = ctx;
  job.name = name;
  job.data = (const unsigned char *)bytes;
  job.size = size;
  sr_status s = run(&job, 0, out, info);
  job_release(&job);
  return s;
}

/* PNG files are compressed: reading them whole is cheap, and a memory
 * source keeps libpng away from stdio. */
#define PNG_MAX_FILE ((size_t)1 << 32)

sr_status sr_png_read(sr_context *ctx, const char *path, sr_array *out, sr_png_info *info) {
  memset(out, 0, sizeof *out);
  unsigned char *bytes = NULL;
  size_t size = 0;
  SR_TRY(sr_file_read_all(ctx, path, PNG_MAX_FILE, &bytes, &size));
  sr_status s = sr_png_parse(ctx, path, bytes, size, out, info);
  free(bytes);
  return s;
}

sr_status sr_png_read_info(sr_context *ctx, const char *path, sr_png_info *info) {
  unsigned char *bytes = NULL;
  size_t size = 0;
  SR_TRY(sr_file_read_all(ctx, path, PNG_MAX_FILE, &bytes, &size));
  png_job job;
  memset(&job, 0, sizeof job);
  job.ctx = ctx;
  job.name = path;
  job.data = bytes;
  job.size = size;
  sr_status s = run(&job, 1, NULL, info);
  job_release(&job);
  free(bytes);
  return s;
}
