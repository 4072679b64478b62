// SPDX-License-Identifier: MIT
// nsfun – pinning namespaces with bind mounts, and /run/netns the way iproute2 keeps it.

#include <algorithm>

#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nsfun/acquire.hpp>
#include <nsfun/detail/sys.hpp>
#include <nsfun/persist.hpp>

namespace nsfun {

result<void> pin(const NsFd& ns, const char* path) noexcept {
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

result<void> unpin(const char* path) noexcept {
  // EINVAL: not a mount point (already unmounted, or never pinned): still remove the file.
  if (::umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW) < 0 && errno != EINVAL) {
    return detail::sys::last_error("umount").on(path);
  }
  if (::unlink(path) < 0) {
    return detail::sys::last_error("remove pin file").on(path);
  }
  return success();
}

bool is_valid_ns_name(std::string_view name) noexcept {
  return !name.empty() && name.size() <= 255 && name != "." && name != ".." &&
         name.find('/') == std::string_view::npos && name.find('\0') == std::string_view::npos;
}

namespace netns {

namespace {

result<void> ensure_run_dir() noexcept {
  if (::mkdir(run_dir, 0755) < 0 && errno != EEXIST) {
    return detail::sys::last_error("mkdir").on(run_dir);
  }
  // As iproute2 does: make the directory a shared mount (binding it onto itself first when it
  // is not a mount point), so that pins made later propagate to every mount namespace that has
  // a copy of it — `ip netns exec` then finds them wherever it runs.
  bool bound = false;
  while (::mount("", run_dir, "none", MS_SHARED | MS_REC, nullptr) < 0) {
    if (errno != EINVAL || bound) {
      return detail::sys::last_error("mount --make-shared").on(run_dir);
    }
    if (::mount(run_dir, run_dir, "none", MS_BIND | MS_REC, nullptr) < 0) {
      return detail::sys::last_error("mount --bind").on(run_dir, " onto itself");
    }
    bound = true;
  }
  return success();
}

result<detail::sys::PathBuf> path_of(std::string_view name) noexcept {
  if (!is_valid_ns_name(name)) {
    // Quoted up to 64 bytes, and never past a NUL.
    std::string_view shown = name.substr(0, std::min<std::size_t>(64, name.find('\0')));
    return nsfun_error(errc::invalid_name, "netns name")
        .on('"', shown, shown.size() < name.size() ? "...\"" : "\"")
        .because(name.empty()                  ? "empty"
                 : name.size() > 255           ? "longer than 255 bytes"
                 : name == "." || name == ".." ? "not a name but a directory reference"
                 : name.find('/') != name.npos ? "contains '/'"
                                               : "contains a NUL byte");
  }
  detail::sys::PathBuf path;
  path.add(run_dir).add("/").add(name);
  return path;
}

}  // namespace

result<NetNs> add(std::string_view name) noexcept {
  NSFUN_TRY(auto path, path_of(name));
  NSFUN_TRYV(ensure_run_dir());
  // Checked early only to avoid making a namespace for nothing; pin()'s O_EXCL decides.
  if (::access(path.c_str(), F_OK) == 0) {
    return errno_error(EEXIST, "create pin file").on(path.c_str());
  }
  NSFUN_TRY(auto ns, with_context(acquire<NsType::net>(), "netns add ", name));
  NSFUN_TRYV(pin(ns, path.c_str()));
  return ns;
}

result<void> attach(std::string_view name, const NetNs& ns) noexcept {
  NSFUN_TRY(auto path, path_of(name));
  NSFUN_TRYV(ensure_run_dir());
  return pin(ns, path.c_str());
}

result<NetNs> open(std::string_view name) noexcept {
  NSFUN_TRY(auto path, path_of(name));
  return NetNs::open_path(path.c_str());
}

result<void> remove(std::string_view name) noexcept {
  NSFUN_TRY(auto path, path_of(name));
  return unpin(path.c_str());
}

result<std::vector<std::string>> list() noexcept {
  std::vector<std::string> names;
  DIR* dir = ::opendir(run_dir);
  if (dir == nullptr) {
    if (errno == ENOENT) {
      return names;
    }
    return detail::sys::last_error("opendir").on(run_dir);
  }
  try {
    while (const dirent* e = ::readdir(dir)) {
      std::string_view n(e->d_name);
      if (n != "." && n != "..") {
        names.emplace_back(n);
      }
    }
  } catch (const std::bad_alloc&) {
    ::closedir(dir);
    return errno_error(ENOMEM, "list").on(run_dir);
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace netns

}  // namespace nsfun
