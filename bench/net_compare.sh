#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# net_compare.sh – the cheatsheet's network setup and teardown through nsfun
# (examples/net_cheatsheet) against the same end state reached by the `ip` command sequence,
# timed as whole processes side by side (bench/paired: paired rounds, medians). Needs root.
#
#   bench/net_compare.sh [BUILD_DIR]          default: build/ci
#
# Both sides run under the same wrapper, `unshare --mount --net --propagation private` plus a
# tmpfs on /run, so that neither the host's interfaces nor its /run/netns are touched, and the
# wrapper's cost is the same on both sides. The ip side is:
#
#   ip netns add NS; ip link add V0 type veth peer name V1; ip link set V1 netns NS
#   ip addr add 10.200.0.1/24 dev V0; ip -n NS addr add 10.200.0.2/24 dev V1
#   ip link set V0 up; ip -n NS link set V1 up; ip -n NS link set lo up
#   ip link del V0; ip netns del NS
#
# nsfun runs twice: creating the peer directly inside NS (same end state), and with --move (the
# recipe's literal create-then-move).
#
# Environment: NET_CHEATSHEET (default BUILD_DIR/examples/net_cheatsheet), RUNS (default 21).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$repo/build/ci}
paired=$build/bench/paired
example=${NET_CHEATSHEET:-$build/examples/net_cheatsheet}
runs=${RUNS:-21}

die() {
  echo "net_compare: $*" >&2
  exit 1
}

((EUID == 0)) || die "needs root (creates namespaces)"
[[ -x $example ]] || die "$example: not built (cmake --build --preset ci)"
for tool in ip unshare sh mount; do
  command -v "$tool" >/dev/null || die "$tool is not installed"
done

tmp=$(mktemp -d /tmp/net_compare.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# Each side is a small sh script, run as: unshare -m -n --propagation private sh SCRIPT.
cat >"$tmp/ip.sh" <<'SH'
mount -t tmpfs tmpfs /run &&
ip netns add nsftbench &&
ip link add nsftv0 type veth peer name nsftv1 &&
ip link set nsftv1 netns nsftbench &&
ip addr add 10.200.0.1/24 dev nsftv0 &&
ip -n nsftbench addr add 10.200.0.2/24 dev nsftv1 &&
ip link set nsftv0 up &&
ip -n nsftbench link set nsftv1 up &&
ip -n nsftbench link set lo up &&
ip link del nsftv0 &&
ip netns del nsftbench
SH
printf 'mount -t tmpfs tmpfs /run && exec %q --in-place --quiet\n' "$example" >"$tmp/nsfun.sh"
printf 'mount -t tmpfs tmpfs /run && exec %q --in-place --quiet --move\n' "$example" \
  >"$tmp/nsfun_move.sh"
# The wrapper alone: what both sides pay besides the recipe itself.
printf 'mount -t tmpfs tmpfs /run && exec true\n' >"$tmp/wrapper.sh"

wrap=(unshare --mount --net --propagation private -- sh)
for script in ip nsfun nsfun_move wrapper; do
  "${wrap[@]}" "$tmp/$script.sh" >/dev/null || die "$script.sh failed"
done

if [[ -x $paired ]]; then
  "$paired" --runs "$runs" -- "${wrap[@]}" "$tmp/ip.sh" ::: "${wrap[@]}" "$tmp/nsfun.sh" \
    ::: "${wrap[@]}" "$tmp/nsfun_move.sh" ::: "${wrap[@]}" "$tmp/wrapper.sh"
  exit 0
fi

# No paired tool: the same idea in shell (medians in ms).
now_ns() { date +%s%N; }
declare -A samples
for ((r = 0; r < runs; r++)); do
  for script in ip nsfun nsfun_move wrapper; do
    start=$(now_ns)
    "${wrap[@]}" "$tmp/$script.sh" >/dev/null 2>&1
    samples[$script]+="$((($(now_ns) - start) / 1000)) "
  done
done
median_ms() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]/1000}'; }
for script in ip nsfun nsfun_move wrapper; do
  printf '%-12s %8s ms\n' "$script" "$(median_ms "${samples[$script]}")"
done
