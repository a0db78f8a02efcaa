/* The sampler's draws: runs of items map onto batched randn calls. */
#include "sampler/noise.h"

#include "core/error.h"

sr_status sr_noise_draw(sr_backend *b, uint32_t seed, const sr_sample_item *items, size_t nitems,
                        float *x, size_t n, sr_draw_purpose purpose, uint32_t step) {
  size_t i = 0;
  while (i < nitems) {
    size_t run = 1;
    while (i + run < nitems && items[i + run].sample == items[i].sample &&
           items[i + run].slice == items[i].slice + (uint32_t)run)
      ++run;
    if (items[i].sample >= (1u << 24))
      return sr_fail(b->ctx, SR_ERR_INVALID_ARGUMENT, "sample index %u is too large",
                     items[i].sample);
    sr_rng_stream st;
    st.seed = seed;
    st.first_slice = items[i].slice;
    st.step = step;
    st.purpose = (uint32_t)purpose + 256u * items[i].sample;
    SR_TRY(b->ops->randn(b, x + i * n, run, n, st));
    i += run;
  }
  return SR_OK;
}
