/* NIfTI-1: headers written byte by byte here (no NIfTI library involved),
 * round trips of both writers, and malformed files of every kind. */
#define _DEFAULT_SOURCE
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <zlib.h>

#include "io/nifti.h"
#include "io_test.h"

static sr_context *ctx;

/* ------------------------------------------------ hand-made files */

static int swap_bytes; /* write the next headers big-endian */

static void put(unsigned char *b, int off, const void *v, int n) {
  const unsigned char *p = (const unsigned char *)v;
  for (int i = 0; i < n; ++i) b[off + i] = swap_bytes ? p[n - 1 - i] : p[i];
}
static void put_i16(unsigned char *b, int off, int16_t v) {
  put(b, off, &v, 2);
}
static void put_i32(unsigned char *b, int off, int32_t v) {
  put(b, off, &v, 4);
}
static void put_f32(unsigned char *b, int off, float v) {
  put(b, off, &v, 4);
}

/* A minimal header at the offsets of nifti1.h: sizeof_hdr 0, dim 40,
 * datatype 70, bitpix 72, pixdim 76, vox_offset 108, scl_slope 112,
 * scl_inter 116, magic 344. */
static void make_header(unsigned char *b, int16_t datatype, int16_t bitpix, int ndim,
                        const int16_t *dims, float slope, float inter) {
  memset(b, 0, 352);
  put_i32(b, 0, 348);
  put_i16(b, 40, (int16_t)ndim);
  for (int i = 0; i < 7; ++i) put_i16(b, 42 + 2 * i, i < ndim ? dims[i] : 1);
  put_i16(b, 70, datatype);
  put_i16(b, 72, bitpix);
  for (int i = 0; i < 8; ++i) put_f32(b, 76 + 4 * i, i == 0 ? 1.0f : 0.5f * (float)i);
  put_f32(b, 108, 352.0f);
  put_f32(b, 112, slope);
  put_f32(b, 116, inter);
  memcpy(b + 344, "n+1", 4);
}

/* Header + voxels into a file (gzip-compressed when gz). */
static void write_nifti_file(const char *path, const unsigned char *hdr, const void *vox, size_t n,
                             int gz) {
  if (!gz) {
    unsigned char *b = (unsigned char *)malloc(352 + n);
    memcpy(b, hdr, 352);
    memcpy(b + 352, vox, n);
    CHECK(io_test_write(path, b, 352 + n) == 0);
    free(b);
    return;
  }
  gzFile g = gzopen(path, "wb");
  CHECK(g && gzwrite(g, hdr, 352) == 352);
  if (n) CHECK(gzwrite(g, vox, (unsigned)n) == (int)n);
  gzclose(g);
}

static void test_hand_made_uint8(void) {
  unsigned char hdr[352];
  const int16_t dims[3] = {3, 2, 2}; /* x, y, z */
  uint8_t vox[12];
  for (int i = 0; i < 12; ++i) vox[i] = (uint8_t)(i * 20);
  for (int gz = 0; gz <= 1; ++gz) {
    make_header(hdr, 2, 8, 3, dims, 2.0f, -1.0f);
    const char *p = io_test_path(gz ? "u8.nii.gz" : "u8.nii");
    write_nifti_file(p, hdr, vox, sizeof vox, gz);
    sr_nifti_header h;
    sr_array a;
    CHECK_OK(ctx, sr_nifti_read(ctx, p, &h, &a));
    CHECK(a.dtype == SR_DTYPE_F32 && a.ndim == 3);
    CHECK(a.shape[0] == 2 && a.shape[1] == 2 && a.shape[2] == 3); /* (z, y, x) */
    for (int i = 0; i < 12 && a.data; ++i) CHECK(((float *)a.data)[i] == vox[i] * 2.0f - 1.0f);
    CHECK(h.datatype == 2 && h.bitpix == 8 && h.dim[1] == 3 && h.pixdim[2] == 1.0f);
    CHECK(h.scl_slope == 2.0f && h.scl_inter == -1.0f && !h.byte_swapped);
    sr_array_free(&a);
  }
  /* Slope 0 (and NaN) mean "no scaling"; the intercept is then ignored. */
  const float slopes[2] = {0.0f, NAN};
  for (int k = 0; k < 2; ++k) {
    make_header(hdr, 2, 8, 3, dims, slopes[k], 100.0f);
    const char *p = io_test_path("noscale.nii");
    write_nifti_file(p, hdr, vox, sizeof vox, 0);
    sr_nifti_header h;
    sr_array a;
    CHECK_OK(ctx, sr_nifti_read(ctx, p, &h, &a));
    for (int i = 0; i < 12 && a.data; ++i) CHECK(((float *)a.data)[i] == (float)vox[i]);
    sr_array_free(&a);
  }
}

static void test_hand_made_types(void) {
  unsigned char hdr[352];
  const int16_t dims[2] = {2, 2};
  struct {
    int16_t datatype, bitpix;
    double values[4];
  } cases[] = {
      {4, 16, {-32768, 32767, 0, -5}},    {8, 32, {-2147483648.0, 7, 0, 1 << 24}},
      {16, 32, {1.5f, -0.25f, 1e30f, 0}}, {64, 64, {0.125, -3, 1e-3, 2}},
      {256, 8, {-128, 127, 0, -1}},       {512, 16, {65535, 0, 1, 300}},
      {768, 32, {4294967295.0, 0, 1, 2}}, {1024, 64, {-4e15, 4e15, 0, -1}},
  };
  for (int be = 0; be <= 1; ++be) {
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; ++c) {
      swap_bytes = be;
      make_header(hdr, cases[c].datatype, cases[c].bitpix, 2, dims, 1.0f, 0.0f);
      unsigned char vox[32];
      int size = cases[c].bitpix / 8;
      for (int i = 0; i < 4; ++i) {
        double v = cases[c].values[i];
        unsigned char tmp[8];
        switch (cases[c].datatype) {
        case 4: {
          int16_t x = (int16_t)v;
          memcpy(tmp, &x, 2);
          break;
        }
        case 8: {
          int32_t x = (int32_t)v;
          memcpy(tmp, &x, 4);
          break;
        }
        case 16: {
          float x = (float)v;
          memcpy(tmp, &x, 4);
          break;
        }
        case 64: memcpy(tmp, &v, 8); break;
        case 256: {
          int8_t x = (int8_t)v;
          memcpy(tmp, &x, 1);
          break;
        }
        case 512: {
          uint16_t x = (uint16_t)v;
          memcpy(tmp, &x, 2);
          break;
        }
        case 768: {
          uint32_t x = (uint32_t)v;
          memcpy(tmp, &x, 4);
          break;
        }
        case 1024: {
          int64_t x = (int64_t)v;
          memcpy(tmp, &x, 8);
          break;
        }
        }
        put(vox, i * size, tmp, size);
      }
      swap_bytes = 0;
      const char *p = io_test_path("types.nii");
      write_nifti_file(p, hdr, vox, (size_t)(4 * size), 0);
      sr_nifti_header h;
      sr_array a;
      CHECK_OK(ctx, sr_nifti_read(ctx, p, &h, &a));
      CHECK(h.byte_swapped == be && h.datatype == cases[c].datatype);
      for (int i = 0; i < 4 && a.data; ++i)
        CHECK_MSG(((float *)a.data)[i] == (float)cases[c].values[i], "datatype %d be %d [%d]: %g",
                  cases[c].datatype, be, i, (double)((float *)a.data)[i]);
      sr_array_free(&a);
    }
  }
}

/* ------------------------------------------------ round trips */

static void fill_geometry(sr_nifti_header *g) {
  sr_nifti_header_init(g);
  g->pixdim[1] = 0.8f;
  g->pixdim[2] = 0.9f;
  g->pixdim[3] = 2.5f;
  g->qform_code = 1;
  g->sform_code = 2;
  g->quatern_b = 0.1f;
  g->qoffset_x = -90.0f;
  g->srow_x[0] = 0.8f;
  g->srow_x[3] = -90.0f;
  g->srow_y[1] = 0.9f;
  g->srow_z[2] = 2.5f;
  g->xyzt_units = 2 | 8;
  snprintf(g->descrip, sizeof g->descrip, "scorerecon test");
}

static void test_round_trips(void) {
  int64_t shape[3] = {4, 5, 6}; /* (z, y, x) */
  sr_array img;
  CHECK_OK(ctx, sr_array_alloc(ctx, "img", SR_DTYPE_F32, 3, shape, &img));
  float *v = (float *)img.data;
  for (int i = 0; i < 120; ++i) v[i] = sinf((float)i) * 1000.0f + 0.3f;
  sr_nifti_header g;
  fill_geometry(&g);
  const char *names[] = {"rt.nii", "rt.nii.gz"};
  for (int gz = 0; gz <= 1; ++gz) {
    for (int as_i16 = 0; as_i16 <= 1; ++as_i16) {
      const char *p = io_test_path(names[gz]);
      CHECK_OK(ctx, sr_nifti_write(ctx, p, &g, &img, as_i16 ? SR_DTYPE_I16 : SR_DTYPE_F32));
      sr_nifti_header h;
      sr_array back;
      CHECK_OK(ctx, sr_nifti_read(ctx, p, &h, &back));
      CHECK(back.ndim == 3 && back.shape[0] == 4 && back.shape[1] == 5 && back.shape[2] == 6);
      CHECK(h.dim[0] == 3 && h.dim[1] == 6 && h.dim[2] == 5 && h.dim[3] == 4);
      CHECK(h.datatype == (as_i16 ? 4 : 16) && h.vox_offset == 352.0f);
      CHECK(h.pixdim[1] == 0.8f && h.pixdim[3] == 2.5f && h.qform_code == 1 && h.sform_code == 2);
      CHECK(h.quatern_b == 0.1f && h.qoffset_x == -90.0f && h.srow_x[3] == -90.0f);
      CHECK(h.srow_z[2] == 2.5f && h.xyzt_units == 10);
      CHECK(strcmp(h.descrip, "scorerecon test") == 0);
      double tol = as_i16 ? h.scl_slope * 0.5 + 1e-3 : 0.0;
      double worst = 0;
      for (int i = 0; i < 120 && back.data; ++i) {
        double e = fabs((double)((float *)back.data)[i] - v[i]);
        worst = e > worst ? e : worst;
      }
      CHECK_MSG(worst <= tol, "gz %d i16 %d: error %g > %g", gz, as_i16, worst, tol);
      if (as_i16) CHECK(h.scl_slope > 0.0f && h.scl_slope < 0.04f);
      sr_array_free(&back);
      /* gzip output really is gzip. */
      size_t size = 0;
      unsigned char *raw = io_test_read(p, &size);
      CHECK(raw && (gz ? raw[0] == 0x1f && raw[1] == 0x8b : size == 352 + 120 * (as_i16 ? 2 : 4)));
      free(raw);
    }
  }
  /* Integral data within range is stored exactly as int16. */
  for (int i = 0; i < 120; ++i) v[i] = (float)(i * 250 - 15000);
  const char *p = io_test_path("exact.nii.gz");
  CHECK_OK(ctx, sr_nifti_write(ctx, p, NULL, &img, SR_DTYPE_I16));
  sr_nifti_header h;
  sr_array back;
  CHECK_OK(ctx, sr_nifti_read(ctx, p, &h, &back));
  CHECK(h.scl_slope == 1.0f && h.scl_inter == 0.0f);
  CHECK(back.data && memcmp(back.data, img.data, img.nbytes) == 0);
  sr_array_free(&back);
  /* A constant image survives int16 too. */
  for (int i = 0; i < 120; ++i) v[i] = 0.25f;
  CHECK_OK(ctx, sr_nifti_write(ctx, p, NULL, &img, SR_DTYPE_I16));
  CHECK_OK(ctx, sr_nifti_read(ctx, p, &h, &back));
  CHECK(back.data && ((float *)back.data)[7] == 0.25f);
  sr_array_free(&back);
  sr_array_free(&img);
}

/* Our encoder puts fields where nifti1.h says they are. */
static void test_encoder_layout(void) {
  int64_t shape[2] = {3, 7};
  sr_array img;
  CHECK_OK(ctx, sr_array_alloc(ctx, "img", SR_DTYPE_F32, 2, shape, &img));
  const char *p = io_test_path("layout.nii");
  CHECK_OK(ctx, sr_nifti_write(ctx, p, NULL, &img, SR_DTYPE_F32));
  size_t size = 0;
  unsigned char *b = io_test_read(p, &size);
  CHECK(b && size == 352 + 84);
  if (b) {
    int32_t sizeof_hdr;
    int16_t dim0, dim1, dim2, datatype, bitpix;
    float vox_offset;
    memcpy(&sizeof_hdr, b, 4);
    memcpy(&dim0, b + 40, 2);
    memcpy(&dim1, b + 42, 2);
    memcpy(&dim2, b + 44, 2);
    memcpy(&datatype, b + 70, 2);
    memcpy(&bitpix, b + 72, 2);
    memcpy(&vox_offset, b + 108, 4);
    CHECK(sizeof_hdr == 348 && dim0 == 2 && dim1 == 7 && dim2 == 3);
    CHECK(datatype == 16 && bitpix == 32 && vox_offset == 352.0f);
    CHECK(memcmp(b + 344, "n+1\0", 4) == 0 && b[38] == 'r');
    CHECK(b[348] == 0 && b[349] == 0 && b[350] == 0 && b[351] == 0); /* no extensions */
  }
  free(b);
  sr_array_free(&img);
}

/* ------------------------------------------------ malformed files */

typedef void (*corrupt_fn)(unsigned char *hdr);
static void c_sizeof(unsigned char *b) {
  put_i32(b, 0, 349);
}
static void c_nifti2(unsigned char *b) {
  put_i32(b, 0, 540);
}
static void c_pair(unsigned char *b) {
  memcpy(b + 344, "ni1", 4);
}
static void c_magic(unsigned char *b) {
  memcpy(b + 344, "n+2", 4);
}
static void c_vox_low(unsigned char *b) {
  put_f32(b, 108, 300.0f);
}
static void c_vox_frac(unsigned char *b) {
  put_f32(b, 108, 352.5f);
}
static void c_vox_nan(unsigned char *b) {
  put_f32(b, 108, NAN);
}
static void c_vox_far(unsigned char *b) {
  put_f32(b, 108, 4096.0f);
}
static void c_dim0_zero(unsigned char *b) {
  put_i16(b, 40, 0);
}
static void c_dim0_eight(unsigned char *b) {
  put_i16(b, 40, 8);
}
static void c_dim_zero(unsigned char *b) {
  put_i16(b, 44, 0);
}
static void c_dim_neg(unsigned char *b) {
  put_i16(b, 46, -3);
}
static void c_bitpix(unsigned char *b) {
  put_i16(b, 72, 16);
}
static void c_rgb(unsigned char *b) {
  put_i16(b, 70, 128);
  put_i16(b, 72, 24);
}
static void c_unknown(unsigned char *b) {
  put_i16(b, 70, 3);
}
static void c_huge(unsigned char *b) {
  put_i16(b, 40, 7);
  for (int i = 0; i < 7; ++i) put_i16(b, 42 + 2 * i, 32767);
}
static void c_lie(unsigned char *b) {
  put_i16(b, 42, 100);
} /* more voxels than stored */

static void test_malformed_headers(void) {
  const struct {
    corrupt_fn fn;
    sr_status status;
    const char *message;
  } cases[] = {
      {c_sizeof, SR_ERR_FORMAT, "sizeof_hdr is 349"},
      {c_nifti2, SR_ERR_UNSUPPORTED, "NIfTI-2"},
      {c_pair, SR_ERR_UNSUPPORTED, ".hdr/.img"},
      {c_magic, SR_ERR_FORMAT, "bad magic"},
      {c_vox_low, SR_ERR_FORMAT, "vox_offset 300"},
      {c_vox_frac, SR_ERR_FORMAT, "vox_offset"},
      {c_vox_nan, SR_ERR_FORMAT, "vox_offset"},
      {c_vox_far, SR_ERR_FORMAT, "truncated"},
      {c_dim0_zero, SR_ERR_FORMAT, "dim[0] is 0"},
      {c_dim0_eight, SR_ERR_FORMAT, "dim[0] is 8"},
      {c_dim_zero, SR_ERR_FORMAT, "dim[2] is 0"},
      {c_dim_neg, SR_ERR_FORMAT, "dim[3] is -3"},
      {c_bitpix, SR_ERR_FORMAT, "bitpix 16 does not match datatype float32"},
      {c_rgb, SR_ERR_UNSUPPORTED, "rgb24"},
      {c_unknown, SR_ERR_UNSUPPORTED, "datatype 3"},
      {c_huge, SR_ERR_FORMAT, "limit"},
      {c_lie, SR_ERR_FORMAT, "truncated"},
  };
  const int16_t dims[3] = {2, 3, 4};
  float vox[24] = {0};
  for (int be = 0; be <= 1; ++be) {
    for (int gz = 0; gz <= 1; ++gz) {
      for (size_t c = 0; c < sizeof cases / sizeof cases[0]; ++c) {
        unsigned char hdr[352];
        swap_bytes = be;
        make_header(hdr, 16, 32, 3, dims, 1.0f, 0.0f);
        cases[c].fn(hdr);
        swap_bytes = 0;
        const char *p = io_test_path(gz ? "bad.nii.gz" : "bad.nii");
        write_nifti_file(p, hdr, vox, sizeof vox, gz);
        sr_nifti_header h;
        sr_array a;
        sr_context_clear_error(ctx);
        sr_status s = sr_nifti_read(ctx, p, &h, &a);
        /* A byte-swapped bad sizeof_hdr reads as another number. */
        const char *want = be && c == 0 ? "sizeof_hdr" : cases[c].message;
        CHECK_MSG(s == cases[c].status && strstr(sr_context_last_error(ctx), want) &&
                      strstr(sr_context_last_error(ctx), p),
                  "case %zu be %d gz %d: %s: '%s'", c, be, gz, sr_strerror(s),
                  sr_context_last_error(ctx));
        CHECK(a.data == NULL);
      }
    }
  }
}

/* Every prefix of a valid .nii and of a valid .nii.gz fails cleanly. */
static void test_every_truncation(void) {
  int64_t shape[2] = {3, 4};
  sr_array img;
  CHECK_OK(ctx, sr_array_alloc(ctx, "img", SR_DTYPE_F32, 2, shape, &img));
  for (int i = 0; i < 12; ++i) ((float *)img.data)[i] = (float)i * 1.7f;
  for (int gz = 0; gz <= 1; ++gz) {
    const char *p = io_test_path(gz ? "full.nii.gz" : "full.nii");
    CHECK_OK(ctx, sr_nifti_write(ctx, p, NULL, &img, SR_DTYPE_F32));
    size_t size = 0;
    unsigned char *full = io_test_read(p, &size);
    const char *cut = io_test_path(gz ? "cut.nii.gz" : "cut.nii");
    int accepted = 0;
    for (size_t n = 0; full && n < size; ++n) {
      io_test_write(cut, full, n);
      sr_nifti_header h;
      sr_array a;
      sr_context_clear_error(ctx);
      if (sr_nifti_read(ctx, cut, &h, &a) == SR_OK || !strstr(sr_context_last_error(ctx), cut)) {
        ++accepted;
        fprintf(stderr, "gz %d: prefix %zu of %zu: %s\n", gz, n, size, sr_context_last_error(ctx));
      }
      sr_array_free(&a);
    }
    CHECK_MSG(accepted == 0, "gz %d: %d truncated files accepted", gz, accepted);
    /* A flipped byte inside the compressed stream is caught (by inflate or
     * by the CRC at the end), never accepted silently as other data. */
    if (gz && full) {
      int silent = 0;
      for (size_t i = 10; i < size - 8; ++i) {
        full[i] ^= 0x01;
        io_test_write(cut, full, size);
        sr_nifti_header h;
        sr_array a;
        sr_status s = sr_nifti_read(ctx, cut, &h, &a);
        if (s == SR_OK && memcmp(a.data, img.data, img.nbytes) != 0) ++silent;
        sr_array_free(&a);
        full[i] ^= 0x01;
      }
      CHECK_MSG(silent == 0, "%d corrupted gzip files read as wrong data", silent);
    }
    free(full);
  }
  sr_array_free(&img);
}

/* A small gzip file whose header claims a large volume fails on the missing
 * data without allocating the claimed size; a stream that goes on long after
 * the voxels is not read to its end. */
static void test_gzip_bombs(void) {
  unsigned char hdr[352];
  const int16_t big[3] = {2000, 2000, 1000}; /* 4e9 voxels of uint8: 3.7 GiB */
  make_header(hdr, 2, 8, 3, big, 1.0f, 0.0f);
  const char *p = io_test_path("claims.nii.gz");
  unsigned char few[100] = {0};
  write_nifti_file(p, hdr, few, sizeof few, 1);
  sr_nifti_header h;
  sr_array a;
  CHECK_FAILS(ctx, sr_nifti_read(ctx, p, &h, &a), SR_ERR_FORMAT);
  CHECK_MESSAGE(ctx, "truncated voxel data: 100 of 4000000000 bytes");

  /* 8 voxels, then 64 MiB of zeros: refused after reading a little past
   * the voxels, not decompressed to the end. */
  const int16_t small[3] = {2, 2, 2};
  make_header(hdr, 2, 8, 3, small, 1.0f, 0.0f);
  const char *tail = io_test_path("tail.nii.gz");
  gzFile g = gzopen(tail, "wb");
  unsigned char vox[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  gzwrite(g, hdr, 352);
  gzwrite(g, vox, 8);
  unsigned char *zeros = (unsigned char *)calloc(1 << 20, 1);
  for (int i = 0; i < 64; ++i) gzwrite(g, zeros, 1 << 20);
  gzclose(g);
  /* Cut the stream short too: reading to its end would meet the cut. */
  size_t size = 0;
  unsigned char *b = io_test_read(tail, &size);
  CHECK(b && size > 1000);
  io_test_write(tail, b, size - 16);
  free(b);
  CHECK_FAILS(ctx, sr_nifti_read(ctx, tail, &h, &a), SR_ERR_FORMAT);
  CHECK_MESSAGE(ctx, "goes on beyond the 360 bytes the header implies");
  /* A little padding after the voxels is fine. */
  g = gzopen(tail, "wb");
  gzwrite(g, hdr, 352);
  gzwrite(g, vox, 8);
  gzwrite(g, zeros, 100);
  gzclose(g);
  free(zeros);
  CHECK_OK(ctx, sr_nifti_read(ctx, tail, &h, &a));
  CHECK(a.data && ((float *)a.data)[7] == 8.0f);
  sr_array_free(&a);
}

static void test_writer_refuses(void) {
  int64_t shape[8] = {2, 2, 1, 1, 1, 1, 1, 1};
  sr_array a;
  const char *p = io_test_path("w.nii");
  CHECK_OK(ctx, sr_array_alloc(ctx, "a", SR_DTYPE_F64, 2, shape, &a));
  CHECK_FAILS(ctx, sr_nifti_write(ctx, p, NULL, &a, SR_DTYPE_F32), SR_ERR_INVALID_ARGUMENT);
  sr_array_free(&a);
  CHECK_OK(ctx, sr_array_alloc(ctx, "a", SR_DTYPE_F32, 8, shape, &a));
  CHECK_FAILS(ctx, sr_nifti_write(ctx, p, NULL, &a, SR_DTYPE_F32), SR_ERR_SHAPE);
  sr_array_free(&a);
  CHECK_OK(ctx, sr_array_alloc(ctx, "a", SR_DTYPE_F32, 2, shape, &a));
  CHECK_FAILS(ctx, sr_nifti_write(ctx, p, NULL, &a, SR_DTYPE_F64), SR_ERR_UNSUPPORTED);
  ((float *)a.data)[2] = NAN;
  CHECK_FAILS(ctx, sr_nifti_write(ctx, p, NULL, &a, SR_DTYPE_I16), SR_ERR_NUMERIC);
  CHECK_MESSAGE(ctx, "voxel 2");
  sr_array_free(&a);
  int64_t wide[1] = {40000};
  CHECK_OK(ctx, sr_array_alloc(ctx, "a", SR_DTYPE_F32, 1, wide, &a));
  CHECK_FAILS(ctx, sr_nifti_write(ctx, p, NULL, &a, SR_DTYPE_F32), SR_ERR_SHAPE);
  sr_array_free(&a);
  CHECK(io_test_count_entries() == 0 || access(p, F_OK) != 0);
  CHECK_FAILS(ctx, sr_nifti_read(ctx, io_test_path("none.nii"), NULL, &a), SR_ERR_IO);
  CHECK_MESSAGE(ctx, "none.nii: cannot open");
}

int main(void) {
  ctx = io_test_context();
  io_test_mkdir("nifti");
  test_hand_made_uint8();
  test_hand_made_types();
  test_round_trips();
  test_encoder_layout();
  test_malformed_headers();
  test_every_truncation();
  test_gzip_bombs();
  test_writer_refuses();
  io_test_cleanup();
  sr_context_destroy(ctx);
  return sr_test_finish("test_nifti");
}
