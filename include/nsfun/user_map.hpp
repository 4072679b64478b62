// SPDX-License-Identifier: MIT
// nsfun – UserMap: uid/gid mappings of user namespaces: parse, validate, write, read back.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <sys/types.h>

#include <nsfun/config.hpp>
#include <nsfun/error.hpp>

namespace nsfun {

/// One line of /proc/PID/uid_map: ids [inside, inside+count) in the namespace are
/// [outside, outside+count) outside it.
struct IdRange {
  std::uint32_t inside = 0;
  std::uint32_t outside = 0;
  std::uint32_t count = 0;

  friend bool operator==(const IdRange&, const IdRange&) = default;
};

/// A uid or gid map: empty (no map), or a list of ranges the kernel would accept.
///
/// Every factory validates the way the kernel's map_write() does: 1 to 340 ranges; a count of at
/// least 1; inside + count and outside + count at most 4294967295 ((uid_t)-1 is never an id); no
/// two ranges overlapping inside, nor outside; and the text written to /proc/PID/uid_map shorter
/// than a page. (Whether the writer may map the outside ids is checked by the kernel when the
/// map is written: see UserMap::apply.)
///
/// A refused map is an nsfun::errc::invalid_id_map error whose step is "id map", whose object is
/// the map's text in quotes (at most 64 bytes of it, newlines shown as \n) and whose reason says
/// what is wrong, and where when the map has several ranges:
/// `id map "0:1000": missing count`, `id map "0:x:1": outside is not a number`,
/// `id map "0:1000:10,5:2000:10": overlapping inside ranges 0:1000:10 and 5:2000:10`.
class IdMap {
 public:
  /// The kernel's limit on lines in a map (Linux 4.15+).
  static constexpr std::size_t max_ranges = 340;

  /// An empty map: no range, nothing to write.
  IdMap() = default;

  /// Parses either the /proc/PID/uid_map text ("0 1000 1" per line, any spacing) or the compact
  /// form "0:1000:1" with ranges separated by commas; then validates. Blank lines are skipped;
  /// a text with no range is refused. Errors: nsfun::errc::invalid_id_map.
  [[nodiscard]] static result<IdMap> parse(std::string_view text) noexcept;

  /// Builds a map from ranges and validates it; the error names the ranges in the compact form.
  /// Errors: nsfun::errc::invalid_id_map.
  [[nodiscard]] static result<IdMap> from(std::vector<IdRange> ranges) noexcept;

  /// A single range mapping `count` ids from `inside` to `outside`, validated like from():
  /// `single(0, 4000000000, 1000000000)` is refused (the outside ids end beyond 32 bits).
  /// Errors: nsfun::errc::invalid_id_map.
  [[nodiscard]] static result<IdMap> single(std::uint32_t inside,
                                            std::uint32_t outside,
                                            std::uint32_t count = 1) noexcept;

  [[nodiscard]] const std::vector<IdRange>& ranges() const noexcept { return ranges_; }

  [[nodiscard]] bool empty() const noexcept { return ranges_.empty(); }

  /// The text the kernel takes in /proc/PID/uid_map: "0 1000 1\n…".
  [[nodiscard]] std::string to_proc() const;

  /// The compact form: "0:1000:1,1:100000:65536".
  [[nodiscard]] std::string to_string() const;

  /// The id outside that `inside` maps to, or -1 when unmapped.
  [[nodiscard]] std::int64_t to_outside(std::uint32_t inside) const noexcept;

  friend bool operator==(const IdMap&, const IdMap&) = default;

 private:
  std::vector<IdRange> ranges_;
};

/// The uid and gid maps of a user namespace, and how to write them. Each map is an IdMap, so
/// each is valid or empty however the UserMap was made; apply() refuses two empty maps.
struct UserMap {
  IdMap uid;
  IdMap gid;
  /// Write "deny" to /proc/PID/setgroups before gid_map. The kernel requires it when the writer
  /// lacks CAP_SETGID over the parent namespace (an unprivileged user mapping its own gid);
  /// apply() turns it on by itself in that case.
  bool deny_setgroups = false;

  /// `unshare --map-root-user`: root inside is the given user outside.
  /// Errors: nsfun::errc::invalid_id_map for (uid_t)-1 or (gid_t)-1, which are never ids
  /// (`uid map: id map "0:4294967295:1": outside ids end beyond 32 bits …`).
  [[nodiscard]] static result<UserMap> root_is(uid_t uid, gid_t gid) noexcept;

  /// `unshare --map-current-user`: the given user is itself inside.
  /// Errors: nsfun::errc::invalid_id_map for (uid_t)-1 or (gid_t)-1.
  [[nodiscard]] static result<UserMap> identity_of(uid_t uid, gid_t gid) noexcept;

  /// Root inside is `uid`, and 1..N inside are the subordinate ranges of `user` in /etc/subuid
  /// and /etc/subgid (as `unshare --map-auto` / rootless containers do). Writing such a map as an
  /// unprivileged user needs newuidmap/newgidmap (package uidmap): apply() uses them when the
  /// direct write is refused. Errors: std::errc::no_such_file_or_directory when `user` has no
  /// subordinate ranges (`find subordinate ids /etc/subuid: no range for alice or 1000`) or a
  /// file cannot be read; nsfun::errc::invalid_id_map when the ranges do not make a valid map.
  [[nodiscard]] static result<UserMap> subordinate(std::string_view user,
                                                   uid_t uid,
                                                   gid_t gid,
                                                   const char* subuid = "/etc/subuid",
                                                   const char* subgid = "/etc/subgid") noexcept;

  /// Writes the maps of process `pid`, which must be in a user namespace whose maps are still
  /// unset: setgroups first (when needed), then uid_map, then gid_map. When the kernel refuses
  /// a map with EPERM, the map is written again through newuidmap/newgidmap.
  /// Needs: CAP_SETUID/CAP_SETGID over the parent user namespace, or a map of the writer's own
  /// ids only. Errors name the file or helper: std::errc::operation_not_permitted
  /// (`newuidmap 4242: refused the map (exit status 1)`), std::errc::no_such_process
  /// (`open /proc/4242/uid_map: …`), nsfun::errc::invalid_id_map when both maps are empty.
  [[nodiscard]] result<void> apply(pid_t pid) const noexcept;

  /// The maps of process `pid` as the kernel shows them to the caller; a map not written yet is
  /// empty. Errors: std::errc::no_such_process (`read /proc/4242/uid_map: No such process`).
  [[nodiscard]] static result<UserMap> read(pid_t pid) noexcept;
};

}  // namespace nsfun

#ifdef NSFUN_HEADER_ONLY
// UserMap::apply runs newuidmap/newgidmap through spawn, and spawn.hpp includes this header: its
// end brings in <nsfun/impl/user_map.ipp>, once both headers are complete in either order.
#  include <nsfun/spawn.hpp>
#endif
