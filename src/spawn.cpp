// SPDX-License-Identifier: MIT
// nsfun – compiled once: spawn()/Command/Child (<nsfun/impl/spawn.ipp>).
#include <nsfun/impl/spawn.ipp>
