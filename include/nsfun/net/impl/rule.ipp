// SPDX-License-Identifier: MIT
// nsfun::net – policy routing rules: the implementation (see <nsfun/config.hpp>).
// RTM_NEWRULE / RTM_DELRULE / RTM_GETRULE (struct fib_rule_hdr and FRA_* attributes).
#pragma once

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>

#include <nsfun/config.hpp>
#include <nsfun/error.hpp>
#include <nsfun/net/address.hpp>
#include <nsfun/net/detail/nl.hpp>
#include <nsfun/net/link.hpp>
#include <nsfun/net/rtnl.hpp>
#include <nsfun/net/rule.hpp>

namespace nsfun::net {

namespace detail {

inline std::string hex32(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "0x%x", v);
  return buf;
}

// A rule as errors name it, in ip-rule words:
// "priority 100 not from 10.0.0.0/24 to 10.5.0.0/16 fwmark 0x10/0xff iif nsft0 lookup 100".
inline std::string describe_rule(const Rule& r) {
  std::string text;
  if (r.priority) {
    text += "priority " + std::to_string(*r.priority) + " ";
  }
  if (r.invert) {
    text += "not ";
  }
  text += "from " + (r.from ? r.from->to_string() : std::string("all"));
  if (r.to) {
    text += " to " + r.to->to_string();
  }
  if (r.fwmark) {
    text += " fwmark " + hex32(*r.fwmark);
    if (r.fwmask != 0xFFFFFFFFU) {
      text += "/" + hex32(r.fwmask);
    }
  }
  if (!r.iif.empty()) {
    text += " iif " + r.iif;
  }
  if (!r.oif.empty()) {
    text += " oif " + r.oif;
  }
  switch (r.action) {
    case RuleAction::lookup:
      text += " lookup " + std::to_string(r.table);
      break;
    case RuleAction::goto_rule:
      text += " goto " + std::to_string(r.goto_target);
      break;
    default:
      text += " ";
      text += to_string(r.action);
      break;
  }
  return text;
}

// Why a rule cannot be asked for as it is, or "" when it can.
inline std::string_view rule_problem(const Rule& r, bool adding) noexcept {
  if (r.family != AF_INET && r.family != AF_INET6) {
    return "the family is not AF_INET or AF_INET6";
  }
  if ((r.from && r.from->address.family != r.family) ||
      (r.to && r.to->address.family != r.family)) {
    return "a prefix of another family than the rule's";
  }
  if (to_string(r.action).empty()) {
    return "not a rule action";
  }
  if (!r.iif.empty() && !check_ifname(r.iif)) {
    return "iif is not an interface name";
  }
  if (!r.oif.empty() && !check_ifname(r.oif)) {
    return "oif is not an interface name";
  }
  if (adding && r.action == RuleAction::lookup && r.table == 0) {
    return "a lookup in table 0 (RT_TABLE_UNSPEC)";
  }
  return {};
}

inline void put_prefix(Msg& m, std::uint16_t type, const IpPrefix& p) noexcept {
  IpPrefix net = p.network();
  m.put_bytes(type, net.address.bytes.data(), net.address.size());
}

inline result<void> rule_request(const Rtnl& rtnl,
                                 const Rule& r,
                                 std::uint16_t type,
                                 std::uint16_t flags,
                                 std::string_view step) noexcept {
  try {
    if (auto why = rule_problem(r, type == RTM_NEWRULE); !why.empty()) {
      return errno_error(EINVAL, step).on(describe_rule(r)).because(why);
    }
    Msg m(type, flags);
    auto& frh = m.extra<fib_rule_hdr>();
    frh.family = static_cast<std::uint8_t>(r.family);
    frh.action = static_cast<std::uint8_t>(r.action);
    if (r.invert) {
      frh.flags |= FIB_RULE_INVERT;
    }
    if (r.priority) {
      m.put_u32(FRA_PRIORITY, *r.priority);
    }
    if (r.action == RuleAction::lookup) {
      frh.table = static_cast<std::uint8_t>(r.table < 256 ? r.table : 0U);  // RT_TABLE_UNSPEC
      m.put_u32(FRA_TABLE, r.table);
    }
    if (r.action == RuleAction::goto_rule) {
      m.put_u32(FRA_GOTO, r.goto_target);
    }
    if (r.from) {
      frh.src_len = r.from->length;
      put_prefix(m, FRA_SRC, *r.from);
    }
    if (r.to) {
      frh.dst_len = r.to->length;
      put_prefix(m, FRA_DST, *r.to);
    }
    if (!r.iif.empty()) {
      m.put_str(FRA_IIFNAME, r.iif);
    }
    if (!r.oif.empty()) {
      m.put_str(FRA_OIFNAME, r.oif);
    }
    if (r.fwmark) {
      m.put_u32(FRA_FWMARK, *r.fwmark);
      if (r.fwmask != 0xFFFFFFFFU) {
        m.put_u32(FRA_FWMASK, r.fwmask);
      }
    }
    return with_context(rtnl.request(m.hdr(), step), [&](error& e) { e.on(describe_rule(r)); });
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, step);
  }
}

inline IpPrefix rule_prefix_from(const nlattr* a, int family, std::uint8_t length) noexcept {
  IpPrefix p;
  p.address.family = family;
  p.length = length;
  std::size_t n = p.address.size();
  if (mnl_attr_get_payload_len(a) >= n) {
    std::memcpy(p.address.bytes.data(), mnl_attr_get_payload(a), n);
  }
  return p;
}

// A rule message (RTM_NEWRULE) as a Rule.
inline Rule parse_rule(const nlmsghdr& h) {
  auto frh = header_of<fib_rule_hdr>(h);
  auto tb = parse<FRA_MAX + 1>(h, sizeof(fib_rule_hdr));
  Rule r;
  r.family = frh.family;
  r.action = static_cast<RuleAction>(frh.action);
  r.invert = (frh.flags & FIB_RULE_INVERT) != 0;
  r.priority = tb[FRA_PRIORITY] != nullptr ? attr_u32(tb[FRA_PRIORITY]) : 0U;
  r.table = tb[FRA_TABLE] != nullptr ? attr_u32(tb[FRA_TABLE]) : frh.table;
  if (tb[FRA_GOTO] != nullptr) {
    r.goto_target = attr_u32(tb[FRA_GOTO]);
  }
  if (tb[FRA_SRC] != nullptr) {
    r.from = rule_prefix_from(tb[FRA_SRC], r.family, frh.src_len);
  }
  if (tb[FRA_DST] != nullptr) {
    r.to = rule_prefix_from(tb[FRA_DST], r.family, frh.dst_len);
  }
  if (tb[FRA_IIFNAME] != nullptr) {
    r.iif = attr_str(tb[FRA_IIFNAME]);
  }
  if (tb[FRA_OIFNAME] != nullptr) {
    r.oif = attr_str(tb[FRA_OIFNAME]);
  }
  // The kernel sends the mask whenever a mark or a mask is set, and the mark when it is not 0.
  if (tb[FRA_FWMARK] != nullptr || tb[FRA_FWMASK] != nullptr) {
    r.fwmark = tb[FRA_FWMARK] != nullptr ? attr_u32(tb[FRA_FWMARK]) : 0U;
    if (tb[FRA_FWMASK] != nullptr) {
      r.fwmask = attr_u32(tb[FRA_FWMASK]);
    }
  }
  return r;
}

}  // namespace detail

NSFUN_INLINE std::string_view to_string(RuleAction action) noexcept {
  switch (action) {
    case RuleAction::lookup:
      return "lookup";
    case RuleAction::goto_rule:
      return "goto";
    case RuleAction::nop:
      return "nop";
    case RuleAction::blackhole:
      return "blackhole";
    case RuleAction::unreachable:
      return "unreachable";
    case RuleAction::prohibit:
      return "prohibit";
  }
  return {};
}

NSFUN_INLINE result<void> add_rule(const Rtnl& rtnl, const Rule& rule) noexcept {
  return detail::rule_request(rtnl, rule, RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL, "RTM_NEWRULE");
}

NSFUN_INLINE result<void> remove_rule(const Rtnl& rtnl, const Rule& rule) noexcept {
  return detail::rule_request(rtnl, rule, RTM_DELRULE, 0, "RTM_DELRULE");
}

NSFUN_INLINE result<std::vector<Rule>> list_rules(const Rtnl& rtnl, int family) noexcept {
  try {
    detail::Msg m(RTM_GETRULE, 0);
    auto& frh = m.extra<fib_rule_hdr>();
    frh.family = static_cast<std::uint8_t>(family);
    std::vector<Rule> out;
    NSFUN_TRYV(with_context(rtnl.dump(
                                m.hdr(), "RTM_GETRULE", [&] { out.clear(); },
                                [&](const nlmsghdr& h) -> result<void> {
                                  if (h.nlmsg_type != RTM_NEWRULE) {
                                    return success();
                                  }
                                  Rule r = detail::parse_rule(h);
                                  if (r.family == family) {
                                    out.push_back(std::move(r));
                                  }
                                  return success();
                                }),
                            [&](error& e) noexcept { detail::on_dump_of(e, rtnl); }));
    return out;
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "RTM_GETRULE");
  }
}

}  // namespace nsfun::net
