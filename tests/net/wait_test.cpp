// SPDX-License-Identifier: MIT
// nsfun::net tests – wait_until and wait_running: returning as soon as the carrier comes up,
// timeouts and removals named, Veth::create waiting; and the two-namespace TCP connect that no
// longer stalls, 200 times. Every case runs in a forked child, in namespaces it acquired.

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <nsfun/enter.hpp>
#include <nsfun/format.hpp>
#include <nsfun/net/net.hpp>
#include <nsfun/net/socket.hpp>
#include <nsfun/net/wait.hpp>

#include "net_test_helpers.hpp"
#include "test_support.hpp"

namespace {

namespace t = nsfun::test;
namespace nt = nsfun::net::test;
using nsfun::NsType;
using nsfun::net::IpPrefix;
using nsfun::net::Link;
using nsfun::net::LinkState;
using nsfun::net::OperState;
using nsfun::net::SocketAddress;
using nsfun::net::Veth;
using nsfun::net::VethOptions;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.rfind(prefix, 0) == 0;
}

}  // namespace

TEST_SUITE("wait") {
  TEST_CASE("wait_until running returns as soon as the peer's carrier comes up") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_CHECK_CHILD([] {
      NET_TRY(auto a, nt::make_ns());
      NET_TRY(auto b, nt::make_ns());
      NET_TRY(auto v, Veth::create(a.rtnl, "nsftw0", "nsftw1", b.rtnl));
      NSFUN_EXPECT_OK(v.first().set_up());
      // Not running: the peer is down.
      NET_TRY(auto before, v.first().info());
      NSFUN_EXPECT(before.is_up());
      NSFUN_EXPECT(!nsfun::net::wait_until(v.first(), LinkState::running, milliseconds(0)));
      // The peer comes up 300 ms from now, on another thread with its own Rtnl.
      Clock::time_point peer_up;
      std::thread later([&] {
        std::this_thread::sleep_for(milliseconds(300));
        auto rtnl = nsfun::net::Rtnl::open(b.ns).value();
        auto peer = Link::by_index(rtnl, v.peer().index()).value();
        (void)peer.set_up();
        peer_up = Clock::now();
      });
      auto t0 = Clock::now();
      auto got = nsfun::net::wait_until(v.first(), LinkState::running, milliseconds(3000));
      auto returned = Clock::now();
      later.join();
      NSFUN_EXPECT_OK(got);
      NSFUN_EXPECT(got.value().operstate == OperState::up);
      NSFUN_EXPECT(got.value().carrier == std::optional<bool>(true));
      NSFUN_EXPECT(got.value().name == "nsftw0");
      double waited = std::chrono::duration<double, std::milli>(returned - t0).count();
      double after_up = std::chrono::duration<double, std::milli>(returned - peer_up).count();
      std::fprintf(stderr, "wait_until running: %.1f ms in all, %.1f ms after the peer's set_up\n",
                   waited, after_up);
      NSFUN_EXPECT(waited >= 290);
      NSFUN_EXPECT(after_up < 100);  // the notification, not a poll period
      // Already running: at once, even with no time at all.
      NSFUN_EXPECT_OK(nsfun::net::wait_until(v.first(), LinkState::running, milliseconds(0)));
      NSFUN_EXPECT_OK(nsfun::net::wait_until(v.peer(), OperState::up, milliseconds(0)));
      // lo says operstate unknown: running by IFF_UP and its carrier.
      NET_TRY(auto lo, Link::by_name(a.rtnl, "lo"));
      NET_TRY(auto lo_state, nsfun::net::wait_until(lo, LinkState::running, milliseconds(0)));
      NSFUN_EXPECT(lo_state.operstate == OperState::unknown);
      NSFUN_EXPECT(lo_state.is_running());
      return 0;
    });
  }

  TEST_CASE("a dummy link (operstate unknown) runs once up: by IFF_UP and its carrier") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_REQUIRE(t::have_program("ip") && t::have_program("nsenter"), "no ip or nsenter");
    // The probe's link lives in a throwaway namespace of unshare's own.
    NSFUN_REQUIRE(t::run("unshare --net ip link add nsftprobe0 type dummy 2>&1").status == 0,
                  "no dummy links in this kernel");
    NSFUN_CHECK_CHILD([] {
      NET_TRY(auto a, nt::make_ns());
      auto made = t::run("nsenter --net=/proc/" + std::to_string(::getpid()) + "/fd/" +
                         std::to_string(a.ns.get()) + " ip link add nsftwd0 type dummy 2>&1");
      NSFUN_EXPECT(made.status == 0);
      NET_TRY(auto dummy, Link::by_name(a.rtnl, "nsftwd0"));
      NSFUN_EXPECT(!nsfun::net::wait_until(dummy, LinkState::running, milliseconds(0)));
      std::thread later([&] {
        std::this_thread::sleep_for(milliseconds(100));
        auto rtnl = nsfun::net::Rtnl::open(a.ns).value();
        (void)Link::by_name(rtnl, "nsftwd0").value().set_up();
      });
      NET_TRY(auto s, nsfun::net::wait_until(dummy, LinkState::running, milliseconds(2000)));
      later.join();
      NSFUN_EXPECT(s.operstate == OperState::unknown);
      NSFUN_EXPECT(s.is_up());
      NSFUN_EXPECT(s.carrier == std::optional<bool>(true));
      // Never "up" by operstate: that wait times out, saying why.
      auto never = nsfun::net::wait_until(dummy, OperState::up, milliseconds(50));
      NSFUN_EXPECT(never.error() == std::errc::timed_out);
      NSFUN_EXPECT(fmt::format("{}", never.error()).find("state unknown)") != std::string::npos);
      NSFUN_EXPECT_OK(dummy.remove());
      return 0;
    });
  }

  TEST_CASE("a tun link (operstate unknown): running with its carrier, and again when it returns") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_REQUIRE(::access("/dev/net/tun", R_OK | W_OK) == 0, "no /dev/net/tun");
    NSFUN_CHECK_CHILD([] {
      NET_TRY(auto a, nt::make_ns());
      // The device is made in a's namespace: opened and named on a thread inside it.
      NET_TRY(auto tun, nsfun::run_in(a.ns, []() -> nsfun::result<nsfun::UniqueFd> {
                int raw = ::open("/dev/net/tun", O_RDWR | O_CLOEXEC);
                if (raw < 0) {
                  return nsfun::errno_error(errno, "open /dev/net/tun");
                }
                auto fd = nsfun::UniqueFd::adopt(raw);
                ifreq ifr{};
                std::strncpy(ifr.ifr_name, "nsftwu0", IFNAMSIZ - 1);
                ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
                if (::ioctl(fd.get(), TUNSETIFF, &ifr) < 0) {
                  return nsfun::errno_error(errno, "TUNSETIFF");
                }
                return fd;
              }));
      NET_TRY(auto link, Link::by_name(a.rtnl, "nsftwu0"));
      NSFUN_EXPECT(!nsfun::net::wait_until(link, LinkState::running, milliseconds(0)));
      NSFUN_EXPECT_OK(link.set_up());
      NET_TRY(auto s, nsfun::net::wait_until(link, LinkState::running, milliseconds(2000)));
      NSFUN_EXPECT(s.operstate == OperState::unknown);
      NSFUN_EXPECT(s.carrier == std::optional<bool>(true));
      // Carrier off (TUNSETCARRIER): up, but not running.
      int off = 0;
      NSFUN_EXPECT(::ioctl(tun.get(), TUNSETCARRIER, &off) == 0);
      NET_TRY(auto lost, nsfun::net::wait_until(link, LinkState::not_running, milliseconds(2000)));
      NSFUN_EXPECT(lost.is_up());
      NSFUN_EXPECT(lost.carrier == std::optional<bool>(false));
      // Back on 150 ms from now: the wait returns as soon as the kernel says so.
      Clock::time_point on_at;
      std::thread later([&] {
        std::this_thread::sleep_for(milliseconds(150));
        int on = 1;
        (void)::ioctl(tun.get(), TUNSETCARRIER, &on);
        on_at = Clock::now();
      });
      NET_TRY(auto back, nsfun::net::wait_until(link, LinkState::running, milliseconds(3000)));
      auto returned = Clock::now();
      later.join();
      double after_on = std::chrono::duration<double, std::milli>(returned - on_at).count();
      std::fprintf(stderr, "tun: running %.1f ms after the carrier came back\n", after_on);
      NSFUN_EXPECT(back.carrier == std::optional<bool>(true));
      NSFUN_EXPECT(after_on < 100);
      return 0;
    });
  }

  TEST_CASE("a timeout names the link, the state waited for and the last state seen") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_CHECK_CHILD([] {
      NET_TRY(auto a, nt::make_ns());
      NET_TRY(auto v, Veth::create(a.rtnl, "nsftwt0", "nsftwt1"));
      NSFUN_EXPECT_OK(v.first().set_up());
      auto t0 = Clock::now();
      auto late = nsfun::net::wait_until(v.first(), OperState::up, milliseconds(200));
      double waited = ms_since(t0);
      NSFUN_EXPECT(!late);
      NSFUN_EXPECT(late.error() == std::errc::timed_out);
      std::string text = fmt::format("{}", late.error());
      std::fprintf(stderr, "%s\n", text.c_str());
      NSFUN_EXPECT(starts_with(text, "wait for nsftwt0 up: Connection timed out (after 2"));
      NSFUN_EXPECT(text.find(" ms, state lowerlayerdown)") != std::string::npos);
      NSFUN_EXPECT(waited >= 195 && waited < 400);
      auto running = nsfun::net::wait_until(v.first(), LinkState::running, milliseconds(50));
      NSFUN_EXPECT(starts_with(fmt::format("{}", running.error()),
                               "wait for nsftwt0 running: Connection timed out (after "));
      // Admin states.
      NSFUN_EXPECT_OK(nsfun::net::wait_until(v.first(), LinkState::up, milliseconds(0)));
      NSFUN_EXPECT_OK(nsfun::net::wait_until(v.peer(), LinkState::down, milliseconds(0)));
      NSFUN_EXPECT_OK(nsfun::net::wait_until(v.first(), LinkState::not_running, milliseconds(0)));
      auto peer_up = nsfun::net::wait_until(v.peer(), LinkState::up, milliseconds(0));
      NSFUN_EXPECT(fmt::format("{}", peer_up.error()) ==
                   "wait for nsftwt1 up: Connection timed out (after 0 ms, state down, admin "
                   "down)");
      // Each wait's subscription is closed when it returns, whatever it returns.
      const std::size_t fds = t::open_fd_count();
      for (int i = 0; i < 20; ++i) {
        (void)nsfun::net::wait_until(v.first(), LinkState::up, milliseconds(0));
        (void)nsfun::net::wait_until(v.peer(), LinkState::up, milliseconds(1));
        (void)nsfun::net::connect_in(a.ns, SocketAddress::parse("127.0.0.1:9").value(),
                                     milliseconds(100));
      }
      NSFUN_EXPECT(t::open_fd_count() == fds);
      return 0;
    });
  }

  TEST_CASE("removed: waiting for it returns on deletion, waiting for running fails by name") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_CHECK_CHILD([] {
      NET_TRY(auto a, nt::make_ns());
      NET_TRY(auto v, Veth::create(a.rtnl, "nsftwr0", "nsftwr1"));
      // The waiter has an Rtnl of its own: one socket is not for two threads at once.
      NET_TRY(auto own, nsfun::net::Rtnl::open(a.ns));
      NET_TRY(auto first, Link::by_index(own, v.first().index()));
      std::thread remover([&] {
        std::this_thread::sleep_for(milliseconds(150));
        (void)v.remove();
      });
      auto t0 = Clock::now();
      auto gone = nsfun::net::wait_until(first, LinkState::running, milliseconds(3000));
      double waited = ms_since(t0);
      remover.join();
      NSFUN_EXPECT(!gone);
      NSFUN_EXPECT(gone.error() == std::errc::no_such_device);
      NSFUN_EXPECT(nt::text_is(gone.error(),
                               "wait for nsftwr0 running: No such device (removed while waiting)"));
      NSFUN_EXPECT(waited < 1000);
      // Gone already: removed holds at once; running fails at once.
      NSFUN_EXPECT_OK(nsfun::net::wait_until(first, LinkState::removed, milliseconds(0)));
      NSFUN_EXPECT(nsfun::net::wait_until(first, LinkState::running, milliseconds(100)).error() ==
                   std::errc::no_such_device);
      // Waiting for removal while it is still there, then deleted.
      NET_TRY(auto w, Veth::create(a.rtnl, "nsftwr2", "nsftwr3"));
      NET_TRY(auto peer, Link::by_index(own, w.peer().index()));
      std::thread later([&] {
        std::this_thread::sleep_for(milliseconds(100));
        (void)w.remove();
      });
      NET_TRY(auto last, nsfun::net::wait_until(peer, LinkState::removed, milliseconds(3000)));
      later.join();
      NSFUN_EXPECT(last.name == "nsftwr3");
      NSFUN_EXPECT(nsfun::net::wait_until(Link(), LinkState::running, milliseconds(0)).error() ==
                   std::errc::no_such_device);
      return 0;
    });
  }

  TEST_CASE("Veth::create with wait_running: both ends up and running when it returns") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_CHECK_CHILD([] {
      NET_TRY(auto a, nt::make_ns());
      NET_TRY(auto b, nt::make_ns());
      VethOptions o;
      o.wait_running = milliseconds(2000);
      NET_TRY(auto v, Veth::create(a.rtnl, "nsftwv0", "nsftwv1", b.rtnl, o));
      for (const Link* end : {&v.first(), &v.peer()}) {
        NET_TRY(auto s, nsfun::net::wait_until(*end, LinkState::running, milliseconds(0)));
        NSFUN_EXPECT(s.operstate == OperState::up);
      }
      // Only up: both ends up (maybe not running yet); wait_running() then.
      VethOptions up;
      up.up = true;
      NET_TRY(auto w, Veth::create(a.rtnl, "nsftwv2", "nsftwv3", up));
      NSFUN_EXPECT(w.first().info().value().is_up());
      NSFUN_EXPECT(w.peer().info().value().is_up());
      NSFUN_EXPECT_OK(nsfun::net::wait_running(w, milliseconds(2000)));
      // Neither: both down, and waiting for them to run times out naming the first end.
      NET_TRY(auto x, Veth::create(a.rtnl, "nsftwv4", "nsftwv5", VethOptions{}));
      NSFUN_EXPECT(!x.first().info().value().is_up());
      auto never = nsfun::net::wait_running(x, milliseconds(100));
      NSFUN_EXPECT(never.error() == std::errc::timed_out);
      NSFUN_EXPECT(starts_with(fmt::format("{}", never.error()),
                               "wait for nsftwv4 running: Connection timed out"));
      return 0;
    });
  }

  TEST_CASE("two namespaces, a veth, wait until running, TCP connect: 200 runs, none stalls") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_CHECK_CHILD([] {
      constexpr int runs = 200;
      std::vector<double> connect_ms;
      double slowest_setup = 0;
      for (int i = 0; i < runs; ++i) {
        auto t0 = Clock::now();
        NET_TRY(auto client, nt::make_ns());
        NET_TRY(auto server, nt::make_ns());
        NET_TRY(auto v, Veth::create(client.rtnl, "nsftc0", "nsfts0", server.rtnl));
        NSFUN_EXPECT_OK(
            nsfun::net::add_address(v.first(), IpPrefix::parse("10.200.80.1/24").value()));
        NSFUN_EXPECT_OK(
            nsfun::net::add_address(v.peer(), IpPrefix::parse("10.200.80.2/24").value()));
        NSFUN_EXPECT_OK(v.first().set_up());
        NSFUN_EXPECT_OK(v.peer().set_up());
        NSFUN_EXPECT_OK(nsfun::net::wait_running(v, milliseconds(2000)));
        slowest_setup = std::max(slowest_setup, ms_since(t0));
        auto to = SocketAddress::parse("10.200.80.2:5000").value();
        NET_TRY(auto listener, nsfun::net::listen_in(server.ns, to));
        auto c0 = Clock::now();
        NET_TRY(auto conn, nsfun::net::connect_in(client.ns, to, milliseconds(3000)));
        connect_ms.push_back(ms_since(c0));
        NET_TRY(auto accepted, nsfun::net::accept(listener));
        NSFUN_EXPECT(accepted.peer.ip().to_string() == "10.200.80.1");
        NSFUN_EXPECT(::send(conn.get(), "x", 1, 0) == 1);
        char c = 0;
        NSFUN_EXPECT(::recv(accepted.fd.get(), &c, 1, 0) == 1 && c == 'x');
      }
      auto slowest = *std::max_element(connect_ms.begin(), connect_ms.end());
      std::vector<double> sorted = connect_ms;
      std::sort(sorted.begin(), sorted.end());
      std::fprintf(stderr,
                   "two-namespace TCP connect after wait_running, %d runs: median %.3f ms, "
                   "slowest %.3f ms (slowest set-up incl. wait %.1f ms)\n",
                   runs, sorted[sorted.size() / 2], slowest, slowest_setup);
      for (double ms : connect_ms) {
        NSFUN_EXPECT(ms < 500);
      }
      return 0;
    });
  }

  TEST_CASE(
      "without waiting, for comparison: connect right after set_up (reported, not asserted)") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_CHECK_CHILD([] {
      constexpr int runs = 20;
      int stalled = 0;
      double slowest = 0;
      for (int i = 0; i < runs; ++i) {
        NET_TRY(auto client, nt::make_ns());
        NET_TRY(auto server, nt::make_ns());
        NET_TRY(auto v, Veth::create(client.rtnl, "nsftc0", "nsfts0", server.rtnl));
        NSFUN_EXPECT_OK(
            nsfun::net::add_address(v.first(), IpPrefix::parse("10.200.81.1/24").value()));
        NSFUN_EXPECT_OK(
            nsfun::net::add_address(v.peer(), IpPrefix::parse("10.200.81.2/24").value()));
        NSFUN_EXPECT_OK(v.first().set_up());
        NSFUN_EXPECT_OK(v.peer().set_up());
        auto to = SocketAddress::parse("10.200.81.2:5000").value();
        NET_TRY(auto listener, nsfun::net::listen_in(server.ns, to));
        auto c0 = Clock::now();
        NET_TRY(auto conn, nsfun::net::connect_in(client.ns, to, milliseconds(5000)));
        double ms = ms_since(c0);
        slowest = std::max(slowest, ms);
        stalled += ms > 500 ? 1 : 0;
      }
      std::fprintf(stderr, "without waiting, %d runs: %d stalled over 500 ms, slowest %.1f ms\n",
                   runs, stalled, slowest);
      return 0;
    });
  }
}
