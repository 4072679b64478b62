// SPDX-License-Identifier: MIT
// nsfun – compiled once: IdMap and UserMap (<nsfun/impl/user_map.ipp>).
#include <nsfun/impl/user_map.ipp>
