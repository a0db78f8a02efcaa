/* Chambolle-Pock for TV-regularised least squares (see tv_recon.h). With
 * K = [s A; grad], F(q, p) = 1/2 ||q - s y||^2 + w s^2 ||p||_{2,1}, G = 0 or
 * the indicator of x >= 0, one iteration is
 *   q    <- (q + sigma (s A xbar - s y)) / (1 + sigma)       prox of F1*
 *   p    <- P_{|.| <= w s^2}(p + sigma grad xbar)            prox of F2*
 *   x'   <- x - tau (s A^T q - div p)                        grad^T = -div
 *   x'   <- max(x', 0) when nonneg                           prox of G
 *   xbar <- 2 x' - x
 * Every vector lives in backend memory; the loop is op-table calls only. */
#include "operators/tv_recon.h"

#include <math.h>
#include <stdlib.h>

#include "core/error.h"

sr_tv_params sr_tv_params_default(void) {
  sr_tv_params p;
  p.iters = 200;
  p.weight = 0.005;
  p.nonneg = 0;
  p.power_iters = 30;
  p.seed = 0;
  p.step_ratio = 100.0;
  return p;
}

static size_t meas_floats(const sr_operator *op) {
  return op->meas_elems * (op->meas_dtype == SR_DTYPE_C64 ? 2 : 1);
}

/* Buffers of one solve, freed together. */
typedef struct cp_buffers {
  float *x, *xbar, *xold, *tmp, *div, *g, *p, *q, *ax;
} cp_buffers;

static void release(sr_backend *b, cp_buffers *c) {
  float **all[] = {&c->x, &c->xbar, &c->xold, &c->tmp, &c->div, &c->g, &c->p, &c->q, &c->ax};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; ++i)
    if (*all[i]) b->ops->free(b, *all[i]), *all[i] = NULL;
}

static sr_status alloc_floats(sr_backend *b, size_t n, float **out) {
  return b->ops->alloc(b, n * sizeof(float), (void **)out);
}

/* ||M|| by power iteration on M^T M, M = [a A; c grad] (c = 0: A alone), on
 * one slice, starting from Philox normals. v and w are image-sized, ax
 * measurement-sized, g gradient-sized scratch. */
static sr_status power_norm(sr_operator *op, double a, double c, int iters, uint32_t seed, float *v,
                            float *w, float *ax, float *g, double *out) {
  sr_backend *b = op->backend;
  size_t n = sr_operator_image_elems(op);
  size_t h = (size_t)op->image_h, wd = (size_t)op->image_w;
  sr_rng_stream rs = {.seed = seed, .first_slice = 0, .step = 0, .purpose = SR_DRAW_GENERIC};
  SR_TRY(b->ops->randn(b, v, 1, n, rs));
  double nv = 0.0, lambda = 0.0;
  SR_TRY(b->ops->nrm2(b, v, n, &nv));
  SR_TRY(b->ops->scale(b, v, n, (float)(1.0 / nv)));
  for (int it = 0; it < iters; ++it) {
    /* w = a^2 A^T A v - c^2 div grad v */
    SR_TRY(op->vt->forward(op, v, ax, 1));
    SR_TRY(op->vt->adjoint(op, ax, w, 1));
    SR_TRY(b->ops->scale(b, w, n, (float)(a * a)));
    if (c != 0.0) {
      SR_TRY(b->ops->grad2(b, g, v, 1, h, wd));
      SR_TRY(b->ops->div2(b, v, g, 1, h, wd));
      SR_TRY(b->ops->axpby(b, w, v, n, (float)(-c * c), 1.0f));
    }
    SR_TRY(b->ops->nrm2(b, w, n, &lambda)); /* ||M^T M v||, v of unit norm */
    if (!(lambda > 0.0) || !isfinite(lambda))
      return sr_fail(b->ctx, SR_ERR_NUMERIC, "power iteration on %s gave %g", op->vt->name, lambda);
    SR_TRY(b->ops->copy(b, v, w, n * sizeof(float)));
    SR_TRY(b->ops->scale(b, v, n, (float)(1.0 / lambda)));
  }
  *out = sqrt(lambda);
  return SR_OK;
}

sr_status sr_operator_norm(sr_operator *op, int iters, uint32_t seed, double *out) {
  sr_backend *b = op->backend;
  size_t n = sr_operator_image_elems(op);
  cp_buffers c = {0};
  sr_status st = alloc_floats(b, n, &c.x);
  if (st == SR_OK) st = alloc_floats(b, n, &c.tmp);
  if (st == SR_OK) st = alloc_floats(b, meas_floats(op), &c.ax);
  if (st == SR_OK) st = power_norm(op, 1.0, 0.0, iters, seed, c.x, c.tmp, c.ax, NULL, out);
  release(b, &c);
  return st;
}

static sr_status solve(sr_operator *op, const float *y, size_t ns, const sr_tv_params *p,
                       cp_buffers *c, float *x_out, sr_tv_info *info) {
  sr_backend *b = op->backend;
  size_t n = sr_operator_image_elems(op), m = meas_floats(op);
  size_t h = (size_t)op->image_h, w = (size_t)op->image_w;
  double norm_a = 0.0, norm_k = 0.0;
  SR_TRY(power_norm(op, 1.0, 0.0, p->power_iters, p->seed, c->x, c->tmp, c->ax, c->g, &norm_a));
  double s = 1.0 / norm_a;
  SR_TRY(power_norm(op, s, 1.0, p->power_iters, p->seed, c->x, c->tmp, c->ax, c->g, &norm_k));
  /* The estimate approaches ||K|| from below: a margin keeps sigma tau ||K||^2 < 1. */
  double step = 0.99 / (norm_k * 1.02);
  /* tau sigma stays step^2; a large tau / sigma suits images of order one
   * against a dual field bounded by w s^2 (measured: 300 iterations reach
   * 50 dB on a 64^2 MRI phantom with ratio 100, 20 dB with ratio 1). */
  float sigma = (float)(step / sqrt(p->step_ratio)), tau = (float)(step * sqrt(p->step_ratio));
  float radius = (float)(p->weight * s * s);
  if (info) info->norm_a = norm_a, info->norm_k = norm_k, info->step = step;

  SR_TRY(b->ops->fill(b, c->x, ns * n, 0.0f));
  SR_TRY(b->ops->fill(b, c->xbar, ns * n, 0.0f));
  SR_TRY(b->ops->fill(b, c->p, 2 * ns * n, 0.0f));
  SR_TRY(b->ops->fill(b, c->q, ns * m, 0.0f));
  for (int it = 0; it < p->iters; ++it) {
    /* q <- (q + sigma (s A xbar - s y)) / (1 + sigma) */
    SR_TRY(op->vt->forward(op, c->xbar, c->ax, ns));
    SR_TRY(b->ops->axpby(b, c->ax, y, ns * m, -(float)s, (float)s));
    SR_TRY(b->ops->axpby(b, c->q, c->ax, ns * m, sigma / (1.0f + sigma), 1.0f / (1.0f + sigma)));
    /* p <- P(p + sigma grad xbar) */
    SR_TRY(b->ops->grad2(b, c->g, c->xbar, ns, h, w));
    SR_TRY(b->ops->axpby(b, c->p, c->g, 2 * ns * n, sigma, 1.0f));
    SR_TRY(b->ops->proj_l2ball2(b, c->p, ns, n, radius));
    /* x <- x - tau (s A^T q - div p) */
    SR_TRY(b->ops->copy(b, c->xold, c->x, ns * n * sizeof(float)));
    SR_TRY(op->vt->adjoint(op, c->q, c->tmp, ns));
    SR_TRY(b->ops->div2(b, c->div, c->p, ns, h, w));
    SR_TRY(b->ops->axpbypgz(b, c->x, c->tmp, c->div, ns * n, -tau * (float)s, tau, 1.0f));
    if (p->nonneg) SR_TRY(b->ops->clamp(b, c->x, ns * n, 0.0f, INFINITY));
    /* xbar <- 2 x - xold */
    SR_TRY(b->ops->copy(b, c->xbar, c->xold, ns * n * sizeof(float)));
    SR_TRY(b->ops->axpby(b, c->xbar, c->x, ns * n, 2.0f, -1.0f));
  }
  return b->ops->copy(b, x_out, c->x, ns * n * sizeof(float));
}

sr_status sr_tv_reconstruct(sr_operator *op, const void *y, float *x, size_t nslices,
                            const sr_tv_params *p, sr_tv_info *info) {
  sr_backend *b = op->backend;
  if (p->iters < 0 || !(p->weight >= 0.0) || !isfinite(p->weight) || p->power_iters < 1 ||
      !(p->step_ratio > 0.0) || !isfinite(p->step_ratio))
    return sr_fail(b->ctx, SR_ERR_INVALID_ARGUMENT,
                   "TV needs iterations >= 0, a weight >= 0, >= 1 power iteration and a step "
                   "ratio > 0 (got %d, %g, %d, %g)",
                   p->iters, p->weight, p->power_iters, p->step_ratio);
  if (nslices == 0) return SR_OK;
  size_t n = sr_operator_image_elems(op), m = meas_floats(op), ns = nslices;
  cp_buffers c = {0};
  sr_status st = SR_OK;
  float **img[] = {&c.x, &c.xbar, &c.xold, &c.tmp, &c.div};
  for (size_t i = 0; i < sizeof img / sizeof img[0] && st == SR_OK; ++i)
    st = alloc_floats(b, ns * n, img[i]);
  if (st == SR_OK) st = alloc_floats(b, 2 * ns * n, &c.g);
  if (st == SR_OK) st = alloc_floats(b, 2 * ns * n, &c.p);
  if (st == SR_OK) st = alloc_floats(b, ns * m, &c.q);
  if (st == SR_OK) st = alloc_floats(b, ns * m, &c.ax);
  if (st == SR_OK) st = solve(op, (const float *)y, ns, p, &c, x, info);
  release(b, &c);
  return st;
}
