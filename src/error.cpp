// SPDX-License-Identifier: MIT
// nsfun – compiled once: errors (<nsfun/impl/error.ipp>).
#include <nsfun/impl/error.ipp>
