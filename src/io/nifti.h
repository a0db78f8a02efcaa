/* NIfTI-1 single files (.nii, .nii.gz): our own small reader and writer.
 *
 * Why not Debian's libnifti (nifti_io): we need one header layout, zlib and
 * a few dtypes, while that library brings its own allocation and error
 * printing to stderr, and trusts header fields we must validate (sizes that
 * overflow, vox_offset past the data, datatype/bitpix disagreements, gzip
 * streams that decompress far beyond what the header describes). A 348-byte
 * header is easier to check field by field ourselves than to harden another
 * library's reader. Field layout: nifti1.h of the NIfTI-1 standard.
 *
 * Reading accepts uint8, int8, int16, uint16, int32, uint32, int64, uint64,
 * float32 and float64 voxels (little- or big-endian files), applies
 * scl_slope / scl_inter (slope 0 or non-finite: no scaling) and returns
 * float32. The array is C order with the NIfTI dimensions reversed: a file
 * with dim = (3, X, Y, Z) gives shape (Z, Y, X), so that x varies fastest
 * in memory, exactly as in the file. Writing produces float32 or int16
 * (scaled), little-endian, vox_offset 352, no extensions. */
#ifndef SR_IO_NIFTI_H
#define SR_IO_NIFTI_H

#include <stdint.h>

#include "io/array.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SR_NIFTI_HEADER_SIZE 348

/* NIfTI-1 datatype codes we read (nifti1.h's DT_* values). */
enum {
  SR_NIFTI_UINT8 = 2,
  SR_NIFTI_INT16 = 4,
  SR_NIFTI_INT32 = 8,
  SR_NIFTI_FLOAT32 = 16,
  SR_NIFTI_FLOAT64 = 64,
  SR_NIFTI_INT8 = 256,
  SR_NIFTI_UINT16 = 512,
  SR_NIFTI_UINT32 = 768,
  SR_NIFTI_INT64 = 1024,
  SR_NIFTI_UINT64 = 1280
};

/* The header fields, in host byte order. Strings are NUL-terminated copies. */
typedef struct sr_nifti_header {
  int16_t dim[8];  /* dim[0] = number of dimensions (1..7) */
  float pixdim[8]; /* pixdim[0] = qfac (+1 or -1) */
  int16_t datatype, bitpix;
  float vox_offset;
  float scl_slope, scl_inter;
  int16_t qform_code, sform_code;
  float quatern_b, quatern_c, quatern_d;
  float qoffset_x, qoffset_y, qoffset_z;
  float srow_x[4], srow_y[4], srow_z[4];
  uint8_t dim_info, xyzt_units, slice_code;
  int16_t intent_code, slice_start, slice_end;
  float intent_p1, intent_p2, intent_p3;
  float cal_max, cal_min, slice_duration, toffset;
  char descrip[81];
  char aux_file[25];
  char intent_name[17];
  int byte_swapped; /* the file was big-endian (read only) */
} sr_nifti_header;

/* A header with no geometry: unit pixdim, qform/sform codes 0 (unknown). */
void sr_nifti_header_init(sr_nifti_header *hdr);

/* Decodes and validates the first 348 bytes of a file (either byte order):
 * sizeof_hdr, magic "n+1", dim, datatype/bitpix, vox_offset. */
sr_status sr_nifti_parse_header(sr_context *ctx, const char *name, const void *bytes348,
                                sr_nifti_header *hdr);

/* Encodes hdr as a little-endian 348-byte header with magic "n+1"
 * (sizeof_hdr, regular and the unused ANALYZE fields are filled in). */
void sr_nifti_encode_header(const sr_nifti_header *hdr, unsigned char out[348]);

/* Reads a .nii or .nii.gz (by content, not name) into a float32 array with
 * scaling applied; hdr (may be NULL) receives the header. A gzip stream is
 * read to its end to verify its CRC, but at most 64 KiB past the bytes the
 * header implies: a stream that goes on is refused, not decompressed. */
sr_status sr_nifti_read(sr_context *ctx, const char *path, sr_nifti_header *hdr, sr_array *out);

/* Writes `image` (float32, 1..7 dimensions, C order as sr_nifti_read returns)
 * as datatype float32 or int16 (file_dtype SR_DTYPE_F32 or SR_DTYPE_I16),
 * gzip-compressed when path ends in ".gz", atomically. Geometry (pixdim,
 * qform/sform, units, descrip, intent, cal) comes from `geometry` (NULL: none);
 * dim, datatype, bitpix, vox_offset and scaling are set here. int16 output
 * stores integral data within range exactly (slope 1, inter 0) and otherwise
 * maps [min, max] linearly onto [-32767, 32767]; NaN or Inf is refused. */
sr_status sr_nifti_write(sr_context *ctx, const char *path, const sr_nifti_header *geometry,
                         const sr_array *image, sr_dtype file_dtype);

/* "uint8", "float32", ... or "unknown". */
const char *sr_nifti_datatype_name(int datatype);

#ifdef __cplusplus
}
#endif

#endif
