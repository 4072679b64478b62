// SPDX-License-Identifier: MIT
// nsfun – compiled once: named namespace sets (<nsfun/impl/named_set.ipp>).
#include <nsfun/impl/named_set.ipp>
