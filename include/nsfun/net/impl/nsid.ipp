// SPDX-License-Identifier: MIT
// nsfun::net – namespace ids: the implementation (see <nsfun/config.hpp>). RTM_GETNSID /
// RTM_NEWNSID with NETNSA_FD or NETNSA_PID.
#pragma once

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include <linux/net_namespace.h>
#include <linux/rtnetlink.h>

#include <nsfun/config.hpp>
#include <nsfun/error.hpp>
#include <nsfun/net/detail/nl.hpp>
#include <nsfun/net/nsid.hpp>
#include <nsfun/net/rtnl.hpp>
#include <nsfun/ns_fd.hpp>
#include <nsfun/persist.hpp>

namespace nsfun::net {

namespace detail {

// Names the peer of a request in its error: "net:[4026532301]" or "pid 42".
struct NsidPeer {
  const NetNs* ns = nullptr;
  pid_t pid = 0;

  void name_in(error& e) const noexcept {
    if (ns != nullptr) {
      e.on("of net:[", ns->identity().ino(), "]");
    } else {
      e.on("of pid ", pid);
    }
  }
};

// Puts the peer in a request: NETNSA_FD (the namespace's fd) or NETNSA_PID.
inline void put_peer(Msg& m, const NsidPeer& peer) noexcept {
  if (peer.ns != nullptr) {
    m.put_u32(NETNSA_FD, static_cast<std::uint32_t>(peer.ns->get()));
  } else {
    m.put_u32(NETNSA_PID, static_cast<std::uint32_t>(peer.pid));
  }
}

inline result<std::int32_t> nsid_get(const Rtnl& rtnl, const NsidPeer& peer) noexcept {
  if (peer.ns != nullptr && !*peer.ns) {
    error e = errno_error(EBADF, "RTM_GETNSID");
    e.because("empty NetNs");
    return e;
  }
  Msg m(RTM_GETNSID, 0);
  m.extra<rtgenmsg>().rtgen_family = AF_UNSPEC;
  put_peer(m, peer);
  std::int32_t id = nsid::unassigned;
  auto asked = rtnl.request(m.hdr(), "RTM_GETNSID", [&](const nlmsghdr& h) -> result<void> {
    if (h.nlmsg_type == RTM_NEWNSID) {
      auto tb = parse<NETNSA_MAX + 1>(h, sizeof(rtgenmsg));
      if (tb[NETNSA_NSID] != nullptr) {
        id = static_cast<std::int32_t>(attr_u32(tb[NETNSA_NSID]));
      }
    }
    return success();
  });
  if (!asked) {
    error e = asked.assume_error();
    peer.name_in(e);
    return e;
  }
  return id;
}

// `ip netns list-id`: the ids of the dump, then their peers among the pinned namespaces (and
// the candidates).
inline result<std::vector<nsid::Entry>> nsid_list(const Rtnl& rtnl,
                                                  const std::vector<NetNs>* candidates) noexcept {
  try {
    Msg m(RTM_GETNSID, 0);
    m.extra<rtgenmsg>().rtgen_family = AF_UNSPEC;
    std::vector<nsid::Entry> out;
    NSFUN_TRYV(with_context(rtnl.dump(
                                m.hdr(), "RTM_GETNSID", [&] { out.clear(); },
                                [&](const nlmsghdr& h) -> result<void> {
                                  if (h.nlmsg_type != RTM_NEWNSID) {
                                    return success();
                                  }
                                  auto tb = parse<NETNSA_MAX + 1>(h, sizeof(rtgenmsg));
                                  if (tb[NETNSA_NSID] != nullptr) {
                                    nsid::Entry e;
                                    e.id = static_cast<std::int32_t>(attr_u32(tb[NETNSA_NSID]));
                                    out.push_back(std::move(e));
                                  }
                                  return success();
                                }),
                            [&](error& e) noexcept { on_dump_of(e, rtnl); }));
    std::sort(out.begin(), out.end(),
              [](const nsid::Entry& a, const nsid::Entry& b) { return a.id < b.id; });
    auto match = [&](const NetNs& ns, const std::string& name) {
      auto id = nsid_get(rtnl, {&ns, 0});
      if (!id || id.assume_value() < 0) {
        return;
      }
      for (nsid::Entry& e : out) {
        if (e.id == id.assume_value()) {
          if (!e.peer) {
            e.peer = ns.identity();
          }
          if (e.name.empty()) {
            e.name = name;
          }
        }
      }
    };
    if (!out.empty()) {
      // A pin that cannot be opened (gone meanwhile, not a namespace) names nothing: ip skips
      // it too.
      if (auto names = nsfun::netns::list()) {
        for (const std::string& name : names.assume_value()) {
          if (auto ns = nsfun::netns::open(name)) {
            match(ns.assume_value(), name);
          }
        }
      }
      if (candidates != nullptr) {
        for (const NetNs& ns : *candidates) {
          if (ns) {
            match(ns, std::string());
          }
        }
      }
    }
    return out;
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "RTM_GETNSID");
  }
}

}  // namespace detail

NSFUN_INLINE result<std::vector<nsid::Entry>> nsid::list(const Rtnl& rtnl) noexcept {
  return detail::nsid_list(rtnl, nullptr);
}

NSFUN_INLINE result<std::vector<nsid::Entry>> nsid::list(
    const Rtnl& rtnl, const std::vector<NetNs>& candidates) noexcept {
  return detail::nsid_list(rtnl, &candidates);
}

NSFUN_INLINE result<std::int32_t> nsid::get(const Rtnl& rtnl, const NetNs& peer) noexcept {
  return detail::nsid_get(rtnl, {&peer, 0});
}

NSFUN_INLINE result<std::int32_t> nsid::get(const Rtnl& rtnl, pid_t pid) noexcept {
  return detail::nsid_get(rtnl, {nullptr, pid});
}

NSFUN_INLINE result<std::int32_t> nsid::set(const Rtnl& rtnl,
                                            const NetNs& peer,
                                            std::int32_t id) noexcept {
  detail::NsidPeer who{&peer, 0};
  auto refuse = [&](int err, const char* why) {
    error e = errno_error(err, "RTM_NEWNSID");
    who.name_in(e);
    e.because(why);
    return e;
  };
  if (!peer) {
    return refuse(EBADF, "empty NetNs");
  }
  if (id < automatic) {
    return refuse(EINVAL, "a namespace id is 0 or more (or nsid::automatic)");
  }
  detail::Msg m(RTM_NEWNSID, 0);
  m.extra<rtgenmsg>().rtgen_family = AF_UNSPEC;
  detail::put_peer(m, who);
  m.put_u32(NETNSA_NSID, static_cast<std::uint32_t>(id));
  auto done = rtnl.request(m.hdr(), "RTM_NEWNSID");
  if (!done) {
    error e = done.assume_error();
    if (id == automatic) {
      who.name_in(e);
    } else {
      e.on(id, " for net:[", peer.identity().ino(), "]");
    }
    return e;
  }
  return get(rtnl, peer);
}

}  // namespace nsfun::net
