// SPDX-License-Identifier: MIT
// nsfun::net tests – helpers.

#include "net_test_helpers.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <netinet/in.h>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include <nsfun/enter.hpp>
#include <nsfun/format.hpp>

namespace nsfun::net::test {

result<Ns> make_ns() {
  NSFUN_TRY(auto ns, acquire<NsType::net>());
  NSFUN_TRY(auto rtnl, Rtnl::open(ns));
  NSFUN_TRY(auto lo, Link::by_name(rtnl, "lo"));
  NSFUN_TRYV(lo.set_up());
  return Ns{std::move(ns), std::move(rtnl)};
}

namespace {

// A socket made on a thread inside `ns`: it belongs to that namespace for good.
UniqueFd socket_in(const NetNs& ns, int type) {
  auto fd = run_in(ns, [type]() -> result<UniqueFd> {
    int raw = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
    if (raw < 0) {
      return errno_error(errno, "socket");
    }
    return UniqueFd::adopt(raw);
  });
  return fd ? std::move(fd).value() : UniqueFd();
}

sockaddr_in sockaddr_of(const std::string& ip, std::uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  ::inet_pton(AF_INET, ip.c_str(), &sa.sin_addr);
  return sa;
}

std::string ip_of(const sockaddr_in& sa) {
  char buf[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &sa.sin_addr, buf, sizeof(buf));
  return buf;
}

bool wait_for(int fd, short events, int timeout_ms) {
  pollfd p{fd, events, 0};
  return ::poll(&p, 1, timeout_ms) == 1;
}

Trip fail(const char* why) {
  Trip t;
  t.why = std::string(why) + ": " + std::strerror(errno);
  return t;
}

}  // namespace

Trip tcp_trip(const NetNs& client,
              const NetNs& server,
              const std::string& server_ip,
              std::uint16_t port,
              int timeout_ms) {
  UniqueFd listener = socket_in(server, SOCK_STREAM);
  UniqueFd conn = socket_in(client, SOCK_STREAM | SOCK_NONBLOCK);
  if (!listener || !conn) {
    return fail("socket");
  }
  int one = 1;
  ::setsockopt(listener.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in sa = sockaddr_of(server_ip, port);
  if (::bind(listener.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof(sa)) < 0 ||
      ::listen(listener.get(), 4) < 0) {
    return fail("bind/listen");
  }
  if (::connect(conn.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof(sa)) < 0 &&
      errno != EINPROGRESS) {
    return fail("connect");
  }
  if (!wait_for(listener.get(), POLLIN, timeout_ms)) {
    errno = ETIMEDOUT;
    return fail("accept");
  }
  sockaddr_in peer{};
  socklen_t peer_len = sizeof(peer);
  int accepted_raw =
      ::accept4(listener.get(), reinterpret_cast<sockaddr*>(&peer), &peer_len, SOCK_CLOEXEC);
  if (accepted_raw < 0) {
    return fail("accept");
  }
  UniqueFd accepted = UniqueFd::adopt(accepted_raw);
  if (!wait_for(conn.get(), POLLOUT, timeout_ms) || ::send(conn.get(), "ping", 4, 0) != 4) {
    return fail("send ping");
  }
  char buf[8] = {};
  if (!wait_for(accepted.get(), POLLIN, timeout_ms) || ::recv(accepted.get(), buf, 4, 0) != 4 ||
      std::memcmp(buf, "ping", 4) != 0) {
    return fail("recv ping");
  }
  if (::send(accepted.get(), "pong", 4, 0) != 4) {
    return fail("send pong");
  }
  if (!wait_for(conn.get(), POLLIN, timeout_ms) || ::recv(conn.get(), buf, 4, 0) != 4 ||
      std::memcmp(buf, "pong", 4) != 0) {
    return fail("recv pong");
  }
  Trip t;
  t.ok = true;
  t.peer = ip_of(peer);
  return t;
}

Trip udp_trip(const NetNs& client,
              const NetNs& server,
              const std::string& server_ip,
              std::uint16_t port,
              int timeout_ms) {
  UniqueFd srv = socket_in(server, SOCK_DGRAM);
  UniqueFd cli = socket_in(client, SOCK_DGRAM);
  if (!srv || !cli) {
    return fail("socket");
  }
  sockaddr_in sa = sockaddr_of(server_ip, port);
  if (::bind(srv.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof(sa)) < 0) {
    return fail("bind");
  }
  if (::sendto(cli.get(), "ping", 4, 0, reinterpret_cast<const sockaddr*>(&sa), sizeof(sa)) != 4) {
    return fail("sendto");
  }
  char buf[8] = {};
  sockaddr_in peer{};
  socklen_t peer_len = sizeof(peer);
  if (!wait_for(srv.get(), POLLIN, timeout_ms) ||
      ::recvfrom(srv.get(), buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&peer), &peer_len) !=
          4 ||
      std::memcmp(buf, "ping", 4) != 0) {
    return fail("recvfrom ping");
  }
  if (::sendto(srv.get(), "pong", 4, 0, reinterpret_cast<const sockaddr*>(&peer), peer_len) != 4) {
    return fail("sendto pong");
  }
  if (!wait_for(cli.get(), POLLIN, timeout_ms) || ::recv(cli.get(), buf, sizeof(buf), 0) != 4 ||
      std::memcmp(buf, "pong", 4) != 0) {
    return fail("recv pong");
  }
  Trip t;
  t.ok = true;
  t.peer = ip_of(peer);
  return t;
}

std::vector<std::string> link_names(const Rtnl& rtnl) {
  std::vector<std::string> names;
  auto links = Link::list(rtnl);
  if (!links) {
    // An empty list would pass every "is gone" check: a failed dump ends the (forked) test.
    std::fprintf(stderr, "child check failed: Link::list: %s\n", links.error().message().c_str());
    std::abort();
  }
  for (const auto& l : links.value()) {
    names.push_back(l.name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

bool text_is(const error& e, std::string_view expected) {
  std::string text = fmt::format("{}", e);
  if (text != expected) {
    std::fprintf(stderr, "error text:\n  got      '%s'\n  expected '%.*s'\n", text.c_str(),
                 static_cast<int>(expected.size()), expected.data());
    return false;
  }
  return true;
}

bool text_is_with_note(const error& e, std::string_view prefix) {
  std::string text = fmt::format("{}", e);
  std::string note(e.note());
  bool ok = !note.empty() && text.rfind(prefix, 0) == 0 && text.size() >= prefix.size() &&
            text.substr(prefix.size()) == " (" + note + ")";
  if (!ok) {
    std::fprintf(stderr, "error text:\n  got      '%s'\n  expected '%.*s (<kernel's words>)'\n",
                 text.c_str(), static_cast<int>(prefix.size()), prefix.data());
  }
  return ok;
}

void report(const char* what, const error& e) {
  std::fprintf(stderr, "child check failed: %s: %s\n", what, e.message().c_str());
}

std::string in_ns(const NetNs& ns) {
  return "nsenter --net=/proc/" + std::to_string(::getpid()) + "/fd/" + std::to_string(ns.get());
}

nsfun::test::CommandResult ip_in(const NetNs& ns, const std::string& command) {
  return nsfun::test::run(in_ns(ns) + " " + command + " 2>&1");
}

nlohmann::json ip_json(const NetNs& ns, const std::string& args) {
  auto out = nsfun::test::run(in_ns(ns) + " ip -j " + args);
  nlohmann::json j = nlohmann::json::parse(out.out, nullptr, /*allow_exceptions=*/false);
  if (out.status != 0 || j.is_discarded()) {
    std::fprintf(stderr, "ip -j %s: status %d, '%s'\n", args.c_str(), out.status, out.out.c_str());
    return nlohmann::json();
  }
  return j;
}

}  // namespace nsfun::net::test
