/* reconstruct --manifest: many studies, one output + JSON sidecar each,
 * resumable, spread over worker threads (one per GPU with --devices, or
 * --workers on the CPU), over MPI ranks and Slurm array shards. */
#ifndef SR_CLI_BATCH_RUN_H
#define SR_CLI_BATCH_RUN_H

#include <stdio.h>

#include "scorerecon.h"

/* Runs the manifest named by the reconstruct options; returns the exit
 * code: 0 when every study of this process succeeded or was already done,
 * 1 when any failed (the summary says which), 2 for usage errors. */
int sr_batch_run(const char *command);

/* Defined by reconstruct.c, which owns the option table: */
/* The backend the options ask for. */
sr_backend_kind sr_recon_backend_kind(void);
/* The options that decide the outputs, as one canonical string (not the
 * ones that only say where, how fast or how verbosely). */
void sr_recon_options_key(FILE *f);

#endif
