// SPDX-License-Identifier: MIT
// nsfun – compiled once: cgroup v2 directories (<nsfun/impl/cgroup.ipp>).
#include <nsfun/impl/cgroup.ipp>
