/* sr_array and the size checks every reader relies on. */
#define _DEFAULT_SOURCE
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "io/array.h"
#include "io/file.h"
#include "io_test.h"

static sr_context *ctx;

static void test_shape_nbytes(void) {
  size_t n = 0;
  int64_t ok[3] = {2, 3, 4};
  CHECK_OK(ctx, sr_shape_nbytes(ctx, "f", 4, 3, ok, &n));
  CHECK(n == 96);
  CHECK_OK(ctx, sr_shape_nbytes(ctx, "f", 8, 0, NULL, &n));
  CHECK(n == 8);
  int64_t zero[2] = {0, INT64_MAX};
  CHECK_OK(ctx, sr_shape_nbytes(ctx, "f", 4, 2, zero, &n));
  CHECK(n == 0);
  int64_t neg[2] = {3, -1};
  CHECK_FAILS(ctx, sr_shape_nbytes(ctx, "f.npy", 4, 2, neg, &n), SR_ERR_FORMAT);
  CHECK_MESSAGE(ctx, "f.npy: dimension 1 is negative");
  /* 2^32 * 2^32 * 4 overflows 64 bits. */
  int64_t wrap[3] = {INT64_C(1) << 32, INT64_C(1) << 32, 4};
  CHECK_FAILS(ctx, sr_shape_nbytes(ctx, "f", 4, 3, wrap, &n), SR_ERR_FORMAT);
  CHECK_MESSAGE(ctx, "exceeds the limit");
  /* Exactly 16 GiB is allowed, one element more is not. */
  int64_t limit[1] = {INT64_C(4) << 30};
  CHECK_OK(ctx, sr_shape_nbytes(ctx, "f", 4, 1, limit, &n));
  CHECK(n == ((size_t)16 << 30));
  limit[0] += 1;
  CHECK_FAILS(ctx, sr_shape_nbytes(ctx, "f", 4, 1, limit, &n), SR_ERR_FORMAT);
  int64_t many[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
  CHECK_FAILS(ctx, sr_shape_nbytes(ctx, "f", 4, 9, many, &n), SR_ERR_FORMAT);
  CHECK_FAILS(ctx, sr_shape_nbytes(ctx, "f", 4, -1, many, &n), SR_ERR_FORMAT);
  /* A negative dimension after an overflowing product is still named. */
  int64_t late[3] = {INT64_MAX, INT64_MAX, -5};
  CHECK_FAILS(ctx, sr_shape_nbytes(ctx, "f", 4, 3, late, &n), SR_ERR_FORMAT);
  CHECK_MESSAGE(ctx, "negative");

  uint64_t out = 7;
  CHECK(sr_mul_overflows_u64(UINT64_MAX, 2, &out) == 1 && out == 7);
  CHECK(sr_mul_overflows_u64(0, UINT64_MAX, &out) == 0 && out == 0);
  CHECK(sr_mul_overflows_u64(UINT32_MAX, UINT32_MAX, &out) == 0);
}

static void test_shape_format(void) {
  char buf[64];
  int64_t s[3] = {2, 3, 4};
  CHECK(strcmp(sr_shape_format(buf, sizeof buf, 3, s), "(2, 3, 4)") == 0);
  CHECK(strcmp(sr_shape_format(buf, sizeof buf, 1, s), "(2,)") == 0);
  CHECK(strcmp(sr_shape_format(buf, sizeof buf, 0, s), "()") == 0);
  char tiny[4];
  sr_shape_format(tiny, sizeof tiny, 3, s);
  CHECK(strlen(tiny) == 3);
}

static void test_alloc_and_convert(void) {
  int64_t shape[2] = {2, 3};
  sr_array a;
  CHECK_OK(ctx, sr_array_alloc(ctx, "a", SR_DTYPE_I16, 2, shape, &a));
  CHECK(a.nbytes == 12 && a.ndim == 2 && sr_array_numel(&a) == 6);
  int16_t *v = (int16_t *)a.data;
  for (int i = 0; i < 6; ++i) CHECK(v[i] == 0);
  v[5] = -300;
  sr_array f;
  CHECK_OK(ctx, sr_array_to_f32(ctx, "a", &a, &f));
  CHECK(f.dtype == SR_DTYPE_F32 && f.nbytes == 24 && ((float *)f.data)[5] == -300.0f);
  sr_array_free(&f);
  sr_array_free(&a);
  CHECK(a.data == NULL && a.nbytes == 0);
  sr_array_free(&a); /* twice is fine */

  CHECK_OK(ctx, sr_array_alloc(ctx, "c", SR_DTYPE_C64, 2, shape, &a));
  CHECK_FAILS(ctx, sr_array_to_f32(ctx, "c", &a, &f), SR_ERR_UNSUPPORTED);
  sr_array_free(&a);

  int64_t empty[1] = {0};
  CHECK_OK(ctx, sr_array_alloc(ctx, "e", SR_DTYPE_F64, 1, empty, &a));
  CHECK(a.data != NULL && a.nbytes == 0);
  sr_array_free(&a);
}

static void test_half(void) {
  CHECK(sr_half_to_float(0x0000) == 0.0f);
  CHECK(signbit(sr_half_to_float(0x8000)));
  CHECK(sr_half_to_float(0x3c00) == 1.0f);
  CHECK(sr_half_to_float(0xc000) == -2.0f);
  CHECK(sr_half_to_float(0x7bff) == 65504.0f);
  CHECK(sr_half_to_float(0x0001) == 0x1p-24f);
  CHECK(sr_half_to_float(0x03ff) == 0x3ffp-24f);
  CHECK(sr_half_to_float(0x0400) == 0x1p-14f);
  CHECK(isinf(sr_half_to_float(0x7c00)) && sr_half_to_float(0xfc00) < 0);
  CHECK(isnan(sr_half_to_float(0x7e00)));
  CHECK(sr_bf16_to_float(0x3f80) == 1.0f);
  CHECK(sr_bf16_to_float(0xc0a0) == -5.0f);
}

static void test_read_all(void) {
  const char *p = io_test_path("bytes.bin");
  CHECK(io_test_write(p, "hello", 5) == 0);
  unsigned char *data = NULL;
  size_t size = 0;
  CHECK_OK(ctx, sr_file_read_all(ctx, p, 100, &data, &size));
  CHECK(size == 5 && data && memcmp(data, "hello", 6) == 0); /* NUL-terminated */
  free(data);
  CHECK_FAILS(ctx, sr_file_read_all(ctx, p, 4, &data, &size), SR_ERR_FORMAT);
  CHECK_MESSAGE(ctx, "bytes.bin");
  CHECK(data == NULL);
  CHECK_FAILS(ctx, sr_file_read_all(ctx, io_test_path("none"), 100, &data, &size), SR_ERR_IO);
  CHECK_MESSAGE(ctx, "none: cannot open");
  CHECK_FAILS(ctx, sr_file_read_all(ctx, io_test_dir, 100, &data, &size), SR_ERR_IO);
  CHECK_MESSAGE(ctx, "not a regular file");
  CHECK(io_test_write(p, "", 0) == 0);
  CHECK_OK(ctx, sr_file_read_all(ctx, p, 100, &data, &size));
  CHECK(size == 0 && data && data[0] == 0);
  free(data);

  CHECK(sr_path_ends_with("a/b.NII.GZ", ".nii.gz"));
  CHECK(sr_path_ends_with("x.npy", ".npy"));
  CHECK(!sr_path_ends_with("npy", ".npy"));
  CHECK(!sr_path_ends_with("x.nii", ".nii.gz"));
}

int main(void) {
  ctx = io_test_context();
  io_test_mkdir("array");
  test_shape_nbytes();
  test_shape_format();
  test_alloc_and_convert();
  test_half();
  test_read_all();
  io_test_cleanup();
  sr_context_destroy(ctx);
  return sr_test_finish("test_array");
}
