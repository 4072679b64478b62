// SPDX-License-Identifier: MIT
// nsfun tests – helpers: forked children, capability probes, skips, fd counting, commands,
// reading /proc links and files.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <sys/types.h>

#include <nsfun/ns_type.hpp>

// NSFUN_TEST_TSAN, NSFUN_TEST_ASAN: 1 in a ThreadSanitizer or AddressSanitizer build (GCC
// defines __SANITIZE_THREAD__ and __SANITIZE_ADDRESS__, clang answers __has_feature).
#if defined(__SANITIZE_THREAD__)
#  define NSFUN_TEST_TSAN 1
#elif defined(__has_feature)
#  if __has_feature(thread_sanitizer)
#    define NSFUN_TEST_TSAN 1
#  endif
#endif
#ifndef NSFUN_TEST_TSAN
#  define NSFUN_TEST_TSAN 0
#endif
#if defined(__SANITIZE_ADDRESS__)
#  define NSFUN_TEST_ASAN 1
#elif defined(__has_feature)
#  if __has_feature(address_sanitizer)
#    define NSFUN_TEST_ASAN 1
#  endif
#endif
#ifndef NSFUN_TEST_ASAN
#  define NSFUN_TEST_ASAN 0
#endif

namespace nsfun::test {

/// Runs `fn` in a forked child and returns its exit status, or 128 + signal when it was killed.
/// The test runner's own namespaces never change. fn's return value is the exit status.
int in_child(const std::function<int()>& fn);

/// Probe, run once per set and cached: can a child process unshare these types?
bool can_unshare(NsTypeSet types);

/// Probe: can a child make a private mount namespace with a tmpfs on /run (see private_run())?
bool can_private_run();

/// Probe: can a child drop to uid/gid 65534 (nobody)?
bool can_drop_privileges();

/// Probe: can a child, after dropping to nobody, unshare these types?
bool can_unshare_unprivileged(NsTypeSet types);

/// In the calling (child) process: a new mount namespace with every mount private, and a fresh
/// tmpfs on /run, so that /run/netns and friends made here never reach the host.
/// Returns 0 or an errno value.
int private_run();

/// private_run(), then this process becomes a child subreaper (PR_SET_CHILD_SUBREAPER), so that
/// holders its children start come back to it. 0 or an errno value.
int private_run_reaper();

/// The number of mounts in this process's mount table (/proc/self/mountinfo lines).
std::size_t mount_count();

/// True once this process has no child left (reaping any that exit), waiting up to 5 s.
bool no_children();

/// In the calling (child) process: become uid/gid 65534 with no capabilities. 0 or errno.
int drop_privileges();

/// Entries in /proc/self/fd.
std::size_t open_fd_count();

/// Marks the running test case as skipped (ctest matches the printed marker).
void skip(const char* why);

/// True in a ThreadSanitizer build (the tsan preset). Its runtime keeps a thread of its own in
/// the test runner, which is never single-threaded: setns(2) into a time or user namespace and
/// unshare(CLONE_NEWUSER) fail there, whatever the code does (forked children are single-threaded
/// again: test_support.cpp). Skip such cases with NSFUN_REQUIRE(!under_tsan(), "...why...").
constexpr bool under_tsan() noexcept {
  return NSFUN_TEST_TSAN != 0;
}

/// True in an AddressSanitizer build (the asan and debug presets).
constexpr bool under_asan() noexcept {
  return NSFUN_TEST_ASAN != 0;
}

/// How long a test waits for the GONE of a namespace whose last process it reaped. A user
/// namespace is freed only after the last credential naming it, through an RCU callback (the dead
/// task's and its files' creds), and a kernel with lazy RCU (CONFIG_RCU_LAZY on offloaded CPUs)
/// batches such callbacks for up to 10 s on a quiet machine: its GONE may trail by that much.
/// The other types go with their last process or holder.
constexpr std::chrono::milliseconds gone_wait(NsType t) noexcept {
  return t == NsType::user ? std::chrono::milliseconds(30'000) : std::chrono::milliseconds(10'000);
}

/// Runs a shell command; its exit status and what it printed on stdout.
struct CommandResult {
  int status = -1;
  std::string out;
};

CommandResult run(const std::string& command);

/// True when `prog` is found on PATH.
bool have_program(const char* prog);

/// A name unique to this process and call: "nsfun-test-<pid>-<n>".
std::string unique_name(const char* prefix = "nsfun-test-");

/// What readlink(2) says of `dir`/ns/`link`, e.g. "net:[4026531840]". `dir` is /proc/PID,
/// /proc/PID/task/TID or /proc/thread-self; `link` a name under ns/ ("net", "pid_for_children").
/// Empty when the link cannot be read. The tests' own reading, independent of nsfun's.
std::string ns_link_text(const std::string& dir, std::string_view link);

/// The inode number in ns_link_text(dir, link) ("net:[4026531840]" -> 4026531840); 0 when the
/// link cannot be read.
std::uint64_t link_ino(const std::string& dir, std::string_view link);

/// The same for /proc/`pid`/ns/`link`.
std::uint64_t link_ino(pid_t pid, std::string_view link);

/// The whole file; empty when it cannot be read.
std::string read_text(const std::string& path);

/// The words of `text`, split at spaces, tabs and newlines: "a b\nc\n" -> {"a", "b", "c"}.
std::vector<std::string> split_words(std::string_view text);

/// A forked child that runs `setup` and, when setup returns true, tells the parent it is ready
/// and waits (pause) until it is killed: a process holding namespaces or credentials for a test
/// to look at. The constructor returns once the child is ready; pid() is -1 (and the child is
/// reaped) when fork or setup failed. The destructor kills (SIGKILL) and reaps it.
class PausedChild {
 public:
  explicit PausedChild(const std::function<bool()>& setup);
  PausedChild(const PausedChild&) = delete;
  PausedChild& operator=(const PausedChild&) = delete;

  ~PausedChild() { stop(); }

  /// The child's pid; -1 when it never got ready or was stopped.
  [[nodiscard]] pid_t pid() const noexcept { return pid_; }

  explicit operator bool() const noexcept { return pid_ > 0; }

  /// Kills and reaps the child now (nothing when there is none).
  void stop() noexcept;

 private:
  pid_t pid_ = -1;
};

/// /etc/netns/NAME for a test, removed when it ends (also after a failed check), with /etc/netns
/// itself when the test made it and it is empty again.
struct EtcNetns {
  std::string dir;
  bool made_parent = !std::filesystem::exists("/etc/netns");

  explicit EtcNetns(const std::string& name) : dir("/etc/netns/" + name) {
    std::filesystem::create_directories(dir);
  }

  EtcNetns(const EtcNetns&) = delete;
  EtcNetns& operator=(const EtcNetns&) = delete;

  ~EtcNetns() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    if (made_parent) {
      std::filesystem::remove("/etc/netns", ec);  // fails, as it should, when not empty
    }
  }
};

}  // namespace nsfun::test

/// Skips the current test case (reported as skipped by ctest) unless `cond` holds.
#define NSFUN_REQUIRE(cond, why) \
  do {                           \
    if (!(cond)) {               \
      ::nsfun::test::skip(why);  \
      return;                    \
    }                            \
  } while (false)

/// Runs a child body (a lambda returning its exit status) and checks it exited with 0.
#define NSFUN_CHECK_CHILD(...)                                                                 \
  do {                                                                                         \
    int nsfun_child_status = ::nsfun::test::in_child(__VA_ARGS__);                             \
    CHECK_MESSAGE(nsfun_child_status == 0, "child exited with status " << nsfun_child_status); \
  } while (false)

/// In a child: a result must be a success; otherwise print its error and fail.
/// `r` is evaluated once (a call is not repeated to print its error).
#define NSFUN_EXPECT_OK(r)                                                                \
  do {                                                                                    \
    auto&& nsfun_expect_ok_ = (r);                                                        \
    if (!nsfun_expect_ok_) {                                                              \
      std::fprintf(stderr, "%s:%d: child check failed: %s: %s\n", __FILE__, __LINE__, #r, \
                   nsfun_expect_ok_.error().message().c_str());                           \
      return __LINE__ % 250 + 1;                                                          \
    }                                                                                     \
  } while (false)

/// In a child: on failure print what failed and return a non-zero exit status (the line).
#define NSFUN_EXPECT(cond)                                                                \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      std::fprintf(stderr, "%s:%d: child check failed: %s\n", __FILE__, __LINE__, #cond); \
      return __LINE__ % 250 + 1;                                                          \
    }                                                                                     \
  } while (false)
