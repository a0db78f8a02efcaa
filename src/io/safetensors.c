/* mmap is POSIX. */
#define _POSIX_C_SOURCE 200809L
#include "io/safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "io/atomic_write.h"
#include "io/json.h"

struct sr_safetensors {
  void *map; /* NULL for a memory image we do not own */
  size_t map_size;
  sr_json *header;
  sr_st_tensor *tensors; /* by offset */
  size_t count;
  size_t *by_name; /* tensor indices sorted by name */
  const sr_json *metadata;
};

static const struct {
  const char *name;
  size_t size;
} st_dtypes[SR_ST_DTYPE_COUNT] = {
    [SR_ST_BOOL] = {"BOOL", 1},       [SR_ST_U8] = {"U8", 1},           [SR_ST_I8] = {"I8", 1},
    [SR_ST_F8_E5M2] = {"F8_E5M2", 1}, [SR_ST_F8_E4M3] = {"F8_E4M3", 1}, [SR_ST_I16] = {"I16", 2},
    [SR_ST_U16] = {"U16", 2},         [SR_ST_F16] = {"F16", 2},         [SR_ST_BF16] = {"BF16", 2},
    [SR_ST_I32] = {"I32", 4},         [SR_ST_U32] = {"U32", 4},         [SR_ST_F32] = {"F32", 4},
    [SR_ST_F64] = {"F64", 8},         [SR_ST_I64] = {"I64", 8},         [SR_ST_U64] = {"U64", 8},
};

const char *sr_st_dtype_name(sr_st_dtype dtype) {
  return (unsigned)dtype < SR_ST_DTYPE_COUNT ? st_dtypes[dtype].name : "unknown";
}

size_t sr_st_dtype_size(sr_st_dtype dtype) {
  return (unsigned)dtype < SR_ST_DTYPE_COUNT ? st_dtypes[dtype].size : 0;
}

int sr_st_dtype_to_sr(sr_st_dtype dtype, sr_dtype *out) {
  switch (dtype) {
  case SR_ST_F32: *out = SR_DTYPE_F32; return 1;
  case SR_ST_F64: *out = SR_DTYPE_F64; return 1;
  case SR_ST_F16: *out = SR_DTYPE_F16; return 1;
  case SR_ST_BF16: *out = SR_DTYPE_BF16; return 1;
  case SR_ST_I16: *out = SR_DTYPE_I16; return 1;
  case SR_ST_U8: *out = SR_DTYPE_U8; return 1;
  case SR_ST_I32: *out = SR_DTYPE_I32; return 1;
  case SR_ST_I64: *out = SR_DTYPE_I64; return 1;
  default: return 0;
  }
}

static int dtype_from_name(const char *name, sr_st_dtype *out) {
  for (int i = 0; i < SR_ST_DTYPE_COUNT; ++i) {
    if (strcmp(name, st_dtypes[i].name) == 0) {
      *out = (sr_st_dtype)i;
      return 1;
    }
  }
  return 0;
}

void sr_safetensors_close(sr_safetensors *st) {
  if (!st) return;
  if (st->map) munmap(st->map, st->map_size);
  sr_json_free(st->header);
  free(st->tensors);
  free(st->by_name);
  free(st);
}

/* ------------------------------------------------ validation */

static sr_status check_metadata(sr_context *ctx, const char *name, const sr_json *meta) {
  if (sr_json_kind(meta) != SR_JSON_OBJECT)
    return sr_fail(ctx, SR_ERR_FORMAT, "%s: __metadata__ is not an object (found %s)", name,
                   sr_json_type_name(sr_json_kind(meta)));
  for (size_t i = 0; i < sr_json_count(meta); ++i) {
    const sr_json *v = sr_json_at(meta, i);
    if (sr_json_kind(v) != SR_JSON_STRING)
      return sr_fail(ctx, SR_ERR_FORMAT, "%s: __metadata__[\"%s\"] is not a string (found %s)",
                     name, sr_json_key_at(meta, i), sr_json_type_name(sr_json_kind(v)));
  }
  return SR_OK;
}

/* Reads one tensor entry; data_size bounds its offsets. */
static sr_status parse_tensor(sr_context *ctx, const char *file, const char *name,
                              const sr_json *entry, const unsigned char *data, uint64_t data_size,
                              sr_st_tensor *t) {
  memset(t, 0, sizeof *t);
  t->name = name;
  if (sr_json_kind(entry) != SR_JSON_OBJECT)
    return sr_fail(ctx, SR_ERR_FORMAT, "%s: tensor '%s' is not an object (found %s)", file, name,
                   sr_json_type_name(sr_json_kind(entry)));
  const char *dtype = sr_json_as_string(sr_json_get(entry, "dtype"));
  if (!dtype) return sr_fail(ctx, SR_ERR_FORMAT, "%s: tensor '%s' has no dtype string", file, name);
  if (!dtype_from_name(dtype, &t->dtype))
    return sr_fail(ctx, SR_ERR_UNSUPPORTED, "%s: tensor '%s' has unknown dtype '%s'", file, name,
                   dtype);

  const sr_json *shape = sr_json_get(entry, "shape");
  if (sr_json_kind(shape) != SR_JSON_ARRAY)
    return sr_fail(ctx, SR_ERR_FORMAT, "%s: tensor '%s' has no shape array", file, name);
  if (sr_json_count(shape) > SR_ARRAY_MAX_DIMS)
    return sr_fail(ctx, SR_ERR_UNSUPPORTED, "%s: tensor '%s' has %zu dimensions (at most %d)", file,
                   name, sr_json_count(shape), SR_ARRAY_MAX_DIMS);
  t->ndim = (int)sr_json_count(shape);
  for (int d = 0; d < t->ndim; ++d) {
    if (!sr_json_as_int64(sr_json_at(shape, (size_t)d), &t->shape[d]) || t->shape[d] < 0)
      return sr_fail(ctx, SR_ERR_FORMAT, "%s: tensor '%s': shape[%d] is not a non-negative integer",
                     file, name, d);
  }

  const sr_json *offsets = sr_json_get(entry, "data_offsets");
  int64_t begin, end;
  if (sr_json_kind(offsets) != SR_JSON_ARRAY || sr_json_count(offsets) != 2 ||
      !sr_json_as_int64(sr_json_at(offsets, 0), &begin) ||
      !sr_json_as_int64(sr_json_at(offsets, 1), &end) || begin < 0 || end < 0)
    return sr_fail(ctx, SR_ERR_FORMAT,
                   "%s: tensor '%s': data_offsets must be [begin, end] with non-negative "
                   "integers",
                   file, name);
  if (begin > end)
    return sr_fail(ctx, SR_ERR_FORMAT, "%s: tensor '%s': data_offsets begin %lld > end %lld", file,
                   name, (long long)begin, (long long)end);
  if ((uint64_t)end > data_size)
    return sr_fail(ctx, SR_ERR_FORMAT,
                   "%s: tensor '%s': data_offsets end %lld is beyond the data section (%llu "
                   "bytes)",
                   file, name, (long long)end, (unsigned long long)data_size);
  char what[512];
  snprintf(what, sizeof what, "%s: tensor '%s'", file, name);
  size_t nbytes = 0;
  SR_TRY(sr_shape_nbytes(ctx, what, sr_st_dtype_size(t->dtype), t->ndim, t->shape, &nbytes));
  if ((uint64_t)nbytes != (uint64_t)(end - begin)) {
    char shp[256];
    return sr_fail(ctx, SR_ERR_FORMAT, "%s: %s %s needs %zu bytes but data_offsets span %lld", what,
                   dtype, sr_shape_format(shp, sizeof shp, t->ndim, t->shape), nbytes,
                   (long long)(end - begin));
  }
  t->offset = (uint64_t)begin;
  t->nbytes = nbytes;
  t->data = data + begin;
  return SR_OK;
}

static int by_offset(const void *a, const void *b) {
  const sr_st_tensor *x = (const sr_st_tensor *)a, *y = (const sr_st_tensor *)b;
  uint64_t xe = x->offset + x->nbytes, ye = y->offset + y->nbytes;
  if (x->offset != y->offset) return x->offset < y->offset ? -1 : 1;
  return xe < ye ? -1 : xe > ye;
}

/* The format forbids holes and overlaps (so a file cannot carry hidden
 * payloads) and requires the tensors to cover the whole data section. */
static sr_status check_tiling(sr_context *ctx, const char *file, const sr_st_tensor *t, size_t n,
                              uint64_t data_size) {
  uint64_t pos = 0;
  for (size_t i = 0; i < n; ++i) {
    if (t[i].offset < pos)
      return sr_fail(
          ctx, SR_ERR_FORMAT, "%s: tensors '%s' [%llu, %llu) and '%s' [%llu, %llu) overlap", file,
          t[i - 1].name, (unsigned long long)t[i - 1].offset,
          (unsigned long long)(t[i - 1].offset + t[i - 1].nbytes), t[i].name,
          (unsigned long long)t[i].offset, (unsigned long long)(t[i].offset + t[i].nbytes));
    if (t[i].offset > pos)
      return sr_fail(ctx, SR_ERR_FORMAT,
                     "%s: %llu unused bytes in the data section before tensor '%s'", file,
                     (unsigned long long)(t[i].offset - pos), t[i].name);
    pos = t[i].offset + t[i].nbytes;
  }
  if (pos != data_size)
    return sr_fail(ctx, SR_ERR_FORMAT,
                   "%s: %llu bytes of data after the last tensor (the data section has %llu, "
                   "tensors use %llu)",
                   file, (unsigned long long)(data_size - pos), (unsigned long long)data_size,
                   (unsigned long long)pos);
  return SR_OK;
}

typedef struct name_index {
  const char *name;
  size_t index;
} name_index;

static int by_name(const void *a, const void *b) {
  return strcmp(((const name_index *)a)->name, ((const name_index *)b)->name);
}

/* Fills st->by_name; the JSON parser already refused duplicate keys, so
 * names are unique. */
static sr_status index_names(sr_context *ctx, const char *file, sr_safetensors *st) {
  name_index *tmp = (name_index *)malloc((st->count ? st->count : 1) * sizeof *tmp);
  if (!tmp) return sr_fail(ctx, SR_ERR_OUT_OF_MEMORY, "%s: out of memory", file);
  for (size_t i = 0; i < st->count; ++i) tmp[i] = (name_index){st->tensors[i].name, i};
  qsort(tmp, st->count, sizeof *tmp, by_name);
  for (size_t i = 0; i < st->count; ++i) st->by_name[i] = tmp[i].index;
  free(tmp);
  return SR_OK;
}

static sr_status build_tensors(sr_context *ctx, const char *file, sr_safetensors *st,
                               const unsigned char *data, uint64_t data_size) {
  const sr_json *h = st->header;
  size_t members = sr_json_count(h);
  st->tensors = (sr_st_tensor *)calloc(members ? members : 1, sizeof *st->tensors);
  st->by_name = (size_t *)calloc(members ? members : 1, sizeof *st->by_name);
  if (!st->tensors || !st->by_name)
    return sr_fail(ctx, SR_ERR_OUT_OF_MEMORY, "%s: out of memory", file);
  for (size_t i = 0; i < members; ++i) {
    const char *key = sr_json_key_at(h, i);
    if (strcmp(key, "__metadata__") == 0) {
      SR_TRY(check_metadata(ctx, file, sr_json_at(h, i)));
      st->metadata = sr_json_at(h, i);
      continue;
    }
    SR_TRY(
        parse_tensor(ctx, file, key, sr_json_at(h, i), data, data_size, &st->tensors[st->count++]));
  }
  qsort(st->tensors, st->count, sizeof *st->tensors, by_offset);
  SR_TRY(check_tiling(ctx, file, st->tensors, st->count, data_size));
  return index_names(ctx, file, st);
}

static sr_status validate(sr_context *ctx, const char *file, const unsigned char *bytes,
                          size_t size, sr_safetensors *st) {
  if (size < 8)
    return sr_fail(ctx, SR_ERR_FORMAT,
                   "%s: file is %zu bytes, shorter than the 8-byte header length", file, size);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = n << 8 | bytes[i];
  if (n > SR_SAFETENSORS_MAX_HEADER) {
    const char *hint = bytes[0] == 'P' && bytes[1] == 'K'
                           ? " (this looks like a zip archive, e.g. a PyTorch checkpoint: "
                             "convert it to safetensors first)"
                           : "";
    return sr_fail(ctx, SR_ERR_FORMAT, "%s: header length %llu exceeds the 100 MB limit%s", file,
                   (unsigned long long)n, hint);
  }
  if (n > size - 8)
    return sr_fail(ctx, SR_ERR_FORMAT,
                   "%s: header length %llu runs past the end of the file (%zu bytes follow "
                   "the length)",
                   file, (unsigned long long)n, size - 8);
  if (n < 2 || bytes[8] != '{')
    return sr_fail(ctx, SR_ERR_FORMAT, "%s: the header does not start with '{'", file);
  SR_TRY(sr_json_parse(ctx, file, (const char *)bytes + 8, (size_t)n, &st->header));
  if (sr_json_kind(st->header) != SR_JSON_OBJECT)
    return sr_fail(ctx, SR_ERR_FORMAT, "%s: the header is not a JSON object (found %s)", file,
                   sr_json_type_name(sr_json_kind(st->header)));
  const unsigned char *data = bytes + 8 + n;
  return build_tensors(ctx, file, st, data, (uint64_t)(size - 8 - n));
}

sr_status sr_safetensors_open_memory(sr_context *ctx, const char *name, const void *bytes,
                                     size_t size, sr_safetensors **out) {
  *out = NULL;
  sr_safetensors *st = (sr_safetensors *)calloc(1, sizeof *st);
  if (!st) return sr_fail(ctx, SR_ERR_OUT_OF_MEMORY, "%s: out of memory", name);
  sr_status s = validate(ctx, name, (const unsigned char *)bytes, size, st);
  if (s != SR_OK) {
    sr_safetensors_close(st);
    return s;
  }
  *out = st;
  return SR_OK;
}

sr_status sr_safetensors_open(sr_context *ctx, const char *path, sr_safetensors **out) {
  *out = NULL;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return sr_fail(ctx, SR_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
  struct stat sb;
  if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
    close(fd);
    return sr_fail(ctx, SR_ERR_IO, "%s: not a regular file", path);
  }
  size_t size = (size_t)sb.st_size;
  if (size < 8) {
    close(fd);
    return sr_fail(ctx, SR_ERR_FORMAT,
                   "%s: file is %zu bytes, shorter than the 8-byte header length", path, size);
  }
  void *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
  int map_errno = errno;
  close(fd); /* the mapping keeps the file open */
  if (map == MAP_FAILED)
    return sr_fail(ctx, SR_ERR_IO, "%s: cannot memory-map: %s", path, strerror(map_errno));
  sr_safetensors *st = (sr_safetensors *)calloc(1, sizeof *st);
  if (!st) {
    munmap(map, size);
    return sr_fail(ctx, SR_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
  }
  st->map = map;
  st->map_size = size;
  sr_status s = validate(ctx, path, (const unsigned char *)map, size, st);
  if (s != SR_OK) {
    sr_safetensors_close(st);
    return s;
  }
  *out = st;
  return SR_OK;
}

/* ------------------------------------------------ queries */

size_t sr_safetensors_count(const sr_safetensors *st) {
  return st->count;
}

const sr_st_tensor *sr_safetensors_tensor(const sr_safetensors *st, size_t i) {
  return i < st->count ? &st->tensors[i] : NULL;
}

const sr_st_tensor *sr_safetensors_find(const sr_safetensors *st, const char *name) {
  size_t lo = 0, hi = st->count;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    const sr_st_tensor *t = &st->tensors[st->by_name[mid]];
    int c = strcmp(t->name, name);
    if (c == 0) return t;
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return NULL;
}

size_t sr_safetensors_metadata_count(const sr_safetensors *st) {
  return sr_json_count(st->metadata);
}

void sr_safetensors_metadata_at(const sr_safetensors *st, size_t i, const char **key,
                                const char **value) {
  *key = sr_json_key_at(st->metadata, i);
  *value = sr_json_as_string(sr_json_at(st->metadata, i));
}

const char *sr_safetensors_metadata(const sr_safetensors *st, const char *key) {
  return sr_json_as_string(sr_json_get(st->metadata, key));
}
