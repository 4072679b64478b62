// SPDX-License-Identifier: MIT
// nsfun::net tests – nsid::list against `ip netns list-id` run in the same namespace.
//
// Every case runs in a forked child and works only in network namespaces it acquired itself;
// `ip` runs inside them through nsenter --net=/proc/PID/fd/N, and names under /run/netns live in
// a private /run.

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <unistd.h>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <nsfun/net/net.hpp>
#include <nsfun/net/nsid.hpp>
#include <nsfun/persist.hpp>

#include "net_test_helpers.hpp"
#include "test_support.hpp"

namespace {

using nsfun::net::test::in_ns;

namespace t = nsfun::test;
namespace nt = nsfun::net::test;
namespace nsid = nsfun::net::nsid;
using nsfun::NsType;
using Json = nlohmann::json;

// What `ip -j netns list-id` prints in `ns`, parsed; null (and a message) when it fails.
Json list_id(const nsfun::NetNs& ns) {
  auto out = t::run(in_ns(ns) + " ip -j netns list-id");
  Json j = Json::parse(out.out, nullptr, /*allow_exceptions=*/false);
  if (out.status != 0 || j.is_discarded()) {
    std::fprintf(stderr, "ip -j netns list-id: status %d, '%s'\n", out.status, out.out.c_str());
    return Json();
  }
  return j;
}

// True when ip's list is nsfun's: the same ids in the same order, the same names.
bool same_as_ip(const std::vector<nsid::Entry>& entries, const Json& ip) {
  bool ok = ip.is_array() && ip.size() == entries.size();
  for (std::size_t i = 0; ok && i < entries.size(); ++i) {
    ok = ip[i].value("nsid", -2) == entries[i].id && ip[i].value("name", "") == entries[i].name;
  }
  if (!ok) {
    std::fprintf(stderr, "ip lists %s; nsfun:", ip.dump().c_str());
    for (const auto& e : entries) {
      std::fprintf(stderr, " %d(%s)", e.id, e.name.c_str());
    }
    std::fprintf(stderr, "\n");
  }
  return ok;
}

}  // namespace

TEST_SUITE("nsid") {
  TEST_CASE("list agrees with ip netns list-id: ids, pinned peers by name, candidates") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_REQUIRE(t::can_private_run(), "needs a private /run");
    NSFUN_REQUIRE(t::have_program("ip") && t::have_program("nsenter"), "no ip or nsenter");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(t::private_run() == 0);
      NET_TRY(auto a, nt::make_ns());
      NET_TRY(auto b, nt::make_ns());
      NET_TRY(auto c, nt::make_ns());

      // A fresh namespace has given no ids.
      NET_TRY(auto none, nsid::list(a.rtnl));
      NSFUN_EXPECT(none.empty());
      NSFUN_EXPECT(same_as_ip(none, list_id(a.ns)));

      // b pinned under a name, c not; ids given in a (set out of order).
      const std::string name = t::unique_name();
      NSFUN_EXPECT(t::run("mkdir -p /run/netns").status == 0);
      NSFUN_EXPECT_OK(nsfun::netns::attach(name, b.ns));
      NSFUN_EXPECT_OK(nsid::set(a.rtnl, c.ns, 9));
      NSFUN_EXPECT_OK(nsid::set(a.rtnl, b.ns, 3));

      const std::size_t fds_before = t::open_fd_count();
      NET_TRY(auto listed, nsid::list(a.rtnl));
      NSFUN_EXPECT(t::open_fd_count() == fds_before);  // the pins it opened are closed again
      NSFUN_EXPECT(listed.size() == 2);
      NSFUN_EXPECT(listed[0].id == 3 && listed[1].id == 9);
      NSFUN_EXPECT(listed[0].name == name);
      NSFUN_EXPECT(listed[0].peer == b.ns.identity());
      NSFUN_EXPECT(listed[1].name.empty());
      NSFUN_EXPECT(!listed[1].peer.has_value());  // unpinned: the dump does not say which
      NSFUN_EXPECT(same_as_ip(listed, list_id(a.ns)));
      // The plain text form too: "nsid 3 (iproute2 netns name: NAME)".
      auto text = t::run(in_ns(a.ns) + " ip netns list-id");
      NSFUN_EXPECT(text.out.find("nsid 3 (iproute2 netns name: " + name + ")") !=
                   std::string::npos);
      NSFUN_EXPECT(text.out.find("nsid 9") != std::string::npos);

      // With candidates, c is found too.
      std::vector<nsfun::NetNs> candidates;
      NET_TRY(auto c_copy, c.ns.ns().clone());
      NET_TRY(auto c_typed, nsfun::NetNs::from(std::move(c_copy)));
      candidates.push_back(std::move(c_typed));
      NET_TRY(auto with_c, nsid::list(a.rtnl, candidates));
      NSFUN_EXPECT(with_c.size() == 2);
      NSFUN_EXPECT(with_c[1].id == 9 && with_c[1].peer == c.ns.identity());
      NSFUN_EXPECT(with_c[0].peer == b.ns.identity() && with_c[0].name == name);

      // ids are per namespace: b has given none.
      NET_TRY(auto in_b, nsid::list(b.rtnl));
      NSFUN_EXPECT(in_b.empty());
      NSFUN_EXPECT(same_as_ip(in_b, list_id(b.ns)));

      // One set by ip (ip netns set NAME auto, run in c) is listed by nsfun.
      auto set = t::run(in_ns(c.ns) + " ip netns set " + name + " auto");
      NSFUN_EXPECT(set.status == 0);
      NET_TRY(auto in_c, nsid::list(c.rtnl));
      NSFUN_EXPECT(in_c.size() == 1 && in_c[0].id >= 0 && in_c[0].name == name);
      NSFUN_EXPECT(same_as_ip(in_c, list_id(c.ns)));

      NSFUN_EXPECT_OK(nsfun::netns::remove(name));
      // Unpinned: the id stays (b lives on), its name goes.
      NET_TRY(auto unpinned, nsid::list(a.rtnl));
      NSFUN_EXPECT(unpinned.size() == 2 && unpinned[0].name.empty());
      NSFUN_EXPECT(same_as_ip(unpinned, list_id(a.ns)));
      return 0;
    });
  }

  TEST_CASE("list errors name the namespace") {
    NSFUN_CHECK_CHILD([] {
      auto empty = nsid::list(nsfun::net::Rtnl());
      NSFUN_EXPECT(!empty);
      NSFUN_EXPECT(empty.error() == std::errc::bad_file_descriptor);
      NSFUN_EXPECT(empty.error().message().rfind("RTM_GETNSID", 0) == 0);
      return 0;
    });
  }
}
