/* The CUDA backend's CT ops (issue 3), same contracts as in backend.h.
 * cuda_ct.c: the plan (views on the device, scratch), radon and
 * backproject; cuda_ramp_filter.c: FBP's filter on cuFFT. Kernels:
 * kernels/radon.cu, kernels/backproject.cu, kernels/ramp_filter.cu. */
#ifndef SR_BACKEND_CUDA_CT_H
#define SR_BACKEND_CUDA_CT_H

#include <cufft.h>

#include "backend/backend.h"
#include "backend/ct_projection.h"

sr_status sr_cuda_ct_plan_create(sr_backend *b, const sr_ct_projection *proj, sr_ct_plan **out);
void sr_cuda_ct_plan_destroy(sr_backend *b, sr_ct_plan *plan);
sr_status sr_cuda_radon(sr_backend *b, sr_ct_plan *plan, const float *image, float *sino,
                        size_t nslices);
sr_status sr_cuda_backproject(sr_backend *b, sr_ct_plan *plan, const float *sino, float *image,
                              size_t nslices);
sr_status sr_cuda_ramp_filter(sr_backend *b, sr_ct_plan *plan, sr_ct_filter filter, const float *in,
                              float *out, size_t nslices);

/* ---- private to the cuda_ct files */

typedef struct cuda_ct_plan {
  sr_ct_view *views; /* device copy of the views */
  int has_columns;   /* some view walks columns: radon needs the transposed image */
  /* The transposed images (slices, W, H), grown on demand. */
  float *image_t;
  size_t image_t_slices;
  /* FBP: padded length, each filter's H[f] / P on the device (made on first
   * use), R2C and C2R plans for `fft_rows` rows (remade when that changes),
   * and their buffers: padded (rows, P) real, spectrum (rows, P/2 + 1) complex. */
  int padded;
  float *filter[SR_CT_FILTER_COUNT];
  cufftHandle r2c, c2r;
  size_t fft_rows; /* 0: no plans */
  float *fft_padded, *fft_spectrum;
  size_t fft_buf_rows;
} cuda_ct_plan;

static inline cuda_ct_plan *sr_cuda_ct_impl(sr_ct_plan *plan) {
  return (cuda_ct_plan *)plan->impl;
}

/* Frees FBP's device state (cuda_ramp_filter.c); the plan's destroy calls it
 * after the stream has drained. */
void sr_cuda_ct_release_fft(sr_backend *b, cuda_ct_plan *impl);

#endif
