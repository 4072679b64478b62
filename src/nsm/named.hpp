// SPDX-License-Identifier: MIT
// nsm – the layout of named namespace sets under /run/nsm (create, enter, exec, destroy).
//
//   /run/nsm/            root-owned 0700, a private mount (so pins never propagate)
//   /run/nsm/NAME/       0700
//   /run/nsm/NAME/TYPE   one pin (bind mount of the nsfs file) per namespace type
//   /run/nsm/NAME/meta.json
//
// Every access inside /run/nsm goes through a directory fd and refuses symbolic links.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <sys/types.h>

#include <nsfun/namespace.hpp>
#include <nsfun/ns_fd.hpp>
#include <nsfun/ns_type.hpp>
#include <nsfun/unique_fd.hpp>

#include "cli.hpp"

namespace nsm::named {

inline constexpr const char* run_dir = "/run/nsm";
inline constexpr const char* meta_file = "meta.json";

/// `[A-Za-z0-9_.-]{1,64}`, and not "." or "..".
[[nodiscard]] bool valid_name(std::string_view name) noexcept;

/// Throws UsageError for `command` when `name` is not valid.
void check_name(const std::string& command, const std::string& name);

/// Throws Failure{command, "needs root (CAP_SYS_ADMIN)"} unless the effective uid is 0.
void require_root(const std::string& command);

/// Throws Failure{name, "no such named namespace set"}.
[[noreturn]] void no_such_set(const std::string& name);

/// Opens /run/nsm (O_DIRECTORY|O_NOFOLLOW). With `create`, makes it (root-owned, 0700) and
/// makes it a private mount first. Without, returns an empty fd when it does not exist.
/// Throws Failure when it is not a root-owned directory closed to others.
[[nodiscard]] nsfun::UniqueFd open_run_dir(bool create);

/// Opens /run/nsm to read it (no creation): an empty fd when it does not exist. When the caller
/// may not read it, throws Failure{command, "needs root (CAP_DAC_READ_SEARCH) to read /run/nsm"}.
[[nodiscard]] nsfun::UniqueFd open_run_dir_to_read(const std::string& command);

/// Opens /run/nsm/NAME without following a symlink; empty fd when it does not exist.
[[nodiscard]] nsfun::UniqueFd open_set_dir(const nsfun::UniqueFd& run, const std::string& name);

/// A path to `entry` inside the directory `dir`, through /proc/self/fd (no lookup of the
/// directory's own path, so nothing in /run/nsm is resolved again).
[[nodiscard]] std::string entry_path(const nsfun::UniqueFd& dir, std::string_view entry);

/// What meta.json says.
struct Meta {
  std::string name;
  nsfun::NsTypeSet types;
  std::string created;
  uid_t creator = 0;
  std::optional<pid_t> holder;
};

[[nodiscard]] Json to_json(const Meta& m);

/// Reads meta.json of an open set directory; nothing when missing or unreadable.
[[nodiscard]] std::optional<Meta> read_meta(const nsfun::UniqueFd& set);

/// Writes meta.json (O_EXCL|O_NOFOLLOW, 0600). Throws Failure.
void write_meta(const nsfun::UniqueFd& set, const Meta& m);

/// The pins present in a set directory, opened and type-checked. Throws Failure for a pin that
/// exists but does not open.
[[nodiscard]] nsfun::NsFdSet open_pins(const nsfun::UniqueFd& set, const std::string& name);

/// One namespace of a set, as its pin shows it.
struct PinView {
  nsfun::NsType type = nsfun::NsType::user;
  bool pinned = false;      ///< the pin opens as a namespace of that type
  nsfun::Namespace ns;      ///< its identity, when pinned
  std::uint64_t owner = 0;  ///< inode of its owning user namespace; 0 when unknown
};

/// A set as list and inspect show it. Reading it never fails: what is wrong makes it stale.
struct SetView {
  std::string name;
  std::optional<Meta> meta;   ///< nothing when meta.json is missing or unreadable
  nsfun::NsTypeSet types;     ///< meta's types, or the pins found when there is no meta
  std::vector<PinView> pins;  ///< one per type of `types` and per pin file found, nsfun order
  bool running = false;       ///< every pin opens, and the holder (if any) still holds it
  std::vector<std::string> problems;  ///< why it is stale; empty when running

  [[nodiscard]] const char* state() const noexcept { return running ? "running" : "stale"; }
};

/// Reads the set `name` from its open directory `set`.
[[nodiscard]] SetView view_set(const nsfun::UniqueFd& set, const std::string& name);

/// Every set in /run/nsm, sorted by name. Empty, without an error, when /run/nsm does not exist
/// or the caller may not read it (costs one failed open then); sets that vanish meanwhile and
/// entries that are not set directories are skipped.
[[nodiscard]] std::vector<SetView> list_sets();

/// True when process `pid` is alive (not a zombie) and in the pid namespace `pidns`: the holder
/// of a set, and not a process that reused its pid.
[[nodiscard]] bool is_holder(pid_t pid, const nsfun::Namespace& pidns);

/// After the last set is gone: when /run/nsm is empty, undoes the private self-bind that
/// open_run_dir(true) made and removes the directory. Best effort.
void tidy_run_dir();

/// The current time as ISO 8601 UTC ("2025-01-31T12:00:00Z").
[[nodiscard]] std::string now_iso8601();

/// The namespaces of the set `name` to run a command in: all its pins, or those of `types`.
/// Throws UsageError for a bad name, Failure when the caller is not root, the set does not exist,
/// has no pins, or lacks one of `types`.
[[nodiscard]] nsfun::NsFdSet open_for_enter(const std::string& command,
                                            const std::string& name,
                                            std::optional<nsfun::NsTypeSet> types);

}  // namespace nsm::named
