#!/bin/sh
# Runs a Python script with the first python3 that can import numpy (the one
# on PATH may be a virtual environment without it); exit 77 (ctest: skipped)
# when there is none.
for py in python3 /usr/bin/python3; do
  if command -v "$py" >/dev/null 2>&1 && "$py" -c "import numpy" >/dev/null 2>&1; then
    exec "$py" "$@"
  fi
done
echo "no python3 with numpy: skipping" >&2
exit 77
