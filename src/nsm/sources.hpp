// SPDX-License-Identifier: MIT
// nsm – what nsm list shows beyond the snapshot: the network namespace ids (NETNSID).
#pragma once

#include <cstdint>
#include <optional>

#include <nsfun/snapshot.hpp>

namespace nsm::sources {

/// NETNSID of the network namespace `s` as the caller's network namespace knows it (what
/// `ip netns list-id` and lsns's NETNSID show), asked with RTM_GETNSID on an fd of it opened
/// the way the snapshot found it (lowest pid, bind mount, or holder's fd or socket: so also for
/// namespaces no process is in, as lsns 2.42). -1 (nsfun::net::nsid::unassigned, lsns's
/// "unassigned") when it has none; nothing when `s` is not a network namespace or cannot be
/// opened or asked.
[[nodiscard]] std::optional<std::int32_t> netnsid(const nsfun::NsSummary& s);

}  // namespace nsm::sources
