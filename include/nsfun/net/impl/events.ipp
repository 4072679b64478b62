// SPDX-License-Identifier: MIT
// nsfun::net – NetEvents and EventWatch: the implementation (see <nsfun/config.hpp>). The
// subscription socket, decoding RTM_NEW*/RTM_DEL* notifications with libmnl, the watch thread.
#pragma once

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <new>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <utility>

#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nsfun/config.hpp>
#include <nsfun/enter.hpp>
#include <nsfun/error.hpp>
#include <nsfun/net/detail/decode.hpp>
#include <nsfun/net/detail/nl.hpp>
#include <nsfun/net/events.hpp>

namespace nsfun::net {

namespace detail {

// Big enough for any one notification (a link with many attributes is a few KiB).
inline constexpr std::size_t events_recv_buffer_size = 64 * 1024;

// What open() asks for: bursts (a thousand links made at once) fit without an overrun.
inline constexpr int events_default_receive_buffer = 1024 * 1024;

inline constexpr unsigned rtnl_group_of(EventGroup g) noexcept {
  switch (g) {
    case EventGroup::link:
      return RTNLGRP_LINK;
    case EventGroup::ipv4_address:
      return RTNLGRP_IPV4_IFADDR;
    case EventGroup::ipv6_address:
      return RTNLGRP_IPV6_IFADDR;
    case EventGroup::ipv4_route:
      return RTNLGRP_IPV4_ROUTE;
    case EventGroup::ipv6_route:
      return RTNLGRP_IPV6_ROUTE;
    case EventGroup::neighbour:
      return RTNLGRP_NEIGH;
  }
  return RTNLGRP_NONE;
}

inline constexpr EventGroup all_event_groups[] = {
    EventGroup::link,       EventGroup::ipv4_address, EventGroup::ipv6_address,
    EventGroup::ipv4_route, EventGroup::ipv6_route,   EventGroup::neighbour};

inline result<UniqueFd> events_socket(EventGroups groups) noexcept {
  int raw = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
  if (raw < 0) {
    return errno_error(errno, "subscribe");
  }
  UniqueFd fd = UniqueFd::adopt(raw);  // owns: just created
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&local), sizeof(local)) < 0) {
    return errno_error(errno, "subscribe").with_note("bind");
  }
  for (EventGroup g : all_event_groups) {
    if (!groups.has(g)) {
      continue;
    }
    unsigned group = rtnl_group_of(g);
    if (::setsockopt(fd.get(), SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0) {
      return errno_error(errno, "subscribe").with_note("NETLINK_ADD_MEMBERSHIP ", group);
    }
  }
  return fd;
}

// Sets SO_RCVBUFFORCE (beyond rmem_max, with CAP_NET_ADMIN), else SO_RCVBUF.
inline result<void> set_rcvbuf(int fd, int bytes) noexcept {
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)) == 0) {
    return success();
  }
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes)) < 0) {
    return errno_error(errno, "setsockopt SO_RCVBUF").on(bytes, " bytes");
  }
  return success();
}

// Names the namespace an events error is about: "recv events in net:[4026532301]".
inline error on_events_ns(error e, const NetNs& ns) noexcept {
  if (e.object().empty() && ns) {
    e.on("in net:[", ns.identity().ino(), "]");
  }
  return e;
}

// Milliseconds left until `deadline` for poll(2): -1 for no deadline, at least 0.
inline int poll_ms_left(
    const std::optional<std::chrono::steady_clock::time_point>& deadline) noexcept {
  if (!deadline) {
    return -1;
  }
  auto left =
      std::chrono::ceil<std::chrono::milliseconds>(*deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0) {
    return 0;
  }
  return left.count() > 1'000'000'000 ? 1'000'000'000 : static_cast<int>(left.count());
}

}  // namespace detail

NSFUN_INLINE bool LinkEvent::is_up() const noexcept {
  return (flags & IFF_UP) != 0;
}

NSFUN_INLINE bool LinkEvent::is_running() const noexcept {
  if (operstate == OperState::up) {
    return true;
  }
  if (operstate != OperState::unknown || (flags & IFF_UP) == 0) {
    return false;
  }
  return carrier.value_or((flags & IFF_LOWER_UP) != 0);
}

NSFUN_INLINE result<NetEvents> NetEvents::open(const NetNs& ns, EventGroups groups) noexcept {
  if (!ns) {
    return errno_error(EBADF, "subscribe").because("empty NetNs handle");
  }
  if (groups.empty()) {
    return errno_error(EINVAL, "subscribe")
        .on("in net:[", ns.identity().ino(), "]")
        .because("no event group");
  }
  try {
    auto fd = nsfun::detail::run_in_known(ns, [groups] { return detail::events_socket(groups); });
    if (!fd) {
      return detail::on_events_ns(std::move(fd).assume_error(), ns);
    }
    NetEvents events;
    events.fd_ = std::move(fd).assume_value();
    // Best effort: without it (no such sysctl room) the default buffer still works, with
    // overruns sooner.
    (void)detail::set_rcvbuf(events.fd_.get(), detail::events_default_receive_buffer);
    NSFUN_TRY(auto copy, ns.ns().clone());
    NSFUN_TRY(events.ns_, NetNs::from(std::move(copy)));
    events.groups_ = groups;
    events.buf_.resize(detail::events_recv_buffer_size);
    return events;
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "subscribe");
  }
}

NSFUN_INLINE result<NetEvents> NetEvents::open(EventGroups groups) noexcept {
  NSFUN_TRY(auto ns, NetNs::current());
  return open(ns, groups);
}

NSFUN_INLINE NetEvents::NetEvents(NetEvents&&) noexcept = default;
NSFUN_INLINE NetEvents& NetEvents::operator=(NetEvents&&) noexcept = default;
NSFUN_INLINE NetEvents::~NetEvents() = default;

NSFUN_INLINE FdRef NetEvents::fd() const noexcept {
  return fd_.ref();
}

NSFUN_INLINE result<void> NetEvents::close() noexcept {
  pending_.clear();
  return fd_.close();
}

NSFUN_INLINE result<void> NetEvents::set_receive_buffer(int bytes) noexcept {
  if (!fd_) {
    return errno_error(EBADF, "setsockopt SO_RCVBUF").because("empty NetEvents handle");
  }
  return detail::set_rcvbuf(fd_.get(), bytes);
}

NSFUN_INLINE result<bool> NetEvents::receive(int timeout_ms) noexcept {
  pollfd p{fd_.get(), POLLIN, 0};
  int ready = ::poll(&p, 1, timeout_ms);
  if (ready < 0) {
    if (errno == EINTR) {
      return false;
    }
    return detail::on_events_ns(errno_error(errno, "poll events"), ns_);
  }
  if (ready == 0) {
    return false;
  }
  sockaddr_nl from{};
  socklen_t from_len = sizeof(from);
  ssize_t n = ::recvfrom(fd_.get(), buf_.data(), buf_.size(), MSG_DONTWAIT | MSG_TRUNC,
                         reinterpret_cast<sockaddr*>(&from), &from_len);
  if (n < 0) {
    if (errno == EINTR || errno == EAGAIN) {
      return false;
    }
    if (errno == ENOBUFS) {
      try {
        pending_.emplace_back();  // kind overrun
      } catch (...) {             // bad_alloc, or deque's length_error: out of memory either way
        return errno_error(ENOMEM, "recv events");
      }
      return true;
    }
    return detail::on_events_ns(errno_error(errno, "recv events"), ns_);
  }
  if (from.nl_pid != 0) {
    return false;  // not from the kernel: ignored
  }
  if (static_cast<std::size_t>(n) > buf_.size()) {
    // Cut (it cannot be, at 64 KiB): what was in it is lost, which the caller must know.
    try {
      pending_.emplace_back();
    } catch (...) {  // bad_alloc, or deque's length_error: out of memory either way
      return errno_error(ENOMEM, "recv events");
    }
    return true;
  }
  try {
    int len = static_cast<int>(n);
    bool any = false;
    auto* h = reinterpret_cast<const nlmsghdr*>(buf_.data());
    for (; mnl_nlmsg_ok(h, len); h = mnl_nlmsg_next(h, &len)) {
      if (h->nlmsg_type == NLMSG_OVERRUN) {
        pending_.emplace_back();
        any = true;
        continue;
      }
      if (auto e = detail::decode_event(*h)) {
        pending_.push_back(std::move(*e));
        any = true;
      }
    }
    return any;
  } catch (...) {  // bad_alloc, or deque's length_error: out of memory either way
    return errno_error(ENOMEM, "recv events");
  }
}

NSFUN_INLINE result<std::optional<NetEvent>> NetEvents::next(
    std::chrono::milliseconds timeout) noexcept {
  if (!fd_) {
    return errno_error(EBADF, "recv events").because("empty NetEvents handle");
  }
  std::optional<std::chrono::steady_clock::time_point> deadline;
  if (timeout.count() >= 0) {
    deadline = std::chrono::steady_clock::now() + timeout;
  }
  while (pending_.empty()) {
    int ms = detail::poll_ms_left(deadline);
    NSFUN_TRY(bool got, receive(ms));
    if (!got && ms == 0) {
      return std::optional<NetEvent>();  // the time is over
    }
  }
  std::optional<NetEvent> e(std::move(pending_.front()));
  pending_.pop_front();
  return e;
}

NSFUN_INLINE result<NetEvent> NetEvents::next() noexcept {
  for (;;) {
    NSFUN_TRY(auto e, next(std::chrono::milliseconds(-1)));
    if (e) {
      return std::move(*e);
    }
  }
}

struct EventWatch::State {
  NetEvents events;
  Callback fn;
  UniqueFd wake;  // an eventfd: written by stop()
  std::thread thread;
  std::atomic<bool> running{true};
  std::optional<error> failed;
  std::exception_ptr thrown;

  void run() noexcept {
    try {
      loop();
    } catch (...) {
      thrown = std::current_exception();
    }
    running.store(false);
  }

  void loop() {
    for (;;) {
      std::array<pollfd, 2> p{{{events.fd().get(), POLLIN, 0}, {wake.get(), POLLIN, 0}}};
      if (::poll(p.data(), p.size(), -1) < 0) {
        if (errno == EINTR) {
          continue;
        }
        failed = detail::on_events_ns(errno_error(errno, "poll events"), events.netns());
        return;
      }
      if (p[1].revents != 0) {
        return;
      }
      // Everything received so far, then back to poll.
      for (;;) {
        auto e = events.next(std::chrono::milliseconds(0));
        if (!e) {
          failed = std::move(e).assume_error();
          return;
        }
        if (!e.assume_value()) {
          break;
        }
        fn(*e.assume_value());
      }
    }
  }
};

NSFUN_INLINE result<EventWatch> EventWatch::start(NetEvents events, Callback fn) noexcept {
  if (!events) {
    return errno_error(EBADF, "start event watch").because("empty NetEvents handle");
  }
  if (!fn) {
    return errno_error(EINVAL, "start event watch").because("no function to call");
  }
  int raw = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (raw < 0) {
    return errno_error(errno, "eventfd");
  }
  try {
    EventWatch w;
    w.state_ = std::make_unique<State>();
    w.state_->wake = UniqueFd::adopt(raw);  // owns: just created
    raw = -1;
    w.state_->events = std::move(events);
    w.state_->fn = std::move(fn);
    State* s = w.state_.get();
    w.state_->thread = std::thread([s] { s->run(); });
    return w;
  } catch (const std::bad_alloc&) {
    if (raw >= 0) {
      ::close(raw);
    }
    return errno_error(ENOMEM, "start event watch");
  } catch (const std::system_error& e) {
    if (raw >= 0) {
      ::close(raw);
    }
    return errno_error(e.code().value(), "start event watch").with_note("std::thread");
  }
}

NSFUN_INLINE EventWatch::EventWatch(EventWatch&&) noexcept = default;

NSFUN_INLINE EventWatch& EventWatch::operator=(EventWatch&& other) noexcept {
  if (this != &other) {
    try {
      (void)stop();
    } catch (...) {  // NOLINT(bugprone-empty-catch): dropped, as by the destructor
    }
    state_ = std::move(other.state_);
  }
  return *this;
}

NSFUN_INLINE EventWatch::~EventWatch() {
  try {
    (void)stop();
  } catch (...) {  // NOLINT(bugprone-empty-catch): the callback's exception has nowhere to go
  }
}

NSFUN_INLINE bool EventWatch::running() const noexcept {
  return state_ && state_->running.load();
}

NSFUN_INLINE result<void> EventWatch::stop() {
  if (!state_) {
    return success();
  }
  std::unique_ptr<State> s = std::move(state_);
  std::uint64_t one = 1;
  ssize_t written = ::write(s->wake.get(), &one, sizeof(one));
  (void)written;  // a full eventfd is already a wake-up
  if (s->thread.joinable()) {
    s->thread.join();
  }
  if (s->thrown) {
    std::rethrow_exception(s->thrown);
  }
  if (s->failed) {
    return *s->failed;
  }
  return success();
}

}  // namespace nsfun::net
