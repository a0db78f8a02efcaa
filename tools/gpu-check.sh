#!/usr/bin/env bash
# On a machine with a GPU: build for that GPU, run the whole test suite
# including the `gpu` label, run the kernels under compute-sanitizer
# (memcheck, racecheck, synccheck), and print a summary. Usage:
#   bash tools/gpu-check.sh [build-dir]        (default build-gpu)
# Never changes the GPU's settings.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/cuda/bin:$PATH"
build=${1:-build-gpu}
summary=()
fail=0

note() { summary+=("$1"); echo "== $1"; }

if ! nvidia-smi -L >/dev/null 2>&1; then
  echo "gpu-check: no GPU answers nvidia-smi on this machine" >&2
  exit 1
fi
gpu=$(nvidia-smi --query-gpu=name,compute_cap,driver_version --format=csv,noheader | head -1)
arch=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d '.')
note "GPU: $gpu (building for sm_$arch)"

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DSR_CUDA=ON \
  -DCMAKE_CUDA_ARCHITECTURES="$arch" >/dev/null || { echo "configure failed"; exit 1; }
cmake --build "$build" -j "$(nproc)" || { echo "build failed"; exit 1; }

if ctest --test-dir "$build" --output-on-failure -j 4; then
  note "ctest (all labels, gpu included): passed"
else
  note "ctest: FAILED"; fail=1
fi
# A skipped gpu test on a GPU machine is a failure: the device was not found.
skipped=$(ctest --test-dir "$build" -L gpu -N | grep -c "Test *#" || true)
ctest --test-dir "$build" -L gpu --output-on-failure 2>&1 | tee "$build/gpu-tests.log" | tail -5
if grep -q "Skipped" "$build/gpu-tests.log"; then
  note "gpu label: some tests SKIPPED on a GPU machine"; fail=1
else
  note "gpu label: $skipped tests ran"
fi

# Reduced-precision convolutions on cuDNN (bench/RESULTS.md, "Reduced precision", has
# the CPU emulation's rows): the forward's relative L2 against fp32 per precision, on
# the golden layouts and, when the tools venv can write it, the paper CT config at 128².
while read -r line; do note "precision (cuDNN): $line"; done < <(
  "$build/tests/model/test_ncsnpp_precision" tests/model/data cuda 2>&1 | grep "vs fp32")
if [ -x .venv/bin/python ] &&
  .venv/bin/python bench/ncsnpp_peer.py write ct "$build/ct128.safetensors" --size 128 >/dev/null 2>&1; then
  for p in tf32 bf16 fp16; do
    line=$("$build/bench/bench_ncsnpp" "$build/ct128.safetensors" --backend cuda --precision "$p" \
      --repeats 0 2>&1 | grep "vs fp32")
    note "precision (cuDNN): ${line:-$p: no result}"
  done
fi

if command -v compute-sanitizer >/dev/null 2>&1; then
  for tool in memcheck racecheck synccheck; do
    for t in $(ctest --test-dir "$build" -L gpu -N | awk '/Test *#/ {print $3}'); do
      exe=$(find "$build" -type f -executable -name "${t%_gpu}" | head -1)
      [ -n "$exe" ] || continue
      if compute-sanitizer --tool "$tool" --error-exitcode 99 "$exe" >"$build/cs-$tool-$t.log" 2>&1; then
        :
      else
        note "compute-sanitizer $tool $t: FAILED (see $build/cs-$tool-$t.log)"; fail=1
      fi
    done
  done
  note "compute-sanitizer memcheck/racecheck/synccheck: done"
else
  note "compute-sanitizer: not found"; fail=1
fi

if [ -x "$build/tests/emu_probe" ]; then
  "$build/tests/emu_probe" && note "emulator probe vs hardware: agree" || { note "emulator probe: DIFFERS"; fail=1; }
fi

echo
echo "gpu-check summary ($(date -u +%F), commit $(git rev-parse --short HEAD)):"
printf '  %s\n' "${summary[@]}"
exit $fail
