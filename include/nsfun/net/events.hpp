// SPDX-License-Identifier: MIT
// nsfun::net – NetEvents: link, address, route and neighbour changes in one network namespace, as
// `ip monitor` shows them (rtnetlink multicast groups).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nsfun/config.hpp>
#include <nsfun/error.hpp>
#include <nsfun/net/address.hpp>
#include <nsfun/net/link.hpp>
#include <nsfun/net/oper_state.hpp>
#include <nsfun/ns_fd.hpp>
#include <nsfun/unique_fd.hpp>

namespace nsfun::net {

/// A kind of change a NetEvents subscription can receive: one rtnetlink multicast group each.
enum class EventGroup : std::uint8_t {
  link,          ///< RTNLGRP_LINK: links added, changed (up/down, carrier, name, …), removed
  ipv4_address,  ///< RTNLGRP_IPV4_IFADDR
  ipv6_address,  ///< RTNLGRP_IPV6_IFADDR
  ipv4_route,    ///< RTNLGRP_IPV4_ROUTE
  ipv6_route,    ///< RTNLGRP_IPV6_ROUTE
  neighbour,     ///< RTNLGRP_NEIGH: ARP and NDP entries
};

/// A set of EventGroups: `{EventGroup::link, EventGroup::neighbour}`, or EventGroups::all().
class EventGroups {
 public:
  constexpr EventGroups() noexcept = default;

  constexpr EventGroups(std::initializer_list<EventGroup> groups) noexcept {
    for (EventGroup g : groups) {
      add(g);
    }
  }

  /// Every group: what `ip monitor link address route neigh` shows.
  [[nodiscard]] static constexpr EventGroups all() noexcept {
    return {EventGroup::link,       EventGroup::ipv4_address, EventGroup::ipv6_address,
            EventGroup::ipv4_route, EventGroup::ipv6_route,   EventGroup::neighbour};
  }

  constexpr EventGroups& add(EventGroup g) noexcept {
    bits_ |= bit(g);
    return *this;
  }

  [[nodiscard]] constexpr bool has(EventGroup g) const noexcept { return (bits_ & bit(g)) != 0; }

  [[nodiscard]] constexpr bool empty() const noexcept { return bits_ == 0; }

  friend constexpr bool operator==(EventGroups, EventGroups) = default;

 private:
  static constexpr std::uint32_t bit(EventGroup g) noexcept {
    return std::uint32_t{1} << static_cast<unsigned>(g);
  }

  std::uint32_t bits_ = 0;
};

/// A link as a RTM_NEWLINK / RTM_DELLINK notification describes it.
struct LinkEvent {
  int index = 0;
  std::string name;
  std::string kind;     ///< "veth", "bridge", "dummy", …; empty for lo and physical devices
  unsigned flags = 0;   ///< IFF_* flags (IFF_UP, IFF_RUNNING, IFF_LOWER_UP, …)
  unsigned change = 0;  ///< ifi_change: the flags that changed; 0xffffffff for a new link
  std::uint32_t mtu = 0;
  int master = 0;  ///< the bridge (or bond) it is attached to; 0 for none
  std::optional<MacAddress> mac;
  OperState operstate = OperState::unknown;  ///< IFLA_OPERSTATE
  std::optional<bool> carrier;               ///< IFLA_CARRIER; none when the kernel omits it

  /// IFF_UP: administratively up.
  [[nodiscard]] bool is_up() const noexcept;

  /// Usable: operstate up, or (devices that report unknown, such as lo and dummy) IFF_UP with
  /// the carrier on. What wait_until(link, LinkState::running, …) waits for.
  [[nodiscard]] bool is_running() const noexcept;
};

/// An address as a RTM_NEWADDR / RTM_DELADDR notification describes it.
struct AddressEvent {
  int index = 0;  ///< the link's index
  IpPrefix prefix;
  std::uint32_t flags = 0;  ///< IFA_F_* (IFA_F_TENTATIVE, IFA_F_NODAD, IFA_F_PERMANENT, …)
  std::uint8_t scope = 0;   ///< RT_SCOPE_* (0 universe, 253 link, 254 host)
};

/// A route as a RTM_NEWROUTE / RTM_DELROUTE notification describes it. Every table is reported
/// (the kernel's local table too): filter on `table`.
struct RouteEvent {
  int family = 0;                       ///< AF_INET or AF_INET6
  std::optional<IpPrefix> destination;  ///< none: a default route (0.0.0.0/0, ::/0)
  std::optional<IpAddress> gateway;     ///< RTA_GATEWAY
  std::optional<IpAddress> source;      ///< RTA_PREFSRC
  int oif = 0;                          ///< RTA_OIF, the output interface's index
  std::uint32_t table = 0;              ///< 254 main, 255 local
  std::uint32_t metric = 0;             ///< RTA_PRIORITY
  std::uint8_t type = 0;                ///< RTN_* (1 unicast, 2 local, …)
  std::uint8_t protocol = 0;            ///< RTPROT_* (2 kernel, 3 boot, 4 static, …)
  std::uint8_t scope = 0;               ///< RT_SCOPE_*
};

/// A neighbour (ARP or NDP) entry as a RTM_NEWNEIGH / RTM_DELNEIGH notification describes it.
struct NeighbourEvent {
  int index = 0;                  ///< the link's index
  IpAddress ip;                   ///< NDA_DST
  std::optional<MacAddress> mac;  ///< NDA_LLADDR; none while incomplete or failed
  std::uint16_t state = 0;        ///< NUD_* bits: 0x01 incomplete, 0x02 reachable, 0x04 stale,
                                  ///< 0x08 delay, 0x10 probe, 0x20 failed, 0x40 noarp,
                                  ///< 0x80 permanent
  std::uint8_t flags = 0;         ///< NTF_* (NTF_ROUTER, …)
};

/// What a NetEvent is about.
enum class EventKind : std::uint8_t {
  link,
  address,
  route,
  neighbour,
  /// Events were lost: the socket's receive buffer overflowed (the kernel's ENOBUFS). Whatever
  /// the caller tracks must be read again (Link::list, list_addresses, …); later events arrive
  /// as before.
  overrun,
};

/// One change, decoded: its kind, whether the object was removed (RTM_DEL*, `ip monitor`'s
/// "Deleted") or added / changed (RTM_NEW*), and the fields of the object.
struct NetEvent {
  EventKind kind = EventKind::overrun;
  bool removed = false;    ///< RTM_DEL*: the link, address, route or entry is gone
  std::uint16_t type = 0;  ///< the message type (RTM_NEWLINK, …); 0 for an overrun
  std::variant<std::monostate, LinkEvent, AddressEvent, RouteEvent, NeighbourEvent> data;

  /// The link, for kind link; else nullptr. Likewise address(), route(), neighbour().
  [[nodiscard]] const LinkEvent* link() const noexcept { return std::get_if<LinkEvent>(&data); }

  [[nodiscard]] const AddressEvent* address() const noexcept {
    return std::get_if<AddressEvent>(&data);
  }

  [[nodiscard]] const RouteEvent* route() const noexcept { return std::get_if<RouteEvent>(&data); }

  [[nodiscard]] const NeighbourEvent* neighbour() const noexcept {
    return std::get_if<NeighbourEvent>(&data);
  }
};

/// A subscription to changes in one network namespace: an rtnetlink socket (SOCK_CLOEXEC,
/// non-blocking) made in that namespace and joined to the chosen multicast groups, like
/// `ip monitor` and Go netlink's LinkSubscribeAt. Only changes made after open() are reported:
/// subscribe first, then read the state you need (Link::info, …), then wait for events; that
/// order misses nothing (wait_until does exactly that).
///
/// Pull style: poll(2) on fd() (readable when an event may be waiting) and call next(0ms), or
/// block in next(timeout). Push style: EventWatch, a thread that calls a function per event.
/// Move-only; the socket closes with the handle. Not for use from two threads at once.
///
/// **Example**:
///
///     NSFUN_TRY(auto events, nsfun::net::NetEvents::open(netns, {nsfun::net::EventGroup::link}));
///     NSFUN_TRY(auto ev, events.next(std::chrono::seconds(1)));
///     if (ev && ev->link()) { /* ev->link()->name, ->operstate, ->carrier */ }
class NetEvents {
 public:
  /// An empty handle: next() fails with std::errc::bad_file_descriptor.
  NetEvents() noexcept = default;

  /// Subscribes to `groups` in `ns`. The socket is made on a thread that entered `ns` (as
  /// Rtnl::open(ns)); the caller's threads are never left in another namespace.
  /// Wraps: socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE),
  /// setsockopt(NETLINK_ADD_MEMBERSHIP). https://man7.org/linux/man-pages/man7/rtnetlink.7.html
  /// Needs: CAP_SYS_ADMIN over `ns` (setns), for another namespace than the caller's.
  /// Errors: std::errc::bad_file_descriptor (empty `ns`), std::errc::invalid_argument (no
  /// group), those of socket(2) and setns(2); they name the namespace
  /// ("subscribe in net:[4026532301]: Operation not permitted").
  [[nodiscard]] static result<NetEvents> open(const NetNs& ns,
                                              EventGroups groups = EventGroups::all()) noexcept;

  /// Subscribes to `groups` in the calling thread's network namespace.
  [[nodiscard]] static result<NetEvents> open(EventGroups groups = EventGroups::all()) noexcept;

  NetEvents(NetEvents&&) noexcept;
  NetEvents& operator=(NetEvents&&) noexcept;
  NetEvents(const NetEvents&) = delete;
  NetEvents& operator=(const NetEvents&) = delete;
  ~NetEvents();

  /// The next event, waiting up to `timeout` for one (0: only what is already there; negative:
  /// no limit); nothing when the time ran out. One receive may bring several events: later
  /// calls return them without asking the kernel. A lost batch (ENOBUFS) comes back as an event
  /// of kind EventKind::overrun, never silently. Messages of other types are skipped.
  /// Errors: those of poll(2) and recv(2) ("recv events in net:[…]: …"); EINTR is retried.
  [[nodiscard]] result<std::optional<NetEvent>> next(std::chrono::milliseconds timeout) noexcept;

  /// The next event, waiting as long as it takes.
  [[nodiscard]] result<NetEvent> next() noexcept;

  /// Sets the socket's receive buffer (SO_RCVBUFFORCE when permitted, else SO_RCVBUF, which the
  /// kernel caps at net.core.rmem_max). open() asks for 1 MiB; a burst beyond it is an overrun.
  /// Errors: those of setsockopt(2).
  [[nodiscard]] result<void> set_receive_buffer(int bytes) noexcept;

  /// The socket, borrowed (for poll(2), epoll, an event loop): readable when an event may be
  /// waiting. Events next() has already received and not yet returned are not in the socket:
  /// call next(0ms) until it returns nothing before polling again. FdRef(-1) when empty.
  [[nodiscard]] FdRef fd() const noexcept;

  /// The groups subscribed to.
  [[nodiscard]] EventGroups groups() const noexcept { return groups_; }

  /// The namespace watched (an fd of its own on it); an empty NetNs for an empty handle.
  [[nodiscard]] const NetNs& netns() const noexcept { return ns_; }

  /// Closes the socket now and reports close(2)'s error; the handle is empty afterwards.
  [[nodiscard]] result<void> close() noexcept;

  [[nodiscard]] explicit operator bool() const noexcept { return static_cast<bool>(fd_); }

 private:
  // Receives one batch into pending_ (blocking per `timeout_ms`); false when none came in time.
  [[nodiscard]] result<bool> receive(int timeout_ms) noexcept;

  UniqueFd fd_;
  NetNs ns_;
  EventGroups groups_;
  std::deque<NetEvent> pending_;
  std::vector<char> buf_;
};

/// Push style: a thread that takes events from a NetEvents and calls `fn` with each, until
/// stop() or the handle dies (RAII: the destructor stops and joins the thread). `fn` runs on
/// that thread, one event at a time; overruns are passed to it as events too.
///
/// **Example**:
///
///     NSFUN_TRY(auto events, nsfun::net::NetEvents::open(netns));
///     NSFUN_TRY(auto watch, nsfun::net::EventWatch::start(std::move(events),
///                                                         [](const nsfun::net::NetEvent& e) {
///                                                           /* … */
///                                                         }));
class EventWatch {
 public:
  using Callback = std::function<void(const NetEvent&)>;

  EventWatch() noexcept = default;

  /// Starts the thread. Errors: std::errc::bad_file_descriptor (empty `events`),
  /// std::errc::invalid_argument (no `fn`), eventfd(2)'s and the thread's own.
  [[nodiscard]] static result<EventWatch> start(NetEvents events, Callback fn) noexcept;

  EventWatch(EventWatch&&) noexcept;
  EventWatch& operator=(EventWatch&&) noexcept;
  EventWatch(const EventWatch&) = delete;
  EventWatch& operator=(const EventWatch&) = delete;

  /// Stops and joins the thread; its error, if any, is dropped (call stop() to see it).
  ~EventWatch();

  /// Stops the thread (after the event `fn` is handling, if any) and joins it. Reports the
  /// error that ended it earlier, if one did (a failed receive), and rethrows an exception `fn`
  /// threw (which also ended it). Nothing to do on an empty or stopped handle.
  [[nodiscard]] result<void> stop();

  /// True until the thread ended (stop(), an error, an exception from fn).
  [[nodiscard]] bool running() const noexcept;

 private:
  struct State;

  std::unique_ptr<State> state_;
};

}  // namespace nsfun::net

#ifdef NSFUN_HEADER_ONLY
#  include <nsfun/net/impl/events.ipp>
#endif
