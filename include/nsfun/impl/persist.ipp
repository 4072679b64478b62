// SPDX-License-Identifier: MIT
// nsfun – pinning namespaces with bind mounts, and /run/netns the way iproute2 keeps it: the
// implementation (see <nsfun/config.hpp>).
#pragma once

#include <algorithm>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nsfun/acquire.hpp>
#include <nsfun/config.hpp>
#include <nsfun/detail/dir_reader.hpp>
#include <nsfun/detail/names.hpp>
#include <nsfun/detail/sys.hpp>
#include <nsfun/persist.hpp>

// persist.cpp's private helpers: nsfun::detail::persist.
namespace nsfun::detail::persist {

[[nodiscard]] inline result<void> ensure_run_dir() noexcept {
  const char* run_dir = nsfun::netns::run_dir;
  if (::mkdir(run_dir, 0755) < 0 && errno != EEXIST) {
    return sys::last_error("mkdir").on(run_dir);
  }
  // As iproute2 does: make the directory a shared mount (binding it onto itself first when it
  // is not a mount point), so that pins made later propagate to every mount namespace that has
  // a copy of it — `ip netns exec` then finds them wherever it runs.
  bool bound = false;
  while (::mount("", run_dir, "none", MS_SHARED | MS_REC, nullptr) < 0) {
    if (errno != EINVAL || bound) {
      return sys::last_error("mount --make-shared").on(run_dir);
    }
    if (::mount(run_dir, run_dir, "none", MS_BIND | MS_REC, nullptr) < 0) {
      return sys::last_error("mount --bind").on(run_dir, " onto itself");
    }
    bound = true;
  }
  return success();
}

// /run/netns/NAME; nsfun::errc::invalid_name (quoted, with the reason) for a NAME that is not a
// single file name.
[[nodiscard]] inline result<sys::PathBuf> path_of(std::string_view name) noexcept {
  if (!is_valid_name(name)) {
    return invalid_name_error("netns name", name);
  }
  sys::PathBuf path;
  path.add(nsfun::netns::run_dir).add("/").add(name);
  return path;
}

}  // namespace nsfun::detail::persist

namespace nsfun {

NSFUN_INLINE result<void> pin(const NsFd& ns, const char* path) noexcept {
  if (!ns) {
    return errno_error(EBADF, "pin").on(path).because("no namespace to pin (empty NsFd)");
  }
  int fd = ::open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0);
  if (fd < 0) {
    return detail::sys::last_error("create pin file").on(path);
  }
  ::close(fd);
  // The magic link /proc/self/fd/N resolves to the nsfs file itself, which is what gets bound.
  detail::sys::PathBuf source;
  source.add("/proc/self/fd/").add(ns.get());
  if (::mount(source.c_str(), path, "none", MS_BIND, nullptr) < 0) {
    int err = errno;
    ::unlink(path);
    const Namespace& id = ns.identity();
    return errno_error(err, "bind-mount").on(name(id.type()), ":[", id.ino(), "] onto ", path);
  }
  return success();
}

NSFUN_INLINE result<void> unpin(const char* path) noexcept {
  // EINVAL: not a mount point (already unmounted, or never pinned): still remove the file.
  if (::umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW) < 0 && errno != EINVAL) {
    return detail::sys::last_error("umount").on(path);
  }
  if (::unlink(path) < 0) {
    return detail::sys::last_error("remove pin file").on(path);
  }
  return success();
}

NSFUN_INLINE result<Pin> Pin::create(const NsFd& ns, std::string_view path) noexcept {
  Pin p;
  try {
    p.path_.assign(path);
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "pin").on(path);
  }
  if (auto r = pin(ns, p.path_.c_str()); !r) {
    p.path_.clear();  // nothing was left at the path
    return std::move(r).as_failure();
  }
  return p;
}

NSFUN_INLINE result<Pin> Pin::adopt(std::string_view path) noexcept {
  Pin p;
  try {
    p.path_.assign(path);
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "adopt pin").on(path);
  }
  return p;
}

NSFUN_INLINE result<void> Pin::unpin() noexcept {
  if (path_.empty()) {
    return success();
  }
  auto r = nsfun::unpin(path_.c_str());
  path_.clear();
  kept_ = false;
  return r;
}

NSFUN_INLINE void Pin::drop() noexcept {
  if (!path_.empty() && !kept_) {
    (void)nsfun::unpin(path_.c_str());
  }
  path_.clear();
}

NSFUN_INLINE bool is_valid_ns_name(std::string_view name) noexcept {
  return detail::is_valid_name(name);
}

namespace netns {

NSFUN_INLINE result<NetNs> add(std::string_view name) noexcept {
  NSFUN_TRY(auto path, detail::persist::path_of(name));
  NSFUN_TRYV(detail::persist::ensure_run_dir());
  // Checked early only to avoid making a namespace for nothing; pin()'s O_EXCL decides.
  if (::access(path.c_str(), F_OK) == 0) {
    return errno_error(EEXIST, "create pin file").on(path.c_str());
  }
  NSFUN_TRY(auto ns, with_context(acquire<NsType::net>(), "netns add ", name));
  NSFUN_TRYV(pin(ns, path.c_str()));
  return ns;
}

NSFUN_INLINE result<void> attach(std::string_view name, const NetNs& ns) noexcept {
  NSFUN_TRY(auto path, detail::persist::path_of(name));
  NSFUN_TRYV(detail::persist::ensure_run_dir());
  return pin(ns, path.c_str());
}

NSFUN_INLINE result<NetNs> open(std::string_view name) noexcept {
  NSFUN_TRY(auto path, detail::persist::path_of(name));
  return NetNs::open_path(path.c_str());
}

NSFUN_INLINE result<void> remove(std::string_view name) noexcept {
  NSFUN_TRY(auto path, detail::persist::path_of(name));
  return unpin(path.c_str());
}

NSFUN_INLINE result<std::vector<std::string>> list() noexcept {
  std::vector<std::string> names;
  auto dir = detail::DirReader::open(AT_FDCWD, run_dir);
  if (!dir) {
    if (dir.error() == std::errc::no_such_file_or_directory) {
      return names;
    }
    return errno_error(dir.error().code.value(), "opendir").on(run_dir);
  }
  try {
    while (const dirent* e = dir.assume_value().next()) {
      names.emplace_back(e->d_name);
    }
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "list").on(run_dir);
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace netns

}  // namespace nsfun
