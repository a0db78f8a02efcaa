# Helpers for the CLI tests: run a command, capture stdout, stderr and exit
# code, and check them. Each test script sources this file; $SCORERECON is
# the binary under test. Failures are counted; finish() sets the exit code.
set -u
failures=0
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sr_cli_XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# run CMD...: sets $rc, $out (stdout) and $err (stderr).
run() {
  "$@" >"$WORK/stdout" 2>"$WORK/stderr"
  rc=$?
  out=$(cat "$WORK/stdout")
  err=$(cat "$WORK/stderr")
}

fail() {
  echo "FAIL: $*" >&2
  echo "  command exit code: ${rc:-?}" >&2
  echo "  stdout: ${out:-}" | head -20 >&2
  echo "  stderr: ${err:-}" >&2
  failures=$((failures + 1))
}

expect_rc() { [ "$rc" -eq "$1" ] || fail "expected exit code $1 ($2)"; }

# expect_out REGEX WHAT: some stdout line matches the extended regex.
expect_out() { printf '%s\n' "$out" | grep -Eq -- "$1" || fail "stdout lacks /$1/ ($2)"; }

# expect_one_error REGEX WHAT: stderr is exactly one line and matches.
expect_one_error() {
  n=$(printf '%s\n' "$err" | grep -c .)
  [ "$n" -eq 1 ] || fail "expected one line on stderr, got $n ($2)"
  printf '%s\n' "$err" | grep -Eq -- "$1" || fail "stderr lacks /$1/ ($2)"
}

expect_no_error() { [ -z "$err" ] || fail "unexpected stderr ($1)"; }

finish() {
  if [ "$failures" -ne 0 ]; then
    echo "$1: $failures check(s) failed" >&2
    exit 1
  fi
  echo "$1: all checks passed"
  exit 0
}
