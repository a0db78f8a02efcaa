/* The ct-fourier operator (see ct_fourier.h). Host code builds the tables
 * once; every per-slice map is a handful of op-table calls (cuFFT or FFTW,
 * gather / scatter kernels), so the same code runs on both backends. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "operators/ct_fourier.h"
#include "operators/ct_fourier_internal.h"
#include "operators/ct_geometry.h"
#include "operators/ct_parallel.h"

typedef struct ct_fourier {
  sr_ct_fourier_grid grid;
  sr_operator *proj; /* ct-parallel on the kept views, D bins */
  /* Backend memory: */
  float *mask;       /* (ED, ED) Lambda */
  float *dft;        /* (D, ED) complex: e^{-2 pi i r_j (s - D/2) / D} */
  int32_t *lam_dst;  /* (n_lambda) grid index of each Lambda point */
  int32_t *lam_src;  /* (n_lambda, 4) samples of the measured lines (n_keep, ED) */
  float *lam_w;      /* (n_lambda, 4) bilinear weights */
  int32_t *line_src; /* (n_full, ED) grid index of every line sample */
  int32_t *win_dst;  /* (n_win) grid points some line reaches */
  int32_t *win_src;  /* (n_win) the line sample that wins it */
  size_t n_win;
  void *scratch; /* grows on demand */
  size_t scratch_bytes;
} ct_fourier;

static ct_fourier *impl_of(const sr_operator *op) {
  return (ct_fourier *)op->impl;
}

static sr_status scratch(sr_operator *op, size_t bytes, float **out) {
  ct_fourier *f = impl_of(op);
  sr_backend *b = op->backend;
  if (bytes > f->scratch_bytes) {
    if (f->scratch) b->ops->free(b, f->scratch);
    f->scratch = NULL;
    f->scratch_bytes = 0;
    SR_TRY(b->ops->alloc(b, bytes, &f->scratch));
    f->scratch_bytes = bytes;
  }
  *out = (float *)f->scratch;
  return SR_OK;
}

/* Where pixel (0, 0) lands on the grid: the pads centre pixel (N/2, N/2) on
 * the origin, i.e. at offset -(N/2) modulo ED. */
static size_t origin_offset(const sr_ct_fourier_grid *g) {
  return (size_t)(g->ed - g->n / 2);
}

static sr_status cf_forward(sr_operator *op, const float *x, void *y, size_t nslices) {
  sr_operator *p = impl_of(op)->proj;
  return p->vt->forward(p, x, y, nslices);
}

static sr_status cf_adjoint(sr_operator *op, const void *y, float *x, size_t nslices) {
  sr_operator *p = impl_of(op)->proj;
  return p->vt->adjoint(p, y, x, nslices);
}

/* t = fft2(ifftshift(pad(x))), complex (ED, ED) per slice. */
static sr_status cf_transform(sr_operator *op, const float *x, float *t, size_t nslices) {
  const sr_ct_fourier_grid *g = &impl_of(op)->grid;
  sr_backend *b = op->backend;
  size_t n = (size_t)g->n, ed = (size_t)g->ed, o = origin_offset(g);
  SR_TRY(b->ops->embed_real(b, t, x, nslices, n, n, ed, ed, o, o));
  return b->ops->fft2(b, t, t, nslices, ed, ed, 0, 1.0f);
}

/* x = Re crop(fftshift(ifft2(t))); t is left as it was. */
static sr_status cf_inverse_transform(sr_operator *op, const float *t, float *x, size_t nslices) {
  const sr_ct_fourier_grid *g = &impl_of(op)->grid;
  sr_backend *b = op->backend;
  size_t n = (size_t)g->n, ed = (size_t)g->ed, o = origin_offset(g);
  float *tmp = NULL;
  SR_TRY(scratch(op, 2 * nslices * ed * ed * sizeof(float), &tmp));
  SR_TRY(b->ops->fft2(b, tmp, t, nslices, ed, ed, 1, 1.0f));
  return b->ops->extract_real(b, x, tmp, nslices, n, n, ed, ed, o, o,
                              (float)(1.0 / ((double)ed * (double)ed)));
}

/* Known k-space: DFT of each measured projection at the radii r_j, then the
 * interpolating scatter onto the Lambda points; zero elsewhere. */
static sr_status cf_measurement_to_transform(sr_operator *op, const void *y, float *t,
                                             size_t nslices) {
  ct_fourier *f = impl_of(op);
  const sr_ct_fourier_grid *g = &f->grid;
  sr_backend *b = op->backend;
  size_t ed = (size_t)g->ed, lines = (size_t)g->n_keep * ed;
  float *slices = NULL;
  SR_TRY(scratch(op, 2 * nslices * lines * sizeof(float), &slices));
  SR_TRY(b->ops->rmatmul_c(b, slices, (const float *)y, f->dft, nslices * (size_t)g->n_keep,
                           (size_t)g->d, ed));
  SR_TRY(b->ops->fill(b, t, 2 * nslices * ed * ed, 0.0f));
  return b->ops->cscatter(b, t, slices, f->lam_dst, f->lam_src, f->lam_w, 4, g->n_lambda, nslices,
                          ed * ed, lines);
}

sr_status sr_ct_fourier_kspace_to_lines(sr_operator *op, const float *t, float *lines,
                                        size_t nslices) {
  ct_fourier *f = impl_of(op);
  const sr_ct_fourier_grid *g = &f->grid;
  sr_backend *b = op->backend;
  size_t ed = (size_t)g->ed, rows = nslices * (size_t)g->n_full;
  float *tmp = NULL;
  SR_TRY(scratch(op, 2 * rows * ed * sizeof(float), &tmp));
  SR_TRY(b->ops->cgather(b, lines, t, f->line_src, nslices, (size_t)g->n_full * ed, ed * ed));
  SR_TRY(b->ops->fftshift2(b, tmp, lines, rows, 1, ed, 1, 1.0f));
  SR_TRY(b->ops->fft2(b, tmp, tmp, rows, 1, ed, 1, (float)(1.0 / (double)ed)));
  return b->ops->fftshift2(b, lines, tmp, rows, 1, ed, 0, 1.0f);
}

sr_status sr_ct_fourier_lines_to_kspace(sr_operator *op, const float *lines, float *t,
                                        size_t nslices) {
  ct_fourier *f = impl_of(op);
  const sr_ct_fourier_grid *g = &f->grid;
  sr_backend *b = op->backend;
  size_t ed = (size_t)g->ed, rows = nslices * (size_t)g->n_full;
  float *tmp = NULL;
  SR_TRY(scratch(op, 2 * 2 * rows * ed * sizeof(float), &tmp));
  float *tmp2 = tmp + 2 * rows * ed;
  SR_TRY(b->ops->fftshift2(b, tmp, lines, rows, 1, ed, 1, 1.0f));
  SR_TRY(b->ops->fft2(b, tmp, tmp, rows, 1, ed, 0, 1.0f));
  SR_TRY(b->ops->fftshift2(b, tmp2, tmp, rows, 1, ed, 0, 1.0f));
  return b->ops->cscatter(b, t, tmp2, f->win_dst, f->win_src, NULL, 1, f->n_win, nslices, ed * ed,
                          (size_t)g->n_full * ed);
}

static void cf_destroy(sr_operator *op) {
  if (!op) return;
  ct_fourier *f = impl_of(op);
  sr_backend *b = op->backend;
  if (f) {
    void *bufs[] = {f->mask,     f->dft,     f->lam_dst, f->lam_src, f->lam_w,
                    f->line_src, f->win_dst, f->win_src, f->scratch};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; ++i)
      if (bufs[i]) b->ops->free(b, bufs[i]);
    sr_operator_destroy(f->proj);
    sr_ct_fourier_grid_release(&f->grid);
    free(f);
  }
  free(op);
}

static const sr_operator_vtable ct_fourier_vtable = {
    .name = "ct-fourier",
    .destroy = cf_destroy,
    .forward = cf_forward,
    .adjoint = cf_adjoint,
    .transform = cf_transform,
    .inverse_transform = cf_inverse_transform,
    .measurement_to_transform = cf_measurement_to_transform,
};

const sr_ct_fourier_grid *sr_ct_fourier_grid_of(const sr_operator *op) {
  if (!op || op->vt != &ct_fourier_vtable) return NULL;
  return &impl_of(op)->grid;
}

/* Allocates backend memory and uploads `bytes` of host data into it. */
static sr_status upload(sr_backend *b, void **dst, const void *host, size_t bytes) {
  SR_TRY(b->ops->alloc(b, bytes, dst));
  return b->ops->upload(b, *dst, host, bytes);
}

/* The four taps of each Lambda point (see ct_fourier.h for the rule). */
static sr_status build_lambda_taps(sr_operator *op) {
  ct_fourier *f = impl_of(op);
  const sr_ct_fourier_grid *g = &f->grid;
  sr_backend *b = op->backend;
  size_t npts = g->n_lambda, ed = (size_t)g->ed;
  int32_t *dst = (int32_t *)malloc((npts ? npts : 1) * sizeof(int32_t));
  int32_t *src = (int32_t *)malloc((npts ? npts : 1) * 4 * sizeof(int32_t));
  float *w = (float *)malloc((npts ? npts : 1) * 4 * sizeof(float));
  int32_t *kept_index = (int32_t *)malloc((size_t)g->n_full * sizeof(int32_t));
  sr_status st = SR_OK;
  if (!dst || !src || !w || !kept_index)
    st = sr_fail(b->ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate Fourier CT interpolation tables");
  if (st == SR_OK) {
    for (int64_t a = 0; a < g->n_full; ++a) kept_index[a] = -1;
    for (int64_t k = 0; k < g->n_keep; ++k) kept_index[g->rows[k]] = (int32_t)k;
    size_t p = 0;
    for (size_t q = 0; q < ed * ed; ++q) {
      if (g->mask[q] == 0.0f) continue;
      int64_t s = g->winner[q], v = s / g->ed, j = s % g->ed;
      double th, rr;
      sr_ct_fourier_polar(g, v, j, &th, &rr);
      double a0f = floor(th), r0f = floor(rr);
      double fa = th - a0f, fr = rr - r0f;
      int64_t a0 = (int64_t)a0f, a1 = a0 + 1, r0 = (int64_t)r0f, r1 = r0 + 1;
      /* 'nearest' edges: clamp the indices. */
      a0 = a0 < 0 ? 0 : a0 >= g->n_full ? g->n_full - 1 : a0;
      a1 = a1 < 0 ? 0 : a1 >= g->n_full ? g->n_full - 1 : a1;
      r0 = r0 < 0 ? 0 : r0 >= g->ed ? g->ed - 1 : r0;
      r1 = r1 < 0 ? 0 : r1 >= g->ed ? g->ed - 1 : r1;
      int32_t k0 = kept_index[a0], k1 = kept_index[a1];
      int32_t *sp = src + 4 * p;
      float *wp = w + 4 * p;
      if (k0 >= 0 && k1 >= 0) {
        sp[0] = (int32_t)(k0 * g->ed + r0), wp[0] = (float)((1.0 - fa) * (1.0 - fr));
        sp[1] = (int32_t)(k0 * g->ed + r1), wp[1] = (float)((1.0 - fa) * fr);
        sp[2] = (int32_t)(k1 * g->ed + r0), wp[2] = (float)(fa * (1.0 - fr));
        sp[3] = (int32_t)(k1 * g->ed + r1), wp[3] = (float)(fa * fr);
      } else {
        /* Only the winning view's own line is measured near this point: take
         * the line's value at the foot of the perpendicular from the point. */
        int32_t kv = kept_index[v];
        double a_max = sr_ct_fourier_angle(g->n_full, g->n_full - 1);
        double r_min = sr_ct_fourier_radius(g->d, g->ed, 0);
        double r_max = sr_ct_fourier_radius(g->d, g->ed, g->ed - 1);
        double theta = th / (double)(g->n_full - 1) * a_max;
        double rho = rr / (double)(g->ed - 1) * (r_max - r_min) + r_min;
        double foot = rho * cos(theta - sr_ct_fourier_angle(g->n_full, v));
        double rf = (foot - r_min) / (r_max - r_min) * (double)(g->ed - 1);
        r0f = floor(rf);
        fr = rf - r0f;
        r0 = (int64_t)r0f, r1 = r0 + 1;
        r0 = r0 < 0 ? 0 : r0 >= g->ed ? g->ed - 1 : r0;
        r1 = r1 < 0 ? 0 : r1 >= g->ed ? g->ed - 1 : r1;
        sp[0] = (int32_t)(kv * g->ed + r0), wp[0] = (float)(1.0 - fr);
        sp[1] = (int32_t)(kv * g->ed + r1), wp[1] = (float)fr;
        sp[2] = sp[0], wp[2] = 0.0f;
        sp[3] = sp[1], wp[3] = 0.0f;
      }
      dst[p++] = (int32_t)q;
    }
  }
  if (st == SR_OK) st = upload(b, (void **)&f->lam_dst, dst, (npts ? npts : 1) * sizeof(int32_t));
  if (st == SR_OK)
    st = upload(b, (void **)&f->lam_src, src, (npts ? npts : 1) * 4 * sizeof(int32_t));
  if (st == SR_OK) st = upload(b, (void **)&f->lam_w, w, (npts ? npts : 1) * 4 * sizeof(float));
  free(dst), free(src), free(w), free(kept_index);
  return st;
}

/* The DFT at the radii: m[s][j] = exp(-2 pi i r_j (s - D/2) / D), phases in
 * double reduced to one turn before the sine and cosine. */
static sr_status build_dft(sr_operator *op) {
  ct_fourier *f = impl_of(op);
  const sr_ct_fourier_grid *g = &f->grid;
  size_t d = (size_t)g->d, ed = (size_t)g->ed;
  float *m = (float *)malloc(2 * d * ed * sizeof(float));
  if (!m) return sr_fail(op->backend->ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate the DFT table");
  for (size_t s = 0; s < d; ++s) {
    double u = (double)((int64_t)s - g->d / 2);
    for (size_t j = 0; j < ed; ++j) {
      double turns = sr_ct_fourier_radius(g->d, g->ed, (int64_t)j) * u / (double)g->d;
      turns -= floor(turns);
      double ph = -2.0 * M_PI_D * turns;
      m[2 * (s * ed + j)] = (float)cos(ph);
      m[2 * (s * ed + j) + 1] = (float)sin(ph);
    }
  }
  sr_status st = upload(op->backend, (void **)&f->dft, m, 2 * d * ed * sizeof(float));
  free(m);
  return st;
}

static sr_status build_lines(sr_operator *op) {
  ct_fourier *f = impl_of(op);
  const sr_ct_fourier_grid *g = &f->grid;
  sr_backend *b = op->backend;
  size_t grid = (size_t)(g->ed * g->ed), samples = (size_t)(g->n_full * g->ed);
  SR_TRY(upload(b, (void **)&f->line_src, g->line_to_grid, samples * sizeof(int32_t)));
  size_t n = 0;
  for (size_t q = 0; q < grid; ++q) n += g->winner[q] >= 0;
  int32_t *dst = (int32_t *)malloc(n * sizeof(int32_t)),
          *src = (int32_t *)malloc(n * sizeof(int32_t));
  if (!dst || !src) {
    free(dst), free(src);
    return sr_fail(b->ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate Fourier CT line tables");
  }
  size_t k = 0;
  for (size_t q = 0; q < grid; ++q)
    if (g->winner[q] >= 0) dst[k] = (int32_t)q, src[k++] = g->winner[q];
  sr_status st = upload(b, (void **)&f->win_dst, dst, n * sizeof(int32_t));
  if (st == SR_OK) st = upload(b, (void **)&f->win_src, src, n * sizeof(int32_t));
  f->n_win = n;
  free(dst), free(src);
  return st;
}

/* The matched projector on the kept views: D bins of the pixel size, the
 * axis on bin D/2, which is where the DFT above puts its phase centre. */
static sr_status build_projector(sr_operator *op) {
  ct_fourier *f = impl_of(op);
  const sr_ct_fourier_grid *g = &f->grid;
  sr_backend *b = op->backend;
  sr_ct_geometry full, kept;
  memset(&full, 0, sizeof full);
  memset(&kept, 0, sizeof kept);
  sr_status st = sr_ct_geometry_init(b->ctx, &full, g->n, g->n, g->n_full);
  if (st == SR_OK) {
    full.n_det = g->d;
    full.det_spacing = 1.0;
    full.pixel_size = 1.0;
    full.det_offset = 0.0;
    st = sr_ct_geometry_subset(b->ctx, &full, g->rows, g->n_keep, &kept);
  }
  if (st == SR_OK) st = sr_ct_parallel_create(b, &kept, &f->proj);
  sr_ct_geometry_release(&full);
  sr_ct_geometry_release(&kept);
  return st;
}

sr_status sr_ct_fourier_create(sr_backend *b, const sr_ct_fourier_params *p, sr_operator **out) {
  *out = NULL;
  sr_operator *op = (sr_operator *)calloc(1, sizeof *op);
  ct_fourier *f = (ct_fourier *)calloc(1, sizeof *f);
  if (!op || !f) {
    free(op), free(f);
    return sr_fail(b->ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate the Fourier CT operator");
  }
  op->vt = &ct_fourier_vtable;
  op->backend = b;
  op->impl = f;
  sr_status st = sr_ct_fourier_grid_make(b->ctx, p, &f->grid);
  const sr_ct_fourier_grid *g = &f->grid;
  if (st == SR_OK) st = build_projector(op);
  if (st == SR_OK)
    st = upload(b, (void **)&f->mask, g->mask, (size_t)(g->ed * g->ed) * sizeof(float));
  if (st == SR_OK) st = build_lambda_taps(op);
  if (st == SR_OK) st = build_dft(op);
  if (st == SR_OK) st = build_lines(op);
  if (st != SR_OK) {
    cf_destroy(op);
    return st;
  }
  op->image_h = op->image_w = g->n;
  op->meas_elems = (size_t)(g->n_keep * g->d);
  op->meas_dtype = SR_DTYPE_F32;
  op->transform_elems = (size_t)(g->ed * g->ed);
  op->transform_h = op->transform_w = g->ed;
  op->mask = f->mask;
  *out = op;
  return SR_OK;
}
