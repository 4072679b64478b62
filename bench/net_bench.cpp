// SPDX-License-Identifier: MIT
// nsfun::net benchmarks – the cheatsheet's veth setup and teardown, in process.
//
// Nothing touches the caller's namespaces: the "host" side is a network namespace acquired once
// per benchmark, and each iteration acquires the "NS" side afresh (like ip netns add).

#include <benchmark/benchmark.h>

#include <nsfun/acquire.hpp>
#include <nsfun/net/net.hpp>

namespace {

namespace net = nsfun::net;

// One setup and teardown: new netns, Rtnl in it, veth (peer moved in, or born there), addresses
// on both ends, both up, lo up; then the pair deleted and the namespace dropped.
bool cheatsheet_once(const net::Rtnl& host, bool move) {
  auto ns = nsfun::acquire<nsfun::NsType::net>();
  if (!ns) {
    return false;
  }
  auto inner = net::Rtnl::open(ns.value());
  if (!inner) {
    return false;
  }
  auto veth = move ? net::Veth::create(host, "nsftb0", "nsftb1")
                   : net::Veth::create(host, "nsftb0", "nsftb1", inner.value());
  if (!veth) {
    return false;
  }
  if (move && !veth.value().move_peer(inner.value())) {
    return false;
  }
  auto lo = net::Link::by_name(inner.value(), "lo");
  static const auto here = net::IpPrefix::parse("10.200.0.1/24").value();
  static const auto there = net::IpPrefix::parse("10.200.0.2/24").value();
  const auto& v = veth.value();
  return lo && net::add_address(v.first(), here) && net::add_address(v.peer(), there) &&
         v.first().set_up() && v.peer().set_up() && lo.value().set_up() && veth.value().remove();
}

void run(benchmark::State& state, bool move) {
  auto host_ns = nsfun::acquire<nsfun::NsType::net>();
  if (!host_ns) {
    state.SkipWithError("needs CAP_SYS_ADMIN for network namespaces");
    return;
  }
  auto host = net::Rtnl::open(host_ns.value());
  if (!host) {
    state.SkipWithError("rtnetlink socket in the namespace failed");
    return;
  }
  for (auto _ : state) {
    if (!cheatsheet_once(host.value(), move)) {
      state.SkipWithError("setup failed");
      return;
    }
  }
  state.SetItemsProcessed(state.iterations());
}

// The peer is created directly inside the new namespace (IFLA_NET_NS_FD).
void BM_Net_CheatsheetSetup(benchmark::State& state) {
  run(state, false);
}

BENCHMARK(BM_Net_CheatsheetSetup)->Unit(benchmark::kMillisecond)->UseRealTime();

// As the recipe does it: created beside the first end, then moved.
void BM_Net_CheatsheetSetupMove(benchmark::State& state) {
  run(state, true);
}

BENCHMARK(BM_Net_CheatsheetSetupMove)->Unit(benchmark::kMillisecond)->UseRealTime();

// One rtnetlink round trip: looking up lo by name.
void BM_Net_LinkByName(benchmark::State& state) {
  auto ns = nsfun::acquire<nsfun::NsType::net>();
  if (!ns) {
    state.SkipWithError("needs CAP_SYS_ADMIN for network namespaces");
    return;
  }
  auto rtnl = net::Rtnl::open(ns.value());
  if (!rtnl) {
    state.SkipWithError("rtnetlink socket in the namespace failed");
    return;
  }
  for (auto _ : state) {
    auto lo = net::Link::by_name(rtnl.value(), "lo");
    benchmark::DoNotOptimize(lo);
  }
}

BENCHMARK(BM_Net_LinkByName);

}  // namespace
