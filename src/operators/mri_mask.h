/* Undersampling masks for single-coil Cartesian MRI. A mask is (h, w)
 * float32 values in {0, 1}, row-major; 1-D masks select columns (phase
 * encoding along W, as in fastMRI) and repeat down the rows.
 *
 *  - random:     fastMRI's RandomMaskFunc: the centre_fraction * W central
 *                columns, plus every other column with the probability that
 *                makes the expected total W / accel.
 *  - equispaced: fastMRI's EquispacedMaskFractionFunc: the central columns
 *                plus columns at a spacing adjusted so that the total is
 *                W / accel, starting at a seeded random offset.
 *  - paper:      the official score_inverse_problems rule given n_keep:
 *                centre_fraction = n_keep / 1000, acceleration H / n_keep,
 *                the equispaced rule with the deterministic offset
 *                round(adjusted) / 2; the same for every slice. n_keep = 30
 *                on 240 columns gives 31 columns (7.7x), not 8x.
 *  - vd2d:       2-D variable-density random points: a fully sampled central
 *                disc (diameter centre_fraction * min(h, w)) and Bernoulli
 *                samples elsewhere with probability c * (1 - r)^power (r the
 *                radius normalised to 1 at the corners' inscribed circle),
 *                c chosen so that the expected total is h w / accel.
 *
 * Random draws come from Philox4x32-10 keyed by (seed, a constant naming
 * the mask stream), so masks are the same on every machine. fastMRI's own
 * masks come from NumPy's generator: same rules and statistics, different
 * columns. */
#ifndef SR_OPERATORS_MRI_MASK_H
#define SR_OPERATORS_MRI_MASK_H

#include <stddef.h>
#include <stdint.h>

#include "scorerecon.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sr_mask_kind {
  SR_MASK_RANDOM = 0,
  SR_MASK_EQUISPACED,
  SR_MASK_PAPER,
  SR_MASK_VD2D
} sr_mask_kind;

typedef struct sr_mask_params {
  sr_mask_kind kind;
  double accel;           /* random, equispaced, vd2d: nominal acceleration > 1 */
  double center_fraction; /* random, equispaced, vd2d: in [0, 1) */
  int n_keep;             /* paper: kept columns parameter (30, 60, 10 ...) */
  uint32_t seed;          /* random, equispaced (offset), vd2d */
  double vd_power;        /* vd2d: density falloff exponent (default 2) */
} sr_mask_params;

/* Defaults: random, accel 4, centre fraction 0.08, seed 0, power 2. */
sr_mask_params sr_mask_params_default(void);

/* "random", "equispaced", "paper", "vd2d"; NULL for an unknown kind. */
const char *sr_mask_kind_name(sr_mask_kind kind);
/* Parses a name; SR_ERR_INVALID_ARGUMENT with the list of names otherwise. */
sr_status sr_mask_kind_parse(sr_context *ctx, const char *name, sr_mask_kind *out);

/* Fills mask (h * w floats, host). Checks the parameters (accel > 1,
 * fractions in range, n_keep in [1, w]) with a message naming the bad one. */
sr_status sr_mri_mask_make(sr_context *ctx, const sr_mask_params *p, int64_t h, int64_t w,
                           float *mask);

/* The true acceleration h w / (number of ones); 0 for an empty mask. */
double sr_mri_mask_acceleration(const float *mask, size_t n);

/* Number of columns with at least one sample (for 1-D masks: the kept
 * columns). */
size_t sr_mri_mask_columns(const float *mask, int64_t h, int64_t w);

#ifdef __cplusplus
}
#endif

#endif
