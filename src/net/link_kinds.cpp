// SPDX-License-Identifier: MIT
// nsfun::net – compiles <nsfun/net/impl/link_kinds.ipp> into libnsfun_net (see <nsfun/config.hpp>).

#include <nsfun/net/impl/link_kinds.ipp>
