// SPDX-License-Identifier: MIT
// nsfun::net – namespace ids (NETNSID): the number by which one network namespace knows another
// (ip netns set / ip netns list-id, lsns's NETNSID column, link-netnsid in ip link).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

#include <nsfun/config.hpp>
#include <nsfun/error.hpp>
#include <nsfun/namespace.hpp>
#include <nsfun/net/rtnl.hpp>
#include <nsfun/ns_fd.hpp>

namespace nsfun::net::nsid {

/// What get() returns for a namespace that has no id where it was asked
/// (NETNSA_NSID_NOT_ASSIGNED; `lsns` prints "unassigned").
inline constexpr std::int32_t unassigned = -1;

/// What set() takes to let the kernel choose the id (`ip netns set NAME auto`).
inline constexpr std::int32_t automatic = -1;

/// The id network namespace `peer` has in the namespace of `rtnl`: what `ip netns list-id`
/// lists there, and lsns's NETNSID column (RTM_GETNSID with NETNSA_FD). nsid::unassigned when it
/// has none. The kernel assigns ids lazily, e.g. when a veth end moves between the two.
/// Wraps: RTM_GETNSID, https://man7.org/linux/man-pages/man7/rtnetlink.7.html
/// Errors: std::errc::bad_file_descriptor (empty `rtnl` or `peer`), naming the peer:
/// "RTM_GETNSID of net:[4026532301]: Bad file descriptor".
[[nodiscard]] result<std::int32_t> get(const Rtnl& rtnl, const NetNs& peer) noexcept;

/// The id the network namespace of process `pid` has in the namespace of `rtnl`
/// (NETNSA_PID). Errors: std::errc::no_such_process ("RTM_GETNSID of pid 42: No such process").
[[nodiscard]] result<std::int32_t> get(const Rtnl& rtnl, pid_t pid) noexcept;

/// Gives `peer` the id `id` in the namespace of `rtnl` (`ip netns set NAME ID` run there), or
/// lets the kernel choose one (nsid::automatic). Returns the id `peer` has afterwards. An id
/// once assigned stays until either namespace is gone.
/// Wraps: RTM_NEWNSID. Needs: CAP_NET_ADMIN in the user namespace owning rtnl's namespace.
/// Errors, with the kernel's extack text as the note: std::errc::file_exists (`peer` already
/// has an id: "RTM_NEWNSID 7 for net:[4026532301]: File exists (Peer netns already has a nsid
/// assigned)"; or `id` is taken: "(The specified nsid is already used)"),
/// std::errc::invalid_argument (an id below -1, refused before asking the kernel),
/// std::errc::operation_not_permitted.
[[nodiscard]] result<std::int32_t> set(const Rtnl& rtnl,
                                       const NetNs& peer,
                                       std::int32_t id) noexcept;

/// One id of the namespace of an Rtnl (a line of `ip netns list-id`).
struct Entry {
  std::int32_t id = unassigned;
  /// The namespace the id stands for, where it could be found: a namespace pinned under
  /// /run/netns or one of the candidates given to list(). The kernel's dump says only the id.
  std::optional<Namespace> peer;
  /// The name under /run/netns that pins `peer` (what `ip netns list-id` prints as
  /// "iproute2 netns name"); empty when none does.
  std::string name;
};

/// Every id the namespace of `rtnl` has given to other namespaces (`ip netns list-id`), by id,
/// each with its peer and name where one of the namespaces pinned under /run/netns (as ip looks
/// them up) has it.
/// Wraps: RTM_GETNSID dump, then RTM_GETNSID with NETNSA_FD for each pinned namespace.
/// Errors name the namespace ("RTM_GETNSID dump in net:[4026532301]: …"); a pin that cannot be
/// opened is skipped (its peer stays unknown), as ip skips it.
[[nodiscard]] result<std::vector<Entry>> list(const Rtnl& rtnl) noexcept;

/// The same, and each of `candidates` (e.g. the namespaces a Snapshot found) is asked for its
/// id too, so that ids of unpinned namespaces get their peer.
[[nodiscard]] result<std::vector<Entry>> list(const Rtnl& rtnl,
                                              const std::vector<NetNs>& candidates) noexcept;

}  // namespace nsfun::net::nsid

#ifdef NSFUN_HEADER_ONLY
#  include <nsfun/net/impl/nsid.ipp>
#endif
