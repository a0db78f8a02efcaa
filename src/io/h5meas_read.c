/* Reading measurement files: ours and fastMRI's single-coil files (see
 * h5meas.h). Everything read is checked before it is returned; every
 * message starts with the file's path. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "core/error.h"
#include "io/array.h"
#include "io/h5meas_internal.h"

typedef struct h5r {
  sr_context *ctx;
  const char *path;
  hid_t file;
} h5r;

static int has(h5r *r, const char *name) {
  return H5Lexists(r->file, name, H5P_DEFAULT) > 0;
}

static int has_attr(h5r *r, const char *name) {
  return H5Aexists(r->file, name) > 0;
}

/* Shape of a dataset: rank 1..4, every dimension >= 1, total bytes within
 * the array limit for elem_size-byte elements. */
static sr_status shape_of(h5r *r, hid_t d, const char *name, size_t elem_size, int *rank,
                          int64_t shape[4]) {
  hid_t space = H5Dget_space(d);
  int nd = space < 0 ? -1 : H5Sget_simple_extent_ndims(space);
  hsize_t dims[H5S_MAX_RANK];
  if (nd < 1 || nd > 4 || H5Sget_simple_extent_dims(space, dims, NULL) < 0) {
    sr_h5_close(space);
    return sr_fail(r->ctx, SR_ERR_FORMAT, "%s: dataset '%s' has rank %d (expected 1 to 4)", r->path,
                   name, nd);
  }
  sr_h5_close(space);
  for (int i = 0; i < nd; ++i) {
    if (dims[i] < 1 || dims[i] > (hsize_t)INT32_MAX)
      return sr_fail(r->ctx, SR_ERR_FORMAT, "%s: dataset '%s' has an empty or huge dimension",
                     r->path, name);
    shape[i] = (int64_t)dims[i];
  }
  size_t bytes;
  SR_TRY(sr_shape_nbytes(r->ctx, r->path, elem_size, nd, shape, &bytes));
  *rank = nd;
  return SR_OK;
}

static sr_status open_dataset(h5r *r, const char *name, hid_t *d) {
  *d = H5Dopen2(r->file, name, H5P_DEFAULT);
  if (*d < 0) return sr_fail(r->ctx, SR_ERR_FORMAT, "%s: cannot open dataset '%s'", r->path, name);
  return SR_OK;
}

static void *alloc_or_fail(h5r *r, size_t bytes, const char *name, sr_status *st) {
  void *p = malloc(bytes ? bytes : 1);
  if (!p)
    *st = sr_fail(r->ctx, SR_ERR_OUT_OF_MEMORY, "%s: cannot allocate '%s' (%zu bytes)", r->path,
                  name, bytes);
  return p;
}

/* Reads a complex compound dataset ({r, i} or {real, imag} of float32 or
 * float64) into interleaved float32: HDF5 converts members by name. */
static sr_status read_complex(h5r *r, hid_t d, const char *name, size_t n, float *out) {
  hid_t ft = H5Dget_type(d);
  const char *re = NULL, *im = NULL;
  if (H5Tget_class(ft) == H5T_COMPOUND && H5Tget_nmembers(ft) == 2) {
    char *m0 = H5Tget_member_name(ft, 0), *m1 = H5Tget_member_name(ft, 1);
    int c0 = H5Tget_member_class(ft, 0), c1 = H5Tget_member_class(ft, 1);
    if (m0 && m1 && c0 == H5T_FLOAT && c1 == H5T_FLOAT) {
      if (strcmp(m0, "r") == 0 && strcmp(m1, "i") == 0) re = "r", im = "i";
      if (strcmp(m0, "real") == 0 && strcmp(m1, "imag") == 0) re = "real", im = "imag";
    }
    H5free_memory(m0);
    H5free_memory(m1);
  }
  sr_h5_close(ft);
  if (!re)
    return sr_fail(r->ctx, SR_ERR_FORMAT,
                   "%s: dataset '%s' is not complex (expected a compound {r, i} of floats)",
                   r->path, name);
  hid_t mt = H5Tcreate(H5T_COMPOUND, 2 * sizeof(float));
  H5Tinsert(mt, re, 0, H5T_NATIVE_FLOAT);
  H5Tinsert(mt, im, sizeof(float), H5T_NATIVE_FLOAT);
  herr_t e = H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, out);
  sr_h5_close(mt);
  (void)n;
  if (e < 0) return sr_fail(r->ctx, SR_ERR_FORMAT, "%s: cannot read dataset '%s'", r->path, name);
  return SR_OK;
}

/* Reads integer, float or enum (h5py's bool) data as float32. */
static sr_status read_float(h5r *r, hid_t d, const char *name, size_t n, float *out) {
  hid_t ft = H5Dget_type(d);
  H5T_class_t cls = H5Tget_class(ft);
  sr_status st = SR_OK;
  if (cls == H5T_INTEGER || cls == H5T_FLOAT) {
    if (H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0)
      st = sr_fail(r->ctx, SR_ERR_FORMAT, "%s: cannot read dataset '%s'", r->path, name);
  } else if (cls == H5T_ENUM) {
    /* HDF5 does not convert enums to numbers: read the stored integers. */
    hid_t base = H5Tget_super(ft);
    size_t size = H5Tget_size(base);
    int is_signed = H5Tget_sign(base) == H5T_SGN_2;
    hid_t mt = H5Tget_native_type(ft, H5T_DIR_ASCEND);
    unsigned char *raw = (unsigned char *)alloc_or_fail(r, n * size, name, &st);
    if (raw && (size > 8 || H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw) < 0))
      st = sr_fail(r->ctx, SR_ERR_FORMAT, "%s: cannot read enum dataset '%s'", r->path, name);
    for (size_t i = 0; raw && st == SR_OK && i < n; ++i) {
      int64_t v = 0;
      uint64_t u = 0;
      memcpy(&u, raw + i * size, size);
      if (is_signed && size < 8 && (u >> (8 * size - 1)) & 1u) u |= ~(uint64_t)0 << (8 * size);
      memcpy(&v, &u, sizeof v);
      out[i] = is_signed ? (float)v : (float)u;
    }
    free(raw);
    sr_h5_close(mt);
    sr_h5_close(base);
  } else {
    st = sr_fail(r->ctx, SR_ERR_FORMAT, "%s: dataset '%s' is not numeric", r->path, name);
  }
  sr_h5_close(ft);
  return st;
}

static int attr_double(h5r *r, const char *name, double *v) {
  if (!has_attr(r, name)) return 0;
  hid_t a = H5Aopen(r->file, name, H5P_DEFAULT);
  hid_t t = a < 0 ? -1 : H5Aget_type(a);
  int ok = t >= 0 && (H5Tget_class(t) == H5T_FLOAT || H5Tget_class(t) == H5T_INTEGER) &&
           H5Aread(a, H5T_NATIVE_DOUBLE, v) >= 0;
  sr_h5_close(t);
  sr_h5_close(a);
  return ok;
}

static int attr_int(h5r *r, const char *name, int64_t *v) {
  double d;
  if (!attr_double(r, name, &d) || !isfinite(d) || d != floor(d) || fabs(d) > 9e15) return 0;
  *v = (int64_t)d;
  return 1;
}

/* Fixed- or variable-length string attribute into buf (truncated). */
static int attr_string(h5r *r, const char *name, char *buf, size_t size) {
  buf[0] = '\0';
  if (!has_attr(r, name)) return 0;
  hid_t a = H5Aopen(r->file, name, H5P_DEFAULT);
  hid_t t = a < 0 ? -1 : H5Aget_type(a);
  int ok = 0;
  if (t >= 0 && H5Tget_class(t) == H5T_STRING) {
    if (H5Tis_variable_str(t) > 0) {
      char *s = NULL;
      hid_t mt = H5Tcopy(H5T_C_S1);
      H5Tset_size(mt, H5T_VARIABLE);
      if (H5Aread(a, mt, &s) >= 0 && s) {
        snprintf(buf, size, "%s", s);
        ok = 1;
      }
      if (s) H5free_memory(s);
      sr_h5_close(mt);
    } else {
      size_t len = H5Tget_size(t);
      char *s = (char *)calloc(len + 1, 1);
      if (s && H5Aread(a, t, s) >= 0) {
        snprintf(buf, size, "%s", s);
        ok = 1;
      }
      free(s);
    }
  }
  sr_h5_close(t);
  sr_h5_close(a);
  return ok;
}

/* The fastMRI crop: image = ifft2c(k) on the file's grid, centre crop
 * (offsets (H - h) / 2, (W - w) / 2 as fastMRI's center_crop), k = fft2c on
 * the target grid. Runs on a private CPU backend. */
static sr_status crop_kspace(h5r *r, sr_mri_meas *m, int64_t h, int64_t w) {
  sr_backend *b = NULL;
  SR_TRY(sr_cpu_backend_create(r->ctx, 0, &b));
  size_t big = (size_t)(m->h * m->w), small = (size_t)(h * w);
  sr_status st =
      b->ops->fft2c(b, m->kspace, m->kspace, (size_t)m->nslices, (size_t)m->h, (size_t)m->w, 1);
  float *k = st == SR_OK ? (float *)alloc_or_fail(r, 2 * small * (size_t)m->nslices * sizeof(float),
                                                  "cropped k-space", &st)
                         : NULL;
  if (st == SR_OK) {
    int64_t oy = (m->h - h) / 2, ox = (m->w - w) / 2;
    for (int64_t s = 0; s < m->nslices; ++s)
      for (int64_t i = 0; i < h; ++i)
        memcpy(k + 2 * ((size_t)s * small + (size_t)(i * w)),
               m->kspace + 2 * ((size_t)s * big + (size_t)((oy + i) * m->w + ox)),
               2 * (size_t)w * sizeof(float));
    st = b->ops->fft2c(b, k, k, (size_t)m->nslices, (size_t)h, (size_t)w, 0);
  }
  sr_backend_destroy(b);
  if (st != SR_OK) {
    free(k);
    return st;
  }
  free(m->kspace);
  m->kspace = k;
  m->h = h;
  m->w = w;
  float *mask = (float *)realloc(m->mask, small * sizeof(float));
  if (!mask) return sr_fail(r->ctx, SR_ERR_OUT_OF_MEMORY, "%s: cannot allocate the mask", r->path);
  for (size_t i = 0; i < small; ++i) mask[i] = 1.0f;
  m->mask = mask;
  return SR_OK;
}

static sr_status read_mask(h5r *r, sr_mri_meas *m) {
  size_t plane = (size_t)(m->h * m->w);
  sr_status st = SR_OK;
  m->mask = (float *)alloc_or_fail(r, plane * sizeof(float), "mask", &st);
  SR_TRY(st);
  if (!has(r, "mask")) {
    /* fastMRI train/val files: fully sampled. */
    for (size_t k = 0; k < plane; ++k) m->mask[k] = 1.0f;
    snprintf(m->mask_type, sizeof m->mask_type, "full");
    return SR_OK;
  }
  hid_t d;
  SR_TRY(open_dataset(r, "mask", &d));
  int rank = 0;
  int64_t shape[4];
  st = shape_of(r, d, "mask", sizeof(float), &rank, shape);
  int ok =
      st == SR_OK &&
      ((rank == 1 && shape[0] == m->w) || (rank == 2 && shape[0] == m->h && shape[1] == m->w) ||
       (rank == 3 && shape[0] == m->nslices && shape[1] == m->h && shape[2] == m->w));
  if (st == SR_OK && !ok)
    st = sr_fail(r->ctx, SR_ERR_SHAPE,
                 "%s: mask shape does not match k-space (%lld, %lld, %lld): expected (W,), "
                 "(H, W) or (slices, H, W)",
                 r->path, (long long)m->nslices, (long long)m->h, (long long)m->w);
  size_t n = 0;
  float *raw = NULL;
  if (st == SR_OK) {
    n = rank == 1 ? (size_t)m->w : rank == 2 ? plane : plane * (size_t)m->nslices;
    raw = (float *)alloc_or_fail(r, n * sizeof(float), "mask", &st);
  }
  if (st == SR_OK) st = read_float(r, d, "mask", n, raw);
  sr_h5_close(d);
  if (st == SR_OK) {
    if (rank == 1) {
      for (size_t k = 0; k < plane; ++k) m->mask[k] = raw[k % (size_t)m->w];
    } else {
      memcpy(m->mask, raw, plane * sizeof(float));
      for (size_t i = plane; i < n && st == SR_OK; ++i)
        if (raw[i] != raw[i % plane])
          st = sr_fail(r->ctx, SR_ERR_UNSUPPORTED,
                       "%s: the mask differs between slices (slice %zu); one mask per file is "
                       "supported",
                       r->path, i / plane);
    }
  }
  free(raw);
  return st;
}

static sr_status read_target(h5r *r, const char *name, int64_t nslices, float **out, int64_t *h,
                             int64_t *w) {
  hid_t d;
  SR_TRY(open_dataset(r, name, &d));
  int rank = 0;
  int64_t shape[4];
  sr_status st = shape_of(r, d, name, sizeof(float), &rank, shape);
  if (st == SR_OK && rank == 2) {
    shape[2] = shape[1], shape[1] = shape[0], shape[0] = 1;
    rank = 3;
  }
  if (st == SR_OK && (rank != 3 || shape[0] != nslices))
    st = sr_fail(r->ctx, SR_ERR_SHAPE, "%s: '%s' must be (%lld, H, W) to match the data", r->path,
                 name, (long long)nslices);
  if (st == SR_OK) {
    size_t n = (size_t)(shape[0] * shape[1] * shape[2]);
    *out = (float *)alloc_or_fail(r, n * sizeof(float), name, &st);
    if (st == SR_OK) st = read_float(r, d, name, n, *out);
    *h = shape[1];
    *w = shape[2];
  }
  sr_h5_close(d);
  return st;
}

static sr_status read_mri(h5r *r, sr_mri_meas *m) {
  hid_t d;
  SR_TRY(open_dataset(r, "kspace", &d));
  int rank = 0;
  int64_t shape[4];
  sr_status st = shape_of(r, d, "kspace", 2 * sizeof(float), &rank, shape);
  if (st == SR_OK && rank == 4)
    st = sr_fail(r->ctx, SR_ERR_UNSUPPORTED,
                 "%s: k-space is 4-D (multi-coil); only single-coil files are supported", r->path);
  if (st == SR_OK && rank == 2) {
    shape[2] = shape[1], shape[1] = shape[0], shape[0] = 1;
    rank = 3;
  }
  if (st == SR_OK && rank != 3)
    st = sr_fail(r->ctx, SR_ERR_SHAPE, "%s: k-space must be (slices, H, W), got rank %d", r->path,
                 rank);
  if (st == SR_OK) {
    m->nslices = shape[0], m->h = shape[1], m->w = shape[2];
    m->source_h = m->h, m->source_w = m->w;
    size_t n = (size_t)(m->nslices * m->h * m->w);
    m->kspace = (float *)alloc_or_fail(r, 2 * n * sizeof(float), "kspace", &st);
    if (st == SR_OK) st = read_complex(r, d, "kspace", n, m->kspace);
  }
  sr_h5_close(d);
  SR_TRY(st);
  SR_TRY(read_mask(r, m));

  const char *tname = has(r, "reconstruction_esc") ? "reconstruction_esc"
                      : has(r, "target")           ? "target"
                                                   : NULL;
  int64_t th = 0, tw = 0;
  if (tname) SR_TRY(read_target(r, tname, m->nslices, &m->target, &th, &tw));

  char modality[16];
  m->fastmri = !has_attr(r, "scorerecon_version");
  char mask_type[sizeof m->mask_type];
  if (attr_string(r, "mask_type", mask_type, sizeof mask_type))
    memcpy(m->mask_type, mask_type, sizeof mask_type);
  if (attr_string(r, "modality", modality, sizeof modality) && strcmp(modality, "mri") != 0)
    return sr_fail(r->ctx, SR_ERR_FORMAT, "%s: has k-space but says modality '%s'", r->path,
                   modality);
  attr_double(r, "accel", &m->accel);
  attr_double(r, "center_fraction", &m->center_fraction);
  attr_int(r, "n_keep", &m->n_keep);
  attr_int(r, "seed", &m->seed);
  attr_double(r, "noise_sigma", &m->noise_sigma);

  if (m->target && (th != m->h || tw != m->w)) {
    if (th > m->h || tw > m->w)
      return sr_fail(r->ctx, SR_ERR_SHAPE,
                     "%s: target %lld x %lld is larger than k-space %lld x %lld", r->path,
                     (long long)th, (long long)tw, (long long)m->h, (long long)m->w);
    size_t plane = (size_t)(m->h * m->w);
    for (size_t k = 0; k < plane; ++k)
      if (m->mask[k] == 0.0f)
        return sr_fail(r->ctx, SR_ERR_UNSUPPORTED,
                       "%s: undersampled k-space %lld x %lld with a %lld x %lld target: a mask "
                       "does not survive the crop to the target size",
                       r->path, (long long)m->h, (long long)m->w, (long long)th, (long long)tw);
    SR_TRY(crop_kspace(r, m, th, tw));
  }
  return sr_mri_meas_validate(r->ctx, r->path, m);
}

static sr_status read_ct(h5r *r, sr_ct_meas *m) {
  hid_t d;
  SR_TRY(open_dataset(r, "sinogram", &d));
  int rank = 0;
  int64_t shape[4];
  sr_status st = shape_of(r, d, "sinogram", sizeof(float), &rank, shape);
  if (st == SR_OK && rank == 2) {
    shape[2] = shape[1], shape[1] = shape[0], shape[0] = 1;
    rank = 3;
  }
  if (st == SR_OK && rank != 3)
    st = sr_fail(r->ctx, SR_ERR_SHAPE, "%s: sinogram must be (slices, views, bins), got rank %d",
                 r->path, rank);
  if (st == SR_OK) {
    m->nslices = shape[0], m->n_views = shape[1], m->n_det = shape[2];
    size_t n = (size_t)(shape[0] * shape[1] * shape[2]);
    m->sinogram = (float *)alloc_or_fail(r, n * sizeof(float), "sinogram", &st);
    if (st == SR_OK) st = read_float(r, d, "sinogram", n, m->sinogram);
  }
  sr_h5_close(d);
  SR_TRY(st);

  if (!has(r, "angles")) return sr_fail(r->ctx, SR_ERR_FORMAT, "%s: no 'angles' dataset", r->path);
  SR_TRY(open_dataset(r, "angles", &d));
  st = shape_of(r, d, "angles", sizeof(float), &rank, shape);
  if (st == SR_OK && (rank != 1 || shape[0] != m->n_views))
    st = sr_fail(r->ctx, SR_ERR_SHAPE, "%s: 'angles' must hold %lld values, one per view", r->path,
                 (long long)m->n_views);
  if (st == SR_OK)
    m->angles = (float *)alloc_or_fail(r, (size_t)m->n_views * sizeof(float), "angles", &st);
  if (st == SR_OK) st = read_float(r, d, "angles", (size_t)m->n_views, m->angles);
  sr_h5_close(d);
  SR_TRY(st);

  if (has(r, "view_index")) {
    SR_TRY(open_dataset(r, "view_index", &d));
    st = shape_of(r, d, "view_index", sizeof(int32_t), &rank, shape);
    if (st == SR_OK && (rank != 1 || shape[0] != m->n_views))
      st = sr_fail(r->ctx, SR_ERR_SHAPE, "%s: 'view_index' must hold %lld values", r->path,
                   (long long)m->n_views);
    float *tmp = NULL;
    if (st == SR_OK)
      tmp = (float *)alloc_or_fail(r, (size_t)m->n_views * sizeof(float), "view_index", &st);
    if (st == SR_OK) st = read_float(r, d, "view_index", (size_t)m->n_views, tmp);
    if (st == SR_OK)
      m->view_index =
          (int32_t *)alloc_or_fail(r, (size_t)m->n_views * sizeof(int32_t), "view_index", &st);
    for (int64_t v = 0; st == SR_OK && v < m->n_views; ++v) {
      if (tmp[v] != floorf(tmp[v]) || fabsf(tmp[v]) > 1e9f)
        st = sr_fail(r->ctx, SR_ERR_FORMAT, "%s: view_index holds a non-integer", r->path);
      else
        m->view_index[v] = (int32_t)tmp[v];
    }
    free(tmp);
    sr_h5_close(d);
    SR_TRY(st);
    if (!attr_int(r, "n_full_views", &m->n_full))
      return sr_fail(r->ctx, SR_ERR_FORMAT, "%s: view_index without an n_full_views attribute",
                     r->path);
  }

  char modality[16];
  if (attr_string(r, "modality", modality, sizeof modality) && strcmp(modality, "ct") != 0)
    return sr_fail(r->ctx, SR_ERR_FORMAT, "%s: has a sinogram but says modality '%s'", r->path,
                   modality);
  int64_t n_det = 0;
  if (!attr_int(r, "image_h", &m->image_h) || !attr_int(r, "image_w", &m->image_w))
    return sr_fail(r->ctx, SR_ERR_FORMAT, "%s: missing image_h / image_w attributes", r->path);
  if (attr_int(r, "n_det", &n_det) && n_det != m->n_det)
    return sr_fail(r->ctx, SR_ERR_SHAPE, "%s: n_det says %lld bins but the sinogram has %lld",
                   r->path, (long long)n_det, (long long)m->n_det);
  m->det_spacing = 1.0;
  m->pixel_spacing = 1.0;
  attr_double(r, "det_spacing", &m->det_spacing);
  attr_double(r, "det_offset", &m->det_offset);
  attr_double(r, "pixel_spacing", &m->pixel_spacing);
  attr_string(r, "noise", m->noise, sizeof m->noise);
  attr_double(r, "noise_sigma", &m->noise_sigma);
  attr_double(r, "i0", &m->i0);
  attr_int(r, "seed", &m->seed);
  if (has(r, "target")) {
    int64_t th = 0, tw = 0;
    SR_TRY(read_target(r, "target", m->nslices, &m->target, &th, &tw));
    if (th != m->image_h || tw != m->image_w)
      return sr_fail(r->ctx, SR_ERR_SHAPE,
                     "%s: target is %lld x %lld but image_h/w say %lld x %lld", r->path,
                     (long long)th, (long long)tw, (long long)m->image_h, (long long)m->image_w);
  }
  return sr_ct_meas_validate(r->ctx, r->path, m);
}

sr_status sr_meas_read(sr_context *ctx, const char *path, sr_meas *out) {
  memset(out, 0, sizeof *out);
  sr_h5_silence();
  htri_t is = H5Fis_hdf5(path);
  if (is <= 0) {
    FILE *f = fopen(path, "rb");
    if (!f) return sr_fail(ctx, SR_ERR_IO, "%s: cannot open", path);
    fclose(f);
    return sr_fail(ctx, SR_ERR_FORMAT, "%s: not an HDF5 file", path);
  }
  h5r r = {ctx, path, H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT)};
  if (r.file < 0) return sr_fail(ctx, SR_ERR_FORMAT, "%s: cannot open as HDF5", path);
  sr_status st;
  if (has(&r, "kspace")) {
    out->modality = SR_MODALITY_MRI;
    st = read_mri(&r, &out->mri);
  } else if (has(&r, "sinogram")) {
    out->modality = SR_MODALITY_CT;
    st = read_ct(&r, &out->ct);
  } else {
    st = sr_fail(ctx, SR_ERR_FORMAT,
                 "%s: neither 'kspace' (MRI) nor 'sinogram' (CT): not a measurement file", path);
  }
  sr_h5_close(r.file);
  if (st != SR_OK) sr_meas_free(out);
  return st;
}
