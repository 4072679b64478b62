// SPDX-License-Identifier: MIT
// nsfun – the filesystem inside a container's new root: read-only root, binds, tmpfs, a minimal
// /dev, masked and read-only paths, as runc and crun set them up.
//
// ContainerFs only describes; spawn applies it (Command::filesystem, with Command::rootfs), in
// the child's own mount namespace, in two steps: before pivot_root (binds, tmpfs and /dev inside
// the rootfs, while host paths are still visible) and after it (masked paths, read-only paths,
// the read-only root). The rootfs is treated as hostile input: every target is resolved inside
// it (openat2 with RESOLVE_IN_ROOT), so a symbolic link in the rootfs never sends a mount out
// of it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nsfun/config.hpp>
#include <nsfun/error.hpp>

namespace nsfun {

/// How a host path is bound into the root (ContainerFs::bind).
struct BindOptions {
  bool read_only = false;  ///< make the bind mount read-only (all of it, with `recursive`)
  bool recursive = true;   ///< also bind the mounts below the source (mount --rbind)
};

/// The filesystem a container sees inside its new root: a builder whose setters return *this.
///
/// Targets are paths inside the root ("/data" and "data" are the same); a ".." component is
/// refused. Binds and tmpfs mounts are made in the order they were added, after /dev, so that
/// a later one may lie inside an earlier one. A missing mount point is created (a directory, or
/// an empty file for a bind of a file), as runtimes do.
///
/// Example:
///
///     auto fs = nsfun::ContainerFs().read_only_root().minimal_dev().default_masks()
///                   .bind("/srv/data", "/data", {.read_only = true}).tmpfs("/tmp");
///     nsfun::spawn(nsfun::Command("/bin/sh").rootfs(dir).filesystem(fs));
class ContainerFs {
 public:
  /// What one bind or tmpfs setting asked for, in the order given.
  struct Mount {
    enum class Kind : std::uint8_t { bind, tmpfs };
    Kind kind = Kind::bind;
    std::string source;   ///< bind: the host path; tmpfs: empty
    std::string target;   ///< the path inside the root, as given
    BindOptions bind;     ///< bind only
    std::string options;  ///< tmpfs only: mount(8) options ("mode=755,size=64m,nosuid")
  };

  /// Makes the root read-only: the rootfs mount and the mounts that came with it (recursively,
  /// with mount_setattr(2) on Linux 5.12+), not the mounts added here nor /proc, as runc's
  /// and crun's `root.readonly`. A write to / then fails with EROFS.
  ContainerFs& read_only_root(bool on = true);

  /// Bind-mounts `host_source` (a host path, which must exist) on `target_in_root`.
  /// A read-only bind is made read-only after the bind (the kernel ignores MS_RDONLY on the
  /// bind itself), recursively with `recursive`.
  ContainerFs& bind(std::string host_source, std::string target_in_root, BindOptions opts = {});

  /// Mounts a tmpfs on `target_in_root`. `options` are mount(8)'s, comma-separated: the
  /// per-mount flags (ro, nosuid, nodev, noexec, noatime, relatime, strictatime, nodiratime,
  /// and their opposites) are taken as flags, the rest (mode=, size=, nr_inodes=, uid=, gid=)
  /// is passed to tmpfs. Nothing is added to them.
  ContainerFs& tmpfs(std::string target_in_root, std::string options = "mode=755");

  /// A minimal /dev, as runtimes make it: a tmpfs (nosuid, strictatime, mode=755,
  /// size=65536k); the nodes null, zero, full, random, urandom and tty (made with mknod, or in
  /// a new user namespace, where mknod is refused, bind-mounted from the host's /dev); a new
  /// devpts instance on /dev/pts (ptmxmode=0666, mode=0620, gid=5 outside a new user
  /// namespace) with /dev/ptmx -> pts/ptmx; a tmpfs on /dev/shm (nosuid, nodev, noexec,
  /// mode=1777, size=65536k); the links fd -> /proc/self/fd, stdin, stdout, stderr ->
  /// /proc/self/fd/0..2 and core -> /proc/kcore.
  ContainerFs& minimal_dev(bool on = true);

  /// Masks `path` (inside the root) as runtimes do: the root's /dev/null (which must be the null
  /// device: minimal_dev() makes one) is bound read-only over a file, an empty read-only tmpfs
  /// over a directory; a path that does not exist is skipped.
  ContainerFs& mask(std::string path);

  /// Makes `path` (inside the root) read-only: bound on itself (recursively) and remounted
  /// read-only; a path that does not exist is skipped.
  ContainerFs& read_only_path(std::string path);

  /// Adds the masked and read-only paths runtimes apply by default: `crun spec` (crun 1.8.1)
  /// lists masked /proc/acpi, /proc/asound, /proc/kcore, /proc/keys, /proc/latency_stats,
  /// /proc/timer_list, /proc/timer_stats, /proc/sched_debug, /sys/firmware and /proc/scsi, and
  /// read-only /proc/bus, /proc/fs, /proc/irq, /proc/sys and /proc/sysrq-trigger; `runc spec`
  /// (libcontainer/specconv/example.go) and Docker's defaults also mask
  /// /sys/devices/virtual/powercap, which is added too. The union of the two.
  ContainerFs& default_masks();

  [[nodiscard]] bool has_read_only_root() const noexcept { return read_only_root_; }

  [[nodiscard]] bool has_minimal_dev() const noexcept { return minimal_dev_; }

  /// The binds and tmpfs mounts, in the order they were added.
  [[nodiscard]] const std::vector<Mount>& mounts() const noexcept { return mounts_; }

  [[nodiscard]] const std::vector<std::string>& masked_paths() const noexcept { return masked_; }

  [[nodiscard]] const std::vector<std::string>& read_only_paths() const noexcept {
    return read_only_;
  }

 private:
  bool read_only_root_ = false;
  bool minimal_dev_ = false;
  std::vector<Mount> mounts_;
  std::vector<std::string> masked_;
  std::vector<std::string> read_only_;
};

namespace detail::container_fs {

// Not API: a ContainerFs checked and turned into what the child applies, made by the parent
// before clone (it allocates); the child only reads it.
struct Step {
  enum class Kind : std::uint8_t { bind, tmpfs };
  Kind kind = Kind::bind;
  std::string source;         // bind: the host path
  std::string target;         // relative to the root, normalised: "data/x" (no "", ".", "..")
  bool source_is_dir = true;  // bind: what to create when the target is missing
  bool read_only = false;     // bind
  bool recursive = false;     // bind
  unsigned long flags = 0;    // tmpfs: the MS_* flags of its options
  std::string data;           // tmpfs: the options passed to the filesystem
  const char* setting = "";   // "ContainerFs::bind" or "ContainerFs::tmpfs", for errors
};

struct Prepared {
  std::string rootfs;
  bool new_user_ns = false;
  bool read_only_root = false;
  bool minimal_dev = false;
  std::vector<Step> steps;
  std::vector<std::string> masked;     // normalised, relative to the root
  std::vector<std::string> read_only;  // normalised, relative to the root
};

// Parent side, before clone: checks every setting (a bind source that does not exist, an empty
// path, a ".." component: an error naming the setting and the path) and prepares the steps.
[[nodiscard]] result<Prepared> prepare(const ContainerFs& fs,
                                       const std::string& rootfs,
                                       bool new_user_ns);

// Child side, in the child's new mount namespace, after the rootfs was bound on itself (and
// proc mounted in it), before pivot_root: the read-only rootfs, /dev, the binds and tmpfs
// mounts. Async-signal-safe: raw syscalls only, nothing allocated.
[[nodiscard]] result<void> before_pivot(const Prepared& p) noexcept;

// Child side, for what spawn mounts in the rootfs itself (its /proc): mounts `fstype` from
// `source` on `rel` inside `rootfs` (a mount point: bound on itself already), made when missing.
// Resolved like every target (openat2 RESOLVE_IN_ROOT), and with no symbolic link at all on
// the way (RESOLVE_NO_SYMLINKS: ELOOP), so that a rootfs whose /proc is a link gets no proc
// somewhere else, where the masks would not find it. Async-signal-safe.
[[nodiscard]] result<void> mount_in_root(const char* rootfs,
                                         const char* rel,
                                         const char* source,
                                         const char* fstype,
                                         unsigned long flags,
                                         const char* data) noexcept;

// Child side, right after pivot_root: read-only paths, masked paths, then the root remounted
// read-only. Async-signal-safe.
[[nodiscard]] result<void> after_pivot(const Prepared& p) noexcept;

}  // namespace detail::container_fs

}  // namespace nsfun

#ifdef NSFUN_HEADER_ONLY
#  include <nsfun/impl/container_fs.ipp>
#endif
