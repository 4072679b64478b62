// SPDX-License-Identifier: MIT
// nsfun::net – sysctl per network namespace (net.ipv4.ip_forward and friends).
#pragma once

#include <string>
#include <string_view>

#include <nsfun/config.hpp>
#include <nsfun/error.hpp>
#include <nsfun/ns_fd.hpp>

namespace nsfun::net::sysctl {

/// Writes `value` to the sysctl `key` of namespace `ns`: sysctl -w KEY=VALUE as run inside it.
/// `key` is dotted ("net.ipv4.ip_forward") or a path under /proc/sys ("net/ipv4/conf/eth0.10/
/// forwarding", for names that contain dots).
///
/// /proc/sys/net shows the namespace of the thread that *opens* the file, so the file is opened
/// and written on a short-lived thread inside `ns` (run_in); the caller's threads never move.
/// Needs: CAP_NET_ADMIN in the namespace's user namespace (and CAP_SYS_ADMIN there to enter it).
/// Errors: std::errc::invalid_argument (empty key, "..", leading '/': `sysctl key "KEY": why`;
/// or a value the kernel refuses: `write "abc" to /proc/sys/net/ipv4/ip_forward: Invalid
/// argument`), std::errc::no_such_file_or_directory (no such key: `open /proc/sys/…: No such
/// file or directory`), std::errc::bad_file_descriptor (empty `ns`),
/// std::errc::permission_denied. Errors name the file (or the key, before there is one).
[[nodiscard]] result<void> write(const NetNs& ns,
                                 std::string_view key,
                                 std::string_view value) noexcept;

/// Reads the sysctl `key` of namespace `ns`, without the trailing newline ("1").
[[nodiscard]] result<std::string> read(const NetNs& ns, std::string_view key) noexcept;

}  // namespace nsfun::net::sysctl

#ifdef NSFUN_HEADER_ONLY
#  include <nsfun/net/impl/sysctl.ipp>
#endif
