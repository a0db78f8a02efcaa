/* The CPU backend's FFT, k-space and total-variation ops (issue 3), same
 * contracts as in backend.h. Files: cpu_fft.c (FFTW plans and the
 * transforms), cpu_kspace.c (shifts, embed/extract, masks, gather/scatter,
 * the real-by-complex matmul), cpu_tv.c (gradient, divergence, projection). */
#ifndef SR_BACKEND_CPU_FFT_H
#define SR_BACKEND_CPU_FFT_H

#include "backend/backend.h"

sr_status sr_cpu_fft2(sr_backend *b, float *out, const float *in, size_t nslices, size_t h,
                      size_t w, int inverse, float scale);
sr_status sr_cpu_fft2c(sr_backend *b, float *out, const float *in, size_t nslices, size_t h,
                       size_t w, int inverse);
sr_status sr_cpu_fftshift2(sr_backend *b, float *out, const float *in, size_t nslices, size_t h,
                           size_t w, int inverse, float scale);
sr_status sr_cpu_embed_real(sr_backend *b, float *out, const float *in, size_t nslices, size_t h,
                            size_t w, size_t H, size_t W, size_t oy, size_t ox);
sr_status sr_cpu_extract_real(sr_backend *b, float *out, const float *in, size_t nslices, size_t h,
                              size_t w, size_t H, size_t W, size_t oy, size_t ox, float scale);
sr_status sr_cpu_cmask(sr_backend *b, float *out, const float *in, const float *mask,
                       size_t nslices, size_t n);
sr_status sr_cpu_cblend(sr_backend *b, float *t, const float *known, const float *mask,
                        size_t nslices, size_t n, float lambda);
sr_status sr_cpu_cabs(sr_backend *b, float *out, const float *in, size_t n);
sr_status sr_cpu_cgather(sr_backend *b, float *out, const float *in, const int32_t *src,
                         size_t nslices, size_t n_out, size_t n_in);
sr_status sr_cpu_cscatter(sr_backend *b, float *out, const float *in, const int32_t *dst,
                          const int32_t *src, const float *w, size_t taps, size_t npts,
                          size_t nslices, size_t n_out, size_t n_in);
sr_status sr_cpu_rmatmul_c(sr_backend *b, float *out, const float *in, const float *m, size_t rows,
                           size_t n_in, size_t n_out);

sr_status sr_cpu_grad2(sr_backend *b, float *g, const float *x, size_t nslices, size_t h, size_t w);
sr_status sr_cpu_div2(sr_backend *b, float *x, const float *g, size_t nslices, size_t h, size_t w);
sr_status sr_cpu_proj_l2ball2(sr_backend *b, float *p, size_t nslices, size_t hw, float radius);

/* FFTW's planner is one per process and not thread-safe (fftw_execute is):
 * every file that makes or destroys FFTW plans holds this lock meanwhile. */
void sr_fftw_planner_lock(void);
void sr_fftw_planner_unlock(void);

#endif
