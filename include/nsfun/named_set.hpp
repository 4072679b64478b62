// SPDX-License-Identifier: MIT
// nsfun – named namespace sets: namespaces made together and kept under a name, as `nsm create`
// does (/run/nsm/NAME/, one pin per type plus meta.json).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <sys/types.h>

#include <nsfun/config.hpp>
#include <nsfun/error.hpp>
#include <nsfun/namespace.hpp>
#include <nsfun/ns_fd.hpp>
#include <nsfun/ns_type.hpp>
#include <nsfun/user_map.hpp>

namespace nsfun {

/// Where named sets live unless told otherwise (what `nsm` uses).
///
///     BASE/            owned by the caller, mode 0700, a private mount (so that a pinned mount
///                      namespace never propagates into itself)
///     BASE/NAME/       0700, owned by the caller
///     BASE/NAME/TYPE   one pin (a bind mount of the nsfs file) per namespace type
///     BASE/NAME/meta.json   name, types, created, creator, holder, netns (at most 4 KiB)
///
/// Nothing under BASE is followed: every file is opened through a directory fd with O_NOFOLLOW
/// and O_NONBLOCK, and only a regular file is read as a pin or as meta.json.
///
/// Changes to BASE itself (its self-bind, made by the first create; its removal by the last
/// destroy) are made under flock(2) on BASE, so that creates and destroys running at once never
/// stack two self-binds (which would hide a pin) nor remove BASE under a create.
inline constexpr const char* named_set_dir = "/run/nsm";

/// The largest meta.json read; a bigger one makes the set stale.
inline constexpr std::size_t named_set_meta_max = 4096;

/// What a set's meta.json records.
struct NamedSetMeta {
  std::string name;
  NsTypeSet types;
  std::string created;          ///< ISO 8601 UTC ("2025-01-31T12:00:00Z")
  uid_t creator = 0;            ///< the real uid that made it
  std::optional<pid_t> holder;  ///< PID 1 of the set's pid namespace, when it has one
  bool netns = false;           ///< its net namespace is also /run/netns/NAME (ip netns)
};

/// How NamedSet::create makes a set.
struct NamedSetOptions {
  /// The namespace types; a pid namespace brings a mount namespace (for its own /proc).
  NsTypeSet types;
  /// The map written into a new user namespace. Default: the caller is root in it
  /// (UserMap::root_is(getuid(), getgid())), as `unshare --map-root-user` does.
  std::optional<UserMap> user_map;
  /// false: a new user namespace gets no map at all (everyone in it is the overflow uid 65534).
  bool map_user = true;
  /// Also pin the net namespace as /run/netns/NAME, so that `ip netns exec NAME` finds it.
  bool netns = true;
  /// The directory the set is made in (made 0700 when missing; its parent must exist).
  std::string base = named_set_dir;
};

/// One namespace of a set as its pin shows it.
struct NamedSetPin {
  NsType type = NsType::user;
  bool pinned = false;      ///< the pin opens as a namespace of that type
  Namespace ns;             ///< its identity, when pinned
  std::uint64_t owner = 0;  ///< inode of its owning user namespace; 0 when unknown
};

/// A set as NamedSet::list and NamedSet::inspect show it: what is wrong makes it stale, with a
/// reason per problem ("holder 42 is gone", "not pinned: ipc", "net: /run/netns/web is gone (ip
/// netns del?)", "meta.json: larger than 4096 bytes").
struct NamedSetInfo {
  std::string name;
  std::optional<NamedSetMeta> meta;   ///< nothing when meta.json is missing or invalid
  NsTypeSet types;                    ///< meta's types, or the pins found when there is no meta
  std::vector<NamedSetPin> pins;      ///< one per type of `types` and per pin file, nsfun order
  std::vector<std::string> problems;  ///< empty when running
  bool from_netns = false;  ///< not a set: a name made by `ip netns add` (/run/netns/NAME)

  /// Every pin opens, the holder (if any) is proven PID 1 of the pinned pid namespace, and
  /// /run/netns/NAME (if the set made it) is still its net namespace.
  [[nodiscard]] bool running() const noexcept { return problems.empty(); }

  /// "running" or "stale".
  [[nodiscard]] const char* state() const noexcept { return running() ? "running" : "stale"; }
};

/// A named set of namespaces, opened: its name, what meta.json says, and its pins as an
/// NsFdSet (to enter with enter(set), or to give to Command::join).
///
/// Sets need CAP_SYS_ADMIN (bind mounts) and are shared by name through the file system, so
/// another process (nsm, another program) sees them. Every factory takes the base directory
/// (named_set_dir by default) so that a program or a test can keep its own.
///
///     NSFUN_TRY(auto web, NamedSet::create("web", {.types =
///     NsTypeSet::parse("net,uts").value()})); NSFUN_TRY(auto set, NamedSet::open("web"));
///     NSFUN_TRYV(enter(set.pins()));   // (on a thread of its own: see enter.hpp)
///     NSFUN_TRYV(NamedSet::destroy("web"));
class NamedSet {
 public:
  /// `[A-Za-z0-9_.-]{1,64}`, not "." or "..".
  [[nodiscard]] static bool is_valid_name(std::string_view name) noexcept;

  /// Makes the namespaces of `options.types`, pins them under BASE/NAME/ and writes meta.json.
  /// A pid namespace gets a holder process that is its PID 1, left running (meta.json records
  /// it); destroy() stops it. The holder stays only once meta.json names it: until then it waits
  /// on a pipe that only this call holds open, so if the caller dies at any point (SIGKILL
  /// included) the holder exits and takes its pid namespace with it. A user namespace gets
  /// `options.user_map` (by default the caller is root in it) unless `map_user` is false. On any
  /// error nothing is left: no directory, pin, /run/netns entry or process; a caller killed
  /// half-way leaves at most a directory that list() shows as stale and destroy() removes.
  /// The kernel now and then refuses to bind a fresh mount namespace with EINVAL (seen on 6.18,
  /// and with unshare(1)): the namespaces are then made again, up to 16 times, on another CPU.
  /// Needs: CAP_SYS_ADMIN. Errors, naming the set: nsfun::errc::invalid_name,
  /// nsfun::errc::empty_namespace_type_list, std::errc::file_exists ("already exists", or for
  /// net "exists in /run/netns (made by ip netns add); choose another name or 'ip netns del
  /// NAME'"), std::errc::operation_not_permitted (BASE unsafe: owned by another uid,
  /// group/world-writable, a symbolic link, or not a directory; the reason says which), and the
  /// errors of spawn, acquire and pin.
  [[nodiscard]] static result<NamedSet> create(std::string_view name,
                                               const NamedSetOptions& options) noexcept;

  /// Opens BASE/NAME: meta.json and every pin present. Errors, naming the set:
  /// std::errc::no_such_file_or_directory ("no such named namespace set"),
  /// std::errc::operation_not_permitted (an unsafe BASE or set directory),
  /// nsfun::errc::not_a_namespace (a pin that is a symbolic link, or not mounted), the errors of
  /// NsFd::adopt; std::errc::no_such_process ("no namespaces are pinned").
  [[nodiscard]] static result<NamedSet> open(std::string_view name,
                                             std::string_view base = named_set_dir) noexcept;

  /// A net namespace named by `ip netns add NAME` (/run/netns/NAME, not followed if a symbolic
  /// link), as a set of that one namespace. Errors: std::errc::no_such_file_or_directory, and
  /// as NsFd::adopt.
  [[nodiscard]] static result<NamedSet> open_netns(std::string_view name) noexcept;

  /// The state of BASE/NAME (never opens more than the pins and meta.json). Errors: as open()
  /// for the set directory; what is wrong inside it is a problem of the info instead.
  [[nodiscard]] static result<NamedSetInfo> inspect(std::string_view name,
                                                    std::string_view base = named_set_dir) noexcept;

  /// The state of /run/netns/NAME as a net-only set (`from_netns` set). Errors: as
  /// open_netns().
  [[nodiscard]] static result<NamedSetInfo> inspect_netns(std::string_view name) noexcept;

  /// Every set in BASE, sorted by name; empty when BASE does not exist. A directory that is not
  /// a usable set (a half-made one, another owner's) is listed as stale with the reason; other
  /// entries are skipped. Errors: std::errc::permission_denied (BASE not readable),
  /// std::errc::operation_not_permitted (BASE unsafe).
  [[nodiscard]] static result<std::vector<NamedSetInfo>> list(
      std::string_view base = named_set_dir) noexcept;

  /// Stops the holder, removes /run/netns/NAME when it is the set's net namespace, unpins every
  /// pin and removes BASE/NAME (and BASE's self-bind and BASE itself once it is empty). Works on
  /// a stale or half-made set too, and finishes what a destroy or create killed half-way left:
  /// an unmounted empty /run/netns/NAME of the set is removed, and when BASE/NAME is already
  /// gone, an empty BASE and its self-bind are still tidied (the error is then still
  /// no_such_file_or_directory). The holder is the process meta.json names, or when that one
  /// is not proven (meta.json missing or changed), the PID 1 found in /proc through the pinned
  /// pid namespace; it is killed (SIGKILL through a pidfd) only when it is proven to be PID 1 of
  /// that pid namespace and in the set's mount namespace, and that pid namespace is neither the
  /// caller's nor one of its ancestors; otherwise it is left alone.
  /// Needs: CAP_SYS_ADMIN. Errors: as open() for the set directory, and of umount, unlink,
  /// rmdir, pidfd_send_signal.
  [[nodiscard]] static result<void> destroy(std::string_view name,
                                            std::string_view base = named_set_dir) noexcept;

  NamedSet() noexcept = default;

  /// The set's name.
  [[nodiscard]] const std::string& name() const noexcept { return meta_.name; }

  /// What meta.json says (for open_netns: the name, {net}, netns true).
  [[nodiscard]] const NamedSetMeta& meta() const noexcept { return meta_; }

  /// The pinned namespaces (borrowed; moved out from an rvalue).
  [[nodiscard]] const NsFdSet& pins() const& noexcept { return pins_; }

  [[nodiscard]] NsFdSet&& pins() && noexcept { return std::move(pins_); }

 private:
  NamedSetMeta meta_;
  NsFdSet pins_;
};

}  // namespace nsfun

#ifdef NSFUN_HEADER_ONLY
#  include <nsfun/impl/named_set.ipp>
#endif
