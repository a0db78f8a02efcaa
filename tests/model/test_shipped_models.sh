#!/usr/bin/env bash
# The shipped default models (issue 10, item 6), CPU only, fast settings:
#  1. each of weights/ct_head_128.safetensors and weights/mri_colin27_128.safetensors
#     loads (`scorerecon info`: every tensor present, shapes match);
#  2. a short score reconstruction of one held-out slice beats the classical
#     baseline by a stated margin (PSNR in the model's range, `scorerecon eval`):
#       CT  slice 90 of Cranium.inv3 (held out: 80-107), 23 of 128 views, simulated
#           from the 2x finer image and detector (no inverse crime), noise-free:
#           score (exact consistency) >= FBP + CT_MARGIN dB (data range 2 = 4000 HU);
#       MRI Colin27 z = 120 (held out: 110-129), the paper's equispaced mask rule at
#           8x (n_keep 16: 16 of 128 columns): score (exact consistency) >=
#           zero-filled + MRI_MARGIN dB (data range 1).
#     Sampler: reverse diffusion + 1 Langevin step per level, N = STEPS levels, seed 1,
#     one thread (about 2 x STEPS network evaluations of ~10 GFLOP per model).
# The held-out slices are extracted from the Debian packages invesalius-examples and
# mricron-data by tools/training_data.py (the models' own preprocessing); without them,
# or without Python's numpy, the test skips (77).
# Usage: test_shipped_models.sh SCORERECON SOURCE_DIR
set -euo pipefail
sr=$1
root=$2
STEPS=${SR_TEST_STEPS:-60}
CT_MARGIN=${SR_TEST_CT_MARGIN:-4.0}
MRI_MARGIN=${SR_TEST_MRI_MARGIN:-4.0}

py=""
for p in /usr/bin/python3 python3; do
  if command -v "$p" >/dev/null 2>&1 && "$p" -c "import numpy" 2>/dev/null; then py=$p; break; fi
done
[ -n "$py" ] || { echo "SKIP: no python3 with numpy"; exit 77; }
for f in /usr/share/doc/invesalius-examples/examples/Cranium.inv3 /usr/share/mricron/templates/ch2.nii.gz; do
  [ -f "$f" ] || { echo "SKIP: $f missing (tools/install-deps.sh installs it)"; exit 77; }
done
for m in ct_head_128 mri_colin27_128; do
  [ -f "$root/weights/$m.safetensors" ] || { echo "FAIL: $root/weights/$m.safetensors missing"; exit 1; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# 1. each model loads
for m in ct_head_128 mri_colin27_128; do
  "$sr" info "$root/weights/$m.safetensors" >"$tmp/info_$m.txt"
  grep -q "weights: all 289 tensors present, float32, shapes match" "$tmp/info_$m.txt" || {
    cat "$tmp/info_$m.txt"; echo "FAIL: $m does not load as a complete NCSN++ file"; exit 1; }
  grep -q "image: 128 x 128 x 1 channel" "$tmp/info_$m.txt" || { echo "FAIL: $m is not 128^2"; exit 1; }
  echo "ok: $m loads"
done

# 2. held-out slices with the models' preprocessing
PYTHONDONTWRITEBYTECODE=1 "$py" - "$root/tools" "$tmp" <<'EOF'
import sys
import numpy as np
sys.path.insert(0, sys.argv[1])
import training_data
for task, z in (("ct", 90), ("mri", 120)):
    x, idx = training_data.load(task, "test")
    np.save(f"{sys.argv[2]}/{task}.npy", x[[idx.index(z)]])
EOF

mean_psnr() { # ref recon range
  "$sr" eval --ref "$1" --in "$2" --data-range "$3" | awk '$1 == "mean" { print $2 }'
}

check() { # task model base-method sim-args... ; margin range
  local task=$1 model=$2 base=$3 margin=$4 range=$5
  shift 5
  "$sr" simulate "$@" --in "$tmp/$task.npy" --out "$tmp/$task.h5" --seed 1 >/dev/null
  "$sr" reconstruct --in "$tmp/$task.h5" --out "$tmp/${task}_base.npy" --method "$base" \
    --threads 1 >/dev/null
  local t0 t1
  t0=$(date +%s.%N)
  "$sr" reconstruct --in "$tmp/$task.h5" --out "$tmp/${task}_score.npy" --method score \
    --model "$root/weights/$model.safetensors" --consistency exact --steps "$STEPS" --seed 1 \
    --threads 1 --device cpu --no-clip -q >"$tmp/${task}_score.log"
  t1=$(date +%s.%N)
  local pb ps
  pb=$(mean_psnr "$tmp/$task.npy" "$tmp/${task}_base.npy" "$range")
  ps=$(mean_psnr "$tmp/$task.npy" "$tmp/${task}_score.npy" "$range")
  awk -v t="$task" -v b="$base" -v pb="$pb" -v ps="$ps" -v m="$margin" -v n="$STEPS" \
      -v s="$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" 'BEGIN {
    printf "%s: %s %.2f dB, score (N = %d, exact, %.1f s) %.2f dB, margin %+.2f dB (required %+.1f)\n",
           t, b, pb, n, s, ps, ps - pb, m
    exit !(ps - pb >= m) }' || { echo "FAIL: $task score does not beat $base by $margin dB"; exit 1; }
}

check ct ct_head_128 fbp "$CT_MARGIN" 2 ct --views 23
check mri mri_colin27_128 zero-filled "$MRI_MARGIN" 1 mri --mask paper --n-keep 16
echo "PASS"
