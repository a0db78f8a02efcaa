/* Data consistency for the sampler: the paper's blend in T's domain, its
 * Hermitian-extended exact form, and the CG projection in the measurement
 * domain. See consistency.h for the formulas. */
#include "sampler/consistency.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

enum { METHOD_NONE, METHOD_PAPER, METHOD_HERMITIAN, METHOD_CG };

struct sr_consistency {
  sr_operator *op;
  sr_backend *b;
  sr_consistency_params p;
  int method;
  size_t n_img;  /* image values per slice, H W */
  size_t n_t;    /* complex values per slice in T's domain */
  size_t n_meas; /* floats per slice of a measurement */
  size_t cap;    /* slices the buffers hold */
  size_t nb;     /* slices of the current batch */
  /* T's domain, (cap, n_t) complex */
  float *known, *t1;
  /* hermitian: the extended mask and 1 / H(Lambda) on it, (n_t) real */
  float *mask_h, *recip;
  /* images, (cap, n_img) */
  float *z;
  /* cg: measurement-domain vectors (cap, n_meas) floats: y, r, q; image-
   * domain (cap, n_img): the correction d, s = A^T r - delta d, p */
  float *y, *r, *q, *d, *sv, *pv;
  double normal_norm; /* ||A A^T|| */
  /* host scratch, cap each */
  double *gamma, *gamma0, *nrm_q, *nrm_p, *nrm_s;
  float *alpha, *beta, *neg_alpha, *ones;
  unsigned char *active;
};

void sr_consistency_params_default(sr_consistency_params *p) {
  memset(p, 0, sizeof *p);
  p->mode = SR_CONSISTENCY_PAPER;
  p->solver = SR_EXACT_AUTO;
  p->cg_iters = 10;
  p->cg_iters_final = 200;
  p->cg_delta = 1e-4;
  p->cg_delta_final = 1e-6;
  p->cg_tol = 1e-6;
}

const char *sr_consistency_mode_name(sr_consistency_mode m) {
  switch (m) {
  case SR_CONSISTENCY_NONE: return "none";
  case SR_CONSISTENCY_PAPER: return "paper";
  case SR_CONSISTENCY_EXACT: return "exact";
  }
  return "unknown";
}

sr_status sr_consistency_mode_parse(sr_context *ctx, const char *name, sr_consistency_mode *out) {
  if (strcmp(name, "none") == 0)
    *out = SR_CONSISTENCY_NONE;
  else if (strcmp(name, "paper") == 0)
    *out = SR_CONSISTENCY_PAPER;
  else if (strcmp(name, "exact") == 0)
    *out = SR_CONSISTENCY_EXACT;
  else
    return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT,
                   "consistency mode \"%s\" is not one of paper, exact, none", name);
  return SR_OK;
}

const char *sr_exact_solver_name(sr_exact_solver s) {
  switch (s) {
  case SR_EXACT_AUTO: return "auto";
  case SR_EXACT_HERMITIAN: return "hermitian";
  case SR_EXACT_CG: return "cg";
  }
  return "unknown";
}

const char *sr_consistency_method(const sr_consistency *c) {
  static const char *names[] = {"none", "paper", "hermitian", "cg"};
  return names[c->method];
}

double sr_consistency_normal_norm(const sr_consistency *c) {
  return c->normal_norm;
}

static void free_dev(sr_consistency *c, float **ptr) {
  if (*ptr) c->b->ops->free(c->b, *ptr);
  *ptr = NULL;
}

static void release_buffers(sr_consistency *c) {
  float **dev[] = {&c->known, &c->t1, &c->z, &c->y, &c->r, &c->q, &c->d, &c->sv, &c->pv};
  for (size_t i = 0; i < sizeof dev / sizeof dev[0]; ++i) free_dev(c, dev[i]);
  free(c->gamma);
  free(c->alpha);
  free(c->active);
  c->gamma = NULL;
  c->alpha = NULL;
  c->active = NULL;
  c->cap = 0;
}

void sr_consistency_destroy(sr_consistency *c) {
  if (!c) return;
  release_buffers(c);
  free_dev(c, &c->mask_h);
  free_dev(c, &c->recip);
  free(c);
}

static sr_status dev_alloc(sr_consistency *c, size_t floats, float **out) {
  return c->b->ops->alloc(c->b, floats * sizeof(float), (void **)out);
}

/* Buffers for nb slices (grown, never shrunk). */
static sr_status reserve(sr_consistency *c, size_t nb) {
  if (nb <= c->cap) return SR_OK;
  release_buffers(c);
  const size_t nt2 = 2 * c->n_t;
  if (c->method == METHOD_PAPER || c->method == METHOD_HERMITIAN) {
    SR_TRY(dev_alloc(c, nb * nt2, &c->known));
    SR_TRY(dev_alloc(c, nb * nt2, &c->t1));
  }
  if (c->method != METHOD_NONE) SR_TRY(dev_alloc(c, nb * c->n_img, &c->z));
  if (c->method == METHOD_CG) {
    SR_TRY(dev_alloc(c, nb * c->n_meas, &c->y));
    SR_TRY(dev_alloc(c, nb * c->n_meas, &c->r));
    SR_TRY(dev_alloc(c, nb * c->n_meas, &c->q));
    SR_TRY(dev_alloc(c, nb * c->n_img, &c->d));
    SR_TRY(dev_alloc(c, nb * c->n_img, &c->sv));
    SR_TRY(dev_alloc(c, nb * c->n_img, &c->pv));
  }
  c->gamma = (double *)calloc(5 * nb, sizeof(double));
  c->alpha = (float *)calloc(4 * nb, sizeof(float));
  c->active = (unsigned char *)calloc(nb, 1);
  if (!c->gamma || !c->alpha || !c->active)
    return sr_fail(c->b->ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate consistency scratch");
  c->gamma0 = c->gamma + nb;
  c->nrm_q = c->gamma + 2 * nb;
  c->nrm_p = c->gamma + 3 * nb;
  c->nrm_s = c->gamma + 4 * nb;
  c->beta = c->alpha + nb;
  c->neg_alpha = c->alpha + 2 * nb;
  c->ones = c->alpha + 3 * nb;
  c->cap = nb;
  return SR_OK;
}

static int has_transform(const sr_operator *op) {
  return op->vt->transform && op->vt->inverse_transform && op->vt->measurement_to_transform &&
         op->mask && op->transform_elems > 0;
}

/* The Hermitian extension of the mask, from T alone: w = Re T (Re T^-1 Lambda)
 * = (Lambda(k) + Lambda(-k)) / 2 in {0, 1/2, 1}. Fails (SR_ERR_UNSUPPORTED)
 * when w is not such a field, i.e. T is not an invertible transform of the
 * image grid. */
static sr_status hermitian_setup(sr_consistency *c) {
  sr_backend *b = c->b;
  sr_operator *op = c->op;
  const size_t nt = c->n_t;
  float *tc = NULL, *img = NULL, *w = NULL;
  float *host = (float *)malloc(2 * nt * sizeof(float));
  sr_status st = host ? SR_OK : sr_fail(b->ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate");
  if (st == SR_OK) st = dev_alloc(c, 2 * nt, &tc);
  if (st == SR_OK) st = dev_alloc(c, c->n_img, &img);
  if (st == SR_OK) st = dev_alloc(c, nt, &w);
  /* Lambda as a complex field (a flat row: the layout does not matter). */
  if (st == SR_OK) st = b->ops->embed_real(b, tc, op->mask, 1, 1, nt, 1, nt, 0, 0);
  if (st == SR_OK) st = op->vt->inverse_transform(op, tc, img, 1);
  if (st == SR_OK) st = op->vt->transform(op, img, tc, 1);
  if (st == SR_OK) st = b->ops->extract_real(b, w, tc, 1, 1, nt, 1, nt, 0, 0, 1.0f);
  if (st == SR_OK) st = b->ops->download(b, host, w, nt * sizeof(float));
  if (st == SR_OK) st = b->ops->download(b, host + nt, op->mask, nt * sizeof(float));
  if (st == SR_OK) {
    for (size_t k = 0; k < nt && st == SR_OK; ++k) {
      const float v2 = 2.0f * host[k];
      const float q = rintf(v2);
      if (fabsf(v2 - q) > 1e-3f || q < 0.0f || q > 2.0f || (host[nt + k] != 0.0f && q < 1.0f))
        st = sr_fail(b->ctx, SR_ERR_UNSUPPORTED,
                     "operator %s: T is not an invertible transform of the image grid "
                     "(T Re T^-1 of the mask is %g at %zu), so the Hermitian extension does "
                     "not apply",
                     op->vt->name, (double)host[k], k);
      host[k] = q > 0.0f ? 1.0f : 0.0f;                            /* Lambda_h */
      host[nt + k] = q == 2.0f ? 1.0f : (q == 1.0f ? 2.0f : 0.0f); /* 1 / H(Lambda) */
    }
  }
  if (st == SR_OK) st = dev_alloc(c, nt, &c->mask_h);
  if (st == SR_OK) st = dev_alloc(c, nt, &c->recip);
  if (st == SR_OK) st = b->ops->upload(b, c->mask_h, host, nt * sizeof(float));
  if (st == SR_OK) st = b->ops->upload(b, c->recip, host + nt, nt * sizeof(float));
  if (tc) b->ops->free(b, tc);
  if (img) b->ops->free(b, img);
  if (w) b->ops->free(b, w);
  free(host);
  return st;
}

/* ||A A^T|| by 30 power iterations from a fixed random start, times 1.05 (a
 * power iteration approaches the top eigenvalue from below). */
static sr_status normal_norm_estimate(sr_consistency *c) {
  sr_backend *b = c->b;
  sr_operator *op = c->op;
  float *v = NULL, *av = NULL, *img = NULL;
  sr_status st = dev_alloc(c, c->n_meas, &v);
  if (st == SR_OK) st = dev_alloc(c, c->n_meas, &av);
  if (st == SR_OK) st = dev_alloc(c, c->n_img, &img);
  sr_rng_stream rs = {0x5eedu, 0u, 0u, SR_DRAW_GENERIC};
  if (st == SR_OK) st = b->ops->randn(b, v, 1, c->n_meas, rs);
  double lam = 0.0, nv = 0.0;
  if (st == SR_OK) st = b->ops->nrm2(b, v, c->n_meas, &nv);
  for (int it = 0; it < 30 && st == SR_OK; ++it) {
    if (nv <= 0.0 || !isfinite(nv)) break;
    st = b->ops->scale(b, v, c->n_meas, (float)(1.0 / nv));
    if (st == SR_OK) st = op->vt->adjoint(op, v, img, 1);
    if (st == SR_OK) st = op->vt->forward(op, img, av, 1);
    if (st == SR_OK) st = b->ops->nrm2(b, av, c->n_meas, &nv);
    lam = nv;
    float *tmp = v;
    v = av;
    av = tmp;
  }
  if (st == SR_OK && !(lam > 0.0 && isfinite(lam)))
    st = sr_fail(b->ctx, SR_ERR_NUMERIC, "operator %s: A A^T appears to be zero", op->vt->name);
  c->normal_norm = 1.05 * lam;
  if (v) b->ops->free(b, v);
  if (av) b->ops->free(b, av);
  if (img) b->ops->free(b, img);
  return st;
}

sr_status sr_consistency_create(sr_operator *op, const sr_consistency_params *p,
                                sr_consistency **out) {
  *out = NULL;
  sr_backend *b = op->backend;
  sr_consistency *c = (sr_consistency *)calloc(1, sizeof *c);
  if (!c) return sr_fail(b->ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate consistency state");
  c->op = op;
  c->b = b;
  c->p = *p;
  c->n_img = sr_operator_image_elems(op);
  c->n_t = op->transform_elems;
  c->n_meas = op->meas_elems * (op->meas_dtype == SR_DTYPE_C64 ? 2 : 1);
  sr_status st = SR_OK;
  if (p->cg_iters < 0 || p->cg_iters_final < 0 || !(p->cg_delta >= 0.0) ||
      !(p->cg_delta_final >= 0.0) || !(p->cg_tol >= 0.0))
    st = sr_fail(b->ctx, SR_ERR_INVALID_ARGUMENT,
                 "CG settings must be non-negative (iterations %d / %d, delta %g / %g, tol %g)",
                 p->cg_iters, p->cg_iters_final, p->cg_delta, p->cg_delta_final, p->cg_tol);
  else if (p->mode == SR_CONSISTENCY_NONE) {
    c->method = METHOD_NONE;
  } else if (p->mode == SR_CONSISTENCY_PAPER) {
    c->method = METHOD_PAPER;
    if (!has_transform(op))
      st = sr_fail(b->ctx, SR_ERR_UNSUPPORTED,
                   "operator %s has no transform T for the paper's consistency step; use "
                   "--consistency exact",
                   op->vt->name);
  } else if (p->mode == SR_CONSISTENCY_EXACT) {
    const int can_cg = op->vt->forward && op->vt->adjoint;
    const int try_h = p->solver == SR_EXACT_HERMITIAN ||
                      (p->solver == SR_EXACT_AUTO && has_transform(op) && c->n_t == c->n_img);
    if (try_h) {
      if (!has_transform(op))
        st = sr_fail(b->ctx, SR_ERR_UNSUPPORTED, "operator %s has no transform T", op->vt->name);
      else {
        c->method = METHOD_HERMITIAN;
        st = hermitian_setup(c);
        if (st != SR_OK && p->solver == SR_EXACT_AUTO && can_cg) {
          sr_context_clear_error(b->ctx);
          st = SR_OK;
          c->method = METHOD_CG;
        }
      }
    } else {
      c->method = METHOD_CG;
    }
    if (st == SR_OK && c->method == METHOD_CG) {
      if (!can_cg)
        st = sr_fail(b->ctx, SR_ERR_UNSUPPORTED, "operator %s has no forward / adjoint pair",
                     op->vt->name);
      else
        st = normal_norm_estimate(c);
    }
  } else {
    st = sr_fail(b->ctx, SR_ERR_INVALID_ARGUMENT, "unknown consistency mode %d", (int)p->mode);
  }
  if (st != SR_OK) {
    sr_consistency_destroy(c);
    return st;
  }
  *out = c;
  return SR_OK;
}

sr_status sr_consistency_set_batch(sr_consistency *c, const void *y, size_t nb) {
  sr_backend *b = c->b;
  sr_operator *op = c->op;
  SR_TRY(reserve(c, nb));
  c->nb = nb;
  switch (c->method) {
  case METHOD_NONE: return SR_OK;
  case METHOD_PAPER:
    /* known = P(Lambda) "T y": the data on T's grid. */
    return op->vt->measurement_to_transform(op, y, c->known, nb);
  case METHOD_HERMITIAN:
    /* known_h = H(Lambda y) / H(Lambda) on Lambda_h, H = T Re T^-1. */
    SR_TRY(op->vt->measurement_to_transform(op, y, c->t1, nb));
    SR_TRY(op->vt->inverse_transform(op, c->t1, c->z, nb));
    SR_TRY(op->vt->transform(op, c->z, c->known, nb));
    return b->ops->cmask(b, c->known, c->known, c->recip, nb, c->n_t);
  case METHOD_CG: return b->ops->copy(b, c->y, y, nb * c->n_meas * sizeof(float));
  }
  return SR_FAIL_HERE(b->ctx, SR_ERR_INTERNAL, "bad consistency method");
}

/* paper and hermitian. The official step
 *   x <- T^-1 [ lambda Lambda y_hat + (1 - lambda Lambda) T x ],
 *   y_hat = m known + sigma T z,
 * is computed as the identical (T^-1 T x = x for real x, T^-1 linear)
 *   x <- x + lambda T^-1 [ Lambda (m known - T (x - sigma z)) ],
 * which needs one transform and one inverse instead of two and one (the
 * transforms dominate: a 1812^2 FFT each for CT). */
static sr_status apply_blend(sr_consistency *c, float *x, size_t nb,
                             const sr_consistency_noise *noise, double m, double sigma,
                             double lambda) {
  sr_backend *b = c->b;
  sr_operator *op = c->op;
  const size_t nt2 = 2 * c->n_t, ni = c->n_img;
  const float *src = x;
  if (noise && sigma > 0.0) {
    /* z <- x - sigma z */
    SR_TRY(sr_noise_draw(b, noise->seed, noise->items, nb, c->z, ni, noise->purpose, noise->step));
    SR_TRY(b->ops->axpby(b, c->z, x, nb * ni, 1.0f, (float)-sigma));
    src = c->z;
  }
  const float *mask = c->method == METHOD_HERMITIAN ? c->mask_h : op->mask;
  /* t1 = Lambda (m known - T src) */
  SR_TRY(op->vt->transform(op, src, c->t1, nb));
  SR_TRY(b->ops->axpby(b, c->t1, c->known, nb * nt2, (float)m, -1.0f));
  SR_TRY(b->ops->cmask(b, c->t1, c->t1, mask, nb, c->n_t));
  /* x += lambda T^-1 t1 */
  SR_TRY(op->vt->inverse_transform(op, c->t1, c->z, nb));
  return b->ops->axpby(b, x, c->z, nb * ni, (float)lambda, 1.0f);
}

/* cg, as CGLS on the damped least-squares problem
 *   d = argmin ||A d - r||^2 + delta ||d||^2 = A^T (A A^T + delta I)^-1 r,
 *   r = y_hat - A x = m y + A (sigma z - x),     x <- x + lambda d.
 * CGLS (CG on the normal equations, Hestenes-Stiefel / Bjorck's form) from
 * d = 0 keeps d in range(A^T), so for delta -> 0 it reaches the minimum-norm
 * correction: the orthogonal projection onto {A x = y_hat}. Unlike CG on
 * A A^T u = r it decreases ||A d - r|| monotonically, which is what the
 * stopping rule and the tolerance are about. The iteration is warm-started
 * by construction: it starts from the current sample, which met the
 * previous step's constraint, and solves only for what changed since.
 * Every slice has its own alpha, beta and stop (||s|| <= tol ||s0||). */
static sr_status apply_cg(sr_consistency *c, float *x, size_t nb, const sr_consistency_noise *noise,
                          double m, double sigma, double lambda, int final) {
  sr_backend *b = c->b;
  sr_operator *op = c->op;
  const size_t nm = c->n_meas, ni = c->n_img;
  const int iters = final ? c->p.cg_iters_final : c->p.cg_iters;
  const double delta = (final ? c->p.cg_delta_final : c->p.cg_delta) * c->normal_norm;
  const double tol = c->p.cg_tol;
  /* z <- sigma z - x;  r = A z + m y */
  if (noise && sigma > 0.0) {
    SR_TRY(sr_noise_draw(b, noise->seed, noise->items, nb, c->z, ni, noise->purpose, noise->step));
    SR_TRY(b->ops->axpby(b, c->z, x, nb * ni, -1.0f, (float)sigma));
  } else {
    SR_TRY(b->ops->copy(b, c->z, x, nb * ni * sizeof(float)));
    SR_TRY(b->ops->scale(b, c->z, nb * ni, -1.0f));
  }
  SR_TRY(op->vt->forward(op, c->z, c->r, nb));
  SR_TRY(b->ops->axpby(b, c->r, c->y, nb * nm, (float)m, 1.0f));
  /* d = 0, s = A^T r, p = s, gamma = ||s||^2 */
  SR_TRY(b->ops->fill(b, c->d, nb * ni, 0.0f));
  SR_TRY(op->vt->adjoint(op, c->r, c->sv, nb));
  SR_TRY(b->ops->copy(b, c->pv, c->sv, nb * ni * sizeof(float)));
  SR_TRY(b->ops->nrm2_batched(b, c->sv, nb, ni, c->gamma));
  size_t n_active = 0;
  for (size_t s = 0; s < nb; ++s) {
    c->gamma0[s] = c->gamma[s];
    c->active[s] = c->gamma[s] > 0.0;
    c->gamma[s] *= c->gamma[s];
    c->ones[s] = 1.0f;
    n_active += c->active[s];
  }
  for (int it = 0; it < iters && n_active > 0; ++it) {
    /* q = A p, alpha = gamma / (||q||^2 + delta ||p||^2) */
    SR_TRY(op->vt->forward(op, c->pv, c->q, nb));
    SR_TRY(b->ops->nrm2_batched(b, c->q, nb, nm, c->nrm_q));
    if (delta > 0.0) SR_TRY(b->ops->nrm2_batched(b, c->pv, nb, ni, c->nrm_p));
    for (size_t s = 0; s < nb; ++s) {
      const double np = delta > 0.0 ? c->nrm_p[s] : 0.0;
      const double den = c->nrm_q[s] * c->nrm_q[s] + delta * np * np;
      const double a = c->active[s] && den > 0.0 ? c->gamma[s] / den : 0.0;
      c->alpha[s] = (float)a;
      c->neg_alpha[s] = (float)-a;
    }
    /* d += alpha p, r -= alpha q, s = A^T r - delta d */
    SR_TRY(b->ops->axpby_batched(b, c->d, c->pv, nb, ni, c->alpha, c->ones));
    SR_TRY(b->ops->axpby_batched(b, c->r, c->q, nb, nm, c->neg_alpha, c->ones));
    SR_TRY(op->vt->adjoint(op, c->r, c->sv, nb));
    if (delta > 0.0) SR_TRY(b->ops->axpby(b, c->sv, c->d, nb * ni, (float)-delta, 1.0f));
    SR_TRY(b->ops->nrm2_batched(b, c->sv, nb, ni, c->nrm_s));
    /* p = s + beta p, beta = ||s||^2 / gamma; stopped slices keep p. */
    n_active = 0;
    for (size_t s = 0; s < nb; ++s) {
      if (!c->active[s]) {
        c->alpha[s] = 0.0f;
        c->beta[s] = 1.0f;
        continue;
      }
      const double g = c->nrm_s[s] * c->nrm_s[s];
      c->alpha[s] = 1.0f;
      c->beta[s] = (float)(g / c->gamma[s]);
      c->gamma[s] = g;
      if (!(c->nrm_s[s] > tol * c->gamma0[s])) c->active[s] = 0;
      n_active += c->active[s];
    }
    SR_TRY(b->ops->axpby_batched(b, c->pv, c->sv, nb, ni, c->alpha, c->beta));
  }
  return b->ops->axpby(b, x, c->d, nb * ni, (float)lambda, 1.0f);
}

sr_status sr_consistency_apply(sr_consistency *c, float *x, size_t nb,
                               const sr_consistency_noise *noise, double mean_coeff, double sigma,
                               double lambda, int final) {
  if (nb != c->nb)
    return SR_FAIL_HERE(c->b->ctx, SR_ERR_INTERNAL, "consistency batch %zu, prepared for %zu", nb,
                        c->nb);
  switch (c->method) {
  case METHOD_NONE: return SR_OK;
  case METHOD_PAPER:
  case METHOD_HERMITIAN: return apply_blend(c, x, nb, noise, mean_coeff, sigma, lambda);
  case METHOD_CG: return apply_cg(c, x, nb, noise, mean_coeff, sigma, lambda, final);
  }
  return SR_FAIL_HERE(c->b->ctx, SR_ERR_INTERNAL, "bad consistency method");
}
