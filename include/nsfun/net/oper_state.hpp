// SPDX-License-Identifier: MIT
// nsfun::net – OperState, a link's operational state (RFC 2863, IFLA_OPERSTATE, `ip link`'s
// "state UP").
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace nsfun::net {

/// The operational state of a link (IFLA_OPERSTATE, the kernel's IF_OPER_*; RFC 2863): whether
/// it can carry packets, which is more than being administratively up (IFF_UP). A veth end is
/// `lowerlayerdown` while its peer is down, a bridge `down` without a running port; virtual
/// devices without a carrier notion (lo, dummy) say `unknown` and are usable when up.
/// Values are the kernel's.
enum class OperState : std::uint8_t {
  unknown = 0,         ///< IF_OPER_UNKNOWN: the driver does not say (lo, dummy, tun)
  notpresent = 1,      ///< IF_OPER_NOTPRESENT
  down = 2,            ///< IF_OPER_DOWN: administratively down, or no carrier
  lowerlayerdown = 3,  ///< IF_OPER_LOWERLAYERDOWN: the device it runs over is down (veth peer)
  testing = 4,         ///< IF_OPER_TESTING
  dormant = 5,         ///< IF_OPER_DORMANT: waiting for an external event (802.1X, …)
  up = 6,              ///< IF_OPER_UP: usable
};

namespace detail {

inline constexpr std::array<std::string_view, 7> oper_state_names{
    "unknown", "notpresent", "down", "lowerlayerdown", "testing", "dormant", "up"};

}  // namespace detail

/// "up", "lowerlayerdown", … (lower case; `ip link` prints the same words in upper case).
[[nodiscard]] constexpr std::string_view to_string(OperState s) noexcept {
  auto i = static_cast<std::size_t>(s);
  return i < detail::oper_state_names.size() ? detail::oper_state_names[i] : "?";
}

/// The state for a raw IFLA_OPERSTATE value, or nothing for a value the kernel does not define.
[[nodiscard]] constexpr std::optional<OperState> oper_state_from(std::uint8_t raw) noexcept {
  if (raw < detail::oper_state_names.size()) {
    return static_cast<OperState>(raw);
  }
  return std::nullopt;
}

/// Parses "up", "UP", "lowerlayerdown", … (as to_string() and `ip link` print them).
[[nodiscard]] constexpr std::optional<OperState> parse_oper_state(std::string_view text) noexcept {
  for (std::size_t i = 0; i < detail::oper_state_names.size(); ++i) {
    std::string_view n = detail::oper_state_names[i];
    if (n.size() != text.size()) {
      continue;
    }
    bool same = true;
    for (std::size_t j = 0; j < n.size() && same; ++j) {
      char c = text[j];
      if (c >= 'A' && c <= 'Z') {
        c = static_cast<char>(c - 'A' + 'a');
      }
      same = c == n[j];
    }
    if (same) {
      return static_cast<OperState>(i);
    }
  }
  return std::nullopt;
}

}  // namespace nsfun::net
