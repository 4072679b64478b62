// SPDX-License-Identifier: MIT
// nsfun fuzz targets – shared helpers: a private scratch directory for parsers that read files
// through a directory fd, and a check that stops the run (libFuzzer reports it as a crash) when a
// property of a parser's result does not hold.
#pragma once

#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <string>
#include <string_view>

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nsfun/error.hpp>

namespace nsfun::fuzz {

// The input as text (it may hold any byte, NUL included).
inline std::string_view text_of(const std::uint8_t* data, std::size_t size) noexcept {
  return {reinterpret_cast<const char*>(data), size};
}

// Stops the run with `what` when `ok` is false: libFuzzer saves the input as a crash.
inline void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "nsfun fuzz: property failed: %s\n", what);
    std::abort();
  }
}

// Builds an error's text the way a program reports it, and checks its bounds: the printed
// message always says something, and no part is longer than the error's buffer.
inline void check_error(const error& e) {
  const std::string m = e.message();
  check(!m.empty(), "an error's message is empty");
  check(e.object().size() <= error::capacity() && e.reason().size() <= error::capacity(),
        "an error's text is longer than its buffer");
}

// A directory of this process's own (see base()), removed with everything in it at
// exit (or by the next run, after a crash); its files are rewritten for each input.
class ScratchDir {
 public:
  // With the subdirectories `dirs`, made in order ("1", then "1/ns").
  explicit ScratchDir(std::initializer_list<const char*> dirs = {}) {
    remove_stale(base());
    path_ = std::string(base()) + "/nsfun-fuzz-" + std::to_string(::getpid()) + "-XXXXXX";
    check(::mkdtemp(path_.data()) != nullptr, "mkdtemp");
    fd_ = ::open(path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    check(fd_ >= 0, "open the scratch directory");
    for (const char* d : dirs) {
      check(::mkdirat(fd_, d, 0700) == 0, "make a scratch directory");
    }
  }

  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  ~ScratchDir() {
    ::close(fd_);
    remove_tree(path_);
  }

  [[nodiscard]] int fd() const noexcept { return fd_; }

  [[nodiscard]] const std::string& path() const noexcept { return path_; }

  // Replaces the file `name` (relative to the directory) with `content`.
  void write(const char* name, std::string_view content) const {
    int f = ::openat(fd_, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    check(f >= 0, "create a scratch file");
    std::size_t done = 0;
    while (done < content.size()) {
      ssize_t n = ::write(f, content.data() + done, content.size() - done);
      check(n > 0, "write a scratch file");
      done += static_cast<std::size_t>(n);
    }
    ::close(f);
  }

 private:
  // /dev/shm where it is writable (a tmpfs: rewriting the files costs a tenth of what it does
  // on a disk's /tmp), else $TMPDIR, else /tmp.
  static const char* base() noexcept {
    if (::access("/dev/shm", W_OK | X_OK) == 0) {
      return "/dev/shm";
    }
    const char* tmp = std::getenv("TMPDIR");
    return tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
  }

  static void remove_tree(const std::string& path) {
    ::nftw(
        path.c_str(),
        [](const char* p, const struct stat*, int, struct FTW*) { return ::remove(p); }, 16,
        FTW_DEPTH | FTW_PHYS);
  }

  // A run that crashed (abort: no destructor ran) left its directory behind: those whose
  // process is gone are removed. Only "nsfun-fuzz-PID-*" names are looked at.
  static void remove_stale(const char* dir) {
    DIR* d = ::opendir(dir);
    if (d == nullptr) {
      return;
    }
    constexpr std::string_view prefix = "nsfun-fuzz-";
    while (const dirent* e = ::readdir(d)) {
      const std::string_view name = e->d_name;
      if (name.substr(0, prefix.size()) != prefix) {
        continue;
      }
      pid_t pid = 0;
      const char* first = name.data() + prefix.size();
      auto [end, ec] = std::from_chars(first, name.data() + name.size(), pid);
      if (ec != std::errc() || end == first || *end != '-' || pid <= 0) {
        continue;
      }
      if (::kill(pid, 0) < 0 && errno == ESRCH) {
        remove_tree(std::string(dir) + "/" + std::string(name));
      }
    }
    ::closedir(d);
  }

  std::string path_;
  int fd_ = -1;
};

}  // namespace nsfun::fuzz
