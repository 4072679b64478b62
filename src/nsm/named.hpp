// SPDX-License-Identifier: MIT
// nsm – named namespace sets (create, enter, exec, inspect, list, destroy): the CLI glue over
// nsfun::NamedSet (<nsfun/named_set.hpp>), which owns the /run/nsm layout.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nsfun/error.hpp>
#include <nsfun/named_set.hpp>
#include <nsfun/ns_fd.hpp>
#include <nsfun/ns_type.hpp>

#include "cli.hpp"

namespace nsm::named {

inline constexpr const char* run_dir = nsfun::named_set_dir;

/// One namespace of a set, as its pin shows it.
using PinView = nsfun::NamedSetPin;

/// A set as list and inspect show it: what is wrong makes it stale (`problems`).
using SetView = nsfun::NamedSetInfo;

/// `[A-Za-z0-9_.-]{1,64}`, and not "." or "..".
[[nodiscard]] bool valid_name(std::string_view name) noexcept;

/// Throws UsageError for `command` when `name` is not valid.
void check_name(const std::string& command, const std::string& name);

/// Throws Failure{command, "needs root (CAP_SYS_ADMIN)"} unless the effective uid is 0.
void require_root(const std::string& command);

/// Throws Failure{name, "no such named namespace set"}.
[[noreturn]] void no_such_set(const std::string& name);

/// Throws the Failure for a library error about the set `name`: `nsm: NAME: REASON` when the
/// error is about the set itself ("already exists"), else `nsm: NAME: <the error's message>`.
[[noreturn]] void fail_set(const std::string& name, const nsfun::error& e);

/// Every set in /run/nsm, sorted by name. Empty, without an error, when /run/nsm does not exist
/// or the caller may not read it (or it is unsafe to use).
[[nodiscard]] std::vector<SetView> list_sets();

/// The namespaces of the set `name` to run a command in: all its pins, or those of `types`. A
/// name that is not in /run/nsm but in /run/netns (made by `ip netns add`) is a net-only set.
/// Throws UsageError for a bad name, Failure when the caller is not root, the set does not exist,
/// has no pins, or lacks one of `types`.
[[nodiscard]] nsfun::NsFdSet open_for_enter(const std::string& command,
                                            const std::string& name,
                                            std::optional<nsfun::NsTypeSet> types);

}  // namespace nsm::named
