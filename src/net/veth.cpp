// SPDX-License-Identifier: MIT
// nsfun::net – compiles <nsfun/net/impl/veth.ipp> into libnsfun_net (see <nsfun/config.hpp>).

#include <nsfun/net/impl/veth.ipp>
