// SPDX-License-Identifier: MIT
// nsfun – compiled once: capability sets (<nsfun/impl/capabilities.ipp>).
#include <nsfun/impl/capabilities.ipp>
