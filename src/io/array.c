#include "io/array.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

void sr_array_free(sr_array *a) {
  if (!a) return;
  free(a->data);
  memset(a, 0, sizeof *a);
}

int64_t sr_array_numel(const sr_array *a) {
  int64_t n = 1;
  for (int i = 0; i < a->ndim; ++i) n *= a->shape[i];
  return n;
}

int sr_mul_overflows_u64(uint64_t a, uint64_t b, uint64_t *out) {
  if (a != 0 && b > UINT64_MAX / a) return 1;
  *out = a * b;
  return 0;
}

char *sr_shape_format(char *buf, size_t size, int ndim, const int64_t *shape) {
  if (size == 0) return buf;
  size_t used = 0;
  buf[0] = '\0';
#define SR_APPEND(...)                                                                             \
  do {                                                                                             \
    if (used < size) {                                                                             \
      int n_ = snprintf(buf + used, size - used, __VA_ARGS__);                                     \
      if (n_ > 0) used += (size_t)n_;                                                              \
    }                                                                                              \
  } while (0)
  SR_APPEND("(");
  for (int i = 0; i < ndim; ++i) SR_APPEND(i ? ", %lld" : "%lld", (long long)shape[i]);
  SR_APPEND(ndim == 1 ? ",)" : ")");
#undef SR_APPEND
  return buf;
}

sr_status sr_shape_nbytes(sr_context *ctx, const char *what, size_t elem_size, int ndim,
                          const int64_t *shape, size_t *nbytes) {
  if (ndim < 0 || ndim > SR_ARRAY_MAX_DIMS)
    return sr_fail(ctx, SR_ERR_FORMAT, "%s: %d dimensions (at most %d are supported)", what, ndim,
                   SR_ARRAY_MAX_DIMS);
  uint64_t total = elem_size;
  int overflow = 0;
  for (int i = 0; i < ndim; ++i) {
    if (shape[i] < 0)
      return sr_fail(ctx, SR_ERR_FORMAT, "%s: dimension %d is negative (%lld)", what, i,
                     (long long)shape[i]);
    /* Keep multiplying after an overflow only to finish the negativity
     * checks; the total is meaningless then. */
    if (!overflow) overflow = sr_mul_overflows_u64(total, (uint64_t)shape[i], &total);
  }
  if (overflow || total > SR_ARRAY_MAX_BYTES) {
    char buf[256];
    return sr_fail(ctx, SR_ERR_FORMAT,
                   "%s: shape %s of %zu-byte elements exceeds the limit of %llu GiB per array",
                   what, sr_shape_format(buf, sizeof buf, ndim, shape), elem_size,
                   (unsigned long long)(SR_ARRAY_MAX_BYTES >> 30));
  }
  if (total > SIZE_MAX)
    return sr_fail(ctx, SR_ERR_UNSUPPORTED, "%s: array too large for this platform", what);
  *nbytes = (size_t)total;
  return SR_OK;
}

sr_status sr_array_alloc(sr_context *ctx, const char *what, sr_dtype dtype, int ndim,
                         const int64_t *shape, sr_array *out) {
  memset(out, 0, sizeof *out);
  size_t elem = sr_dtype_size(dtype);
  if (elem == 0) return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT, "%s: unknown dtype %d", what, dtype);
  size_t nbytes = 0;
  SR_TRY(sr_shape_nbytes(ctx, what, elem, ndim, shape, &nbytes));
  /* One byte for empty arrays so data is never NULL after success. */
  void *data = calloc(nbytes ? nbytes : 1, 1);
  if (!data)
    return sr_fail(ctx, SR_ERR_OUT_OF_MEMORY, "%s: cannot allocate %zu bytes", what, nbytes);
  out->dtype = dtype;
  out->ndim = ndim;
  for (int i = 0; i < ndim; ++i) out->shape[i] = shape[i];
  out->data = data;
  out->nbytes = nbytes;
  return SR_OK;
}

static float float_from_bits(uint32_t bits) {
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}

float sr_half_to_float(uint16_t h) {
  uint32_t sign = (uint32_t)(h >> 15) << 31;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  if (exp == 0x1f) return float_from_bits(sign | 0x7f800000u | (mant << 13)); /* inf, NaN */
  if (exp != 0) return float_from_bits(sign | ((exp + 112u) << 23) | (mant << 13));
  if (mant == 0) return float_from_bits(sign); /* signed zero */
  /* Subnormal half: shift the mantissa up until its leading one is the
   * implicit bit of a normal float. */
  int e = -14;
  while (!(mant & 0x400u)) {
    mant <<= 1;
    --e;
  }
  mant &= 0x3ffu;
  return float_from_bits(sign | ((uint32_t)(e + 127) << 23) | (mant << 13));
}

float sr_bf16_to_float(uint16_t b) {
  return float_from_bits((uint32_t)b << 16);
}

double sr_array_get(const sr_array *a, size_t i) {
  const unsigned char *p = (const unsigned char *)a->data + i * sr_dtype_size(a->dtype);
  switch (a->dtype) {
  case SR_DTYPE_F32:
  case SR_DTYPE_C64: {
    float v;
    memcpy(&v, p, sizeof v);
    return v;
  }
  case SR_DTYPE_F64: {
    double v;
    memcpy(&v, p, sizeof v);
    return v;
  }
  case SR_DTYPE_F16:
  case SR_DTYPE_BF16: {
    uint16_t v;
    memcpy(&v, p, sizeof v);
    return a->dtype == SR_DTYPE_F16 ? sr_half_to_float(v) : sr_bf16_to_float(v);
  }
  case SR_DTYPE_I16: {
    int16_t v;
    memcpy(&v, p, sizeof v);
    return v;
  }
  case SR_DTYPE_U8: return *p;
  case SR_DTYPE_I32: {
    int32_t v;
    memcpy(&v, p, sizeof v);
    return v;
  }
  case SR_DTYPE_I64: {
    int64_t v;
    memcpy(&v, p, sizeof v);
    return (double)v;
  }
  case SR_DTYPE_COUNT: break;
  }
  return 0.0;
}

sr_status sr_array_to_f32(sr_context *ctx, const char *what, const sr_array *in, sr_array *out) {
  if (in->dtype == SR_DTYPE_C64)
    return sr_fail(ctx, SR_ERR_UNSUPPORTED, "%s: complex64 data cannot be converted to float32",
                   what);
  SR_TRY(sr_array_alloc(ctx, what, SR_DTYPE_F32, in->ndim, in->shape, out));
  float *dst = (float *)out->data;
  size_t n = (size_t)sr_array_numel(in);
  for (size_t i = 0; i < n; ++i) dst[i] = (float)sr_array_get(in, i);
  return SR_OK;
}
