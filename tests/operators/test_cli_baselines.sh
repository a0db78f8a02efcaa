#!/usr/bin/env bash
# simulate -> reconstruct -> eval through the built scorerecon binary, for
# MRI (zero-filled, TV) and CT (FBP, TV), plus fastMRI files and bad input:
# every failure is one line on stderr naming the file, exit code 1, and no
# output file left behind.
# Usage: test_cli_baselines.sh SCORERECON DATA_DIR
set -u
bin=$1
data=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# Mean PSNR from a metrics table on stdin.
mean_psnr() { awk '$1 == "mean" { print $2 }'; }
# a > b + margin, as floats.
greater() { awk -v a="$1" -v b="$2" -v m="$3" 'BEGIN { exit !(a > b + m) }'; }

run() { # run NAME ARGS...: a step that must succeed
  local name=$1
  shift
  if ! "$bin" "$@" > "$work/$name.out" 2> "$work/$name.err"; then
    fail "$name: $bin $*"
    cat "$work/$name.err" >&2
  fi
}

must_fail() { # must_fail NAME PATTERN ARGS...: exit 1, one stderr line matching PATTERN
  local name=$1 pattern=$2
  shift 2
  "$bin" "$@" > "$work/$name.out" 2> "$work/$name.err"
  local rc=$?
  [ "$rc" -eq 1 ] || fail "$name: exit code $rc, expected 1"
  [ "$(wc -l < "$work/$name.err")" -eq 1 ] || fail "$name: stderr is not one line: $(cat "$work/$name.err")"
  grep -q -- "$pattern" "$work/$name.err" || fail "$name: stderr lacks '$pattern': $(cat "$work/$name.err")"
}

ph="$data/phantom_2x64x64.npy"

# ---- MRI: 4x random mask, zero-filled vs TV
run sim_mri simulate mri --in "$ph" --out "$work/mri.h5" --accel 4 --center-fraction 0.08 --seed 3
run zf reconstruct --in "$work/mri.h5" --out "$work/zf.npy" --method zero-filled --device cpu
run tv_mri reconstruct --in "$work/mri.h5" --out "$work/tv_mri.nii.gz" --method tv --iters 300 --device cpu
run eval_zf eval --ref "$ph" --in "$work/zf.npy"
run eval_tv eval --ref "$ph" --in "$work/tv_mri.nii.gz" --data-range 1
p_zf=$(mean_psnr < "$work/eval_zf.out")
p_tv=$(mean_psnr < "$work/eval_tv.out")
echo "MRI 4x: zero-filled ${p_zf:-?} dB, TV ${p_tv:-?} dB"
greater "${p_tv:-0}" "${p_zf:-0}" 15 || fail "MRI TV (${p_tv:-?} dB) not 15 dB above zero-filled (${p_zf:-?} dB)"

# The paper's mask: 31 columns of 240 would need 240-wide images; here n_keep 8 of 64.
run sim_paper simulate mri --in "$ph" --out "$work/paper.h5" --n-keep 8 --noise-sigma 0.001
grep -q "paper mask" "$work/sim_paper.out" || fail "simulate --n-keep did not pick the paper mask"

# ---- CT: 16 of 64 views, FBP vs TV (no inverse crime)
run sim_ct simulate ct --in "$ph" --out "$work/ct.h5" --views 16
run fbp reconstruct --in "$work/ct.h5" --out "$work/fbp.npy" --method fbp --device cpu
run tv_ct reconstruct --in "$work/ct.h5" --out "$work/tv_ct.npy" --method tv --nonneg --iters 300 --device cpu
run eval_fbp eval --ref "$ph" --in "$work/fbp.npy"
run eval_tvct eval --ref "$ph" --in "$work/tv_ct.npy"
p_fbp=$(mean_psnr < "$work/eval_fbp.out")
p_tvct=$(mean_psnr < "$work/eval_tvct.out")
echo "CT 16 views: FBP ${p_fbp:-?} dB, TV ${p_tvct:-?} dB"
greater "${p_tvct:-0}" "${p_fbp:-0}" 5 || fail "CT TV (${p_tvct:-?} dB) not 5 dB above FBP (${p_fbp:-?} dB)"
run sim_ct_noise simulate ct --in "$ph" --out "$work/ct_noise.h5" --views 16 --i0 10000 --seed 1

# ---- the same baselines on the CUDA backend (a GPU or the emulation build), when present
if "$bin" reconstruct --in "$work/mri.h5" --out "$work/tv_mri_cuda.npy" --method tv --iters 300 \
     --device cuda > "$work/tv_cuda.out" 2> "$work/tv_cuda.err"; then
  run fbp_cuda reconstruct --in "$work/ct.h5" --out "$work/fbp_cuda.npy" --device cuda
  run eval_tv_cuda eval --ref "$ph" --in "$work/tv_mri_cuda.npy" --data-range 1
  run eval_fbp_cuda eval --ref "$ph" --in "$work/fbp_cuda.npy"
  p_tvc=$(mean_psnr < "$work/eval_tv_cuda.out")
  p_fbpc=$(mean_psnr < "$work/eval_fbp_cuda.out")
  echo "CUDA: MRI TV ${p_tvc:-?} dB, CT FBP ${p_fbpc:-?} dB"
  awk -v a="${p_tvc:-0}" -v b="${p_tv:-1}" 'BEGIN { exit !(a - b < 0.01 && b - a < 0.01) }' ||
    fail "CUDA TV ${p_tvc:-?} dB differs from CPU ${p_tv:-?} dB"
  awk -v a="${p_fbpc:-0}" -v b="${p_fbp:-1}" 'BEGIN { exit !(a - b < 0.01 && b - a < 0.01) }' ||
    fail "CUDA FBP ${p_fbpc:-?} dB differs from CPU ${p_fbp:-?} dB"
elif grep -q "GPU\|CUDA\|cuda" "$work/tv_cuda.err"; then
  echo "CUDA backend not available: $(cat "$work/tv_cuda.err")"
else
  fail "reconstruct --device cuda: $(cat "$work/tv_cuda.err")"
fi

# ---- fastMRI files: val (cropped to the target, metrics vs reconstruction_esc), test (masked)
run fm_val reconstruct --in "$data/fastmri_singlecoil_val.h5" --out "$work/fm_val.npy"
grep -q "^mean" "$work/fm_val.out" || fail "fastMRI val: no metrics against reconstruction_esc"
nmse=$(awk '$1 == "mean" { print $4 }' "$work/fm_val.out")
awk -v v="${nmse:-1}" 'BEGIN { exit !(v < 1e-10) }' || fail "fastMRI val: zero-filled vs reconstruction_esc NMSE ${nmse:-?}"
run fm_test reconstruct --in "$data/fastmri_singlecoil_test.h5" --out "$work/fm_test.npy"

# ---- bad input: one line, exit 1, nothing written
printf 'not hdf5\n' > "$work/text.h5"
must_fail not_h5 "text.h5: not an HDF5 file" reconstruct --in "$work/text.h5" --out "$work/x.npy"
must_fail missing "missing.h5: cannot open" reconstruct --in "$work/missing.h5" --out "$work/x.npy"
must_fail wrong_method "FBP is for CT" reconstruct --in "$work/mri.h5" --out "$work/x.npy" --method fbp
must_fail no_dir "$work/nodir/x.npy" reconstruct --in "$work/mri.h5" --out "$work/nodir/x.npy"
must_fail bad_image "no_such.npy" simulate mri --in "$work/no_such.npy" --out "$work/x.h5"
must_fail bad_ref "does not\\|is 2 x" eval --ref "$data/metrics_case0_ref.npy" --in "$work/zf.npy"
[ ! -e "$work/x.npy" ] && [ ! -e "$work/x.h5" ] || fail "a failed command left an output file"
ls "$work" | grep -q '\.tmp\.' && fail "a temporary file was left behind"

if [ "$failures" -ne 0 ]; then
  echo "test_cli_baselines: $failures failure(s)"
  exit 1
fi
echo "test_cli_baselines: all checks passed"
