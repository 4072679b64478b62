#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# compare_lsns.sh – lsns(8) against examples/list_namespaces on a machine busy with N extra
# processes, half of them in namespaces of their own (bench/load_gen). Needs root.
#
#   bench/compare_lsns.sh [BUILD_DIR] [N...]        defaults: build/ci, N = 1000 5000
#
# For each N: starts load_gen N and waits for its ready line; counts the processes in /proc;
# times lsns, list_namespaces, nsm list, list_namespaces --scan-only and list_namespaces
# --proc-only (every link through readlinkat, not the BPF task iterator) against each other
# (bench/paired, 21 rounds); counts the system calls of one run of each (strace -f -c) per process on the
# machine; measures the peak RSS of one run of each; stops load_gen and checks that none of its
# processes is left. Whatever happens, load_gen is stopped on exit.
#
# Environment:
#   LIST_NAMESPACES  the list_namespaces program (default: BUILD_DIR/examples/list_namespaces),
#                    e.g. a stand-in script while the real one cannot be built
#   NSM              the nsm program (default: BUILD_DIR/src/nsm/nsm)
#   RUNS             rounds for paired (default 21)
#   READY_TIMEOUT    seconds to wait for load_gen to be ready (default: 60 + N/50)
set -euo pipefail
export LC_NUMERIC=C  # a '.' in $EPOCHREALTIME and in awk's numbers

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

build=$repo/build/ci
if (($# > 0)) && ! [[ $1 =~ ^[0-9]+$ ]]; then
  build=$1
  shift
fi
sizes=("$@")
if ((${#sizes[@]} == 0)); then
  sizes=(1000 5000)
fi

load_gen=$build/bench/load_gen
paired=$build/bench/paired
list=${LIST_NAMESPACES:-$build/examples/list_namespaces}
nsm=${NSM:-$build/src/nsm/nsm}
runs=${RUNS:-21}

die() {
  echo "compare_lsns: $*" >&2
  exit 1
}

((EUID == 0)) || die "needs root (load_gen creates namespaces)"
for n in "${sizes[@]}"; do
  [[ $n =~ ^[0-9]+$ ]] || die "N must be a number, not '$n'"
done
for exe in "$load_gen" "$paired" "$list" "$nsm"; do
  [[ -x $exe ]] || die "$exe: not built (cmake --build --preset ci)"
done
for tool in lsns strace; do
  command -v "$tool" >/dev/null || die "$tool is not installed"
done

tmp=$(mktemp -d /tmp/compare_lsns.XXXXXX)
lg_pid=
lg_procs=
fg_pid=

# True while process $1 runs (not a zombie). Builtins only: no command substitution, which a
# signal trap may interrupt badly in bash.
alive() {
  local line
  read -r line 2>/dev/null <"/proc/$1/stat" || return 1
  line=${line##*) }
  [[ ${line:0:1} != Z ]]
}

# Stops load_gen: on SIGTERM it kills and reaps everything it started, then exits. Should it
# not exit within a minute, SIGKILL (its processes die with it: PR_SET_PDEATHSIG).
stop_load() {
  if [[ -n $lg_pid ]]; then
    local pid=$lg_pid i rc=0
    lg_pid=
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 600; i++)); do
      alive "$pid" || break
      sleep 0.1
    done
    if alive "$pid"; then
      echo "compare_lsns: load_gen (pid $pid) ignores SIGTERM; sending SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" || rc=$?
    return "$rc"
  fi
}

# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n $fg_pid ]]; then
    kill -TERM "$fg_pid" 2>/dev/null || true
    wait "$fg_pid" 2>/dev/null || true
  fi
  if [[ -n $lg_pid ]]; then
    echo "compare_lsns: stopping load_gen (pid $lg_pid)" >&2
    stop_load || true
  fi
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

count_procs() {
  local entries=(/proc/[0-9]*)
  echo "${#entries[@]}"
}

# "PID STARTTIME" of every process in the tree under $1 (itself included): what "left over"
# means later, immune to pid reuse. /proc/PID/stat is parsed after the last ')' of comm.
process_tree() {
  awk -v root="$1" '
    FNR == 1 {
      line = $0
      sub(/.*\) /, "", line)
      split(line, f, " ")
      pid = FILENAME
      sub(/^\/proc\//, "", pid)
      sub(/\/stat$/, "", pid)
      ppid[pid] = f[2]
      start[pid] = f[20]
    }
    END {
      keep[root] = 1
      do {
        grew = 0
        for (p in ppid) {
          if (!(p in keep) && (ppid[p] in keep)) {
            keep[p] = 1
            grew = 1
          }
        }
      } while (grew)
      for (p in keep) {
        if (p in start) print p, start[p]
      }
    }' /proc/[0-9]*/stat 2>/dev/null || true
}

# How many of the processes listed by process_tree still exist (same pid, same start time).
count_left() {
  awk '
    NR == FNR { want[$1] = $2; next }
    FNR == 1 {
      line = $0
      sub(/.*\) /, "", line)
      split(line, f, " ")
      pid = FILENAME
      sub(/^\/proc\//, "", pid)
      sub(/\/stat$/, "", pid)
      if ((pid in want) && want[pid] == f[20]) left++
    }
    END { print left + 0 }' "$1" /proc/[0-9]*/stat 2>/dev/null || true
}

start_load() {
  local n=$1 out=$tmp/load_gen.$1.out err=$tmp/load_gen.$1.err
  local timeout=${READY_TIMEOUT:-$((60 + n / 50))}
  local t0=$EPOCHREALTIME start=$SECONDS line=
  "$load_gen" "$n" >"$out" 2>"$err" &
  lg_pid=$!
  until [[ $line == ready\ * ]]; do
    if ! alive "$lg_pid"; then
      local rc=0
      wait "$lg_pid" || rc=$?
      lg_pid=
      cat "$err" >&2
      die "load_gen $n exited with status $rc before it was ready"
    fi
    if ((SECONDS - start > timeout)); then
      cat "$err" >&2
      die "load_gen $n not ready after $timeout s"
    fi
    sleep 0.1
    read -r line <"$out" || true
  done
  echo "load_gen $n: ready after $(elapsed "$t0" "$EPOCHREALTIME") s (pid $lg_pid)"
  grep 'processes ready in' "$err" | sed 's/^/  /' || true
  lg_procs=$tmp/load_gen.$n.procs
  process_tree "$lg_pid" >"$lg_procs"
}

# Runs a command in the background and waits for it, so that a signal stops the script at once
# (bash runs traps only after a foreground command ends); the EXIT trap stops it.
run() {
  local rc=0
  "$@" &
  fg_pid=$!
  wait "$fg_pid" || rc=$?
  fg_pid=
  return "$rc"
}

# Total system calls of one run of a command, its children included.
syscalls() {
  local file=$tmp/strace.out
  strace -f -c -o "$file" "$@" >/dev/null 2>&1 || die "strace $*: failed"
  awk '$NF == "total" { print $4 }' "$file"
}

# Peak resident set size in KiB of one run of a command.
peak_rss() {
  if [[ -x /usr/bin/time ]]; then
    /usr/bin/time -v -o "$tmp/time.out" "$@" >/dev/null 2>&1 || die "$*: failed"
    awk -F': ' '/Maximum resident set size/ { print $2 }' "$tmp/time.out"
  else
    "$paired" --runs 1 --warmup 0 --rusage --json -- "$@" |
      sed -n 's/.*"max_rss_kib":\([0-9]*\).*/\1/p'
  fi
}

# shellcheck disable=SC2054  # the commas belong to lsns's column list
lsns_cmd=(lsns -n -o NS,TYPE,NPROCS,PID,USER,COMMAND)
status=0

echo "compare_lsns: $(uname -sr), $(nproc) CPUs; $(lsns --version 2>&1 | head -n 1)"
echo "compare_lsns: list_namespaces is $list"
for n in "${sizes[@]}"; do
  echo
  echo "=== N = $n"
  start_load "$n"
  procs=$(count_procs)
  echo "processes in /proc: $procs ($(wc -l <"$lg_procs") of them load_gen's)"
  echo

  run "$paired" --runs "$runs" -- "${lsns_cmd[@]}" ::: \
    "$list" ::: "$nsm" list ::: "$list" --scan-only ::: "$list" --proc-only
  echo

  procs=$(count_procs)
  printf '%-40s %10s %12s %12s\n' "one run of" "syscalls" "per process" "peak RSS"
  for cmd in "lsns" "list" "nsm list" "list --scan-only" "list --proc-only"; do
    case $cmd in
      lsns) argv=("${lsns_cmd[@]}") ;;
      list) argv=("$list") ;;
      "nsm list") argv=("$nsm" list) ;;
      "list --scan-only") argv=("$list" --scan-only) ;;
      *) argv=("$list" --proc-only) ;;
    esac
    calls=$(syscalls "${argv[@]}")
    rss=$(peak_rss "${argv[@]}")
    name="${argv[*]}"
    name=${name#"$build/examples/"}
    name=${name#"$build/src/nsm/"}
    printf '%-40s %10s %12s %9s KiB\n' "$name" "$calls" \
      "$(awk -v c="$calls" -v p="$procs" 'BEGIN { printf "%.1f", c / p }')" "$rss"
  done
  echo "(per process: divided by the $procs processes in /proc when strace ran)"
  echo

  t0=$EPOCHREALTIME
  rc=0
  stop_load || rc=$?
  left=$(count_left "$lg_procs")
  echo "load_gen $n: stopped in $(elapsed "$t0" "$EPOCHREALTIME") s (exit status $rc), $left of its $(wc -l <"$lg_procs") processes left"
  if ((rc != 0 || left != 0)); then
    status=1
  fi
done
exit "$status"
