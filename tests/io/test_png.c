/* PNG: windowed 8-bit output read back, greyscale input of every depth,
 * colour input that is grey in fact, and files that must be refused. Test
 * PNGs are made here with libpng directly. */
#define _DEFAULT_SOURCE
#include <math.h>
#include <png.h>
#include <stdint.h>
#include <string.h>

#include "io/png.h"
#include "io_test.h"

static sr_context *ctx;

/* Writes a PNG from rows already in libpng's packed format. */
static int make_png(const char *path, uint32_t w, uint32_t h, int depth, int color,
                    const unsigned char *data, size_t rowbytes, const png_color *palette,
                    int n_palette, const unsigned char *trans, int n_trans, int interlace) {
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png_create_info_struct(png);
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    fclose(f);
    return -1;
  }
  png_init_io(png, f);
  png_set_IHDR(png, info, w, h, depth, color, interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  if (palette) png_set_PLTE(png, info, palette, n_palette);
  if (trans) png_set_tRNS(png, info, trans, n_trans, NULL);
  png_write_info(png, info);
  png_bytep *rows = (png_bytep *)malloc(h * sizeof *rows);
  for (uint32_t y = 0; y < h; ++y) rows[y] = (png_bytep)(data + y * rowbytes);
  png_write_image(png, rows);
  png_write_end(png, NULL);
  png_destroy_write_struct(&png, &info);
  free(rows);
  return fclose(f);
}

static void test_window_round_trip(void) {
  int64_t shape[3] = {1, 3, 4}; /* a leading 1 is allowed */
  sr_array img;
  CHECK_OK(ctx, sr_array_alloc(ctx, "img", SR_DTYPE_F32, 3, shape, &img));
  float *v = (float *)img.data;
  const float values[12] = {-2000, -1000, -500, 0,        500,       1000,
                            1500,  3000,  NAN,  INFINITY, -INFINITY, 250};
  memcpy(v, values, sizeof values);
  const char *p = io_test_path("win.png");
  CHECK_OK(ctx, sr_png_write(ctx, p, &img, -1000.0f, 1000.0f));
  sr_array back;
  sr_png_info info;
  CHECK_OK(ctx, sr_png_read(ctx, p, &back, &info));
  CHECK(info.width == 4 && info.height == 3 && info.bit_depth == 8 && info.channels == 1);
  CHECK(strcmp(info.color_type, "gray") == 0);
  CHECK(back.ndim == 2 && back.shape[0] == 3 && back.shape[1] == 4);
  const float expect[12] = {0, 0, 64, 128, 191, 255, 255, 255, 0, 255, 0, 159};
  for (int i = 0; i < 12 && back.data; ++i)
    CHECK_MSG(((float *)back.data)[i] == expect[i], "pixel %d: %g != %g", i,
              (double)((float *)back.data)[i], (double)expect[i]);
  sr_array_free(&back);
  sr_png_info only;
  CHECK_OK(ctx, sr_png_read_info(ctx, p, &only));
  CHECK(only.width == 4 && only.height == 3 && only.bit_depth == 8);

  CHECK_FAILS(ctx, sr_png_write(ctx, p, &img, 1.0f, 1.0f), SR_ERR_INVALID_ARGUMENT);
  CHECK_FAILS(ctx, sr_png_write(ctx, p, &img, NAN, 1.0f), SR_ERR_INVALID_ARGUMENT);
  sr_array_free(&img);
  int64_t two[3] = {2, 3, 4};
  CHECK_OK(ctx, sr_array_alloc(ctx, "img", SR_DTYPE_F32, 3, two, &img));
  CHECK_FAILS(ctx, sr_png_write(ctx, p, &img, 0.0f, 1.0f), SR_ERR_SHAPE);
  sr_array_free(&img);
  int64_t small[2] = {2, 2};
  CHECK_OK(ctx, sr_array_alloc(ctx, "img", SR_DTYPE_F32, 2, small, &img));
  CHECK_FAILS(ctx, sr_png_write(ctx, "/nonexistent-dir/a.png", &img, 0.0f, 1.0f), SR_ERR_IO);
  CHECK_MESSAGE(ctx, "/nonexistent-dir/a.png");
  sr_array_free(&img);
}

static float pixel(const sr_array *a, int i) {
  return ((const float *)a->data)[i];
}

static void test_grey_depths(void) {
  const char *p = io_test_path("g.png");
  sr_array a;
  sr_png_info info;
  /* 16-bit big-endian samples: raw values 0..65535. */
  const unsigned char g16[8] = {0x00, 0x00, 0x01, 0x02, 0xff, 0xff, 0x80, 0x00};
  CHECK(make_png(p, 2, 2, 16, PNG_COLOR_TYPE_GRAY, g16, 4, NULL, 0, NULL, 0, 0) == 0);
  CHECK_OK(ctx, sr_png_read(ctx, p, &a, &info));
  CHECK(info.bit_depth == 16 && a.data && pixel(&a, 0) == 0 && pixel(&a, 1) == 258);
  CHECK(a.data && pixel(&a, 2) == 65535 && pixel(&a, 3) == 32768);
  sr_array_free(&a);
  /* 1-bit: expanded to 0 / 255. */
  const unsigned char g1[2] = {0xa0, 0x40}; /* row 0: 1 0 1, row 1: 0 1 0 */
  CHECK(make_png(p, 3, 2, 1, PNG_COLOR_TYPE_GRAY, g1, 1, NULL, 0, NULL, 0, 0) == 0);
  CHECK_OK(ctx, sr_png_read(ctx, p, &a, &info));
  CHECK(info.bit_depth == 1 && a.data && pixel(&a, 0) == 255 && pixel(&a, 1) == 0);
  CHECK(a.data && pixel(&a, 4) == 255 && pixel(&a, 5) == 0);
  sr_array_free(&a);
  /* 4-bit: 0xf -> 255, 0x8 -> 136. */
  const unsigned char g4[1] = {0xf8};
  CHECK(make_png(p, 2, 1, 4, PNG_COLOR_TYPE_GRAY, g4, 1, NULL, 0, NULL, 0, 0) == 0);
  CHECK_OK(ctx, sr_png_read(ctx, p, &a, &info));
  CHECK(a.data && pixel(&a, 0) == 255 && pixel(&a, 1) == 136);
  sr_array_free(&a);
  /* Interlaced 8-bit. */
  unsigned char g8[9 * 7];
  for (int i = 0; i < 63; ++i) g8[i] = (unsigned char)(i * 4);
  CHECK(make_png(p, 9, 7, 8, PNG_COLOR_TYPE_GRAY, g8, 9, NULL, 0, NULL, 0, 1) == 0);
  CHECK_OK(ctx, sr_png_read(ctx, p, &a, &info));
  CHECK(info.interlaced && a.shape[0] == 7 && a.shape[1] == 9);
  for (int i = 0; i < 63 && a.data; ++i) CHECK(pixel(&a, i) == (float)(i * 4));
  sr_array_free(&a);
}

static void test_colour(void) {
  const char *p = io_test_path("c.png");
  sr_array a;
  sr_png_info info;
  /* RGB that is grey in fact: accepted. */
  const unsigned char grey_rgb[6] = {10, 10, 10, 200, 200, 200};
  CHECK(make_png(p, 2, 1, 8, PNG_COLOR_TYPE_RGB, grey_rgb, 6, NULL, 0, NULL, 0, 0) == 0);
  CHECK_OK(ctx, sr_png_read(ctx, p, &a, &info));
  CHECK(strcmp(info.color_type, "rgb") == 0 && a.data && pixel(&a, 1) == 200);
  sr_array_free(&a);
  /* Real colour: refused, naming the pixel. */
  const unsigned char colour[6] = {10, 10, 10, 200, 0, 200};
  CHECK(make_png(p, 2, 1, 8, PNG_COLOR_TYPE_RGB, colour, 6, NULL, 0, NULL, 0, 0) == 0);
  CHECK_FAILS(ctx, sr_png_read(ctx, p, &a, &info), SR_ERR_UNSUPPORTED);
  CHECK_MESSAGE(ctx, "pixel x=1, y=0 is not grey");
  CHECK(a.data == NULL);
  /* 16-bit RGBA, grey and opaque: accepted; one transparent pixel: refused. */
  unsigned char rgba[16];
  for (int i = 0; i < 2; ++i) {
    unsigned char s[8] = {0x12, 0x34, 0x12, 0x34, 0x12, 0x34, 0xff, 0xff};
    memcpy(rgba + 8 * i, s, 8);
  }
  CHECK(make_png(p, 2, 1, 16, PNG_COLOR_TYPE_RGBA, rgba, 16, NULL, 0, NULL, 0, 0) == 0);
  CHECK_OK(ctx, sr_png_read(ctx, p, &a, &info));
  CHECK(a.data && pixel(&a, 1) == 0x1234);
  sr_array_free(&a);
  rgba[15] = 0xfe;
  CHECK(make_png(p, 2, 1, 16, PNG_COLOR_TYPE_RGBA, rgba, 16, NULL, 0, NULL, 0, 0) == 0);
  CHECK_FAILS(ctx, sr_png_read(ctx, p, &a, &info), SR_ERR_UNSUPPORTED);
  CHECK_MESSAGE(ctx, "transparent");
  /* Grey + alpha. */
  const unsigned char ga[4] = {7, 255, 9, 255};
  CHECK(make_png(p, 2, 1, 8, PNG_COLOR_TYPE_GRAY_ALPHA, ga, 4, NULL, 0, NULL, 0, 0) == 0);
  CHECK_OK(ctx, sr_png_read(ctx, p, &a, &info));
  CHECK(a.data && pixel(&a, 0) == 7 && pixel(&a, 1) == 9);
  sr_array_free(&a);
  /* Palettes: grey entries accepted, a colour entry in use refused, a
   * transparent entry refused. */
  png_color pal[3] = {{0, 0, 0}, {90, 90, 90}, {255, 0, 0}};
  const unsigned char idx[2] = {0, 1}, idx_red[2] = {1, 2};
  CHECK(make_png(p, 2, 1, 8, PNG_COLOR_TYPE_PALETTE, idx, 2, pal, 3, NULL, 0, 0) == 0);
  CHECK_OK(ctx, sr_png_read(ctx, p, &a, &info));
  CHECK(strcmp(info.color_type, "palette") == 0 && a.data && pixel(&a, 1) == 90);
  sr_array_free(&a);
  CHECK(make_png(p, 2, 1, 8, PNG_COLOR_TYPE_PALETTE, idx_red, 2, pal, 3, NULL, 0, 0) == 0);
  CHECK_FAILS(ctx, sr_png_read(ctx, p, &a, &info), SR_ERR_UNSUPPORTED);
  const unsigned char trans[2] = {255, 0};
  CHECK(make_png(p, 2, 1, 8, PNG_COLOR_TYPE_PALETTE, idx, 2, pal, 3, trans, 2, 0) == 0);
  CHECK_FAILS(ctx, sr_png_read(ctx, p, &a, &info), SR_ERR_UNSUPPORTED);
  CHECK_MESSAGE(ctx, "x=1, y=0 is transparent");
}

static void test_malformed(void) {
  int64_t shape[2] = {16, 16};
  sr_array img;
  CHECK_OK(ctx, sr_array_alloc(ctx, "img", SR_DTYPE_F32, 2, shape, &img));
  for (int i = 0; i < 256; ++i) ((float *)img.data)[i] = (float)((i * 37) % 256);
  const char *p = io_test_path("full.png");
  CHECK_OK(ctx, sr_png_write(ctx, p, &img, 0.0f, 255.0f));
  sr_array_free(&img);
  size_t size = 0;
  unsigned char *full = io_test_read(p, &size);
  int accepted = 0;
  for (size_t n = 0; full && n < size; ++n) {
    sr_array a;
    sr_context_clear_error(ctx);
    if (sr_png_parse(ctx, "cut.png", full, n, &a, NULL) == SR_OK ||
        !strstr(sr_context_last_error(ctx), "cut.png"))
      ++accepted;
    sr_array_free(&a);
  }
  CHECK_MSG(accepted == 0, "%d truncated PNGs accepted", accepted);
  /* Flip every byte once: never a crash; corrupt critical chunks fail. */
  int idat_flips_accepted = 0;
  for (size_t i = 8; full && i < size; ++i) {
    full[i] ^= 0x20;
    sr_array a;
    sr_status s = sr_png_parse(ctx, "flip.png", full, size, &a, NULL);
    if (s == SR_OK && i > 33 && i < size - 12) ++idat_flips_accepted; /* inside IDAT */
    sr_array_free(&a);
    full[i] ^= 0x20;
  }
  CHECK_MSG(idat_flips_accepted == 0, "%d corrupt IDAT bytes accepted", idat_flips_accepted);
  sr_array a;
  CHECK_FAILS(ctx, sr_png_parse(ctx, "text.png", "hello world", 11, &a, NULL), SR_ERR_FORMAT);
  CHECK_MESSAGE(ctx, "text.png: not a PNG file");
  /* An IHDR claiming a huge image fails on the limits, before allocation. */
  if (full) {
    full[16] = 0x7f; /* width high byte; the CRC now fails first, which is fine */
    CHECK_FAILS(ctx, sr_png_parse(ctx, "huge.png", full, size, &a, NULL), SR_ERR_FORMAT);
  }
  free(full);
  CHECK_FAILS(ctx, sr_png_read(ctx, io_test_path("none.png"), &a, NULL), SR_ERR_IO);
  CHECK_MESSAGE(ctx, "none.png: cannot open");
  sr_png_info info;
  CHECK_FAILS(ctx, sr_png_read_info(ctx, io_test_path("none.png"), &info), SR_ERR_IO);
}

int main(void) {
  ctx = io_test_context();
  io_test_mkdir("png");
  test_window_round_trip();
  test_grey_depths();
  test_colour();
  test_malformed();
  io_test_cleanup();
  sr_context_destroy(ctx);
  return sr_test_finish("test_png");
}
