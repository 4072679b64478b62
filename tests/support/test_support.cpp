// SPDX-License-Identifier: MIT
// nsfun tests – helpers: forked children, capability probes, skips, fd counting, commands,
// reading /proc links and files.

#include "test_support.hpp"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>

#if NSFUN_TEST_TSAN
#  include <sanitizer/common_interface_defs.h>
#  include <thread>

#  include <pthread.h>
#endif

namespace nsfun::test {

#if NSFUN_TEST_TSAN
// ThreadSanitizer (the tsan preset) starts a thread of its own in the test runner at its first
// pthread_create and again in every forked child, which then is multithreaded where an ordinary
// build is not: unshare(CLONE_NEWUSER) and setns into a user or time namespace fail there. So the
// runner starts that thread at once (a thread made and joined before main: the thread counts the
// cases compare stay the same throughout) and every forked child stops it (its sandbox callback,
// after TSan's own fork handler). Race detection needs no such thread. The runner itself stays
// multithreaded: its cases that need a single thread are skipped (under_tsan()).
struct TsanSingleThreadedChildren {
  TsanSingleThreadedChildren() {
    std::thread([] {}).join();
    ::pthread_atfork(nullptr, nullptr, [] { __sanitizer_sandbox_on_notify(nullptr); });
  }
};

const TsanSingleThreadedChildren tsan_single_threaded_children;
#endif

int in_child(const std::function<int()>& fn) {
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t pid = ::fork();
  if (pid < 0) {
    return 255;
  }
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    int code = 254;
    try {
      code = fn();
    } catch (...) {
      std::fprintf(stderr, "child: uncaught exception\n");
    }
    std::fflush(stdout);
    std::fflush(stderr);
    ::_exit(code);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      return 255;
    }
  }
  if (WIFSIGNALED(status)) {
    return 128 + WTERMSIG(status);
  }
  return WEXITSTATUS(status);
}

bool can_unshare(NsTypeSet types) {
  static std::mutex mutex;
  static std::map<int, bool> cache;
  std::lock_guard lock(mutex);
  int flags = types.clone_flags();
  auto it = cache.find(flags);
  if (it == cache.end()) {
    bool ok = in_child([flags] { return ::unshare(flags) == 0 ? 0 : 1; }) == 0;
    it = cache.emplace(flags, ok).first;
  }
  return it->second;
}

int private_run() {
  if (::unshare(CLONE_NEWNS) < 0) {
    return errno;
  }
  // Without this, mounts made here would propagate back to the host's shared mounts.
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0) {
    return errno;
  }
  if (::mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0) {
    return errno;
  }
  return 0;
}

bool can_private_run() {
  static const bool ok = in_child([] { return private_run(); }) == 0;
  return ok;
}

int private_run_reaper() {
  if (int err = private_run(); err != 0) {
    return err;
  }
  return ::prctl(PR_SET_CHILD_SUBREAPER, 1) == 0 ? 0 : errno;
}

std::size_t mount_count() {
  std::ifstream in("/proc/self/mountinfo");
  std::size_t n = 0;
  for (std::string line; std::getline(in, line);) {
    ++n;
  }
  return n;
}

bool no_children() {
  for (int i = 0; i < 500; ++i) {
    errno = 0;
    pid_t r = ::waitpid(-1, nullptr, WNOHANG);
    if (r < 0 && errno == ECHILD) {
      return true;
    }
    if (r == 0) {
      ::usleep(10'000);
    }
  }
  return false;
}

int drop_privileges() {
  if (::setgroups(0, nullptr) < 0 || ::setresgid(65534, 65534, 65534) < 0 ||
      ::setresuid(65534, 65534, 65534) < 0) {
    return errno;
  }
  // Changing credentials made the process non-dumpable, which makes its /proc files (and its
  // children's) root-owned; a real unprivileged process is dumpable.
  ::prctl(PR_SET_DUMPABLE, 1);
  return 0;
}

bool can_drop_privileges() {
  static const bool ok = in_child([] { return drop_privileges(); }) == 0;
  return ok;
}

bool can_unshare_unprivileged(NsTypeSet types) {
  int flags = types.clone_flags();
  return in_child([flags] { return drop_privileges() == 0 && ::unshare(flags) == 0 ? 0 : 1; }) == 0;
}

std::size_t open_fd_count() {
  std::size_t n = 0;
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) {
    return 0;
  }
  while (const dirent* e = ::readdir(dir)) {
    if (e->d_name[0] != '.') {
      ++n;
    }
  }
  ::closedir(dir);
  return n - 1;  // the directory's own fd
}

void skip(const char* why) {
  std::printf("NSFUN-SKIPPED: %s\n", why);
  std::fflush(stdout);
  MESSAGE("skipped: " << std::string(why));
}

CommandResult run(const std::string& command) {
  CommandResult r;
  std::FILE* p = ::popen(command.c_str(), "re");
  if (p == nullptr) {
    return r;
  }
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) {
    r.out.append(buf, n);
  }
  int status = ::pclose(p);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

bool have_program(const char* prog) {
  return run(std::string("command -v ") + prog + " >/dev/null 2>&1").status == 0;
}

std::string unique_name(const char* prefix) {
  static std::atomic<int> counter{0};
  return std::string(prefix) + std::to_string(::getpid()) + "-" + std::to_string(counter++);
}

std::string ns_link_text(const std::string& dir, std::string_view link) {
  std::string path = dir + "/ns/";
  path += link;
  char buf[64];  // "time_for_children:[4026531834]" and the like
  ssize_t n = ::readlink(path.c_str(), buf, sizeof(buf));
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

std::uint64_t link_ino(const std::string& dir, std::string_view link) {
  const std::string text = ns_link_text(dir, link);
  const std::size_t open = text.find('[');
  return open == std::string::npos ? 0 : std::strtoull(text.c_str() + open + 1, nullptr, 10);
}

std::uint64_t link_ino(pid_t pid, std::string_view link) {
  return link_ino("/proc/" + std::to_string(pid), link);
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t start = text.find_first_not_of(" \t\n", i);
    if (start == std::string_view::npos) {
      break;
    }
    std::size_t end = text.find_first_of(" \t\n", start);
    end = end == std::string_view::npos ? text.size() : end;
    out.emplace_back(text.substr(start, end - start));
    i = end;
  }
  return out;
}

PausedChild::PausedChild(const std::function<bool()>& setup) {
  int ready[2];
  if (::pipe2(ready, O_CLOEXEC) < 0) {
    return;
  }
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(ready[0]);
    if (setup()) {
      (void)!::write(ready[1], "x", 1);
      ::pause();
    }
    ::_exit(1);
  }
  ::close(ready[1]);
  char c = 0;
  const bool ok = pid > 0 && ::read(ready[0], &c, 1) == 1;
  ::close(ready[0]);
  if (!ok) {
    if (pid > 0) {
      ::waitpid(pid, nullptr, 0);  // setup failed: the child has exited
    }
    return;
  }
  pid_ = pid;
}

void PausedChild::stop() noexcept {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
}

}  // namespace nsfun::test
