#!/usr/bin/env bash
# Enforces the kernel rules of docs/emulator.md on kernels/, the CUDA backend's host files
# (src/backend/cuda/, not its emulator) and the emulator's own tests, so that every kernel
# also runs under the CPU emulator:
#   1. launches only through SR_LAUNCH: no <<< outside kernels/cuda_compat.cuh;
#   2. dynamic shared memory only through SR_DYNAMIC_SHARED: no extern __shared__ elsewhere;
#   3. warp-synchronous code through the *_sync intrinsics: no legacy __shfl, __ballot,
#      __any, __all;
#   4. what the emulator cannot run (inline PTX, wmma/mma, cp.async/TMA, CUB, cooperative
#      groups, textures, __CUDA_ARCH__ branches) only in a fast variant, a file named
#      *_fast.cu beside the plain kernel that computes the same thing.
# Comments are ignored. Prints file:line: rule for each violation and exits 1 if any.
#
# Usage: tools/check-kernel-rules.sh [file ...]   (default: the files above)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

files=("$@")
[ ${#files[@]} -gt 0 ] || while IFS= read -r f; do files+=("$f"); done < <(
  {
    ls kernels/*.cu kernels/*.cuh kernels/*.h 2>/dev/null
    find src/backend/cuda -path src/backend/cuda/emu -prune -o -type f \
      \( -name '*.c' -o -name '*.h' -o -name '*.cu' -o -name '*.cuh' -o -name '*.cpp' \) -print
    ls tests/emu/*.cu tests/emu/*.cuh 2>/dev/null
  } | sort -u)

# Prints each line of a file as "number<TAB>code" without comments and string contents.
strip_comments() {
  perl -ne '
    BEGIN { $in = 0 }
    my $l = $_; chomp $l; my $out = "";
    while (length $l) {
      if ($in) {
        if ($l =~ s/^.*?\*\///s) { $in = 0 } else { $l = "" }
      } elsif ($l =~ s/^"(?:[^"\\]|\\.)*"//) { $out .= "\"\"" }
      elsif ($l =~ s/^\/\/.*//) { }
      elsif ($l =~ s/^\/\*//) { $in = 1 }
      else { $l =~ s/^(.)//s; $out .= $1 }
    }
    print "$.\t$out\n";' "$1"
}

violations=0
report() { # file line message
  echo "$1:$2: $3" >&2
  violations=$((violations + 1))
}

check() { # file pattern message
  local file=$1 pattern=$2 message=$3
  while IFS=$'\t' read -r number code; do
    report "$file" "$number" "$message"
  done < <(grep -P "^[0-9]+\t.*(${pattern})" "$work/${file//\//_}.code" || true)
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for f in "${files[@]}"; do
  strip_comments "$f" >"$work/${f//\//_}.code"
  if [ "$(basename "$f")" != cuda_compat.cuh ]; then
    check "$f" '<<<' "launch kernels through SR_LAUNCH (kernels/cuda_compat.cuh), not <<<...>>>"
    check "$f" '\bextern\s+__shared__' \
      "declare dynamic shared memory with SR_DYNAMIC_SHARED, not extern __shared__"
  fi
  check "$f" '\b(__shfl|__shfl_up|__shfl_down|__shfl_xor|__ballot|__any|__all)\s*\(' \
    "legacy warp intrinsic: use the *_sync form with an explicit mask"
  case "$f" in
  *_fast.cu) ;; # the fast-variant convention: may use what the emulator cannot run
  *)
    check "$f" '\basm\b|__asm__' "inline PTX only in a *_fast.cu variant"
    check "$f" '\b(wmma|mma|mma_sync|__hmma\w*)\b' "wmma/mma only in a *_fast.cu variant"
    check "$f" 'cp\.async|memcpy_async|__pipeline_|cuda::barrier|CUtensorMap|cp\.bulk' \
      "cp.async/TMA only in a *_fast.cu variant"
    check "$f" '\bcub::|<cub/' "CUB only in a *_fast.cu variant"
    check "$f" 'cooperative_groups' "cooperative groups only in a *_fast.cu variant"
    check "$f" '\b(tex1Dfetch|tex1D|tex2D|tex3D|texCubemap|surf[123]D\w*|cudaTextureObject_t|cudaSurfaceObject_t)\b' \
      "hardware textures/surfaces only in a *_fast.cu variant"
    check "$f" '__CUDA_ARCH__' "__CUDA_ARCH__ branches only in a *_fast.cu variant"
    ;;
  esac
done

if [ $violations -gt 0 ]; then
  echo "check-kernel-rules: $violations violation(s) of the kernel rules (docs/emulator.md)" >&2
  exit 1
fi
echo "check-kernel-rules: ${#files[@]} files follow the kernel rules"
