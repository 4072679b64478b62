#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# nsfun – install the Debian 12 packages the build and the tests need. Idempotent:
# installs only what is missing, and does nothing else to the machine.
set -euo pipefail

packages=(
  # toolchain
  g++ cmake make pkg-config clang-format clang-tidy
  # library dependencies
  libboost-dev libfmt-dev libmnl-dev libnftables-dev
  # spawn's container settings: capability sets and seccomp filters
  libcap-ng-dev libseccomp-dev
  # the BPF task iterator: compiled by clang, its light skeleton made by bpftool
  clang bpftool libbpf-dev
  # the fuzz targets (NSFUN_FUZZ): libFuzzer's runtime for clang 14 (only a Recommends of clang)
  libclang-rt-14-dev
  # nsm and tests
  libcli11-dev nlohmann-json3-dev doctest-dev libbenchmark-dev
  # tools the tests compare against or drive
  iproute2 util-linux procps strace uidmap busybox-static crun
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "setup-deps: all ${#packages[@]} packages present"
  exit 0
fi

if ((EUID != 0)); then
  echo "setup-deps: missing packages: ${missing[*]}; run as root to install them" >&2
  exit 1
fi

echo "setup-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup-deps: done"
