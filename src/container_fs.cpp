// SPDX-License-Identifier: MIT
// nsfun – compiled once: the filesystem inside a container's new root
// (<nsfun/impl/container_fs.ipp>).
#include <nsfun/impl/container_fs.ipp>
