// SPDX-License-Identifier: MIT
// nsm – what nsm list shows beyond the snapshot: the network namespace ids (NETNSID).
#pragma once

#include <cstdint>
#include <optional>

#include <nsfun/snapshot.hpp>

namespace nsm::sources {

/// NETNSID of the network namespace `s` as the caller's network namespace knows it (what
/// `ip netns list-id` and lsns's NETNSID show); nothing when it has none or `s` is not a
/// network namespace.
[[nodiscard]] std::optional<std::int32_t> netnsid(const nsfun::NsSummary& s);

}  // namespace nsm::sources
