#!/usr/bin/env bash
# The main job on real data from Debian packages (see tools/demo_data.py):
# held-out slices at the shipped models' 128^2 preprocessing, sparse-view CT
# (23 of 128 views of head-CT slice 90) and 8x undersampled MRI (the paper's
# equispaced mask rule, n_keep 16: 16 of 128 columns, on Colin27 T1 slice 120),
# each simulated without inverse crime, reconstructed by the classical
# baselines (FBP / zero-filled and TV) and by the score-based sampler with the
# shipped models (weights/*.safetensors; 2 posterior samples per slice: their
# mean and their pixel-wise std, the uncertainty map), scored (PSNR, SSIM,
# NMSE) and drawn as PNG figures in out/demo/:
#   ground truth | FBP or zero-filled | TV | scorerecon | uncertainty (std).
# Sampler: exact data consistency; on the CPU, N = 60 noise levels (SR_DEMO_STEPS overrides; the two
# tasks run side by side, one thread each, to stay under 2 minutes on 2 cores);
# with a GPU (`scorerecon version` finds one) the CUDA backend and N = 1000.
# Usage: tools/demo.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
sr="$build/scorerecon"
out=out/demo
py=python3
/usr/bin/python3 -c "import numpy" 2>/dev/null && py=/usr/bin/python3
mkdir -p "$out"
ct_model=weights/ct_head_128.safetensors
mri_model=weights/mri_colin27_128.safetensors
# TV weights tuned on training slices by bench/quality (bench/quality/tv_weights.json).
ct_tv_weight=0.5
mri_tv_weight=0.0005

version=$("$sr" version)
printf '%s\n' "$version" | sed -n '1,4p;/^GPU:/p'
if printf '%s\n' "$version" | grep -q '^GPU: found'; then
  device=cuda steps=${SR_DEMO_STEPS:-1000} threads=0
else
  device=cpu steps=${SR_DEMO_STEPS:-60} threads=1
fi
"$py" tools/demo_data.py "$out" --size 128 --ct-slices 90 --mri-slices 120

echo "== CT: 23 of 128 views, held-out slice 90 (128^2, x = (HU + 1000) / 2000)"
"$sr" simulate ct --in "$out/ct_slices.npy" --out "$out/ct23.h5" --views 23 --seed 1
"$sr" reconstruct --in "$out/ct23.h5" --out "$out/ct23_fbp.npy" --method fbp | sed -n 1p
"$sr" reconstruct --in "$out/ct23.h5" --out "$out/ct23_tv.npy" --method tv --iters 300 --nonneg \
  --tv-weight "$ct_tv_weight" | sed -n 1p

echo "== MRI: 8x, the paper's equispaced mask rule (n_keep 16: 16 of 128 columns), slice 120"
"$sr" simulate mri --in "$out/mri_slices.npy" --out "$out/mri8.h5" --mask paper --n-keep 16 --seed 1
"$sr" reconstruct --in "$out/mri8.h5" --out "$out/mri8_zf.npy" --method zero-filled | sed -n 1p
"$sr" reconstruct --in "$out/mri8.h5" --out "$out/mri8_tv.npy" --method tv --iters 300 --nonneg \
  --tv-weight "$mri_tv_weight" | sed -n 1p

echo "== score sampler: N = $steps noise levels, exact consistency, 2 samples per slice, on $device"
t0=$(date +%s.%N)
score() { # measurement model out log [options]: CT unclipped (bone lies above x = 1)
  local meas=$1 model=$2 o=$3 log=$4
  shift 4
  "$sr" reconstruct --in "$meas" --model "$model" --out "$o" --method score --steps "$steps" \
    --samples 2 --seed 1 --consistency exact --device "$device" --threads "$threads" -q "$@" \
    >"$log" 2>&1
}
if [ "$device" = cpu ]; then
  score "$out/ct23.h5" "$ct_model" "$out/ct23_score.npy" "$out/ct23_score.log" --no-clip & ct_pid=$!
  score "$out/mri8.h5" "$mri_model" "$out/mri8_score.npy" "$out/mri8_score.log" & mri_pid=$!
  wait "$ct_pid" || { cat "$out/ct23_score.log"; exit 1; }
  wait "$mri_pid" || { cat "$out/mri8_score.log"; exit 1; }
else
  score "$out/ct23.h5" "$ct_model" "$out/ct23_score.npy" "$out/ct23_score.log" --no-clip || { cat "$out/ct23_score.log"; exit 1; }
  score "$out/mri8.h5" "$mri_model" "$out/mri8_score.npy" "$out/mri8_score.log" || { cat "$out/mri8_score.log"; exit 1; }
fi
t1=$(date +%s.%N)
grep -h '^reconstruct:' "$out/ct23_score.log" "$out/mri8_score.log"
awk -v a="$t0" -v b="$t1" 'BEGIN { printf "score sampler, both tasks: %.1f s wall\n", b - a }'

echo "== metrics (data range: the model's range, CT x in [0, 2] = -1000...3000 HU, MRI [0, 1])"
metrics() { # label ref recon range
  "$sr" eval --ref "$2" --in "$3" --data-range "$4" |
    awk -v l="$1" '$1 == "mean" { printf "  %-24s PSNR %6.2f dB  SSIM %.4f  NMSE %.5f\n", l, $2, $3, $4 }'
}
metrics "CT FBP" "$out/ct_slices.npy" "$out/ct23_fbp.npy" 2
metrics "CT TV" "$out/ct_slices.npy" "$out/ct23_tv.npy" 2
metrics "CT score (mean of 2)" "$out/ct_slices.npy" "$out/ct23_score.npy" 2
metrics "MRI zero-filled" "$out/mri_slices.npy" "$out/mri8_zf.npy" 1
metrics "MRI TV" "$out/mri_slices.npy" "$out/mri8_tv.npy" 1
metrics "MRI score (mean of 2)" "$out/mri_slices.npy" "$out/mri8_score.npy" 1
"$py" tools/demo_figure.py "$out/ct23.png" 0.42 0.62 "$out/ct_slices.npy" \
  "$out/ct23_fbp.npy" "$out/ct23_tv.npy" "$out/ct23_score.npy" "$out/ct23_score_std.npy" \
  --labels "ground truth,FBP,TV,score,~std" --data-range 2 --title "CT 23/128 views" >/dev/null
"$py" tools/demo_figure.py "$out/mri8.png" 0 1 "$out/mri_slices.npy" \
  "$out/mri8_zf.npy" "$out/mri8_tv.npy" "$out/mri8_score.npy" "$out/mri8_score_std.npy" \
  --labels "ground truth,zero-filled,TV,score,~std" --data-range 1 --title "MRI 8x" >/dev/null

echo "== figures (ground truth | FBP or zero-filled | TV | score | std): $out/ct23.png $out/mri8.png"
