// SPDX-License-Identifier: MIT
// nsfun::net – policy routing rules (ip rule): which routing table a packet is looked up in.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <sys/socket.h>

#include <nsfun/config.hpp>
#include <nsfun/error.hpp>
#include <nsfun/net/address.hpp>
#include <nsfun/net/route.hpp>
#include <nsfun/net/rtnl.hpp>

namespace nsfun::net {

/// What a rule does with a packet it matches (the kernel's FR_ACT_* values).
enum class RuleAction : std::uint8_t {
  lookup = 1,       ///< FR_ACT_TO_TBL: look the route up in Rule::table (ip rule … lookup T)
  goto_rule = 2,    ///< FR_ACT_GOTO: go on at the rule Rule::goto_target (ip rule … goto N)
  nop = 3,          ///< FR_ACT_NOP: nothing (ip rule … nop)
  blackhole = 6,    ///< FR_ACT_BLACKHOLE: drop silently
  unreachable = 7,  ///< FR_ACT_UNREACHABLE: drop, "Network is unreachable"
  prohibit = 8,     ///< FR_ACT_PROHIBIT: drop, "Permission denied"
};

/// The action as `ip rule` names it: "lookup", "goto", "nop", "blackhole", "unreachable",
/// "prohibit"; "" for a value that is none of them.
[[nodiscard]] std::string_view to_string(RuleAction action) noexcept;

/// A policy routing rule (ip rule). Selectors left empty match every packet.
///
/// Only these selectors are modelled; a listed rule that has others (tos, uidrange, ipproto,
/// sport, dport, l3mdev, suppress_prefixlength) shows without them, and remove_rule() of it
/// removes the first rule matching what is modelled.
struct Rule {
  int family = AF_INET;                   ///< AF_INET or AF_INET6
  std::optional<std::uint32_t> priority;  ///< pref; none on add: the kernel picks one below the
                                          ///< last rule (list_rules() always fills it)
  RuleAction action = RuleAction::lookup;
  std::uint32_t table = main_table;     ///< for RuleAction::lookup (listed as 0 for other actions)
  std::uint32_t goto_target = 0;        ///< the priority RuleAction::goto_rule goes on at
  std::optional<IpPrefix> from;         ///< source prefix (FRA_SRC)
  std::optional<IpPrefix> to;           ///< destination prefix (FRA_DST)
  std::string iif;                      ///< input interface name (FRA_IIFNAME); need not exist yet
  std::string oif;                      ///< output interface name (FRA_OIFNAME)
  std::optional<std::uint32_t> fwmark;  ///< the packet's mark, under fwmask (FRA_FWMARK)
  std::uint32_t fwmask = 0xFFFFFFFFU;   ///< FRA_FWMASK; all ones: the whole mark must match
  bool invert = false;                  ///< "not": matches what the selectors do not

  friend bool operator==(const Rule&, const Rule&) = default;
};

/// ip rule add. Wraps: RTM_NEWRULE with NLM_F_CREATE | NLM_F_EXCL. Needs: CAP_NET_ADMIN.
/// Errors name the rule in ip-rule words, with the kernel's extended ack:
/// "RTM_NEWRULE priority 100 from 10.0.0.0/24 lookup 100: File exists";
/// std::errc::file_exists (the same rule is there), std::errc::invalid_argument (a family other
/// than AF_INET/AF_INET6, a prefix of the other family, a bad interface name, table 0 for a
/// lookup: refused before the kernel, with the reason; a goto to an earlier rule: the kernel's
/// "Backward goto not supported.").
[[nodiscard]] result<void> add_rule(const Rtnl& rtnl, const Rule& rule) noexcept;

/// ip rule del: removes the first rule that matches every field given (as `ip rule del` does:
/// a Rule with only a priority removes the rule at that priority).
/// Wraps: RTM_DELRULE. Errors: std::errc::no_such_file_or_directory (no such rule), named as
/// for add_rule().
[[nodiscard]] result<void> remove_rule(const Rtnl& rtnl, const Rule& rule) noexcept;

/// The rules of one family (AF_INET, AF_INET6), in the kernel's order (by priority), the
/// default ones (local, main, default) included: ip rule show.
/// Wraps: RTM_GETRULE dump. Errors name the namespace ("RTM_GETRULE dump in net:[…]: …").
[[nodiscard]] result<std::vector<Rule>> list_rules(const Rtnl& rtnl, int family = AF_INET) noexcept;

}  // namespace nsfun::net

#ifdef NSFUN_HEADER_ONLY
#  include <nsfun/net/impl/rule.ipp>
#endif
