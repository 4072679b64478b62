// SPDX-License-Identifier: MIT
// nsm – NETNSID for nsm list (to be implemented: issue 14).

#include "sources.hpp"

namespace nsm::sources {

std::optional<std::int32_t> netnsid(const nsfun::NsSummary& /*s*/) {
  return std::nullopt;
}

}  // namespace nsm::sources
