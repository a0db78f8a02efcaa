#!/bin/sh
# Failures: one line on stderr, exit 2 for usage errors and 1 otherwise.
SCORERECON=$1
. "$(dirname "$0")/lib.sh"

run "$SCORERECON"
expect_rc 2 "no command"
printf '%s\n' "$err" | grep -q '^Usage: scorerecon' || fail "no usage on stderr without a command"

run "$SCORERECON" frobnicate
expect_rc 2 "unknown command"
expect_one_error "^scorerecon: unknown command 'frobnicate'" "unknown command"

run "$SCORERECON" info --bogus "$WORK/x.npy"
expect_rc 2 "unknown option"
expect_one_error "^scorerecon info: unknown option '--bogus' \(see 'scorerecon info --help'\)$" \
  "unknown option"

run "$SCORERECON" info -z "$WORK/x.npy"
expect_rc 2 "unknown short option"
expect_one_error "^scorerecon info: unknown option '-z'" "unknown short option"

run "$SCORERECON" info --tensors=yes "$WORK/x.npy"
expect_rc 2 "value given to a flag"
expect_one_error "^scorerecon info: --tensors takes no value" "flag with value"

run "$SCORERECON" info
expect_rc 2 "info without files"
expect_one_error "^scorerecon info: missing argument FILE\.\.\." "missing FILE"

run "$SCORERECON" info "$WORK/does-not-exist.npy"
expect_rc 1 "missing file"
expect_one_error "^scorerecon info: $WORK/does-not-exist.npy: cannot open: " "missing file named"

for ext in nii nii.gz safetensors png; do
  run "$SCORERECON" info "$WORK/missing.$ext"
  expect_rc 1 "missing .$ext"
  expect_one_error "^scorerecon info: $WORK/missing.$ext: cannot open" "missing .$ext named"
done

printf 'just some text\n' >"$WORK/notes.txt"
run "$SCORERECON" info "$WORK/notes.txt"
expect_rc 1 "unknown type"
expect_one_error "^scorerecon info: $WORK/notes.txt: unknown file type" "unknown type"

printf 'not an npy file at all' >"$WORK/fake.npy"
run "$SCORERECON" info "$WORK/fake.npy"
expect_rc 1 "corrupt npy"
expect_one_error "^scorerecon info: $WORK/fake.npy: not an .npy file" "corrupt npy named"

run "$SCORERECON" info "$WORK"
expect_rc 1 "directory"
expect_one_error "^scorerecon info: $WORK: is a directory$" "directory"

run "$SCORERECON" info "$WORK/does-not-exist.npy" "$WORK/fake.npy"
expect_rc 1 "two bad files"
n=$(printf '%s\n' "$err" | grep -c .)
[ "$n" -eq 2 ] || fail "expected one stderr line per bad file, got $n"

finish test_errors
