/* The predictor-corrector sampler of p(x | y) with data consistency: the
 * official `projection` solver of score_inverse_problems (cs.py) step for
 * step, its corrected consistency mode, and the corrector-only
 * `langevin_projection` variant. Host C over a score callback
 * (sampler/score.h) and an operator; all vector work is op-table calls, so
 * the same code runs on the CPU and the CUDA backend.
 *
 * One run (sr_sampler_run_batch) on a batch of items, each item one
 * posterior sample of one slice, with t_i = linspace(1, eps, N) (float32):
 *
 *   x = prior_std z0                                   (INITIAL_SAMPLE)
 *   for i = 0 .. N-1, sigma_i = std of p_{t_i} (VE: sigma(t_i)):
 *     (a) x = C(x; m y + sigma_i T z1, lambda)         (CONSISTENCY_BEFORE_CORRECTOR)
 *     (b) corrector_steps Langevin steps at t_i:        (LANGEVIN, step i k + j)
 *           s = s(x, t_i), eps = 2 alpha (snr ||z|| / ||s||)^2,
 *           x = x + eps s + sqrt(2 eps) z
 *     (c) x = C(x; m y + sigma_i T z3, lambda)         (CONSISTENCY_BEFORE_PREDICTOR)
 *     (d) predictor at t_i: reverse diffusion on the discrete grid,
 *           k = index(t_i) = N-1-i, x = x + (s_k^2 - s_{k-1}^2) s + sqrt(.) z
 *                                                       (PREDICTOR)
 *   denoise (Tweedie at eps): x = x + std(eps)^2 s(x, eps)      (VE)
 *   x = C(x; y, lambda_final)                           (noise-free, final)
 *
 * C is the consistency step of sampler/consistency.h. The norms of the
 * Langevin step are per item by default (the result does not depend on the
 * batch); batch_norm_average uses the means over the batch as the official
 * code does (then it does). The output is not clipped (the official code
 * clips only for metrics).
 *
 * Determinism: every noise field comes from Philox keyed by (seed, slice)
 * (sampler/noise.h), so on the CPU backend an item's result is bit-identical
 * for any batch size, batch position and thread count. */
#ifndef SR_SAMPLER_PC_SAMPLER_H
#define SR_SAMPLER_PC_SAMPLER_H

#include <stddef.h>
#include <stdint.h>

#include "operators/operator.h"
#include "sampler/consistency.h"
#include "sampler/noise.h"
#include "sampler/score.h"
#include "sampler/sde.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sr_predictor_kind {
  SR_PREDICTOR_REVERSE_DIFFUSION = 0,
  SR_PREDICTOR_EULER_MARUYAMA,
  SR_PREDICTOR_NONE /* corrector only (with SR_CORRECTOR_ALD: langevin_projection) */
} sr_predictor_kind;

typedef enum sr_corrector_kind {
  SR_CORRECTOR_LANGEVIN = 0, /* step from the signal-to-noise ratio of s and z */
  SR_CORRECTOR_ALD,          /* NCSN's annealed Langevin: eps = 2 alpha (snr std)^2 */
  SR_CORRECTOR_NONE
} sr_corrector_kind;

typedef struct sr_sampler_params {
  sr_sde sde; /* SDE and N (sde.n) */
  double eps; /* last time (1e-5) */
  sr_predictor_kind predictor;
  sr_corrector_kind corrector;
  int corrector_steps;    /* Langevin steps per noise level (1) */
  double snr;             /* Langevin signal-to-noise ratio r */
  int batch_norm_average; /* 1: the official batch-averaged norms */
  sr_consistency_params consistency;
  double lambda;       /* consistency weight during the steps */
  double lambda_final; /* at the final, noise-free step (1: the projection sampler) */
  int denoise;         /* the final Tweedie step (1) */
  uint32_t seed;
} sr_sampler_params;

/* The paper's defaults: VE sigma in [0.01, 128], N = 1000, eps = 1e-5,
 * reverse diffusion + one Langevin step, snr 0.16, paper consistency with
 * lambda = 1, denoising on, seed 0. */
void sr_sampler_params_default(sr_sampler_params *p);

/* Presets of the paper (its configs/ve/ files): sets sde, N, snr, corrector steps
 * and lambda (for the consistency mode already in p: the paper's tuned
 * lambda in paper mode, 1 in exact mode).
 *   ct320     CT-320, 23 of 320 views: N 1000, snr 0.246, lambda 0.841
 *   brats240  BraTS 240^2 MRI, the 30-column mask (31 columns): N 1000,
 *             snr 0.517, lambda 1.0
 * SR_ERR_INVALID_ARGUMENT (message lists the names) for others. */
sr_status sr_sampler_preset(sr_context *ctx, const char *name, sr_sampler_params *p);
/* "ct320|brats240" */
const char *sr_sampler_preset_names(void);

/* The kinds by name: "reverse_diffusion", "euler_maruyama", "none";
 * "langevin", "ald", "none". */
sr_status sr_predictor_parse(sr_context *ctx, const char *name, sr_predictor_kind *out);
sr_status sr_corrector_parse(sr_context *ctx, const char *name, sr_corrector_kind *out);

/* Where the time went (seconds) and how much work was done. With
 * sync_timing the backend is synchronised at every boundary so device time
 * is attributed correctly (slower; for benchmarks). */
typedef struct sr_sampler_stats {
  double total_s;
  double network_s;     /* inside the score callback */
  double consistency_s; /* data consistency: operator, transforms, its noise */
  double other_s;       /* predictor / corrector updates, noise, norms */
  uint64_t score_evals; /* network evaluations, counted per item */
  uint64_t consistency_calls;
  uint64_t items; /* items sampled */
} sr_sampler_stats;

/* Names of the profiler ranges (sr_backend_range_push: NVTX on the CUDA
 * backend) the sampler opens around its phases, so an Nsight Systems
 * profile splits a run the way sr_sampler_stats does. network nests inside
 * corrector, predictor and final-denoise; consistency (each step, and the
 * per-batch setup of the known data) stands on its own. */
#define SR_RANGE_NETWORK "sampler/network"
#define SR_RANGE_CONSISTENCY "sampler/consistency"
#define SR_RANGE_CORRECTOR "sampler/corrector"
#define SR_RANGE_PREDICTOR "sampler/predictor"
#define SR_RANGE_FINAL_DENOISE "sampler/final-denoise"

/* Reported after each noise level and at the end of each batch. */
typedef struct sr_sampler_progress {
  size_t items_done, items_total; /* over a whole sr_sampler_reconstruct */
  size_t batch_items;             /* items in the running batch */
  int step, steps;                /* levels done in the running batch, of N */
  double elapsed_s;
} sr_sampler_progress;
typedef void (*sr_sampler_progress_fn)(void *user, const sr_sampler_progress *p);

typedef struct sr_sampler sr_sampler;

/* Checks p against op (a consistency mode it supports, positive sizes)
 * and prepares the consistency step. The score callback must accept
 * batches of up to max_batch items of the operator's (H, W) images. */
sr_status sr_sampler_create(sr_operator *op, const sr_sampler_params *p, sr_score_fn score,
                            void *score_user, size_t max_batch, sr_sampler **out);
void sr_sampler_destroy(sr_sampler *s);

void sr_sampler_set_progress(sr_sampler *s, sr_sampler_progress_fn fn, void *user);
void sr_sampler_set_sync_timing(sr_sampler *s, int on);
const sr_sampler_stats *sr_sampler_stats_get(const sr_sampler *s);
const sr_sampler_params *sr_sampler_params_get(const sr_sampler *s);
/* The consistency method in use: "none", "paper", "hermitian", "cg". */
const char *sr_sampler_consistency_method(const sr_sampler *s);

/* One batch of nb <= max_batch items: y (nb, meas) the measurement of each
 * item's slice, x_out (nb, H, W), both backend memory. */
sr_status sr_sampler_run_batch(sr_sampler *s, const void *y, const sr_sample_item *items, size_t nb,
                               float *x_out);

/* A whole stack on the host: y_host (nslices, meas) in the operator's
 * measurement dtype; slice i has Philox key (seed, first_slice + i). Draws
 * `samples` posterior samples per slice in batches of `batch` items
 * (slice-major: all samples of slice 0, then slice 1, ...) and writes
 * mean_host (nslices, H, W) and, when not NULL, std_host (nslices, H, W),
 * the pixel-wise standard deviation over the samples with divisor
 * samples - 1 (zero for one sample). Accumulated per slice in sample order
 * (Welford), so the result is independent of the batch size. */
sr_status sr_sampler_reconstruct(sr_sampler *s, const void *y_host, size_t nslices,
                                 uint32_t first_slice, int samples, size_t batch, float *mean_host,
                                 float *std_host);

#ifdef __cplusplus
}
#endif

#endif
