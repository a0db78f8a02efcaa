/* Shared by ct_fourier_grid.c and ct_fourier.c: the official code's
 * coordinate formulas, one function each. */
#ifndef SR_OPERATORS_CT_FOURIER_INTERNAL_H
#define SR_OPERATORS_CT_FOURIER_INTERNAL_H

#include <stdint.h>

#include "operators/ct_fourier.h"

#define M_PI_D 3.14159265358979323846

/* Value i of numpy.linspace(start, stop, num) (endpoint included). */
double sr_ct_fourier_linspace(double start, double stop, int64_t num, int64_t i);
/* Radius of sample j of a line: get_r_coords(d, ed)[j], in 1/D cycles per pixel. */
double sr_ct_fourier_radius(int64_t d, int64_t ed, int64_t j);
/* Angle of view v of the full set, radians. */
double sr_ct_fourier_angle(int64_t n_full, int64_t v);
/* np.round(c * ed / d): a signed grid coordinate. */
double sr_ct_fourier_round(double c, int64_t d, int64_t ed);
/* Fractional (angle row, radius sample) of the grid point that sample (v, j)
 * lands on, as fft_discretize_sinogram computes it. */
void sr_ct_fourier_polar(const sr_ct_fourier_grid *g, int64_t v, int64_t j, double *theta_idx,
                         double *r_idx);

#endif
