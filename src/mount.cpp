// SPDX-License-Identifier: MIT
// nsfun – compiled once: mount helpers (<nsfun/impl/mount.ipp>).
#include <nsfun/impl/mount.ipp>
