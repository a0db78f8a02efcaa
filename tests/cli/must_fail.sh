# must_fail NAME CODE PATTERN ARGS...: "$bin ARGS..." exits with CODE and
# prints exactly one line on stderr, matching PATTERN. Sourced by the
# end-to-end scripts; needs $bin, $work and a fail() that counts failures.
must_fail() {
  local name=$1 code=$2 pattern=$3
  shift 3
  "$bin" "$@" > "$work/$name.out" 2> "$work/$name.err"
  local rc=$?
  [ "$rc" -eq "$code" ] || fail "$name: exit code $rc, expected $code"
  [ "$(wc -l < "$work/$name.err")" -eq 1 ] || fail "$name: stderr is not one line: $(cat "$work/$name.err")"
  grep -q -- "$pattern" "$work/$name.err" || fail "$name: stderr lacks '$pattern': $(cat "$work/$name.err")"
}
