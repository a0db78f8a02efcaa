/* The CPU backend's CT plan: the common tables plus the view lists per line
 * kind, a growing double scratch and FBP's FFTW state (cpu_ramp_filter.c). */
#define _POSIX_C_SOURCE 200809L
#include <fftw3.h>
#include <stdlib.h>

#include "backend/cpu/cpu_ct.h"
#include "backend/cpu/cpu_fft.h"
#include "core/error.h"

sr_status sr_cpu_ct_plan_create(sr_backend *b, const sr_ct_projection *proj, sr_ct_plan **out) {
  *out = NULL;
  sr_ct_plan *plan = NULL;
  SR_TRY(sr_ct_plan_alloc(b->ctx, proj, &plan));
  cpu_ct_plan *impl = (cpu_ct_plan *)calloc(1, sizeof *impl);
  const size_t n = (size_t)proj->n_angles;
  int32_t *rows = (int32_t *)malloc(n * sizeof *rows), *cols = (int32_t *)malloc(n * sizeof *cols);
  if (!impl || !rows || !cols) {
    free(impl), free(rows), free(cols);
    sr_ct_plan_release(plan);
    return sr_fail(b->ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate a CT projector plan");
  }
  for (size_t a = 0; a < n; ++a) {
    if (plan->proj.views[a].major == SR_CT_ROWS)
      rows[impl->n_by_major[SR_CT_ROWS]++] = (int32_t)a;
    else
      cols[impl->n_by_major[SR_CT_COLUMNS]++] = (int32_t)a;
  }
  impl->views_by_major[SR_CT_ROWS] = rows;
  impl->views_by_major[SR_CT_COLUMNS] = cols;
  impl->padded = sr_ct_filter_padded_size(proj->n_det);
  plan->impl = impl;
  *out = plan;
  return SR_OK;
}

void sr_cpu_ct_plan_destroy(sr_backend *b, sr_ct_plan *plan) {
  if (!plan) return;
  cpu_ct_plan *impl = sr_cpu_ct_impl(plan);
  if (impl) {
    free(impl->views_by_major[0]);
    free(impl->views_by_major[1]);
    free(impl->scratch);
    for (int f = 0; f < SR_CT_FILTER_COUNT; ++f) free(impl->filter[f]);
    if (impl->r2c || impl->c2r) {
      sr_fftw_planner_lock();
      if (impl->r2c) fftwf_destroy_plan((fftwf_plan)impl->r2c);
      if (impl->c2r) fftwf_destroy_plan((fftwf_plan)impl->c2r);
      sr_fftw_planner_unlock();
    }
    free(impl);
  }
  sr_ct_plan_release(plan);
}

sr_status sr_cpu_ct_scratch(sr_backend *b, sr_ct_plan *plan, size_t n, double **out) {
  cpu_ct_plan *impl = sr_cpu_ct_impl(plan);
  if (n > impl->scratch_elems) {
    free(impl->scratch);
    impl->scratch = NULL;
    impl->scratch_elems = 0;
    void *p = NULL;
    if (posix_memalign(&p, 64, n * sizeof(double)) != 0 || !p)
      return sr_fail(b->ctx, SR_ERR_OUT_OF_MEMORY,
                     "cannot allocate %.1f MiB of CT projector scratch",
                     (double)(n * sizeof(double)) / 1048576.0);
    impl->scratch = (double *)p;
    impl->scratch_elems = n;
  }
  *out = impl->scratch;
  return SR_OK;
}
