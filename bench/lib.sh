# SPDX-License-Identifier: MIT
# bench/lib.sh – the harness the bench/*.sh scripts share (sourced, not run):
#
#   bench_init NAME "$@"   repo (the source tree), build (the first argument unless it is --;
#                          default build/ci), extra (the arguments after --); the EXIT trap that
#                          stops a running bench_run command and removes $tmp; INT and TERM exit
#   die MESSAGE...         "NAME: MESSAGE" on stderr, exit 1
#   bench_run CMD...       runs CMD in the background and waits for it (so that a signal stops
#                          the script at once: bash runs traps only after a foreground command
#                          ends), with CMD's status; on exit CMD gets SIGTERM and is waited for
#   bench_source PATHS...  the table's "Source: commit … (built in BUILD)" line, naming the
#                          uncommitted changes under PATHS
#   bench_emit             stdin to stdout, and also to $OUT when it is set
# shellcheck shell=bash

# shellcheck disable=SC2034  # repo, build and extra are the sourcing script's
bench_init() {
  bench_name=$1
  shift
  repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  build=$repo/build/ci
  if (($# > 0)) && [[ $1 != -- ]]; then
    build=$1
    shift
  fi
  if (($# > 0)) && [[ $1 == -- ]]; then
    shift
  fi
  extra=("$@")
  bench_pid=
  tmp=
  trap bench_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

die() {
  echo "$bench_name: $*" >&2
  exit 1
}

# shellcheck disable=SC2317  # run by the EXIT trap
bench_cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n $bench_pid ]]; then
    # The benchmark programs' SIGTERM handlers kill and reap everything they started.
    kill -TERM "$bench_pid" 2>/dev/null || true
    wait "$bench_pid" 2>/dev/null || true
  fi
  if [[ -n $tmp ]]; then
    rm -f "$tmp"
  fi
  exit "$rc"
}

bench_run() {
  local rc=0
  "$@" &
  bench_pid=$!
  wait "$bench_pid" || rc=$?
  bench_pid=
  return "$rc"
}

bench_source() {
  local rev dirty
  if rev=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null); then
    dirty=$(git -C "$repo" status --porcelain -- "$@" 2>/dev/null | awk '{ print $2 }' |
      tr '\n' ' ')
    echo "Source: commit $rev${dirty:+ with uncommitted changes in ${dirty% }} (built in $build)  "
  fi
}

bench_emit() {
  if [[ -n ${OUT:-} ]]; then tee "$OUT"; else cat; fi
}
