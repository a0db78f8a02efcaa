/* Data consistency: the step that pulls a sample toward the measurements y
 * between the score updates (Song, Shen, Xing & Ermon 2022, Sec. 3-4).
 * Every step is written as op-table and operator calls, for any operator.
 *
 * paper  The official `projection` solver (cs.py, merge_known_with_mask),
 *        step for step:
 *          y_hat = m(t) known + sigma(t) T z        z ~ N(0, I) in image space
 *          x    <- T^-1 [ lambda Lambda y_hat + (1 - lambda Lambda) T x ]
 *        with known = the measurement in T's domain, Lambda its mask and
 *        T^-1 keeping the real part (computed as the identical
 *        x + lambda T^-1 Lambda (m known - T (x - sigma z)), one transform
 *        fewer; test_consistency_paper checks it against the literal
 *        formula). It is not a projection: for MRI the real
 *        part halves the pull on every measured k-space value whose mirror
 *        (-k) is unmeasured; for CT the crop of the 4x oversampled grid and
 *        the real part undo most of it (one lambda = 1 step moves the
 *        measured Fourier samples ~15% of the way: test_sampler_ct).
 *
 * exact  A true projection (lambda = 1) onto {x real : A x = y_hat}:
 *   hermitian  when T is an invertible map of the image grid (the MRI FFT):
 *        the mask and the data are extended by Hermitian symmetry (a real
 *        image's transform obeys X(-k) = conj X(k), so measuring k also fixes
 *        -k) and then blended as above; keeping the real part no longer
 *        undoes the step. Both halves of a measured pair (k, -k) get their
 *        Hermitian average (y(k) + conj y(-k)) / 2, which is y(k) itself for
 *        data of a real image. Built from T alone: for such T,
 *        T Re T^-1 t = (t(k) + conj t(-k)) / 2 =: H t, so
 *          Lambda_h = [H Lambda > 0],  known_h = H(Lambda y) / H(Lambda)
 *        need no knowledge of T's index conventions.
 *   cg   otherwise (CT), in the measurement domain with the matched pair:
 *          y_hat = m(t) y + sigma(t) A z
 *          x    <- x + lambda A^T u,   (A A^T + delta I) u = y_hat - A x
 *        computed as d = A^T u = argmin ||A d - r||^2 + delta ||d||^2 by
 *        CGLS per slice (10 iterations per step, 200 at the final one),
 *        delta relative to ||A A^T|| (power iteration). On sparse-view CT
 *        the final step leaves ||A x - y|| ~ 1e-4 ||y|| (test_sampler_ct).
 *
 * Shapes: x (nb, H, W) float32, y (nb, meas_elems) of the operator's
 * meas_dtype, both backend memory; one consistency object serves one
 * thread. */
#ifndef SR_SAMPLER_CONSISTENCY_H
#define SR_SAMPLER_CONSISTENCY_H

#include <stddef.h>
#include <stdint.h>

#include "operators/operator.h"
#include "sampler/noise.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sr_consistency_mode {
  SR_CONSISTENCY_NONE = 0, /* unconditional sampling (tests, priors) */
  SR_CONSISTENCY_PAPER,
  SR_CONSISTENCY_EXACT
} sr_consistency_mode;

typedef enum sr_exact_solver {
  SR_EXACT_AUTO = 0, /* hermitian when T allows it, else cg */
  SR_EXACT_HERMITIAN,
  SR_EXACT_CG
} sr_exact_solver;

typedef struct sr_consistency_params {
  sr_consistency_mode mode;
  sr_exact_solver solver;
  int cg_iters;          /* per consistency step (default 10) */
  int cg_iters_final;    /* at the final, noise-free step (default 200) */
  double cg_delta;       /* delta / ||A A^T|| during the steps (default 1e-4) */
  double cg_delta_final; /* the same at the final step (default 1e-6) */
  double cg_tol;         /* a slice stops when ||A^T r|| <= tol ||A^T r0|| (default 1e-6) */
} sr_consistency_params;

void sr_consistency_params_default(sr_consistency_params *p);

/* "none", "paper", "exact" and "auto", "hermitian", "cg". */
const char *sr_consistency_mode_name(sr_consistency_mode m);
sr_status sr_consistency_mode_parse(sr_context *ctx, const char *name, sr_consistency_mode *out);
const char *sr_exact_solver_name(sr_exact_solver s);

typedef struct sr_consistency sr_consistency;

/* Checks that op supports the mode (paper needs T, T^-1, the mask and
 * measurement_to_transform; exact needs them for hermitian or forward /
 * adjoint for cg) and prepares what does not depend on the data (the
 * Hermitian mask, ||A A^T||). */
sr_status sr_consistency_create(sr_operator *op, const sr_consistency_params *p,
                                sr_consistency **out);
void sr_consistency_destroy(sr_consistency *c);

/* The method in use: "none", "paper", "hermitian" or "cg". */
const char *sr_consistency_method(const sr_consistency *c);

/* Takes the measurements of a batch, y (nb, meas) in backend memory (read
 * here, not kept): the data in T's domain (paper, hermitian) or a copy (cg). */
sr_status sr_consistency_set_batch(sr_consistency *c, const void *y, size_t nb);

/* Where the consistency noise z comes from; NULL for noise-free steps. */
typedef struct sr_consistency_noise {
  uint32_t seed;
  const sr_sample_item *items;
  sr_draw_purpose purpose;
  uint32_t step;
} sr_consistency_noise;

/* One consistency step on x (nb, H, W), nb as given to set_batch:
 * y_hat = mean_coeff y + sigma (T or A) z (z from `noise`; sigma = 0 or
 * noise NULL: no noise), weight lambda. `final` selects the final step's CG
 * iterations and delta. */
sr_status sr_consistency_apply(sr_consistency *c, float *x, size_t nb,
                               const sr_consistency_noise *noise, double mean_coeff, double sigma,
                               double lambda, int final);

/* ||A A^T|| as estimated for cg (0 for other methods). */
double sr_consistency_normal_norm(const sr_consistency *c);

#ifdef __cplusplus
}
#endif

#endif
