/* safetensors: writer/reader round trip, and every way a header can lie. */
#define _DEFAULT_SOURCE
#include <stdint.h>
#include <string.h>

#include "io/safetensors.h"
#include "io_test.h"

static sr_context *ctx;

/* A file image: 8-byte length, the header text, then data_len bytes. */
static unsigned char *make_file(const char *header, size_t data_len, size_t *size) {
  size_t n = strlen(header);
  *size = 8 + n + data_len;
  unsigned char *b = (unsigned char *)calloc(*size + 1, 1);
  for (int i = 0; i < 8; ++i) b[i] = (unsigned char)((uint64_t)n >> (8 * i));
  memcpy(b + 8, header, n);
  for (size_t i = 0; i < data_len; ++i) b[8 + n + i] = (unsigned char)i;
  return b;
}

static void test_round_trip(void) {
  float w[6] = {1, 2, 3, 4, 5, 6};
  uint8_t flags[3] = {1, 0, 1};
  uint16_t half[2] = {0x3c00, 0xc000};
  int64_t ids[2] = {-7, 1234567890123};
  int64_t s_w[2] = {2, 3}, s_f[1] = {3}, s_h[1] = {2}, s_i[1] = {2}, s_e[2] = {0, 5};
  const sr_st_write_tensor ts[] = {
      {"flags", SR_ST_U8, 1, s_f, flags}, {"conv.weight", SR_ST_F32, 2, s_w, w},
      {"half", SR_ST_F16, 1, s_h, half},  {"ids", SR_ST_I64, 1, s_i, ids},
      {"empty", SR_ST_F32, 2, s_e, NULL}, {"scalar", SR_ST_F32, 0, NULL, w},
  };
  const sr_st_metadata meta[] = {{"format", "pt"},
                                 {"config", "{\"sde\": \"vesde\", \"note\": \"q\\\"\"}"},
                                 {"unicode", "\xc3\xa9t\xc3\xa9"}};
  const char *path = io_test_path("model.safetensors");
  CHECK_OK(ctx, sr_safetensors_write(ctx, path, ts, 6, meta, 3));

  size_t size = 0;
  unsigned char *raw = io_test_read(path, &size);
  uint64_t hlen = 0;
  for (int i = 7; i >= 0 && raw; --i) hlen = hlen << 8 | raw[i];
  CHECK((8 + hlen) % 8 == 0); /* data section 8-byte aligned */
  CHECK(raw && raw[8] == '{' && (raw[8 + hlen - 1] == ' ' || raw[8 + hlen - 1] == '}'));
  CHECK(size == 8 + hlen + 24 + 3 + 4 + 16 + 4);
  free(raw);

  sr_safetensors *st = NULL;
  CHECK_OK(ctx, sr_safetensors_open(ctx, path, &st));
  if (!st) return;
  CHECK(sr_safetensors_count(st) == 6);
  /* Largest elements first: the I64 tensor leads the data section. */
  CHECK(strcmp(sr_safetensors_tensor(st, 0)->name, "ids") == 0);
  for (size_t i = 0; i < sr_safetensors_count(st); ++i) {
    const sr_st_tensor *t = sr_safetensors_tensor(st, i);
    CHECK_MSG((uintptr_t)t->data % sr_st_dtype_size(t->dtype) == 0, "%s misaligned", t->name);
  }
  CHECK(sr_safetensors_tensor(st, 6) == NULL);
  const sr_st_tensor *t = sr_safetensors_find(st, "conv.weight");
  CHECK(t && t->dtype == SR_ST_F32 && t->ndim == 2 && t->shape[0] == 2 && t->shape[1] == 3);
  CHECK(t && t->nbytes == 24 && memcmp(t->data, w, 24) == 0);
  t = sr_safetensors_find(st, "ids");
  CHECK(t && t->dtype == SR_ST_I64 && memcmp(t->data, ids, 16) == 0);
  t = sr_safetensors_find(st, "half");
  CHECK(t && memcmp(t->data, half, 4) == 0);
  t = sr_safetensors_find(st, "flags");
  CHECK(t && memcmp(t->data, flags, 3) == 0);
  t = sr_safetensors_find(st, "empty");
  CHECK(t && t->nbytes == 0 && t->shape[1] == 5);
  t = sr_safetensors_find(st, "scalar");
  CHECK(t && t->ndim == 0 && t->nbytes == 4);
  CHECK(sr_safetensors_find(st, "nope") == NULL);
  sr_dtype d;
  CHECK(sr_st_dtype_to_sr(SR_ST_BF16, &d) && d == SR_DTYPE_BF16);
  CHECK(!sr_st_dtype_to_sr(SR_ST_BOOL, &d));

  CHECK(sr_safetensors_metadata_count(st) == 3);
  CHECK(strcmp(sr_safetensors_metadata(st, "format"), "pt") == 0);
  CHECK(strcmp(sr_safetensors_metadata(st, "config"), meta[1].value) == 0);
  CHECK(strcmp(sr_safetensors_metadata(st, "unicode"), meta[2].value) == 0);
  CHECK(sr_safetensors_metadata(st, "absent") == NULL);
  const char *k, *v;
  sr_safetensors_metadata_at(st, 0, &k, &v);
  CHECK(strcmp(k, "format") == 0 && strcmp(v, "pt") == 0);
  sr_safetensors_close(st);

  /* No tensors, no metadata. */
  CHECK_OK(ctx, sr_safetensors_write(ctx, path, NULL, 0, NULL, 0));
  CHECK_OK(ctx, sr_safetensors_open(ctx, path, &st));
  CHECK(st && sr_safetensors_count(st) == 0 && sr_safetensors_metadata_count(st) == 0);
  sr_safetensors_close(st);
}

static void test_writer_refuses(void) {
  float w[2] = {0};
  int64_t s[1] = {2};
  const char *path = io_test_path("w.safetensors");
  sr_st_write_tensor dup[2] = {{"a", SR_ST_F32, 1, s, w}, {"a", SR_ST_F32, 1, s, w}};
  CHECK_FAILS(ctx, sr_safetensors_write(ctx, path, dup, 2, NULL, 0), SR_ERR_INVALID_ARGUMENT);
  sr_st_write_tensor reserved = {"__metadata__", SR_ST_F32, 1, s, w};
  CHECK_FAILS(ctx, sr_safetensors_write(ctx, path, &reserved, 1, NULL, 0), SR_ERR_INVALID_ARGUMENT);
  sr_st_write_tensor nodata = {"x", SR_ST_F32, 1, s, NULL};
  CHECK_FAILS(ctx, sr_safetensors_write(ctx, path, &nodata, 1, NULL, 0), SR_ERR_INVALID_ARGUMENT);
  sr_st_metadata m[2] = {{"k", "1"}, {"k", "2"}};
  CHECK_FAILS(ctx, sr_safetensors_write(ctx, path, NULL, 0, m, 2), SR_ERR_INVALID_ARGUMENT);
  CHECK(io_test_count_entries() <= 1);
}

typedef struct bad_case {
  const char *header;
  size_t data_len;
  const char *message;
} bad_case;

static void test_malformed_headers(void) {
  const bad_case bad[] = {
      {"[]", 0, "start with '{'"},
      {"{} []", 0, "invalid JSON"},
      {" {}", 0, "start with '{'"},
      {"{\"a\":", 0, "invalid JSON"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"a\":{}}", 8, "duplicate"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4, "beyond the data"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 12,
       "4 bytes of data after the last tensor"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, "needs 12 bytes"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8, "begin 8 > end 0"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[-8,0]}}", 8, "non-negative"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8.0]}}", 8, "non-negative"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8,16]}}", 8, "[begin, end]"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, "data_offsets"},
      {"{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "no dtype"},
      {"{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", 8, "no shape"},
      {"{\"a\":{\"dtype\":\"F33\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8,
       "unknown dtype 'F33'"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, "shape[0]"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}", 8, "shape[0]"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,2],\"data_offsets\":[0,8]}}", 8,
       "9 dimensions"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4],\"data_offsets\":[0,8]}}", 8,
       "limit"},
      {"{\"a\":[1,2]}", 0, "not an object"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
       "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
       12, "overlap"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
       "\"b\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[4,4]}}",
       8, "overlap"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "4 unused bytes"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
       "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[10,14]}}",
       14, "2 unused bytes"},
      {"{\"__metadata__\":[\"x\"]}", 0, "__metadata__ is not an object (found array)"},
      {"{\"__metadata__\":\"x\"}", 0, "not an object"},
      {"{\"__metadata__\":{\"k\":1}}", 0, "__metadata__[\"k\"] is not a string (found number)"},
      {"{\"__metadata__\":{\"k\":{\"nested\":\"x\"}}}", 0, "not a string"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
    size_t size;
    unsigned char *b = make_file(bad[i].header, bad[i].data_len, &size);
    sr_safetensors *st = (sr_safetensors *)1;
    sr_context_clear_error(ctx);
    sr_status s = sr_safetensors_open_memory(ctx, "bad.safetensors", b, size, &st);
    CHECK_MSG(s != SR_OK && st == NULL, "case %zu accepted", i);
    CHECK_MSG(strstr(sr_context_last_error(ctx), bad[i].message) &&
                  strstr(sr_context_last_error(ctx), "bad.safetensors"),
              "case %zu: message '%s' lacks '%s'", i, sr_context_last_error(ctx), bad[i].message);
    free(b);
  }
  /* Unknown keys in a tensor entry are ignored, as the reference does. */
  size_t size;
  unsigned char *b = make_file(
      "{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2],\"x\":1}}", 2, &size);
  sr_safetensors *st = NULL;
  CHECK_OK(ctx, sr_safetensors_open_memory(ctx, "ok", b, size, &st));
  sr_safetensors_close(st);
  free(b);
}

static void test_lying_lengths(void) {
  unsigned char b[64] = {0};
  sr_safetensors *st = NULL;
  CHECK_FAILS(ctx, sr_safetensors_open_memory(ctx, "short", b, 7, &st), SR_ERR_FORMAT);
  CHECK_MESSAGE(ctx, "shorter than the 8-byte header length");
  b[0] = 100; /* header of 100 bytes in a 64-byte file */
  CHECK_FAILS(ctx, sr_safetensors_open_memory(ctx, "lie", b, sizeof b, &st), SR_ERR_FORMAT);
  CHECK_MESSAGE(ctx, "runs past the end");
  memset(b, 0xff, 8);
  CHECK_FAILS(ctx, sr_safetensors_open_memory(ctx, "huge", b, sizeof b, &st), SR_ERR_FORMAT);
  CHECK_MESSAGE(ctx, "100 MB");
  memcpy(b, "PK\x03\x04\x14\x00\x00\x00", 8);
  CHECK_FAILS(ctx, sr_safetensors_open_memory(ctx, "zip", b, sizeof b, &st), SR_ERR_FORMAT);
  CHECK_MESSAGE(ctx, "zip");
  memset(b, 0, 8); /* zero-length header */
  CHECK_FAILS(ctx, sr_safetensors_open_memory(ctx, "zero", b, sizeof b, &st), SR_ERR_FORMAT);
  CHECK_FAILS(ctx, sr_safetensors_open(ctx, io_test_path("missing.safetensors"), &st), SR_ERR_IO);
  CHECK_MESSAGE(ctx, "missing.safetensors: cannot open");
  const char *empty = io_test_path("empty.safetensors");
  io_test_write(empty, "", 0);
  CHECK_FAILS(ctx, sr_safetensors_open(ctx, empty, &st), SR_ERR_FORMAT);
  CHECK_MESSAGE(ctx, "empty.safetensors");
  unlink(empty);
}

/* Every proper prefix of a valid file fails, from memory and from disk. */
static void test_every_truncation(void) {
  float w[4] = {1, 2, 3, 4};
  int64_t s[1] = {4};
  sr_st_write_tensor t[2] = {{"w", SR_ST_F32, 1, s, w}, {"b", SR_ST_F32, 1, s, w}};
  sr_st_metadata m = {"k", "v"};
  const char *path = io_test_path("full.safetensors");
  CHECK_OK(ctx, sr_safetensors_write(ctx, path, t, 2, &m, 1));
  size_t size = 0;
  unsigned char *full = io_test_read(path, &size);
  const char *cut = io_test_path("cut.safetensors");
  int accepted = 0;
  for (size_t n = 0; full && n < size; ++n) {
    sr_safetensors *st = NULL;
    if (sr_safetensors_open_memory(ctx, "cut", full, n, &st) == SR_OK) ++accepted;
    sr_safetensors_close(st);
    st = NULL;
    io_test_write(cut, full, n);
    sr_context_clear_error(ctx);
    if (sr_safetensors_open(ctx, cut, &st) == SR_OK || !strstr(sr_context_last_error(ctx), cut))
      ++accepted;
    sr_safetensors_close(st);
  }
  CHECK_MSG(accepted == 0, "%d truncated files were accepted", accepted);
  /* Flipping any single header byte must never crash (most are refused). */
  for (size_t i = 0; full && i < size - 32; ++i) {
    unsigned char saved = full[i];
    full[i] ^= 0x5a;
    sr_safetensors *st = NULL;
    (void)sr_safetensors_open_memory(ctx, "flip", full, size, &st);
    sr_safetensors_close(st);
    full[i] = saved;
  }
  free(full);
}

int main(void) {
  ctx = io_test_context();
  io_test_mkdir("safetensors");
  test_round_trip();
  test_writer_refuses();
  test_malformed_headers();
  test_lying_lengths();
  test_every_truncation();
  io_test_cleanup();
  sr_context_destroy(ctx);
  return sr_test_finish("test_safetensors");
}
