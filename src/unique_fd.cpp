// SPDX-License-Identifier: MIT
// nsfun – compiled once: UniqueFd (<nsfun/impl/unique_fd.ipp>) and pidfds (<nsfun/impl/pidfd.ipp>).
#include <nsfun/impl/pidfd.ipp>
#include <nsfun/impl/unique_fd.ipp>
