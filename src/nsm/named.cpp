// SPDX-License-Identifier: MIT
// nsm – the /run/nsm layout of named namespace sets.

#include "named.hpp"

#include <cerrno>
#include <cstring>
#include <ctime>
#include <string>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <nsfun/mount.hpp>

namespace nsm::named {
namespace {

std::string errno_text(int err) {
  return std::strerror(err);
}

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
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
  Json types = Json::array();
  for (nsfun::NsType t : m.types) {
    types.push_back(std::string(nsfun::name(t)));
  }
  Json j;
  j["name"] = m.name;
  j["types"] = types;
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

void tidy_run_dir() {
  nsfun::UniqueFd fd =
      nsfun::UniqueFd::adopt(::open(run_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) {
    return;
  }
  DIR* d = ::fdopendir(fd.release());
  if (d == nullptr) {
    return;
  }
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

}  // namespace nsm::named
