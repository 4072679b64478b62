#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# compare_monitor.sh – NsMonitor's backends (bpf, connector, poll at its default 1 s) and the bash
# tool's method (a rescan of every /proc/*/ns/* link once a second, measured in-process) side by
# side on the same namespace workload, in one run of bench/monitor_bench (issue 16). Needs root.
#
#   bench/compare_monitor.sh [BUILD_DIR] [-- MONITOR_BENCH_ARGS...]     default BUILD_DIR: build/ci
#
# The workloads: for each MODE (fork: unshare in a process that never execs; exec: unshare, then
# exec; clone: a process born in the namespace by clone(2), then exec) and LIFETIME, RATE
# namespaces per second, every type in turn; and, unless MAX=no, each MODE with LIFETIME us as
# fast as the machine sustains. Before that, the idle cost of each
# monitor with SLEEPERS extra sleeping processes. The result is a markdown table (stdout, and
# OUT when set) that starts with the command reproducing it. Afterwards the script checks that
# nothing is left behind: no monitor_bench process (an error), no more BPF programs or links than
# before (a warning only: other programs on the machine may load some meanwhile).
# Whatever happens, monitor_bench is stopped on exit (it kills and reaps all its processes).
#
# Environment (defaults in brackets; about 2 minutes with them, 8 with SEPARATE=yes):
#   DURATION   seconds each workload makes namespaces [5]
#   RATE       namespaces per second of the rate-limited workloads [1000]
#   LIFETIMES  lifetimes, us (exit at once) or e.g. 50ms, 1s ["us 50ms 1s"]
#   MODES      ["fork exec clone"]
#   MAX        also the as-fast-as-possible workloads, yes or no [yes]
#   DRAIN      seconds to wait for late events after each workload [3]
#   IDLE       seconds of idle CPU measurement [10]
#   SLEEPERS   extra sleeping processes during the run [1000]
#   WORKERS    processes making namespaces [4]
#   BACKENDS   [bpf,connector,poll,reference]
#   SEPARATE   yes: each backend alone, the idle measurement and workloads repeated for each
#              (about four times as long), so that no backend's cost slows another's; no: all
#              at the same time on the same workloads [no]
#   OUT        also write the table to this file
#   NSM_BASH   the bash tool's nsm script (hed0rah/namespaces-fun nsm/nsm): also run it as column
#              bash-nsm. Not part of this project and not fetched here; it forks several
#              programs per /proc link, so its scan of SLEEPERS processes takes many seconds and
#              loads a core: use few SLEEPERS and long DRAIN with it
#   MONITOR_BENCH  the program [BUILD_DIR/bench/monitor_bench]
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init compare_monitor "$@"

bench=${MONITOR_BENCH:-$build/bench/monitor_bench}
duration=${DURATION:-5}
rate=${RATE:-1000}
lifetimes=${LIFETIMES:-us 50ms 1s}
modes=${MODES:-fork exec clone}
max=${MAX:-yes}
drain=${DRAIN:-3}
idle=${IDLE:-10}
sleepers=${SLEEPERS:-1000}
workers=${WORKERS:-4}
backends=${BACKENDS:-bpf,connector,poll,reference}
separate=${SEPARATE:-no}

((EUID == 0)) || die "needs root (monitor_bench makes namespaces of every type)"
[[ -x $bench ]] || die "$bench: not built (cmake --build --preset ci --target nsfun_monitor_bench)"
[[ $max == yes || $max == no ]] || die "MAX must be yes or no, not '$max'"
[[ $separate == yes || $separate == no ]] || die "SEPARATE must be yes or no, not '$separate'"

workloads=
for mode in $modes; do
  for life in $lifetimes; do
    workloads+=${workloads:+,}$mode:$life:$rate
  done
done
if [[ $max == yes ]]; then
  for mode in $modes; do
    workloads+=${workloads:+,}$mode:us:max
  done
fi
[[ -n $workloads ]] || die "no workloads (MODES and LIFETIMES are empty)"

bpf_objects() {
  if command -v bpftool >/dev/null; then
    echo "$(bpftool prog show 2>/dev/null | grep -c '^[0-9]') programs," \
      "$(bpftool link show 2>/dev/null | grep -c '^[0-9]') links"
  else
    echo "(bpftool not installed)"
  fi
}

before=$(bpf_objects)
args=(--backends "$backends" --workloads "$workloads" --duration "$duration" --drain "$drain"
  --idle "$idle" --sleepers "$sleepers" --workers "$workers")
if [[ $separate == yes ]]; then
  args+=(--separate)
fi
if [[ -n ${NSM_BASH:-} ]]; then
  [[ -r $NSM_BASH ]] || die "NSM_BASH: $NSM_BASH: cannot read it"
  args+=(--bash-nsm "$NSM_BASH")
fi
args+=("${extra[@]}")
tmp=$(mktemp /tmp/compare_monitor.XXXXXX)
rc=0
bench_run "$bench" "${args[@]}" >"$tmp" || rc=$?

{
  echo "Reproduce: \`DURATION=$duration RATE=$rate LIFETIMES='$lifetimes' MODES='$modes' MAX=$max" \
    "DRAIN=$drain IDLE=$idle SLEEPERS=$sleepers WORKERS=$workers BACKENDS=$backends" \
    "SEPARATE=$separate" \
    "${NSM_BASH:+NSM_BASH=PATH_OF_BASH_NSM }bench/compare_monitor.sh BUILD_DIR${extra[*]:+ -- ${extra[*]}}\`  "
  bench_source include src
  cat "$tmp"
} | bench_emit
((rc == 0)) || die "monitor_bench exited with status $rc"

# The kernel frees a closed program or link a little later: give it up to 5 s.
after=$(bpf_objects)
for ((i = 0; i < 50; i++)); do
  [[ $after != "$before" ]] || break
  sleep 0.1
  after=$(bpf_objects)
done
left=$(pgrep -c -x monitor_bench || true)
echo
echo "Left behind: $left monitor_bench processes; BPF before: $before; after: $after."
if [[ $before != "$after" ]]; then
  echo "compare_monitor: warning: the BPF objects changed (by monitor_bench, or by another" \
    "program meanwhile: look with bpftool prog show)" >&2
fi
((left == 0)) || die "monitor_bench processes were left behind"
