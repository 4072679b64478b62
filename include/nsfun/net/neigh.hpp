// SPDX-License-Identifier: MIT
// nsfun::net – neighbours: the ARP (IPv4) and NDP (IPv6) entries of links (ip neigh).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include <sys/socket.h>

#include <nsfun/config.hpp>
#include <nsfun/error.hpp>
#include <nsfun/net/address.hpp>
#include <nsfun/net/link.hpp>
#include <nsfun/net/rtnl.hpp>

namespace nsfun::net {

/// The state of a neighbour entry (the kernel's NUD_* values, `ip neigh … nud STATE`).
enum class NeighState : std::uint16_t {
  none = 0x00,        ///< NUD_NONE
  incomplete = 0x01,  ///< NUD_INCOMPLETE: being resolved
  reachable = 0x02,   ///< NUD_REACHABLE: confirmed recently
  stale = 0x04,       ///< NUD_STALE: usable, to be confirmed
  delay = 0x08,       ///< NUD_DELAY
  probe = 0x10,       ///< NUD_PROBE
  failed = 0x20,      ///< NUD_FAILED: resolution failed
  noarp = 0x40,       ///< NUD_NOARP: valid, never checked
  permanent = 0x80,   ///< NUD_PERMANENT: static, never expires
};

/// The state as `ip neigh` prints it: "PERMANENT", "REACHABLE", …; "NONE" for none and "" for
/// a value that is not one of the states.
[[nodiscard]] std::string_view to_string(NeighState state) noexcept;

/// Flags of a neighbour entry (the kernel's NTF_* values), for Neigh::flags.
namespace neigh_flag {
inline constexpr std::uint8_t use = 0x01;           ///< NTF_USE
inline constexpr std::uint8_t extern_learn = 0x10;  ///< NTF_EXT_LEARNED: added by a driver/daemon
inline constexpr std::uint8_t router = 0x80;        ///< NTF_ROUTER: an IPv6 router (ip … router)
}  // namespace neigh_flag

/// A neighbour entry: which link-layer address an IP address on a link has.
struct Neigh {
  IpAddress address;                 ///< the neighbour's IP address (NDA_DST); sets the family
  std::optional<MacAddress> lladdr;  ///< its MAC (NDA_LLADDR); none while incomplete or failed
  NeighState state = NeighState::permanent;
  std::uint8_t flags = 0;  ///< neigh_flag::*
  int index = 0;           ///< the link's index: filled by list_neighs(); add/replace take a Link

  friend bool operator==(const Neigh&, const Neigh&) = default;
};

/// ip neigh add ADDRESS lladdr MAC dev LINK nud STATE [router].
/// Wraps: RTM_NEWNEIGH with NLM_F_CREATE | NLM_F_EXCL. Needs: CAP_NET_ADMIN.
/// Errors name the entry in ip-neigh words, with the kernel's extended ack:
/// "RTM_NEWNEIGH 10.0.0.9 lladdr 02:00:00:00:00:09 on nsft0: File exists";
/// std::errc::file_exists (already there), std::errc::invalid_argument (an empty address:
/// refused before the kernel; a state the kernel refuses), std::errc::no_such_device.
[[nodiscard]] result<void> add_neigh(const Link& link, const Neigh& neigh) noexcept;

/// ip neigh replace: adds the entry or changes the one there (NLM_F_CREATE | NLM_F_REPLACE).
[[nodiscard]] result<void> replace_neigh(const Link& link, const Neigh& neigh) noexcept;

/// ip neigh del ADDRESS dev LINK. Wraps: RTM_DELNEIGH.
/// Errors: std::errc::no_such_file_or_directory (no such entry), named as for add_neigh().
[[nodiscard]] result<void> remove_neigh(const Link& link, const IpAddress& address) noexcept;

/// The neighbour entries of the namespace of `rtnl` (ip neigh show nud all): of one family
/// (AF_INET, AF_INET6, or AF_UNSPEC for both) and, when `index` is not 0, of that link only.
/// Every state is listed, NUD_NOARP included (`ip neigh show` hides those); proxy entries
/// (ip neigh … proxy) are not.
/// Wraps: RTM_GETNEIGH dump. Errors name the namespace ("RTM_GETNEIGH dump in net:[…]: …").
[[nodiscard]] result<std::vector<Neigh>> list_neighs(const Rtnl& rtnl,
                                                     int family = AF_UNSPEC,
                                                     int index = 0) noexcept;

/// The neighbour entries of one link (ip neigh show dev LINK nud all).
[[nodiscard]] result<std::vector<Neigh>> neighs(const Link& link, int family = AF_UNSPEC) noexcept;

}  // namespace nsfun::net

#ifdef NSFUN_HEADER_ONLY
#  include <nsfun/net/impl/neigh.ipp>
#endif
