/* Philox normals on the CPU. Built with -ffp-contract=off (see CMake) so the
 * float operations of src/core/philox.h round exactly as in kernels/philox.cu. */
#include "backend/cpu/cpu_internal.h"
#include "core/philox.h"

sr_status sr_cpu_randn(sr_backend *b, float *x, size_t nslices, size_t n, sr_rng_stream st) {
  size_t groups = (n + 3) / 4;
  for (size_t s = 0; s < nslices; ++s) {
    float *xs = x + s * n;
    uint32_t slice = st.first_slice + (uint32_t)s;
#pragma omp parallel for schedule(static) num_threads(b->threads) if (groups >= 4096)
    for (size_t g = 0; g < groups; ++g) {
      sr_philox_u4 ctr = {{(uint32_t)g, st.purpose, st.step, (uint32_t)((uint64_t)g >> 32)}};
      float v[4];
      sr_philox_normal4(sr_philox4x32_10(ctr, st.seed, slice), v);
      size_t base = g * 4;
      size_t count = n - base < 4 ? n - base : 4;
      for (size_t k = 0; k < count; ++k) xs[base + k] = v[k];
    }
  }
  return SR_OK;
}
