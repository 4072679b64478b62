// SPDX-License-Identifier: MIT
// nsfun – compiled once: time namespace offsets (<nsfun/impl/time_ns.ipp>).
#include <nsfun/impl/time_ns.ipp>
