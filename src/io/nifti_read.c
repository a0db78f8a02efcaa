/* open/fstat are POSIX. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core/error.h"
#include "io/nifti.h"

/* zlib reads plain files through the same calls ("transparent" mode), so
 * .nii and .nii.gz share one path; gzdirect tells which it was. */
typedef struct source {
  sr_context *ctx;
  const char *path;
  gzFile gz;
  const char *error; /* zlib's message after a failed read, else NULL */
} source;

/* Reads up to n bytes; returns how many arrived before the end or an error. */
static size_t read_some(source *src, void *buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    size_t want = n - got;
    unsigned chunk = want > (1u << 30) ? (1u << 30) : (unsigned)want;
    int r = gzread(src->gz, (char *)buf + got, chunk);
    if (r < 0) {
      int errnum = 0;
      src->error = gzerror(src->gz, &errnum);
      break;
    }
    if (r == 0) break;
    got += (size_t)r;
  }
  return got;
}

static sr_status truncated(source *src, const char *what, size_t expected, size_t got) {
  if (src->error)
    return sr_fail(src->ctx, SR_ERR_FORMAT, "%s: %s: read %zu of %zu bytes: %s", src->path, what,
                   got, expected, src->error);
  return sr_fail(src->ctx, SR_ERR_FORMAT, "%s: truncated %s: %zu of %zu bytes", src->path, what,
                 got, expected);
}

static sr_status skip(source *src, size_t n) {
  unsigned char scratch[4096];
  size_t done = 0;
  while (done < n) {
    size_t want = n - done < sizeof scratch ? n - done : sizeof scratch;
    size_t got = read_some(src, scratch, want);
    done += got;
    if (got < want) return truncated(src, "header extensions", n, done);
  }
  return SR_OK;
}

/* Reads exactly nbytes of voxel data. The buffer grows as data arrives, so a
 * small gzip file whose header claims gigabytes fails on truncation before
 * it can make us allocate them. */
static sr_status read_voxels(source *src, size_t nbytes, unsigned char **out) {
  size_t cap = nbytes < ((size_t)1 << 24) ? nbytes : ((size_t)1 << 24);
  unsigned char *buf = (unsigned char *)malloc(cap ? cap : 1);
  size_t got = 0;
  while (buf && got < nbytes) {
    if (got == cap) {
      cap = cap > nbytes / 2 ? nbytes : cap * 2;
      unsigned char *bigger = (unsigned char *)realloc(buf, cap);
      if (!bigger) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = bigger;
    }
    size_t r = read_some(src, buf + got, cap - got);
    got += r;
    if (got < cap) break; /* end of data or an error */
  }
  if (!buf)
    return sr_fail(src->ctx, SR_ERR_OUT_OF_MEMORY, "%s: cannot allocate %zu bytes", src->path,
                   nbytes);
  if (got < nbytes) {
    free(buf);
    return truncated(src, "voxel data", nbytes, got);
  }
  *out = buf;
  return SR_OK;
}

/* Trailing bytes a .nii.gz may carry after the voxels (padding by some
 * writers) before we call it something else. */
#define GZIP_TAIL_MAX ((size_t)64 << 10)

/* A gzip stream's CRC and length are checked only when its end is read, so
 * read on to the end, but no further than GZIP_TAIL_MAX: a stream that goes
 * on is refused rather than decompressed. zlib reports a stream cut short
 * as Z_BUF_ERROR without failing the read, hence the gzerror check. */
static sr_status verify_gzip_end(source *src, size_t implied) {
  unsigned char scratch[4096];
  size_t extra = 0;
  for (;;) {
    int r = gzread(src->gz, scratch, sizeof scratch);
    int errnum = Z_OK;
    const char *msg = gzerror(src->gz, &errnum);
    if (r < 0 || errnum != Z_OK)
      return sr_fail(src->ctx, SR_ERR_FORMAT, "%s: corrupt or truncated gzip stream: %s", src->path,
                     msg);
    if (r == 0) return SR_OK;
    extra += (size_t)r;
    if (extra > GZIP_TAIL_MAX)
      return sr_fail(src->ctx, SR_ERR_FORMAT,
                     "%s: the gzip stream goes on beyond the %zu bytes the header implies "
                     "(stopped reading %zu bytes later)",
                     src->path, implied, extra);
  }
}

static void swap_elements(unsigned char *p, size_t count, size_t size) {
  for (size_t i = 0; i < count; ++i, p += size)
    for (size_t a = 0, b = size - 1; a < b; ++a, --b) {
      unsigned char t = p[a];
      p[a] = p[b];
      p[b] = t;
    }
}

#define SR_CONVERT(T)                                                                              \
  for (size_t i = 0; i < n; ++i) {                                                                 \
    T v;                                                                                           \
    memcpy(&v, raw + i * sizeof v, sizeof v);                                                      \
    out[i] = (float)(scale ? (double)v * slope + inter : (double)v);                               \
  }                                                                                                \
  break

/* Raw voxels (host order) to float32 with the header's scaling. */
static void convert(const unsigned char *raw, size_t n, int datatype, const sr_nifti_header *h,
                    float *out) {
  /* nifti1.h: scl_slope 0 means no scaling; nibabel treats NaN/Inf the same. */
  int scale = h->scl_slope != 0.0f && isfinite(h->scl_slope) && isfinite(h->scl_inter);
  double slope = h->scl_slope, inter = h->scl_inter;
  switch (datatype) {
  case SR_NIFTI_UINT8: SR_CONVERT(uint8_t);
  case SR_NIFTI_INT8: SR_CONVERT(int8_t);
  case SR_NIFTI_INT16: SR_CONVERT(int16_t);
  case SR_NIFTI_UINT16: SR_CONVERT(uint16_t);
  case SR_NIFTI_INT32: SR_CONVERT(int32_t);
  case SR_NIFTI_UINT32: SR_CONVERT(uint32_t);
  case SR_NIFTI_INT64: SR_CONVERT(int64_t);
  case SR_NIFTI_UINT64: SR_CONVERT(uint64_t);
  case SR_NIFTI_FLOAT32: SR_CONVERT(float);
  case SR_NIFTI_FLOAT64: SR_CONVERT(double);
  default: break; /* sr_nifti_parse_header admits no other type */
  }
}
#undef SR_CONVERT

static sr_status read_source(source *src, const struct stat *st, sr_nifti_header *hdr,
                             sr_array *out) {
  unsigned char raw_header[SR_NIFTI_HEADER_SIZE];
  size_t got = read_some(src, raw_header, sizeof raw_header);
  if (got < sizeof raw_header) return truncated(src, "header", sizeof raw_header, got);
  SR_TRY(sr_nifti_parse_header(src->ctx, src->path, raw_header, hdr));

  int ndim = hdr->dim[0];
  int64_t shape[SR_ARRAY_MAX_DIMS];
  for (int i = 0; i < ndim; ++i) shape[i] = hdr->dim[ndim - i];
  size_t elem = (size_t)hdr->bitpix / 8, nbytes = 0;
  SR_TRY(sr_shape_nbytes(src->ctx, src->path, elem, ndim, shape, &nbytes));
  size_t offset = (size_t)hdr->vox_offset;
  int plain = gzdirect(src->gz);
  if (plain && (uint64_t)st->st_size < (uint64_t)offset + nbytes)
    return sr_fail(src->ctx, SR_ERR_FORMAT,
                   "%s: truncated: the header implies %zu bytes (vox_offset %zu + %zu of voxel "
                   "data), the file has %lld",
                   src->path, offset + nbytes, offset, nbytes, (long long)st->st_size);
  SR_TRY(skip(src, offset - SR_NIFTI_HEADER_SIZE));
  unsigned char *raw = NULL;
  SR_TRY(read_voxels(src, nbytes, &raw));
  sr_status s = plain ? SR_OK : verify_gzip_end(src, offset + nbytes);
  if (s == SR_OK) s = sr_array_alloc(src->ctx, src->path, SR_DTYPE_F32, ndim, shape, out);
  if (s == SR_OK) {
    size_t n = nbytes / elem;
    if (hdr->byte_swapped) swap_elements(raw, n, elem);
    convert(raw, n, hdr->datatype, hdr, (float *)out->data);
  }
  free(raw);
  return s;
}

sr_status sr_nifti_read(sr_context *ctx, const char *path, sr_nifti_header *hdr, sr_array *out) {
  memset(out, 0, sizeof *out);
  sr_nifti_header unused;
  if (!hdr) hdr = &unused;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return sr_fail(ctx, SR_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return sr_fail(ctx, SR_ERR_IO, "%s: not a regular file", path);
  }
  source src = {ctx, path, gzdopen(fd, "rb"), NULL};
  if (!src.gz) {
    close(fd);
    return sr_fail(ctx, SR_ERR_OUT_OF_MEMORY, "%s: cannot start decompression", path);
  }
  gzbuffer(src.gz, 1u << 17);
  sr_status s = read_source(&src, &st, hdr, out);
  gzclose(src.gz); /* closes fd */
  return s;
}
