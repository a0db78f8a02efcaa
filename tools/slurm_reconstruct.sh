#!/usr/bin/env bash
# Example Slurm job array: reconstruct a manifest in 8 shards, one GPU each.
# Every array task runs the same command; scorerecon reads its shard from
# SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT (so no --shard is needed),
# skips studies whose outputs are already complete (a resubmitted array
# picks up where a preempted one stopped), and writes summary-<i>-of-<n>.json
# beside the outputs. Submit with:
#   sbatch tools/slurm_reconstruct.sh /data/manifest.txt /data/recon
# Adjust the partition, time and the model to your site and data.
#SBATCH --job-name=scorerecon
#SBATCH --array=0-7
#SBATCH --gres=gpu:1
#SBATCH --cpus-per-task=4
#SBATCH --mem=32G
#SBATCH --time=04:00:00
#SBATCH --output=scorerecon-%A_%a.log
#SBATCH --requeue
set -euo pipefail
manifest=${1:?usage: sbatch slurm_reconstruct.sh MANIFEST OUTDIR}
outdir=${2:?usage: sbatch slurm_reconstruct.sh MANIFEST OUTDIR}
scorerecon=${SCORERECON:-scorerecon}
repo=${SCORERECON_REPO:-$(dirname "$(readlink -f "$0")")/..}

"$scorerecon" reconstruct --manifest "$manifest" --out "$outdir" \
  --method score --model-ct "$repo/weights/ct_head_128.safetensors" \
  --model-mri "$repo/weights/mri_colin27_128.safetensors" \
  --consistency exact --device cuda --threads "${SLURM_CPUS_PER_TASK:-1}"

# Across nodes with MPI instead of an array (one rank per GPU; each rank
# takes the GPU of its local rank):
#   #SBATCH --nodes=2 --ntasks-per-node=4 --gres=gpu:4
#   srun scorerecon reconstruct --manifest M --out DIR --method score ...
# (or mpirun -np 8 ... with Open MPI's launcher).
