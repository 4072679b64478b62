// SPDX-License-Identifier: MIT
// nsfun::net tests – NetEvents and EventWatch: each kind of change observed (links, addresses,
// routes, neighbours made with `ip neigh` in the namespace), the facts compared with `ip -j`,
// overruns reported, namespaces kept apart, fds closed. Every case runs in a forked child, in
// network namespaces it acquired.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <linux/if.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <nsfun/net/events.hpp>
#include <nsfun/net/net.hpp>

#include "net_test_helpers.hpp"
#include "test_support.hpp"

namespace {

using nsfun::net::test::ip_in;

namespace t = nsfun::test;
namespace nt = nsfun::net::test;
using nsfun::NsType;
using nsfun::net::EventGroup;
using nsfun::net::EventGroups;
using nsfun::net::EventKind;
using nsfun::net::EventWatch;
using nsfun::net::IpAddress;
using nsfun::net::IpPrefix;
using nsfun::net::Link;
using nsfun::net::NetEvent;
using nsfun::net::NetEvents;
using nsfun::net::OperState;
using nsfun::net::Veth;
using std::chrono::milliseconds;

// Reads events until one satisfies `pred`, for up to `ms`; the event, or nothing.
template <class P>
std::optional<NetEvent> await(NetEvents& events, P pred, int ms = 3000) {
  auto deadline = std::chrono::steady_clock::now() + milliseconds(ms);
  for (;;) {
    auto left =
        std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() < 0) {
      return std::nullopt;
    }
    auto e = events.next(left);
    if (!e) {
      nt::report("next", e.error());
      return std::nullopt;
    }
    if (!e.value()) {
      return std::nullopt;
    }
    if (pred(*e.value())) {
      return std::move(*e.value());
    }
  }
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_SUITE("events") {
  TEST_CASE("link events: added, up, carrier, down, removed, only from the namespace watched") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_CHECK_CHILD([] {
      NET_TRY(auto a, nt::make_ns());
      NET_TRY(auto b, nt::make_ns());
      NET_TRY(auto events, NetEvents::open(a.ns, {EventGroup::link}));
      NET_TRY(auto other, NetEvents::open(b.ns, {EventGroup::link}));
      NSFUN_EXPECT(events.groups() == EventGroups{EventGroup::link});
      NSFUN_EXPECT(events.netns().identity() == a.ns.identity());

      NET_TRY(auto v, Veth::create(a.rtnl, "nsftev0", "nsftev1"));
      const int index = v.first().index();
      auto named = [&](const NetEvent& e) {
        return e.kind == EventKind::link && e.link()->index == index;
      };
      // Added: a new link reports every flag as changed.
      auto added = await(events, named);
      NSFUN_EXPECT(added.has_value());
      NSFUN_EXPECT(!added->removed);
      NSFUN_EXPECT(added->type == RTM_NEWLINK);
      NSFUN_EXPECT(added->link()->name == "nsftev0");
      NSFUN_EXPECT(added->link()->kind == "veth");
      NSFUN_EXPECT(added->link()->change == 0xffffffffU);
      NSFUN_EXPECT(!added->link()->is_up());
      NSFUN_EXPECT(added->link()->operstate == OperState::down);
      NSFUN_EXPECT(added->link()->mac.has_value());

      // Up while the peer is down: admin up, lower layer down, no carrier.
      NSFUN_EXPECT_OK(v.first().set_up());
      auto up = await(events, [&](const NetEvent& e) { return named(e) && e.link()->is_up(); });
      NSFUN_EXPECT(up.has_value());
      NSFUN_EXPECT(!up->link()->is_running());
      // The peer up: both run (operstate up, carrier on).
      NSFUN_EXPECT_OK(v.peer().set_up());
      auto running = await(events, [&](const NetEvent& e) {
        return named(e) && e.link()->operstate == OperState::up;
      });
      NSFUN_EXPECT(running.has_value());
      NSFUN_EXPECT(running->link()->carrier == std::optional<bool>(true));
      NSFUN_EXPECT((running->link()->flags & IFF_LOWER_UP) != 0);
      NSFUN_EXPECT(running->link()->is_running());
      // The same facts as `ip -j link show`.
      if (t::have_program("ip") && t::have_program("nsenter")) {
        auto shown = ip_in(a.ns, "ip -j link show dev nsftev0");
        NSFUN_EXPECT(shown.status == 0);
        NSFUN_EXPECT(contains(shown.out, "\"ifindex\":" + std::to_string(index) + ","));
        NSFUN_EXPECT(contains(shown.out, "\"operstate\":\"UP\""));
        NSFUN_EXPECT(contains(shown.out, "\"mtu\":" + std::to_string(running->link()->mtu) + ","));
        NSFUN_EXPECT(contains(shown.out, "\"address\":\"" + running->link()->mac->to_string()));
      }
      // The peer down again: this end's lower layer is down.
      NSFUN_EXPECT_OK(v.peer().set_down());
      auto lower = await(events, [&](const NetEvent& e) {
        return named(e) && e.link()->operstate == OperState::lowerlayerdown;
      });
      NSFUN_EXPECT(lower.has_value());
      NSFUN_EXPECT(lower->link()->carrier == std::optional<bool>(false));
      NSFUN_EXPECT(lower->link()->is_up());
      NSFUN_EXPECT(!lower->link()->is_running());
      NSFUN_EXPECT_OK(v.first().set_down());
      auto down = await(events, [&](const NetEvent& e) { return named(e) && !e.link()->is_up(); });
      NSFUN_EXPECT(down.has_value());
      NSFUN_EXPECT(down->link()->operstate == OperState::down);

      NSFUN_EXPECT_OK(v.remove());
      auto removed = await(events, [&](const NetEvent& e) { return named(e) && e.removed; });
      NSFUN_EXPECT(removed.has_value());
      NSFUN_EXPECT(removed->type == RTM_DELLINK);
      NSFUN_EXPECT(removed->link()->name == "nsftev0");

      // Namespace b saw none of it.
      NET_TRY(auto nothing, other.next(milliseconds(0)));
      NSFUN_EXPECT(!nothing.has_value());
      return 0;
    });
  }

  TEST_CASE("the same link changes as ip -o monitor link shows, run alongside in the namespace") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_REQUIRE(t::have_program("ip") && t::have_program("nsenter") && t::have_program("timeout"),
                  "no ip, nsenter or timeout");
    NSFUN_CHECK_CHILD([] {
      NET_TRY(auto a, nt::make_ns());
      NET_TRY(auto events, NetEvents::open(a.ns, {EventGroup::link}));
      t::CommandResult monitor;
      std::thread ip_monitor([&] {
        monitor = t::run("timeout 2 nsenter --net=/proc/" + std::to_string(::getpid()) + "/fd/" +
                         std::to_string(a.ns.get()) + " ip -o monitor link");
      });
      std::this_thread::sleep_for(milliseconds(500));  // ip subscribes meanwhile
      {
        NET_TRY(auto v, Veth::create(a.rtnl, "nsftem0", "nsftem1"));
        NSFUN_EXPECT_OK(v.first().set_up());
        NSFUN_EXPECT_OK(v.remove());
      }
      ip_monitor.join();
      // nsfun's view: added, up, removed, for each end.
      std::vector<std::string> ours;
      for (;;) {
        NET_TRY(auto e, events.next(milliseconds(0)));
        if (!e) {
          break;
        }
        if (const auto* l = e->link()) {
          ours.push_back((e->removed ? "Deleted " : "") + l->name);
        }
      }
      auto count = [](const std::vector<std::string>& v, const std::string& s) {
        return std::count(v.begin(), v.end(), s);
      };
      // ip's view: one line per message; "Deleted" in front of removals.
      std::vector<std::string> theirs;
      std::size_t start = 0;
      while (start < monitor.out.size()) {
        auto end = monitor.out.find('\n', start);
        std::string line = monitor.out.substr(start, end - start);
        start = end == std::string::npos ? monitor.out.size() : end + 1;
        for (const char* name : {"nsftem0", "nsftem1"}) {
          if (line.find(std::string(": ") + name + "@") != std::string::npos ||
              line.find(std::string(": ") + name + ":") != std::string::npos) {
            theirs.push_back((line.rfind("Deleted ", 0) == 0 ? "Deleted " : "") +
                             std::string(name));
          }
        }
      }
      std::fprintf(stderr, "nsfun saw %zu link events, ip monitor %zu lines\n", ours.size(),
                   theirs.size());
      NSFUN_EXPECT(!theirs.empty());
      for (const char* name : {"nsftem0", "nsftem1"}) {
        NSFUN_EXPECT(count(ours, name) == count(theirs, name));
        NSFUN_EXPECT(count(ours, std::string("Deleted ") + name) ==
                     count(theirs, std::string("Deleted ") + name));
        NSFUN_EXPECT(count(ours, std::string("Deleted ") + name) == 1);
      }
      return 0;
    });
  }

  TEST_CASE("address events: IPv4 and IPv6 added and removed, as ip -j addr shows them") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_CHECK_CHILD([] {
      NET_TRY(auto a, nt::make_ns());
      NET_TRY(auto v, Veth::create(a.rtnl, "nsftea0", "nsftea1"));
      NET_TRY(auto events,
              NetEvents::open(a.ns, {EventGroup::ipv4_address, EventGroup::ipv6_address}));
      const auto v4 = IpPrefix::parse("10.200.60.1/24").value();
      const auto v6 = IpPrefix::parse("fd00:60::1/64").value();
      auto is = [&](const IpPrefix& p, bool removed) {
        return [&p, removed, &v](const NetEvent& e) {
          return e.kind == EventKind::address && e.removed == removed && e.address()->prefix == p &&
                 e.address()->index == v.first().index();
        };
      };
      NSFUN_EXPECT_OK(nsfun::net::add_address(v.first(), v4));
      auto added4 = await(events, is(v4, false));
      NSFUN_EXPECT(added4.has_value());
      NSFUN_EXPECT(added4->type == RTM_NEWADDR);
      NSFUN_EXPECT(added4->address()->scope == RT_SCOPE_UNIVERSE);
      NSFUN_EXPECT_OK(nsfun::net::add_address(v.first(), v6, /*nodad=*/true));
      auto added6 = await(events, is(v6, false));
      NSFUN_EXPECT(added6.has_value());
      NSFUN_EXPECT((added6->address()->flags & IFA_F_NODAD) != 0);
      if (t::have_program("ip") && t::have_program("nsenter")) {
        auto shown = ip_in(a.ns, "ip -j addr show dev nsftea0");
        NSFUN_EXPECT(contains(shown.out, "\"local\":\"10.200.60.1\",\"prefixlen\":24"));
        NSFUN_EXPECT(contains(shown.out, "\"local\":\"fd00:60::1\",\"prefixlen\":64"));
      }
      NSFUN_EXPECT_OK(nsfun::net::remove_address(v.first(), v4));
      auto removed4 = await(events, is(v4, true));
      NSFUN_EXPECT(removed4.has_value());
      NSFUN_EXPECT(removed4->type == RTM_DELADDR);
      NSFUN_EXPECT_OK(nsfun::net::remove_address(v.first(), v6));
      NSFUN_EXPECT(await(events, is(v6, true)).has_value());
      // Not subscribed to links: the link's own changes never show.
      NSFUN_EXPECT_OK(v.first().set_up());
      NSFUN_EXPECT(!await(
                        events, [](const NetEvent& e) { return e.kind == EventKind::link; }, 200)
                        .has_value());
      return 0;
    });
  }

  TEST_CASE("route events: a route added and removed, with destination, gateway and oif") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_CHECK_CHILD([] {
      NET_TRY(auto a, nt::make_ns());
      NET_TRY(auto v, Veth::create(a.rtnl, "nsfter0", "nsfter1"));
      NSFUN_EXPECT_OK(
          nsfun::net::add_address(v.first(), IpPrefix::parse("10.200.61.1/24").value()));
      NSFUN_EXPECT_OK(v.first().set_up());
      NSFUN_EXPECT_OK(v.peer().set_up());
      NET_TRY(auto events, NetEvents::open(a.ns, {EventGroup::ipv4_route}));
      nsfun::net::Route r;
      r.destination = IpPrefix::parse("10.201.0.0/16").value();
      r.gateway = IpAddress::parse("10.200.61.2").value();
      r.oif = v.first().index();
      NSFUN_EXPECT_OK(nsfun::net::add_route(a.rtnl, r));
      auto same = [&](bool removed) {
        return [&r, removed](const NetEvent& e) {
          return e.kind == EventKind::route && e.removed == removed &&
                 e.route()->destination == r.destination;
        };
      };
      auto added = await(events, same(false));
      NSFUN_EXPECT(added.has_value());
      NSFUN_EXPECT(added->type == RTM_NEWROUTE);
      NSFUN_EXPECT(added->route()->gateway == r.gateway);
      NSFUN_EXPECT(added->route()->oif == v.first().index());
      NSFUN_EXPECT(added->route()->table == RT_TABLE_MAIN);
      NSFUN_EXPECT(added->route()->family == AF_INET);
      NSFUN_EXPECT_OK(nsfun::net::remove_route(a.rtnl, r));
      auto removed = await(events, same(true));
      NSFUN_EXPECT(removed.has_value());
      NSFUN_EXPECT(removed->type == RTM_DELROUTE);
      // A default route has no destination.
      NSFUN_EXPECT_OK(
          nsfun::net::add_default_route(a.rtnl, IpAddress::parse("10.200.61.2").value()));
      auto dflt = await(events, [](const NetEvent& e) {
        return e.kind == EventKind::route && !e.removed && !e.route()->destination &&
               e.route()->table == RT_TABLE_MAIN;
      });
      NSFUN_EXPECT(dflt.has_value());
      NSFUN_EXPECT(dflt->route()->gateway->to_string() == "10.200.61.2");
      return 0;
    });
  }

  TEST_CASE("neighbour events: entries made and deleted by ip neigh in the namespace") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_REQUIRE(t::have_program("ip") && t::have_program("nsenter"), "no ip or nsenter");
    NSFUN_CHECK_CHILD([] {
      NET_TRY(auto a, nt::make_ns());
      NET_TRY(auto v, Veth::create(a.rtnl, "nsften0", "nsften1"));
      NSFUN_EXPECT_OK(
          nsfun::net::add_address(v.first(), IpPrefix::parse("10.200.62.1/24").value()));
      NSFUN_EXPECT_OK(v.first().set_up());
      NET_TRY(auto events, NetEvents::open(a.ns, {EventGroup::neighbour}));
      auto made = ip_in(a.ns,
                        "ip neigh add 10.200.62.9 lladdr 02:00:00:00:62:09 dev nsften0 nud "
                        "permanent");
      NSFUN_EXPECT(made.status == 0);
      auto added = await(events, [](const NetEvent& e) {
        return e.kind == EventKind::neighbour && !e.removed &&
               e.neighbour()->ip.to_string() == "10.200.62.9";
      });
      NSFUN_EXPECT(added.has_value());
      NSFUN_EXPECT(added->type == RTM_NEWNEIGH);
      NSFUN_EXPECT(added->neighbour()->index == v.first().index());
      NSFUN_EXPECT(added->neighbour()->mac.has_value());
      NSFUN_EXPECT(added->neighbour()->mac->to_string() == "02:00:00:00:62:09");
      NSFUN_EXPECT(added->neighbour()->state == NUD_PERMANENT);
      auto shown = ip_in(a.ns, "ip -j neigh show dev nsften0");
      NSFUN_EXPECT(contains(shown.out, "\"dst\":\"10.200.62.9\""));
      NSFUN_EXPECT(contains(shown.out, "\"lladdr\":\"02:00:00:00:62:09\""));
      NSFUN_EXPECT(contains(shown.out, "\"PERMANENT\""));

      NSFUN_EXPECT(ip_in(a.ns, "ip neigh del 10.200.62.9 dev nsften0").status == 0);
      auto removed = await(events, [](const NetEvent& e) {
        return e.kind == EventKind::neighbour && e.removed &&
               e.neighbour()->ip.to_string() == "10.200.62.9";
      });
      NSFUN_EXPECT(removed.has_value());
      NSFUN_EXPECT(removed->type == RTM_DELNEIGH);
      // IPv6 too.
      NSFUN_EXPECT(ip_in(a.ns,
                         "ip -6 neigh add fd00:62::9 lladdr 02:00:00:00:62:0a dev nsften0 nud "
                         "reachable")
                       .status == 0);
      auto added6 = await(events, [](const NetEvent& e) {
        return e.kind == EventKind::neighbour && !e.removed &&
               e.neighbour()->ip.to_string() == "fd00:62::9";
      });
      NSFUN_EXPECT(added6.has_value());
      NSFUN_EXPECT(added6->neighbour()->ip.family == AF_INET6);
      NSFUN_EXPECT(added6->neighbour()->state == NUD_REACHABLE);
      return 0;
    });
  }

  TEST_CASE("overrun: a burst beyond the receive buffer is reported, then events flow again") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_CHECK_CHILD([] {
      NET_TRY(auto a, nt::make_ns());
      NET_TRY(auto v, Veth::create(a.rtnl, "nsfteo0", "nsfteo1"));
      NET_TRY(auto events, NetEvents::open(a.ns, {EventGroup::ipv4_address}));
      NSFUN_EXPECT_OK(events.set_receive_buffer(4096));  // the kernel's minimum, about
      for (int i = 1; i <= 200; ++i) {
        auto p = IpPrefix::parse("10.200.63." + std::to_string(i) + "/32").value();
        NSFUN_EXPECT_OK(nsfun::net::add_address(v.first(), p));
      }
      int overruns = 0;
      int addresses = 0;
      for (;;) {
        NET_TRY(auto e, events.next(milliseconds(0)));
        if (!e) {
          break;
        }
        if (e->kind == EventKind::overrun) {
          ++overruns;
          NSFUN_EXPECT(e->type == 0);
          NSFUN_EXPECT(e->link() == nullptr && e->address() == nullptr);
        } else {
          ++addresses;
        }
      }
      std::fprintf(stderr, "overrun test: %d address events kept of 200, %d overrun(s)\n",
                   addresses, overruns);
      NSFUN_EXPECT(overruns >= 1);
      NSFUN_EXPECT(addresses < 200);
      // The subscription goes on.
      NSFUN_EXPECT_OK(events.set_receive_buffer(1 << 20));
      auto last = IpPrefix::parse("10.200.64.1/32").value();
      NSFUN_EXPECT_OK(nsfun::net::add_address(v.first(), last));
      NSFUN_EXPECT(await(events, [&](const NetEvent& e) {
                     return e.kind == EventKind::address && e.address()->prefix == last;
                   }).has_value());
      return 0;
    });
  }

  TEST_CASE("EventWatch: a function called on a thread per event, stopped by the handle") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_CHECK_CHILD([] {
      NET_TRY(auto a, nt::make_ns());
      const std::size_t fds = t::open_fd_count();
      std::mutex m;
      std::condition_variable cv;
      std::vector<std::string> seen;
      std::atomic<bool> on_other_thread{true};
      const auto caller = std::this_thread::get_id();
      {
        NET_TRY(auto events, NetEvents::open(a.ns));
        NET_TRY(auto watch, EventWatch::start(std::move(events), [&](const NetEvent& e) {
                  if (std::this_thread::get_id() == caller) {
                    on_other_thread = false;
                  }
                  if (const auto* l = e.link()) {
                    std::lock_guard<std::mutex> lock(m);
                    seen.push_back((e.removed ? "del " : "new ") + l->name);
                    cv.notify_all();
                  }
                }));
        NSFUN_EXPECT(watch.running());
        {
          NET_TRY(auto v, Veth::create(a.rtnl, "nsftew0", "nsftew1"));
          NSFUN_EXPECT_OK(v.remove());
        }
        auto has = [&](const std::string& s) {
          return std::find(seen.begin(), seen.end(), s) != seen.end();
        };
        {
          std::unique_lock<std::mutex> lock(m);
          NSFUN_EXPECT(cv.wait_for(lock, std::chrono::seconds(3),
                                   [&] { return has("new nsftew0") && has("del nsftew0"); }));
        }
        NSFUN_EXPECT(on_other_thread.load());
        NSFUN_EXPECT_OK(watch.stop());
        NSFUN_EXPECT(!watch.running());
        NSFUN_EXPECT_OK(watch.stop());  // nothing left to do
        // Restarted, then simply dropped: the destructor stops it.
        NET_TRY(auto again, NetEvents::open(a.ns, {EventGroup::link}));
        NET_TRY(auto dropped, EventWatch::start(std::move(again), [](const NetEvent&) {}));
        NSFUN_EXPECT(dropped.running());
      }
      // Every socket, eventfd and thread is gone with the handles.
      NSFUN_EXPECT(t::open_fd_count() == fds);
      // An exception from the function ends the thread and comes back from stop().
      NET_TRY(auto events, NetEvents::open(a.ns, {EventGroup::link}));
      NET_TRY(auto throwing, EventWatch::start(std::move(events), [](const NetEvent&) {
                throw std::runtime_error("nsft callback");
              }));
      NET_TRY(auto v, Veth::create(a.rtnl, "nsftex0", "nsftex1"));
      for (int i = 0; i < 300 && throwing.running(); ++i) {
        std::this_thread::sleep_for(milliseconds(10));
      }
      NSFUN_EXPECT(!throwing.running());
      bool rethrown = false;
      try {
        (void)throwing.stop();
      } catch (const std::runtime_error& e) {
        rethrown = std::string(e.what()) == "nsft callback";
      }
      NSFUN_EXPECT(rethrown);
      return 0;
    });
  }

  TEST_CASE("bad use: empty namespace, no group, empty handle, and no fd left by open and close") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_CHECK_CHILD([] {
      NET_TRY(auto a, nt::make_ns());
      NSFUN_EXPECT(NetEvents::open(nsfun::NetNs()).error() == std::errc::bad_file_descriptor);
      auto none = NetEvents::open(a.ns, EventGroups{});
      NSFUN_EXPECT(none.error() == std::errc::invalid_argument);
      NSFUN_EXPECT(nt::text_is(
          none.error(),
          "subscribe in net:[" + std::to_string(a.ns.identity().ino()) + "]: no event group"));
      NetEvents empty;
      NSFUN_EXPECT(!empty);
      NSFUN_EXPECT(empty.next(milliseconds(0)).error() == std::errc::bad_file_descriptor);
      NSFUN_EXPECT(empty.fd().get() == -1);
      NSFUN_EXPECT(EventWatch::start(NetEvents(), [](const NetEvent&) {}).error() ==
                   std::errc::bad_file_descriptor);

      const std::size_t fds = t::open_fd_count();
      for (int i = 0; i < 20; ++i) {
        NET_TRY(auto e, NetEvents::open(a.ns));
        NSFUN_EXPECT(e.fd().get() >= 0);
        if (i % 2 == 0) {
          NSFUN_EXPECT_OK(e.close());
          NSFUN_EXPECT(!e);
        }
        NetEvents moved = std::move(e);
        NSFUN_EXPECT(!e);  // NOLINT(bugprone-use-after-move): the moved-from state is the test
      }
      NSFUN_EXPECT(t::open_fd_count() == fds);
      // In the caller's own namespace too (the child entered none: it is the test's).
      NET_TRY(auto here, NetEvents::open({EventGroup::link}));
      NSFUN_EXPECT(here.netns().identity() == nsfun::NetNs::current().value().identity());
      return 0;
    });
  }
}
