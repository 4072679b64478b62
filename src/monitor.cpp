// SPDX-License-Identifier: MIT
// nsfun – compiled once: NsMonitor and its backends (<nsfun/impl/monitor.ipp>).
#include <nsfun/impl/monitor.ipp>
