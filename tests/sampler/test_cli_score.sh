#!/usr/bin/env bash
# reconstruct --method score end to end through the built binary: simulate
# CT and MRI files, reconstruct them with the tiny NCSN++ files of
# tests/model/data (random weights: the numbers mean nothing, the plumbing
# does) and with an analytic Gaussian prior file, in both consistency modes;
# outputs, the --samples std map, progress lines, reproducibility across
# runs and batch sizes, and bad input (one line on stderr, no output left).
# Usage: test_cli_score.sh SCORERECON MAKE_INPUTS MODEL_DATA_DIR
set -u
bin=$1
mk=$2
models=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
. "$(dirname "$0")/../cli/must_fail.sh"

run() { # run NAME ARGS...: a step that must succeed
  local name=$1
  shift
  if ! "$bin" "$@" > "$work/$name.out" 2> "$work/$name.err"; then
    fail "$name: $bin $*"
    cat "$work/$name.err" >&2
  fi
}


expect_out() { grep -q -- "$2" "$work/$1.out" || fail "$1: stdout lacks '$2': $(cat "$work/$1.out")"; }
expect_file() { [ -s "$1" ] || fail "missing output $1"; }

"$mk" phantom "$work/ph24.npy" 2 24 || fail "make phantom 24"
"$mk" phantom "$work/ph40.npy" 2 40 || fail "make phantom 40"
"$mk" phantom "$work/ph20.npy" 1 20 || fail "make phantom 20"
"$mk" prior "$work/g24.safetensors" 24 24 0.3 || fail "make prior 24"
run sim_mri simulate mri --in "$work/ph24.npy" --out "$work/mri.h5" --mask equispaced --accel 3 \
  --center-fraction 0.2
run sim_ct simulate ct --in "$work/ph40.npy" --out "$work/ct.h5" --views 8
run sim_mri20 simulate mri --in "$work/ph20.npy" --out "$work/mri20.h5"

common=(--method score --device cpu --steps 4)

# Tiny NCSN++ (CT layout, 40 x 40) on CT, both consistency modes (exact is
# the default).
run ct_default reconstruct "${common[@]}" --model "$models/ct.safetensors" --in "$work/ct.h5" \
  --out "$work/ct_default.npy" -q
expect_out ct_default "score (exact consistency, cg)"
run ct_paper reconstruct "${common[@]}" --model "$models/ct.safetensors" --in "$work/ct.h5" \
  --out "$work/ct_paper.nii" --consistency paper
expect_file "$work/ct_paper.nii"
expect_out ct_paper "score (paper consistency, paper)"
expect_out ct_paper "^mean "
grep -q "items 1-2 of 2 done" "$work/ct_paper.err" || fail "ct_paper: no progress line"
run ct_exact reconstruct "${common[@]}" --model "$models/ct.safetensors" --in "$work/ct.h5" \
  --out "$work/ct_exact.npy" --consistency exact --preset ct320 -q
expect_file "$work/ct_exact.npy"
expect_out ct_exact "score (exact consistency, cg)"
[ -s "$work/ct_exact.err" ] && fail "ct_exact: -q still printed: $(cat "$work/ct_exact.err")"

# NCSN++ on the CPU: bit-identical across batch sizes and thread counts.
run ct_b1 reconstruct "${common[@]}" --model "$models/ct.safetensors" --in "$work/ct.h5" \
  --out "$work/ct_b1.npy" --consistency exact --batch 1 --threads 1 -q --no-clip
run ct_b2 reconstruct "${common[@]}" --model "$models/ct.safetensors" --in "$work/ct.h5" \
  --out "$work/ct_b2.npy" --consistency exact --batch 2 --threads 2 -q --no-clip
cmp -s "$work/ct_b1.npy" "$work/ct_b2.npy" || fail "NCSN++: batch 1 / 1 thread and batch 2 / 2 threads differ"

# Tiny NCSN++ (BraTS layout, 24 x 24) on MRI, 2 posterior samples.
run mri_exact reconstruct "${common[@]}" --model "$models/brats.safetensors" --in "$work/mri.h5" \
  --out "$work/mri.nii.gz" --consistency exact --samples 2 --seed 3
expect_file "$work/mri.nii.gz"
expect_file "$work/mri_std.nii.gz"
expect_out mri_exact "score (exact consistency, hermitian)"
run mri_paper reconstruct "${common[@]}" --model "$models/brats.safetensors" --in "$work/mri.h5" \
  --out "$work/mri_paper.npy" --samples 2 --std-out "$work/sd.npy" --batch 1
expect_file "$work/sd.npy"

# Gaussian prior file: reproducible across runs and batch sizes, seeds matter.
g=(reconstruct --method score --device cpu --model "$work/g24.safetensors" --in "$work/mri.h5"
   --steps 30 -q)
run g1 "${g[@]}" --out "$work/g1.npy" --consistency exact --samples 3 --batch 1
run g2 "${g[@]}" --out "$work/g2.npy" --consistency exact --samples 3 --batch 6
run g3 "${g[@]}" --out "$work/g3.npy" --consistency exact --samples 3 --batch 6 --threads 1
run g4 "${g[@]}" --out "$work/g4.npy" --consistency exact --samples 3 --batch 6 --seed 1
cmp -s "$work/g1.npy" "$work/g2.npy" || fail "batch 1 and 6 differ"
cmp -s "$work/g1_std.npy" "$work/g2_std.npy" || fail "std: batch 1 and 6 differ"
cmp -s "$work/g2.npy" "$work/g3.npy" || fail "thread counts differ"
cmp -s "$work/g1.npy" "$work/g4.npy" && fail "seed 0 and 1 give the same output"
run g5 "${g[@]}" --out "$work/g5.npy" --ref "$work/ph24.npy" --predictor none --corrector ald \
  --snr 0.1
expect_out g5 "^mean "

# Bad input: clear one-line errors, nothing written.
must_fail no_model 2 "needs --model" reconstruct --method score --in "$work/mri.h5" \
  --out "$work/bad1.npy"
must_fail missing_model 1 "nonexistent" reconstruct --method score --model "$work/nonexistent" \
  --in "$work/mri.h5" --out "$work/bad2.npy"
must_fail prior_size 1 "Gaussian prior of 24 x 24" reconstruct --method score \
  --model "$work/g24.safetensors" --in "$work/ct.h5" --out "$work/bad3.npy"
must_fail model_size 1 "multiples of 8" reconstruct --method score \
  --model "$models/ct.safetensors" --in "$work/mri20.h5" --out "$work/bad4.npy"
must_fail samples 2 "samples" reconstruct --method score --model "$work/g24.safetensors" \
  --in "$work/mri.h5" --out "$work/bad5.npy" --samples 0
must_fail preset 1 "unknown preset" reconstruct --method score --model "$work/g24.safetensors" \
  --in "$work/mri.h5" --out "$work/bad6.npy" --preset nope
for f in bad1 bad2 bad3 bad4 bad5 bad6; do
  [ -e "$work/$f.npy" ] && fail "$f: output written despite the failure"
done
ls "$work" | grep -q '\.tmp\.' && fail "temporary files left behind"

if [ "$failures" -ne 0 ]; then
  echo "test_cli_score: $failures check(s) failed" >&2
  exit 1
fi
echo "test_cli_score: all checks passed"
