/* scorerecon simulate ct|mri --in IMAGE --out MEAS.h5: measurements from
 * images, written as HDF5 measurement files (src/io/h5meas.h).
 *
 * CT avoids the inverse crime by default (CLARIFICATIONS): each slice is
 * resampled 2x finer (bilinear interpolation of the pixel centres, a
 * continuous object rather than the reconstruction grid), projected with
 * the same angles onto a detector 2x finer, and pairs of bins averaged, so
 * the data do not come from the operator that reconstructs them.
 * --inverse-crime projects with that very operator instead (tests). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "cli/commands.h"
#include "cli/image_volume.h"
#include "cli/options.h"
#include "cli/report.h"
#include "core/error.h"
#include "io/h5meas.h"
#include "operators/ct_geometry.h"
#include "operators/ct_parallel.h"
#include "operators/mri_cartesian.h"
#include "operators/mri_mask.h"

static const char *in_path, *out_path;
static int64_t angles, views, n_keep, seed;
static double accel, center_fraction, noise_sigma, i0, atten_scale;
static int mask_choice, inverse_crime, normalize;

static const sr_option options[] = {
    {"in", 'i', SR_OPT_STRING, &in_path, NULL, "image or volume: .npy, .nii, .nii.gz, .png", NULL,
     "IMAGE"},
    {"out", 'o', SR_OPT_STRING, &out_path, NULL, "measurement file to write (.h5)", NULL,
     "MEAS.h5"},
    {"angles", 0, SR_OPT_INT, &angles, "0",
     "CT: views of the full scan over [0, pi); 0: the image side (the paper's 320)", NULL, "N"},
    {"views", 0, SR_OPT_INT, &views, "0",
     "CT: keep N views of the full scan, rows round(linspace(0, full - 1, N)); 0: all", NULL, "N"},
    {"mask", 0, SR_OPT_CHOICE, &mask_choice, "auto",
     "MRI mask; auto: paper when --n-keep is given, else random",
     "auto|random|equispaced|paper|vd2d", NULL},
    {"accel", 0, SR_OPT_DOUBLE, &accel, "4", "MRI: nominal acceleration (random, equispaced, vd2d)",
     NULL, "R"},
    {"center-fraction", 0, SR_OPT_DOUBLE, &center_fraction, "0.08",
     "MRI: fraction of central k-space columns always kept", NULL, "F"},
    {"n-keep", 0, SR_OPT_INT, &n_keep, "0",
     "MRI: the paper's mask by kept columns (30: 31 columns of 240, 7.7x)", NULL, "K"},
    {"noise-sigma", 0, SR_OPT_DOUBLE, &noise_sigma, "0",
     "Gaussian noise: CT per sinogram bin, MRI per real component of k-space", NULL, "S"},
    {"i0", 0, SR_OPT_DOUBLE, &i0, "0",
     "CT: Poisson noise with this many incident photons per ray (0: none)", NULL, "PHOTONS"},
    {"atten-scale", 0, SR_OPT_DOUBLE, &atten_scale, "0",
     "CT with --i0: attenuation per unit of line integral; 0: the largest becomes 4", NULL, "A"},
    {"seed", 0, SR_OPT_INT, &seed, "0", "seed of the noise and of random masks", NULL, NULL},
    {"normalize", 0, SR_OPT_CHOICE, &normalize, "none",
     "scale the image volume first: none, or max (divide by its maximum)", "none|max", NULL},
    {"inverse-crime", 0, SR_OPT_FLAG, &inverse_crime, NULL,
     "CT: project with the reconstruction operator itself (for tests only)", NULL, NULL},
};

static const sr_command_spec spec = {
    "simulate",
    "ct|mri",
    "Turn images into measurements with optional noise, written as HDF5: MRI in fastMRI's\n"
    "single-coil layout (centred orthonormal k-space, mask, reconstruction_esc), CT as a\n"
    "parallel-beam sinogram on ceil(sqrt(2) N) bins with its angles and target. Noise is\n"
    "drawn from the project's Philox generator (key: seed, slice).",
    options,
    sizeof options / sizeof options[0],
    1,
    1};

static const char *const mask_names[] = {"auto", "random", "equispaced", "paper", "vd2d"};

/* x += sigma * N(0, 1), n per slice; slice s draws from key (seed, s). */
static sr_status add_noise(sr_backend *b, float *x, size_t nslices, size_t n, double sigma,
                           float *z) {
  sr_rng_stream rs = {
      .seed = (uint32_t)seed, .first_slice = 0, .step = 0, .purpose = SR_DRAW_MEASUREMENT_NOISE};
  SR_TRY(b->ops->randn(b, z, nslices, n, rs));
  return b->ops->axpby(b, x, z, nslices * n, (float)sigma, 1.0f);
}

static sr_status simulate_mri(sr_context *ctx, sr_backend *b, const sr_volume *v) {
  sr_mask_params mp = sr_mask_params_default();
  int choice = mask_choice == 0 ? (n_keep > 0 ? 3 : 1) : mask_choice;
  SR_TRY(sr_mask_kind_parse(ctx, mask_names[choice], &mp.kind));
  mp.accel = accel;
  mp.center_fraction = center_fraction;
  mp.n_keep = (int)(n_keep > 0 ? n_keep : 30);
  mp.seed = (uint32_t)seed;
  size_t plane = (size_t)(v->h * v->w), n = (size_t)v->nslices * plane;
  sr_mri_meas m;
  memset(&m, 0, sizeof m);
  m.nslices = v->nslices, m.h = v->h, m.w = v->w;
  m.mask = (float *)malloc(plane * sizeof(float));
  m.kspace = (float *)malloc(2 * n * sizeof(float));
  float *z = (float *)malloc(2 * n * sizeof(float));
  sr_operator *op = NULL;
  sr_status st = (!m.mask || !m.kspace || !z)
                     ? sr_fail(ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate k-space for %s", in_path)
                     : SR_OK;
  if (st == SR_OK) st = sr_mri_mask_make(ctx, &mp, v->h, v->w, m.mask);
  if (st == SR_OK) st = sr_mri_cartesian_create(b, v->h, v->w, m.mask, &op);
  if (st == SR_OK) st = op->vt->forward(op, v->data, m.kspace, (size_t)v->nslices);
  if (st == SR_OK && noise_sigma > 0.0) {
    st = add_noise(b, m.kspace, (size_t)v->nslices, 2 * plane, noise_sigma, z);
    /* Unmeasured samples stay zero. */
    if (st == SR_OK) st = b->ops->cmask(b, m.kspace, m.kspace, m.mask, (size_t)v->nslices, plane);
  }
  if (st == SR_OK) {
    m.target = v->data;
    snprintf(m.mask_type, sizeof m.mask_type, "%s", sr_mask_kind_name(mp.kind));
    m.accel = mp.kind == SR_MASK_PAPER ? (double)v->h / (double)mp.n_keep : accel;
    m.center_fraction = mp.kind == SR_MASK_PAPER ? mp.n_keep / 1000.0 : center_fraction;
    m.n_keep = mp.kind == SR_MASK_PAPER ? mp.n_keep : 0;
    m.seed = seed;
    m.noise_sigma = noise_sigma;
    st = sr_mri_meas_write(ctx, out_path, &m);
  }
  if (st == SR_OK)
    printf("simulate mri: %lld slice(s) of %lld x %lld, %s mask, %zu of %lld columns, true "
           "acceleration %.2fx, noise sigma %g -> %s\n",
           (long long)v->nslices, (long long)v->h, (long long)v->w, m.mask_type,
           sr_mri_mask_columns(m.mask, v->h, v->w), (long long)v->w,
           sr_mri_mask_acceleration(m.mask, plane), noise_sigma, out_path);
  sr_operator_destroy(op);
  free(m.mask), free(m.kspace), free(z);
  return st;
}

/* Bilinear resampling of the pixel centres onto the 2x finer grid of the
 * projector's convention: fine pixel (I, J) sits at coarse coordinates
 * ((I - H) / 2 + H/2, (J - W) / 2 + W/2); edges repeat. */
static void upsample2(const float *x, float *f, int64_t h, int64_t w) {
  for (int64_t i = 0; i < 2 * h; ++i) {
    double r = (double)(i - h) * 0.5 + (double)(h / 2);
    r = r < 0.0 ? 0.0 : r > (double)(h - 1) ? (double)(h - 1) : r;
    int64_t r0 = (int64_t)floor(r), r1 = r0 + 1 < h ? r0 + 1 : r0;
    double fr = r - (double)r0;
    for (int64_t j = 0; j < 2 * w; ++j) {
      double c = (double)(j - w) * 0.5 + (double)(w / 2);
      c = c < 0.0 ? 0.0 : c > (double)(w - 1) ? (double)(w - 1) : c;
      int64_t c0 = (int64_t)floor(c), c1 = c0 + 1 < w ? c0 + 1 : c0;
      double fc = c - (double)c0;
      double v = (1 - fr) * ((1 - fc) * x[r0 * w + c0] + fc * x[r0 * w + c1]) +
                 fr * ((1 - fc) * x[r1 * w + c0] + fc * x[r1 * w + c1]);
      f[i * 2 * w + j] = (float)v;
    }
  }
}

/* The sinogram of every slice without the inverse crime (see the top). */
static sr_status project_fine(sr_context *ctx, sr_backend *b, const sr_ct_geometry *g,
                              const sr_volume *v, float *sino) {
  sr_ct_geometry fine;
  SR_TRY(sr_ct_geometry_copy(ctx, g, &fine));
  fine.image_h = 2 * g->image_h, fine.image_w = 2 * g->image_w;
  fine.pixel_size = g->pixel_size / 2.0;
  fine.n_det = 2 * g->n_det;
  fine.det_spacing = g->det_spacing / 2.0;
  /* Fine bins 2k and 2k + 1 are the two halves of coarse bin k. */
  fine.det_offset = (double)(2 * (g->n_det / 2) - g->n_det) + 2.0 * g->det_offset + 0.5;
  sr_operator *op = NULL;
  sr_status st = sr_ct_parallel_create(b, &fine, &op);
  size_t fplane = (size_t)(4 * v->h * v->w), fbins = (size_t)(g->n_angles * fine.n_det);
  float *fimg = (float *)malloc(fplane * sizeof(float)),
        *fsino = (float *)malloc(fbins * sizeof(float));
  if (st == SR_OK && (!fimg || !fsino))
    st = sr_fail(ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate the fine projection");
  for (int64_t s = 0; st == SR_OK && s < v->nslices; ++s) {
    upsample2(v->data + (size_t)(s * v->h * v->w), fimg, v->h, v->w);
    st = op->vt->forward(op, fimg, fsino, 1);
    float *out = sino + (size_t)(s * g->n_angles * g->n_det);
    for (int64_t a = 0; st == SR_OK && a < g->n_angles; ++a)
      for (int64_t k = 0; k < g->n_det; ++k) {
        const float *fr = fsino + (size_t)(a * fine.n_det);
        out[a * g->n_det + k] = 0.5f * (fr[2 * k] + fr[2 * k + 1]);
      }
  }
  free(fimg), free(fsino);
  sr_operator_destroy(op);
  sr_ct_geometry_release(&fine);
  return st;
}

/* Transmission noise: counts ~ Poisson(I0 exp(-a p)), here its normal
 * approximation I0 e^{-a p} + sqrt(I0 e^{-a p}) z (z from Philox, so
 * reproducible on every backend), rounded and kept >= 1, then p = -log(counts
 * / I0) / a. Exact enough wherever a ray keeps more than ~20 photons. */
static sr_status poisson_noise(sr_backend *b, float *p, size_t nslices, size_t n, float *z) {
  size_t total = nslices * n;
  float pmax = 0.0f;
  for (size_t i = 0; i < total; ++i) pmax = p[i] > pmax ? p[i] : pmax;
  double a = atten_scale > 0.0 ? atten_scale : (pmax > 0.0f ? 4.0 / pmax : 1.0);
  sr_rng_stream rs = {
      .seed = (uint32_t)seed, .first_slice = 0, .step = 0, .purpose = SR_DRAW_MEASUREMENT_NOISE};
  SR_TRY(b->ops->randn(b, z, nslices, n, rs));
  for (size_t i = 0; i < total; ++i) {
    double lambda = i0 * exp(-a * (double)p[i]);
    double counts = rint(lambda + sqrt(lambda) * (double)z[i]);
    if (counts < 1.0) counts = 1.0;
    p[i] = (float)(-log(counts / i0) / a);
  }
  return SR_OK;
}

static sr_status simulate_ct(sr_context *ctx, sr_backend *b, const sr_volume *v) {
  int64_t n_full = angles > 0 ? angles : (v->h > v->w ? v->h : v->w);
  int64_t n_views = views > 0 ? views : n_full;
  if (n_views > n_full)
    return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT,
                   "--views %lld exceeds the %lld views of the full scan", (long long)n_views,
                   (long long)n_full);
  sr_ct_geometry full, g;
  memset(&full, 0, sizeof full);
  memset(&g, 0, sizeof g);
  int64_t *rows = (int64_t *)malloc((size_t)n_views * sizeof(int64_t));
  if (!rows) return sr_fail(ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate view rows");
  sr_status st = sr_ct_geometry_init(ctx, &full, v->h, v->w, n_full);
  if (st == SR_OK) st = sr_ct_geometry_sparse(ctx, &full, n_views, &g, rows);
  sr_ct_meas m;
  memset(&m, 0, sizeof m);
  size_t bins = (size_t)(n_views * g.n_det), total = (size_t)v->nslices * bins;
  m.sinogram = st == SR_OK ? (float *)malloc(total * sizeof(float)) : NULL;
  m.angles = st == SR_OK ? (float *)malloc((size_t)n_views * sizeof(float)) : NULL;
  m.view_index = st == SR_OK ? (int32_t *)malloc((size_t)n_views * sizeof(int32_t)) : NULL;
  float *z = st == SR_OK ? (float *)malloc(total * sizeof(float)) : NULL;
  if (st == SR_OK && (!m.sinogram || !m.angles || !m.view_index || !z))
    st = sr_fail(ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate the sinogram of %s", in_path);
  if (st == SR_OK) {
    if (inverse_crime) {
      sr_operator *op = NULL;
      st = sr_ct_parallel_create(b, &g, &op);
      if (st == SR_OK) st = op->vt->forward(op, v->data, m.sinogram, (size_t)v->nslices);
      sr_operator_destroy(op);
    } else {
      st = project_fine(ctx, b, &g, v, m.sinogram);
    }
  }
  if (st == SR_OK && i0 > 0.0) st = poisson_noise(b, m.sinogram, (size_t)v->nslices, bins, z);
  if (st == SR_OK && noise_sigma > 0.0)
    st = add_noise(b, m.sinogram, (size_t)v->nslices, bins, noise_sigma, z);
  if (st == SR_OK) {
    for (int64_t k = 0; k < n_views; ++k) {
      m.angles[k] = (float)g.angles[k];
      m.view_index[k] = (int32_t)rows[k];
    }
    m.nslices = v->nslices, m.n_views = n_views, m.n_det = g.n_det;
    m.image_h = v->h, m.image_w = v->w;
    m.n_full = n_full;
    m.det_spacing = g.det_spacing, m.pixel_spacing = g.pixel_size, m.det_offset = g.det_offset;
    m.target = v->data;
    snprintf(m.noise, sizeof m.noise, "%s",
             i0 > 0.0            ? "poisson"
             : noise_sigma > 0.0 ? "gaussian"
                                 : "none");
    m.noise_sigma = noise_sigma, m.i0 = i0, m.seed = seed;
    st = sr_ct_meas_write(ctx, out_path, &m);
  }
  if (st == SR_OK)
    printf("simulate ct: %lld slice(s) of %lld x %lld, %lld of %lld views, %lld bins, %s, noise "
           "%s -> %s\n",
           (long long)v->nslices, (long long)v->h, (long long)v->w, (long long)n_views,
           (long long)n_full, (long long)g.n_det,
           inverse_crime ? "same operator (inverse crime)" : "2x finer image and detector", m.noise,
           out_path);
  free(m.sinogram), free(m.angles), free(m.view_index), free(z), free(rows);
  sr_ct_geometry_release(&full);
  sr_ct_geometry_release(&g);
  return st;
}

int sr_cmd_simulate(int argc, char **argv) {
  int nargs = 0;
  char **args = NULL;
  angles = views = n_keep = seed = 0;
  int rc = sr_options_parse(&spec, argc, argv, &nargs, &args);
  if (rc != SR_CLI_RUN) return rc;
  int is_ct = strcmp(args[0], "ct") == 0, is_mri = strcmp(args[0], "mri") == 0;
  if (!is_ct && !is_mri)
    return sr_cli_usage(spec.name, "modality must be ct or mri, got '%s'", args[0]);
  if (!in_path || !out_path) return sr_cli_usage(spec.name, "--in and --out are required");
  if (angles < 0 || views < 0 || n_keep < 0 || seed < 0 || seed > UINT32_MAX)
    return sr_cli_usage(spec.name, "--angles, --views, --n-keep and --seed must be >= 0");
  if (noise_sigma < 0.0 || i0 < 0.0 || atten_scale < 0.0)
    return sr_cli_usage(spec.name, "--noise-sigma, --i0 and --atten-scale must be >= 0");
  /* A CPU context on every core: simulation is host work. */
  sr_context_options o = sr_context_options_default();
  o.backend = SR_BACKEND_CPU;
  sr_context *ctx = NULL;
  sr_status cst = sr_context_create(&o, &ctx);
  if (cst != SR_OK) {
    rc = sr_cli_fail_status(spec.name, ctx, cst);
    sr_context_destroy(ctx);
    return rc;
  }
  sr_backend *b = sr_context_get_backend(ctx);
  sr_volume v = {0};
  sr_status st = sr_volume_read(ctx, in_path, &v);
  if (st == SR_OK && normalize == 1) {
    size_t n = (size_t)(v.nslices * v.h * v.w);
    float mx = 0.0f;
    for (size_t i = 0; i < n; ++i) mx = v.data[i] > mx ? v.data[i] : mx;
    if (mx > 0.0f)
      for (size_t i = 0; i < n; ++i) v.data[i] /= mx;
  }
  if (st == SR_OK) st = is_mri ? simulate_mri(ctx, b, &v) : simulate_ct(ctx, b, &v);
  rc = st == SR_OK ? 0 : sr_cli_fail_status(spec.name, ctx, st);
  sr_volume_free(&v);
  sr_context_destroy(ctx);
  return rc;
}
