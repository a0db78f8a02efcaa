/* safetensors files (the format of huggingface/safetensors): an 8-byte
 * little-endian header length N, N bytes of JSON header, then the data.
 * Opening memory-maps the file read-only and validates all of it before
 * anything is returned: the header length lies within the file and below
 * 100 MB, the header is a JSON object, every tensor has a known dtype, a
 * shape of non-negative integers and data_offsets [begin, end] inside the
 * data section whose length is exactly dtype size x elements, and the
 * tensors tile the data section exactly, as the format requires (no overlap,
 * no gap, nothing after the last). `__metadata__`, when present, must map
 * strings to strings. Keys of a tensor entry other than dtype, shape and
 * data_offsets are ignored, as the reference implementation does. */
#ifndef SR_IO_SAFETENSORS_H
#define SR_IO_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "io/array.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SR_SAFETENSORS_MAX_HEADER 100000000u

/* The format's dtypes; more than sr_dtype has, since files may hold them. */
typedef enum sr_st_dtype {
  SR_ST_BOOL,
  SR_ST_U8,
  SR_ST_I8,
  SR_ST_F8_E5M2,
  SR_ST_F8_E4M3,
  SR_ST_I16,
  SR_ST_U16,
  SR_ST_F16,
  SR_ST_BF16,
  SR_ST_I32,
  SR_ST_U32,
  SR_ST_F32,
  SR_ST_F64,
  SR_ST_I64,
  SR_ST_U64,
  SR_ST_DTYPE_COUNT
} sr_st_dtype;

/* The format's spelling ("F32") and the element size in bytes. */
const char *sr_st_dtype_name(sr_st_dtype dtype);
size_t sr_st_dtype_size(sr_st_dtype dtype);
/* 1 and *out set when the dtype has an sr_dtype twin (F32, F64, F16, BF16,
 * I16, U8, I32, I64), else 0. */
int sr_st_dtype_to_sr(sr_st_dtype dtype, sr_dtype *out);

typedef struct sr_st_tensor {
  const char *name;
  sr_st_dtype dtype;
  int ndim;
  int64_t shape[SR_ARRAY_MAX_DIMS];
  /* Into the mapping; valid until close. Aligned to the element size when
   * the writer aligned it (ours and the reference one do), not otherwise:
   * copy with memcpy when in doubt. */
  const void *data;
  size_t nbytes;
  uint64_t offset; /* from the start of the data section */
} sr_st_tensor;

typedef struct sr_safetensors sr_safetensors;

sr_status sr_safetensors_open(sr_context *ctx, const char *path, sr_safetensors **out);
/* Validates a file image in memory, which must outlive the handle. */
sr_status sr_safetensors_open_memory(sr_context *ctx, const char *name, const void *bytes,
                                     size_t size, sr_safetensors **out);
void sr_safetensors_close(sr_safetensors *st);

/* Tensors in data order (their order in the file). */
size_t sr_safetensors_count(const sr_safetensors *st);
const sr_st_tensor *sr_safetensors_tensor(const sr_safetensors *st, size_t i);
/* By name (binary search); NULL when absent. */
const sr_st_tensor *sr_safetensors_find(const sr_safetensors *st, const char *name);

/* `__metadata__` entries in file order, and lookup by key (NULL if absent). */
size_t sr_safetensors_metadata_count(const sr_safetensors *st);
void sr_safetensors_metadata_at(const sr_safetensors *st, size_t i, const char **key,
                                const char **value);
const char *sr_safetensors_metadata(const sr_safetensors *st, const char *key);

/* ------------------------------------------------ writing */

typedef struct sr_st_write_tensor {
  const char *name;
  sr_st_dtype dtype;
  int ndim;
  const int64_t *shape;
  const void *data; /* dtype size x elements bytes */
} sr_st_write_tensor;

typedef struct sr_st_metadata {
  const char *key;
  const char *value;
} sr_st_metadata;

/* Writes tensors and metadata atomically. Tensors are laid out by element
 * size, largest first (then in the given order), so every tensor is aligned
 * to its element size; the header is padded with spaces to a multiple of 8.
 * Names must be unique, non-empty and not "__metadata__"; keys unique. */
sr_status sr_safetensors_write(sr_context *ctx, const char *path, const sr_st_write_tensor *tensors,
                               size_t n_tensors, const sr_st_metadata *metadata, size_t n_metadata);

#ifdef __cplusplus
}
#endif

#endif
