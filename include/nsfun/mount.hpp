// SPDX-License-Identifier: MIT
// nsfun – mount helpers: proc, bind, read-only remount, propagation, mountinfo, pivot_root.
//
// Every call acts on the mount namespace of the calling *thread* and resolves paths against its
// root and working directory. Mounts made in the host's mount namespace stay there: make the
// changes in a mount namespace of your own (unshare(NsTypeSet{NsType::mnt}) in a child, or
// spawn), and make its mounts private first (set_propagation("/", Propagation::private_, true))
// so that nothing propagates back to the host.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nsfun/config.hpp>
#include <nsfun/error.hpp>

namespace nsfun {

/// How mount and unmount events propagate between a mount and others (mount_namespaces(7)).
/// `private_` is spelled with an underscore because `private` is a C++ keyword.
enum class Propagation : std::uint8_t {
  shared,      ///< MS_SHARED: events propagate both ways within the peer group
  slave,       ///< MS_SLAVE: events come in from the master, none go out
  private_,    ///< MS_PRIVATE: no propagation either way (mountinfo: no optional field)
  unbindable,  ///< MS_UNBINDABLE: private, and cannot be the source of a bind mount
};

/// The name mount(8) uses: "shared", "slave", "private", "unbindable".
[[nodiscard]] std::string_view name(Propagation p) noexcept;

/// One line of /proc/PID/mountinfo (proc(5)), with the octal escapes in paths undone.
struct MountInfo {
  int mount_id = 0;                  ///< field 1: unique within the mount namespace
  int parent_id = 0;                 ///< field 2: the parent mount (itself for the root)
  unsigned major = 0;                ///< field 3: st_dev of files on this mount
  unsigned minor = 0;                ///< field 3
  std::string root;                  ///< field 4: the directory of the filesystem mounted here
  std::string mount_point;           ///< field 5: relative to the reader's root
  std::string mount_options;         ///< field 6: per-mount options ("rw,nosuid,relatime")
  std::uint32_t shared = 0;          ///< "shared:N": the peer group; 0 when not shared
  std::uint32_t master = 0;          ///< "master:N": the master's peer group; 0 when not a slave
  std::uint32_t propagate_from = 0;  ///< "propagate_from:N"; 0 when absent
  bool unbindable = false;           ///< "unbindable"
  std::string fs_type;               ///< after " - ": "ext4", "proc", "cgroup2", …
  std::string source;                ///< mount source ("/dev/sda1", "tmpfs", "none")
  std::string super_options;         ///< per-superblock options

  /// The propagation type: shared when there is a "shared:N" field (a mount that is also a slave,
  /// "shared:N master:M", reports shared; see `master`), then slave, unbindable, or private.
  [[nodiscard]] Propagation propagation() const noexcept;
};

/// Parses one mountinfo line (without its newline). A pure function: no system call.
/// Errors: std::errc::invalid_argument (step "parse mountinfo line") for a malformed line, with
/// the line quoted as the error's object (its first 117 bytes and "..." when longer) and the
/// field at fault as its reason: `parse mountinfo line "22 1 8-1 / / rw - ext4 /dev/sda1 rw":
/// bad major:minor (field 3)`; std::errc::not_enough_memory.
[[nodiscard]] result<MountInfo> parse_mountinfo_line(std::string_view line) noexcept;

/// Parses a whole mountinfo text; a line that does not parse is an error (as from
/// parse_mountinfo_line(), naming that line).
[[nodiscard]] result<std::vector<MountInfo>> parse_mountinfo(std::string_view text) noexcept;

/// The mounts of the calling thread's mount namespace (/proc/thread-self/mountinfo), in the
/// kernel's order (parents before children).
/// Errors: nsfun::errc::proc_not_mounted; a read error names /proc/thread-self/mountinfo.
[[nodiscard]] result<std::vector<MountInfo>> mounts() noexcept;

/// The mount `path` lies on (the topmost one when several are stacked), found by mount id.
/// Wraps: statx(2) with STATX_MNT_ID (Linux 5.8+).
/// Errors (naming `path`): std::errc::no_such_file_or_directory, std::errc::not_supported (no
/// mount id).
[[nodiscard]] result<MountInfo> mount_of(const char* path) noexcept;

/// True when `path` is the root of a mount (a mount point).
/// Wraps: statx(2) with STATX_ATTR_MOUNT_ROOT (Linux 5.8+).
[[nodiscard]] result<bool> is_mount_point(const char* path) noexcept;

/// The propagation type of the mount `path` lies on, read from the optional fields of
/// mountinfo (shared:N, master:N, unbindable; none means private).
/// Errors: as mount_of().
[[nodiscard]] result<Propagation> propagation_of(const char* path) noexcept;

/// Mounts a fresh proc filesystem on `target` with nosuid, nodev and noexec. It shows the pid
/// namespace the caller is in (not its pid_for_children): after unsharing a pid namespace, mount
/// proc from the first child, the namespace's init, or a process forked after it.
/// Wraps: mount(2) https://man7.org/linux/man-pages/man2/mount.2.html
/// Affects: the calling thread's mount namespace.
/// Needs: CAP_SYS_ADMIN in the user namespace owning the pid namespace.
/// Errors (step "mount", object "proc on TARGET"): std::errc::operation_not_permitted,
/// std::errc::no_such_file_or_directory.
[[nodiscard]] result<void> mount_proc(const char* target) noexcept;

/// Bind-mounts `source` onto `target` (`mount --bind`, or `--rbind` with `recursive`, which also
/// binds the mounts below `source`). `target` must exist: a directory for a directory, a file
/// for a file. Binding a directory onto itself makes it a mount point (pivot_root_into needs one).
/// Wraps: mount(2) with MS_BIND. Affects: the calling thread's mount namespace.
/// Needs: CAP_SYS_ADMIN. Errors (step "mount --bind" or "mount --rbind", object
/// "SOURCE on TARGET"): std::errc::no_such_file_or_directory, std::errc::invalid_argument (an
/// unbindable source).
[[nodiscard]] result<void> bind(const char* source, const char* target, bool recursive) noexcept;

/// Makes the mount on `target` read-only, keeping its other per-mount flags (nosuid, nodev,
/// noexec, nosymfollow as read with statvfs(3); atime flags are kept by the kernel), which is
/// what a user namespace requires for locked flags. Only this mount changes, not the
/// filesystem: other bind mounts of it stay writable. `target` must be a mount point (bind it
/// onto itself first otherwise).
/// Wraps: mount(2) with MS_BIND | MS_REMOUNT | MS_RDONLY.
/// Affects: the calling thread's mount namespace. Needs: CAP_SYS_ADMIN.
/// Errors (naming `target`): std::errc::invalid_argument (not a mount point),
/// std::errc::operation_not_permitted.
[[nodiscard]] result<void> remount_readonly(const char* target) noexcept;

/// Changes the propagation type of the mount on `target` (`mount --make-private` …), and with
/// `recursive` of every mount below it too (`--make-rprivate` …).
/// Wraps: mount(2) with MS_SHARED, MS_SLAVE, MS_PRIVATE or MS_UNBINDABLE.
/// Affects: the calling thread's mount namespace. Needs: CAP_SYS_ADMIN.
/// Errors (step mount(8)'s option, "mount --make-rprivate"…, naming `target`):
/// std::errc::invalid_argument (not a mount point).
[[nodiscard]] result<void> set_propagation(const char* target,
                                           Propagation p,
                                           bool recursive) noexcept;

/// Unmounts the topmost mount on `target`; with `detach`, lazily (MNT_DETACH: gone from the
/// namespace now, freed once no longer busy). Symbolic links are not followed.
/// Wraps: umount2(2). Affects: the calling thread's mount namespace. Needs: CAP_SYS_ADMIN.
/// Errors (step "umount" or "umount --lazy", naming `target`): std::errc::invalid_argument (not a
/// mount point), std::errc::device_or_resource_busy.
[[nodiscard]] result<void> unmount(const char* target, bool detach) noexcept;

/// Makes `new_root` the root of the calling thread's mount namespace and detaches the old root
/// entirely, with the pivot_root(".", ".") idiom: chdir(new_root), pivot_root(".", "."),
/// umount2(".", MNT_DETACH), chdir("/"). The old root is not left mounted anywhere, so there is
/// no put_old directory to unmount or remove afterwards.
///
/// `new_root` must be a mount point (bind it onto itself first: `bind(dir, dir, true)`), and
/// neither it nor the current root may be a shared mount (make "/" rprivate or rslave first).
/// The kernel also moves the root and working directory of every process and thread of the
/// mount namespace whose root or cwd was the old root: do this in a new mount namespace, in a
/// child process about to exec, never in a process shared with other work.
/// Wraps: pivot_root(2) https://man7.org/linux/man-pages/man2/pivot_root.2.html
/// Affects: the calling thread's mount namespace, root and working directory.
/// Needs: CAP_SYS_ADMIN.
/// Errors, naming `new_root`: std::errc::invalid_argument (step "pivot_root"; the reason says
/// "new root is not a mount point" when that is the cause, or which mount is shared, as in
/// `pivot_root /newroot: parent mount /run is shared`), std::errc::not_a_directory and
/// std::errc::no_such_file_or_directory (step "open new root"). On error the working directory
/// is put back.
[[nodiscard]] result<void> pivot_root_into(const char* new_root) noexcept;

namespace detail {

// Not API: pivot_root_into without its check before and its explanation of EINVAL after (open,
// fchdir, pivot_root(".", "."), umount2, chdir, the error built in place). It allocates nothing
// and makes only async-signal-safe calls: spawn's child calls it between clone and exec.
[[nodiscard]] result<void> pivot_root_here(const char* new_root) noexcept;

}  // namespace detail

}  // namespace nsfun

#ifdef NSFUN_HEADER_ONLY
#  include <nsfun/impl/mount.ipp>
#endif
