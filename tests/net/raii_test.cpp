// SPDX-License-Identifier: MIT
// nsfun::net tests – issue #12 item 4: the RAII contract of every owning type in nsfun::net
// (Veth, Masquerade, Rtnl, Link): a moved-from object is empty, the move-assignment releases the
// target's own resource first, the destructor releases it, and neither of them throws, also when
// the release fails, or runs out of memory on the way.
//
// Every privileged case runs in a forked child, in namespaces it acquired.

#include <algorithm>
#include <cstdlib>
#include <new>
#include <string>
#include <type_traits>

#include <fcntl.h>

#include <doctest/doctest.h>

#include <nsfun/net/net.hpp>

#include "net_test_helpers.hpp"
#include "test_support.hpp"

namespace {

// Set on one thread: every operator new on it fails, to prove that destructors and
// move-assignments swallow a bad_alloc from their failure paths (naming an error allocates).
thread_local bool new_fails = false;

// Allocations fail on this thread while it lives.
struct NoMemory {
  NoMemory() noexcept { new_fails = true; }

  ~NoMemory() { new_fails = false; }

  NoMemory(const NoMemory&) = delete;
  NoMemory& operator=(const NoMemory&) = delete;
};

}  // namespace

// The replaceable global allocation functions (the array and aligned forms end up here or in
// the library's own aligned variants, which stay untouched).
void* operator new(std::size_t n) {
  if (new_fails) {
    throw std::bad_alloc();
  }
  if (void* p = std::malloc(n != 0 ? n : 1)) {  // NOLINT(cppcoreguidelines-no-malloc)
    return p;
  }
  throw std::bad_alloc();
}

// GCC takes these for a free() of new'd memory; they are the other half of the malloc above.
#if defined(__GNUC__) && !defined(__clang__)
#  pragma GCC diagnostic push
#  pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

void operator delete(void* p) noexcept {
  std::free(p);  // NOLINT(cppcoreguidelines-no-malloc)
}

void operator delete(void* p, std::size_t) noexcept {
  std::free(p);  // NOLINT(cppcoreguidelines-no-malloc)
}

#if defined(__GNUC__) && !defined(__clang__)
#  pragma GCC diagnostic pop
#endif

namespace {

namespace t = nsfun::test;
namespace nt = nsfun::net::test;
using nsfun::NsType;
using nsfun::net::IpPrefix;
using nsfun::net::Link;
using nsfun::net::Masquerade;
using nsfun::net::Rtnl;
using nsfun::net::Veth;

bool has(const std::vector<std::string>& names, const std::string& n) {
  return std::find(names.begin(), names.end(), n) != names.end();
}

bool fd_open(int fd) {
  return fd >= 0 && ::fcntl(fd, F_GETFD) >= 0;
}

// The names of the nftables tables in `ns` ("list tables" output).
std::string tables(const nsfun::NetNs& ns) {
  auto out = nsfun::net::nft_run(ns, "list tables");
  return out ? out.value() : "(list tables failed)";
}

static_assert(std::is_nothrow_move_constructible_v<Veth>);
static_assert(std::is_nothrow_move_assignable_v<Veth>);
static_assert(std::is_nothrow_destructible_v<Veth>);
static_assert(std::is_nothrow_move_constructible_v<Masquerade>);
static_assert(std::is_nothrow_move_assignable_v<Masquerade>);
static_assert(std::is_nothrow_destructible_v<Masquerade>);
static_assert(std::is_nothrow_move_constructible_v<Rtnl>);
static_assert(std::is_nothrow_move_assignable_v<Rtnl>);
static_assert(std::is_nothrow_move_constructible_v<Link>);
static_assert(std::is_nothrow_move_assignable_v<Link>);
static_assert(!std::is_copy_constructible_v<Veth>);
static_assert(!std::is_copy_constructible_v<Masquerade>);

}  // namespace

TEST_SUITE("raii") {
  TEST_CASE("issue #12: Veth: moved-from empty, move-assignment deletes the target's pair first") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_CHECK_CHILD([] {
      NET_TRY(auto a, nt::make_ns());
      {
        NET_TRY(auto x, Veth::create(a.rtnl, "nsftx0", "nsftx1"));
        Veth y(std::move(x));
        // NOLINTBEGIN(bugprone-use-after-move): the moved-from state is specified
        NSFUN_EXPECT(!x);
        NSFUN_EXPECT(x.name().empty() && x.peer_name().empty());
        NSFUN_EXPECT(x.first().index() == 0 && x.peer().index() == 0);
        NSFUN_EXPECT(!x.first().rtnl() && !x.peer().rtnl());
        NSFUN_EXPECT_OK(x.remove());  // nothing to do
        NSFUN_EXPECT(y && y.name() == "nsftx0");

        NET_TRY(auto z, Veth::create(a.rtnl, "nsftz0", "nsftz1"));
        y = std::move(z);  // deletes nsftx0/1 before taking nsftz0/1
        NSFUN_EXPECT(!z);
        NSFUN_EXPECT(z.name().empty() && z.first().index() == 0);
        // NOLINTEND(bugprone-use-after-move)
        auto names = nt::link_names(a.rtnl);
        NSFUN_EXPECT(!has(names, "nsftx0") && !has(names, "nsftx1"));
        NSFUN_EXPECT(has(names, "nsftz0") && has(names, "nsftz1"));
        NSFUN_EXPECT(y.name() == "nsftz0");
      }  // the destructor deletes nsftz0/1
      NSFUN_EXPECT(nt::link_names(a.rtnl) == std::vector<std::string>{"lo"});

      // When the pair is already gone, the destructor and the move-assignment fail quietly.
      {
        NET_TRY(auto v, Veth::create(a.rtnl, "nsftq0", "nsftq1"));
        NET_TRY(auto w, Veth::create(a.rtnl, "nsftw0", "nsftw1"));
        NET_TRY(auto q0, Link::by_name(a.rtnl, "nsftq0"));
        NET_TRY(auto w0, Link::by_name(a.rtnl, "nsftw0"));
        NSFUN_EXPECT_OK(q0.remove());
        NSFUN_EXPECT_OK(w0.remove());
        v = std::move(w);
        NSFUN_EXPECT(v && !w);  // NOLINT(bugprone-use-after-move)
      }
      NSFUN_EXPECT(nt::link_names(a.rtnl) == std::vector<std::string>{"lo"});

      // Out of memory: the move-assignment and the destructor still delete their pairs (deleting
      // allocates nothing), and remove() of a pair that is gone reports instead of throwing.
      {
        NET_TRY(auto v, Veth::create(a.rtnl, "nsftm0", "nsftm1"));
        NET_TRY(auto w, Veth::create(a.rtnl, "nsftn0", "nsftn1"));
        NET_TRY(auto g, Veth::create(a.rtnl, "nsftg0", "nsftg1"));
        NET_TRY(auto g0, Link::by_name(a.rtnl, "nsftg0"));
        NSFUN_EXPECT_OK(g0.remove());
        nsfun::result<void> gone = nsfun::success();
        {
          NoMemory no_memory;
          v = std::move(w);         // deletes nsftm0/1
          Veth last(std::move(v));  // deletes nsftn0/1, before no_memory ends
          gone = g.remove();
        }
        NSFUN_EXPECT(!gone);
        NSFUN_EXPECT(gone.error() == std::errc::no_such_device ||
                     gone.error() == std::errc::not_enough_memory);
        NSFUN_EXPECT(!g && g.first().index() == 0);
      }
      NSFUN_EXPECT(nt::link_names(a.rtnl) == std::vector<std::string>{"lo"});

      // keep(): the pair outlives the handle, which still names it; remove() still deletes it.
      {
        NET_TRY(auto k, Veth::create(a.rtnl, "nsftk0", "nsftk1"));
        k.keep();
        NSFUN_EXPECT(!k && k.name() == "nsftk0" && k.first().index() > 0);
        NET_TRY(auto j, Veth::create(a.rtnl, "nsftj0", "nsftj1"));
        j.keep();
        k = std::move(j);  // k kept its pair: the move-assignment leaves it
        NSFUN_EXPECT(!k && k.name() == "nsftj0");
        auto names = nt::link_names(a.rtnl);
        NSFUN_EXPECT(has(names, "nsftk0") && has(names, "nsftj0"));
        NSFUN_EXPECT_OK(k.remove());
        NSFUN_EXPECT(!has(nt::link_names(a.rtnl), "nsftj0"));
        NET_TRY(auto k0, Link::by_name(a.rtnl, "nsftk0"));
        NSFUN_EXPECT_OK(k0.remove());
      }
      NSFUN_EXPECT(nt::link_names(a.rtnl) == std::vector<std::string>{"lo"});

      // remove() reports, and leaves the handle empty either way.
      NET_TRY(auto r, Veth::create(a.rtnl, "nsftr0", "nsftr1"));
      NET_TRY(auto r0, Link::by_name(a.rtnl, "nsftr0"));
      NSFUN_EXPECT_OK(r0.remove());
      auto removed = r.remove();
      NSFUN_EXPECT(!removed);
      NSFUN_EXPECT(removed.error() == std::errc::no_such_device);
      NSFUN_EXPECT(!r && r.name().empty() && r.first().index() == 0);
      return 0;
    });
  }

  TEST_CASE("issue #12: Masquerade: moved-from empty, move-assignment removes the target's table") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_CHECK_CHILD([] {
      NET_TRY(auto router, nt::make_ns());
      NET_TRY(auto subnet, IpPrefix::parse("10.200.70.0/24"));
      std::string first_table;
      std::string second_table;
      {
        NET_TRY(auto x, Masquerade::create(router.ns, subnet));
        first_table = x.table();
        Masquerade y(std::move(x));
        // NOLINTBEGIN(bugprone-use-after-move): the moved-from state is specified
        NSFUN_EXPECT(!x);
        NSFUN_EXPECT(x.table().empty());
        NSFUN_EXPECT_OK(x.remove());  // nothing to do
        NSFUN_EXPECT(y && y.table() == first_table);

        NET_TRY(auto z, Masquerade::create(router.ns, subnet));
        second_table = z.table();
        NSFUN_EXPECT(tables(router.ns).find(first_table) != std::string::npos);
        y = std::move(z);  // removes the first table before taking the second
        NSFUN_EXPECT(!z && z.table().empty());
        // NOLINTEND(bugprone-use-after-move)
        const std::string now = tables(router.ns);
        NSFUN_EXPECT(now.find(first_table) == std::string::npos);
        NSFUN_EXPECT(now.find(second_table) != std::string::npos);
        NSFUN_EXPECT(y.table() == second_table);
      }  // the destructor removes the second table
      NSFUN_EXPECT(tables(router.ns).find("nsfun_nat_") == std::string::npos);

      // A table deleted behind the handle's back: the destructor and move-assignment fail
      // quietly.
      {
        NET_TRY(auto v, Masquerade::create(router.ns, subnet));
        NET_TRY(auto w, Masquerade::create(router.ns, subnet));
        NSFUN_EXPECT_OK(nsfun::net::nft_run(router.ns, "delete table ip " + v.table() + "\n"));
        NSFUN_EXPECT_OK(nsfun::net::nft_run(router.ns, "delete table ip " + w.table() + "\n"));
        v = std::move(w);
        NSFUN_EXPECT(v && !w);  // NOLINT(bugprone-use-after-move)
      }
      NSFUN_EXPECT(tables(router.ns).find("nsfun_nat_") == std::string::npos);

      // Out of memory while removing (the nft command is a string): the move-assignment and the
      // destructor still do not throw, and leave their handles empty; the tables stay, as
      // nothing could be asked of nftables.
      {
        NET_TRY(auto v, Masquerade::create(router.ns, subnet));
        NET_TRY(auto w, Masquerade::create(router.ns, subnet));
        const std::string both = v.table() + " " + w.table();
        {
          NoMemory no_memory;
          v = std::move(w);
          Masquerade last(std::move(v));  // destroyed before no_memory: allocations failing
        }
        NSFUN_EXPECT(!v && !w);  // NOLINT(bugprone-use-after-move)
        const std::string now = tables(router.ns);
        NSFUN_EXPECT(now.find(both.substr(0, both.find(' '))) != std::string::npos);
        NSFUN_EXPECT(now.find(both.substr(both.find(' ') + 1)) != std::string::npos);
      }
      NSFUN_EXPECT_OK(nsfun::net::nft_run(router.ns, "flush ruleset\n"));
      return 0;
    });
  }

  TEST_CASE("issue #12: Rtnl: moved-from empty, move-assignment closes the target's socket") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_CHECK_CHILD([] {
      NET_TRY(auto ns, nsfun::acquire<NsType::net>());
      const std::size_t before = t::open_fd_count();
      {
        NET_TRY(auto x, Rtnl::open(ns));
        const int x_fd = x.fd().get();
        Rtnl y(std::move(x));
        // NOLINTBEGIN(bugprone-use-after-move): the moved-from state is specified
        NSFUN_EXPECT(!x && x.fd().get() == -1);
        NSFUN_EXPECT(!x.netns());
        NSFUN_EXPECT(y.fd().get() == x_fd && fd_open(x_fd));

        NET_TRY(auto z, Rtnl::open(ns));
        const int z_fd = z.fd().get();
        y = std::move(z);  // y's socket was its last handle: closed
        NSFUN_EXPECT(!z && z.fd().get() == -1);
        // NOLINTEND(bugprone-use-after-move)
        NSFUN_EXPECT(!fd_open(x_fd));
        NSFUN_EXPECT(y.fd().get() == z_fd && fd_open(z_fd));
      }  // the destructor closes the second socket (and the namespace fd each holds)
      NSFUN_EXPECT(t::open_fd_count() == before);
      return 0;
    });
  }

  TEST_CASE("issue #12: Link: moved-from empty, move-assignment drops the target's Rtnl share") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_CHECK_CHILD([] {
      NET_TRY(auto ns, nsfun::acquire<NsType::net>());
      const std::size_t before = t::open_fd_count();
      {
        Link x;
        {
          NET_TRY(auto rtnl, Rtnl::open(ns));
          NET_TRY(auto lo, Link::by_name(rtnl, "lo"));
          x = std::move(lo);
          // NOLINTNEXTLINE(bugprone-use-after-move): the moved-from state is specified
          NSFUN_EXPECT(lo.index() == 0 && !lo.rtnl());
        }  // x now holds the only handle on that socket
        const int x_fd = x.rtnl().fd().get();
        NSFUN_EXPECT(fd_open(x_fd) && x.index() > 0);
        Link y(std::move(x));
        NSFUN_EXPECT(x.index() == 0 && !x.rtnl());  // NOLINT(bugprone-use-after-move)
        NSFUN_EXPECT(y.rtnl().fd().get() == x_fd);

        NET_TRY(auto other, Rtnl::open(ns));
        NET_TRY(auto z, Link::by_name(other, "lo"));
        y = std::move(z);  // y's socket goes with its last handle
        NSFUN_EXPECT(!fd_open(x_fd));
        NSFUN_EXPECT(y.rtnl() == other);
        // Copies share the socket: it stays open, and usable, while any copy lives.
        const int other_fd = other.fd().get();
        Link copy = y;
        NSFUN_EXPECT(copy.index() == y.index() && copy.rtnl() == y.rtnl());
        other = Rtnl();
        y = Link();
        NSFUN_EXPECT(fd_open(other_fd) && copy.rtnl().fd().get() == other_fd);
        NET_TRY(auto info, copy.info());
        NSFUN_EXPECT(info.name == "lo");
        copy = Link();
        NSFUN_EXPECT(!fd_open(other_fd));
      }
      NSFUN_EXPECT(t::open_fd_count() == before);
      return 0;
    });
  }
}
