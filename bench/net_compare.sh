#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# net_compare.sh – the cheatsheet's network setup and teardown through nsfun
# (examples/net_cheatsheet) against the same end state reached by the `ip` command sequence,
# timed as whole processes side by side (bench/paired: paired rounds, medians). Needs root.
#
#   bench/net_compare.sh [BUILD_DIR]          default: build/ci
#
# Every run gets a sandbox of its own from `paired --sandbox` (new network and mount namespaces,
# a tmpfs on /run), so neither side touches the host's interfaces or /run/netns, and both pay the
# same for it. The ip side is the cheatsheet's sequence, as a shell script:
#
#   ip netns add NS; ip link add V0 type veth peer name V1; ip link set V1 netns NS
#   ip addr add 10.200.0.1/24 dev V0; ip -n NS addr add 10.200.0.2/24 dev V1
#   ip link set V0 up; ip -n NS link set V1 up; ip -n NS link set lo up
#   ip netns del NS          (the kernel then destroys the namespace and the pair with it)
#
# nsfun runs the same recipe in one process: with the peer created directly inside NS (same end
# state), and with --move (the recipe's literal create-then-move). A second pair of rows adds
# `ip link del V0` before the namespace delete on both sides (nsfun: --delete-link), which waits
# for the kernel to finish destroying the pair.
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
[[ -x $paired ]] || die "$paired: not built (cmake --build --preset ci)"
command -v ip >/dev/null || die "ip is not installed"

tmp=$(mktemp -d /tmp/net_compare.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

setup='ip netns add nsftbench &&
ip link add nsftv0 type veth peer name nsftv1 &&
ip link set nsftv1 netns nsftbench &&
ip addr add 10.200.0.1/24 dev nsftv0 &&
ip -n nsftbench addr add 10.200.0.2/24 dev nsftv1 &&
ip link set nsftv0 up &&
ip -n nsftbench link set nsftv1 up &&
ip -n nsftbench link set lo up &&'
printf '%s\nip netns del nsftbench\n' "$setup" >"$tmp/ip.sh"
printf '%s\nip link del nsftv0 &&\nip netns del nsftbench\n' "$setup" >"$tmp/ip_link_del.sh"

"$paired" --sandbox --runs "$runs" -- \
  sh "$tmp/ip.sh" ::: \
  "$example" --in-place --quiet ::: \
  "$example" --in-place --quiet --move ::: \
  sh "$tmp/ip_link_del.sh" ::: \
  "$example" --in-place --quiet --delete-link ::: \
  true
