// SPDX-License-Identifier: MIT
// nsfun – cgroup v2 directories: the implementation (see <nsfun/config.hpp>).
#pragma once

#include <algorithm>
#include <charconv>
#include <csignal>
#include <cstdint>
#include <ctime>
#include <new>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <nsfun/cgroup.hpp>
#include <nsfun/config.hpp>
#include <nsfun/detail/dir_reader.hpp>
#include <nsfun/detail/names.hpp>
#include <nsfun/detail/proc_util.hpp>
#include <nsfun/detail/sys.hpp>
#include <nsfun/mount.hpp>

// cgroup.cpp's private helpers: nsfun::detail::cgroup.
namespace nsfun::detail::cgroup {

// How long remove() waits for killed processes to be gone, in milliseconds.
inline constexpr long remove_wait_ms = 2000;

// Bounds the walk through cgroups made inside an owned one (the kernel's default
// cgroup.max.depth is unlimited; a deeper tree is left for the caller).
inline constexpr int max_tree_depth = 32;

// Where a cgroup, or a file in it, is, for an error's object: the target of /proc/self/fd/N
// (relative to the caller's root), then "/" and `file` when one is given; "cgroup fd N" when
// /proc cannot say. Built on the stack: naming the object of an error never allocates.
[[nodiscard]] inline sys::PathBuf where(int dirfd, std::string_view file = {}) noexcept {
  sys::PathBuf out;
  if (dirfd < 0) {
    out.add("empty CgroupDir");
  } else {
    sys::PathBuf link;
    link.add("/proc/self/fd/").add(long{dirfd});
    char target[4096];
    ssize_t n = ::readlink(link.c_str(), target, sizeof(target));
    if (n > 0) {
      out.add(std::string_view(target, static_cast<std::size_t>(n)));
    } else {
      out.add("cgroup fd ").add(long{dirfd});
    }
  }
  if (!file.empty()) {
    out.add("/").add(file);
  }
  return out;
}

// The controller an interface file belongs to: "memory" for "memory.max"; empty for the core
// files ("cgroup.procs") and for names without a dot.
[[nodiscard]] inline std::string_view controller_of(std::string_view key) noexcept {
  std::size_t dot = key.find('.');
  if (dot == std::string_view::npos || key.substr(0, dot) == "cgroup") {
    return {};
  }
  return key.substr(0, dot);
}

[[nodiscard]] inline bool is_cgroup2(int fd) noexcept {
  struct statfs st {};

  return ::fstatfs(fd, &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC;
}

// The tokenizer of cgroup files (cgroup.controllers "cpu io memory\n", cgroup.procs "12\n34\n"):
// takes the next whitespace-separated word off the front of `rest`; empty when there is none.
[[nodiscard]] inline std::string_view next_word(std::string_view& rest) noexcept {
  constexpr std::string_view space = " \t\n";
  std::size_t start = rest.find_first_not_of(space);
  if (start == std::string_view::npos) {
    rest = {};
    return {};
  }
  std::size_t end = std::min(rest.find_first_of(space, start), rest.size());
  std::string_view word = rest.substr(start, end - start);
  rest.remove_prefix(end);
  return word;
}

[[nodiscard]] inline bool has_word(std::string_view text, std::string_view word) noexcept {
  for (std::string_view w = next_word(text); !w.empty(); w = next_word(text)) {
    if (w == word) {
      return true;
    }
  }
  return false;
}

// Reads a small interface file of the cgroup at `dirfd`; 0 or an errno value.
[[nodiscard]] inline int read_file(int dirfd, const char* name, std::string& out) noexcept {
  try {
    return read_at(dirfd, name, out);
  } catch (const std::bad_alloc&) {
    return ENOMEM;
  }
}

// Writes `text` to an interface file in one write(2) (the kernel takes each write as a whole).
// 0 or an errno value; `opened` tells which of open and write failed.
[[nodiscard]] inline int write_file(int dirfd,
                                    const char* name,
                                    std::string_view text,
                                    bool& opened) noexcept {
  opened = false;
  int fd = ::openat(dirfd, name, O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
  if (fd < 0) {
    return errno;
  }
  opened = true;
  UniqueFd file = UniqueFd::adopt(fd);  // owns: just opened
  ssize_t n = ::write(fd, text.data(), text.size());
  if (n < 0) {
    return errno;
  }
  return static_cast<std::size_t>(n) == text.size() ? 0 : EIO;
}

// The dirfd of the root of the cgroup2 hierarchy `fd` is in, as far as the caller can see it:
// walk up while ".." is still on the same cgroup2 filesystem.
[[nodiscard]] inline result<UniqueFd> hierarchy_root(int fd) noexcept {
  int dup = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (dup < 0) {
    return sys::last_error("dup").on(where(fd).c_str());
  }
  UniqueFd cur = UniqueFd::adopt(dup);  // owns: just made

  struct stat here {};

  if (::fstat(cur.get(), &here) < 0) {
    return sys::last_error("stat").on(where(fd).c_str());
  }
  for (int i = 0; i < 64; ++i) {
    int up = ::openat(cur.get(), "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (up < 0) {
      return sys::last_error("open cgroup").on(where(cur.get(), "..").c_str());
    }
    UniqueFd parent = UniqueFd::adopt(up);  // owns: just opened

    struct stat st {};

    if (::fstat(up, &st) < 0) {
      return sys::last_error("stat").on(where(up).c_str());
    }
    if (st.st_dev != here.st_dev || !is_cgroup2(up) ||
        (st.st_ino == here.st_ino && st.st_dev == here.st_dev)) {
      return cur;
    }
    here = st;
    cur = std::move(parent);
  }
  return cur;
}

// Why `controller` is not available to the cgroup at `fd`, when it is not: `e` turned into
// nsfun::errc::controller_not_available with the reason "controller memory is not in the
// cgroup2 hierarchy at /sys/fs/cgroup/unified" (on a hybrid host it is in a v1 hierarchy) or
// "controller pids is not enabled in /sys/fs/cgroup/unified/cgroup.subtree_control" (the
// parent's, which does not enable it for its children). `e` as it is when the controller is
// available after all.
[[nodiscard]] inline error explain_controller(int fd,
                                              std::string_view controller,
                                              error e) noexcept {
  std::string text;
  if (auto root = hierarchy_root(fd); root) {
    if (read_file(root.assume_value().get(), "cgroup.controllers", text) == 0 &&
        !has_word(text, controller)) {
      e.code = make_error_code(errc::controller_not_available);
      return e.because("controller ", controller, " is not in the cgroup2 hierarchy at ",
                       where(root.assume_value().get()).c_str());
    }
  }
  if (read_file(fd, "cgroup.controllers", text) == 0 && !has_word(text, controller)) {
    int parent = ::openat(fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    UniqueFd owner = UniqueFd::adopt(parent);  // owns: just opened (or -1: owns nothing)
    e.code = make_error_code(errc::controller_not_available);
    return e.because("controller ", controller, " is not enabled in ",
                     where(parent, "cgroup.subtree_control").c_str());
  }
  return e;
}

// "populated 1" in cgroup.events; nullopt-like -1 when unreadable.
[[nodiscard]] inline int read_populated(int events_fd) noexcept {
  char buf[256];
  ssize_t n = ::pread(events_fd, buf, sizeof(buf) - 1, 0);
  if (n <= 0) {
    return -1;
  }
  std::string_view text(buf, static_cast<std::size_t>(n));
  std::size_t at = text.find("populated ");
  if (at == std::string_view::npos || at + 10 >= text.size()) {
    return -1;
  }
  return text[at + 10] == '1' ? 1 : 0;
}

// The error for a cgroup.events without a "populated" line.
[[nodiscard]] inline error no_populated_line(int dirfd) noexcept {
  return errno_error(EIO, "read cgroup file")
      .on(where(dirfd, "cgroup.events").c_str())
      .because("no \"populated\" line");
}

[[nodiscard]] inline long now_ms() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000 + ts.tv_nsec / 1'000'000;
}

// Waits until the cgroup (with its descendants) has no live process, up to `timeout_ms`.
// cgroup.events raises POLLPRI when it changes; each poll is also capped, in case a change
// slips in between the read and the poll.
[[nodiscard]] inline result<void> wait_unpopulated(int dirfd, long timeout_ms) noexcept {
  int fd = ::openat(dirfd, "cgroup.events", O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    return sys::last_error("read cgroup file").on(where(dirfd, "cgroup.events").c_str());
  }
  UniqueFd events = UniqueFd::adopt(fd);  // owns: just opened
  const long deadline = now_ms() + timeout_ms;
  for (;;) {
    int populated = read_populated(fd);
    if (populated < 0) {
      return no_populated_line(dirfd);
    }
    if (populated == 0) {
      return success();
    }
    long left = deadline - now_ms();
    if (left <= 0) {
      return errno_error(ETIMEDOUT, "remove cgroup")
          .on(where(dirfd).c_str())
          .because("processes still in it ", timeout_ms, " ms after SIGKILL");
    }
    pollfd p{fd, POLLPRI, 0};
    (void)::poll(&p, 1, static_cast<int>(left < 50 ? left : 50));
  }
}

// The pids in the cgroup.procs of the cgroup at `dirfd`: the one parser of that file.
[[nodiscard]] inline result<std::vector<pid_t>> read_procs(int dirfd) noexcept {
  std::string text;
  if (int err = read_file(dirfd, "cgroup.procs", text); err != 0) {
    return errno_error(err, "read cgroup file").on(where(dirfd, "cgroup.procs").c_str());
  }
  try {
    std::vector<pid_t> out;
    std::string_view rest = text;
    for (std::string_view w = next_word(rest); !w.empty(); w = next_word(rest)) {
      pid_t pid = 0;
      if (auto [end, ec] = std::from_chars(w.data(), w.data() + w.size(), pid);
          ec == std::errc() && end == w.data() + w.size()) {
        out.push_back(pid);
      }
    }
    return out;
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "read cgroup file").on(where(dirfd, "cgroup.procs").c_str());
  }
}

// Calls fn(name, dirfd) for each cgroup directly below the one at `dirfd` that still exists
// when it is opened (O_NOFOLLOW); the names are read first, so fn may remove the cgroup it is
// given. Stops at the first fn that returns true, and returns true then. Errors: reading the
// directory (step "open cgroup", naming it), or ENOMEM.
template <class F>
[[nodiscard]] result<bool> for_each_child(int dirfd, F&& fn) noexcept {
  std::vector<std::string> names;
  {
    auto dir = DirReader::open(dirfd, ".");
    if (!dir) {
      return errno_error(dir.error().code.value(), "open cgroup").on(where(dirfd).c_str());
    }
    try {
      while (const dirent* e = dir.assume_value().next()) {
        if (e->d_type == DT_DIR) {
          names.emplace_back(e->d_name);
        }
      }
    } catch (const std::bad_alloc&) {
      return errno_error(ENOMEM, "open cgroup").on(where(dirfd).c_str());
    }
  }
  for (const std::string& n : names) {
    int child = ::openat(dirfd, n.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (child < 0) {
      continue;  // removed meanwhile
    }
    UniqueFd c = UniqueFd::adopt(child);  // owns: just opened
    NSFUN_TRY(bool stop, fn(n, std::move(c)));
    if (stop) {
      return true;
    }
  }
  return false;
}

// True when `pid` is in the cgroup at `dirfd` or one of its descendants (false where they
// cannot be read).
[[nodiscard]] inline bool tree_contains(int dirfd, pid_t pid, int depth) noexcept {
  if (auto pids = read_procs(dirfd);
      pids && std::find(pids.assume_value().begin(), pids.assume_value().end(), pid) !=
                  pids.assume_value().end()) {
    return true;
  }
  if (depth >= max_tree_depth) {
    return false;
  }
  auto found = for_each_child(dirfd, [&](const std::string&, UniqueFd child) -> result<bool> {
    return tree_contains(child.get(), pid, depth + 1);
  });
  return found && found.assume_value();
}

// Removes every cgroup below `dirfd` (children first); they must be empty of processes.
[[nodiscard]] inline result<void> remove_descendants(int dirfd, int depth) noexcept {
  if (depth >= max_tree_depth) {
    return errno_error(EBUSY, "remove cgroup")
        .on(where(dirfd).c_str())
        .because("cgroups nested more than ", max_tree_depth, " levels deep below it");
  }
  auto removed = for_each_child(dirfd, [&](const std::string& n, UniqueFd child) -> result<bool> {
    NSFUN_TRYV(remove_descendants(child.get(), depth + 1));
    child.reset();
    if (::unlinkat(dirfd, n.c_str(), AT_REMOVEDIR) < 0 && errno != ENOENT) {
      return sys::last_error("remove cgroup").on(where(dirfd, n).c_str());
    }
    return false;
  });
  if (!removed) {
    return std::move(removed).error();
  }
  return success();
}

[[nodiscard]] inline result<std::vector<std::string>> read_words(int fd,
                                                                 const char* name) noexcept {
  std::string text;
  if (int err = read_file(fd, name, text); err != 0) {
    return errno_error(err, "read cgroup file").on(where(fd, name).c_str());
  }
  try {
    std::vector<std::string> out;
    std::string_view rest = text;
    for (std::string_view w = next_word(rest); !w.empty(); w = next_word(rest)) {
      out.emplace_back(w);
    }
    return out;
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "read cgroup file").on(where(fd, name).c_str());
  }
}

[[nodiscard]] inline result<void> kill_at(int dirfd) noexcept {
  bool opened = false;
  int err = write_file(dirfd, "cgroup.kill", "1", opened);
  if (err == 0) {
    return success();
  }
  if (opened || err != ENOENT) {
    return errno_error(err, "kill cgroup").on(where(dirfd).c_str());
  }
  // The root cgroup has neither cgroup.kill nor cgroup.events, and must never be mass-killed.
  if (::faccessat(dirfd, "cgroup.events", F_OK, 0) < 0) {
    return errno_error(ENOENT, "kill cgroup")
        .on(where(dirfd).c_str())
        .because("the root cgroup has no cgroup.kill");
  }
  // COMPAT(linux < 5.14): no cgroup.kill; signal each process listed, a few rounds to catch
  // ones forked meanwhile. Descendant cgroups are not covered. Remove when baseline >= 5.14.
  for (int round = 0; round < 3; ++round) {
    NSFUN_TRY(auto pids, read_procs(dirfd));
    if (pids.empty()) {
      break;
    }
    for (pid_t pid : pids) {
      ::kill(pid, SIGKILL);
    }
  }
  return success();
}

// Writes "+a +b" (or "-a -b") to cgroup.subtree_control, after checking each name is a
// controller this cgroup has; errors name that file.
[[nodiscard]] inline result<void> change_subtree(int fd,
                                                 std::span<const std::string_view> names,
                                                 char sign) noexcept {
  std::string text;
  if (int err = read_file(fd, "cgroup.controllers", text); err != 0) {
    return errno_error(err, "read cgroup file").on(where(fd, "cgroup.controllers").c_str());
  }
  auto subtree_error = [fd](int err) {
    return errno_error(err, "write cgroup file").on(where(fd, "cgroup.subtree_control").c_str());
  };
  std::string line;
  try {
    for (std::string_view n : names) {
      if (!is_valid_name(n) || n.find_first_of(" \t\n+-") != std::string_view::npos) {
        error e = nsfun_error(errc::invalid_name, "write cgroup file");
        return std::move(on_quoted_name(e, n).because("not a controller name"));
      }
      if (!has_word(text, n)) {
        return explain_controller(fd, n, subtree_error(ENOENT));
      }
      if (!line.empty()) {
        line += ' ';
      }
      line += sign;
      line += n;
    }
  } catch (const std::bad_alloc&) {
    return subtree_error(ENOMEM);
  }
  if (line.empty()) {
    return success();
  }
  bool opened = false;
  if (int err = write_file(fd, "cgroup.subtree_control", line, opened); err != 0) {
    return subtree_error(err);
  }
  return success();
}

}  // namespace nsfun::detail::cgroup

namespace nsfun {

NSFUN_INLINE result<std::string> cgroup2_mount() noexcept {
  NSFUN_TRY(auto all, mounts());
  for (auto& m : all) {
    if (m.fs_type == "cgroup2") {
      return std::move(m.mount_point);
    }
  }
  return errno_error(ENOENT, "find cgroup2 mount")
      .on("in /proc/thread-self/mountinfo")
      .because("no cgroup2 filesystem is mounted");
}

NSFUN_INLINE result<CgroupDir> CgroupDir::open(const char* path) noexcept {
  int fd = ::open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return detail::sys::last_error("open cgroup").on(path);
  }
  UniqueFd dir = UniqueFd::adopt(fd);  // owns: just opened
  if (!detail::cgroup::is_cgroup2(fd)) {
    return errno_error(EINVAL, "open cgroup").on(path).because("not on a cgroup2 filesystem");
  }
  return CgroupDir(std::move(dir), UniqueFd(), std::string());
}

NSFUN_INLINE result<CgroupDir> CgroupDir::root() noexcept {
  NSFUN_TRY(auto path, cgroup2_mount());
  return open(path.c_str());
}

NSFUN_INLINE result<CgroupDir> CgroupDir::create(const CgroupDir& parent,
                                                 std::string_view name) noexcept {
  if (!detail::is_valid_name(name)) {
    return detail::invalid_name_error("create cgroup", name);
  }
  if (!parent) {
    error e = errno_error(EBADF, "create cgroup");
    return std::move(detail::on_quoted_name(e, name).because("the parent CgroupDir is empty"));
  }
  std::string owned_name;
  try {
    owned_name.assign(name);
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "create cgroup")
        .on(detail::cgroup::where(parent.fd_.get(), name).c_str());
  }
  NSFUN_TRY(auto parent_fd, parent.fd_.clone());
  // EEXIST is an error, not an invitation: an existing cgroup belongs to someone else.
  if (::mkdirat(parent_fd.get(), owned_name.c_str(), 0755) < 0) {
    return detail::sys::last_error("create cgroup")
        .on(detail::cgroup::where(parent_fd.get(), name).c_str());
  }
  int fd = ::openat(parent_fd.get(), owned_name.c_str(),
                    O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    error e = detail::sys::last_error("open cgroup")
                  .on(detail::cgroup::where(parent_fd.get(), name).c_str());
    ::unlinkat(parent_fd.get(), owned_name.c_str(), AT_REMOVEDIR);
    return e;
  }
  return CgroupDir(UniqueFd::adopt(fd), std::move(parent_fd), std::move(owned_name));
}

NSFUN_INLINE CgroupDir::CgroupDir(CgroupDir&& other) noexcept
    : fd_(std::move(other.fd_)),
      parent_(std::move(other.parent_)),
      name_(std::exchange(other.name_, std::string())) {}

NSFUN_INLINE CgroupDir& CgroupDir::operator=(CgroupDir&& other) noexcept {
  if (this != &other) {
    // This handle's own cgroup goes first (as in the destructor), before it takes other's.
    if (owned()) {
      (void)remove();
    }
    fd_ = std::move(other.fd_);
    parent_ = std::move(other.parent_);
    name_ = std::exchange(other.name_, std::string());
  }
  return *this;
}

NSFUN_INLINE CgroupDir::~CgroupDir() {
  if (owned()) {
    (void)remove();
  }
}

NSFUN_INLINE void CgroupDir::keep() noexcept {
  parent_.reset();
  name_.clear();
}

NSFUN_INLINE result<void> CgroupDir::remove() noexcept {
  if (!owned()) {
    if (!fd_) {
      return errno_error(EBADF, "remove cgroup").on("empty CgroupDir");
    }
    return errno_error(EBADF, "remove cgroup")
        .on(detail::cgroup::where(fd_.get()).c_str())
        .because("not created by this CgroupDir, or kept");
  }
  // On any error the handle keeps owning the cgroup, so that the caller can retry (after
  // moving itself out, say) and the destructor tries once more.
  int fd = ::openat(fd_.get(), "cgroup.events", O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    return detail::sys::last_error("read cgroup file")
        .on(detail::cgroup::where(fd_.get(), "cgroup.events").c_str());
  }
  UniqueFd events = UniqueFd::adopt(fd);  // owns: just opened
  if (detail::cgroup::read_populated(fd) != 0) {
    // cgroup.kill would take the caller with it.
    if (pid_t self = ::getpid(); detail::cgroup::tree_contains(fd_.get(), self, 0)) {
      return errno_error(EBUSY, "remove cgroup")
          .on(detail::cgroup::where(fd_.get()).c_str())
          .because("the calling process (pid ", self, ") is in it or below it");
    }
    NSFUN_TRYV(detail::cgroup::kill_at(fd_.get()));
    NSFUN_TRYV(detail::cgroup::wait_unpopulated(fd_.get(), detail::cgroup::remove_wait_ms));
  }
  events.reset();
  NSFUN_TRYV(detail::cgroup::remove_descendants(fd_.get(), 0));
  if (::unlinkat(parent_.get(), name_.c_str(), AT_REMOVEDIR) < 0) {
    return detail::sys::last_error("remove cgroup").on(detail::cgroup::where(fd_.get()).c_str());
  }
  fd_.reset();
  parent_.reset();
  name_.clear();
  return success();
}

NSFUN_INLINE result<std::string> CgroupDir::path() const noexcept {
  detail::sys::PathBuf link;
  link.add("/proc/self/fd/").add(long{fd_.get()});
  char buf[4096];
  ssize_t n = ::readlink(link.c_str(), buf, sizeof(buf));
  if (n < 0) {
    return detail::sys::last_error("readlink").on(link.c_str());
  }
  try {
    return std::string(buf, static_cast<std::size_t>(n));
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "readlink").on(link.c_str());
  }
}

NSFUN_INLINE result<std::vector<std::string>> CgroupDir::controllers() const noexcept {
  return detail::cgroup::read_words(fd_.get(), "cgroup.controllers");
}

NSFUN_INLINE result<std::vector<std::string>> CgroupDir::subtree_control() const noexcept {
  return detail::cgroup::read_words(fd_.get(), "cgroup.subtree_control");
}

NSFUN_INLINE result<void> CgroupDir::enable(std::span<const std::string_view> names) noexcept {
  return detail::cgroup::change_subtree(fd_.get(), names, '+');
}

NSFUN_INLINE result<void> CgroupDir::disable(std::span<const std::string_view> names) noexcept {
  return detail::cgroup::change_subtree(fd_.get(), names, '-');
}

NSFUN_INLINE result<void> CgroupDir::set(std::string_view key,
                                         std::string_view value) const noexcept {
  if (!detail::is_valid_name(key)) {
    return detail::invalid_name_error("write cgroup file", key);
  }
  detail::sys::PathBuf name;
  name.add(key);
  bool opened = false;
  int err = detail::cgroup::write_file(fd_.get(), name.c_str(), value, opened);
  if (err == 0) {
    return success();
  }
  error e = errno_error(err, "write cgroup file").on(detail::cgroup::where(fd_.get(), key).c_str());
  if (!opened && err == ENOENT && !detail::cgroup::controller_of(key).empty()) {
    return detail::cgroup::explain_controller(fd_.get(), detail::cgroup::controller_of(key), e);
  }
  return e;
}

NSFUN_INLINE result<std::string> CgroupDir::get(std::string_view key) const noexcept {
  if (!detail::is_valid_name(key)) {
    return detail::invalid_name_error("read cgroup file", key);
  }
  detail::sys::PathBuf name;
  name.add(key);
  std::string text;
  if (int err = detail::cgroup::read_file(fd_.get(), name.c_str(), text); err != 0) {
    error e =
        errno_error(err, "read cgroup file").on(detail::cgroup::where(fd_.get(), key).c_str());
    if (err == ENOENT && !detail::cgroup::controller_of(key).empty()) {
      return detail::cgroup::explain_controller(fd_.get(), detail::cgroup::controller_of(key), e);
    }
    return e;
  }
  while (!text.empty() && text.back() == '\n') {
    text.pop_back();
  }
  return text;
}

NSFUN_INLINE result<void> CgroupDir::attach(pid_t pid) const noexcept {
  detail::sys::PathBuf text;
  text.add(long{pid});
  bool opened = false;
  if (int err = detail::cgroup::write_file(fd_.get(), "cgroup.procs", text.c_str(), opened);
      err != 0) {
    return errno_error(err, "attach")
        .on("pid ", pid, " to ", detail::cgroup::where(fd_.get()).c_str());
  }
  return success();
}

NSFUN_INLINE result<bool> CgroupDir::populated() const noexcept {
  int fd = ::openat(fd_.get(), "cgroup.events", O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    return detail::sys::last_error("read cgroup file")
        .on(detail::cgroup::where(fd_.get(), "cgroup.events").c_str());
  }
  UniqueFd events = UniqueFd::adopt(fd);  // owns: just opened
  int populated = detail::cgroup::read_populated(fd);
  if (populated < 0) {
    return detail::cgroup::no_populated_line(fd_.get());
  }
  return populated == 1;
}

NSFUN_INLINE result<std::vector<pid_t>> CgroupDir::procs() const noexcept {
  return detail::cgroup::read_procs(fd_.get());
}

NSFUN_INLINE result<void> CgroupDir::kill() const noexcept {
  return detail::cgroup::kill_at(fd_.get());
}

}  // namespace nsfun
