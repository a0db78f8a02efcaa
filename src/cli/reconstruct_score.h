/* `scorerecon reconstruct --method score`: the diffusion sampler behind the
 * reconstruct command (reconstruct.c owns the command; this file owns the
 * sampler's options and the run). The options join reconstruct's table
 * through SR_RECONSTRUCT_SCORE_OPTIONS, so --help lists them with their
 * defaults. */
#ifndef SR_CLI_RECONSTRUCT_SCORE_H
#define SR_CLI_RECONSTRUCT_SCORE_H

#include <stdint.h>
#include <stdio.h>

#include "cli/options.h"
#include "io/h5meas.h"
#include "scorerecon.h"

typedef struct sr_score_cli_options {
  const char *preset;      /* ct320 | brats240 | NULL: by modality */
  int consistency;         /* 0 paper, 1 exact */
  int64_t steps;           /* 0: preset */
  double snr;              /* < 0: preset */
  int64_t corrector_steps; /* < 0: preset */
  double lambda;           /* < 0: preset */
  double lambda_final;
  int64_t seed;
  int64_t samples;
  const char *std_out;
  int batch_average;
  int predictor; /* 0 reverse_diffusion, 1 euler_maruyama, 2 none */
  int corrector; /* 0 langevin, 1 ald, 2 none */
  int64_t cg_iters, cg_iters_final;
  double cg_delta, cg_delta_final;
  double data_scale; /* 0: auto */
  int no_clip;
  int quiet;
} sr_score_cli_options;

extern sr_score_cli_options sr_score_cli;

/* The option table entries (appended to reconstruct's table). */
// clang-format off
#define SR_RECONSTRUCT_SCORE_OPTIONS                                                               \
  {"preset", 0, SR_OPT_STRING, &sr_score_cli.preset, NULL,                                         \
   "score: the paper's settings, ct320 or brats240 (default: by modality)", NULL, "NAME"},         \
  {"consistency", 0, SR_OPT_CHOICE, &sr_score_cli.consistency, "exact",                            \
   "score: data consistency; exact: a true projection (better in bench/quality), paper: the "      \
   "official step",                                                                                \
   "paper|exact", NULL},                                                                           \
  {"steps", 0, SR_OPT_INT, &sr_score_cli.steps, "0",                                               \
   "score: noise levels N (0: the model's, 1000 for the paper's)", NULL, "N"},                     \
  {"snr", 0, SR_OPT_DOUBLE, &sr_score_cli.snr, "-1",                                               \
   "score: Langevin signal-to-noise ratio (-1: the preset's)", NULL, "R"},                         \
  {"corrector-steps", 0, SR_OPT_INT, &sr_score_cli.corrector_steps, "-1",                          \
   "score: Langevin steps per noise level (-1: the preset's, 1)", NULL, "K"},                      \
  {"lambda", 0, SR_OPT_DOUBLE, &sr_score_cli.lambda, "-1",                                         \
   "score: consistency weight in [0, 1] (-1: the preset's; exact mode 1)", NULL, "L"},             \
  {"final-lambda", 0, SR_OPT_DOUBLE, &sr_score_cli.lambda_final, "1",                              \
   "score: weight of the last, noise-free consistency step", NULL, "L"},                           \
  {"seed", 0, SR_OPT_INT, &sr_score_cli.seed, "0",                                                 \
   "score: seed of every noise draw", NULL, "S"},                                                  \
  {"samples", 0, SR_OPT_INT, &sr_score_cli.samples, "1",                                           \
   "score: posterior samples per slice; writes their mean, and their std to --std-out",            \
   NULL, "K"},                                                                                     \
  {"std-out", 0, SR_OPT_STRING, &sr_score_cli.std_out, NULL,                                       \
   "score: pixel-wise std of the samples (default: OUT with _std before the extension)",           \
   NULL, "STD"},                                                                                   \
  {"batch-norm-average", 0, SR_OPT_FLAG, &sr_score_cli.batch_average, NULL,                        \
   "score: Langevin step from norms averaged over the batch, as the official code "                \
   "(then results depend on the batch)", NULL, NULL},                                              \
  {"predictor", 0, SR_OPT_CHOICE, &sr_score_cli.predictor, "reverse_diffusion",                    \
   "score: predictor (none with --corrector ald: the paper's langevin_projection)",                \
   "reverse_diffusion|euler_maruyama|none", NULL},                                                 \
  {"corrector", 0, SR_OPT_CHOICE, &sr_score_cli.corrector, "langevin",                             \
   "score: corrector", "langevin|ald|none", NULL},                                                 \
  {"cg-iters", 0, SR_OPT_INT, &sr_score_cli.cg_iters, "10",                                        \
   "score, exact CT: CGLS iterations per consistency step", NULL, "N"},                            \
  {"cg-iters-final", 0, SR_OPT_INT, &sr_score_cli.cg_iters_final, "200",                           \
   "score, exact CT: CGLS iterations of the final step", NULL, "N"},                               \
  {"cg-delta", 0, SR_OPT_DOUBLE, &sr_score_cli.cg_delta, "1e-4",                                   \
   "score, exact CT: damping delta / ||A A^T|| during the steps", NULL, "D"},                      \
  {"cg-delta-final", 0, SR_OPT_DOUBLE, &sr_score_cli.cg_delta_final, "1e-6",                       \
   "score, exact CT: damping of the final step (raise it for noisy data)", NULL, "D"},             \
  {"data-scale", 0, SR_OPT_DOUBLE, &sr_score_cli.data_scale, "0",                                  \
   "score: image value that maps to 1 for the model (0: auto; 1 unless a fastMRI file)",           \
   NULL, "S"},                                                                                     \
  {"no-clip", 0, SR_OPT_FLAG, &sr_score_cli.no_clip, NULL,                                         \
   "score: write the raw sample instead of clipping to the model's [0, value_max] x scale",      \
   NULL, NULL},                                                                                    \
  {"quiet", 'q', SR_OPT_FLAG, &sr_score_cli.quiet, NULL,                                           \
   "score: no progress on stderr", NULL, NULL}
// clang-format on

/* Checks the score options; 0 when fine, else an exit code after a usage line. */
int sr_reconstruct_score_check(const char *command);

/* The models a worker has loaded (a few, least recently used goes first):
 * a manifest of many studies loads each model once per worker. */
typedef struct sr_score_model_cache sr_score_model_cache;
sr_score_model_cache *sr_score_model_cache_create(void);
void sr_score_model_cache_destroy(sr_score_model_cache *c);

/* One study for the sampler: the model (from `cache`, or loaded for this
 * job when cache is NULL), the sampler parameters from the options, the
 * operator, the measurements scaled to the model's range, and a sampler
 * for `batch` items at once (0: on a GPU as many as fit in its free memory,
 * at most 64; 4 on the CPU). */
typedef struct sr_score_job sr_score_job;
sr_status sr_score_job_open(sr_context *ctx, const sr_meas *m, const char *model_path,
                            sr_score_model_cache *cache, int64_t batch, sr_score_job **out);
void sr_score_job_close(sr_score_job *j);

/* Samples slices [s0, s0 + ns): their mean into `mean` (ns, h, w) and, with
 * --samples > 1, the pixel-wise std into `sd`, in the data's units, clipped
 * unless --no-clip. Chunks give exactly the result of one call over all
 * slices (the noise is keyed by the slice index). */
sr_status sr_score_job_run(sr_score_job *j, size_t s0, size_t ns, float *mean, float *sd);

/* A progress bar (or a line per batch) on stderr for the next runs. */
void sr_score_job_show_progress(sr_score_job *j, const char *command);
/* One line: model, sizes, consistency, N, snr, lambda, batch, backend. */
void sr_score_job_describe(const sr_score_job *j, FILE *f, const char *command);
/* One line: time, seconds per slice and the network / consistency shares. */
void sr_score_job_report(const sr_score_job *j, FILE *f, double secs, const char *out_path);
/* The settings that decide the output, as comma-separated JSON members. */
void sr_score_job_settings_json(const sr_score_job *j, FILE *f);

/* The path of the posterior std for output OUT: --std-out, else OUT with
 * "_std" before its extension. malloc'ed; NULL when out of memory. */
char *sr_score_std_path(const char *out_path);

#endif
