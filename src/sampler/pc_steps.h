/* The state one batch of the PC sampler works on, and its predictor and
 * corrector steps (predictors.c, correctors.c). Internal to src/sampler. */
#ifndef SR_SAMPLER_PC_STEPS_H
#define SR_SAMPLER_PC_STEPS_H

#include "sampler/pc_sampler.h"

typedef struct sr_pc_state {
  sr_backend *b;
  sr_score_fn score;
  void *score_user;
  const sr_sde *sde;
  uint32_t seed;
  const sr_sample_item *items;
  size_t nb;                  /* items */
  size_t n;                   /* values per item (H W) */
  float *x, *s, *z;           /* (nb, n) backend: state, score, noise */
  float *sigma_host, *t_host; /* (nb) host: the score's conditioning */
  double *nrm_s, *nrm_z;      /* (nb) host */
  float *coef_s, *coef_z;     /* (nb) host */
  float *ones;                /* (nb) host, all 1 */
  sr_sampler_stats *stats;
  int sync;
} sr_pc_state;

/* Monotonic seconds; synchronises the backend first when ps->sync. */
double sr_pc_clock(sr_pc_state *ps);

/* ps->s = s(ps->x, t) with std sigma for every item (timed as network). */
sr_status sr_pc_score(sr_pc_state *ps, float t, double sigma);

/* One predictor step at t (noise purpose PREDICTOR, step i). */
sr_status sr_predictor_step(sr_pc_state *ps, sr_predictor_kind kind, float t, uint32_t i);

/* `steps` corrector steps at t with std sigma (noise purpose LANGEVIN,
 * step i * steps + j). */
sr_status sr_corrector_steps(sr_pc_state *ps, sr_corrector_kind kind, float t, double sigma,
                             double snr, int steps, int batch_average, uint32_t i);

#endif
