// SPDX-License-Identifier: MIT
// nsfun::net – compiles <nsfun/net/impl/wait.ipp> into libnsfun_net (see <nsfun/config.hpp>).

#include <nsfun/net/impl/wait.ipp>
