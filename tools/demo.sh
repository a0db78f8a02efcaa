#!/usr/bin/env bash
# The main job on real data from Debian packages (see tools/demo_data.py):
# sparse-view CT (23 views of a held-out head-CT slice pair) and 7.7x
# undersampled MRI (the paper's 30-column mask on a Colin27 T1 slice), each
# simulated without inverse crime, reconstructed by the classical baselines
# (FBP / zero-filled and TV), scored (PSNR, SSIM, NMSE) and drawn as PNG
# figures in out/demo/. The score-based sampler joins here once the shipped
# default models exist (issue: shipped default models).
# Usage: tools/demo.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
sr="$build/scorerecon"
out=out/demo
py=python3
/usr/bin/python3 -c "import numpy" 2>/dev/null && py=/usr/bin/python3
mkdir -p "$out"

"$sr" version | head -4
"$py" tools/demo_data.py "$out"

echo "== CT: 23 of 256 views, held-out slices 90 and 100"
"$sr" simulate ct --in "$out/ct_slices.npy" --out "$out/ct23.h5" --views 23 --seed 1
"$sr" reconstruct --in "$out/ct23.h5" --out "$out/ct23_fbp.npy" --method fbp
"$sr" reconstruct --in "$out/ct23.h5" --out "$out/ct23_tv.npy" --method tv --iters 200
"$py" tools/demo_figure.py "$out/ct23.png" 0.42 0.62 "$out/ct_slices.npy" \
  "$out/ct23_fbp.npy" "$out/ct23_tv.npy"

echo "== MRI: the paper's 30-column mask (31 of 240 columns, 7.7x)"
"$sr" simulate mri --in "$out/mri_slices.npy" --out "$out/mri8.h5" --n-keep 30 --seed 1
"$sr" reconstruct --in "$out/mri8.h5" --out "$out/mri8_zf.npy" --method zero-filled
"$sr" reconstruct --in "$out/mri8.h5" --out "$out/mri8_tv.npy" --method tv --iters 200
"$py" tools/demo_figure.py "$out/mri8.png" 0 1 "$out/mri_slices.npy" \
  "$out/mri8_zf.npy" "$out/mri8_tv.npy"

echo "== figures (reference | FBP or zero-filled | TV): $out/ct23.png $out/mri8.png"
