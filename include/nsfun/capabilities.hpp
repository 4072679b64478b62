// SPDX-License-Identifier: MIT
// nsfun – capability sets for a spawned process: CapSet and Capabilities.
//
// A process has five capability sets (capabilities(7)): the bounding set (what it and its
// descendants can ever gain), effective, permitted, inheritable and ambient.
// Command::capabilities() gives a spawned process the five sets of a Capabilities value; the names
// come from libcap-ng (capng_name_to_capability, capng_capability_to_name), the sets are applied in
// the child with raw prctl(2) and capset(2) calls (see <nsfun/detail/security.hpp> for why not
// capng_apply()).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nsfun/config.hpp>
#include <nsfun/error.hpp>

namespace nsfun {

/// A set of capabilities, by number (CAP_CHOWN = 0 … CAP_CHECKPOINT_RESTORE = 40 on Linux 5.9+),
/// 0..63. A plain value: copying it costs a word.
class CapSet {
 public:
  /// The highest capability number a CapSet holds.
  static constexpr int max_cap = 63;

  constexpr CapSet() noexcept = default;

  /// The empty set.
  [[nodiscard]] static constexpr CapSet none() noexcept { return {}; }

  /// Every capability the running kernel knows (0../proc/sys/kernel/cap_last_cap; the
  /// compile-time CAP_LAST_CAP when that file cannot be read).
  [[nodiscard]] static CapSet all() noexcept;

  /// The set from its bits: bit N is capability N (the format of CapEff: in /proc/PID/status).
  [[nodiscard]] static constexpr CapSet from_bits(std::uint64_t bits) noexcept {
    CapSet s;
    s.bits_ = bits;
    return s;
  }

  /// The 14 capabilities runc, crun and Docker give a container's process by default (the OCI
  /// runtime spec's example config, moby's oci/caps/defaults.go): chown, dac_override, fsetid,
  /// fowner, mknod, net_raw, setgid, setuid, setfcap, setpcap, net_bind_service, sys_chroot,
  /// kill, audit_write.
  [[nodiscard]] static CapSet container_default() noexcept;

  /// Parses a comma-separated list of capability names, as libcap-ng knows them: with or
  /// without the "cap_" prefix, any case ("cap_net_admin,CAP_SYS_TIME", "chown"), or a number
  /// 0..63, bare or as "cap_N" (what name() prints for a number libcap-ng has no name for, so
  /// that to_string() always parses back to the same set, also for numbers past the running
  /// kernel's last capability); "all" is all(), an empty string (or "none") the empty set.
  /// Spaces around names are ignored.
  /// Errors: nsfun::errc::invalid_name (step "capability", naming the word that is not a
  /// capability, e.g. `capability "cap_bogus": not a capability name`).
  [[nodiscard]] static result<CapSet> parse(std::string_view text) noexcept;

  /// The name of one capability, "cap_net_admin" (libcap-ng's names with the "cap_" prefix, as
  /// capsh and setpriv print them); "cap_N" for a number libcap-ng does not know. Empty for a
  /// number outside 0..63.
  [[nodiscard]] static std::string name(int cap);

  /// The names, comma-separated in capability order: "cap_chown,cap_kill"; "" for none().
  [[nodiscard]] std::string to_string() const;

  CapSet& add(int cap) noexcept {
    if (cap >= 0 && cap <= max_cap) {
      bits_ |= std::uint64_t{1} << static_cast<unsigned>(cap);
    }
    return *this;
  }

  CapSet& remove(int cap) noexcept {
    if (cap >= 0 && cap <= max_cap) {
      bits_ &= ~(std::uint64_t{1} << static_cast<unsigned>(cap));
    }
    return *this;
  }

  CapSet& add(CapSet other) noexcept {
    bits_ |= other.bits_;
    return *this;
  }

  CapSet& remove(CapSet other) noexcept {
    bits_ &= ~other.bits_;
    return *this;
  }

  [[nodiscard]] constexpr bool contains(int cap) const noexcept {
    return cap >= 0 && cap <= max_cap &&
           (bits_ >> static_cast<unsigned>(cap) & std::uint64_t{1}) != 0;
  }

  /// True when every capability of `other` is in this set.
  [[nodiscard]] constexpr bool contains(CapSet other) const noexcept {
    return (other.bits_ & ~bits_) == 0;
  }

  [[nodiscard]] constexpr bool empty() const noexcept { return bits_ == 0; }

  /// How many capabilities the set holds.
  [[nodiscard]] int size() const noexcept;

  [[nodiscard]] constexpr std::uint64_t bits() const noexcept { return bits_; }

  friend constexpr bool operator==(CapSet, CapSet) noexcept = default;

 private:
  std::uint64_t bits_ = 0;
};

/// The five capability sets a spawned process ends with (capabilities(7)). The kernel's rules
/// hold: ambient ⊆ permitted ∩ inheritable and effective ⊆ permitted; spawn() refuses sets that
/// break them. Across execve(2) a process that is not set-user-ID and has no file capabilities
/// keeps its ambient set as its new permitted and effective sets, unless it runs as uid 0 (or
/// euid 0), whose permitted and effective sets become its bounding ∩ (inheritable ∪ the file's):
/// a root process started with only(keep) ends with `keep` effective, as under runc and crun.
struct Capabilities {
  CapSet bounding;
  CapSet effective;
  CapSet permitted;
  CapSet inheritable;
  CapSet ambient;

  /// bounding = effective = permitted = keep; inheritable and ambient empty (what
  /// `setpriv --bounding-set` plus `--inh-caps -all` and a capset give).
  [[nodiscard]] static Capabilities only(CapSet keep) noexcept {
    return Capabilities{keep, keep, keep, CapSet::none(), CapSet::none()};
  }

  /// What runc and crun give a container's process by default (the OCI spec's example
  /// config.json, Docker's default): CapSet::container_default() as bounding, effective and
  /// permitted; inheritable and ambient empty.
  [[nodiscard]] static Capabilities container_default() noexcept {
    return only(CapSet::container_default());
  }

  /// Checks the kernel's rules: effective ⊆ permitted ⊆ bounding, inheritable ⊆ bounding
  /// (or the child needs CAP_SETPCAP, which spawn does not assume), ambient ⊆ permitted ∩
  /// inheritable.
  /// Errors: std::errc::invalid_argument (step "capabilities", the reason naming the rule and
  /// the capabilities that break it, e.g. "ambient not in inheritable: cap_net_admin").
  [[nodiscard]] result<void> check() const noexcept;

  friend bool operator==(const Capabilities&, const Capabilities&) = default;
};

namespace detail::security {

/// Child side, before the uid change (needs CAP_SETPCAP): drops from the bounding set every
/// capability the kernel knows that caps.bounding lacks (prctl(PR_CAPBSET_DROP)). Raw prctl
/// calls: async-signal-safe, allocates nothing.
/// Errors: the errno of prctl (step "prctl", object "PR_CAPBSET_DROP cap_N", the number).
[[nodiscard]] result<void> drop_bounding(const Capabilities& caps) noexcept;

/// Child side, after setresuid (the caller sets PR_SET_KEEPCAPS before it, so that a change
/// away from uid 0 keeps the permitted set): sets the effective, permitted and inheritable sets
/// with capset(2), then clears the ambient set and raises each ambient capability
/// (prctl(PR_CAP_AMBIENT)). Async-signal-safe, allocates nothing.
/// Errors: std::errc::operation_not_permitted (step "capset": a set the process cannot reach,
/// e.g. permitted beyond what it holds); the errno of prctl (step "prctl", object
/// "PR_CAP_AMBIENT_RAISE cap_N").
[[nodiscard]] result<void> apply_sets(const Capabilities& caps) noexcept;

}  // namespace detail::security

}  // namespace nsfun

#ifdef NSFUN_HEADER_ONLY
#  include <nsfun/impl/capabilities.ipp>
#endif
