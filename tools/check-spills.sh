#!/usr/bin/env bash
# Compiles every kernel source with nvcc for sm_80 and sm_90 (plus compute_90 PTX) with
# `-Xptxas -v`, prints the resources of each kernel as a Markdown table (registers, shared
# memory, stack, spill stores and loads), and fails if a kernel spills without being listed
# in kernels/spill-allowlist.txt. No GPU is needed.
#
# Usage: tools/check-spills.sh [--output FILE] [source.cu ...]
#   default sources: kernels/*.cu and tests/emu/*.cu; --output also writes the table to FILE.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
allowlist="$root/kernels/spill-allowlist.txt"
output=""
sources=()
while [ $# -gt 0 ]; do
  case "$1" in
  --output) output=$2; shift 2 ;;
  -h | --help) sed -n '2,9p' "$0"; exit 0 ;;
  *) sources+=("$1"); shift ;;
  esac
done
if [ ${#sources[@]} -eq 0 ]; then
  sources=("$root"/kernels/*.cu "$root"/tests/emu/*.cu)
fi

nvcc=${NVCC:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}
if [ ! -x "$nvcc" ]; then
  echo "check-spills: nvcc not found (set NVCC or put /usr/local/cuda/bin on PATH)" >&2
  exit 2
fi
demangle=$(command -v c++filt || echo cat)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# One nvcc per source, in parallel; ptxas reports on stderr.
compile() {
  local src=$1 log=$2
  "$nvcc" -std=c++17 -O3 -c -o /dev/null \
    -gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code='[sm_90,compute_90]' \
    -I"$root/include" -I"$root/src" -I"$root/kernels" -I"$root/tests/emu" \
    -Xptxas -v "$src" >"$log" 2>&1
}
pids=()
i=0
for src in "${sources[@]}"; do
  compile "$src" "$work/$i.log" &
  pids+=($!)
  i=$((i + 1))
  if [ $((i % $(nproc))) -eq 0 ]; then wait "${pids[@]}" || true; pids=(); fi
done
failed=0
for pid in "${pids[@]}"; do wait "$pid" || true; done
i=0
for src in "${sources[@]}"; do
  if grep -q "error" "$work/$i.log" && ! grep -q "ptxas info" "$work/$i.log"; then
    echo "check-spills: nvcc failed on ${src#"$root"/}:" >&2
    cat "$work/$i.log" >&2
    failed=1
  fi
  i=$((i + 1))
done
[ $failed -eq 0 ] || exit 2

# ptxas -v prints, per function and architecture:
#   ptxas info    : Compiling entry function '_Z...' for 'sm_80'
#   ptxas info    : Function properties for _Z...
#       0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
#   ptxas info    : Used 32 registers, used 1 barriers, 4224 bytes smem, 380 bytes cmem[0]
# A non-inlined device function gets its own properties line and a row without registers.
i=0
for src in "${sources[@]}"; do
  awk -v file="${src#"$root"/}" '
    /Compiling entry function/ {
      match($0, /function \047[^\047]+\047/); fn = substr($0, RSTART + 10, RLENGTH - 11)
      match($0, /for \047[^\047]+\047/); arch = substr($0, RSTART + 5, RLENGTH - 6)
      stack = 0; stores = 0; loads = 0; next
    }
    /Function properties for/ { props = $NF; next }
    /bytes stack frame/ {
      if (props == fn) { stack = $1; stores = $5; loads = $9 }
      else printf "%s\t%s\t%s\t-\t-\t%s\t%s\t%s\n", props, file, arch, $1, $5, $9
      next
    }
    /ptxas info *: Used [0-9]+ registers/ {
      if (fn == "") next
      match($0, /Used [0-9]+ registers/); regs = substr($0, RSTART + 5, RLENGTH - 15)
      smem = 0
      if (match($0, /[0-9]+ bytes smem/)) smem = substr($0, RSTART, RLENGTH - 11)
      printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", fn, file, arch, regs, smem, stack, stores, loads
      fn = ""
    }' "$work/$i.log"
  i=$((i + 1))
done >"$work/raw.tsv"

# Demangle (c++filt reads one name per line), then shorten "void (anonymous
# namespace)::k<32>(float*, int)" to "k<32>": the name kernels/spill-allowlist.txt lists.
cut -f1 "$work/raw.tsv" | "$demangle" | awk '{
    s = $0
    if (substr(s, length(s)) == ")") { # drop the parameter list
      depth = 0
      for (i = length(s); i > 0; --i) {
        c = substr(s, i, 1)
        if (c == ")") ++depth
        if (c == "(" && --depth == 0) break
      }
      if (i > 1) s = substr(s, 1, i - 1)
    }
    gsub(/\(anonymous namespace\)::/, "", s)
    sub(/^void /, "", s)
    print s
  }' >"$work/names.txt"
paste "$work/names.txt" <(cut -f2- "$work/raw.tsv") | sort -t$'\t' -k2,2 -k1,1 -k3,3 >"$work/table.tsv"

allowed() { # an exact line of the allowlist, comments (#...) stripped
  [ -f "$allowlist" ] || return 1
  sed 's/#.*//; s/^[[:space:]]*//; s/[[:space:]]*$//' "$allowlist" | grep -Fxq -e "$1"
}

{
  echo "| kernel | file | arch | registers | smem (B) | stack (B) | spill stores (B) | spill loads (B) |"
  echo "|---|---|---|---:|---:|---:|---:|---:|"
  while IFS=$'\t' read -r name file arch regs smem stack stores loads; do
    echo "| \`$name\` | $file | $arch | $regs | $smem | $stack | $stores | $loads |"
  done <"$work/table.tsv"
} >"$work/table.md"
cat "$work/table.md"
[ -z "$output" ] || cp "$work/table.md" "$output"

status=0
kernels=$(cut -f1,2 "$work/table.tsv" | sort -u | wc -l)
while IFS=$'\t' read -r name file arch regs smem stack stores loads; do
  if [ "$stores" != 0 ] || [ "$loads" != 0 ]; then
    if allowed "$name"; then
      echo "check-spills: $name ($file, $arch) spills $stores/$loads bytes; allowed" >&2
    else
      echo "check-spills: $name ($file, $arch) spills $stores bytes stored, $loads loaded;" \
        "fix it or list it in kernels/spill-allowlist.txt" >&2
      status=1
    fi
  fi
done <"$work/table.tsv"
echo "check-spills: $kernels kernels in ${#sources[@]} files checked for sm_80 and sm_90" >&2
exit $status
