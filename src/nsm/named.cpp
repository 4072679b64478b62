// SPDX-License-Identifier: MIT
// nsm – the /run/nsm layout of named namespace sets.

#include "named.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <string>

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <nsfun/mount.hpp>
#include <nsfun/pidfd.hpp>

namespace nsm::named {
namespace {

std::string errno_text(int err) {
  return std::strerror(err);
}

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

bool safe_run_dir(int fd) {
  struct stat st {};

  return ::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == 0 && (st.st_mode & 077) == 0;
}

void check_run_dir(int fd) {
  struct stat st {};

  if (::fstat(fd, &st) != 0) {
    throw Failure(run_dir, errno_text(errno));
  }
  if (!S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & 077) != 0) {
    throw Failure(run_dir, "not a root-owned directory with mode 0700; refusing to use it");
  }
}

// Makes /run/nsm a private mount: bind it onto itself when it is not a mount point yet. A mount
// namespace can only be pinned on a mount that does not propagate into that namespace.
void make_private() {
  auto mp = nsfun::is_mount_point(run_dir);
  if (!mp) {
    throw Failure(run_dir, why(mp.error()));
  }
  if (!mp.value()) {
    if (auto r = nsfun::bind(run_dir, run_dir, false); !r) {
      throw Failure(run_dir, "bind onto itself: " + why(r.error()));
    }
  }
  if (auto r = nsfun::set_propagation(run_dir, nsfun::Propagation::private_, false); !r) {
    throw Failure(run_dir, "make private: " + why(r.error()));
  }
}

}  // namespace

bool valid_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > 64 || name == "." || name == "..") {
    return false;
  }
  for (char c : name) {
    if (!name_char(c)) {
      return false;
    }
  }
  return true;
}

void check_name(const std::string& command, const std::string& name) {
  if (!valid_name(name)) {
    throw UsageError(command, fmt::format("invalid name '{}' (1 to 64 of A-Z a-z 0-9 _ . -, "
                                          "not . or ..)",
                                          name));
  }
}

void require_root(const std::string& command) {
  if (::geteuid() != 0) {
    throw Failure(command, "needs root (CAP_SYS_ADMIN)");
  }
}

void no_such_set(const std::string& name) {
  throw Failure(name, "no such named namespace set");
}

nsfun::UniqueFd open_run_dir_to_read(const std::string& command) {
  nsfun::UniqueFd fd =
      nsfun::UniqueFd::adopt(::open(run_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) {
      return {};
    }
    if (errno == EACCES || errno == EPERM) {
      throw Failure(command, fmt::format("needs root (CAP_DAC_READ_SEARCH) to read {}", run_dir));
    }
    throw Failure(run_dir, errno_text(errno));
  }
  check_run_dir(fd.get());
  return fd;
}

nsfun::UniqueFd open_run_dir(bool create) {
  if (create) {
    const mode_t old = ::umask(077);
    int rc = ::mkdir(run_dir, 0700);
    int err = errno;
    ::umask(old);
    if (rc != 0 && err != EEXIST) {
      throw Failure(run_dir, errno_text(err));
    }
  }
  auto open_checked = [create]() -> nsfun::UniqueFd {
    nsfun::UniqueFd fd =
        nsfun::UniqueFd::adopt(::open(run_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) {
      if (errno == ENOENT && !create) {
        return {};
      }
      throw Failure(run_dir, errno_text(errno));
    }
    check_run_dir(fd.get());
    return fd;
  };
  nsfun::UniqueFd fd = open_checked();
  if (create) {
    make_private();
    // Open it again: the fd must refer to the private mount, not to the directory below it.
    fd = open_checked();
  }
  return fd;
}

nsfun::UniqueFd open_set_dir(const nsfun::UniqueFd& run, const std::string& name) {
  if (!run) {
    return {};
  }
  nsfun::UniqueFd fd = nsfun::UniqueFd::adopt(
      ::openat(run.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) {
      return {};
    }
    if (errno == ENOTDIR || errno == ELOOP) {
      throw Failure(name, "not a namespace set directory");
    }
    throw Failure(name, errno_text(errno));
  }
  return fd;
}

std::string entry_path(const nsfun::UniqueFd& dir, std::string_view entry) {
  return fmt::format("/proc/self/fd/{}/{}", dir.get(), entry);
}

Json to_json(const Meta& m) {
  Json j;
  j["name"] = m.name;
  j["types"] = types_json(m.types);
  j["created"] = m.created;
  j["creator"] = m.creator;
  j["holder"] = m.holder ? Json(*m.holder) : Json(nullptr);
  return j;
}

std::optional<Meta> read_meta(const nsfun::UniqueFd& set) {
  nsfun::UniqueFd fd =
      nsfun::UniqueFd::adopt(::openat(set.get(), meta_file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) {
    return std::nullopt;
  }
  std::string text;
  char buf[4096];
  while (true) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;
    }
    text.append(buf, static_cast<std::size_t>(n));
  }
  Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return std::nullopt;
  }
  Meta m;
  try {
    m.name = j.value("name", "");
    m.created = j.value("created", "");
    m.creator = j.value("creator", 0U);
    if (j.contains("types") && j["types"].is_array()) {
      for (const auto& t : j["types"]) {
        if (auto parsed = nsfun::NsTypeSet::parse(t.get<std::string>())) {
          m.types = m.types | parsed.value();
        }
      }
    }
    if (j.contains("holder") && j["holder"].is_number_integer()) {
      m.holder = j["holder"].get<pid_t>();
    }
  } catch (const Json::exception&) {
    return std::nullopt;
  }
  return m;
}

void write_meta(const nsfun::UniqueFd& set, const Meta& m) {
  const std::string text = to_json(m).dump(2) + "\n";
  nsfun::UniqueFd fd = nsfun::UniqueFd::adopt(
      ::openat(set.get(), meta_file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd) {
    throw Failure(m.name, fmt::format("write {}: {}", meta_file, errno_text(errno)));
  }
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd.get(), text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      throw Failure(m.name, fmt::format("write {}: {}", meta_file, errno_text(errno)));
    }
    done += static_cast<std::size_t>(n);
  }
}

nsfun::NsFdSet open_pins(const nsfun::UniqueFd& set, const std::string& name) {
  nsfun::NsFdSet pins;
  for (nsfun::NsType t : nsfun::all_ns_types) {
    const std::string entry(nsfun::name(t));

    struct stat st {};

    if (::fstatat(set.get(), entry.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      continue;
    }
    if (!S_ISREG(st.st_mode)) {
      throw Failure(name, fmt::format("{}: not a namespace pin", entry));
    }
    auto ns = nsfun::NsFd::open_path(entry_path(set, entry).c_str(), t);
    if (!ns) {
      throw Failure(name, fmt::format("{}: {}", entry, why(ns.error())));
    }
    pins.insert(std::move(ns).value());
  }
  return pins;
}

bool is_holder(pid_t pid, const nsfun::Namespace& pidns) {
  auto pidfd = nsfun::pidfd_open(pid);
  if (!pidfd) {
    return false;
  }
  // A pidfd polls readable once the process has exited, zombie or not.
  pollfd p{pidfd.value().get(), POLLIN, 0};
  if (::poll(&p, 1, 0) > 0 && (p.revents & POLLIN) != 0) {
    return false;
  }
  auto theirs = nsfun::NsFd::open_pidfd(pidfd.value().ref(), nsfun::NsLink::pid);
  return theirs && theirs.value().identity() == pidns;
}

SetView view_set(const nsfun::UniqueFd& set, const std::string& name) {
  SetView v;
  v.name = name;
  v.meta = read_meta(set);
  nsfun::NsTypeSet files;
  for (nsfun::NsType t : nsfun::all_ns_types) {
    struct stat st {};

    if (::fstatat(set.get(), std::string(nsfun::name(t)).c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
      files.insert(t);
    }
  }
  v.types = v.meta ? v.meta->types : files;
  if (!v.meta) {
    v.problems.emplace_back(fmt::format("{} is missing or unreadable", meta_file));
  }
  std::vector<std::string> unpinned;
  for (nsfun::NsType t : v.types | files) {
    PinView pin;
    pin.type = t;
    if (files.contains(t)) {
      const std::string path = entry_path(set, nsfun::name(t));
      // open_path checks the type: an unmounted pin (the empty file below) is not pinned.
      if (auto ns = nsfun::NsFd::open_path(path.c_str(), t)) {
        pin.pinned = true;
        pin.ns = ns.value().identity();
        if (auto owner = ns.value().owner()) {
          pin.owner = owner.value().identity().ino();
        }
      }
    }
    if (!pin.pinned) {
      unpinned.emplace_back(nsfun::name(t));
    }
    v.pins.push_back(pin);
  }
  if (!unpinned.empty()) {
    v.problems.emplace_back(fmt::format("not pinned: {}", fmt::join(unpinned, ",")));
  }
  if (v.meta && v.meta->holder) {
    auto pid = std::find_if(v.pins.begin(), v.pins.end(), [](const PinView& p) {
      return p.type == nsfun::NsType::pid && p.pinned;
    });
    // Without the pid pin the holder cannot be told from a process that reused its pid.
    if (pid != v.pins.end() && !is_holder(*v.meta->holder, pid->ns)) {
      v.problems.emplace_back(fmt::format("holder {} is gone", *v.meta->holder));
    }
  }
  v.running = v.problems.empty();
  return v;
}

std::vector<SetView> list_sets() {
  std::vector<SetView> out;
  // One open when /run/nsm does not exist: nsm list must not get slower for it.
  nsfun::UniqueFd run =
      nsfun::UniqueFd::adopt(::open(run_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!run || !safe_run_dir(run.get())) {
    return out;
  }
  // owns: a second fd on the directory, for readdir; the DIR owns it once fdopendir succeeds.
  nsfun::UniqueFd listing =
      nsfun::UniqueFd::adopt(::openat(run.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  DIR* d = listing ? ::fdopendir(listing.get()) : nullptr;
  if (d == nullptr) {
    return out;
  }
  (void)listing.release();
  std::vector<std::string> names;
  while (const dirent* e = ::readdir(d)) {
    if (valid_name(e->d_name) && (e->d_type == DT_DIR || e->d_type == DT_UNKNOWN)) {
      names.emplace_back(e->d_name);
    }
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    nsfun::UniqueFd set = nsfun::UniqueFd::adopt(
        ::openat(run.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (set) {
      out.push_back(view_set(set, name));
    }
  }
  return out;
}

void tidy_run_dir() {
  nsfun::UniqueFd fd =
      nsfun::UniqueFd::adopt(::open(run_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) {
    return;
  }
  DIR* d = ::fdopendir(fd.get());
  if (d == nullptr) {
    return;
  }
  (void)fd.release();  // closedir closes it
  bool empty = true;
  while (const dirent* e = ::readdir(d)) {
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) {
      empty = false;
      break;
    }
  }
  ::closedir(d);
  if (!empty) {
    return;
  }
  // Only a self-bind of the filesystem below (as make_private() makes) is undone.
  auto self = nsfun::mount_of(run_dir);
  auto below = nsfun::mount_of("/run");
  auto mp = nsfun::is_mount_point(run_dir);
  if (self && below && mp && mp.value() && self.value().major == below.value().major &&
      self.value().minor == below.value().minor) {
    (void)nsfun::unmount(run_dir, true);
  }
  ::rmdir(run_dir);
}

std::string now_iso8601() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// The namespaces of a named set (all its pins, or those of `types`).
nsfun::NsFdSet open_for_enter(const std::string& command,
                              const std::string& name,
                              std::optional<nsfun::NsTypeSet> types) {
  check_name(command, name);
  require_root(command);
  nsfun::UniqueFd run = open_run_dir(false);
  nsfun::UniqueFd set = open_set_dir(run, name);
  if (!set) {
    no_such_set(name);
  }
  nsfun::NsFdSet pins = open_pins(set, name);
  if (pins.empty()) {
    throw Failure(name, "no namespaces are pinned (run 'nsm destroy' to clean it up)");
  }
  if (types) {
    for (nsfun::NsType t : *types) {
      if (pins.get(t) == nullptr) {
        throw Failure(name, fmt::format("has no {} namespace", nsfun::name(t)));
      }
    }
    for (nsfun::NsType t : pins.types() - *types) {
      (void)pins.take(t);
    }
  }
  return pins;
}

}  // namespace nsm::named
