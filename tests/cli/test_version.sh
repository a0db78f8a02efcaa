#!/bin/sh
# scorerecon version: exit 0 and the documented lines.
SCORERECON=$1
. "$(dirname "$0")/lib.sh"

for form in "version" "--version"; do
  run "$SCORERECON" $form
  expect_rc 0 "$form"
  expect_no_error "$form"
  expect_out '^scorerecon [0-9]+\.[0-9]+\.[0-9]+$' "version line"
  expect_out '^git commit: [0-9a-z]+' "git commit"
  expect_out '^build type: [A-Za-z]+' "build type"
  expect_out '^backends: cpu(, cuda)?$' "backends"
  expect_out '^CUDA: (not compiled|emulated on the CPU|real \(nvcc\))$' "CUDA"
  expect_out '^CUDA architectures: ' "architectures"
  expect_out '^cuDNN: (yes|no)$' "cuDNN"
  expect_out '^BLAS: .+' "BLAS"
  expect_out '^FFT: .+' "FFT"
  expect_out '^GPU: (found [1-9][0-9]* \(.+\)|none \(.+\))$' "GPU line"
done

run "$SCORERECON" version extra
expect_rc 2 "version takes no arguments"
expect_one_error "^scorerecon version: unexpected argument 'extra'" "extra argument"

finish test_version
