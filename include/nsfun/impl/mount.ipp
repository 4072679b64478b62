// SPDX-License-Identifier: MIT
// nsfun – mount helpers and the mountinfo parser: the implementation (see <nsfun/config.hpp>).
#pragma once

#include <charconv>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <nsfun/config.hpp>
#include <nsfun/detail/proc_util.hpp>
#include <nsfun/detail/sys.hpp>
#include <nsfun/mount.hpp>
#include <nsfun/unique_fd.hpp>

namespace nsfun {

namespace detail::mnt {

// statvfs(3) flag glibc 2.36 lacks (kernel ST_NOSYMFOLLOW, Linux 5.10).
inline constexpr unsigned long st_nosymfollow = 0x2000;

// How much of a mountinfo line an error quotes: enough to recognise it, leaving room in the
// error's buffer for the reason.
inline constexpr std::size_t quoted_line_max = 120;

// The error for mountinfo line `line`: EINVAL (or `err`), the line quoted as the object, cut
// to quoted_line_max bytes ("..." inside the quotes when cut), and `why` as the reason.
inline error line_error(std::string_view line, std::string_view why, int err = EINVAL) noexcept {
  error e = errno_error(err, "parse mountinfo line");
  if (line.size() > quoted_line_max) {
    e.on('"', line.substr(0, quoted_line_max - 3), "...\"");
  } else {
    e.on('"', line, '"');
  }
  if (!why.empty()) {
    e.because(why);
  }
  return e;
}

// The next space-separated field of `rest`, which is advanced past it.
inline std::string_view next_field(std::string_view& rest) noexcept {
  std::size_t start = rest.find_first_not_of(' ');
  if (start == std::string_view::npos) {
    rest = {};
    return {};
  }
  rest.remove_prefix(start);
  std::size_t end = rest.find(' ');
  std::string_view field = rest.substr(0, end);
  rest.remove_prefix(end == std::string_view::npos ? rest.size() : end);
  return field;
}

template <class T>
inline bool parse_number(std::string_view s, T& out) noexcept {
  if (s.empty()) {
    return false;
  }
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

// "shared:12" -> 12 in `out` when `field` starts with `tag`.
inline bool tagged_number(std::string_view field,
                          std::string_view tag,
                          std::uint32_t& out) noexcept {
  if (field.substr(0, tag.size()) != tag) {
    return false;
  }
  return parse_number(field.substr(tag.size()), out);
}

// mount(8)'s option for a propagation change, as the step of its error.
inline std::string_view propagation_step(Propagation p, bool recursive) noexcept {
  switch (p) {
    case Propagation::shared:
      return recursive ? "mount --make-rshared" : "mount --make-shared";
    case Propagation::slave:
      return recursive ? "mount --make-rslave" : "mount --make-slave";
    case Propagation::private_:
      return recursive ? "mount --make-rprivate" : "mount --make-private";
    case Propagation::unbindable:
      return recursive ? "mount --make-runbindable" : "mount --make-unbindable";
  }
  return "mount --make-private";
}

inline unsigned long propagation_flag(Propagation p) noexcept {
  switch (p) {
    case Propagation::shared:
      return MS_SHARED;
    case Propagation::slave:
      return MS_SLAVE;
    case Propagation::private_:
      return MS_PRIVATE;
    case Propagation::unbindable:
      return MS_UNBINDABLE;
  }
  return MS_PRIVATE;
}

}  // namespace detail::mnt

NSFUN_INLINE std::string_view name(Propagation p) noexcept {
  switch (p) {
    case Propagation::shared:
      return "shared";
    case Propagation::slave:
      return "slave";
    case Propagation::private_:
      return "private";
    case Propagation::unbindable:
      return "unbindable";
  }
  return "unknown";
}

NSFUN_INLINE Propagation MountInfo::propagation() const noexcept {
  if (shared != 0) {
    return Propagation::shared;
  }
  if (master != 0) {
    return Propagation::slave;
  }
  return unbindable ? Propagation::unbindable : Propagation::private_;
}

NSFUN_INLINE result<MountInfo> parse_mountinfo_line(std::string_view line) noexcept {
  try {
    MountInfo m;
    std::string_view rest = line;
    if (!detail::mnt::parse_number(detail::mnt::next_field(rest), m.mount_id)) {
      return detail::mnt::line_error(line, "bad mount id (field 1)");
    }
    if (!detail::mnt::parse_number(detail::mnt::next_field(rest), m.parent_id)) {
      return detail::mnt::line_error(line, "bad parent id (field 2)");
    }
    std::string_view dev = detail::mnt::next_field(rest);
    std::size_t colon = dev.find(':');
    if (colon == std::string_view::npos ||
        !detail::mnt::parse_number(dev.substr(0, colon), m.major) ||
        !detail::mnt::parse_number(dev.substr(colon + 1), m.minor)) {
      return detail::mnt::line_error(line, "bad major:minor (field 3)");
    }
    std::string_view root = detail::mnt::next_field(rest);
    std::string_view mount_point = detail::mnt::next_field(rest);
    std::string_view options = detail::mnt::next_field(rest);
    if (root.empty() || mount_point.empty() || options.empty()) {
      return detail::mnt::line_error(line,
                                     "missing root, mount point or mount options (fields 4 to 6)");
    }
    m.root = detail::unescape_mount_path(root);
    m.mount_point = detail::unescape_mount_path(mount_point);
    m.mount_options.assign(options);

    // Optional fields up to the lone "-"; unknown ones are skipped, as proc(5) asks.
    for (;;) {
      std::string_view field = detail::mnt::next_field(rest);
      if (field.empty()) {
        return detail::mnt::line_error(line, "no \" - \" separator after the optional fields");
      }
      if (field == "-") {
        break;
      }
      if (field == "unbindable") {
        m.unbindable = true;
      } else {
        (void)(detail::mnt::tagged_number(field, "shared:", m.shared) ||
               detail::mnt::tagged_number(field, "master:", m.master) ||
               detail::mnt::tagged_number(field, "propagate_from:", m.propagate_from));
      }
    }
    std::string_view fs_type = detail::mnt::next_field(rest);
    std::string_view source = detail::mnt::next_field(rest);
    if (fs_type.empty() || source.empty()) {
      return detail::mnt::line_error(line, "missing filesystem type or source after \" - \"");
    }
    m.fs_type = detail::unescape_mount_path(fs_type);
    m.source = detail::unescape_mount_path(source);
    m.super_options = detail::unescape_mount_path(detail::mnt::next_field(rest));
    return m;
  } catch (const std::bad_alloc&) {
    return detail::mnt::line_error(line, {}, ENOMEM);
  }
}

NSFUN_INLINE result<std::vector<MountInfo>> parse_mountinfo(std::string_view text) noexcept {
  std::size_t number = 0;  // of the line being parsed, from 1
  try {
    std::vector<MountInfo> out;
    while (!text.empty()) {
      std::size_t nl = text.find('\n');
      std::string_view line = text.substr(0, nl);
      text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
      ++number;
      if (line.empty()) {
        continue;
      }
      NSFUN_TRY(auto m, parse_mountinfo_line(line));
      out.push_back(std::move(m));
    }
    return out;
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "parse mountinfo").on("line ", number);
  }
}

NSFUN_INLINE result<std::vector<MountInfo>> mounts() noexcept {
  NSFUN_TRY(auto proc, detail::open_proc());
  try {
    std::string text;
    // thread-self: a thread that entered another mount namespace (run_in) sees that one.
    if (int err = detail::read_at(proc.get(), "thread-self/mountinfo", text); err != 0) {
      return errno_error(err, "read").on("/proc/thread-self/mountinfo");
    }
    return parse_mountinfo(text);
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "read").on("/proc/thread-self/mountinfo");
  }
}

NSFUN_INLINE result<MountInfo> mount_of(const char* path) noexcept {
  struct statx stx {};

  if (::statx(AT_FDCWD, path, 0, STATX_MNT_ID, &stx) < 0) {
    return detail::sys::last_error("statx").on(path);
  }
  // COMPAT(linux < 5.8): no mount id in statx; the baseline is 5.8.
  if ((stx.stx_mask & STATX_MNT_ID) == 0) {
    return errno_error(ENOTSUP, "statx").on(path).because("the kernel gives no mount id");
  }
  NSFUN_TRY(auto all, mounts());
  for (auto& m : all) {
    if (static_cast<std::uint64_t>(m.mount_id) == stx.stx_mnt_id) {
      return std::move(m);
    }
  }
  // Unmounted between the statx and the read.
  return errno_error(ENOENT, "find mount")
      .on(path)
      .because("mount ", stx.stx_mnt_id, " is no longer in /proc/thread-self/mountinfo");
}

NSFUN_INLINE result<bool> is_mount_point(const char* path) noexcept {
  struct statx stx {};

  if (::statx(AT_FDCWD, path, 0, STATX_BASIC_STATS, &stx) < 0) {
    return detail::sys::last_error("statx").on(path);
  }
  // COMPAT(linux < 5.8): no STATX_ATTR_MOUNT_ROOT; the baseline is 5.8.
  if ((stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) == 0) {
    return errno_error(ENOTSUP, "statx")
        .on(path)
        .because("the kernel gives no mount root attribute");
  }
  return (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
}

NSFUN_INLINE result<Propagation> propagation_of(const char* path) noexcept {
  NSFUN_TRY(auto m, mount_of(path));
  return m.propagation();
}

NSFUN_INLINE result<void> mount_proc(const char* target) noexcept {
  if (::mount("proc", target, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) < 0) {
    return detail::sys::last_error("mount").on("proc on ", target);
  }
  return success();
}

NSFUN_INLINE result<void> bind(const char* source, const char* target, bool recursive) noexcept {
  unsigned long flags = MS_BIND;
  if (recursive) {
    flags |= MS_REC;
  }
  if (::mount(source, target, "none", flags, nullptr) < 0) {
    return detail::sys::last_error(recursive ? "mount --rbind" : "mount --bind")
        .on(source, " on ", target);
  }
  return success();
}

NSFUN_INLINE result<void> remount_readonly(const char* target) noexcept {
  struct statvfs st {};

  if (::statvfs(target, &st) < 0) {
    return detail::sys::last_error("statvfs").on(target);
  }
  // A bind remount replaces every per-mount flag it is given: pass the current ones back, or a
  // nosuid mount would silently lose nosuid (and in a user namespace, where such flags are
  // locked, the call would fail with EPERM). Without atime flags the kernel keeps the current
  // atime behaviour.
  unsigned long flags = MS_BIND | MS_REMOUNT | MS_RDONLY;
  if ((st.f_flag & ST_NOSUID) != 0) {
    flags |= MS_NOSUID;
  }
  if ((st.f_flag & ST_NODEV) != 0) {
    flags |= MS_NODEV;
  }
  if ((st.f_flag & ST_NOEXEC) != 0) {
    flags |= MS_NOEXEC;
  }
  if ((st.f_flag & detail::mnt::st_nosymfollow) != 0) {
    flags |= MS_NOSYMFOLLOW;
  }
  if (::mount("none", target, nullptr, flags, nullptr) < 0) {
    return detail::sys::last_error("mount -o remount,bind,ro").on(target);
  }
  return success();
}

NSFUN_INLINE result<void> set_propagation(const char* target,
                                          Propagation p,
                                          bool recursive) noexcept {
  unsigned long flags = detail::mnt::propagation_flag(p);
  if (recursive) {
    flags |= MS_REC;
  }
  if (::mount("none", target, nullptr, flags, nullptr) < 0) {
    return detail::sys::last_error(detail::mnt::propagation_step(p, recursive)).on(target);
  }
  return success();
}

NSFUN_INLINE result<void> unmount(const char* target, bool detach) noexcept {
  int flags = UMOUNT_NOFOLLOW;
  if (detach) {
    flags |= MNT_DETACH;
  }
  if (::umount2(target, flags) < 0) {
    return detail::sys::last_error(detach ? "umount --lazy" : "umount").on(target);
  }
  return success();
}

namespace detail::mnt {

// Why pivot_root(2) said EINVAL when new_root is a mount point: the kernel refuses when the new
// root's mount, its parent mount or the parent of the current root's mount is shared. Names
// the first shared one found as the reason ("parent mount /run is shared"); returns `e` as it
// is when none is (or mountinfo cannot be read), as EINVAL has other causes too.
inline error explain_pivot_einval(error e, const char* new_root) noexcept {
  auto all = mounts();
  auto mine = mount_of(new_root);
  auto root = mount_of("/");
  if (!all || !mine || !root) {
    return e;
  }
  // All three checked: assume_value() does not throw (value() could, in a noexcept function).
  const std::vector<MountInfo>& table = all.assume_value();
  const MountInfo& own = mine.assume_value();
  const MountInfo& root_mount = root.assume_value();
  auto find = [&](int id) -> const MountInfo* {
    for (const auto& m : table) {
      if (m.mount_id == id) {
        return &m;
      }
    }
    return nullptr;
  };
  if (own.shared != 0) {
    return std::move(e).because("mount ", own.mount_point, " is shared");
  }
  if (const MountInfo* parent = find(own.parent_id); parent != nullptr && parent->shared != 0) {
    return std::move(e).because("parent mount ", parent->mount_point, " is shared");
  }
  if (const MountInfo* parent = find(root_mount.parent_id);
      parent != nullptr && parent->mount_id != root_mount.mount_id && parent->shared != 0) {
    return std::move(e).because("parent mount ", parent->mount_point, " of / is shared");
  }
  return e;
}

}  // namespace detail::mnt

namespace detail {

NSFUN_INLINE result<void> pivot_root_here(const char* new_root) noexcept {
  int raw = ::open(new_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (raw < 0) {
    return detail::sys::last_error("open new root").on(new_root);
  }
  UniqueFd root = UniqueFd::adopt(raw);  // owns: just opened
  raw = ::open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (raw < 0) {
    return detail::sys::last_error("open working directory").on(".");
  }
  UniqueFd old_cwd = UniqueFd::adopt(raw);  // owns: just opened
  if (::fchdir(root.get()) < 0) {
    return detail::sys::last_error("chdir").on(new_root);
  }
  // With new_root == put_old, the old root ends up mounted on top of the new one, at ".", from
  // where it can be detached without needing a directory for it inside the new root.
  if (::syscall(SYS_pivot_root, ".", ".") < 0) {
    int err = errno;
    (void)!::fchdir(old_cwd.get());
    return errno_error(err, "pivot_root").on(new_root);
  }
  if (::umount2(".", MNT_DETACH) < 0) {
    return detail::sys::last_error("umount old root").on("on ", new_root);
  }
  if (::chdir("/") < 0) {
    return detail::sys::last_error("chdir").on("/");
  }
  return success();
}

}  // namespace detail

NSFUN_INLINE result<void> pivot_root_into(const char* new_root) noexcept {
  auto r = detail::pivot_root_here(new_root);
  if (!r && r.assume_error().what == "pivot_root" &&
      r.assume_error() == std::errc::invalid_argument) {
    // pivot_root says EINVAL for half a dozen reasons; name the most common one.
    auto mounted = is_mount_point(new_root);
    if (mounted && !mounted.assume_value()) {
      return errno_error(EINVAL, "pivot_root")
          .on(new_root)
          .because("new root is not a mount point");
    }
    return detail::mnt::explain_pivot_einval(r.assume_error(), new_root);
  }
  return r;
}

}  // namespace nsfun
