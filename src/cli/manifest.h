/* The studies of a manifest run, and which of them this process takes.
 *
 * A manifest is a text file with one measurement file per line, optionally
 * followed by the score model for that study (fields separated by a tab,
 * or by blanks when the line has no tab); blank lines and lines starting
 * with '#' are skipped; relative paths are relative to the manifest's own
 * directory, so a manifest travels with its data. A directory is a manifest
 * of its *.h5 / *.hdf5 files in name order.
 *
 * Sharding: study k (0-based, manifest order) belongs to shard k mod n, and
 * within a shard the j-th study to MPI rank j mod size. Round robin keeps
 * each part's mix of sizes alike; every study is taken by exactly one
 * (shard, rank). */
#ifndef SR_CLI_MANIFEST_H
#define SR_CLI_MANIFEST_H

#include <stddef.h>

#include "scorerecon.h"

typedef struct sr_manifest_entry {
  char *input; /* resolved path */
  char *model; /* NULL: by modality (--model-ct / --model-mri / --model) */
  char *stem;  /* output name without extension: the input's file name less .h5 */
  size_t line; /* 1-based line in the manifest (0 for a directory) */
} sr_manifest_entry;

typedef struct sr_manifest {
  sr_manifest_entry *entries;
  size_t count;
} sr_manifest;

/* Reads a manifest file or directory. Fails naming the path and line for a
 * malformed line (more than two fields), and when two studies would write
 * the same output name, or when there is no study at all. */
sr_status sr_manifest_read(sr_context *ctx, const char *path, sr_manifest *out);
void sr_manifest_free(sr_manifest *m);

/* "i/n" with 0 <= i < n <= 1000000; returns 0 and sets *i, *n, or -1. */
int sr_shard_parse(const char *text, int *i, int *n);

/* The shard from SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT (IDs counted
 * from SLURM_ARRAY_TASK_MIN when set, so --array=1-8 works): 1 when both are
 * set and consistent, 0 when not in an array job, -1 when they are set but
 * make no sense (message in why). */
int sr_shard_from_slurm(int *i, int *n, char *why, size_t why_size);

/* Whether study k belongs to (shard i of n, rank r of size). */
int sr_shard_takes(size_t k, int i, int n, int rank, int size);

#endif
