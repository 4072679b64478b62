// SPDX-License-Identifier: MIT
// nsfun::net – compiles <nsfun/net/impl/events.ipp> into libnsfun_net (see <nsfun/config.hpp>).

#include <nsfun/net/impl/events.ipp>
