// SPDX-License-Identifier: MIT
// nsfun::net tests – helpers: fresh namespaces with an Rtnl, TCP/UDP round trips between them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include <nsfun/acquire.hpp>
#include <nsfun/net/net.hpp>
#include <nsfun/ns_fd.hpp>

#include "test_support.hpp"

namespace nsfun::net::test {

inline constexpr const char* no_netns = "needs CAP_SYS_ADMIN for new network namespaces";

/// A fresh network namespace, an Rtnl in it, and its lo up.
struct Ns {
  NetNs ns;
  Rtnl rtnl;
};

result<Ns> make_ns();

/// The outcome of a round trip: ok, what the server saw as the client's address, or why not.
struct Trip {
  bool ok = false;
  std::string peer;
  std::string why;
};

/// A TCP connection from a socket made in `client` to `server_ip`:`port` on a listener made in
/// `server`; one message each way. Gives up after `timeout_ms`.
Trip tcp_trip(const NetNs& client,
              const NetNs& server,
              const std::string& server_ip,
              std::uint16_t port,
              int timeout_ms = 3000);

/// A UDP datagram from `client` to `server_ip`:`port` in `server`, and one back.
Trip udp_trip(const NetNs& client,
              const NetNs& server,
              const std::string& server_ip,
              std::uint16_t port,
              int timeout_ms = 3000);

/// The names of the links in the namespace, sorted; a failed dump aborts the (forked) test.
std::vector<std::string> link_names(const Rtnl& rtnl);

/// True when `fmt::format("{}", e)` is `expected`; else prints both (child diagnostics).
bool text_is(const error& e, std::string_view expected);

/// True when `fmt::format("{}", e)` starts with `prefix` and ends with " (NOTE)", the note being
/// the kernel's (or nft's) non-empty words; else prints what it got.
bool text_is_with_note(const error& e, std::string_view prefix);

/// Prints a failed result's error (with the kernel's extack, its note) to stderr; for child
/// diagnostics.
void report(const char* what, const error& e);

/// A command prefix that runs what follows in `ns` (an fd of this process):
/// "nsenter --net=/proc/PID/fd/N".
std::string in_ns(const NetNs& ns);

/// Runs the shell command `command` (e.g. "ip -j link show") in `ns`; its status and what it
/// printed on stdout and stderr.
nsfun::test::CommandResult ip_in(const NetNs& ns, const std::string& command);

/// What `ip -j ARGS` prints in `ns`, parsed; null (and a message on stderr) when it fails or is
/// not JSON.
nlohmann::json ip_json(const NetNs& ns, const std::string& args);

}  // namespace nsfun::net::test

/// In a child: binds `var` to the value of a result, or prints the error and fails.
/// `var` may be a declaration (`auto link`), so it cannot be put in parentheses (the NOLINT).
#define NET_TRY(var, expr)                                                     \
  auto NSFUN_CONCAT(net_r_, __LINE__) = (expr);                                \
  if (!NSFUN_CONCAT(net_r_, __LINE__)) {                                       \
    ::nsfun::net::test::report(#expr, NSFUN_CONCAT(net_r_, __LINE__).error()); \
    return __LINE__ % 250 + 1;                                                 \
  }                                                                            \
  var = std::move(NSFUN_CONCAT(net_r_, __LINE__)).value()  // NOLINT(bugprone-macro-parentheses)
