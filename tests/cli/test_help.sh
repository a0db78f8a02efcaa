#!/bin/sh
# --help for the program and for every command in its table.
SCORERECON=$1
. "$(dirname "$0")/lib.sh"

run "$SCORERECON" --help
expect_rc 0 "--help"
expect_no_error "--help"
expect_out '^Usage: scorerecon <command>' "usage line"
commands=$(printf '%s\n' "$out" | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }')
[ -n "$commands" ] || fail "no commands listed"
for c in info version; do
  printf '%s\n' "$commands" | grep -qx "$c" || fail "command $c not listed"
done

for c in $commands; do
  for h in --help -h; do
    run "$SCORERECON" "$c" "$h"
    expect_rc 0 "$c $h"
    expect_no_error "$c $h"
    expect_out "^Usage: scorerecon $c" "$c $h usage"
    expect_out '^  -h, --help' "$c $h lists --help"
  done
  # --help wins over other arguments, even bad ones.
  run "$SCORERECON" "$c" --no-such-option --help
  expect_rc 0 "$c --help after a bad option"
done

# Option tables print their defaults.
run "$SCORERECON" info --help
expect_out '^  -t, --tensors +list every tensor' "info --tensors documented"

finish test_help
