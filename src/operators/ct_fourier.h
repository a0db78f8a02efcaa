/* "ct-fourier": sparse-view parallel-beam CT with the paper's Fourier-domain
 * transform T (Song et al. 2022, official code transforms/radon.py), for its
 * data-consistency step. For N x N images:
 *
 *   D  = ceil(sqrt(2) N)       detector bins = padded image side (453 for 320)
 *   ED = expand(D, expansion)  int(D * expansion), made even (1812 for 320, x4)
 *   T x    = fft2(ifftshift(pad_ED(pad_D(x))))   unshifted, unnormalised,
 *            complex (ED, ED); the pads centre pixel (N/2, N/2) on the origin
 *   T^-1 t = Re crop(fftshift(ifft2(t)))          (T^-1 T = identity)
 *
 * Views are the full set linspace(0, pi, n_full, endpoint=False) (n_full =
 * N by default) or the rows kept of it (the paper: round(linspace(0,
 * n_full - 1, n)), 23 of 320). View v's radial line holds ED samples at radii
 * r_j = get_r_coords(D, ED) (in units of 1/D cycles per pixel), each landing
 * on the nearest grid point (round half to even, as NumPy):
 *   x = rint(r_j cos(a_v) ED / D) mod ED,  y = rint(-r_j sin(a_v) ED / D) mod ED.
 * Where samples of several views land on one grid point, measured views win
 * (the official JAX scatter leaves the winner unspecified on GPU); among
 * equals the last in (view, sample) order, as a sequential scatter. The mask
 * Lambda is 1 at grid points won by a measured view.
 *
 * measurement_to_transform (the official fft_discretize_sinogram): each
 * measured projection's DFT at the radii r_j (an exact DFT evaluated at
 * those frequencies, where the official code uses a Kaiser-Bessel NUFFT of
 * ~1e-3 relative accuracy), then bilinear interpolation in (angle, radius)
 * at each Lambda point's own polar position (map_coordinates, order 1,
 * 'nearest' edges). The official code interpolates from the full 320-view
 * sinogram, so with sparse views it reads unmeasured neighbours; ours uses
 * measured views only: identical bilinear weights when both angle rows are
 * measured (every view measured), otherwise the winning view's own line,
 * linearly interpolated at the foot of the perpendicular from the point.
 * Against T x on Lambda (Fourier-slice test, smooth phantom, N = 64): 0.8%
 * relative L2 with all views, 1.1% with 16 of 64 (the projector's pixel
 * and detector boxes damp high frequencies).
 *
 * forward / adjoint are the matched ct-parallel projector (distance-driven,
 * src/operators/ct_parallel.h) on the kept views with D bins of the pixel
 * size, so the measurement is an ordinary sinogram (nslices, n_keep, D). */
#ifndef SR_OPERATORS_CT_FOURIER_H
#define SR_OPERATORS_CT_FOURIER_H

#include <stddef.h>
#include <stdint.h>

#include "operators/operator.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sr_ct_fourier_params {
  int64_t image_size;  /* N: images are N x N */
  int64_t n_full;      /* size of the full view set (0: N) */
  double expansion;    /* oversampling of the padded grid (0: 4, the paper's) */
  const int64_t *rows; /* n_keep increasing rows of the full set; NULL: all */
  int64_t n_keep;
} sr_ct_fourier_params;

/* The host-side tables: grid size, radial sample positions, winners. */
typedef struct sr_ct_fourier_grid {
  int64_t n, d, ed;       /* N, D, ED */
  int64_t n_full, n_keep; /* views */
  int64_t *rows;          /* n_keep kept rows (owned) */
  int32_t *line_to_grid;  /* (n_full, ED): grid index of each line sample */
  int32_t *winner;        /* (ED * ED): winning line sample, -1 where no line lands */
  float *mask;            /* (ED * ED): 1 where a measured view wins */
  size_t n_lambda;        /* number of ones in mask */
} sr_ct_fourier_grid;

/* D and ED for an N x N image (ED = 0 for bad arguments). */
int64_t sr_ct_fourier_d(int64_t n);
int64_t sr_ct_fourier_ed(int64_t d, double expansion);

sr_status sr_ct_fourier_grid_make(sr_context *ctx, const sr_ct_fourier_params *p,
                                  sr_ct_fourier_grid *g);
void sr_ct_fourier_grid_release(sr_ct_fourier_grid *g);

sr_status sr_ct_fourier_create(sr_backend *b, const sr_ct_fourier_params *p, sr_operator **out);

/* The operator's tables (NULL if op is not a ct-fourier operator). */
const sr_ct_fourier_grid *sr_ct_fourier_grid_of(const sr_operator *op);

/* The maps along the radial lines of all n_full views, as the official
 * fft_kspace_to_sino / fft_sino_to_kspace: lines (nslices, n_full, ED)
 * complex = fftshift(ifft(ifftshift(gather(t)))) along each line, and back
 * (fft along each line, then the winners scattered into t; grid points no
 * line reaches are left as they were). */
sr_status sr_ct_fourier_kspace_to_lines(sr_operator *op, const float *t, float *lines,
                                        size_t nslices);
sr_status sr_ct_fourier_lines_to_kspace(sr_operator *op, const float *lines, float *t,
                                        size_t nslices);

#ifdef __cplusplus
}
#endif

#endif
