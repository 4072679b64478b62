// SPDX-License-Identifier: MIT
// nsfun – compiled once: acquire() (<nsfun/impl/acquire.ipp>).
#include <nsfun/impl/acquire.ipp>
