/* Where each field of the sampler's noise comes from. A batch holds items;
 * an item is one posterior sample of one slice. Item (slice, sample) draws
 * from the Philox stream
 *   key     = (seed, slice)
 *   counter = (element group, purpose + 256 sample, step, 0)
 * so a slice's noise depends on neither the batch it runs in nor its
 * position there, sample 0 is exactly the noise of a single-sample run, and
 * two fields of one step (sr_draw_purpose) never share numbers. */
#ifndef SR_SAMPLER_NOISE_H
#define SR_SAMPLER_NOISE_H

#include <stddef.h>
#include <stdint.h>

#include "backend/backend.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One item of a batch: which slice (the Philox key's second word) and which
 * posterior sample of it. */
typedef struct sr_sample_item {
  uint32_t slice;
  uint32_t sample; /* < 2^24 */
} sr_sample_item;

/* x (nitems, n) = standard normals for the items, one randn call per run of
 * items with consecutive slices and equal sample. `step` names the step (or
 * sub-step) within the purpose. */
sr_status sr_noise_draw(sr_backend *b, uint32_t seed, const sr_sample_item *items, size_t nitems,
                        float *x, size_t n, sr_draw_purpose purpose, uint32_t step);

#ifdef __cplusplus
}
#endif

#endif
