/* The NIfTI-1 header: decoding with validation, and encoding. Offsets are
 * those of struct nifti_1_header in nifti1.h (348 bytes, packed). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "io/nifti.h"

enum {
  OFF_SIZEOF_HDR = 0,
  OFF_REGULAR = 38,
  OFF_DIM_INFO = 39,
  OFF_DIM = 40,
  OFF_INTENT_P1 = 56,
  OFF_INTENT_P2 = 60,
  OFF_INTENT_P3 = 64,
  OFF_INTENT_CODE = 68,
  OFF_DATATYPE = 70,
  OFF_BITPIX = 72,
  OFF_SLICE_START = 74,
  OFF_PIXDIM = 76,
  OFF_VOX_OFFSET = 108,
  OFF_SCL_SLOPE = 112,
  OFF_SCL_INTER = 116,
  OFF_SLICE_END = 120,
  OFF_SLICE_CODE = 122,
  OFF_XYZT_UNITS = 123,
  OFF_CAL_MAX = 124,
  OFF_CAL_MIN = 128,
  OFF_SLICE_DURATION = 132,
  OFF_TOFFSET = 136,
  OFF_DESCRIP = 148,
  OFF_AUX_FILE = 228,
  OFF_QFORM_CODE = 252,
  OFF_SFORM_CODE = 254,
  OFF_QUATERN_B = 256,
  OFF_SROW_X = 280,
  OFF_SROW_Y = 296,
  OFF_SROW_Z = 312,
  OFF_INTENT_NAME = 328,
  OFF_MAGIC = 344
};

static const struct {
  int code, bitpix;
  const char *name;
} datatypes[] = {
    {SR_NIFTI_UINT8, 8, "uint8"},      {SR_NIFTI_INT16, 16, "int16"},
    {SR_NIFTI_INT32, 32, "int32"},     {SR_NIFTI_FLOAT32, 32, "float32"},
    {SR_NIFTI_FLOAT64, 64, "float64"}, {SR_NIFTI_INT8, 8, "int8"},
    {SR_NIFTI_UINT16, 16, "uint16"},   {SR_NIFTI_UINT32, 32, "uint32"},
    {SR_NIFTI_INT64, 64, "int64"},     {SR_NIFTI_UINT64, 64, "uint64"},
};

/* Types of the standard we do not read, named so the message is useful. */
static const struct {
  int code;
  const char *name;
} unsupported[] = {{1, "binary"},        {32, "complex64"},    {128, "rgb24"},  {1536, "float128"},
                   {1792, "complex128"}, {2048, "complex256"}, {2304, "rgba32"}};

const char *sr_nifti_datatype_name(int datatype) {
  for (size_t i = 0; i < sizeof datatypes / sizeof datatypes[0]; ++i)
    if (datatypes[i].code == datatype) return datatypes[i].name;
  for (size_t i = 0; i < sizeof unsupported / sizeof unsupported[0]; ++i)
    if (unsupported[i].code == datatype) return unsupported[i].name;
  return "unknown";
}

static int expected_bitpix(int datatype) {
  for (size_t i = 0; i < sizeof datatypes / sizeof datatypes[0]; ++i)
    if (datatypes[i].code == datatype) return datatypes[i].bitpix;
  return 0;
}

void sr_nifti_header_init(sr_nifti_header *hdr) {
  memset(hdr, 0, sizeof *hdr);
  for (int i = 0; i < 8; ++i) hdr->pixdim[i] = 1.0f;
}

/* ------------------------------------------------ decoding */

typedef struct reader {
  const unsigned char *p;
  int swap;
} reader;

static uint32_t u32(reader r, int off) {
  const unsigned char *b = r.p + off;
  return r.swap
             ? (uint32_t)b[3] | (uint32_t)b[2] << 8 | (uint32_t)b[1] << 16 | (uint32_t)b[0] << 24
             : (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static int16_t i16(reader r, int off) {
  const unsigned char *b = r.p + off;
  return (int16_t)(r.swap ? (uint16_t)(b[1] | b[0] << 8) : (uint16_t)(b[0] | b[1] << 8));
}

static float f32(reader r, int off) {
  uint32_t bits = u32(r, off);
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}

static void text_field(reader r, int off, size_t len, char *out) {
  memcpy(out, r.p + off, len);
  out[len] = '\0';
}

static void decode_fields(reader r, sr_nifti_header *h) {
  memset(h, 0, sizeof *h);
  h->dim_info = r.p[OFF_DIM_INFO];
  for (int i = 0; i < 8; ++i) {
    h->dim[i] = i16(r, OFF_DIM + 2 * i);
    h->pixdim[i] = f32(r, OFF_PIXDIM + 4 * i);
  }
  h->intent_p1 = f32(r, OFF_INTENT_P1);
  h->intent_p2 = f32(r, OFF_INTENT_P2);
  h->intent_p3 = f32(r, OFF_INTENT_P3);
  h->intent_code = i16(r, OFF_INTENT_CODE);
  h->datatype = i16(r, OFF_DATATYPE);
  h->bitpix = i16(r, OFF_BITPIX);
  h->slice_start = i16(r, OFF_SLICE_START);
  h->vox_offset = f32(r, OFF_VOX_OFFSET);
  h->scl_slope = f32(r, OFF_SCL_SLOPE);
  h->scl_inter = f32(r, OFF_SCL_INTER);
  h->slice_end = i16(r, OFF_SLICE_END);
  h->slice_code = r.p[OFF_SLICE_CODE];
  h->xyzt_units = r.p[OFF_XYZT_UNITS];
  h->cal_max = f32(r, OFF_CAL_MAX);
  h->cal_min = f32(r, OFF_CAL_MIN);
  h->slice_duration = f32(r, OFF_SLICE_DURATION);
  h->toffset = f32(r, OFF_TOFFSET);
  text_field(r, OFF_DESCRIP, 80, h->descrip);
  text_field(r, OFF_AUX_FILE, 24, h->aux_file);
  h->qform_code = i16(r, OFF_QFORM_CODE);
  h->sform_code = i16(r, OFF_SFORM_CODE);
  float *quat[6] = {&h->quatern_b, &h->quatern_c, &h->quatern_d,
                    &h->qoffset_x, &h->qoffset_y, &h->qoffset_z};
  for (int i = 0; i < 6; ++i) *quat[i] = f32(r, OFF_QUATERN_B + 4 * i);
  for (int i = 0; i < 4; ++i) {
    h->srow_x[i] = f32(r, OFF_SROW_X + 4 * i);
    h->srow_y[i] = f32(r, OFF_SROW_Y + 4 * i);
    h->srow_z[i] = f32(r, OFF_SROW_Z + 4 * i);
  }
  text_field(r, OFF_INTENT_NAME, 16, h->intent_name);
  h->byte_swapped = r.swap;
}

static sr_status check_magic(sr_context *ctx, const char *name, const unsigned char *magic) {
  if (memcmp(magic, "n+1", 4) == 0) return SR_OK;
  if (memcmp(magic, "ni1", 4) == 0)
    return sr_fail(ctx, SR_ERR_UNSUPPORTED,
                   "%s: this is the header of a .hdr/.img pair; only single-file .nii is "
                   "supported",
                   name);
  return sr_fail(ctx, SR_ERR_FORMAT, "%s: bad magic (expected \"n+1\"): not a NIfTI-1 file", name);
}

static sr_status check_layout(sr_context *ctx, const char *name, const sr_nifti_header *h) {
  if (h->dim[0] < 1 || h->dim[0] > 7)
    return sr_fail(ctx, SR_ERR_FORMAT, "%s: dim[0] is %d, must be 1..7", name, h->dim[0]);
  for (int i = 1; i <= h->dim[0]; ++i)
    if (h->dim[i] < 1)
      return sr_fail(ctx, SR_ERR_FORMAT, "%s: dim[%d] is %d, must be positive", name, i, h->dim[i]);
  int bitpix = expected_bitpix(h->datatype);
  if (bitpix == 0)
    return sr_fail(ctx, SR_ERR_UNSUPPORTED, "%s: datatype %d (%s) is not supported", name,
                   h->datatype, sr_nifti_datatype_name(h->datatype));
  if (h->bitpix != bitpix)
    return sr_fail(ctx, SR_ERR_FORMAT, "%s: bitpix %d does not match datatype %s (%d bits)", name,
                   h->bitpix, sr_nifti_datatype_name(h->datatype), bitpix);
  /* A float; must be a whole number of bytes at or after the header and its
   * 4-byte extension flag. 1 GiB bounds what a reader skips. */
  if (!(h->vox_offset >= 352.0f) || h->vox_offset > (float)(1u << 30) ||
      h->vox_offset != floorf(h->vox_offset))
    return sr_fail(ctx, SR_ERR_FORMAT,
                   "%s: vox_offset %g is invalid (must be a whole number >= 352)", name,
                   (double)h->vox_offset);
  return SR_OK;
}

sr_status sr_nifti_parse_header(sr_context *ctx, const char *name, const void *bytes348,
                                sr_nifti_header *hdr) {
  reader r = {(const unsigned char *)bytes348, 0};
  uint32_t size = u32(r, OFF_SIZEOF_HDR);
  if (size != SR_NIFTI_HEADER_SIZE) {
    r.swap = 1;
    uint32_t swapped = u32(r, OFF_SIZEOF_HDR);
    if (swapped != SR_NIFTI_HEADER_SIZE) {
      if (size == 540 || swapped == 540)
        return sr_fail(ctx, SR_ERR_UNSUPPORTED,
                       "%s: NIfTI-2 files are not supported (only NIfTI-1)", name);
      return sr_fail(ctx, SR_ERR_FORMAT, "%s: sizeof_hdr is %u, expected 348: not a NIfTI-1 file",
                     name, size);
    }
  }
  SR_TRY(check_magic(ctx, name, r.p + OFF_MAGIC));
  decode_fields(r, hdr);
  return check_layout(ctx, name, hdr);
}

/* ------------------------------------------------ encoding */

static void put32(unsigned char *out, int off, uint32_t v) {
  for (int i = 0; i < 4; ++i) out[off + i] = (unsigned char)(v >> (8 * i));
}

static void put16(unsigned char *out, int off, int16_t v) {
  out[off] = (unsigned char)((uint16_t)v & 0xff);
  out[off + 1] = (unsigned char)((uint16_t)v >> 8);
}

static void putf(unsigned char *out, int off, float f) {
  uint32_t bits;
  memcpy(&bits, &f, sizeof bits);
  put32(out, off, bits);
}

static void put_text(unsigned char *out, int off, size_t len, const char *s) {
  size_t n = 0;
  while (n < len && s[n]) ++n;
  memcpy(out + off, s, n); /* the rest stays zero */
}

void sr_nifti_encode_header(const sr_nifti_header *h, unsigned char out[348]) {
  memset(out, 0, SR_NIFTI_HEADER_SIZE);
  put32(out, OFF_SIZEOF_HDR, SR_NIFTI_HEADER_SIZE);
  out[OFF_REGULAR] = 'r';
  out[OFF_DIM_INFO] = h->dim_info;
  for (int i = 0; i < 8; ++i) {
    put16(out, OFF_DIM + 2 * i, h->dim[i]);
    putf(out, OFF_PIXDIM + 4 * i, h->pixdim[i]);
  }
  putf(out, OFF_INTENT_P1, h->intent_p1);
  putf(out, OFF_INTENT_P2, h->intent_p2);
  putf(out, OFF_INTENT_P3, h->intent_p3);
  put16(out, OFF_INTENT_CODE, h->intent_code);
  put16(out, OFF_DATATYPE, h->datatype);
  put16(out, OFF_BITPIX, h->bitpix);
  put16(out, OFF_SLICE_START, h->slice_start);
  putf(out, OFF_VOX_OFFSET, h->vox_offset);
  putf(out, OFF_SCL_SLOPE, h->scl_slope);
  putf(out, OFF_SCL_INTER, h->scl_inter);
  put16(out, OFF_SLICE_END, h->slice_end);
  out[OFF_SLICE_CODE] = h->slice_code;
  out[OFF_XYZT_UNITS] = h->xyzt_units;
  putf(out, OFF_CAL_MAX, h->cal_max);
  putf(out, OFF_CAL_MIN, h->cal_min);
  putf(out, OFF_SLICE_DURATION, h->slice_duration);
  putf(out, OFF_TOFFSET, h->toffset);
  put_text(out, OFF_DESCRIP, 80, h->descrip);
  put_text(out, OFF_AUX_FILE, 24, h->aux_file);
  put16(out, OFF_QFORM_CODE, h->qform_code);
  put16(out, OFF_SFORM_CODE, h->sform_code);
  const float quat[6] = {h->quatern_b, h->quatern_c, h->quatern_d,
                         h->qoffset_x, h->qoffset_y, h->qoffset_z};
  for (int i = 0; i < 6; ++i) putf(out, OFF_QUATERN_B + 4 * i, quat[i]);
  for (int i = 0; i < 4; ++i) {
    putf(out, OFF_SROW_X + 4 * i, h->srow_x[i]);
    putf(out, OFF_SROW_Y + 4 * i, h->srow_y[i]);
    putf(out, OFF_SROW_Z + 4 * i, h->srow_z[i]);
  }
  put_text(out, OFF_INTENT_NAME, 16, h->intent_name);
  memcpy(out + OFF_MAGIC, "n+1", 4);
}
