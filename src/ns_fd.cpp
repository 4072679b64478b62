// SPDX-License-Identifier: MIT
// nsfun – compiled once: NsFd and NsFdSet (<nsfun/impl/ns_fd.ipp>).
#include <nsfun/impl/ns_fd.ipp>
