// SPDX-License-Identifier: MIT
// nsfun – private: DirReader, the entries of a directory through an owned DIR* (closed by its
// destructor).
#pragma once

#include <string_view>
#include <utility>

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <nsfun/error.hpp>

namespace nsfun::detail {

// The entries of one directory, "." and ".." left out, read with readdir(3) from a DIR* the
// reader owns. Move-only; the destructor closes the directory.
class DirReader {
 public:
  // The directory `path` relative to `dirfd` (AT_FDCWD, or a dirfd: "." for that directory
  // itself). Errors: the errno of openat or fdopendir, with step "open directory" and no
  // object (the caller names what it opened).
  [[nodiscard]] static result<DirReader> open(int dirfd, const char* path) noexcept {
    int fd = ::openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
      return errno_error(errno, "open directory");
    }
    DIR* dir = ::fdopendir(fd);
    if (dir == nullptr) {
      int err = errno;
      ::close(fd);
      return errno_error(err, "open directory");
    }
    return DirReader(dir);
  }

  DirReader(DirReader&& other) noexcept : dir_(std::exchange(other.dir_, nullptr)) {}

  DirReader& operator=(DirReader&& other) noexcept {
    std::swap(dir_, other.dir_);
    return *this;
  }

  DirReader(const DirReader&) = delete;
  DirReader& operator=(const DirReader&) = delete;

  ~DirReader() {
    if (dir_ != nullptr) {
      ::closedir(dir_);
    }
  }

  // The next entry other than "." and "..", or nullptr at the end (or on a read error).
  [[nodiscard]] const dirent* next() noexcept {
    while (const dirent* e = ::readdir(dir_)) {
      std::string_view n(e->d_name);
      if (n != "." && n != "..") {
        return e;
      }
    }
    return nullptr;
  }

 private:
  explicit DirReader(DIR* dir) noexcept : dir_(dir) {}

  DIR* dir_ = nullptr;
};

}  // namespace nsfun::detail
