/* pread and fstat are POSIX. */
#define _POSIX_C_SOURCE 200809L
#include "io/npy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "io/atomic_write.h"

/* "\x93NUMPY", major, minor, then the header length: 2 bytes in 1.0,
 * 4 bytes in 2.0 and 3.0. */
#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAGIC_LEN 6
#define NPY_PREAMBLE_MAX 12
/* NumPy itself refuses headers above 10000 bytes by default; anything near
 * this limit is not an array header. */
#define NPY_HEADER_MAX (1u << 20)

typedef struct npy_header {
  sr_dtype dtype;
  int ndim;
  int64_t shape[SR_ARRAY_MAX_DIMS];
  size_t data_offset; /* preamble + header dict */
  size_t nbytes;      /* of the data */
} npy_header;

static uint32_t read_le32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Checks the magic and version in the first `avail` bytes and returns the
 * offset where the data starts (preamble + header length). */
static sr_status parse_preamble(sr_context *ctx, const char *name, const unsigned char *p,
                                size_t avail, size_t *data_offset) {
  if (avail < NPY_MAGIC_LEN || memcmp(p, NPY_MAGIC, NPY_MAGIC_LEN) != 0)
    return sr_fail(ctx, SR_ERR_FORMAT, "%s: not an .npy file (no \\x93NUMPY magic)", name);
  if (avail < 8) return sr_fail(ctx, SR_ERR_FORMAT, "%s: truncated before the version", name);
  int major = p[6], minor = p[7];
  if (major < 1 || major > 3 || minor != 0)
    return sr_fail(ctx, SR_ERR_UNSUPPORTED,
                   "%s: .npy format version %d.%d is not supported (1.0, 2.0, 3.0 are)", name,
                   major, minor);
  size_t len_bytes = major == 1 ? 2 : 4;
  if (avail < 8 + len_bytes)
    return sr_fail(ctx, SR_ERR_FORMAT, "%s: truncated before the header length", name);
  uint32_t hlen = major == 1 ? (uint32_t)(p[8] | p[9] << 8) : read_le32(p + 8);
  if (hlen > NPY_HEADER_MAX)
    return sr_fail(ctx, SR_ERR_FORMAT, "%s: header length %u is implausibly large", name, hlen);
  *data_offset = 8 + len_bytes + hlen;
  return SR_OK;
}

/* ------------------------------------------------ header dict parsing */

typedef struct dict_parser {
  sr_context *ctx;
  const char *name;
  const char *p, *end;
} dict_parser;

static sr_status dict_error(dict_parser *d, const char *what) {
  return sr_fail(d->ctx, SR_ERR_FORMAT, "%s: malformed header dict: %s", d->name, what);
}

static void skip_spaces(dict_parser *d) {
  while (d->p < d->end && (*d->p == ' ' || *d->p == '\t' || *d->p == '\n' || *d->p == '\r')) ++d->p;
}

static int accept(dict_parser *d, char c) {
  skip_spaces(d);
  if (d->p < d->end && *d->p == c) {
    ++d->p;
    return 1;
  }
  return 0;
}

/* A Python string literal without escapes ('...' or "..."), copied into buf. */
static sr_status parse_string(dict_parser *d, char *buf, size_t size) {
  skip_spaces(d);
  if (d->p >= d->end || (*d->p != '\'' && *d->p != '"'))
    return dict_error(d, "expected a quoted string");
  char quote = *d->p++;
  size_t n = 0;
  while (d->p < d->end && *d->p != quote) {
    if (*d->p == '\\' || *d->p == '\n') return dict_error(d, "unexpected character in a string");
    if (n + 1 >= size) return dict_error(d, "string too long");
    buf[n++] = *d->p++;
  }
  if (d->p >= d->end) return dict_error(d, "unterminated string");
  ++d->p;
  buf[n] = '\0';
  return SR_OK;
}

static sr_status parse_bool(dict_parser *d, int *value) {
  skip_spaces(d);
  size_t left = (size_t)(d->end - d->p);
  if (left >= 4 && memcmp(d->p, "True", 4) == 0) {
    d->p += 4;
    *value = 1;
    return SR_OK;
  }
  if (left >= 5 && memcmp(d->p, "False", 5) == 0) {
    d->p += 5;
    *value = 0;
    return SR_OK;
  }
  return dict_error(d, "fortran_order must be True or False");
}

static sr_status parse_dim(dict_parser *d, int64_t *value) {
  skip_spaces(d);
  if (d->p < d->end && *d->p == '-') return dict_error(d, "negative dimension in shape");
  if (d->p >= d->end || *d->p < '0' || *d->p > '9')
    return dict_error(d, "shape must be a tuple of non-negative integers");
  int64_t v = 0;
  while (d->p < d->end && *d->p >= '0' && *d->p <= '9') {
    int digit = *d->p++ - '0';
    if (v > (INT64_MAX - digit) / 10) return dict_error(d, "dimension too large");
    v = v * 10 + digit;
  }
  if (d->p < d->end && *d->p == 'L') ++d->p; /* written by NumPy under Python 2 */
  *value = v;
  return SR_OK;
}

/* (), (n,), (n, m), (n, m,) ... Python needs the comma to make (n,) a tuple. */
static sr_status parse_shape(dict_parser *d, npy_header *h) {
  if (!accept(d, '(')) return dict_error(d, "shape must be a tuple");
  h->ndim = 0;
  int trailing_comma = 0;
  while (!accept(d, ')')) {
    if (h->ndim == SR_ARRAY_MAX_DIMS)
      return sr_fail(d->ctx, SR_ERR_UNSUPPORTED, "%s: more than %d dimensions", d->name,
                     SR_ARRAY_MAX_DIMS);
    SR_TRY(parse_dim(d, &h->shape[h->ndim++]));
    trailing_comma = accept(d, ',');
    if (!trailing_comma) {
      if (!accept(d, ')')) return dict_error(d, "expected ',' or ')' in shape");
      break;
    }
  }
  if (h->ndim == 1 && !trailing_comma)
    return dict_error(d, "shape (n) is not a tuple; NumPy writes (n,)");
  return SR_OK;
}

static sr_status parse_descr(sr_context *ctx, const char *name, const char *descr,
                             sr_dtype *dtype) {
  static const struct {
    const char *descr;
    sr_dtype dtype;
  } known[] = {{"<f4", SR_DTYPE_F32}, {"<f8", SR_DTYPE_F64}, {"<c8", SR_DTYPE_C64},
               {"<f2", SR_DTYPE_F16}, {"<i2", SR_DTYPE_I16}, {"|u1", SR_DTYPE_U8},
               {"<u1", SR_DTYPE_U8},  {"<i4", SR_DTYPE_I32}, {"<i8", SR_DTYPE_I64}};
  for (size_t i = 0; i < sizeof known / sizeof known[0]; ++i) {
    if (strcmp(descr, known[i].descr) == 0) {
      *dtype = known[i].dtype;
      return SR_OK;
    }
  }
  if (descr[0] == '>')
    return sr_fail(ctx, SR_ERR_UNSUPPORTED,
                   "%s: big-endian data ('%s') is not supported; save it little-endian, "
                   "e.g. np.save(path, a.astype('<%s'))",
                   name, descr, descr + 1);
  return sr_fail(ctx, SR_ERR_UNSUPPORTED,
                 "%s: dtype '%s' is not supported (float32, float64, complex64, float16, int16, "
                 "uint8, int32, int64 are)",
                 name, descr);
}

/* The dict text lies between the preamble and data_offset. */
static sr_status parse_dict(sr_context *ctx, const char *name, const char *text, size_t len,
                            npy_header *h) {
  dict_parser d = {ctx, name, text, text + len};
  if (len == 0 || text[len - 1] != '\n')
    return dict_error(&d, "the header does not end with a newline");
  for (size_t i = 0; i < len; ++i)
    if (text[i] == '\0') return dict_error(&d, "NUL byte in the header");
  if (!accept(&d, '{')) return dict_error(&d, "expected '{'");
  int have_descr = 0, have_order = 0, have_shape = 0, fortran = 0;
  char descr[32] = "";
  while (!accept(&d, '}')) {
    char key[32];
    SR_TRY(parse_string(&d, key, sizeof key));
    if (!accept(&d, ':')) return dict_error(&d, "expected ':' after a key");
    int *seen;
    if (strcmp(key, "descr") == 0) {
      seen = &have_descr;
      if (!*seen) SR_TRY(parse_string(&d, descr, sizeof descr));
    } else if (strcmp(key, "fortran_order") == 0) {
      seen = &have_order;
      if (!*seen) SR_TRY(parse_bool(&d, &fortran));
    } else if (strcmp(key, "shape") == 0) {
      seen = &have_shape;
      if (!*seen) SR_TRY(parse_shape(&d, h));
    } else {
      return sr_fail(ctx, SR_ERR_FORMAT, "%s: malformed header dict: unknown key '%s'", name, key);
    }
    if (*seen)
      return sr_fail(ctx, SR_ERR_FORMAT, "%s: malformed header dict: key '%s' appears twice", name,
                     key);
    *seen = 1;
    if (!accept(&d, ',')) {
      if (!accept(&d, '}')) return dict_error(&d, "expected ',' or '}'");
      break;
    }
  }
  skip_spaces(&d);
  if (d.p != d.end) return dict_error(&d, "unexpected text after '}'");
  if (!have_descr || !have_order || !have_shape)
    return sr_fail(ctx, SR_ERR_FORMAT, "%s: malformed header dict: missing '%s'", name,
                   !have_descr   ? "descr"
                   : !have_order ? "fortran_order"
                                 : "shape");
  SR_TRY(parse_descr(ctx, name, descr, &h->dtype));
  /* A 1-D or scalar array reads the same in either order. */
  int nontrivial = 0;
  for (int i = 0; i < h->ndim; ++i) nontrivial += h->shape[i] > 1;
  if (fortran && nontrivial > 1)
    return sr_fail(ctx, SR_ERR_UNSUPPORTED,
                   "%s: Fortran-order arrays are not supported; save "
                   "np.ascontiguousarray(a) instead",
                   name);
  return sr_shape_nbytes(ctx, name, sr_dtype_size(h->dtype), h->ndim, h->shape, &h->nbytes);
}

/* Parses preamble and dict from `bytes`, which holds at least the header
 * (the caller read data_offset bytes, or the whole file). */
static sr_status parse_header(sr_context *ctx, const char *name, const unsigned char *bytes,
                              size_t avail, npy_header *h) {
  memset(h, 0, sizeof *h);
  SR_TRY(parse_preamble(ctx, name, bytes, avail, &h->data_offset));
  if (h->data_offset > avail)
    return sr_fail(ctx, SR_ERR_FORMAT,
                   "%s: truncated header: it claims %zu bytes, the file has %zu", name,
                   h->data_offset, avail);
  size_t start = bytes[6] == 1 ? 10 : 12;
  return parse_dict(ctx, name, (const char *)bytes + start, h->data_offset - start, h);
}

static sr_status check_data_size(sr_context *ctx, const char *name, const npy_header *h,
                                 size_t data_bytes) {
  if (data_bytes < h->nbytes)
    return sr_fail(ctx, SR_ERR_FORMAT,
                   "%s: truncated: expected %zu bytes of data after the header, found %zu", name,
                   h->nbytes, data_bytes);
  if (data_bytes > h->nbytes)
    return sr_fail(ctx, SR_ERR_FORMAT,
                   "%s: %zu bytes of trailing data after the %zu bytes the header describes", name,
                   data_bytes - h->nbytes, h->nbytes);
  return SR_OK;
}

sr_status sr_npy_parse(sr_context *ctx, const char *name, const void *bytes, size_t size,
                       sr_array *out) {
  memset(out, 0, sizeof *out);
  npy_header h;
  SR_TRY(parse_header(ctx, name, (const unsigned char *)bytes, size, &h));
  SR_TRY(check_data_size(ctx, name, &h, size - h.data_offset));
  SR_TRY(sr_array_alloc(ctx, name, h.dtype, h.ndim, h.shape, out));
  if (h.nbytes) memcpy(out->data, (const unsigned char *)bytes + h.data_offset, h.nbytes);
  return SR_OK;
}

/* Reads exactly n bytes at offset; a short read is reported as truncation. */
static sr_status read_at(sr_context *ctx, const char *path, int fd, void *buf, size_t n,
                         off_t offset) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = pread(fd, (char *)buf + got, n - got, offset + (off_t)got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return sr_fail(ctx, SR_ERR_IO, "%s: read failed: %s", path, strerror(errno));
    if (r == 0) return sr_fail(ctx, SR_ERR_FORMAT, "%s: file changed while reading", path);
    got += (size_t)r;
  }
  return SR_OK;
}

/* Reads the header, checks the data size against the file size, then reads
 * the data straight into the array: no second copy of a large file. */
static sr_status read_fd(sr_context *ctx, const char *path, int fd, sr_array *out) {
  struct stat st;
  if (fstat(fd, &st) != 0)
    return sr_fail(ctx, SR_ERR_IO, "%s: cannot stat: %s", path, strerror(errno));
  if (!S_ISREG(st.st_mode)) return sr_fail(ctx, SR_ERR_IO, "%s: not a regular file", path);
  size_t file_size = (size_t)st.st_size;
  unsigned char pre[NPY_PREAMBLE_MAX];
  size_t n = file_size < sizeof pre ? file_size : sizeof pre;
  SR_TRY(read_at(ctx, path, fd, pre, n, 0));
  size_t data_offset = 0;
  SR_TRY(parse_preamble(ctx, path, pre, n, &data_offset));
  size_t head_len = data_offset < file_size ? data_offset : file_size;
  unsigned char *head = (unsigned char *)malloc(head_len ? head_len : 1);
  if (!head) return sr_fail(ctx, SR_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
  npy_header h;
  sr_status s = read_at(ctx, path, fd, head, head_len, 0);
  if (s == SR_OK) s = parse_header(ctx, path, head, head_len, &h);
  free(head);
  SR_TRY(s);
  SR_TRY(check_data_size(ctx, path, &h, file_size - h.data_offset));
  SR_TRY(sr_array_alloc(ctx, path, h.dtype, h.ndim, h.shape, out));
  s = read_at(ctx, path, fd, out->data, h.nbytes, (off_t)h.data_offset);
  if (s != SR_OK) sr_array_free(out);
  return s;
}

sr_status sr_npy_read(sr_context *ctx, const char *path, sr_array *out) {
  memset(out, 0, sizeof *out);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return sr_fail(ctx, SR_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
  sr_status s = read_fd(ctx, path, fd, out);
  close(fd);
  return s;
}

/* ------------------------------------------------ writing */

static const char *descr_of(sr_dtype dtype) {
  switch (dtype) {
  case SR_DTYPE_F32: return "<f4";
  case SR_DTYPE_F64: return "<f8";
  case SR_DTYPE_C64: return "<c8";
  case SR_DTYPE_F16: return "<f2";
  case SR_DTYPE_I16: return "<i2";
  case SR_DTYPE_U8: return "|u1";
  case SR_DTYPE_I32: return "<i4";
  case SR_DTYPE_I64: return "<i8";
  case SR_DTYPE_BF16:
  case SR_DTYPE_COUNT: break;
  }
  return NULL;
}

sr_status sr_npy_write_version(sr_context *ctx, const char *path, const sr_array *a,
                               int major_version) {
  const char *descr = descr_of(a->dtype);
  if (!descr)
    return sr_fail(ctx, SR_ERR_UNSUPPORTED, "%s: %s has no .npy dtype", path,
                   sr_dtype_name(a->dtype));
  if (major_version < 1 || major_version > 3)
    return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT, "%s: .npy version %d does not exist", path,
                   major_version);
  size_t nbytes = 0;
  SR_TRY(sr_shape_nbytes(ctx, path, sr_dtype_size(a->dtype), a->ndim, a->shape, &nbytes));
  if (nbytes != a->nbytes || (nbytes && !a->data))
    return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT, "%s: array holds %zu bytes, its shape needs %zu",
                   path, a->nbytes, nbytes);
  /* NumPy's own spelling, so files diff cleanly against np.save output. */
  char shape[256], dict[400];
  sr_shape_format(shape, sizeof shape, a->ndim, a->shape);
  int dict_len = snprintf(dict, sizeof dict,
                          "{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, shape);
  if (dict_len < 0 || (size_t)dict_len >= sizeof dict)
    return sr_fail(ctx, SR_ERR_INTERNAL, "%s: header does not fit", path);
  /* Pad with spaces and a final newline so the data starts 64-byte aligned. */
  size_t pre = major_version == 1 ? 10 : 12;
  size_t total = pre + (size_t)dict_len + 1;
  total = (total + 63) / 64 * 64;
  unsigned char header[NPY_PREAMBLE_MAX + sizeof dict + 64];
  memcpy(header, NPY_MAGIC, NPY_MAGIC_LEN);
  header[6] = (unsigned char)major_version;
  header[7] = 0;
  size_t hlen = total - pre;
  for (size_t i = 0; i < pre - 8; ++i) header[8 + i] = (unsigned char)(hlen >> (8 * i));
  memcpy(header + pre, dict, (size_t)dict_len);
  memset(header + pre + dict_len, ' ', total - pre - (size_t)dict_len - 1);
  header[total - 1] = '\n';

  sr_atomic_file f;
  SR_TRY(sr_atomic_open(ctx, path, 0, &f));
  sr_atomic_write(&f, header, total);
  sr_atomic_write(&f, a->data, nbytes);
  return sr_atomic_commit(&f);
}

sr_status sr_npy_write(sr_context *ctx, const char *path, const sr_array *a) {
  return sr_npy_write_version(ctx, path, a, 1);
}
