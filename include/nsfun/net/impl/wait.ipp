// SPDX-License-Identifier: MIT
// nsfun::net – waiting for link states: the implementation (see <nsfun/config.hpp>). Subscribe,
// read the current state, then wait on RTM_NEWLINK / RTM_DELLINK notifications.
#pragma once

#include <cerrno>
#include <chrono>
#include <new>
#include <optional>
#include <string>

#include <linux/if.h>
#include <linux/rtnetlink.h>

#include <nsfun/config.hpp>
#include <nsfun/error.hpp>
#include <nsfun/net/detail/decode.hpp>
#include <nsfun/net/detail/nl.hpp>
#include <nsfun/net/events.hpp>
#include <nsfun/net/link.hpp>
#include <nsfun/net/veth.hpp>
#include <nsfun/net/wait.hpp>

namespace nsfun::net {

namespace detail {

inline bool link_in_state(const LinkEvent& l, LinkState s) noexcept {
  switch (s) {
    case LinkState::running:
      return l.is_running();
    case LinkState::not_running:
      return !l.is_running();
    case LinkState::up:
      return l.is_up();
    case LinkState::down:
      return !l.is_up();
    case LinkState::removed:
      return false;
  }
  return false;
}

// The link as the kernel has it now (RTM_GETLINK, decoded as a notification would be), or
// nothing when it is gone (ENODEV).
inline result<std::optional<LinkEvent>> current_link(const Link& link) {
  Msg m(RTM_GETLINK, 0);
  auto& ifi = m.extra<ifinfomsg>();
  ifi.ifi_family = AF_UNSPEC;
  ifi.ifi_index = link.index();
  std::optional<LinkEvent> found;
  auto asked = link.rtnl().request(m.hdr(), "RTM_GETLINK", [&](const nlmsghdr& h) -> result<void> {
    if (h.nlmsg_type == RTM_NEWLINK) {
      found = decode_link(h);
    }
    return success();
  });
  if (!asked) {
    if (asked.error() == std::errc::no_such_device) {
      return std::optional<LinkEvent>();
    }
    return std::move(asked).as_failure();
  }
  return found;
}

// "state lowerlayerdown", "state unknown, carrier off", "state down, admin down".
inline std::string describe_link_state(const LinkEvent& l) {
  std::string s = "state ";
  s += to_string(l.operstate);
  if (!l.is_up()) {
    s += ", admin down";
  } else if (l.operstate == OperState::unknown && !l.is_running()) {
    s += ", carrier off";
  }
  return s;
}

// Waits until `done(link state)` holds (or, with `want_removed`, the link is gone).
template <class Done>
result<LinkEvent> wait_link(const Link& link,
                            Done done,
                            bool want_removed,
                            std::string_view state_name,
                            std::chrono::milliseconds timeout) {
  constexpr std::string_view step = "wait for";
  auto name_it = [&](error& e, const std::optional<LinkEvent>& last) {
    if (last && !last->name.empty()) {
      e.on(last->name, " ", state_name);
    } else {
      e.on(link.label(), " ", state_name);
    }
  };
  if (link.index() <= 0 || !link.rtnl()) {
    error e = errno_error(ENODEV, step);
    e.on("index ", link.index(), " ", state_name).because("an empty Link");
    return e;
  }
  auto start = std::chrono::steady_clock::now();
  // Subscribe first: a change between the read below and the first wait is then not missed.
  auto events = NetEvents::open(link.rtnl().netns(), {EventGroup::link});
  if (!events) {
    error e = std::move(events).assume_error();
    name_it(e, std::nullopt);
    return e;
  }
  NetEvents& ev = events.assume_value();
  std::optional<LinkEvent> last;
  bool gone = false;
  auto read_now = [&]() -> result<void> {
    auto now = current_link(link);
    if (!now) {
      error e = std::move(now).assume_error();
      name_it(e, last);
      return e;
    }
    if (now.assume_value()) {
      last = std::move(now.assume_value());
    } else {
      gone = true;
    }
    return success();
  };
  NSFUN_TRYV(read_now());
  std::optional<std::chrono::steady_clock::time_point> deadline;
  if (timeout.count() >= 0) {
    deadline = start + timeout;
  }
  for (;;) {
    if (gone) {
      if (want_removed) {
        return last ? *last : LinkEvent{};
      }
      error e = errno_error(ENODEV, step);
      name_it(e, last);
      if (last) {
        e.with_note("removed while waiting");
      }
      return e;
    }
    if (!want_removed && last && done(*last)) {
      return *last;
    }
    std::chrono::milliseconds left(-1);
    if (deadline) {
      left = std::chrono::ceil<std::chrono::milliseconds>(*deadline -
                                                          std::chrono::steady_clock::now());
      if (left.count() < 0) {
        left = std::chrono::milliseconds(0);
      }
    }
    auto got = ev.next(left);
    if (!got) {
      error e = std::move(got).assume_error();
      name_it(e, last);
      return e;
    }
    if (!got.assume_value()) {
      // The time is over: one last look, so that a late overrun cannot hide the state.
      NSFUN_TRYV(read_now());
      if (gone ? want_removed : (!want_removed && last && done(*last))) {
        continue;
      }
      error e = errno_error(ETIMEDOUT, step);
      name_it(e, last);
      auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now() - start);
      if (last) {
        e.with_note("after ", waited.count(), " ms, ", describe_link_state(*last));
      } else {
        e.with_note("after ", waited.count(), " ms");
      }
      return e;
    }
    const NetEvent& event = *got.assume_value();
    if (event.kind == EventKind::overrun) {
      NSFUN_TRYV(read_now());  // lost events: read the state again
      continue;
    }
    const LinkEvent* l = event.link();
    if (l == nullptr || l->index != link.index()) {
      continue;
    }
    if (event.removed) {
      gone = true;
      if (!l->name.empty()) {
        last = *l;
      }
    } else {
      last = *l;
    }
  }
}

}  // namespace detail

NSFUN_INLINE result<LinkEvent> wait_until(const Link& link,
                                          LinkState state,
                                          std::chrono::milliseconds timeout) noexcept {
  try {
    return detail::wait_link(
        link, [state](const LinkEvent& l) { return detail::link_in_state(l, state); },
        state == LinkState::removed, to_string(state), timeout);
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "wait for");
  }
}

NSFUN_INLINE result<LinkEvent> wait_until(const Link& link,
                                          OperState state,
                                          std::chrono::milliseconds timeout) noexcept {
  try {
    return detail::wait_link(
        link, [state](const LinkEvent& l) { return l.operstate == state; }, false, to_string(state),
        timeout);
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "wait for");
  }
}

NSFUN_INLINE result<void> wait_running(const Veth& veth,
                                       std::chrono::milliseconds timeout) noexcept {
  auto start = std::chrono::steady_clock::now();
  NSFUN_TRYV(wait_until(veth.first(), LinkState::running, timeout));
  std::chrono::milliseconds left = timeout;
  if (timeout.count() >= 0) {
    auto spent = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
    left = timeout > spent ? timeout - spent : std::chrono::milliseconds(0);
  }
  NSFUN_TRYV(wait_until(veth.peer(), LinkState::running, left));
  return success();
}

}  // namespace nsfun::net
