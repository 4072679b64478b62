// SPDX-License-Identifier: MIT
// nsfun – compiled once: Snapshot, nsfs mounts, diff and isolation (<nsfun/impl/snapshot.ipp>).
#include <nsfun/impl/snapshot.ipp>
