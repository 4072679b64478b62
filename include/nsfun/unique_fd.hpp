// SPDX-License-Identifier: MIT
// nsfun – UniqueFd, an owning file descriptor, and FdRef, a borrowed one.
#pragma once

#include <cassert>

#include <nsfun/config.hpp>
#include <nsfun/error.hpp>

namespace nsfun {

/// A borrowed file descriptor: what functions that use but do not keep an fd take.
class FdRef {
 public:
  /// Borrows a raw fd; the caller keeps it open for as long as the FdRef is used.
  constexpr explicit FdRef(int fd) noexcept : fd_(fd) {}

  [[nodiscard]] constexpr int get() const noexcept { return fd_; }

 private:
  int fd_;
};

/// An owned file descriptor: move-only, closed by its destructor (errors ignored, never retried;
/// it never throws). A moved-from UniqueFd is empty; move-assignment closes the target's own fd
/// first, and moving a UniqueFd onto itself changes nothing. Every fd nsfun opens is O_CLOEXEC.
class UniqueFd {
 public:
  UniqueFd() noexcept = default;

  /// Takes ownership of `fd` (which must be -1 or an open fd): explicit at the call site.
  [[nodiscard]] static UniqueFd adopt(int fd) noexcept { return UniqueFd(fd); }

  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}

  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = other.release();
    }
    return *this;
  }

  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  ~UniqueFd() { reset(); }

  /// A new fd on the same open file: fcntl(F_DUPFD_CLOEXEC, 3). Errors name the fd
  /// (`fcntl F_DUPFD_CLOEXEC fd -1: Bad file descriptor`).
  [[nodiscard]] result<UniqueFd> clone() const noexcept;

  /// Closes the fd and reports close(2)'s error, for callers who care; empty afterwards.
  [[nodiscard]] result<void> close() noexcept;

  /// Closes the fd, if any, ignoring errors.
  void reset() noexcept;

  /// Gives up ownership: the only way a raw fd leaves a UniqueFd still open.
  [[nodiscard]] int release() noexcept {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

  [[nodiscard]] int get() const noexcept { return fd_; }

  [[nodiscard]] FdRef ref() const noexcept { return FdRef(fd_); }

  // NOLINTNEXTLINE(google-explicit-constructor): a UniqueFd lends itself where an FdRef is taken.
  operator FdRef() const noexcept { return FdRef(fd_); }

  explicit operator bool() const noexcept { return fd_ >= 0; }

 private:
  explicit UniqueFd(int fd) noexcept : fd_(fd) { assert(fd >= -1); }

  int fd_ = -1;
};

}  // namespace nsfun

#ifdef NSFUN_HEADER_ONLY
#  include <nsfun/impl/unique_fd.ipp>
#endif
