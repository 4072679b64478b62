// SPDX-License-Identifier: MIT
// nsfun::net – private: building rtnetlink requests and reading attributes with libmnl, without
// the libmnl/linux macros that cast C-style.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <libmnl/libmnl.h>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <nsfun/error.hpp>
#include <nsfun/net/rtnl.hpp>

namespace nsfun::net::detail {

/// One request message in a buffer of its own (4 KiB: far more than any request here needs).
class Msg {
 public:
  Msg(std::uint16_t type, std::uint16_t flags) noexcept {
    nlh_ = mnl_nlmsg_put_header(buf_.data());
    nlh_->nlmsg_type = type;
    nlh_->nlmsg_flags = flags;
  }

  Msg(const Msg&) = delete;
  Msg& operator=(const Msg&) = delete;

  /// Appends a zeroed fixed header (ifinfomsg, ifaddrmsg, rtmsg, …) and returns it.
  template <class T>
  T& extra() noexcept {
    return *static_cast<T*>(mnl_nlmsg_put_extra_header(nlh_, sizeof(T)));
  }

  void put_str(std::uint16_t type, std::string_view s) noexcept {
    // NUL-terminated, as the kernel's NLA_STRING / NLA_NUL_STRING policies expect.
    char tmp[256] = {};
    std::size_t n = s.size() < sizeof(tmp) - 1 ? s.size() : sizeof(tmp) - 1;
    std::memcpy(tmp, s.data(), n);
    mnl_attr_put(nlh_, type, n + 1, tmp);
  }

  void put_u32(std::uint16_t type, std::uint32_t v) noexcept { mnl_attr_put_u32(nlh_, type, v); }

  void put_u16(std::uint16_t type, std::uint16_t v) noexcept { mnl_attr_put_u16(nlh_, type, v); }

  void put_u8(std::uint16_t type, std::uint8_t v) noexcept { mnl_attr_put_u8(nlh_, type, v); }

  void put_bytes(std::uint16_t type, const void* data, std::size_t len) noexcept {
    mnl_attr_put(nlh_, type, len, data);
  }

  [[nodiscard]] nlattr* nest_start(std::uint16_t type) noexcept {
    return mnl_attr_nest_start(nlh_, type);
  }

  void nest_end(nlattr* nest) noexcept { mnl_attr_nest_end(nlh_, nest); }

  [[nodiscard]] nlmsghdr& hdr() noexcept { return *nlh_; }

 private:
  alignas(nlmsghdr) std::array<char, 4096> buf_{};
  nlmsghdr* nlh_;
};

/// Attributes by type, up to type N - 1 (others ignored).
template <std::size_t N>
using AttrTable = std::array<const nlattr*, N>;

/// mnl_attr_parse_payload's callback for parse_attrs: `data` is the table and its size.
inline int collect_attr(const nlattr* attr, void* data) noexcept {
  auto* table = static_cast<std::pair<const nlattr**, std::size_t>*>(data);
  std::uint16_t type = mnl_attr_get_type(attr);
  if (type < table->second) {
    table->first[type] = attr;
  }
  return MNL_CB_OK;
}

/// Fills `tb` with the attributes of `len` bytes at `payload`.
inline void parse_attrs(const void* payload,
                        std::size_t len,
                        const nlattr** tb,
                        std::size_t n) noexcept {
  std::pair<const nlattr**, std::size_t> table{tb, n};
  mnl_attr_parse_payload(payload, len, collect_attr, &table);
}

/// The attributes of a message after its fixed header of `offset` bytes.
template <std::size_t N>
AttrTable<N> parse(const nlmsghdr& nlh, std::size_t offset) noexcept {
  AttrTable<N> tb{};
  const char* payload = static_cast<const char*>(mnl_nlmsg_get_payload(&nlh));
  std::size_t total = mnl_nlmsg_get_payload_len(&nlh);
  std::size_t aligned = (offset + 3U) & ~std::size_t{3};
  if (aligned <= total) {
    parse_attrs(payload + aligned, total - aligned, tb.data(), N);
  }
  return tb;
}

/// The attributes nested in `attr`.
template <std::size_t N>
AttrTable<N> parse_nested(const nlattr* attr) noexcept {
  AttrTable<N> tb{};
  parse_attrs(mnl_attr_get_payload(attr), mnl_attr_get_payload_len(attr), tb.data(), N);
  return tb;
}

/// The fixed header of a reply (copied: no alignment assumed), or a zeroed one when too short.
template <class T>
T header_of(const nlmsghdr& nlh) noexcept {
  T h{};
  if (mnl_nlmsg_get_payload_len(&nlh) >= sizeof(T)) {
    std::memcpy(&h, mnl_nlmsg_get_payload(&nlh), sizeof(T));
  }
  return h;
}

inline std::string attr_str(const nlattr* a) {
  const char* p = static_cast<const char*>(mnl_attr_get_payload(a));
  std::size_t n = mnl_attr_get_payload_len(a);
  while (n > 0 && p[n - 1] == '\0') {
    --n;
  }
  return {p, n};
}

inline std::uint32_t attr_u32(const nlattr* a) noexcept {
  std::uint32_t v = 0;
  if (mnl_attr_get_payload_len(a) >= sizeof(v)) {
    std::memcpy(&v, mnl_attr_get_payload(a), sizeof(v));
  }
  return v;
}

/// A number attribute of type T (an integral type, host byte order as the kernel sends it), or 0
/// when the payload is shorter than T.
template <class T>
T attr_num(const nlattr* a) noexcept {
  T v = 0;
  if (mnl_attr_get_payload_len(a) >= sizeof(v)) {
    std::memcpy(&v, mnl_attr_get_payload(a), sizeof(v));
  }
  return v;
}

/// Names a dump's namespace as the error's object: "RTM_GETLINK dump in net:[4026532301]"
/// (nothing for an empty Rtnl, whose error already says so).
inline void on_dump_of(error& e, const Rtnl& rtnl) noexcept {
  if (rtnl) {
    e.on("dump in net:[", rtnl.netns().identity().ino(), "]");
  }
}

/// The current name of the link with `index` in the namespace of `rtnl` (one RTM_GETLINK), or
/// nothing when the kernel does not know it (or the request fails).
[[nodiscard]] inline std::optional<std::string> link_name(const Rtnl& rtnl, int index) {
  if (index <= 0) {
    return std::nullopt;
  }
  Msg m(RTM_GETLINK, 0);
  auto& ifi = m.extra<ifinfomsg>();
  ifi.ifi_family = AF_UNSPEC;
  ifi.ifi_index = index;
  std::optional<std::string> name;
  auto asked = rtnl.request(m.hdr(), "RTM_GETLINK", [&](const nlmsghdr& h) -> result<void> {
    if (h.nlmsg_type == RTM_NEWLINK) {
      auto tb = parse<IFLA_MAX + 1>(h, sizeof(ifinfomsg));
      if (tb[IFLA_IFNAME] != nullptr) {
        name = attr_str(tb[IFLA_IFNAME]);
      }
    }
    return success();
  });
  if (!asked) {
    return std::nullopt;
  }
  return name;
}

/// The current name of the link with `index` in the namespace of `rtnl` (one RTM_GETLINK), for
/// errors; "index N" when the kernel does not know it.
[[nodiscard]] inline std::string link_label(const Rtnl& rtnl, int index) {
  if (auto name = link_name(rtnl, index)) {
    return std::move(*name);
  }
  return "index " + std::to_string(index);
}

/// Deletes a link by name (RTM_DELLINK with IFLA_IFNAME): the way back when a link was created
/// but its index could not be read, so that a failed create leaves nothing.
inline void delete_by_name(const Rtnl& rtnl, std::string_view name) noexcept {
  Msg m(RTM_DELLINK, 0);
  auto& ifi = m.extra<ifinfomsg>();
  ifi.ifi_family = AF_UNSPEC;
  m.put_str(IFLA_IFNAME, name);
  (void)rtnl.request(m.hdr(), "RTM_DELLINK");
}

}  // namespace nsfun::net::detail
