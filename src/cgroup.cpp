// SPDX-License-Identifier: MIT
// nsfun – cgroup v2 directories: found from mountinfo, reached by dirfd, removed by their owner.

#include <algorithm>
#include <charconv>
#include <csignal>
#include <cstdint>
#include <cstring>
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
#include <nsfun/detail/proc_util.hpp>
#include <nsfun/detail/sys.hpp>
#include <nsfun/mount.hpp>

namespace nsfun {

namespace {

// How long remove() waits for killed processes to be gone, in milliseconds.
constexpr long remove_wait_ms = 2000;

// Bounds the walk through cgroups made inside an owned one (the kernel's default
// cgroup.max.depth is unlimited; a deeper tree is left for the caller).
constexpr int max_tree_depth = 32;

// Why `s` is not a single file or directory name (1 to 255 bytes, no '/', no NUL, not "." or
// ".."), as an error's reason; empty when it is one.
std::string_view name_problem(std::string_view s) noexcept {
  if (s.empty()) {
    return "empty name";
  }
  if (s == "." || s == "..") {
    return "not a name but a directory link";
  }
  if (s.size() > 255) {
    return "longer than 255 bytes";
  }
  if (s.find('/') != std::string_view::npos) {
    return "contains a '/'";
  }
  if (s.find('\0') != std::string_view::npos) {
    return "contains a NUL byte";
  }
  return {};
}

// Sets a name the caller gave as the object of `e`, quoted and cut to 64 bytes so that the
// reason still fits beside it.
error& on_name(error& e, std::string_view name) noexcept {
  constexpr std::size_t max = 64;
  if (name.size() > max) {
    return e.on('"', name.substr(0, max - 3), "...\"");
  }
  return e.on('"', name, '"');
}

// The nsfun::errc::invalid_name error for `name`, with the reason, for step `what`.
error invalid_name_error(std::string_view what, std::string_view name) noexcept {
  error e = nsfun_error(errc::invalid_name, what);
  return on_name(e, name).because(name_problem(name));
}

// Where a cgroup, or a file in it, is, for an error's object: the target of /proc/self/fd/N
// (relative to the caller's root), then "/" and `file` when one is given; "cgroup fd N" when
// /proc cannot say. Built on the stack: naming the object of an error never allocates.
class Where {
 public:
  explicit Where(int dirfd, std::string_view file = {}) noexcept {
    if (dirfd < 0) {
      add("empty CgroupDir");
    } else {
      detail::sys::PathBuf link;
      link.add("/proc/self/fd/").add(long{dirfd});
      ssize_t n = ::readlink(link.c_str(), buf_, sizeof(buf_));
      if (n > 0) {
        len_ = static_cast<std::size_t>(n);
      } else {
        add("cgroup fd ");
        char tmp[16];
        auto [end, ec] = std::to_chars(tmp, tmp + sizeof(tmp), dirfd);
        (void)ec;
        add(std::string_view(tmp, static_cast<std::size_t>(end - tmp)));
      }
    }
    if (!file.empty()) {
      add("/");
      add(file);
    }
  }

  [[nodiscard]] std::string_view view() const noexcept { return {buf_, len_}; }

 private:
  void add(std::string_view s) noexcept {
    std::size_t n = std::min(s.size(), sizeof(buf_) - len_);
    std::memcpy(buf_ + len_, s.data(), n);
    len_ += n;
  }

  char buf_[4096];
  std::size_t len_ = 0;
};

// The controller an interface file belongs to: "memory" for "memory.max"; empty for the core
// files ("cgroup.procs") and for names without a dot.
std::string_view controller_of(std::string_view key) noexcept {
  std::size_t dot = key.find('.');
  if (dot == std::string_view::npos || key.substr(0, dot) == "cgroup") {
    return {};
  }
  return key.substr(0, dot);
}

bool is_cgroup2(int fd) noexcept {
  struct statfs st {};

  return ::fstatfs(fd, &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC;
}

// "a b c\n" -> {"a", "b", "c"}.
std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t start = text.find_first_not_of(" \t\n", i);
    if (start == std::string_view::npos) {
      break;
    }
    std::size_t end = text.find_first_of(" \t\n", start);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    out.emplace_back(text.substr(start, end - start));
    i = end;
  }
  return out;
}

bool has_word(std::string_view text, std::string_view word) noexcept {
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t start = text.find_first_not_of(" \t\n", i);
    if (start == std::string_view::npos) {
      return false;
    }
    std::size_t end = text.find_first_of(" \t\n", start);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    if (text.substr(start, end - start) == word) {
      return true;
    }
    i = end;
  }
  return false;
}

// Reads a small interface file of the cgroup at `dirfd`; 0 or an errno value.
int read_file(int dirfd, const char* name, std::string& out) noexcept {
  try {
    return detail::read_at(dirfd, name, out);
  } catch (const std::bad_alloc&) {
    return ENOMEM;
  }
}

// Writes `text` to an interface file in one write(2) (the kernel takes each write as a whole).
// 0 or an errno value; `opened` tells which of open and write failed.
int write_file(int dirfd, const char* name, std::string_view text, bool& opened) noexcept {
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
result<UniqueFd> hierarchy_root(int fd) noexcept {
  int dup = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (dup < 0) {
    return detail::sys::last_error("dup").on(Where(fd).view());
  }
  UniqueFd cur = UniqueFd::adopt(dup);  // owns: just made

  struct stat here {};

  if (::fstat(cur.get(), &here) < 0) {
    return detail::sys::last_error("stat").on(Where(fd).view());
  }
  for (int i = 0; i < 64; ++i) {
    int up = ::openat(cur.get(), "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (up < 0) {
      return detail::sys::last_error("open cgroup").on(Where(cur.get(), "..").view());
    }
    UniqueFd parent = UniqueFd::adopt(up);  // owns: just opened

    struct stat st {};

    if (::fstat(up, &st) < 0) {
      return detail::sys::last_error("stat").on(Where(up).view());
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
// std::errc::not_supported with the reason "controller memory is not in the cgroup2 hierarchy
// at /sys/fs/cgroup/unified" (on a hybrid host it is in a v1 hierarchy) or "controller pids is
// not enabled in /sys/fs/cgroup/unified/cgroup.subtree_control" (the parent's, which does not
// enable it for its children). `e` as it is when the controller is available after all.
error explain_controller(int fd, std::string_view controller, error e) noexcept {
  std::string text;
  if (auto root = hierarchy_root(fd); root) {
    if (read_file(root.value().get(), "cgroup.controllers", text) == 0 &&
        !has_word(text, controller)) {
      e.code = std::make_error_code(std::errc::not_supported);
      return e.because("controller ", controller, " is not in the cgroup2 hierarchy at ",
                       Where(root.value().get()).view());
    }
  }
  if (read_file(fd, "cgroup.controllers", text) == 0 && !has_word(text, controller)) {
    int parent = ::openat(fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    UniqueFd owner = UniqueFd::adopt(parent);  // owns: just opened (or -1: owns nothing)
    e.code = std::make_error_code(std::errc::not_supported);
    return e.because("controller ", controller, " is not enabled in ",
                     Where(parent, "cgroup.subtree_control").view());
  }
  return e;
}

// "populated 1" in cgroup.events; nullopt-like -1 when unreadable.
int read_populated(int events_fd) noexcept {
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
error no_populated_line(int dirfd) noexcept {
  return errno_error(EIO, "read cgroup file")
      .on(Where(dirfd, "cgroup.events").view())
      .because("no \"populated\" line");
}

long now_ms() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000 + ts.tv_nsec / 1'000'000;
}

// Waits until the cgroup (with its descendants) has no live process, up to `timeout_ms`.
// cgroup.events raises POLLPRI when it changes; each poll is also capped, in case a change
// slips in between the read and the poll.
result<void> wait_unpopulated(int dirfd, long timeout_ms) noexcept {
  int fd = ::openat(dirfd, "cgroup.events", O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    return detail::sys::last_error("read cgroup file").on(Where(dirfd, "cgroup.events").view());
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
          .on(Where(dirfd).view())
          .because("processes still in it ", timeout_ms, " ms after SIGKILL");
    }
    pollfd p{fd, POLLPRI, 0};
    (void)::poll(&p, 1, static_cast<int>(left < 50 ? left : 50));
  }
}

// True when `pid` is in the cgroup at `dirfd` or one of its descendants.
bool tree_contains(int dirfd, pid_t pid, int depth) noexcept {
  std::string text;
  if (read_file(dirfd, "cgroup.procs", text) == 0) {
    std::string_view rest = text;
    while (!rest.empty()) {
      std::size_t nl = rest.find('\n');
      pid_t p = 0;
      std::string_view line = rest.substr(0, nl);
      auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), p);
      (void)end;
      if (ec == std::errc() && p == pid) {
        return true;
      }
      rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
    }
  }
  if (depth >= max_tree_depth) {
    return false;
  }
  int fd = ::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return false;
  }
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    ::close(fd);
    return false;
  }
  bool found = false;
  while (const dirent* e = ::readdir(dir)) {
    std::string_view n(e->d_name);
    if (e->d_type != DT_DIR || n == "." || n == "..") {
      continue;
    }
    int child = ::openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (child >= 0) {
      UniqueFd c = UniqueFd::adopt(child);  // owns: just opened
      if (tree_contains(child, pid, depth + 1)) {
        found = true;
        break;
      }
    }
  }
  ::closedir(dir);
  return found;
}

// Removes every cgroup below `dirfd` (children first); they must be empty of processes.
result<void> remove_descendants(int dirfd, int depth) noexcept {
  if (depth >= max_tree_depth) {
    return errno_error(EBUSY, "remove cgroup")
        .on(Where(dirfd).view())
        .because("cgroups nested more than ", max_tree_depth, " levels deep below it");
  }
  std::vector<std::string> names;
  int fd = ::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return detail::sys::last_error("open cgroup").on(Where(dirfd).view());
  }
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    int err = errno;
    ::close(fd);
    return errno_error(err, "open cgroup").on(Where(dirfd).view());
  }
  try {
    while (const dirent* e = ::readdir(dir)) {
      std::string_view n(e->d_name);
      if (e->d_type == DT_DIR && n != "." && n != "..") {
        names.emplace_back(n);
      }
    }
  } catch (const std::bad_alloc&) {
    ::closedir(dir);
    return errno_error(ENOMEM, "remove cgroup").on(Where(dirfd).view());
  }
  ::closedir(dir);
  for (const std::string& n : names) {
    int child = ::openat(dirfd, n.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (child < 0) {
      continue;  // removed meanwhile
    }
    UniqueFd c = UniqueFd::adopt(child);  // owns: just opened
    NSFUN_TRYV(remove_descendants(child, depth + 1));
    c.reset();
    if (::unlinkat(dirfd, n.c_str(), AT_REMOVEDIR) < 0 && errno != ENOENT) {
      return detail::sys::last_error("remove cgroup").on(Where(dirfd, n).view());
    }
  }
  return success();
}

result<std::vector<std::string>> read_words(int fd, const char* name) noexcept {
  std::string text;
  if (int err = read_file(fd, name, text); err != 0) {
    return errno_error(err, "read cgroup file").on(Where(fd, name).view());
  }
  try {
    return split_words(text);
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "read cgroup file").on(Where(fd, name).view());
  }
}

result<std::vector<pid_t>> procs_at(int dirfd) noexcept {
  std::string text;
  if (int err = read_file(dirfd, "cgroup.procs", text); err != 0) {
    return errno_error(err, "read cgroup file").on(Where(dirfd, "cgroup.procs").view());
  }
  try {
    std::vector<pid_t> out;
    std::string_view rest = text;
    while (!rest.empty()) {
      std::size_t nl = rest.find('\n');
      std::string_view line = rest.substr(0, nl);
      rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
      pid_t pid = 0;
      auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), pid);
      (void)end;
      if (ec == std::errc()) {
        out.push_back(pid);
      }
    }
    return out;
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "read cgroup file").on(Where(dirfd, "cgroup.procs").view());
  }
}

result<void> kill_at(int dirfd) noexcept {
  bool opened = false;
  int err = write_file(dirfd, "cgroup.kill", "1", opened);
  if (err == 0) {
    return success();
  }
  if (opened || err != ENOENT) {
    return errno_error(err, "kill cgroup").on(Where(dirfd).view());
  }
  // The root cgroup has neither cgroup.kill nor cgroup.events, and must never be mass-killed.
  if (::faccessat(dirfd, "cgroup.events", F_OK, 0) < 0) {
    return errno_error(ENOENT, "kill cgroup")
        .on(Where(dirfd).view())
        .because("the root cgroup has no cgroup.kill");
  }
  // COMPAT(linux < 5.14): no cgroup.kill; signal each process listed, a few rounds to catch
  // ones forked meanwhile. Descendant cgroups are not covered. Remove when baseline >= 5.14.
  for (int round = 0; round < 3; ++round) {
    NSFUN_TRY(auto pids, procs_at(dirfd));
    if (pids.empty()) {
      break;
    }
    for (pid_t pid : pids) {
      ::kill(pid, SIGKILL);
    }
  }
  return success();
}

}  // namespace

result<std::string> cgroup2_mount() noexcept {
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

result<CgroupDir> CgroupDir::open(const char* path) noexcept {
  int fd = ::open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return detail::sys::last_error("open cgroup").on(path);
  }
  UniqueFd dir = UniqueFd::adopt(fd);  // owns: just opened
  if (!is_cgroup2(fd)) {
    return errno_error(EINVAL, "open cgroup").on(path).because("not on a cgroup2 filesystem");
  }
  return CgroupDir(std::move(dir), UniqueFd(), std::string());
}

result<CgroupDir> CgroupDir::root() noexcept {
  NSFUN_TRY(auto path, cgroup2_mount());
  return open(path.c_str());
}

result<CgroupDir> CgroupDir::create(const CgroupDir& parent, std::string_view name) noexcept {
  if (!name_problem(name).empty()) {
    return invalid_name_error("create cgroup", name);
  }
  if (!parent) {
    error e = errno_error(EBADF, "create cgroup");
    return std::move(on_name(e, name).because("the parent CgroupDir is empty"));
  }
  std::string owned_name;
  try {
    owned_name.assign(name);
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "create cgroup").on(Where(parent.fd_.get(), name).view());
  }
  NSFUN_TRY(auto parent_fd, parent.fd_.clone());
  // EEXIST is an error, not an invitation: an existing cgroup belongs to someone else.
  if (::mkdirat(parent_fd.get(), owned_name.c_str(), 0755) < 0) {
    return detail::sys::last_error("create cgroup").on(Where(parent_fd.get(), name).view());
  }
  int fd = ::openat(parent_fd.get(), owned_name.c_str(),
                    O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    error e = detail::sys::last_error("open cgroup").on(Where(parent_fd.get(), name).view());
    ::unlinkat(parent_fd.get(), owned_name.c_str(), AT_REMOVEDIR);
    return e;
  }
  return CgroupDir(UniqueFd::adopt(fd), std::move(parent_fd), std::move(owned_name));
}

CgroupDir::CgroupDir(CgroupDir&& other) noexcept
    : fd_(std::move(other.fd_)),
      parent_(std::move(other.parent_)),
      name_(std::exchange(other.name_, std::string())) {}

CgroupDir& CgroupDir::operator=(CgroupDir&& other) noexcept {
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

CgroupDir::~CgroupDir() {
  if (owned()) {
    (void)remove();
  }
}

void CgroupDir::release() noexcept {
  parent_.reset();
  name_.clear();
}

result<void> CgroupDir::remove() noexcept {
  if (!owned()) {
    if (!fd_) {
      return errno_error(EBADF, "remove cgroup").on("empty CgroupDir");
    }
    return errno_error(EBADF, "remove cgroup")
        .on(Where(fd_.get()).view())
        .because("not created by this CgroupDir, or released");
  }
  // On any error the handle keeps owning the cgroup, so that the caller can retry (after
  // moving itself out, say) and the destructor tries once more.
  int fd = ::openat(fd_.get(), "cgroup.events", O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    return detail::sys::last_error("read cgroup file").on(Where(fd_.get(), "cgroup.events").view());
  }
  UniqueFd events = UniqueFd::adopt(fd);  // owns: just opened
  if (read_populated(fd) != 0) {
    // cgroup.kill would take the caller with it.
    if (pid_t self = ::getpid(); tree_contains(fd_.get(), self, 0)) {
      return errno_error(EBUSY, "remove cgroup")
          .on(Where(fd_.get()).view())
          .because("the calling process (pid ", self, ") is in it or below it");
    }
    NSFUN_TRYV(kill_at(fd_.get()));
    NSFUN_TRYV(wait_unpopulated(fd_.get(), remove_wait_ms));
  }
  events.reset();
  NSFUN_TRYV(remove_descendants(fd_.get(), 0));
  if (::unlinkat(parent_.get(), name_.c_str(), AT_REMOVEDIR) < 0) {
    return detail::sys::last_error("remove cgroup").on(Where(fd_.get()).view());
  }
  fd_.reset();
  parent_.reset();
  name_.clear();
  return success();
}

result<std::string> CgroupDir::path() const noexcept {
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

result<std::vector<std::string>> CgroupDir::controllers() const noexcept {
  return read_words(fd_.get(), "cgroup.controllers");
}

result<std::vector<std::string>> CgroupDir::subtree_control() const noexcept {
  return read_words(fd_.get(), "cgroup.subtree_control");
}

namespace {

// Writes "+a +b" (or "-a -b") to cgroup.subtree_control, after checking each name is a
// controller this cgroup has; errors name that file.
result<void> change_subtree(int fd, std::span<const std::string_view> names, char sign) noexcept {
  std::string text;
  if (int err = read_file(fd, "cgroup.controllers", text); err != 0) {
    return errno_error(err, "read cgroup file").on(Where(fd, "cgroup.controllers").view());
  }
  auto subtree_error = [fd](int err) {
    return errno_error(err, "write cgroup file").on(Where(fd, "cgroup.subtree_control").view());
  };
  std::string line;
  try {
    for (std::string_view n : names) {
      if (!name_problem(n).empty() || n.find_first_of(" \t\n+-") != std::string_view::npos) {
        error e = nsfun_error(errc::invalid_name, "write cgroup file");
        return std::move(on_name(e, n).because("not a controller name"));
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

}  // namespace

result<void> CgroupDir::enable(std::span<const std::string_view> names) noexcept {
  return change_subtree(fd_.get(), names, '+');
}

result<void> CgroupDir::disable(std::span<const std::string_view> names) noexcept {
  return change_subtree(fd_.get(), names, '-');
}

result<void> CgroupDir::set(std::string_view key, std::string_view value) const noexcept {
  if (!name_problem(key).empty()) {
    return invalid_name_error("write cgroup file", key);
  }
  detail::sys::PathBuf name;
  name.add(key);
  bool opened = false;
  int err = write_file(fd_.get(), name.c_str(), value, opened);
  if (err == 0) {
    return success();
  }
  error e = errno_error(err, "write cgroup file").on(Where(fd_.get(), key).view());
  if (!opened && err == ENOENT && !controller_of(key).empty()) {
    return explain_controller(fd_.get(), controller_of(key), e);
  }
  return e;
}

result<std::string> CgroupDir::get(std::string_view key) const noexcept {
  if (!name_problem(key).empty()) {
    return invalid_name_error("read cgroup file", key);
  }
  detail::sys::PathBuf name;
  name.add(key);
  std::string text;
  if (int err = read_file(fd_.get(), name.c_str(), text); err != 0) {
    error e = errno_error(err, "read cgroup file").on(Where(fd_.get(), key).view());
    if (err == ENOENT && !controller_of(key).empty()) {
      return explain_controller(fd_.get(), controller_of(key), e);
    }
    return e;
  }
  while (!text.empty() && text.back() == '\n') {
    text.pop_back();
  }
  return text;
}

result<void> CgroupDir::attach(pid_t pid) const noexcept {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), pid);
  (void)ec;
  bool opened = false;
  std::string_view text(buf, static_cast<std::size_t>(end - buf));
  if (int err = write_file(fd_.get(), "cgroup.procs", text, opened); err != 0) {
    return errno_error(err, "attach").on("pid ", pid, " to ", Where(fd_.get()).view());
  }
  return success();
}

result<bool> CgroupDir::populated() const noexcept {
  int fd = ::openat(fd_.get(), "cgroup.events", O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    return detail::sys::last_error("read cgroup file").on(Where(fd_.get(), "cgroup.events").view());
  }
  UniqueFd events = UniqueFd::adopt(fd);  // owns: just opened
  int populated = read_populated(fd);
  if (populated < 0) {
    return no_populated_line(fd_.get());
  }
  return populated == 1;
}

result<std::vector<pid_t>> CgroupDir::procs() const noexcept {
  return procs_at(fd_.get());
}

result<void> CgroupDir::kill() const noexcept {
  return kill_at(fd_.get());
}

}  // namespace nsfun
