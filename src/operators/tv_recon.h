/* Total-variation regularised least squares for any linear operator,
 *
 *   x* = argmin_x  1/2 ||A x - y||^2 + weight TV(x)   (optionally x >= 0),
 *
 * TV the isotropic total variation with forward differences, solved by the
 * primal-dual algorithm of Chambolle & Pock (J. Math. Imaging Vis. 40, 2011,
 * Algorithm 1, theta = 1) on K = [s A; grad]. The data term is rescaled by
 * s = 1 / ||A|| (the minimiser does not change: the objective is multiplied
 * by s^2 and the TV weight by s^2 with it), so both blocks of K have norms
 * of order one and neither dominates the step sizes; sigma tau = (0.99 /
 * ||K||)^2 with tau / sigma = step_ratio, both norms from power iterations
 * on the first slice. Works on the
 * CPU and CUDA backends through the op table and the operator's forward /
 * adjoint: CT and MRI share it. Every slice is solved independently (the
 * batch only vectorises), from x = 0. */
#ifndef SR_OPERATORS_TV_RECON_H
#define SR_OPERATORS_TV_RECON_H

#include "operators/operator.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sr_tv_params {
  int iters;         /* primal-dual iterations (default 200) */
  double weight;     /* TV weight in the objective above (> 0) */
  int nonneg;        /* project onto x >= 0 every iteration */
  int power_iters;   /* power iterations per norm estimate (default 30) */
  uint32_t seed;     /* start vector of the power iteration */
  double step_ratio; /* tau / sigma (default 100) */
} sr_tv_params;

typedef struct sr_tv_info {
  double norm_a; /* estimated ||A|| */
  double norm_k; /* estimated ||[s A; grad]|| */
  double step;   /* sqrt(sigma tau) */
} sr_tv_info;

sr_tv_params sr_tv_params_default(void);

/* x (nslices, H, W) from y (nslices, meas_elems of meas_dtype), both in
 * backend memory. info may be NULL. */
sr_status sr_tv_reconstruct(sr_operator *op, const void *y, float *x, size_t nslices,
                            const sr_tv_params *p, sr_tv_info *info);

/* Estimates ||A|| by power iteration on A^T A (first slice only). */
sr_status sr_operator_norm(sr_operator *op, int iters, uint32_t seed, double *out);

#ifdef __cplusplus
}
#endif

#endif
