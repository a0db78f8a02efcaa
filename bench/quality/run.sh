#!/usr/bin/env bash
# Quality benchmark (issue 10, item 4), one command: see bench/quality/README.md.
#   bash bench/quality/run.sh                 # the full run (N = 200 on the CPU, 1000 with a GPU)
#   bash bench/quality/run.sh --quick         # plumbing check, about a minute
#   bash bench/quality/run.sh --estimate      # calibrate and print the run time for several N
# Options go to bench/quality/run.py (--help). The build directory is build/
# unless --build DIR is given; build it first (cmake --build build).
set -euo pipefail
cd "$(dirname "$0")/../.."
py=python3
/usr/bin/python3 -c "import numpy" 2>/dev/null && py=/usr/bin/python3
[ -x .venv/bin/python ] && ! "$py" -c "import numpy" 2>/dev/null && py=.venv/bin/python
exec "$py" bench/quality/run.py "$@"
