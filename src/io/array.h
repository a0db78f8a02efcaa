/* A host n-d array: what every reader returns and every writer takes, plus
 * the size arithmetic all readers share. Sizes come from untrusted headers,
 * so every product of dimensions is checked for overflow and against a
 * per-array limit before anything is allocated. */
#ifndef SR_IO_ARRAY_H
#define SR_IO_ARRAY_H

#include <stddef.h>
#include <stdint.h>

#include "scorerecon.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Readers copy little-endian file data with memcpy. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "scorerecon's file readers assume a little-endian host"
#endif

#define SR_ARRAY_MAX_DIMS 8
/* No single array may exceed this; a header claiming more is malformed or
 * hostile, and refusing early keeps a 100-byte file from asking for 1 TB. */
#define SR_ARRAY_MAX_BYTES ((uint64_t)16 << 30)

/* C order: the last dimension varies fastest. data is malloc'ed (never NULL
 * after a successful read, even for zero elements) and owned by the array. */
typedef struct sr_array {
  sr_dtype dtype;
  int ndim; /* 0 (a scalar) .. SR_ARRAY_MAX_DIMS */
  int64_t shape[SR_ARRAY_MAX_DIMS];
  void *data;
  size_t nbytes;
} sr_array;

/* Frees the data and zeroes the struct; safe on a zeroed or freed array. */
void sr_array_free(sr_array *a);

/* Product of the shape (1 for a scalar). The array must be valid. */
int64_t sr_array_numel(const sr_array *a);

/* Allocates a zero-filled array after checking the shape with
 * sr_shape_nbytes. `what` names the array in messages (e.g. a file path). */
sr_status sr_array_alloc(sr_context *ctx, const char *what, sr_dtype dtype, int ndim,
                         const int64_t *shape, sr_array *out);

/* a * b into *out; returns 1 (and leaves *out alone) when it overflows. */
int sr_mul_overflows_u64(uint64_t a, uint64_t b, uint64_t *out);

/* Bytes of a C-order array of `elem_size`-byte elements with this shape:
 * rejects ndim outside 0..SR_ARRAY_MAX_DIMS, negative dimensions, products
 * that overflow and totals above SR_ARRAY_MAX_BYTES (SR_ERR_FORMAT, since
 * shapes come from files). `what` names the file in the message. */
sr_status sr_shape_nbytes(sr_context *ctx, const char *what, size_t elem_size, int ndim,
                          const int64_t *shape, size_t *nbytes);

/* Writes "(2, 3, 4)" (Python's tuple spelling, "(5,)" for one dimension)
 * into buf; truncates safely. Returns buf. */
char *sr_shape_format(char *buf, size_t size, int ndim, const int64_t *shape);

/* IEEE half and bfloat16 to float (exact: every value is representable). */
float sr_half_to_float(uint16_t h);
float sr_bf16_to_float(uint16_t b);

/* Element i of a real-valued array as double (C64 gives the real part). */
double sr_array_get(const sr_array *a, size_t i);

/* A new float32 array with the same shape and every value converted
 * (float64 is rounded; complex64 is refused with SR_ERR_UNSUPPORTED). */
sr_status sr_array_to_f32(sr_context *ctx, const char *what, const sr_array *in, sr_array *out);

#ifdef __cplusplus
}
#endif

#endif
