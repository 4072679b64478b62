#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Long fuzz runs: tests/fuzz/run.sh [SECONDS] [TARGET...]
#
# Runs each fuzz target (default: all of them) for SECONDS (default 600) in turn, on a work
# corpus kept between runs in $BUILD/fuzz-long/corpus/<target> (the seeds of
# tests/fuzz/corpus/<target> are read, never written), and prints a table: executions, corpus
# size (files) at the end, and the crashes of this run, saved as $BUILD/fuzz-long/crashes/
# <target>-crash-* (also leak-, timeout-, oom-). Exits 1 when any target crashed.
# Reproduce one: $BUILD/tests/fuzz/fuzz_<target> <file>. Turn it into a unit test and add the
# file to the seed corpus.
#
# BUILD (default build/fuzz) is configured with clang and NSFUN_FUZZ=ON and built first when a
# target is missing or older than the sources (cmake decides). JOBS (default 1) runs that many
# libFuzzer workers per target (-fork); each target gets the whole SECONDS either way.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
seconds=${1:-600}
shift || true
if ! [[ $seconds =~ ^[0-9]+$ ]] || ((seconds == 0)); then
  echo "usage: tests/fuzz/run.sh [SECONDS] [TARGET...]  (targets: $(ls tests/fuzz/corpus | tr '\n' ' '))" >&2
  exit 2
fi
build=${BUILD:-build/fuzz}
jobs=${JOBS:-1}
if (($# > 0)); then
  targets=("$@")
else
  mapfile -t targets < <(ls tests/fuzz/corpus)
fi
for t in "${targets[@]}"; do
  if [[ ! -d tests/fuzz/corpus/$t ]]; then
    echo "run.sh: no fuzz target \"$t\" (targets: $(ls tests/fuzz/corpus | tr '\n' ' '))" >&2
    exit 2
  fi
done

if [[ ! -f $build/CMakeCache.txt ]]; then
  cmake -S . -B "$build" -DCMAKE_CXX_COMPILER=clang++ -DNSFUN_FUZZ=ON -DNSFUN_BUILD_TESTS=OFF \
    -DNSFUN_BUILD_EXAMPLES=OFF -DNSFUN_BUILD_CLI=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
out=$build/fuzz-long
mkdir -p "$out/crashes" "$out/logs"
if ! cmake --build "$build" -j2 --target nsfun_fuzz >"$out/logs/build.log" 2>&1; then
  tail -20 "$out/logs/build.log" >&2
  exit 1
fi
printf '%-14s %8s %14s %10s %8s\n' target seconds execs corpus crashes
failed=0
for t in "${targets[@]}"; do
  work=$out/corpus/$t
  mkdir -p "$work"
  before=$(find "$out/crashes" -name "$t-*" | wc -l)
  log=$out/logs/$t.log
  fork=()
  if ((jobs > 1)); then
    fork=(-fork="$jobs" -ignore_crashes=1)
  fi
  start=$SECONDS
  "$build/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$out/crashes/$t-" "${fork[@]}" \
    "$work" "tests/fuzz/corpus/$t" >"$log" 2>&1 || true
  # -print_final_stats' count; with -fork, the last status line's "#N".
  execs=$(grep -o 'number_of_executed_units: [0-9]*' "$log" | awk '{s += $2} END {print s + 0}')
  if ((execs == 0)); then
    execs=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#')
  fi
  corpus=$(find "$work" -type f | wc -l)
  crashes=$(($(find "$out/crashes" -name "$t-*" | wc -l) - before))
  printf '%-14s %8s %14s %10s %8s\n' "$t" "$((SECONDS - start))" "${execs:-0}" "$corpus" "$crashes"
  if ((crashes > 0)); then
    failed=1
    grep -m3 -E 'ERROR|property failed|runtime error' "$log" | sed 's/^/    /' || true
  fi
done
if ((failed)); then
  echo "run.sh: crashes saved in $out/crashes (logs in $out/logs)" >&2
  exit 1
fi
