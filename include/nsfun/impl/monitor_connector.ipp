// SPDX-License-Identifier: MIT
// nsfun – NsMonitor's connector backend (included by <nsfun/impl/monitor.ipp>). Placeholder: not
// built yet.
#pragma once

#include <nsfun/detail/monitor_source.hpp>

namespace nsfun {

NSFUN_INLINE result<std::unique_ptr<detail::MonitorSource>> detail::open_connector_source(
    const MonitorOptions& /*options*/) noexcept {
  return errno_error(EOPNOTSUPP, "start the connector monitor");
}

}  // namespace nsfun
