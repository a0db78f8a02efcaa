/* NumPy .npy files (format spec: numpy.lib.format). Reads versions 1.0, 2.0
 * and 3.0, writes 1.0 (2.0 on request). Little-endian ('<', or '|' for
 * single bytes) C-order arrays of float32, float64, complex64, float16,
 * int16, uint8, int32 and int64. Everything else (big-endian, Fortran order,
 * structured or object dtypes) is refused with a message saying what to do.
 * The header dict is parsed strictly: exactly the keys descr, fortran_order
 * and shape, in any order, trailing comma allowed, and the data must fill
 * the rest of the file exactly. */
#ifndef SR_IO_NPY_H
#define SR_IO_NPY_H

#include <stddef.h>

#include "io/array.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Reads `path` into *out (zeroed on failure). */
sr_status sr_npy_read(sr_context *ctx, const char *path, sr_array *out);

/* Parses an .npy image held in memory; `name` is used in messages. */
sr_status sr_npy_parse(sr_context *ctx, const char *name, const void *bytes, size_t size,
                       sr_array *out);

/* Writes a as a version 1.0 file (atomically). bfloat16 has no NumPy dtype
 * and is refused. */
sr_status sr_npy_write(sr_context *ctx, const char *path, const sr_array *a);

/* As sr_npy_write with an explicit format version: 1, 2 or 3 (3 differs from
 * 2 only in allowing UTF-8 in the header, which we never need). */
sr_status sr_npy_write_version(sr_context *ctx, const char *path, const sr_array *a,
                               int major_version);

#ifdef __cplusplus
}
#endif

#endif
