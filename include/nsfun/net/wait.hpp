// SPDX-License-Identifier: MIT
// nsfun::net – waiting for a link to reach a state (running, up, down, removed), on link events
// rather than by polling.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

#include <nsfun/config.hpp>
#include <nsfun/error.hpp>
#include <nsfun/net/events.hpp>
#include <nsfun/net/link.hpp>
#include <nsfun/net/oper_state.hpp>

namespace nsfun::net {

class Veth;  // <nsfun/net/veth.hpp>, which includes this header for VethOptions

/// A state of a link that wait_until() can wait for.
enum class LinkState : std::uint8_t {
  running,      ///< usable: operstate up, or (lo, dummy: operstate unknown) IFF_UP with carrier
  not_running,  ///< the opposite of running (down, no carrier, lower layer down)
  up,           ///< administratively up (IFF_UP), whatever the carrier
  down,         ///< administratively down
  removed,      ///< gone from the namespace (deleted, or moved to another namespace)
};

/// "running", "not running", "up", "down", "removed".
[[nodiscard]] constexpr std::string_view to_string(LinkState s) noexcept {
  switch (s) {
    case LinkState::running:
      return "running";
    case LinkState::not_running:
      return "not running";
    case LinkState::up:
      return "up";
    case LinkState::down:
      return "down";
    case LinkState::removed:
      return "removed";
  }
  return "?";
}

/// Waits until `link` is in `state`, for up to `timeout` (0: only check now; negative: no
/// limit), and returns the link as it then is (for removed: as the last notification showed
/// it). It subscribes to the namespace's link events first, then reads the link's current state
/// (RTM_GETLINK), then waits on events: it returns as soon as the kernel reports the change,
/// with no polling loop and no change missed in between. Costs a netlink socket for the call.
///
/// **Example** (the two-namespace TCP test that no longer stalls in connect):
///
///     NSFUN_TRYV(veth.first().set_up());
///     NSFUN_TRYV(veth.peer().set_up());
///     NSFUN_TRY(auto l, nsfun::net::wait_until(veth.peer(), nsfun::net::LinkState::running,
///                                              std::chrono::seconds(2)));
///
/// Errors name the link and the state waited for: std::errc::timed_out with the time and the
/// last state seen as the note ("wait for nsft0 running: Connection timed out (after 2000 ms,
/// state lowerlayerdown)"); std::errc::no_such_device when the link is gone (or goes while
/// waiting: "… (removed while waiting)"); those of NetEvents::open() and RTM_GETLINK.
[[nodiscard]] result<LinkEvent> wait_until(const Link& link,
                                           LinkState state,
                                           std::chrono::milliseconds timeout) noexcept;

/// Waits until `link`'s operational state (IFLA_OPERSTATE) is `state`, as above
/// ("wait for nsft0 up: Connection timed out (after 2000 ms, state lowerlayerdown)").
[[nodiscard]] result<LinkEvent> wait_until(const Link& link,
                                           OperState state,
                                           std::chrono::milliseconds timeout) noexcept;

/// Waits until both ends of `veth` are running, within `timeout` for the two together (set them
/// up first: a veth end runs once both are up). Errors: those of wait_until(), naming the end
/// that did not get there.
[[nodiscard]] result<void> wait_running(const Veth& veth,
                                        std::chrono::milliseconds timeout) noexcept;

}  // namespace nsfun::net

#ifdef NSFUN_HEADER_ONLY
#  include <nsfun/net/impl/wait.ipp>
#endif
