/* FBP's ramp filter on the CPU: each sinogram row is zero-padded to P =
 * sr_ct_filter_padded_size(n_det) points, transformed with FFTW (r2c),
 * multiplied by the filter's real even response H[f] (ct_projection.c),
 * transformed back (c2r) and cropped to its n_det bins. The FFTW plans are
 * made once per CT plan (one size) and executed on per-thread buffers; rows
 * are independent, so the result does not depend on the thread count.
 *
 * Shapes: in, out (nslices, n_angles, n_det) float32; out may equal in. */
#define _POSIX_C_SOURCE 200809L
#include <fftw3.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "backend/cpu/cpu_ct.h"
#include "backend/cpu/cpu_fft.h"
#include "core/error.h"

static sr_status ensure_fft_plans(sr_backend *b, cpu_ct_plan *impl) {
  if (impl->r2c && impl->c2r) return SR_OK;
  const int P = (int)impl->padded;
  /* ESTIMATE never reads the buffers; they only fix size and alignment, and
   * fftwf_malloc gives every later buffer the same alignment. */
  float *re = fftwf_alloc_real((size_t)P);
  fftwf_complex *co = fftwf_alloc_complex((size_t)P / 2 + 1);
  if (!re || !co) {
    fftwf_free(re);
    fftwf_free(co);
    return sr_fail(b->ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate FFT buffers of %d points", P);
  }
  sr_fftw_planner_lock();
  if (!impl->r2c) impl->r2c = fftwf_plan_dft_r2c_1d(P, re, co, FFTW_ESTIMATE);
  if (!impl->c2r) impl->c2r = fftwf_plan_dft_c2r_1d(P, co, re, FFTW_ESTIMATE);
  sr_fftw_planner_unlock();
  fftwf_free(re);
  fftwf_free(co);
  if (!impl->r2c || !impl->c2r)
    return SR_FAIL_HERE(b->ctx, SR_ERR_INTERNAL, "FFTW could not plan a %d-point real FFT", P);
  return SR_OK;
}

/* H[f] / P in float (FFTW's inverse is unnormalised). */
static sr_status ensure_filter(sr_backend *b, cpu_ct_plan *impl, sr_ct_filter filter) {
  if (impl->filter[filter]) return SR_OK;
  const int64_t P = impl->padded, nf = P / 2 + 1;
  double *h = (double *)malloc((size_t)nf * sizeof *h);
  float *hf = (float *)malloc((size_t)nf * sizeof *hf);
  if (!h || !hf) {
    free(h);
    free(hf);
    return sr_fail(b->ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate a ramp filter");
  }
  sr_ct_filter_spectrum(filter, P, h);
  for (int64_t f = 0; f < nf; ++f) hf[f] = (float)(h[f] / (double)P);
  free(h);
  impl->filter[filter] = hf;
  return SR_OK;
}

sr_status sr_cpu_ramp_filter(sr_backend *b, sr_ct_plan *plan, sr_ct_filter filter, const float *in,
                             float *out, size_t nslices) {
  if ((unsigned)filter >= SR_CT_FILTER_COUNT)
    return sr_fail(b->ctx, SR_ERR_INVALID_ARGUMENT, "unknown FBP filter %d", (int)filter);
  if (nslices == 0) return SR_OK;
  cpu_ct_plan *impl = sr_cpu_ct_impl(plan);
  SR_TRY(ensure_fft_plans(b, impl));
  SR_TRY(ensure_filter(b, impl, filter));
  const int64_t rows = (int64_t)nslices * plan->proj.n_angles;
  const size_t n_det = (size_t)plan->proj.n_det, P = (size_t)impl->padded, nf = P / 2 + 1;
  const float *H = impl->filter[filter];
  const fftwf_plan r2c = (fftwf_plan)impl->r2c, c2r = (fftwf_plan)impl->c2r;
  int failed = 0;

#pragma omp parallel num_threads(b->threads)
  {
    float *re = fftwf_alloc_real(P);
    fftwf_complex *co = fftwf_alloc_complex(nf);
    if (!re || !co) {
#pragma omp atomic write
      failed = 1;
    }
#pragma omp for schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
      if (!re || !co) continue;
      memcpy(re, in + (size_t)r * n_det, n_det * sizeof *re);
      memset(re + n_det, 0, (P - n_det) * sizeof *re);
      fftwf_execute_dft_r2c(r2c, re, co);
      for (size_t f = 0; f < nf; ++f) {
        co[f][0] *= H[f];
        co[f][1] *= H[f];
      }
      fftwf_execute_dft_c2r(c2r, co, re);
      memcpy(out + (size_t)r * n_det, re, n_det * sizeof *re);
    }
    fftwf_free(re);
    fftwf_free(co);
  }
  if (failed) return sr_fail(b->ctx, SR_ERR_OUT_OF_MEMORY, "ramp filter: out of memory");
  return SR_OK;
}
