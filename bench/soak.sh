#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# soak.sh – the soak and churn runs of issue 17, as a benchmark (not CI): whether nsm and the
# library keep fds, mounts, links, memory and processes flat over many cycles, and whether
# `nsm list` stays whole while namespaces come and go fast. Needs root.
#
#   bench/soak.sh [BUILD_DIR]          default BUILD_DIR: build/ci
#
# Three parts, each by bench/soak_driver (see there) in a private mount namespace with its own
# tmpfs on /run (unshare -m), so that the host's /run/nsm and /run/netns are never touched; the
# sets are named nsfun-test-soak-PID-I and use pid, net, uts and ipc namespaces:
#   nsm    CYCLES times nsm create NAME, nsm exec NAME -- true, nsm destroy NAME
#   lib    CYCLES times NamedSet::create, spawn `true` joined to its pins, NamedSet::destroy
#   churn  LIST_RUNS times `nsm list -J` (each must be JSON with namespaces) while WORKERS
#          processes fork children that unshare a namespace each and exit, as fast as they
#          can, and load_gen keeps LOAD sleepers (half in namespaces of their own)
# The result is a markdown table (stdout, and OUT when set) that starts with the command that
# reproduces it: per part the cycles, errors (and the first one), and before the first cycle ->
# after the first -> after the last: the driver's open fds, its mount table's lines, the host's
# network interfaces, the entries of /run/netns and /run/nsm, the driver's RSS and its live
# children (holders left behind). The first cycle makes what stays for good (the self-bind of
# /run/netns that ip netns and nsfun make once). Exits 1 when a part had errors or something
# grew after the first cycle.
#
# Environment (defaults in brackets; about 10 minutes on 2 cores with them):
#   CYCLES     cycles of the nsm and lib parts [2000]
#   LIST_RUNS  nsm list runs of the churn part [300]
#   WORKERS    churn workers [2]
#   LOAD       load_gen's sleepers during the churn part, 0 for none [1000]
#   PARTS      ["nsm lib churn"]
#   OUT        also write the table to this file
#   SOAK_DRIVER, NSM, LOAD_GEN  the programs [BUILD_DIR/bench/soak_driver, BUILD_DIR/src/nsm/nsm,
#              BUILD_DIR/bench/load_gen]
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init soak "$@"

driver=${SOAK_DRIVER:-$build/bench/soak_driver}
nsm=${NSM:-$build/src/nsm/nsm}
load_gen=${LOAD_GEN:-$build/bench/load_gen}
cycles=${CYCLES:-2000}
list_runs=${LIST_RUNS:-300}
workers=${WORKERS:-2}
load=${LOAD:-1000}
parts=${PARTS:-nsm lib churn}

((EUID == 0)) || die "needs root (named sets pin namespaces with bind mounts)"
for n in "$cycles" "$list_runs" "$workers" "$load"; do
  [[ $n =~ ^[0-9]+$ ]] || die "CYCLES, LIST_RUNS, WORKERS and LOAD are numbers, not '$n'"
done
[[ -x $driver ]] || die "$driver: not built (cmake --build --preset ci --target nsfun_soak_driver)"
[[ -x $nsm ]] || die "$nsm: not built (cmake --build --preset ci --target nsm)"
if ((load > 0)); then
  [[ -x $load_gen ]] || die "$load_gen: not built (cmake --build --preset ci --target nsfun_load_gen)"
fi
command -v unshare >/dev/null || die "needs unshare (util-linux)"

# One part in its own private mount namespace with a fresh /run; prints the driver's line.
run_part() {
  local part=$1
  local args
  case $part in
  nsm) args=(nsm "$cycles" "$nsm") ;;
  lib) args=(lib "$cycles") ;;
  churn) args=(churn "$list_runs" "$nsm" "$workers") ;;
  *) die "unknown part '$part' (PARTS: nsm lib churn)" ;;
  esac
  if [[ $part == churn ]] && ((load > 0)); then
    args+=("$load_gen" "$load")
  fi
  # shellcheck disable=SC2016  # expanded by the inner shell
  unshare --mount --propagation private -- sh -c \
    'mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run && exec "$@"' soak "$driver" "${args[@]}"
}

tmp=$(mktemp /tmp/soak.XXXXXX)
failed=0
for part in $parts; do
  echo "soak: $part ..." >&2
  bench_run run_part "$part" >>"$tmp" || failed=1
  tail -1 "$tmp" >&2
done

{
  echo "Reproduce: \`CYCLES=$cycles LIST_RUNS=$list_runs WORKERS=$workers LOAD=$load" \
    "PARTS='$parts' bench/soak.sh BUILD_DIR\`  "
  bench_source include src bench
  echo "Machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end  "
  echo
  echo "| part | cycles | errors | fds | mounts | links | /run/netns | /run/nsm | RSS (kB) | children | seconds | forks |"
  echo "| --- | ---: | ---: | --- | --- | --- | --- | --- | --- | --- | ---: | ---: |"
  while read -r line; do
    declare -A f=()
    for kv in $line; do
      [[ $kv == *=* ]] && f[${kv%%=*}]=${kv#*=}
    done
    echo "| ${f[part]:-?} | ${f[cycles]:-?} | ${f[errors]:-?} | ${f[fds]:-?} | ${f[mounts]:-?} |" \
      "${f[links]:-?} | ${f[netns]:-?} | ${f[nsm]:-?} | ${f[rss_kb]:-?} | ${f[children]:-?} |" \
      "${f[seconds]:-?} | ${f[forks]:--} |"
    unset f
  done <"$tmp"
  grep -o 'first_error=.*' "$tmp" | sed 's/^first_error=/\nFirst error: /' || true
} | bench_emit
((failed == 0)) || die "a part had errors or left something behind (see the table)"
