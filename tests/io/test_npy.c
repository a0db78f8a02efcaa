/* .npy: round trips of every dtype and version, golden files written by
 * NumPy, hand-written header variants, and malformed files that must fail
 * with a message (every truncation point included). */
#define _DEFAULT_SOURCE
#include <stdint.h>
#include <string.h>

#include "io/npy.h"
#include "io_test.h"

#ifndef SR_TEST_DATA_DIR
#error "SR_TEST_DATA_DIR must point at tests/io/data"
#endif

static sr_context *ctx;

/* Builds an .npy image with an arbitrary header dict (no padding added
 * unless the dict carries it) followed by `data`. Returns its size. */
static size_t make_npy(unsigned char *out, int major, const char *dict, const void *data,
                       size_t n) {
  size_t dlen = strlen(dict), pre = major == 1 ? 10 : 12;
  memcpy(out, "\x93NUMPY", 6);
  out[6] = (unsigned char)major;
  out[7] = 0;
  for (size_t i = 0; i < pre - 8; ++i) out[8 + i] = (unsigned char)(dlen >> (8 * i));
  memcpy(out + pre, dict, dlen);
  if (n) memcpy(out + pre + dlen, data, n);
  return pre + dlen + n;
}

static void test_round_trips(void) {
  const sr_dtype dtypes[] = {SR_DTYPE_F32, SR_DTYPE_F64, SR_DTYPE_C64, SR_DTYPE_F16,
                             SR_DTYPE_I16, SR_DTYPE_U8,  SR_DTYPE_I32, SR_DTYPE_I64};
  const int64_t shapes[][3] = {{2, 3, 4}, {5, 1, 1}, {0, 7, 1}};
  const int ndims[] = {3, 1, 2};
  for (size_t d = 0; d < sizeof dtypes / sizeof dtypes[0]; ++d) {
    for (int s = 0; s < 3; ++s) {
      for (int version = 1; version <= 3; ++version) {
        sr_array a, b;
        CHECK_OK(ctx, sr_array_alloc(ctx, "a", dtypes[d], ndims[s], shapes[s], &a));
        unsigned char *p = (unsigned char *)a.data;
        for (size_t i = 0; i < a.nbytes; ++i) p[i] = (unsigned char)(i * 37 + d);
        const char *path = io_test_path("rt.npy");
        CHECK_OK(ctx, sr_npy_write_version(ctx, path, &a, version));
        CHECK_OK(ctx, sr_npy_read(ctx, path, &b));
        CHECK(b.dtype == a.dtype && b.ndim == a.ndim && b.nbytes == a.nbytes);
        for (int k = 0; k < a.ndim && b.ndim == a.ndim; ++k) CHECK(b.shape[k] == a.shape[k]);
        CHECK(b.nbytes == a.nbytes && memcmp(a.data, b.data, a.nbytes) == 0);
        /* The data starts 64-byte aligned, as NumPy writes it. */
        size_t size = 0;
        unsigned char *raw = io_test_read(path, &size);
        CHECK(raw && (size - a.nbytes) % 64 == 0 && raw[6] == version);
        free(raw);
        sr_array_free(&a);
        sr_array_free(&b);
      }
    }
  }
  /* Scalars (0-d) round trip too. */
  sr_array s, t;
  CHECK_OK(ctx, sr_array_alloc(ctx, "s", SR_DTYPE_F64, 0, NULL, &s));
  ((double *)s.data)[0] = -0.125;
  CHECK_OK(ctx, sr_npy_write(ctx, io_test_path("s.npy"), &s));
  CHECK_OK(ctx, sr_npy_read(ctx, io_test_path("s.npy"), &t));
  CHECK(t.ndim == 0 && t.nbytes == 8 && ((double *)t.data)[0] == -0.125);
  sr_array_free(&s);
  sr_array_free(&t);
  /* bfloat16 has no NumPy dtype. */
  int64_t one = 1;
  CHECK_OK(ctx, sr_array_alloc(ctx, "bf", SR_DTYPE_BF16, 1, &one, &s));
  CHECK_FAILS(ctx, sr_npy_write(ctx, io_test_path("bf.npy"), &s), SR_ERR_UNSUPPORTED);
  sr_array_free(&s);
}

static sr_array read_golden(const char *name, sr_status expect) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", SR_TEST_DATA_DIR, name);
  sr_array a;
  sr_status s = sr_npy_read(ctx, path, &a);
  CHECK_MSG(s == expect, "%s: got %s (%s)", name, sr_strerror(s), sr_context_last_error(ctx));
  return a;
}

static void test_golden(void) {
  sr_array a = read_golden("f32_2x3.npy", SR_OK);
  CHECK(a.dtype == SR_DTYPE_F32 && a.ndim == 2 && a.shape[0] == 2 && a.shape[1] == 3);
  for (int i = 0; i < 6 && a.data; ++i) CHECK(((float *)a.data)[i] == i * 0.5f - 1.0f);
  sr_array_free(&a);

  a = read_golden("f64_3.npy", SR_OK);
  CHECK(a.dtype == SR_DTYPE_F64 && a.shape[0] == 3);
  if (a.data) {
    const double *d = (const double *)a.data;
    CHECK(d[0] == 1.5 && d[1] == -2.25 && d[2] == 1e300);
  }
  sr_array_free(&a);

  a = read_golden("c64_2.npy", SR_OK);
  CHECK(a.dtype == SR_DTYPE_C64 && a.shape[0] == 2 && a.nbytes == 16);
  if (a.data) {
    const float *c = (const float *)a.data;
    CHECK(c[0] == 1.0f && c[1] == 2.0f && c[2] == -3.5f && c[3] == -0.25f);
  }
  sr_array_free(&a);

  a = read_golden("f16_5.npy", SR_OK);
  CHECK(a.dtype == SR_DTYPE_F16 && a.shape[0] == 5);
  if (a.data) {
    CHECK(sr_array_get(&a, 0) == 0.0 && sr_array_get(&a, 1) == 1.0);
    CHECK(sr_array_get(&a, 2) == -2.0 && sr_array_get(&a, 3) == 65504.0);
    CHECK(sr_array_get(&a, 4) == 0x1p-24); /* the smallest subnormal half */
  }
  sr_array_free(&a);

  a = read_golden("i16_2x2.npy", SR_OK);
  CHECK(a.dtype == SR_DTYPE_I16 && a.ndim == 2);
  if (a.data) {
    const int16_t *v = (const int16_t *)a.data;
    CHECK(v[0] == -32768 && v[1] == 32767 && v[2] == 0 && v[3] == -1);
  }
  sr_array_free(&a);

  a = read_golden("u8_3.npy", SR_OK);
  CHECK(a.dtype == SR_DTYPE_U8 && a.nbytes == 3);
  if (a.data) CHECK(((uint8_t *)a.data)[1] == 128 && ((uint8_t *)a.data)[2] == 255);
  sr_array_free(&a);

  a = read_golden("i32_2.npy", SR_OK);
  CHECK(a.dtype == SR_DTYPE_I32 && a.data && ((int32_t *)a.data)[0] == INT32_MIN);
  sr_array_free(&a);

  a = read_golden("i64_2.npy", SR_OK);
  CHECK(a.dtype == SR_DTYPE_I64 && a.data && ((int64_t *)a.data)[0] == INT64_MIN &&
        ((int64_t *)a.data)[1] == 42);
  sr_array_free(&a);

  const char *versions[] = {"f32_v2.npy", "f32_v3.npy"};
  for (int v = 0; v < 2; ++v) {
    a = read_golden(versions[v], SR_OK);
    CHECK(a.dtype == SR_DTYPE_F32 && a.shape[0] == 4 && a.data && ((float *)a.data)[3] == 3.0f);
    sr_array_free(&a);
  }

  a = read_golden("scalar_f32.npy", SR_OK);
  CHECK(a.ndim == 0 && a.nbytes == 4 && a.data && ((float *)a.data)[0] == 3.25f);
  sr_array_free(&a);

  a = read_golden("empty_0x3.npy", SR_OK);
  CHECK(a.ndim == 2 && a.shape[0] == 0 && a.shape[1] == 3 && a.nbytes == 0 && a.data);
  sr_array_free(&a);

  a = read_golden("fortran_2x3.npy", SR_ERR_UNSUPPORTED);
  CHECK_MESSAGE(ctx, "Fortran");
  CHECK(a.data == NULL);
  a = read_golden("be_f4.npy", SR_ERR_UNSUPPORTED);
  CHECK_MESSAGE(ctx, "big-endian");
  a = read_golden("bool_2.npy", SR_ERR_UNSUPPORTED);
  CHECK_MESSAGE(ctx, "|b1");
}

/* Header spellings other writers produce: key order, quotes, no trailing
 * comma, Python 2 longs, no alignment padding, Fortran order of 1-D data. */
static void test_header_variants(void) {
  const float data[6] = {1, 2, 3, 4, 5, 6};
  const char *ok[] = {
      "{'shape': (2, 3), 'fortran_order': False, 'descr': '<f4'}\n",
      "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (2, 3)}\n",
      "{'descr':'<f4','fortran_order':False,'shape':(2,3),}      \n",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 3L), }\n",
      "{'descr': '<f4', 'fortran_order': True, 'shape': (6,), }\n",
      "{'descr': '<f4', 'fortran_order': True, 'shape': (1, 6), }\n",
  };
  unsigned char buf[512];
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; ++i) {
    size_t n = make_npy(buf, 1, ok[i], data, sizeof data);
    sr_array a;
    CHECK_OK(ctx, sr_npy_parse(ctx, ok[i], buf, n, &a));
    CHECK(a.nbytes == sizeof data && a.data && memcmp(a.data, data, sizeof data) == 0);
    sr_array_free(&a);
  }
}

typedef struct bad_header {
  const char *dict;
  sr_status status;
  const char *message;
} bad_header;

static void test_bad_headers(void) {
  const float data[6] = {0};
  const bad_header bad[] = {
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", SR_ERR_FORMAT, "newline"},
      {"{'descr': '<f4', 'fortran_order': False}\n", SR_ERR_FORMAT, "missing 'shape'"},
      {"{'descr': '<f4', 'shape': (6,)}\n", SR_ERR_FORMAT, "missing 'fortran_order'"},
      {"{'fortran_order': False, 'shape': (6,)}\n", SR_ERR_FORMAT, "missing 'descr'"},
      {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (6,)}\n", SR_ERR_FORMAT,
       "twice"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (6,), 'extra': 1}\n", SR_ERR_FORMAT,
       "unknown key"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (6)}\n", SR_ERR_FORMAT, "not a tuple"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': [6]}\n", SR_ERR_FORMAT, "tuple"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (-6,)}\n", SR_ERR_FORMAT, "negative"},
      {"{'descr': '<f4', 'fortran_order': false, 'shape': (6,)}\n", SR_ERR_FORMAT, "True or"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (6,)} x\n", SR_ERR_FORMAT, "after"},
      {"{'descr': '<f4' 'fortran_order': False, 'shape': (6,)}\n", SR_ERR_FORMAT, "expected"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (6,),,}\n", SR_ERR_FORMAT, "string"},
      {"'descr': '<f4', 'fortran_order': False, 'shape': (6,)}\n", SR_ERR_FORMAT, "'{'"},
      {"{'descr': '<f4, 'fortran_order': False, 'shape': (6,)}\n", SR_ERR_FORMAT, "dict"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)\n", SR_ERR_FORMAT, "dict"},
      {"{'descr': '>f4', 'fortran_order': False, 'shape': (6,)}\n", SR_ERR_UNSUPPORTED,
       "big-endian"},
      {"{'descr': '<c16', 'fortran_order': False, 'shape': (3,)}\n", SR_ERR_UNSUPPORTED, "'<c16'"},
      {"{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (6,)}\n", SR_ERR_FORMAT,
       "string"},
      {"{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3)}\n", SR_ERR_UNSUPPORTED, "Fortran"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 1, 1, 1, 1, 1, 6)}\n",
       SR_ERR_UNSUPPORTED, "dimensions"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}\n",
       SR_ERR_FORMAT, "too large"},
      /* Products that overflow 64 bits, and ones merely beyond the limit. */
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 16)}\n",
       SR_ERR_FORMAT, "limit"},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (65536, 65536)}\n", SR_ERR_FORMAT,
       "limit"},
      /* Sizes that lie: the header promises 6 floats, other amounts follow. */
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (7,)}\n", SR_ERR_FORMAT, "truncated"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (5,)}\n", SR_ERR_FORMAT, "trailing"},
  };
  unsigned char buf[1024];
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
    size_t n = make_npy(buf, 1, bad[i].dict, data, sizeof data);
    sr_array a;
    sr_context_clear_error(ctx);
    sr_status s = sr_npy_parse(ctx, "bad.npy", buf, n, &a);
    CHECK_MSG(s == bad[i].status, "case %zu: got %s (%s)", i, sr_strerror(s),
              sr_context_last_error(ctx));
    CHECK_MSG(strstr(sr_context_last_error(ctx), bad[i].message) &&
                  strstr(sr_context_last_error(ctx), "bad.npy"),
              "case %zu: message '%s' lacks '%s'", i, sr_context_last_error(ctx), bad[i].message);
    CHECK(a.data == NULL);
  }
}

static void test_bad_preamble(void) {
  const char *dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)}\n";
  const float one = 1.0f;
  unsigned char buf[256];
  sr_array a;
  size_t n = make_npy(buf, 1, dict, &one, 4);
  buf[1] = 'n';
  CHECK_FAILS(ctx, sr_npy_parse(ctx, "x.npy", buf, n, &a), SR_ERR_FORMAT);
  CHECK_MESSAGE(ctx, "magic");
  n = make_npy(buf, 4, dict, &one, 4);
  CHECK_FAILS(ctx, sr_npy_parse(ctx, "x.npy", buf, n, &a), SR_ERR_UNSUPPORTED);
  CHECK_MESSAGE(ctx, "version 4.0");
  n = make_npy(buf, 1, dict, &one, 4);
  buf[7] = 1; /* minor version 1 does not exist */
  CHECK_FAILS(ctx, sr_npy_parse(ctx, "x.npy", buf, n, &a), SR_ERR_UNSUPPORTED);
  /* A header length pointing past the end of the file. */
  n = make_npy(buf, 1, dict, &one, 4);
  buf[8] = 0xff;
  buf[9] = 0x7f;
  CHECK_FAILS(ctx, sr_npy_parse(ctx, "x.npy", buf, n, &a), SR_ERR_FORMAT);
  CHECK_MESSAGE(ctx, "truncated header");
  /* A v2 header length of 4 GiB - 1. */
  n = make_npy(buf, 2, dict, &one, 4);
  memset(buf + 8, 0xff, 4);
  CHECK_FAILS(ctx, sr_npy_parse(ctx, "x.npy", buf, n, &a), SR_ERR_FORMAT);
  /* NUL bytes inside the header. */
  n = make_npy(buf, 1, dict, &one, 4);
  buf[12] = 0;
  CHECK_FAILS(ctx, sr_npy_parse(ctx, "x.npy", buf, n, &a), SR_ERR_FORMAT);
}

/* Every proper prefix of a valid file must fail cleanly, from memory and
 * from disk (the file reader takes its own path through pread). */
static void test_every_truncation(void) {
  int64_t shape[2] = {3, 5};
  sr_array a;
  CHECK_OK(ctx, sr_array_alloc(ctx, "a", SR_DTYPE_F32, 2, shape, &a));
  const char *path = io_test_path("full.npy");
  CHECK_OK(ctx, sr_npy_write(ctx, path, &a));
  sr_array_free(&a);
  size_t size = 0;
  unsigned char *full = io_test_read(path, &size);
  CHECK(full && size == 128 + 60);
  const char *cut = io_test_path("cut.npy");
  int failures = 0;
  for (size_t n = 0; full && n < size; ++n) {
    sr_array b;
    sr_context_clear_error(ctx);
    if (sr_npy_parse(ctx, "cut.npy", full, n, &b) == SR_OK || !sr_context_last_error(ctx)[0])
      ++failures;
    sr_array_free(&b);
    io_test_write(cut, full, n);
    sr_context_clear_error(ctx);
    if (sr_npy_read(ctx, cut, &b) == SR_OK || !strstr(sr_context_last_error(ctx), cut)) ++failures;
    sr_array_free(&b);
  }
  CHECK_MSG(failures == 0, "%d truncated files were accepted or failed silently", failures);
  /* The message for a cut in the data names both sizes. */
  io_test_write(cut, full, size - 7);
  CHECK_FAILS(ctx, sr_npy_read(ctx, cut, &a), SR_ERR_FORMAT);
  CHECK_MESSAGE(ctx, "expected 60 bytes of data after the header, found 53");
  /* One byte too many. */
  unsigned char *longer = (unsigned char *)malloc(size + 1);
  if (longer && full) {
    memcpy(longer, full, size);
    longer[size] = 0;
    io_test_write(cut, longer, size + 1);
    CHECK_FAILS(ctx, sr_npy_read(ctx, cut, &a), SR_ERR_FORMAT);
    CHECK_MESSAGE(ctx, "1 bytes of trailing data");
  }
  free(longer);
  free(full);
}

static void test_file_errors(void) {
  sr_array a;
  CHECK_FAILS(ctx, sr_npy_read(ctx, io_test_path("missing.npy"), &a), SR_ERR_IO);
  CHECK_MESSAGE(ctx, "missing.npy");
  CHECK_FAILS(ctx, sr_npy_read(ctx, io_test_dir, &a), SR_ERR_IO);
  int64_t shape = 2;
  sr_array b;
  CHECK_OK(ctx, sr_array_alloc(ctx, "b", SR_DTYPE_F32, 1, &shape, &b));
  CHECK_FAILS(ctx, sr_npy_write(ctx, "/nonexistent-dir/x.npy", &b), SR_ERR_IO);
  CHECK_MESSAGE(ctx, "/nonexistent-dir/x.npy");
  b.nbytes = 4; /* lies about its size */
  CHECK_FAILS(ctx, sr_npy_write(ctx, io_test_path("lie.npy"), &b), SR_ERR_INVALID_ARGUMENT);
  b.nbytes = 8;
  sr_array_free(&b);
}

int main(void) {
  ctx = io_test_context();
  io_test_mkdir("npy");
  test_round_trips();
  test_golden();
  test_header_variants();
  test_bad_headers();
  test_bad_preamble();
  test_every_truncation();
  test_file_errors();
  io_test_cleanup();
  sr_context_destroy(ctx);
  return sr_test_finish("test_npy");
}
