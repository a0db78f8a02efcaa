#!/usr/bin/env bash
# reconstruct --manifest end to end: a mixed CT + MRI manifest with a corrupt
# file among good ones, reconstructed with the tiny NCSN++ files of
# tests/model/data. Checks that each output equals the single-file run bit
# for bit, sidecars and the summary, resume (complete outputs skipped,
# changed settings redone), --workers 2, shards covering the manifest
# exactly once (also from Slurm's variables), a run killed with SIGKILL and
# restarted (nothing lost, nothing redone, no partial file), and bad
# manifests. With MPI_RUN set (an mpirun command line), the same manifest
# over 2 ranks must give the single-process outputs.
# With "gpu", two workers on one GPU must give the one-worker outputs.
# Usage: test_manifest.sh SCORERECON MAKE_INPUTS MODEL_DATA_DIR [mpi|gpu]
set -u
bin=$1
mk=$2
models=$3
mode=${4:-}
work=$(mktemp -d)
trap 'kill -9 $bgpid 2>/dev/null; rm -rf "$work"' EXIT
bgpid=
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
. "$(dirname "$0")/must_fail.sh"
expect() { grep -q -- "$2" "$1" || fail "$(basename "$1") lacks '$2': $(cat "$1")"; }
no_temporaries() { ls "$1" | grep -q '\.tmp\.' && fail "temporary files left in $1: $(ls "$1")"; }

# ---------------------------------------------------------------- inputs
mkdir -p "$work/data"
"$mk" phantom "$work/ph40.npy" 3 40 || fail "make phantom 40"
"$mk" phantom "$work/ph24.npy" 2 24 || fail "make phantom 24"
"$mk" prior "$work/g24.safetensors" 24 24 0.3 || fail "make prior 24"
sim() { "$bin" simulate "$@" > /dev/null || fail "simulate $*"; }
sim ct --in "$work/ph40.npy" --out "$work/data/ct_a.h5" --views 8
sim ct --in "$work/ph40.npy" --out "$work/data/ct_b.h5" --views 6 --noise-sigma 0.01 --seed 2
sim mri --in "$work/ph24.npy" --out "$work/data/mri_a.h5" --mask equispaced --accel 3 \
  --center-fraction 0.2
sim mri --in "$work/ph24.npy" --out "$work/data/mri_b.h5" --seed 5
head -c 900 "$work/data/ct_a.h5" > "$work/data/broken.h5"
cat > "$work/list.txt" <<EOF
# a mixed manifest: paths relative to this file
data/ct_a.h5
data/mri_a.h5
data/broken.h5

data/ct_b.h5
data/mri_b.h5	$work/g24.safetensors
EOF

base=(reconstruct --method score --device cpu --steps 3 --seed 7 --out-format npy)
common=("${base[@]}" --model-ct "$models/ct.safetensors" --model-mri "$models/brats.safetensors")

if [ "$mode" != mpi ] && [ "$mode" != gpu ]; then
# ---------------------------------------------------------------- a run
"$bin" "${common[@]}" --manifest "$work/list.txt" --out "$work/o1" > "$work/r1.out" 2> "$work/r1.err"
rc=$?
[ "$rc" -eq 1 ] || fail "run with a corrupt input: exit $rc, expected 1"
expect "$work/r1.out" "5 studies: 4 succeeded, 0 skipped (complete), 1 failed"
expect "$work/r1.out" "FAILED .*broken.h5: .*broken.h5"
for s in ct_a ct_b mri_a mri_b; do
  [ -s "$work/o1/$s.npy" ] || fail "missing $s.npy"
  [ -s "$work/o1/$s.json" ] || fail "missing $s.json"
done
[ -e "$work/o1/broken.npy" ] || [ -e "$work/o1/broken.json" ] && fail "output for the corrupt input"
expect "$work/o1/summary.json" '"failed": 1'
expect "$work/o1/mri_b.json" "g24.safetensors"
expect "$work/o1/ct_a.json" '"consistency": "exact"'
expect "$work/o1/ct_a.json" '"psnr_mean"'
no_temporaries "$work/o1"
python3 -c "import json,sys; [json.load(open(f)) for f in sys.argv[1:]]" "$work"/o1/*.json ||
  fail "a sidecar or the summary is not valid JSON"

# Each output equals the single-file run with the same options.
single() { # single NAME INPUT MODEL
  "$bin" "${base[@]}" --model "$3" --in "$2" --out "$work/single_$1.npy" -q > /dev/null ||
    fail "single-file run of $1"
  cmp -s "$work/single_$1.npy" "$work/o1/$1.npy" || fail "$1: manifest and single-file outputs differ"
}
single ct_a "$work/data/ct_a.h5" "$models/ct.safetensors"
single mri_a "$work/data/mri_a.h5" "$models/brats.safetensors"
single mri_b "$work/data/mri_b.h5" "$work/g24.safetensors"

# ---------------------------------------------------------------- resume
"$bin" "${common[@]}" --manifest "$work/list.txt" --out "$work/o1" > "$work/r2.out" 2>&1
expect "$work/r2.out" "4 skipped (complete), 1 failed"
# A damaged output is redone; a changed setting redoes everything.
printf 'x' >> "$work/o1/ct_b.npy"
"$bin" "${common[@]}" --manifest "$work/list.txt" --out "$work/o1" > "$work/r3.out" 2>&1
expect "$work/r3.out" "1 succeeded, 3 skipped"
cmp -s "$work/o1/ct_b.npy" <("$bin" "${base[@]}" --model "$models/ct.safetensors" \
  --in "$work/data/ct_b.h5" --out "$work/single_ct_b.npy" -q > /dev/null; cat "$work/single_ct_b.npy") ||
  fail "redone ct_b differs from its single-file run"
"$bin" "${common[@]}" --manifest "$work/list.txt" --out "$work/o1" --seed 8 > "$work/r4.out" 2>&1
expect "$work/r4.out" "4 succeeded, 0 skipped"

# ---------------------------------------------------------------- workers
"$bin" "${common[@]}" --manifest "$work/list.txt" --out "$work/o2" --workers 2 --batch 1 \
  > "$work/w.out" 2>&1
expect "$work/w.out" "2 workers"
expect "$work/w.out" "4 succeeded"
for s in ct_a ct_b mri_a mri_b; do
  cmp -s "$work/o2/$s.npy" "$work/single_$s.npy" 2>/dev/null || [ "$s" = ct_b ] ||
    fail "--workers 2: $s differs from one worker"
done
cmp -s "$work/o2/ct_b.npy" "$work/single_ct_b.npy" || fail "--workers 2: ct_b differs"

# ---------------------------------------------------------------- shards
: > "$work/all_listed"
for i in 0 1 2; do
  "$bin" "${common[@]}" --manifest "$work/list.txt" --out "$work/o3" --shard $i/3 --list \
    >> "$work/all_listed" || fail "--list shard $i/3"
done
sort -n "$work/all_listed" | cut -f1 | tr '\n' ' ' > "$work/idx"
[ "$(cat "$work/idx")" = "0 1 2 3 4 " ] || fail "shards do not cover the manifest exactly once: $(cat "$work/idx")"
SLURM_ARRAY_TASK_ID=11 SLURM_ARRAY_TASK_MIN=10 SLURM_ARRAY_TASK_COUNT=3 "$bin" "${common[@]}" \
  --manifest "$work/list.txt" --out "$work/o3" --list > "$work/slurm_list"
"$bin" "${common[@]}" --manifest "$work/list.txt" --out "$work/o3" --shard 1/3 --list > "$work/shard_list"
cmp -s "$work/slurm_list" "$work/shard_list" || fail "Slurm array variables do not select shard 1/3"
for i in 0 1 2; do
  "$bin" "${common[@]}" --manifest "$work/list.txt" --out "$work/o3" --shard $i/3 > /dev/null 2>&1
done
for s in ct_a ct_b mri_a mri_b; do
  cmp -s "$work/o3/$s.npy" "$work/single_$s.npy" || fail "shards: $s differs from the single run"
done
[ -s "$work/o3/summary-2-of-3.json" ] || fail "no per-shard summary"

# ---------------------------------------------------------------- directory manifest
rm "$work/data/broken.h5"
"$bin" reconstruct --device cpu --manifest "$work/data" --out "$work/o4" --out-format nii.gz \
  --montage > "$work/d.out" 2>&1 || fail "directory manifest: $(cat "$work/d.out")"
expect "$work/d.out" "4 studies: 4 succeeded"
[ -s "$work/o4/mri_a.nii.gz" ] && [ -s "$work/o4/mri_a.png" ] || fail "directory run outputs"

fi # not mpi

mkdir -p "$work/many"
: > "$work/many.txt"
for k in $(seq -w 1 12); do
  sim mri --in "$work/ph24.npy" --out "$work/many/m$k.h5" --seed $k
  echo "many/m$k.h5" >> "$work/many.txt"
done
slow=(reconstruct --method score --device cpu --threads 1 --model "$work/g24.safetensors" --steps 800
      --corrector-steps 2 --samples 2 --out-format npy)

if [ "$mode" != mpi ] && [ "$mode" != gpu ]; then
# ---------------------------------------------------------------- kill and restart
# Twelve MRI studies with the Gaussian prior and enough steps to take a few
# seconds; SIGKILL once some are done; the restart must skip exactly those
# and finish the rest with the outputs of an uninterrupted run.
"$bin" "${slow[@]}" --manifest "$work/many.txt" --out "$work/ref" > /dev/null 2>&1 ||
  fail "uninterrupted run"
"$bin" "${slow[@]}" --manifest "$work/many.txt" --out "$work/k" > /dev/null 2>&1 &
bgpid=$!
for _ in $(seq 1 600); do
  [ "$(ls "$work/k" 2>/dev/null | grep -c '^m.*\.json$')" -ge 3 ] && break
  sleep 0.05
done
kill -9 $bgpid 2>/dev/null
wait $bgpid 2>/dev/null
bgpid=
done_before=$(ls "$work/k" | grep -c '^m.*\.json$')
[ "$done_before" -ge 1 ] && [ "$done_before" -lt 12 ] ||
  fail "kill test: $done_before studies done at the kill (want some, not all)"
"$bin" "${slow[@]}" --manifest "$work/many.txt" --out "$work/k" > "$work/k.out" 2>&1 ||
  fail "restart: $(cat "$work/k.out")"
echo "kill test: $done_before of 12 studies complete at SIGKILL"
expect "$work/k.out" "$((12 - done_before)) succeeded, $done_before skipped (complete), 0 failed"
for f in "$work"/ref/m*.npy; do
  cmp -s "$f" "$work/k/$(basename "$f")" || fail "after kill + restart $(basename "$f") differs"
done
no_temporaries "$work/k"
fi # not mpi

# ---------------------------------------------------------------- MPI
if [ "$mode" = mpi ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
  # one node: no rsh/ssh agent needed (containers often have none)
  export OMPI_MCA_plm=isolated
  mpirun -np 2 --oversubscribe "$bin" "${slow[@]}" --steps 50 --manifest "$work/many.txt" \
    --out "$work/mpi" > "$work/mpi.out" 2>&1 || fail "mpirun -np 2: $(cat "$work/mpi.out")"
  "$bin" "${slow[@]}" --steps 50 --manifest "$work/many.txt" --out "$work/mpi1" > /dev/null 2>&1 ||
    fail "single process for MPI comparison"
  expect "$work/mpi.out" "12 studies: 12 succeeded, 0 skipped (complete), 0 failed"
  expect "$work/mpi.out" "rank 1 cpu"
  [ "$(grep -c 'studies: ' "$work/mpi.out")" -eq 1 ] || fail "MPI: the summary is not printed once"
  grep -q '^\[rank 1\] done' "$work/mpi.out" || fail "MPI: rank 1 did no study"
  for f in "$work"/mpi1/m*.npy "$work"/mpi1/m*_std.npy; do
    cmp -s "$f" "$work/mpi/$(basename "$f")" || fail "MPI: $(basename "$f") differs from one process"
  done
  expect "$work/mpi/summary.json" '"ranks": 2'
  # The mixed CT + MRI manifest (with its corrupt file) over 2 ranks.
  mpirun -np 2 --oversubscribe "$bin" "${common[@]}" --manifest "$work/list.txt" \
    --out "$work/mpi_mixed" > "$work/mpi_mixed.out" 2>&1
  [ $? -eq 1 ] || fail "mpirun on the mixed manifest: exit code, expected 1 (one corrupt input)"
  "$bin" "${common[@]}" --manifest "$work/list.txt" --out "$work/mixed1" > /dev/null 2>&1
  expect "$work/mpi_mixed.out" "5 studies: 4 succeeded, 0 skipped (complete), 1 failed"
  for s in ct_a ct_b mri_a mri_b; do
    cmp -s "$work/mixed1/$s.npy" "$work/mpi_mixed/$s.npy" ||
      fail "MPI, mixed manifest: $s differs from one process"
  done
fi

# ---------------------------------------------------------------- GPUs
# Two workers on one GPU exercise --devices' threads, contexts and streams on
# any GPU machine; at the same --batch the outputs equal the one-worker run.
if [ "$mode" = gpu ]; then
  "$bin" version | grep -q "^GPU: none" && { echo "no GPU: skipped"; exit 77; }
  gpu=(reconstruct --method score --device cuda --model-ct "$models/ct.safetensors"
       --model-mri "$models/brats.safetensors" --steps 3 --batch 2 --out-format npy)
  sed '/broken/d' "$work/list.txt" > "$work/good.txt"
  "$bin" "${gpu[@]}" --manifest "$work/good.txt" --out "$work/g1" --devices 0 > "$work/g1.out" 2>&1 ||
    fail "one GPU worker: $(cat "$work/g1.out")"
  "$bin" "${gpu[@]}" --manifest "$work/good.txt" --out "$work/g2" --devices 0,0 > "$work/g2.out" 2>&1 ||
    fail "two GPU workers: $(cat "$work/g2.out")"
  expect "$work/g2.out" "cuda:0"
  for s in ct_a ct_b mri_a mri_b; do
    cmp -s "$work/g1/$s.npy" "$work/g2/$s.npy" || fail "--devices 0,0: $s differs from --devices 0"
  done
fi

# ---------------------------------------------------------------- bad manifests
if [ "$mode" != mpi ] && [ "$mode" != gpu ]; then
printf 'data/ct_a.h5 m.safetensors extra\n' > "$work/three.txt"
must_fail three 1 "three.txt:1: .*third field" reconstruct --manifest "$work/three.txt" --out "$work/x"
printf 'data/ct_a.h5\nother/ct_a.h5\n' > "$work/dup.txt"
must_fail dup 1 "would both write the output \"ct_a\"" reconstruct --manifest "$work/dup.txt" --out "$work/x"
must_fail missing 1 "nope.txt" reconstruct --manifest "$work/nope.txt" --out "$work/x"
printf '# nothing\n' > "$work/empty.txt"
must_fail empty 1 "lists no measurement file" reconstruct --manifest "$work/empty.txt" --out "$work/x"
must_fail shard 2 "--shard takes i/n" reconstruct --manifest "$work/list.txt" --out "$work/x" --shard 3/3
SLURM_ARRAY_TASK_ID=5 SLURM_ARRAY_TASK_COUNT=2 "$bin" reconstruct --manifest "$work/list.txt" \
  --out "$work/x" > /dev/null 2> "$work/slurm.err"
[ $? -eq 2 ] && grep -q SLURM_ARRAY_TASK_ID "$work/slurm.err" ||
  fail "inconsistent Slurm variables: $(cat "$work/slurm.err")"
must_fail both 2 "give --out and one of --in or --manifest" reconstruct --manifest "$work/list.txt" \
  --in "$work/data/ct_a.h5" --out "$work/x"
must_fail devcpu 2 "use --workers" reconstruct --manifest "$work/list.txt" --out "$work/x" \
  --device cpu --devices 0,1
# No such GPU (or no CUDA in this build): one line naming the worker, nothing written.
must_fail nogpu 1 "worker 0 (cuda:7)" reconstruct --manifest "$work/list.txt" --out "$work/x" \
  --device cuda --devices 7
[ -e "$work/x" ] && fail "a failed run created its output directory"
fi # not mpi

if [ "$failures" -ne 0 ]; then
  echo "test_manifest: $failures check(s) failed" >&2
  exit 1
fi
echo "test_manifest: all checks passed"
