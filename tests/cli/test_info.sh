#!/bin/sh
# scorerecon info on files of every format written by make_samples.
SCORERECON=$1
MAKE_SAMPLES=$2
. "$(dirname "$0")/lib.sh"

D="$WORK/files"
mkdir "$D"
run "$MAKE_SAMPLES" "$D"
expect_rc 0 "make_samples"

run "$SCORERECON" info "$D/sample.npy"
expect_rc 0 "npy"
expect_no_error "npy"
expect_out '^format: npy$' "npy format"
expect_out '^dtype: float32$' "npy dtype"
expect_out '^shape: \(2, 3\)$' "npy shape"
expect_out '^min: -1$' "npy min"
expect_out '^max: 1.5$' "npy max"
expect_out '^mean: 0.25$' "npy mean"

run "$SCORERECON" info "$D/npy_without_suffix"
expect_rc 0 "npy by content"
expect_out '^format: npy$' "npy detected by its magic"

for f in sample.nii sample.nii.gz; do
  run "$SCORERECON" info "$D/$f"
  expect_rc 0 "$f"
  expect_no_error "$f"
  expect_out '^format: nifti-1' "$f format"
  expect_out '^dims: 6 x 5 x 4$' "$f dims"
  expect_out '^pixdim: 0.5 x 0.75 x 2 \(mm\)$' "$f pixdim"
  expect_out '^min: 0$' "$f min"
  expect_out '^max: 119$' "$f max"
done
run "$SCORERECON" info "$D/sample.nii"
expect_out '^datatype: float32 \(16\)$' "nii datatype"
run "$SCORERECON" info "$D/sample.nii.gz"
expect_out '^datatype: int16 \(4\)$' "nii.gz datatype"
expect_out '^scl_slope: 1$' "nii.gz slope (integral data stored exactly)"

run "$SCORERECON" info "$D/sample.safetensors"
expect_rc 0 "safetensors"
expect_no_error "safetensors"
expect_out '^format: safetensors$' "st format"
expect_out '^tensors: 2$' "st count"
expect_out '^parameters: 9$' "st parameters"
expect_out '^dtype F32: 1 tensors, 6 parameters$' "st F32"
expect_out '^dtype F16: 1 tensors, 3 parameters$' "st F16"
expect_out '^metadata: 2 entries$' "st metadata count"
expect_out '^  model: ncsnpp$' "st metadata value"
printf '%s\n' "$out" | grep -q '^tensor ' && fail "tensors listed without --tensors"
run "$SCORERECON" info --tensors "$D/sample.safetensors"
expect_out '^tensor layer.weight: F32 \(2, 3\)$' "--tensors weight"
expect_out '^tensor layer.bias: F16 \(3,\)$' "--tensors bias"

run "$SCORERECON" info "$D/sample.png"
expect_rc 0 "png"
expect_out '^format: png$' "png format"
expect_out '^size: 8 x 4 \(width x height\)$' "png size"
expect_out '^bit depth: 8$' "png depth"

# Several files at once, one broken: the others are still reported, the
# broken one gets one line naming it, and the exit code is 1.
run "$SCORERECON" info "$D/sample.npy" "$D/truncated.npy" "$D/sample.png"
expect_rc 1 "one bad file among good ones"
expect_out '^format: png$' "files after the bad one are still reported"
expect_one_error "^scorerecon info: $D/truncated.npy: " "truncated file named"

finish test_info
