#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# compare_modes.sh – nsfun compiled (nsfun::nsfun) against header-only (nsfun::header_only),
# measured side by side in one run:
#   1. compile time of one translation unit that includes <nsfun/nsfun.hpp> (and, separately,
#      <nsfun/net/net.hpp>), with the build's own flags, each mode RUNS times (median);
#   2. the size of nsm linked each way (nsm and nsm_header_only: file, stripped file, text);
#   3. nsm list, nsm tree and nsm ps against each other, each mode (bench/paired, RUNS rounds).
#
#   bench/compare_modes.sh [BUILD_DIR]        default: build/ci (configured with the ci preset)
#
# Environment: RUNS (compile runs; paired uses 3x as many rounds, default 5).
set -euo pipefail
export LC_NUMERIC=C

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$repo/build/ci}
runs=${RUNS:-5}

cmake --build "$build" --target nsm nsm_header_only nsfun_paired -j2 >/dev/null
nsm=$build/src/nsm/nsm
nsm_ho=$build/src/nsm/nsm_header_only
paired=$build/bench/paired

# The compile command of one of nsm's sources, from the build's compile_commands.json: the same
# compiler, flags, include directories and definitions nsm is built with.
mapfile -d '' base < <(python3 - "$build/compile_commands.json" <<'PY'
import json, shlex, sys
for entry in json.load(open(sys.argv[1])):
    if entry["file"].endswith("src/nsm/cmd_ps.cpp") and "nsm_header_only" not in entry["command"]:
        args = shlex.split(entry["command"])
        out, skip = [], False
        for a in args:
            if skip:
                skip = False
                continue
            if a in ("-o", "-c"):
                skip = True
                continue
            if a.startswith(("-MD", "-MT", "-MF")) or a.endswith(".cpp"):
                continue
            out.append(a)
        sys.stdout.write("".join(a + "\0" for a in out))
        break
PY
)
if ((${#base[@]} == 0)); then
  echo "compare_modes: no compile command for src/nsm/cmd_ps.cpp in $build" >&2
  exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '#include <nsfun/nsfun.hpp>\nint main() { return 0; }\n' >"$tmp/core.cpp"
printf '#include <nsfun/net/net.hpp>\nint main() { return 0; }\n' >"$tmp/net.cpp"

median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
compile_ms() {  # file, extra flags...
  local src=$1 i t0 t1
  shift
  for ((i = 0; i < runs; i++)); do
    t0=$EPOCHREALTIME
    "${base[@]}" "$@" -c "$src" -o "$tmp/out.o" || return 1
    t1=$EPOCHREALTIME
    awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.0f\n", (b - a) * 1000}'
  done | median
}

echo "== compile time of one TU (median of $runs, ms; flags of nsm's sources)"
printf '%-28s %10s %12s %7s\n' "TU" "compiled" "header-only" "ratio"
for tu in core net; do
  a=$(compile_ms "$tmp/$tu.cpp")
  b=$(compile_ms "$tmp/$tu.cpp" -DNSFUN_HEADER_ONLY)
  name="<nsfun/nsfun.hpp>"
  [[ $tu == net ]] && name="<nsfun/net/net.hpp>"
  printf '%-28s %10s %12s %6.2fx\n' "$name" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN {print b / a}')"
done

echo
echo "== nsm linked each way (bytes)"
printf '%-18s %10s %10s %10s\n' "" "file" "stripped" "text"
for exe in "$nsm" "$nsm_ho"; do
  strip -o "$tmp/stripped" "$exe"
  printf '%-18s %10s %10s %10s\n' "$(basename "$exe")" "$(stat -c %s "$exe")" \
    "$(stat -c %s "$tmp/stripped")" "$(size -A "$exe" | awk '$1 == ".text" {print $2}')"
done
echo "(the compiled nsm links libnsfun statically: $(basename "$(ls "$build"/libnsfun.* | head -1)"))"

echo
echo "== run time, each mode (bench/paired, $((runs * 3)) rounds)"
for sub in "list" "tree" "ps"; do
  echo "-- nsm $sub"
  "$paired" --runs $((runs * 3)) --warmup 2 -- "$nsm" $sub ::: "$nsm_ho" $sub
done
