// SPDX-License-Identifier: MIT
// nsfun – cgroup v2: CgroupDir, an owned dirfd on a cgroup2 directory; create, limit, attach, kill.
//
// Only the cgroup v2 (unified) hierarchy is handled. On a hybrid host it is mounted next to the
// v1 hierarchies (often at /sys/fs/cgroup/unified) and has only the controllers no v1 hierarchy
// took: asking for a limit of a controller that lives in a v1 hierarchy gives a clear error
// instead of a bare ENOENT (see CgroupDir::set).
//
// Errors name what they failed on: the cgroup directory or interface file (its path, as
// /proc/self/fd shows the dirfd), the pid attached, the name refused, and for a controller that
// is not there, the controller and where it is missing:
// "write cgroup file /sys/fs/cgroup/unified/box/memory.max: controller memory is not in the
// cgroup2 hierarchy at /sys/fs/cgroup/unified".
#pragma once

#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <sys/types.h>

#include <nsfun/config.hpp>
#include <nsfun/error.hpp>
#include <nsfun/unique_fd.hpp>

namespace nsfun {

/// Where the cgroup2 hierarchy is mounted: the first mount of type cgroup2 in the calling
/// thread's /proc/thread-self/mountinfo ("/sys/fs/cgroup" on a pure v2 host,
/// "/sys/fs/cgroup/unified" on a hybrid one).
/// Errors: std::errc::no_such_file_or_directory with step "find cgroup2 mount" when there is
/// none (a v1-only host, or a container without it), nsfun::errc::proc_not_mounted.
[[nodiscard]] result<std::string> cgroup2_mount() noexcept;

/// An open cgroup v2 directory: an O_RDONLY | O_DIRECTORY | O_CLOEXEC fd, checked to be on a
/// cgroup2 filesystem; files inside are reached with openat on it, never by path. Move-only.
///
/// A CgroupDir made by create() owns its cgroup: its destructor kills what is left in it,
/// waits (bounded) until it is empty, and removes it (and any cgroups made inside it), unless
/// keep() was called. One obtained from open() or root() never removes anything.
/// The destructor and the move operations never throw; a moved-from CgroupDir is empty (no fd,
/// owns nothing), and a default-constructed one is too.
///
/// **Example**:
///
///     NSFUN_TRY(auto root, nsfun::CgroupDir::root());
///     NSFUN_TRY(auto box, nsfun::CgroupDir::create(root, "box"));
///     NSFUN_TRYV(box.set("pids.max", "64"));   // needs pids enabled in root's subtree_control
///     NSFUN_TRYV(box.attach(child_pid));
///     // … box.fd() for clone3(CLONE_INTO_CGROUP) …
///     // box's destructor: cgroup.kill, wait until empty, rmdir.
class CgroupDir {
 public:
  CgroupDir() noexcept = default;

  /// The cgroup directory at `path` (absolute, or relative to the working directory).
  /// Errors (step "open cgroup", naming `path`): std::errc::no_such_file_or_directory,
  /// std::errc::not_a_directory, std::errc::invalid_argument (reason "not on a cgroup2
  /// filesystem": e.g. a v1 hierarchy).
  [[nodiscard]] static result<CgroupDir> open(const char* path) noexcept;

  /// The root of the cgroup2 hierarchy, where cgroup2_mount() says it is.
  [[nodiscard]] static result<CgroupDir> root() noexcept;

  /// Creates the cgroup `name` inside `parent` and returns an owning handle on it. An existing
  /// directory is never adopted (it is someone else's).
  /// Wraps: mkdirat(2) on the parent's dirfd.
  /// Needs: write permission on the parent (root, or a delegated subtree).
  /// Errors (step "create cgroup", naming the new cgroup's path, or the name quoted when it is
  /// refused before): nsfun::errc::invalid_name (empty, ".", "..", a '/' or a NUL, over 255
  /// bytes; the reason says which), std::errc::file_exists, std::errc::bad_file_descriptor
  /// (empty parent), std::errc::permission_denied.
  [[nodiscard]] static result<CgroupDir> create(const CgroupDir& parent,
                                                std::string_view name) noexcept;

  /// Takes over `other`'s fd and ownership; `other` is left empty.
  CgroupDir(CgroupDir&& other) noexcept;
  /// Removes the cgroup this handle owns (as the destructor does, errors ignored) and closes
  /// its fd before taking over `other`, which is left empty. Self-assignment does nothing.
  CgroupDir& operator=(CgroupDir&& other) noexcept;
  CgroupDir(const CgroupDir&) = delete;
  CgroupDir& operator=(const CgroupDir&) = delete;

  /// For an owned cgroup: remove() with errors ignored. Never throws.
  ~CgroupDir();

  /// Removes the owned cgroup now and reports how it went: kills its processes (cgroup.kill,
  /// or on Linux < 5.14 SIGKILL to each pid of cgroup.procs), waits up to about 2 s until
  /// cgroup.events says "populated 0", removes the cgroups made inside it, then rmdir; the
  /// handle is empty afterwards. On error it still owns the cgroup, so remove() can be retried
  /// (and the destructor tries once more). A cgroup the calling process is in (or one of its
  /// descendants is) is not killed, which would kill the caller:
  /// std::errc::device_or_resource_busy, whose reason gives the caller's pid. Errors (step
  /// "remove cgroup", naming the cgroup): std::errc::timed_out (still populated),
  /// std::errc::device_or_resource_busy, std::errc::bad_file_descriptor (the handle owns nothing).
  [[nodiscard]] result<void> remove() noexcept;

  /// Keeps the cgroup: the destructor (and remove()) will no longer remove it. The fd stays
  /// open and the handle usable.
  void keep() noexcept;

  /// True when the destructor would remove the cgroup (made by create(), not kept).
  [[nodiscard]] bool owned() const noexcept { return static_cast<bool>(parent_); }

  /// The dirfd, for clone3's CLONE_INTO_CGROUP (clone_args.cgroup) or openat.
  [[nodiscard]] FdRef fd() const noexcept { return fd_.ref(); }

  [[nodiscard]] explicit operator bool() const noexcept { return static_cast<bool>(fd_); }

  /// Where the cgroup is, for display: the target of /proc/self/fd/N (relative to the caller's
  /// root; it follows renames).
  [[nodiscard]] result<std::string> path() const noexcept;

  /// The controllers that can be enabled for this cgroup's children (cgroup.controllers): the
  /// ones its parent enabled, or for the root, all those in the v2 hierarchy.
  [[nodiscard]] result<std::vector<std::string>> controllers() const noexcept;

  /// The controllers enabled for this cgroup's children (cgroup.subtree_control).
  [[nodiscard]] result<std::vector<std::string>> subtree_control() const noexcept;

  /// Enables controllers for the children of this cgroup, all in one write of
  /// "+memory +pids" to cgroup.subtree_control (all or none). Each must be in controllers().
  /// Errors (step "write cgroup file", naming this cgroup's cgroup.subtree_control):
  /// nsfun::errc::controller_not_available (equal to std::errc::not_supported as well) when a
  /// controller is not there, with the reason "controller
  /// memory is not in the cgroup2 hierarchy at ROOT" (a hybrid host has it in a v1 hierarchy)
  /// or "controller pids is not enabled in PARENT/cgroup.subtree_control";
  /// std::errc::device_or_resource_busy (the cgroup has processes of its own: the kernel's "no
  /// internal processes" rule); nsfun::errc::invalid_name (naming the name refused).
  [[nodiscard]] result<void> enable(std::span<const std::string_view> names) noexcept;

  [[nodiscard]] result<void> enable(std::initializer_list<std::string_view> names) noexcept {
    return enable(std::span<const std::string_view>(names.begin(), names.size()));
  }

  /// Disables controllers for the children ("-memory"). Errors: as enable(); EBUSY while a child
  /// still enables it in its own subtree_control.
  [[nodiscard]] result<void> disable(std::span<const std::string_view> names) noexcept;

  [[nodiscard]] result<void> disable(std::initializer_list<std::string_view> names) noexcept {
    return disable(std::span<const std::string_view>(names.begin(), names.size()));
  }

  /// Writes `value` to the interface file `key` ("memory.max", "pids.max", "cpu.max",
  /// "cgroup.max.depth", …) in one write(2).
  /// Errors (step "write cgroup file", naming the file's path):
  /// nsfun::errc::controller_not_available (equal to std::errc::not_supported) when the key's
  /// controller (the part before the first '.') is not in the v2 hierarchy or not
  /// enabled by the parent, with the reason saying which (as for enable());
  /// std::errc::no_such_file_or_directory for an unknown key of an enabled controller;
  /// std::errc::invalid_argument (a value the kernel refuses); nsfun::errc::invalid_name (a key
  /// that is not a single file name, quoted).
  [[nodiscard]] result<void> set(std::string_view key, std::string_view value) const noexcept;

  /// Reads the interface file `key`, without its trailing newline. Errors: as set(), with step
  /// "read cgroup file".
  [[nodiscard]] result<std::string> get(std::string_view key) const noexcept;

  /// Moves process `pid` (all its threads) into this cgroup: writes cgroup.procs.
  /// Needs: write access to cgroup.procs here and in the common ancestor of the source.
  /// Errors (step "attach", object "pid PID to PATH"): std::errc::no_such_process,
  /// std::errc::device_or_resource_busy (this cgroup enables controllers in its
  /// subtree_control).
  [[nodiscard]] result<void> attach(pid_t pid) const noexcept;

  /// The processes in this cgroup (not its descendants), from cgroup.procs; unsorted.
  [[nodiscard]] result<std::vector<pid_t>> procs() const noexcept;

  /// True while this cgroup or a descendant has a live process (cgroup.events "populated 1").
  [[nodiscard]] result<bool> populated() const noexcept;

  /// Sends SIGKILL to every process in this cgroup and its descendants by writing "1" to
  /// cgroup.kill (Linux 5.14+); on older kernels, to each pid of cgroup.procs here only. Does not
  /// wait for them to exit: see populated().
  [[nodiscard]] result<void> kill() const noexcept;

 private:
  CgroupDir(UniqueFd fd, UniqueFd parent, std::string name) noexcept
      : fd_(std::move(fd)), parent_(std::move(parent)), name_(std::move(name)) {}

  UniqueFd fd_;
  UniqueFd parent_;   // set only while owned: the parent's dirfd, for rmdir
  std::string name_;  // the directory's name in parent_, while owned
};

}  // namespace nsfun

#ifdef NSFUN_HEADER_ONLY
#  include <nsfun/impl/cgroup.ipp>
#endif
