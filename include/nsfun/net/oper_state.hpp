// SPDX-License-Identifier: MIT
// nsfun::net – OperState: a link's operational state (RFC 2863, IFLA_OPERSTATE, ip link's "state").
#pragma once

#include <cstdint>
#include <string_view>

namespace nsfun::net {

/// The operational state the kernel reports for a link (IFLA_OPERSTATE): whether it can carry
/// packets, as opposed to IFF_UP (the administrative state). The values are the kernel's
/// IF_OPER_* from <linux/if.h>, in their order: a value read from the kernel converts with
/// static_cast. `up` is what `ip link` shows as "state UP" and what a test waits for before
/// sending; a veth whose peer is down is `lowerlayerdown`, a dummy or loopback is `unknown`
/// while up (such drivers report no carrier changes).
enum class OperState : std::uint8_t {
  unknown,         ///< IF_OPER_UNKNOWN
  notpresent,      ///< IF_OPER_NOTPRESENT
  down,            ///< IF_OPER_DOWN
  lowerlayerdown,  ///< IF_OPER_LOWERLAYERDOWN
  testing,         ///< IF_OPER_TESTING
  dormant,         ///< IF_OPER_DORMANT
  up               ///< IF_OPER_UP
};

/// The name `ip link` prints for a state, upper case as in its output: "UNKNOWN", "NOTPRESENT",
/// "DOWN", "LOWERLAYERDOWN", "TESTING", "DORMANT", "UP"; "UNKNOWN" for a value out of range.
[[nodiscard]] constexpr std::string_view to_string(OperState s) noexcept {
  switch (s) {
    case OperState::notpresent:
      return "NOTPRESENT";
    case OperState::down:
      return "DOWN";
    case OperState::lowerlayerdown:
      return "LOWERLAYERDOWN";
    case OperState::testing:
      return "TESTING";
    case OperState::dormant:
      return "DORMANT";
    case OperState::up:
      return "UP";
    case OperState::unknown:
      break;
  }
  return "UNKNOWN";
}

}  // namespace nsfun::net
