// SPDX-License-Identifier: MIT
// nsfun (private) – switching the calling thread into a namespace and back, where that is safe.
//
// run_in() and acquire() must leave the caller's threads where they are. A short-lived thread
// does that for every type, but costs a clone, an 8 MiB stack mapping and a join (~0.4 ms on a
// small VM). For net and uts the kernel lets any thread switch, with no side effect, and the
// calling thread can come back on its own when it is allowed to enter the namespaces it is in
// now: ComeBack checks that up front (by entering them), so the fast path is taken only when the
// return trip cannot be refused, and the thread remains the fallback.
// Not ipc: every setns into an IPC namespace, even the current one, detaches the caller from its
// System V semaphore undo list (ipcns_install → exit_sem), which in a single-threaded process
// applies and forgets its SEM_UNDO adjustments. A fresh thread only drops its shared reference.

#pragma once

#include <array>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <utility>

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <nsfun/error.hpp>
#include <nsfun/ns_type.hpp>

namespace nsfun::detail {

/// Types a thread can leave and re-enter with setns alone, and nothing else changing.
inline constexpr NsTypeSet come_back_types{NsType::net, NsType::uts};

class ComeBack {
 public:
  /// Saves the calling thread's namespaces of `types`. ok() is false, and nothing is kept, when
  /// a type is not in come_back_types, /proc cannot be read, or re-entering one is refused.
  explicit ComeBack(NsTypeSet types) noexcept {
    if (types.empty() || !(types - come_back_types).empty()) {
      return;
    }
    for (NsType t : types) {
      std::array<char, 40> path{};
      std::snprintf(path.data(), path.size(), "/proc/thread-self/ns/%.*s",
                    static_cast<int>(name(t).size()), name(t).data());
      int fd = ::open(path.data(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
      if (fd < 0 || ::setns(fd, clone_flag(t)) < 0) {
        if (fd >= 0) {
          ::close(fd);
        }
        close_all();
        return;
      }
      saved_[count_++] = {fd, clone_flag(t)};
    }
    ok_ = true;
  }

  ComeBack(const ComeBack&) = delete;
  ComeBack& operator=(const ComeBack&) = delete;

  /// Re-enters the saved namespaces. Aborts when the kernel refuses: code would go on running in
  /// a namespace it never meant to be in (it was checked to be allowed, so this does not happen
  /// short of the process dropping its capabilities meanwhile).
  ~ComeBack() {
    for (std::size_t i = 0; i < count_; ++i) {
      if (::setns(saved_[i].fd, saved_[i].flag) < 0) {
        static constexpr char msg[] = "nsfun: cannot return to the thread's namespaces\n";
        (void)!::write(STDERR_FILENO, msg, sizeof(msg) - 1);
        std::abort();
      }
    }
    close_all();
  }

  [[nodiscard]] bool ok() const noexcept { return ok_; }

 private:
  struct Saved {
    int fd = -1;
    int flag = 0;
  };

  void close_all() noexcept {
    for (std::size_t i = 0; i < count_; ++i) {
      ::close(saved_[i].fd);
    }
    count_ = 0;
  }

  std::array<Saved, come_back_types.size()> saved_{};
  std::size_t count_ = 0;
  bool ok_ = false;
};

// Runs fn (returning a result<T>) on a short-lived thread of its own, waits for it and returns
// what it returned: for work that changes the namespaces of the thread it runs on, which then end
// with that thread. Fails with "create thread" when no thread can be made.
template <class F>
[[nodiscard]] auto run_on_thread(F&& fn) noexcept -> decltype(fn()) {
  std::optional<decltype(fn())> out;
  try {
    std::thread worker([&] { out.emplace(fn()); });
    worker.join();
  } catch (const std::system_error& e) {
    return boost::outcome_v2::failure(error{e.code(), "create thread"});
  }
  return std::move(*out);
}

// Runs fn, which moves into namespaces of `types`, on the calling thread when that thread can
// come back from them (ComeBack brings it back afterwards), otherwise on a thread of its own.
template <class F>
[[nodiscard]] auto here_or_on_thread(NsTypeSet types, F&& fn) noexcept -> decltype(fn()) {
  {
    ComeBack here(types);
    if (here.ok()) {
      return fn();
    }
  }
  return run_on_thread(std::forward<F>(fn));
}

}  // namespace nsfun::detail
