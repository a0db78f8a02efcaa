/* Writing measurement files. The HDF5 file is built in memory (the core
 * driver without a backing store), its image taken once complete, and that
 * written with the atomic writer: a crash or full disk never leaves half a
 * file, and an existing file is replaced only by a finished one. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "io/atomic_write.h"
#include "io/h5meas_internal.h"

typedef struct h5w {
  sr_context *ctx;
  const char *path;
  hid_t file;
  sr_status st; /* first failure; later calls do nothing */
} h5w;

static void fail(h5w *w, const char *what) {
  if (w->st == SR_OK)
    w->st = sr_fail(w->ctx, SR_ERR_IO, "%s: cannot write %s (HDF5 error)", w->path, what);
}

static void dataset(h5w *w, const char *name, hid_t file_type, hid_t mem_type, int rank,
                    const int64_t *shape, const void *data) {
  if (w->st != SR_OK) return;
  hsize_t dims[4];
  for (int i = 0; i < rank; ++i) dims[i] = (hsize_t)shape[i];
  hid_t space = H5Screate_simple(rank, dims, NULL);
  hid_t d = space < 0 ? -1
                      : H5Dcreate2(w->file, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT,
                                   H5P_DEFAULT);
  if (d < 0 || H5Dwrite(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) fail(w, name);
  sr_h5_close(d);
  sr_h5_close(space);
}

static void attr(h5w *w, const char *name, hid_t type, const void *value) {
  if (w->st != SR_OK) return;
  hid_t space = H5Screate(H5S_SCALAR);
  hid_t a = space < 0 ? -1 : H5Acreate2(w->file, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
  if (a < 0 || H5Awrite(a, type, value) < 0) fail(w, name);
  sr_h5_close(a);
  sr_h5_close(space);
}

static void attr_double(h5w *w, const char *name, double v) {
  attr(w, name, H5T_NATIVE_DOUBLE, &v);
}
static void attr_int(h5w *w, const char *name, int64_t v) {
  attr(w, name, H5T_NATIVE_INT64, &v);
}

/* Fixed-length, NUL-padded ASCII: what h5py reads as bytes / str. */
static void attr_string(h5w *w, const char *name, const char *s) {
  if (w->st != SR_OK) return;
  hid_t t = H5Tcopy(H5T_C_S1);
  size_t len = strlen(s);
  if (t < 0 || H5Tset_size(t, len ? len : 1) < 0 || H5Tset_strpad(t, H5T_STR_NULLPAD) < 0) {
    fail(w, name);
  } else {
    attr(w, name, t, len ? s : "");
  }
  sr_h5_close(t);
}

/* Opens an in-memory file. Each gets its own name: HDF5 refuses two open
 * files of the same name even without a backing store. */
static void open_memory(h5w *w) {
  static unsigned long counter = 0;
  char name[64];
  snprintf(name, sizeof name, "scorerecon-memory-%lu.h5", ++counter);
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  if (fapl < 0 || H5Pset_fapl_core(fapl, 1 << 20, 0) < 0) {
    fail(w, "the file (core driver)");
  } else {
    w->file = H5Fcreate(name, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    if (w->file < 0) fail(w, "the file");
  }
  sr_h5_close(fapl);
}

/* Takes the finished image, closes the in-memory file, writes atomically. */
static sr_status commit(h5w *w) {
  void *image = NULL;
  ssize_t size = -1;
  if (w->st == SR_OK && H5Fflush(w->file, H5F_SCOPE_GLOBAL) >= 0)
    size = H5Fget_file_image(w->file, NULL, 0);
  if (w->st == SR_OK && size > 0) {
    image = malloc((size_t)size);
    if (!image) {
      w->st = sr_fail(w->ctx, SR_ERR_OUT_OF_MEMORY, "%s: cannot hold a %zd-byte file image",
                      w->path, size);
    } else if (H5Fget_file_image(w->file, image, (size_t)size) != size) {
      fail(w, "the file image");
    }
  } else if (w->st == SR_OK) {
    fail(w, "the file image");
  }
  sr_h5_close(w->file);
  w->file = -1;
  if (w->st == SR_OK) w->st = sr_atomic_write_file(w->ctx, w->path, 0, image, (size_t)size);
  free(image);
  return w->st;
}

static void common_attrs(h5w *w, const char *modality) {
  attr_string(w, "modality", modality);
  attr_string(w, "scorerecon_version", SR_VERSION_STRING);
}

sr_status sr_mri_meas_write(sr_context *ctx, const char *path, const sr_mri_meas *m) {
  SR_TRY(sr_mri_meas_validate(ctx, path, m));
  sr_h5_silence();
  h5w w = {ctx, path, -1, SR_OK};
  size_t plane = (size_t)(m->h * m->w), n = (size_t)m->nslices * plane;
  unsigned char *mask8 = (unsigned char *)malloc(plane);
  if (!mask8) return sr_fail(ctx, SR_ERR_OUT_OF_MEMORY, "%s: cannot allocate the mask", path);
  for (size_t k = 0; k < plane; ++k) mask8[k] = m->mask[k] != 0.0f;
  double max = 0.0;
  if (m->target)
    for (size_t i = 0; i < n; ++i) max = (double)m->target[i] > max ? (double)m->target[i] : max;
  double ones = 0.0;
  for (size_t k = 0; k < plane; ++k) ones += mask8[k];

  open_memory(&w);
  hid_t c64 = sr_h5_complex64_type();
  int64_t shape3[3] = {m->nslices, m->h, m->w}, shape2[2] = {m->h, m->w};
  dataset(&w, "kspace", c64, c64, 3, shape3, m->kspace);
  sr_h5_close(c64);
  dataset(&w, "mask", H5T_STD_U8LE, H5T_NATIVE_UCHAR, 2, shape2, mask8);
  if (m->target)
    dataset(&w, "reconstruction_esc", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 3, shape3, m->target);
  common_attrs(&w, "mri");
  attr_string(&w, "acquisition", "simulated");
  attr_double(&w, "max", max);
  attr_string(&w, "norm", "ortho");
  attr_string(&w, "mask_type", m->mask_type[0] ? m->mask_type : "unknown");
  attr_double(&w, "accel", m->accel);
  attr_double(&w, "true_acceleration", (double)plane / ones);
  attr_double(&w, "center_fraction", m->center_fraction);
  attr_int(&w, "n_keep", m->n_keep);
  attr_int(&w, "seed", m->seed);
  attr_double(&w, "noise_sigma", m->noise_sigma);
  free(mask8);
  return commit(&w);
}

sr_status sr_ct_meas_write(sr_context *ctx, const char *path, const sr_ct_meas *m) {
  SR_TRY(sr_ct_meas_validate(ctx, path, m));
  sr_h5_silence();
  h5w w = {ctx, path, -1, SR_OK};
  open_memory(&w);
  int64_t sshape[3] = {m->nslices, m->n_views, m->n_det};
  int64_t tshape[3] = {m->nslices, m->image_h, m->image_w};
  dataset(&w, "sinogram", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 3, sshape, m->sinogram);
  dataset(&w, "angles", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 1, &m->n_views, m->angles);
  if (m->view_index)
    dataset(&w, "view_index", H5T_STD_I32LE, H5T_NATIVE_INT32, 1, &m->n_views, m->view_index);
  if (m->target) dataset(&w, "target", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 3, tshape, m->target);
  common_attrs(&w, "ct");
  attr_int(&w, "image_h", m->image_h);
  attr_int(&w, "image_w", m->image_w);
  attr_int(&w, "n_det", m->n_det);
  attr_double(&w, "det_spacing", m->det_spacing);
  attr_double(&w, "det_offset", m->det_offset);
  attr_double(&w, "pixel_spacing", m->pixel_spacing);
  attr_int(&w, "n_full_views", m->view_index ? m->n_full : 0);
  attr_string(&w, "noise", m->noise[0] ? m->noise : "none");
  attr_double(&w, "noise_sigma", m->noise_sigma);
  attr_double(&w, "i0", m->i0);
  attr_int(&w, "seed", m->seed);
  return commit(&w);
}
