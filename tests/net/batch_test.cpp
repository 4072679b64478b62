// SPDX-License-Identifier: MIT
// nsfun::net tests – RtnlBatch and OwnedLinks: many requests per send, every ack read, failures
// named by their labels; 1,000 links with an address each, compared with what `ip -batch` makes
// of the same commands in another namespace; nothing left behind.
//
// The links are dummies where the kernel has them (CONFIG_DUMMY), else ifb devices (as simple:
// no peer, no parent).

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <unistd.h>

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <nsfun/format.hpp>
#include <nsfun/net/link_kinds.hpp>
#include <nsfun/net/net.hpp>

#include "net_test_helpers.hpp"
#include "test_support.hpp"

namespace {

using nsfun::net::test::in_ns;

namespace t = nsfun::test;
namespace nt = nsfun::net::test;
using nlohmann::json;
using nsfun::NsType;
using nsfun::net::IpPrefix;
using nsfun::net::Link;
using nsfun::net::LinkSpec;
using nsfun::net::OwnedLink;
using nsfun::net::OwnedLinks;
using nsfun::net::Rtnl;
using nsfun::net::RtnlBatch;

// "dummy" when the kernel has it, else "ifb".
std::string bulk_kind(const Rtnl& rtnl) {
  auto probe = OwnedLink::create(rtnl, LinkSpec::dummy("nsftprobe"));
  return probe || !(probe.error() == std::errc::operation_not_supported) ? "dummy" : "ifb";
}

// "name address/len" for every IPv4 address in the namespace, sorted, as `ip -j addr` shows.
std::vector<std::string> ip_addresses(const nsfun::NetNs& ns) {
  auto r = t::run(in_ns(ns) + " ip -j -4 addr show");
  std::vector<std::string> out;
  json all = json::parse(r.out, nullptr, false);
  if (!all.is_array()) {
    return out;
  }
  for (const auto& link : all) {
    for (const auto& a : link.value("addr_info", json::array())) {
      out.push_back(link.value("ifname", "") + " " + a.value("local", "") + "/" +
                    std::to_string(a.value("prefixlen", 0)));
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// An RTM_NEWLINK setting the MTU of the link with `index`, built by hand: RtnlBatch takes any
// request.
struct MtuRequest {
  nlmsghdr h{};
  ifinfomsg ifi{};
  nlattr attr{};
  std::uint32_t mtu = 0;

  MtuRequest(int index, std::uint32_t value) {
    h.nlmsg_len = sizeof(MtuRequest);
    h.nlmsg_type = RTM_NEWLINK;
    ifi.ifi_family = AF_UNSPEC;
    ifi.ifi_index = index;
    attr.nla_len = sizeof(nlattr) + sizeof(std::uint32_t);
    attr.nla_type = IFLA_MTU;
    mtu = value;
  }
};

static_assert(sizeof(MtuRequest) == 40, "no padding between the parts");

}  // namespace

TEST_SUITE("batch") {
  TEST_CASE("1000 links with an address each in one batch, as ip -batch makes them") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_REQUIRE(t::have_program("ip") && t::have_program("nsenter"), "needs ip and nsenter");
    NSFUN_CHECK_CHILD([] {
      NET_TRY(auto a, nt::make_ns());
      NET_TRY(auto b, nt::make_ns());
      const std::string kind = bulk_kind(a.rtnl);
      constexpr int n = 1000;
      std::vector<LinkSpec> specs;
      std::string commands;
      for (int i = 0; i < n; ++i) {
        std::string name = fmt::format("nsftb{}", i);
        std::string prefix = fmt::format("10.{}.{}.1/24", 100 + i / 256, i % 256);
        specs.push_back(LinkSpec::of_kind(name, kind).address(IpPrefix::parse(prefix).value()));
        commands +=
            fmt::format("link add {} type {}\naddr add {} dev {}\n", name, kind, prefix, name);
      }
      const std::size_t fds = t::open_fd_count();
      {
        NET_TRY(auto links, OwnedLinks::create(a.rtnl, specs));
        NSFUN_EXPECT(links.size() == n);
        NSFUN_EXPECT(links && links.links()[0].rtnl() == a.rtnl);
        // The Links name what was made: index and name as the kernel has them.
        for (int i : {0, 1, 499, 999}) {
          NET_TRY(auto info, links.links()[static_cast<std::size_t>(i)].info());
          NSFUN_EXPECT(info.name == fmt::format("nsftb{}", i));
          NSFUN_EXPECT(info.kind == kind);
        }
        // The same commands through ip -batch, in b: the same links and addresses.
        std::string file = "/tmp/nsfun-test-batch-" + std::to_string(::getpid());
        std::ofstream(file) << commands;
        auto ip = t::run(in_ns(b.ns) + " ip -batch " + file);
        ::unlink(file.c_str());
        NSFUN_EXPECT(ip.status == 0);
        auto ours = ip_addresses(a.ns);
        NSFUN_EXPECT(ours.size() == n + 1);  // and lo's 127.0.0.1
        NSFUN_EXPECT(ours == ip_addresses(b.ns));
        NSFUN_EXPECT(nt::link_names(a.rtnl) == nt::link_names(b.rtnl));
      }
      // Deleted together with the handle.
      NSFUN_EXPECT(nt::link_names(a.rtnl) == std::vector<std::string>{"lo"});
      NSFUN_EXPECT(ip_addresses(a.ns) == std::vector<std::string>{"lo 127.0.0.1/8"});
      NSFUN_EXPECT(t::open_fd_count() == fds);
      return 0;
    });
  }

  TEST_CASE("a failed request is named by its label, the others are carried out") {
    NSFUN_REQUIRE(t::can_unshare({NsType::net}), nt::no_netns);
    NSFUN_CHECK_CHILD([] {
      NET_TRY(auto a, nt::make_ns());
      const std::string kind = bulk_kind(a.rtnl);
      // OwnedLinks: a name twice. The batch goes through, the second create fails, and nothing
      // is left (the links that were made are deleted again).
      std::vector<LinkSpec> specs{
          LinkSpec::of_kind("nsftc0", kind), LinkSpec::of_kind("nsftc1", kind),
          LinkSpec::of_kind("nsftc1", kind), LinkSpec::of_kind("nsftc2", kind)};
      auto twice = OwnedLinks::create(a.rtnl, specs);
      NSFUN_EXPECT(!twice);
      NSFUN_EXPECT(twice.error() == std::errc::file_exists);
      NSFUN_EXPECT(nt::text_is(twice.error(), "batch request 3 of 4: RTM_NEWLINK nsftc1 type " +
                                                  kind + ": File exists"));
      NSFUN_EXPECT(nt::link_names(a.rtnl) == std::vector<std::string>{"lo"});
      // A bad name anywhere: nothing is sent.
      specs[3] = LinkSpec::of_kind("nsft-much-too-long", kind);
      NSFUN_EXPECT(OwnedLinks::create(a.rtnl, specs).error() == std::errc::filename_too_long);
      NSFUN_EXPECT(nt::link_names(a.rtnl) == std::vector<std::string>{"lo"});

      // RtnlBatch with requests built by hand: MTUs for three links, the middle one gone.
      specs.pop_back();
      specs.pop_back();
      specs.push_back(LinkSpec::of_kind("nsftc2", kind));
      NET_TRY(auto links, OwnedLinks::create(a.rtnl, specs));
      RtnlBatch batch = a.rtnl.batch();
      NSFUN_EXPECT(batch.empty());
      constexpr int gone = 999999;
      const int targets[] = {links.links()[0].index(), gone, links.links()[2].index()};
      for (std::size_t i = 0; i < 3; ++i) {
        MtuRequest req(targets[i], 1400);
        NSFUN_EXPECT_OK(
            batch.add(req.h, "RTM_NEWLINK", fmt::format("index {} mtu 1400", targets[i])));
      }
      NSFUN_EXPECT(batch.size() == 3);
      auto committed = batch.commit();
      NSFUN_EXPECT(!committed);
      NSFUN_EXPECT(batch.empty());
      NSFUN_EXPECT(committed.error() == std::errc::no_such_device);
      NSFUN_EXPECT(nt::text_is(committed.error(),
                               "batch request 2 of 3: RTM_NEWLINK index 999999 mtu 1400: No such "
                               "device"));
      NSFUN_EXPECT(batch.failures().size() == 1);
      NSFUN_EXPECT(batch.failures()[0].position == 1);
      NSFUN_EXPECT(links.links()[0].info().value().mtu == 1400);
      NSFUN_EXPECT(links.links()[2].info().value().mtu == 1400);

      // Two failures: the first named, the count said.
      for (std::size_t i = 0; i < 3; ++i) {
        MtuRequest req(i == 1 ? links.links()[1].index() : gone - static_cast<int>(i), 1300);
        NSFUN_EXPECT_OK(batch.add(req.h, "RTM_NEWLINK", fmt::format("request {}", i)));
      }
      auto two = batch.commit();
      NSFUN_EXPECT(batch.failures().size() == 2);
      NSFUN_EXPECT(two.error().context() == "batch request 1 of 3, 2 failed");
      NSFUN_EXPECT(two.error().object() == "request 0");
      NSFUN_EXPECT(batch.failures()[1].err.object() == "request 2");
      NSFUN_EXPECT(links.links()[1].info().value().mtu == 1300);

      // Nothing queued: nothing to do. An empty Rtnl: refused. A message shorter than a header.
      NSFUN_EXPECT_OK(batch.commit());
      RtnlBatch none;
      MtuRequest req(1, 1500);
      NSFUN_EXPECT_OK(none.add(req.h, "RTM_NEWLINK", "lo"));
      NSFUN_EXPECT(none.commit().error() == std::errc::bad_file_descriptor);
      req.h.nlmsg_flags = NLM_F_DUMP;
      NSFUN_EXPECT(batch.add(req.h, "RTM_GETLINK", "dump").error() == std::errc::invalid_argument);
      req.h.nlmsg_len = 4;
      NSFUN_EXPECT(batch.add(req.h, "RTM_NEWLINK", "lo").error() == std::errc::message_size);

      // Deleted together, also after a move of the handle.
      OwnedLinks moved = std::move(links);
      NSFUN_EXPECT(!links);  // NOLINT(bugprone-use-after-move): moved-from state is specified
      NSFUN_EXPECT_OK(moved.remove());
      NSFUN_EXPECT(nt::link_names(a.rtnl) == std::vector<std::string>{"lo"});
      return 0;
    });
  }
}
