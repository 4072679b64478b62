// SPDX-License-Identifier: MIT
// links_bench – creates N links with one IPv4 address each, the way bench/compare_links.sh
// times it against `ip -batch` and against one `ip` process per command (issue 19).
//
//   links_bench [--count N] [--kind KIND] [--mode batch|single] [--new-netns] [--check]
//
// --mode batch (the default): one OwnedLinks::create, i.e. RtnlBatch: the N RTM_NEWLINK and N
// RTM_NEWADDR requests go out 128 per sendmsg and every ack is read. --mode single: one
// OwnedLink::create per link (RTM_NEWLINK, RTM_GETLINK, RTM_NEWADDR: three round trips each),
// as a program without batching would do it. KIND is "dummy" (the default) or any kind that
// needs no settings ("ifb" where the kernel lacks dummy). Links are named nsftbN and get
// 10.(100 + N / 256).(N % 256).1/24, as the script's ip commands do.
//
// The links are kept when the program ends, as `ip` leaves them: the namespace they are in
// goes with its sandbox (paired --sandbox) or, with --new-netns, with this process (a network
// namespace of its own, acquired first). --check lists the links and addresses afterwards and
// fails unless all N are there (not part of a timed run).
//
// Exit status: 0, 1 on a failure (printed), 2 on a usage error, 77 without CAP_NET_ADMIN.

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include <unistd.h>

#include <fmt/format.h>

#include <nsfun/acquire.hpp>
#include <nsfun/format.hpp>
#include <nsfun/net/address.hpp>
#include <nsfun/net/link_kinds.hpp>
#include <nsfun/net/rtnl.hpp>

namespace {

namespace net = nsfun::net;

struct Options {
  int count = 1000;
  std::string kind = "dummy";
  bool batch = true;
  bool new_netns = false;
  bool check = false;
};

[[noreturn]] void usage(int status) {
  std::fprintf(status == 0 ? stdout : stderr,
               "usage: links_bench [--count N] [--kind KIND] [--mode batch|single] [--new-netns] "
               "[--check]\n");
  std::exit(status);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto value = [&]() -> std::string_view {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "links_bench: %s needs a value\n", argv[i]);
        usage(2);
      }
      return argv[++i];
    };
    if (a == "--count") {
      o.count = std::atoi(std::string(value()).c_str());
      if (o.count <= 0 || o.count > 65536) {
        std::fprintf(stderr, "links_bench: --count: not in 1..65536\n");
        usage(2);
      }
    } else if (a == "--kind") {
      o.kind = value();
    } else if (a == "--mode") {
      std::string_view m = value();
      if (m != "batch" && m != "single") {
        std::fprintf(stderr, "links_bench: --mode: batch or single\n");
        usage(2);
      }
      o.batch = m == "batch";
    } else if (a == "--new-netns") {
      o.new_netns = true;
    } else if (a == "--check") {
      o.check = true;
    } else if (a == "-h" || a == "--help") {
      usage(0);
    } else {
      std::fprintf(stderr, "links_bench: unknown option %s\n", argv[i]);
      usage(2);
    }
  }
  return o;
}

int fail(const nsfun::error& e) {
  std::fprintf(stderr, "links_bench: %s\n", fmt::format("{}", e).c_str());
  return e == std::errc::operation_not_permitted ? 77 : 1;
}

std::vector<net::LinkSpec> specs(const Options& o) {
  std::vector<net::LinkSpec> out;
  out.reserve(static_cast<std::size_t>(o.count));
  for (int i = 0; i < o.count; ++i) {
    auto prefix = net::IpPrefix::parse(fmt::format("10.{}.{}.1/24", 100 + i / 256, i % 256));
    out.push_back(
        net::LinkSpec::of_kind(fmt::format("nsftb{}", i), o.kind).address(prefix.value()));
  }
  return out;
}

// The work of main(); what it throws (only std::bad_alloc, from the specs and the messages
// printed) is caught there.
int run(int argc, char** argv) {
  Options o = parse(argc, argv);
  nsfun::NetNs own;
  auto rtnl = [&]() -> nsfun::result<net::Rtnl> {
    if (o.new_netns) {
      NSFUN_TRY(own, nsfun::acquire<nsfun::NsType::net>());
      return net::Rtnl::open(own);
    }
    return net::Rtnl::open();
  }();
  if (!rtnl) {
    return fail(rtnl.error());
  }
  auto all = specs(o);
  if (o.batch) {
    auto links = net::OwnedLinks::create(rtnl.value(), all);
    if (!links) {
      return fail(links.error());
    }
    links.value().keep();
  } else {
    for (const auto& spec : all) {
      auto link = net::OwnedLink::create(rtnl.value(), spec);
      if (!link) {
        return fail(link.error());
      }
      link.value().keep();
    }
  }
  if (o.check) {
    auto links = net::Link::list(rtnl.value());
    auto addrs = net::list_addresses(rtnl.value(), AF_INET);
    if (!links || !addrs) {
      return fail(!links ? links.error() : addrs.error());
    }
    std::size_t ours = 0;
    for (const auto& l : links.value()) {
      ours += l.name.rfind("nsftb", 0) == 0 && l.kind == o.kind ? 1U : 0U;
    }
    std::size_t ten = 0;
    for (const auto& a : addrs.value()) {
      ten += a.prefix.address.bytes[0] == 10 ? 1U : 0U;
    }
    std::printf("%zu %s links, %zu addresses in 10/8\n", ours, o.kind.c_str(), ten);
    if (ours != static_cast<std::size_t>(o.count) || ten != static_cast<std::size_t>(o.count)) {
      std::fprintf(stderr, "links_bench: expected %d of each\n", o.count);
      return 1;
    }
  }
  return 0;
}
}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "links_bench: %s\n", e.what());
    return 1;
  }
}
