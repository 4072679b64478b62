// SPDX-License-Identifier: MIT
// nsfun – compiled once: seccomp filters (<nsfun/impl/seccomp.ipp>).
#include <nsfun/impl/seccomp.ipp>
