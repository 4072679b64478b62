// SPDX-License-Identifier: MIT
// nsfun::net – compiles <nsfun/net/impl/tun.ipp> into libnsfun_net (see <nsfun/config.hpp>).

#include <nsfun/net/impl/tun.ipp>
