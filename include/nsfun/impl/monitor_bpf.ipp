// SPDX-License-Identifier: MIT
// nsfun – NsMonitor's bpf backend (included by <nsfun/impl/monitor.ipp>). Placeholder: not built
// yet.
#pragma once

#include <nsfun/detail/monitor_source.hpp>

namespace nsfun {

NSFUN_INLINE result<std::unique_ptr<detail::MonitorSource>> detail::open_bpf_source(
    const MonitorOptions& /*options*/) noexcept {
  return errno_error(EOPNOTSUPP, "start the bpf monitor");
}

}  // namespace nsfun
