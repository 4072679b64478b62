#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# compare_links.sh – creating N links (default 1,000) with one IPv4 address each inside a fresh
# network namespace (issue 19): nsfun's batch (bench/links_bench: OwnedLinks, i.e. RtnlBatch)
# against `ip -batch` (one ip process reading a file of 2N commands, iproute2's fastest path)
# and against one `ip` process per command (2N of them, run by sh), side by side in one run
# (bench/paired: rounds in rotating order, medians, per-round ratios). Also nsfun without
# batching (--mode single: three round trips per link). Needs root.
#
#   bench/compare_links.sh [BUILD_DIR]          default: build/ci
#
# Every run gets a namespace of its own from `paired --sandbox` (new network and mount
# namespaces, a tmpfs on /run), timed from the moment it exists until the command is reaped;
# the namespace (and the links in it) is destroyed afterwards, outside the timed part, for
# every command alike. All sides make the same end state, which the script checks once per
# side before timing: links nsftb0 … nsftb(N-1) of kind KIND with 10.(100 + i / 256).(i % 256).1/24.
#
# KIND is "dummy", the issue's; on a kernel built without CONFIG_DUMMY the script says so and
# uses "ifb" (the same shape of device: no peer, no parent) for every side.
#
# Environment: N (default 1000), RUNS (default 7), WARMUP (default 1), KIND (default: dummy,
# else ifb), LINKS_BENCH (default BUILD_DIR/bench/links_bench), OUT (also write the table there).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$repo/build/ci}
paired=$build/bench/paired
bench=${LINKS_BENCH:-$build/bench/links_bench}
n=${N:-1000}
runs=${RUNS:-7}
warmup=${WARMUP:-1}

die() {
  echo "compare_links: $*" >&2
  exit 1
}

((EUID == 0)) || die "needs root (creates network namespaces and links)"
if ! [[ $n =~ ^[0-9]+$ ]] || ((n < 1 || n > 65536)); then
  die "N must be in 1..65536, not '$n'"
fi
[[ -x $bench ]] || die "$bench: not built (cmake --build --preset ci --target nsfun_links_bench)"
[[ -x $paired ]] || die "$paired: not built (cmake --build --preset ci --target nsfun_paired)"
for tool in ip unshare; do
  command -v "$tool" >/dev/null || die "$tool is not installed"
done

kind=${KIND:-}
if [[ -z $kind ]]; then
  if unshare -n ip link add nsftprobe type dummy 2>/dev/null; then
    kind=dummy
  else
    kind=ifb
    echo "compare_links: this kernel has no dummy links (CONFIG_DUMMY); every side uses ifb" >&2
  fi
fi

tmp=$(mktemp -d /tmp/compare_links.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# The same 2N commands: as an ip -batch file, and as a script running one ip per command.
for ((i = 0; i < n; i++)); do
  printf 'link add nsftb%d type %s\naddr add 10.%d.%d.1/24 dev nsftb%d\n' \
    "$i" "$kind" $((100 + i / 256)) $((i % 256)) "$i"
done >"$tmp/commands"
sed 's/^/ip /' "$tmp/commands" >"$tmp/per_command.sh"

# The end state, once per side, in a namespace of its own.
# shellcheck disable=SC2016  # expanded by the sh inside the namespace
count='echo "$(ip -o link show type '"$kind"' | grep -c " nsftb") links, $(ip -o -4 addr show | grep -c " inet 10\.") addresses"'
expect="$n links, $n addresses"
for side in "ip -batch $tmp/commands" "sh -e $tmp/per_command.sh" "$bench --count $n --kind $kind" \
  "$bench --count $n --kind $kind --mode single"; do
  got=$(unshare -n sh -c "$side >/dev/null && $count")
  [[ $got == "$expect" ]] || die "$side: made $got, not $expect"
done
echo "compare_links: every side makes $expect ($kind)" >&2

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs" >&2
"$paired" --sandbox --runs "$runs" --warmup "$warmup" -- \
  "$bench" --count "$n" --kind "$kind" ::: \
  ip -batch "$tmp/commands" ::: \
  sh -e "$tmp/per_command.sh" ::: \
  "$bench" --count "$n" --kind "$kind" --mode single | tee "$tmp/table"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
if [[ -n ${OUT:-} ]]; then
  cp "$tmp/table" "$OUT"
fi
