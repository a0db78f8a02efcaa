/* One study's reconstruction in memory, whatever the method: the unit that
 * `reconstruct` runs once for --in and once per line of a --manifest. A job
 * is opened for a measurement file (operator, model, buffers), run on any
 * slice range (a worker may take a chunk of a study; the result of a slice
 * does not depend on the chunk it ran in), and closed. */
#ifndef SR_CLI_RECON_JOB_H
#define SR_CLI_RECON_JOB_H

#include <stdint.h>
#include <stdio.h>

#include "cli/reconstruct_score.h"
#include "io/h5meas.h"
#include "operators/operator.h"
#include "operators/tv_recon.h"
#include "scorerecon.h"

typedef enum sr_recon_method {
  SR_RECON_AUTO = 0, /* fbp for CT, zero-filled for MRI */
  SR_RECON_FBP,
  SR_RECON_ZERO_FILLED,
  SR_RECON_TV,
  SR_RECON_SCORE
} sr_recon_method;

/* What reconstruct's options say (reconstruct.c owns the table). */
typedef struct sr_recon_cli_options {
  const char *in_path, *out_path, *ref_path;
  const char *model_path, *model_ct, *model_mri;
  int method, device, filter, nonneg;
  int64_t iters, batch, threads;
  double tv_weight, step_ratio, data_range;
  /* manifest runs (cli/batch_run.c) */
  const char *manifest, *shard, *devices, *summary_path;
  int out_format; /* 0 nii.gz, 1 nii, 2 npy */
  int64_t workers;
  int list_only, redo;
  int png;
} sr_recon_cli_options;

extern sr_recon_cli_options sr_recon_cli;

const char *sr_recon_method_name(sr_recon_method m);

/* The model for a study of this modality: --model-ct / --model-mri, else
 * --model (NULL when none applies). */
const char *sr_recon_model_for(const sr_meas *m);

typedef struct sr_recon_job {
  sr_context *ctx;
  const sr_meas *m;
  sr_recon_method method; /* resolved: never AUTO */
  int64_t nslices, h, w;
  /* baselines */
  sr_operator *op;
  float *dy, *dx;
  size_t bs, yfl;
  sr_tv_info tv_info;
  /* score */
  sr_score_job *score;
} sr_recon_job;

/* Opens a job for m (read from `what`, named in messages). model_path is
 * the score model (method score only); cache may be NULL. Wrong method for
 * the modality, or score without a model, fail with SR_ERR_INVALID_ARGUMENT
 * and a message naming the file. */
sr_status sr_recon_job_open(sr_context *ctx, const sr_meas *m, const char *what,
                            const char *model_path, sr_score_model_cache *cache, sr_recon_job *j);

/* Reconstructs slices [s0, s0 + ns) into out (ns, h, w) on the host; sd
 * receives the posterior std when the job samples more than once (else it
 * may be NULL). */
sr_status sr_recon_job_run(sr_recon_job *j, size_t s0, size_t ns, float *out, float *sd);

/* Whether the job writes a std volume beside the output. */
int sr_recon_job_has_std(const sr_recon_job *j);

/* The settings that decide the output, as comma-separated JSON members. */
void sr_recon_job_settings_json(const sr_recon_job *j, FILE *f);

void sr_recon_job_close(sr_recon_job *j);

#endif
