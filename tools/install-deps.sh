#!/usr/bin/env bash
# Installs the Debian packages scorerecon builds and tests with, only those
# missing. Needs root (or sudo). The CUDA toolkit is not a Debian package
# here: it is expected at /usr/local/cuda and is optional (CPU-only builds).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libopenblas-dev   # sgemm for the CPU backend's convolutions
  libfftw3-dev      # FFTW3 single precision: ramp filters, MRI FFTs, cuFFT shim
  libpng-dev zlib1g-dev
  libhdf5-dev       # fastMRI-style measurement files
  libopenmpi-dev openmpi-bin  # reconstruct --manifest across MPI ranks (and its test)
  python3 python3-numpy python3-venv
  python3-msgpack   # tests/model/test_convert.py: the converter's Flax path
  # tests/model/test_convert.py: the converter's .pth path (PyTorch 1.13; a
  # heavy install: ~110 MB download, ~480 MB on disk, ~1 min; the test
  # skips without it)
  python3-torch
  invesalius-examples  # a real head CT (demo and training data)
  mricron-data         # the Colin27 T1 template (demo and training data)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all Debian packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || echo "install-deps: apt-get update failed, trying the cached lists" >&2
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
