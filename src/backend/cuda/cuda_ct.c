/* The CUDA backend's CT projector: the plan (the view table uploaded once,
 * scratch for the transposed image) and the radon / backproject ops, each a
 * kernel launch on the backend's stream inside an NVTX range. */
#include <stdlib.h>

#include "backend/cuda/cuda_ct.h"
#include "backend/cuda/cuda_internal.h"

static cudaStream_t stream_of(sr_backend *b) {
  return sr_cuda_state_of(b)->stream;
}

sr_status sr_cuda_ct_plan_create(sr_backend *b, const sr_ct_projection *proj, sr_ct_plan **out) {
  *out = NULL;
  sr_ct_plan *plan = NULL;
  SR_TRY(sr_ct_plan_alloc(b->ctx, proj, &plan));
  cuda_ct_plan *impl = (cuda_ct_plan *)calloc(1, sizeof *impl);
  if (!impl) {
    sr_ct_plan_release(plan);
    return sr_fail(b->ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate a CT projector plan");
  }
  plan->impl = impl;
  impl->padded = (int)sr_ct_filter_padded_size(proj->n_det);
  for (int64_t a = 0; a < proj->n_angles; ++a)
    if (proj->views[a].major == SR_CT_COLUMNS) impl->has_columns = 1;
  const size_t bytes = (size_t)proj->n_angles * sizeof(sr_ct_view);
  void *views = NULL;
  sr_status st = b->ops->alloc(b, bytes, &views);
  impl->views = (sr_ct_view *)views;
  if (st == SR_OK) st = b->ops->upload(b, views, plan->proj.views, bytes);
  if (st != SR_OK) {
    sr_cuda_ct_plan_destroy(b, plan);
    return st;
  }
  *out = plan;
  return SR_OK;
}

void sr_cuda_ct_plan_destroy(sr_backend *b, sr_ct_plan *plan) {
  if (!plan) return;
  cuda_ct_plan *impl = sr_cuda_ct_impl(plan);
  if (impl) {
    /* Kernels queued earlier may still read the plan's memory. */
    cudaStreamSynchronize(stream_of(b));
    sr_cuda_ct_release_fft(b, impl);
    if (impl->views) cudaFree(impl->views);
    if (impl->image_t) cudaFree(impl->image_t);
    free(impl);
  }
  sr_ct_plan_release(plan);
}

static sr_status radon(sr_backend *b, sr_ct_plan *plan, const float *image, float *sino,
                       size_t nslices) {
  if (nslices == 0) return SR_OK;
  const sr_ct_projection *p = &plan->proj;
  cuda_ct_plan *impl = sr_cuda_ct_impl(plan);
  const int h = (int)p->image_h, w = (int)p->image_w;
  if (impl->has_columns) {
    if (nslices > impl->image_t_slices) {
      SR_CUDA_CHECK(b->ctx, cudaStreamSynchronize(stream_of(b)));
      if (impl->image_t) cudaFree(impl->image_t);
      impl->image_t = NULL;
      impl->image_t_slices = 0;
      void *mem = NULL;
      SR_TRY(b->ops->alloc(b, nslices * (size_t)h * w * sizeof(float), &mem));
      impl->image_t = (float *)mem;
      impl->image_t_slices = nslices;
    }
    SR_TRY(sr_k_ct_transpose(b->ctx, stream_of(b), image, impl->image_t, nslices, h, w));
  }
  return sr_k_radon(b->ctx, stream_of(b), impl->views, (int)p->n_angles, (int)p->n_det, h, w,
                    p->coef, image, impl->image_t, sino, nslices);
}

sr_status sr_cuda_radon(sr_backend *b, sr_ct_plan *plan, const float *image, float *sino,
                        size_t nslices) {
  SR_NVTX_OP("radon", radon(b, plan, image, sino, nslices));
}

static sr_status backproject(sr_backend *b, sr_ct_plan *plan, const float *sino, float *image,
                             size_t nslices) {
  const sr_ct_projection *p = &plan->proj;
  return sr_k_backproject(b->ctx, stream_of(b), sr_cuda_ct_impl(plan)->views, (int)p->n_angles,
                          (int)p->n_det, (int)p->image_h, (int)p->image_w, p->coef, sino, image,
                          nslices);
}

sr_status sr_cuda_backproject(sr_backend *b, sr_ct_plan *plan, const float *sino, float *image,
                              size_t nslices) {
  SR_NVTX_OP("backproject", backproject(b, plan, sino, image, nslices));
}
