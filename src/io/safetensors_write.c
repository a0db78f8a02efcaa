#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "io/atomic_write.h"
#include "io/json.h"
#include "io/safetensors.h"

/* A growing text buffer for the JSON header. */
typedef struct text {
  char *s;
  size_t len, cap;
  int failed;
} text;

static void append(text *t, const char *s) {
  size_t n = strlen(s);
  if (t->failed) return;
  if (t->len + n + 1 > t->cap) {
    size_t cap = t->cap ? t->cap : 256;
    while (cap < t->len + n + 1) cap *= 2;
    char *p = (char *)realloc(t->s, cap);
    if (!p) {
      t->failed = 1;
      return;
    }
    t->s = p;
    t->cap = cap;
  }
  memcpy(t->s + t->len, s, n + 1);
  t->len += n;
}

static void append_quoted(text *t, const char *s) {
  char *q = sr_json_quote(s);
  if (!q) {
    t->failed = 1;
    return;
  }
  append(t, q);
  free(q);
}

static sr_status check_inputs(sr_context *ctx, const char *path, const sr_st_write_tensor *ts,
                              size_t n, const sr_st_metadata *meta, size_t n_meta, size_t *nbytes) {
  for (size_t i = 0; i < n; ++i) {
    const sr_st_write_tensor *t = &ts[i];
    if (!t->name || !*t->name || strcmp(t->name, "__metadata__") == 0)
      return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT, "%s: tensor %zu has an invalid name", path, i);
    for (size_t k = 0; k < i; ++k)
      if (strcmp(ts[k].name, t->name) == 0)
        return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT, "%s: tensor name '%s' appears twice", path,
                       t->name);
    if (sr_st_dtype_size(t->dtype) == 0)
      return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT, "%s: tensor '%s' has an invalid dtype", path,
                     t->name);
    SR_TRY(sr_shape_nbytes(ctx, path, sr_st_dtype_size(t->dtype), t->ndim, t->shape, &nbytes[i]));
    if (nbytes[i] && !t->data)
      return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT, "%s: tensor '%s' has no data", path, t->name);
  }
  for (size_t i = 0; i < n_meta; ++i) {
    if (!meta[i].key || !meta[i].value)
      return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT, "%s: metadata entry %zu is incomplete", path, i);
    for (size_t k = 0; k < i; ++k)
      if (strcmp(meta[k].key, meta[i].key) == 0)
        return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT, "%s: metadata key '%s' appears twice", path,
                       meta[i].key);
  }
  return SR_OK;
}

/* Largest element size first keeps every tensor aligned to its own size,
 * since the data section itself starts 8-byte aligned. */
static void layout_order(const sr_st_write_tensor *ts, size_t n, size_t *order) {
  size_t k = 0;
  for (size_t size = 8; size >= 1; size /= 2)
    for (size_t i = 0; i < n; ++i)
      if (sr_st_dtype_size(ts[i].dtype) == size) order[k++] = i;
}

static void header_json(text *h, const sr_st_write_tensor *ts, size_t n, const size_t *order,
                        const size_t *nbytes, const sr_st_metadata *meta, size_t n_meta) {
  char num[64];
  append(h, "{");
  if (n_meta) {
    append(h, "\"__metadata__\":{");
    for (size_t i = 0; i < n_meta; ++i) {
      if (i) append(h, ",");
      append_quoted(h, meta[i].key);
      append(h, ":");
      append_quoted(h, meta[i].value);
    }
    append(h, "}");
  }
  uint64_t offset = 0;
  for (size_t k = 0; k < n; ++k) {
    const sr_st_write_tensor *t = &ts[order[k]];
    if (n_meta || k) append(h, ",");
    append_quoted(h, t->name);
    append(h, ":{\"dtype\":\"");
    append(h, sr_st_dtype_name(t->dtype));
    append(h, "\",\"shape\":[");
    for (int d = 0; d < t->ndim; ++d) {
      snprintf(num, sizeof num, d ? ",%lld" : "%lld", (long long)t->shape[d]);
      append(h, num);
    }
    snprintf(num, sizeof num, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)offset,
             (unsigned long long)(offset + nbytes[order[k]]));
    append(h, num);
    offset += nbytes[order[k]];
  }
  append(h, "}");
  while ((8 + h->len) % 8 != 0) append(h, " ");
}

sr_status sr_safetensors_write(sr_context *ctx, const char *path, const sr_st_write_tensor *tensors,
                               size_t n_tensors, const sr_st_metadata *metadata,
                               size_t n_metadata) {
  size_t *nbytes = (size_t *)calloc(n_tensors + 1, sizeof *nbytes);
  size_t *order = (size_t *)calloc(n_tensors + 1, sizeof *order);
  text h = {0};
  sr_status s = SR_OK;
  if (!nbytes || !order) s = sr_fail(ctx, SR_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
  if (s == SR_OK) s = check_inputs(ctx, path, tensors, n_tensors, metadata, n_metadata, nbytes);
  if (s == SR_OK) {
    layout_order(tensors, n_tensors, order);
    header_json(&h, tensors, n_tensors, order, nbytes, metadata, n_metadata);
    if (h.failed)
      s = sr_fail(ctx, SR_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
    else if (h.len > SR_SAFETENSORS_MAX_HEADER)
      s = sr_fail(ctx, SR_ERR_INVALID_ARGUMENT, "%s: header exceeds the 100 MB limit", path);
  }
  sr_atomic_file f;
  if (s == SR_OK) s = sr_atomic_open(ctx, path, 0, &f);
  if (s == SR_OK) {
    unsigned char len[8];
    for (int i = 0; i < 8; ++i) len[i] = (unsigned char)((uint64_t)h.len >> (8 * i));
    sr_atomic_write(&f, len, sizeof len);
    sr_atomic_write(&f, h.s, h.len);
    for (size_t k = 0; k < n_tensors; ++k)
      sr_atomic_write(&f, tensors[order[k]].data, nbytes[order[k]]);
    s = sr_atomic_commit(&f);
  }
  free(h.s);
  free(nbytes);
  free(order);
  return s;
}
