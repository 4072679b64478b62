#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# compare_container.sh – the cost of a container's security and filesystem settings (issue 15):
# bench/container_bench's rows side by side, in one run, as a markdown table of medians with
# each row's ratio to the plain spawn (the issue's target: Secured <= 1.3x Plain) and to the same
# container made with the usual tools. Needs root, busybox-static, unshare and setpriv.
#
#   bench/compare_container.sh [BUILD_DIR] [-- CONTAINER_BENCH_ARGS...]   default BUILD_DIR: build/ci
#
# The rows (see bench/container_bench.cpp): Plain (rootfs + /proc), Secured (+ the default
# capabilities, no_new_privs, the default seccomp profile, a read-only root, a minimal /dev),
# SecuredMasks (+ the default masked and read-only paths), CapsSeccompOnly and FsOnly (Secured's
# two halves), and Tools (unshare + a mounting shell + setpriv + a seccomp-loading wrapper).
# Repetitions run interleaved in random order, so that a change in the machine's load falls on
# every row alike. Afterwards the script checks that nothing is left behind: no container_bench
# process, no /tmp/nsfun-bench-container-* directory, no mount under it.
#
# Environment (defaults in brackets; about 1 minute with them):
#   MIN_TIME     seconds per repetition of each row [0.5]
#   REPS         repetitions [5]
#   FILTER       --benchmark_filter [.]
#   OUT          also write the table to this file
#   CONTAINER_BENCH  the program [BUILD_DIR/bench/container_bench]
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init compare_container "$@"

bench=${CONTAINER_BENCH:-$build/bench/container_bench}
min_time=${MIN_TIME:-0.5}
reps=${REPS:-5}
filter=${FILTER:-.}

((EUID == 0)) || die "needs root (the containers are made with new pid, net, ipc, uts and mount namespaces)"
[[ -x $bench ]] || die "$bench: not built (cmake --build --preset ci --target nsfun_container_bench)"
[[ -x /bin/busybox ]] || die "needs /bin/busybox (Debian: busybox-static)"
command -v setpriv >/dev/null || die "needs setpriv (util-linux)"
command -v python3 >/dev/null || die "needs python3 to read the benchmark's JSON"

tmp=$(mktemp /tmp/compare_container.XXXXXX)
rc=0
bench_run "$bench" --benchmark_min_time="$min_time" --benchmark_repetitions="$reps" \
  --benchmark_enable_random_interleaving=true --benchmark_filter="$filter" \
  --benchmark_format=json "${extra[@]}" >"$tmp" || rc=$?
((rc == 0)) || die "container_bench exited with status $rc"

{
  echo "Reproduce: \`MIN_TIME=$min_time REPS=$reps FILTER='$filter'" \
    "bench/compare_container.sh BUILD_DIR${extra[*]:+ -- ${extra[*]}}\`  "
  bench_source include src bench
  python3 - "$tmp" <<'PY'
import json
import sys

data = json.load(open(sys.argv[1]))
ctx = data.get("context", {})
print(f"Machine: {ctx.get('num_cpus', '?')} CPUs, load average "
      f"{' '.join(f'{x:.1f}' for x in ctx.get('load_avg', []))} at the start; "
      f"library built as {ctx.get('library_build_type', '?')}  ")
print()
rows = {}
errors = {}
for b in data.get("benchmarks", []):
    name = b.get("run_name", b["name"]).removeprefix("BM_").removesuffix("/real_time")
    if b.get("error_occurred"):
        errors[name] = b.get("error_message", "error")
        continue
    if b.get("aggregate_name") == "median":
        rows[name] = b["real_time"]  # microseconds (the benchmarks' unit)
plain = rows.get("Container_Plain")
tools = rows.get("ContainerRef_Tools")
print("| row | median (us) | x Plain | x Tools |")
print("| --- | ---: | ---: | ---: |")
order = ["Container_Plain", "Container_Secured", "Container_SecuredMasks",
         "Container_CapsSeccompOnly", "Container_FsOnly", "ContainerRef_Tools"]
for name, t in sorted(rows.items(), key=lambda r: order.index(r[0]) if r[0] in order else 99):
    xp = f"{t / plain:.2f}" if plain else "-"
    xt = f"{t / tools:.2f}" if tools else "-"
    print(f"| {name} | {t:.0f} | {xp} | {xt} |")
for name, e in errors.items():
    print(f"| {name} | skipped: {e} | | |")
secured = rows.get("Container_Secured")
if plain and secured:
    ratio = secured / plain
    verdict = "met" if ratio <= 1.3 else "NOT met"
    print()
    print(f"Target Secured <= 1.3x Plain: {ratio:.2f}x, {verdict}.")
PY
} | bench_emit

left=$(pgrep -c -x container_bench || true)
dirs=$(find /tmp -maxdepth 1 -name 'nsfun-bench-container-*' 2>/dev/null | wc -l)
mounts=$(grep -c nsfun-bench-container /proc/self/mountinfo || true)
echo
echo "Left behind: $left container_bench processes, $dirs /tmp/nsfun-bench-container-*" \
  "directories, $mounts mounts."
((left == 0 && dirs == 0 && mounts == 0)) || die "something was left behind"
