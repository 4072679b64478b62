// SPDX-License-Identifier: MIT
// nsfun – compiled once: the /proc scanner (<nsfun/impl/proc_scan.ipp>).
#include <nsfun/impl/proc_scan.ipp>
