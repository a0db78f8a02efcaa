#!/bin/sh
# scorerecon score end to end on the CT layout's tiny model: the output
# matches the golden of the original score_sde_pytorch code, a float64 input
# gives the same bits, and bad inputs (wrong shape, NaN, missing or truncated
# model, missing input) fail with exit 1 and one line naming the file, with
# no output written; --precision bf16 stays near the fp32 output.
# Usage: test_score_cli.sh SCORERECON SCORE_CLI_SAMPLES DATA_DIR
SCORERECON=$1
SAMPLES=$2
DATA=$3
. "$(dirname "$0")/../cli/lib.sh"

"$SAMPLES" make "$DATA" "$WORK" || { echo "cannot make the samples" >&2; exit 1; }
MODEL=$DATA/ct.safetensors
SIGMA=$(cat "$WORK/sigma.txt")

run "$SCORERECON" score --model "$MODEL" --in "$WORK/x.npy" --sigma "$SIGMA" \
  --out "$WORK/s.npy" --backend cpu --threads 2
expect_rc 0 "score on the golden input"
expect_no_error "score on the golden input"
run "$SAMPLES" compare "$WORK/s.npy" "$WORK/out.npy" 1e-4
expect_rc 0 "score output against the score_sde_pytorch golden ($out)"

run "$SCORERECON" score -m "$MODEL" -i "$WORK/x64.npy" -s "$SIGMA" -o "$WORK/s64.npy" -b cpu
expect_rc 0 "score on a float64 input"
run "$SAMPLES" compare "$WORK/s64.npy" "$WORK/s.npy" 0
expect_rc 0 "a float64 input gives the float32 input's result ($out)"

# --precision: bf16 convolutions stay within their measured error of fp32
# (about 1e-2 on this model, see test_ncsnpp_precision) and are not fp32
run "$SCORERECON" score --model "$MODEL" --in "$WORK/x.npy" --sigma "$SIGMA" \
  --out "$WORK/s_bf16.npy" --backend cpu --precision bf16
expect_rc 0 "score --precision bf16"
expect_no_error "score --precision bf16"
run "$SAMPLES" compare "$WORK/s_bf16.npy" "$WORK/s.npy" 4e-2
expect_rc 0 "bf16 output near the fp32 one ($out)"
run "$SAMPLES" compare "$WORK/s_bf16.npy" "$WORK/s.npy" 1e-4
expect_rc 1 "bf16 output is not the fp32 one ($out)"
run "$SCORERECON" score --model "$MODEL" --in "$WORK/x.npy" --sigma "$SIGMA" \
  --out "$WORK/s_fp64.npy" --precision fp64
expect_rc 2 "score --precision fp64"
expect_one_error "^scorerecon score: --precision expects one of fp32\|tf32\|bf16\|fp16" \
  "score --precision fp64"

# bad_input NAME MODEL INPUT REGEX: exit 1, one line on stderr naming the file, no output
bad_input() {
  rm -f "$WORK/bad_out.npy"
  run "$SCORERECON" score --model "$2" --in "$3" --sigma "$SIGMA" --out "$WORK/bad_out.npy"
  expect_rc 1 "$1"
  expect_one_error "^scorerecon score: $4" "$1"
  [ ! -e "$WORK/bad_out.npy" ] || fail "$1: an output was written"
}
bad_input "H, W not multiples of 8" "$MODEL" "$WORK/odd.npy" "$WORK/odd.npy: 41x41 images: .*multiples of 8"
bad_input "2 channels for a 1-channel model" "$MODEL" "$WORK/two_channels.npy" \
  "$WORK/two_channels.npy: cannot read a 4-D array as images for a 1-channel model"
bad_input "NaN in the input" "$MODEL" "$WORK/nan.npy" "$WORK/nan.npy: 1 non-finite values"
bad_input "missing model" "$WORK/no_such_model.safetensors" "$WORK/x.npy" \
  "$WORK/no_such_model.safetensors: cannot open"
bad_input "truncated model" "$WORK/truncated.safetensors" "$WORK/x.npy" \
  "$WORK/truncated.safetensors: "
bad_input "missing input" "$MODEL" "$WORK/no_such_input.npy" "$WORK/no_such_input.npy: cannot open"

finish test_score_cli
