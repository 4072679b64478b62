// SPDX-License-Identifier: MIT
// nsfun – compiled once: namespace types (<nsfun/impl/ns_type.ipp>) and identities
// (<nsfun/impl/namespace.ipp>).
#include <nsfun/impl/namespace.ipp>
#include <nsfun/impl/ns_type.ipp>
