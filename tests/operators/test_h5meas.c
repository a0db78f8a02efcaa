/* Measurement files: MRI and CT round trips, real fastMRI layouts written by
 * h5py (tools/golden_fastmri.py: compound complex, bool-enum masks, a
 * k-space grid larger than the target), and malformed or mismatched files
 * rejected with one message that names the file. Writing is atomic: a
 * failed write leaves an existing file untouched. */
#define _POSIX_C_SOURCE 200809L
#include <hdf5.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "backend/backend.h"
#include "io/atomic_write.h"
#include "io/h5meas.h"
#include "test_util.h"

#ifndef SR_TEST_DATA
#define SR_TEST_DATA "."
#endif

static char tmpdir[256];

static const char *tmp_path(const char *name) {
  static char buf[4][512];
  static int k = 0;
  k = (k + 1) % 4;
  snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
  return buf[k];
}

/* A small valid MRI measurement: 2 slices of 6 x 8, columns 0, 3, 4 kept. */
static void make_mri(sr_mri_meas *m, float *k, float *mask, float *target) {
  memset(m, 0, sizeof *m);
  m->nslices = 2, m->h = 6, m->w = 8;
  for (int i = 0; i < 48; ++i) mask[i] = (i % 8 == 0 || i % 8 == 3 || i % 8 == 4);
  for (int i = 0; i < 96; ++i) {
    k[2 * i] = mask[i % 48] * (float)(i % 7) * 0.5f;
    k[2 * i + 1] = mask[i % 48] * (float)(i % 5) * -0.25f;
    target[i] = (float)i / 96.0f;
  }
  m->kspace = k, m->mask = mask, m->target = target;
  snprintf(m->mask_type, sizeof m->mask_type, "equispaced");
  m->accel = 2.0, m->center_fraction = 0.25, m->seed = 9, m->noise_sigma = 0.01;
}

static void test_mri_round_trip(sr_context *ctx) {
  float k[192], mask[48], target[96];
  sr_mri_meas m;
  make_mri(&m, k, mask, target);
  const char *path = tmp_path("mri.h5");
  CHECK_OK(ctx, sr_mri_meas_write(ctx, path, &m));
  sr_meas r;
  CHECK_OK(ctx, sr_meas_read(ctx, path, &r));
  CHECK(r.modality == SR_MODALITY_MRI);
  CHECK(r.mri.nslices == 2 && r.mri.h == 6 && r.mri.w == 8);
  if (r.mri.kspace) {
    CHECK(memcmp(r.mri.kspace, k, sizeof k) == 0);
    CHECK(memcmp(r.mri.mask, mask, sizeof mask) == 0);
    CHECK(r.mri.target && memcmp(r.mri.target, target, sizeof target) == 0);
  }
  CHECK(strcmp(r.mri.mask_type, "equispaced") == 0);
  CHECK(r.mri.accel == 2.0 && r.mri.center_fraction == 0.25 && r.mri.seed == 9);
  CHECK(fabs(r.mri.noise_sigma - 0.01) < 1e-12 && r.mri.fastmri == 0);
  sr_meas_free(&r);

  /* A failed write (rename fails) leaves the existing file as it was. */
  k[0] = 123.0f;
  sr_atomic_inject_fault(SR_ATOMIC_FAULT_RENAME);
  CHECK(sr_mri_meas_write(ctx, path, &m) != SR_OK);
  CHECK_OK(ctx, sr_meas_read(ctx, path, &r));
  CHECK(r.mri.kspace && r.mri.kspace[0] == 0.0f);
  sr_meas_free(&r);
}

static void test_ct_round_trip(sr_context *ctx) {
  sr_ct_meas m;
  memset(&m, 0, sizeof m);
  float sino[2 * 3 * 5], angles[3], target[2 * 4 * 4];
  int32_t idx[3] = {0, 4, 8};
  for (int i = 0; i < 30; ++i) sino[i] = (float)i * 0.1f;
  for (int v = 0; v < 3; ++v) angles[v] = (float)(3.14159265358979 * idx[v] / 12.0);
  for (int i = 0; i < 32; ++i) target[i] = (float)i;
  m.nslices = 2, m.n_views = 3, m.n_det = 5, m.image_h = 4, m.image_w = 4;
  m.sinogram = sino, m.angles = angles, m.view_index = idx, m.n_full = 12;
  m.det_spacing = 1.0, m.pixel_spacing = 0.5, m.target = target;
  snprintf(m.noise, sizeof m.noise, "poisson");
  m.i0 = 1e5, m.seed = 3;
  const char *path = tmp_path("ct.h5");
  CHECK_OK(ctx, sr_ct_meas_write(ctx, path, &m));
  sr_meas r;
  CHECK_OK(ctx, sr_meas_read(ctx, path, &r));
  CHECK(r.modality == SR_MODALITY_CT);
  CHECK(r.ct.nslices == 2 && r.ct.n_views == 3 && r.ct.n_det == 5 && r.ct.n_full == 12);
  CHECK(r.ct.image_h == 4 && r.ct.image_w == 4 && r.ct.pixel_spacing == 0.5);
  if (r.ct.sinogram) {
    CHECK(memcmp(r.ct.sinogram, sino, sizeof sino) == 0);
    CHECK(memcmp(r.ct.angles, angles, sizeof angles) == 0);
    CHECK(r.ct.view_index && memcmp(r.ct.view_index, idx, sizeof idx) == 0);
    CHECK(r.ct.target && memcmp(r.ct.target, target, sizeof target) == 0);
  }
  CHECK(strcmp(r.ct.noise, "poisson") == 0 && r.ct.i0 == 1e5);
  sr_meas_free(&r);
  /* Angles that disagree with view_index are refused before writing. */
  angles[1] += 0.01f;
  CHECK_FAILS(ctx, sr_ct_meas_write(ctx, tmp_path("ct_bad.h5"), &m), SR_ERR_FORMAT);
  CHECK(access(tmp_path("ct_bad.h5"), F_OK) != 0);
}

/* fastMRI val-like file: k-space 20 x 12 cropped to the 8 x 8 target; the
 * magnitude of the cropped k-space's image is reconstruction_esc. */
static void test_fastmri(sr_context *ctx) {
  sr_meas r;
  CHECK_OK(ctx, sr_meas_read(ctx, SR_TEST_DATA "/fastmri_singlecoil_val.h5", &r));
  CHECK(r.modality == SR_MODALITY_MRI && r.mri.fastmri == 1);
  CHECK(r.mri.nslices == 2 && r.mri.h == 8 && r.mri.w == 8);
  CHECK(r.mri.source_h == 20 && r.mri.source_w == 12);
  CHECK(strcmp(r.mri.mask_type, "full") == 0);
  if (r.mri.kspace && r.mri.target) {
    sr_backend *b = sr_context_get_backend(ctx);
    float img[2 * 2 * 64], mag[2 * 64];
    CHECK_OK(ctx, b->ops->fft2c(b, img, r.mri.kspace, 2, 8, 8, 1));
    CHECK_OK(ctx, b->ops->cabs(b, mag, img, 2 * 64));
    double err = sr_test_rel_l2(mag, r.mri.target, 2 * 64);
    CHECK_MSG(err < 1e-5, "fastMRI crop: |image| vs reconstruction_esc relative L2 %.3g", err);
    for (int i = 0; i < 64; ++i) CHECK(r.mri.mask[i] == 1.0f);
  }
  sr_meas_free(&r);
  /* Test-set-like: (W,) bool mask, no target, k-space kept on its grid. */
  CHECK_OK(ctx, sr_meas_read(ctx, SR_TEST_DATA "/fastmri_singlecoil_test.h5", &r));
  CHECK(r.mri.nslices == 1 && r.mri.h == 16 && r.mri.w == 10 && r.mri.target == NULL);
  if (r.mri.mask) {
    const float expect[10] = {1, 0, 0, 1, 1, 1, 1, 0, 1, 0};
    for (int i = 0; i < 16; ++i) CHECK(memcmp(r.mri.mask + 10 * i, expect, sizeof expect) == 0);
  }
  sr_meas_free(&r);
}

/* ---- malformed files, written with the HDF5 API directly */

static hid_t create(const char *path) {
  return H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
}

static void put(hid_t f, const char *name, hid_t type, int rank, const hsize_t *dims,
                const void *data) {
  hid_t s = H5Screate_simple(rank, dims, NULL);
  hid_t d = H5Dcreate2(f, name, type, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
  H5Dclose(d);
  H5Sclose(s);
}

static hid_t c64(void) {
  hid_t t = H5Tcreate(H5T_COMPOUND, 8);
  H5Tinsert(t, "r", 0, H5T_NATIVE_FLOAT);
  H5Tinsert(t, "i", 4, H5T_NATIVE_FLOAT);
  return t;
}

typedef enum {
  BAD_MASK_SHAPE,
  BAD_NAN,
  BAD_DISAGREE,
  BAD_MASK_VALUE,
  BAD_REAL_KSPACE,
  BAD_RANK4,
  BAD_NOTHING,
  BAD_TARGET_SHAPE,
  BAD_CT_ANGLES,
  BAD_CT_NDET,
  BAD_COUNT
} bad_kind;

static sr_status expected_status(bad_kind k) {
  switch (k) {
  case BAD_MASK_SHAPE:
  case BAD_TARGET_SHAPE:
  case BAD_CT_ANGLES:
  case BAD_CT_NDET: return SR_ERR_SHAPE;
  case BAD_NAN: return SR_ERR_NUMERIC;
  case BAD_RANK4: return SR_ERR_UNSUPPORTED;
  default: return SR_ERR_FORMAT;
  }
}

static void write_bad(const char *path, bad_kind kind) {
  hid_t f = create(path);
  float k[2 * 2 * 4 * 4] = {0}, mask[16], target[2 * 16] = {0};
  for (int i = 0; i < 16; ++i) mask[i] = (i % 4) < 2;
  for (int i = 0; i < 32; ++i) k[2 * i] = mask[i % 16];
  hsize_t d3[3] = {2, 4, 4}, d2[2] = {4, 4};
  hid_t ct = c64();
  switch (kind) {
  case BAD_MASK_SHAPE: {
    hsize_t dm[2] = {5, 4};
    float m5[20] = {1};
    put(f, "kspace", ct, 3, d3, k);
    put(f, "mask", H5T_NATIVE_FLOAT, 2, dm, m5);
    break;
  }
  case BAD_NAN: k[5] = NAN; /* fall through */
  case BAD_DISAGREE:
    if (kind == BAD_DISAGREE) k[2 * 2 + 1] = 1.0f; /* column 2 is unmeasured */
    put(f, "kspace", ct, 3, d3, k);
    put(f, "mask", H5T_NATIVE_FLOAT, 2, d2, mask);
    break;
  case BAD_MASK_VALUE:
    mask[0] = 2.0f;
    put(f, "kspace", ct, 3, d3, k);
    put(f, "mask", H5T_NATIVE_FLOAT, 2, d2, mask);
    break;
  case BAD_REAL_KSPACE: put(f, "kspace", H5T_NATIVE_FLOAT, 3, d3, k); break;
  case BAD_RANK4: {
    hsize_t d4[4] = {1, 2, 4, 4};
    put(f, "kspace", ct, 4, d4, k);
    break;
  }
  case BAD_NOTHING: put(f, "image", H5T_NATIVE_FLOAT, 2, d2, mask); break;
  case BAD_TARGET_SHAPE: {
    hsize_t dt[3] = {3, 4, 4};
    float t3[48] = {0};
    put(f, "kspace", ct, 3, d3, k);
    put(f, "mask", H5T_NATIVE_FLOAT, 2, d2, mask);
    put(f, "reconstruction_esc", H5T_NATIVE_FLOAT, 3, dt, t3);
    break;
  }
  case BAD_CT_ANGLES:
  case BAD_CT_NDET: {
    hsize_t ds[3] = {1, 4, 4}, da[1] = {kind == BAD_CT_ANGLES ? 3 : 4};
    float ang[4] = {0, 0.5f, 1.0f, 1.5f};
    put(f, "sinogram", H5T_NATIVE_FLOAT, 3, ds, target);
    put(f, "angles", H5T_NATIVE_FLOAT, 1, da, ang);
    hid_t s = H5Screate(H5S_SCALAR);
    int64_t v[3] = {4, 4, kind == BAD_CT_NDET ? 7 : 4};
    const char *names[3] = {"image_h", "image_w", "n_det"};
    for (int i = 0; i < 3; ++i) {
      hid_t a = H5Acreate2(f, names[i], H5T_NATIVE_INT64, s, H5P_DEFAULT, H5P_DEFAULT);
      H5Awrite(a, H5T_NATIVE_INT64, &v[i]);
      H5Aclose(a);
    }
    H5Sclose(s);
    break;
  }
  case BAD_COUNT: break;
  }
  H5Tclose(ct);
  H5Fclose(f);
}

static void test_malformed(sr_context *ctx) {
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  for (int kind = 0; kind < BAD_COUNT; ++kind) {
    char name[64];
    snprintf(name, sizeof name, "bad%d.h5", kind);
    const char *path = tmp_path(name);
    write_bad(path, (bad_kind)kind);
    sr_meas r;
    sr_context_clear_error(ctx);
    sr_status st = sr_meas_read(ctx, path, &r);
    const char *msg = sr_context_last_error(ctx);
    CHECK_MSG(st == expected_status((bad_kind)kind), "bad file %d: %s (%s)", kind, sr_strerror(st),
              msg);
    CHECK_MSG(strstr(msg, path) == msg, "bad file %d: message does not start with the path: %s",
              kind, msg);
    CHECK(strchr(msg, '\n') == NULL);
    CHECK(r.mri.kspace == NULL && r.ct.sinogram == NULL);
    printf("rejected bad file %d: %s\n", kind, msg + strlen(path));
  }
  /* Not HDF5 at all, and missing. */
  const char *txt = tmp_path("text.h5");
  FILE *f = fopen(txt, "w");
  fputs("hello\n", f);
  fclose(f);
  sr_meas r;
  CHECK_FAILS(ctx, sr_meas_read(ctx, txt, &r), SR_ERR_FORMAT);
  CHECK_FAILS(ctx, sr_meas_read(ctx, tmp_path("missing.h5"), &r), SR_ERR_IO);
  /* The writer refuses to store a measurement whose k-space leaves the mask. */
  float k[192], mask[48], target[96];
  sr_mri_meas m;
  make_mri(&m, k, mask, target);
  k[2 * 1] = 1.0f; /* column 1 is not measured */
  CHECK_FAILS(ctx, sr_mri_meas_write(ctx, tmp_path("never.h5"), &m), SR_ERR_FORMAT);
  CHECK(access(tmp_path("never.h5"), F_OK) != 0);
}

int main(void) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/sr_test_h5meas_XXXXXX");
  if (!mkdtemp(tmpdir)) return 1;
  sr_context_options o = sr_context_options_default();
  o.backend = SR_BACKEND_CPU;
  sr_context *ctx = NULL;
  CHECK_OK(ctx, sr_context_create(&o, &ctx));
  test_mri_round_trip(ctx);
  test_ct_round_trip(ctx);
  test_fastmri(ctx);
  test_malformed(ctx);
  sr_context_destroy(ctx);
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
  return sr_test_finish("test_h5meas");
}
