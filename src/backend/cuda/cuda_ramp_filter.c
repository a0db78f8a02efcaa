/* FBP's ramp filter on cuFFT: rows zero-padded to P points (kernels/
 * ramp_filter.cu), one batched R2C, the filter response, one batched C2R, and
 * the crop. The plans are made for the number of rows of the call and kept
 * until a call with another count; every cufftResult is checked. Uses only
 * cufftPlanMany, cufftSetStream, cufftExecR2C, cufftExecC2R and cufftDestroy,
 * which the emulation build's FFTW shim provides. */
#include <stdlib.h>

#include "backend/cuda/cuda_ct.h"
#include "backend/cuda/cuda_fft.h"
#include "backend/cuda/cuda_internal.h"

static cudaStream_t stream_of(sr_backend *b) {
  return sr_cuda_state_of(b)->stream;
}

static void destroy_plans(cuda_ct_plan *impl) {
  if (impl->fft_rows) {
    cufftDestroy(impl->r2c);
    cufftDestroy(impl->c2r);
  }
  impl->fft_rows = 0;
}

void sr_cuda_ct_release_fft(sr_backend *b, cuda_ct_plan *impl) {
  destroy_plans(impl);
  for (int f = 0; f < SR_CT_FILTER_COUNT; ++f)
    if (impl->filter[f]) cudaFree(impl->filter[f]), impl->filter[f] = NULL;
  if (impl->fft_padded) cudaFree(impl->fft_padded);
  if (impl->fft_spectrum) cudaFree(impl->fft_spectrum);
  impl->fft_padded = impl->fft_spectrum = NULL;
  impl->fft_buf_rows = 0;
}

/* Plans and buffers for `rows` rows of P points. */
static sr_status ensure_fft(sr_backend *b, cuda_ct_plan *impl, size_t rows) {
  const int P = impl->padded, nf = P / 2 + 1;
  if (rows > (size_t)INT32_MAX / (size_t)P)
    return sr_fail(b->ctx, SR_ERR_UNSUPPORTED, "ramp filter of %zu rows is too large", rows);
  if (rows > impl->fft_buf_rows) {
    SR_CUDA_CHECK(b->ctx, cudaStreamSynchronize(stream_of(b)));
    if (impl->fft_padded) cudaFree(impl->fft_padded);
    if (impl->fft_spectrum) cudaFree(impl->fft_spectrum);
    impl->fft_padded = impl->fft_spectrum = NULL;
    impl->fft_buf_rows = 0;
    void *pad = NULL, *spec = NULL;
    SR_TRY(b->ops->alloc(b, rows * (size_t)P * sizeof(float), &pad));
    impl->fft_padded = (float *)pad;
    SR_TRY(b->ops->alloc(b, rows * (size_t)nf * 2 * sizeof(float), &spec));
    impl->fft_spectrum = (float *)spec;
    impl->fft_buf_rows = rows;
  }
  if (impl->fft_rows == rows) return SR_OK;
  SR_CUDA_CHECK(b->ctx, cudaStreamSynchronize(stream_of(b)));
  destroy_plans(impl);
  int n = P;
  SR_CUFFT_CHECK(b->ctx,
                 cufftPlanMany(&impl->r2c, 1, &n, NULL, 1, P, NULL, 1, nf, CUFFT_R2C, (int)rows));
  cufftResult r = cufftPlanMany(&impl->c2r, 1, &n, NULL, 1, nf, NULL, 1, P, CUFFT_C2R, (int)rows);
  if (r != CUFFT_SUCCESS) {
    cufftDestroy(impl->r2c);
    return SR_FAIL_HERE(b->ctx, r == CUFFT_ALLOC_FAILED ? SR_ERR_OUT_OF_MEMORY : SR_ERR_DEVICE,
                        "cufftPlanMany(C2R, %d points, %zu rows) failed: %s", P, rows,
                        sr_cufft_result_name(r));
  }
  impl->fft_rows = rows;
  SR_CUFFT_CHECK(b->ctx, cufftSetStream(impl->r2c, stream_of(b)));
  SR_CUFFT_CHECK(b->ctx, cufftSetStream(impl->c2r, stream_of(b)));
  return SR_OK;
}

/* The filter's H[f] / P on the device (cuFFT's inverse is unnormalised). */
static sr_status ensure_filter(sr_backend *b, cuda_ct_plan *impl, sr_ct_filter filter) {
  if (impl->filter[filter]) return SR_OK;
  const int P = impl->padded, nf = P / 2 + 1;
  double *h = (double *)malloc((size_t)nf * sizeof *h);
  float *hf = (float *)malloc((size_t)nf * sizeof *hf);
  if (!h || !hf) {
    free(h), free(hf);
    return sr_fail(b->ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate a ramp filter");
  }
  sr_ct_filter_spectrum(filter, P, h);
  for (int f = 0; f < nf; ++f) hf[f] = (float)(h[f] / (double)P);
  free(h);
  void *dev = NULL;
  sr_status st = b->ops->alloc(b, (size_t)nf * sizeof(float), &dev);
  if (st == SR_OK) st = b->ops->upload(b, dev, hf, (size_t)nf * sizeof(float));
  free(hf);
  if (st != SR_OK) {
    if (dev) cudaFree(dev);
    return st;
  }
  impl->filter[filter] = (float *)dev;
  return SR_OK;
}

static sr_status ramp_filter(sr_backend *b, sr_ct_plan *plan, sr_ct_filter filter, const float *in,
                             float *out, size_t nslices) {
  if ((unsigned)filter >= SR_CT_FILTER_COUNT)
    return sr_fail(b->ctx, SR_ERR_INVALID_ARGUMENT, "unknown FBP filter %d", (int)filter);
  if (nslices == 0) return SR_OK;
  cuda_ct_plan *impl = sr_cuda_ct_impl(plan);
  const size_t rows = nslices * (size_t)plan->proj.n_angles;
  const int n_det = (int)plan->proj.n_det, P = impl->padded;
  SR_TRY(ensure_filter(b, impl, filter));
  SR_TRY(ensure_fft(b, impl, rows));
  cudaStream_t s = stream_of(b);
  SR_TRY(sr_k_ramp_pad(b->ctx, s, in, impl->fft_padded, rows, n_det, P));
  SR_CUFFT_CHECK(b->ctx, cufftExecR2C(impl->r2c, (cufftReal *)impl->fft_padded,
                                      (cufftComplex *)impl->fft_spectrum));
  SR_TRY(sr_k_ramp_apply(b->ctx, s, impl->fft_spectrum, impl->filter[filter], rows, P / 2 + 1));
  SR_CUFFT_CHECK(b->ctx, cufftExecC2R(impl->c2r, (cufftComplex *)impl->fft_spectrum,
                                      (cufftReal *)impl->fft_padded));
  return sr_k_ramp_crop(b->ctx, s, impl->fft_padded, out, rows, n_det, P);
}

sr_status sr_cuda_ramp_filter(sr_backend *b, sr_ct_plan *plan, sr_ct_filter filter, const float *in,
                              float *out, size_t nslices) {
  SR_NVTX_OP("ramp_filter", ramp_filter(b, plan, filter, in, out, nslices));
}
