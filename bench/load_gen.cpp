// SPDX-License-Identifier: MIT
// load_gen – starts N sleeping processes, half of them in new namespaces, so that namespace
// listers (lsns, examples/list_namespaces) can be measured on a busy machine. Needs root.
//
//   load_gen N [--ready-fd FD] [--until-stdin-eof]
//
// Process i is plain when i is even; the odd ones cycle through four kinds of namespaces:
//   net   new net+uts+ipc+mnt namespaces (/ made recursively private, nothing else mounted)
//   pid   a new pid namespace: the process stays outside and forks its init (PID 1 inside),
//         so this kind is two processes
//   user  a new user namespace mapping root to the caller's uid and gid (maps written by load_gen)
//   cgrp  new cgroup and time namespaces
// Every process sleeps in pause() and dies with load_gen (PR_SET_PDEATHSIG). Once all of them
// run, load_gen prints "ready <N> <pid>" on stdout (and "ready" to --ready-fd), then waits for
// SIGINT or SIGTERM (or stdin reaching EOF with --until-stdin-eof), SIGKILLs every process it
// started, reaps them all and exits 0. After a failure it cleans up the same way and exits 1.

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <nsfun/enter.hpp>
#include <nsfun/ns_fd.hpp>
#include <nsfun/ns_type.hpp>
#include <nsfun/pidfd.hpp>

namespace {

using Clock = std::chrono::steady_clock;

enum class Kind : std::uint8_t { plain, net, pid, user, cgroup_time };

constexpr std::array<std::string_view, 5> kind_names{"plain", "net+uts+ipc+mnt", "pid", "user",
                                                     "cgroup+time"};

std::string_view kind_name(Kind k) {
  return kind_names[static_cast<std::size_t>(k)];
}

Kind kind_of(std::size_t i) {
  if (i % 2 == 0) {
    return Kind::plain;
  }
  return static_cast<Kind>(1 + (i / 2) % 4);
}

// What a child tells load_gen through the shared status pipe. Written in one write(2) of less
// than PIPE_BUF bytes, so reports of concurrent children never interleave.
enum class Event : std::int32_t {
  ready,          // the process sleeps in its namespaces
  user_unshared,  // in a new user namespace; load_gen writes its maps, then it counts as ready
  init_forked,    // the pid namespace's init was forked: `pid` is its pid here
  failed,         // `step` failed with `code`
};

// The steps a child can fail at, named in load_gen's message.
enum class Step : std::int32_t { setup, unshare, mount_private, pidfd, fork, open_time, setns };

constexpr std::array<std::string_view, 7> step_names{
    "set up",     "unshare",    "make / private (mount MS_REC|MS_PRIVATE)",
    "pidfd_open", "fork pid 1", "open /proc/PID/ns/time_for_children",
    "setns time"};

struct Report {
  std::int32_t slot;
  Event event;
  std::int32_t pid;   // init_forked
  Step step;          // failed
  std::int32_t code;  // failed: errno (> 0) or -nsfun::errc
};

static_assert(sizeof(Report) <= PIPE_BUF);

// What a child needs after fork: its parent's pid and the fds it keeps.
struct ChildEnv {
  pid_t parent = 0;
  int status_fd = -1;
  int devnull = -1;
  sigset_t mask{};  // the signal mask to restore (load_gen blocks the ones it waits for)
};

void send(const ChildEnv& env, const Report& r) noexcept {
  // A failed report cannot be reported; load_gen then sees the process exit without a report.
  while (::write(env.status_fd, &r, sizeof(r)) < 0 && errno == EINTR) {
  }
}

[[noreturn]] void sleep_forever() noexcept {
  for (;;) {
    ::pause();
  }
}

[[noreturn]] void fail(const ChildEnv& env, std::int32_t slot, Step step, int code) noexcept {
  send(env, Report{slot, Event::failed, 0, step, code});
  ::_exit(1);
}

[[noreturn]] void fail(const ChildEnv& env,
                       std::int32_t slot,
                       Step step,
                       const nsfun::error& e) noexcept {
  int code = e.code.category() == std::generic_category() ? e.code.value() : -e.code.value();
  fail(env, slot, step, code);
}

// True when the process a pidfd refers to has exited.
bool has_exited(int pidfd) noexcept {
  pollfd p{pidfd, POLLIN, 0};
  return ::poll(&p, 1, 0) > 0;
}

// The start of every child: die with the parent, keep only the status pipe and /dev/null as
// stdin, stdout and stderr (so that nobody waiting for EOF on load_gen's output waits for us).
void child_setup(const ChildEnv& env, std::int32_t slot) noexcept {
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) {
    fail(env, slot, Step::setup, errno);
  }
  if (::getppid() != env.parent) {  // the parent died before PR_SET_PDEATHSIG took effect
    ::_exit(0);
  }
  ::sigprocmask(SIG_SETMASK, &env.mask, nullptr);
  std::signal(SIGPIPE, SIG_DFL);
  for (int fd = 0; fd <= 2; ++fd) {
    if (::dup2(env.devnull, fd) < 0) {
      fail(env, slot, Step::setup, errno);
    }
  }
  auto fd = static_cast<unsigned>(env.status_fd);
  if (fd > 3) {
    ::close_range(3, fd - 1, 0);
  }
  ::close_range(fd + 1, ~0U, 0);
}

[[noreturn]] void child_main(const ChildEnv& env, std::int32_t slot, Kind kind) noexcept {
  using nsfun::NsType;
  child_setup(env, slot);
  switch (kind) {
    case Kind::plain:
      break;
    case Kind::net: {
      if (auto r = nsfun::unshare({NsType::net, NsType::uts, NsType::ipc, NsType::mnt}); !r) {
        fail(env, slot, Step::unshare, r.error());
      }
      // Nothing mounted or unmounted in here may propagate to the host's mount namespace.
      if (::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0) {
        fail(env, slot, Step::mount_private, errno);
      }
      break;
    }
    case Kind::pid: {
      // The init learns from this pidfd whether we died before its PR_SET_PDEATHSIG took effect
      // (its getppid() is 0: we are outside its namespace).
      auto self = nsfun::pidfd_open(::getpid());
      if (!self) {
        fail(env, slot, Step::pidfd, self.error());
      }
      if (auto r = nsfun::unshare({NsType::pid}); !r) {
        fail(env, slot, Step::unshare, r.error());
      }
      pid_t init = ::fork();
      if (init < 0) {
        fail(env, slot, Step::fork, errno);
      }
      if (init == 0) {  // PID 1 of the new pid namespace
        if (::prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) {
          fail(env, slot, Step::setup, errno);
        }
        if (has_exited(self.value().get())) {
          ::_exit(0);
        }
        self.value().reset();
        send(env, Report{slot, Event::ready, 0, Step::setup, 0});
        sleep_forever();
      }
      self.value().reset();
      // This process stays alive: it is the init's parent, and it leaves the init unreaped
      // should it die, so that load_gen reaps both once this one is killed.
      send(env, Report{slot, Event::init_forked, init, Step::setup, 0});
      sleep_forever();
    }
    case Kind::user: {
      if (auto r = nsfun::unshare({NsType::user}); !r) {
        fail(env, slot, Step::unshare, r.error());
      }
      send(env, Report{slot, Event::user_unshared, 0, Step::setup, 0});
      sleep_forever();
    }
    case Kind::cgroup_time: {
      if (auto r = nsfun::unshare({NsType::cgroup, NsType::time}); !r) {
        fail(env, slot, Step::unshare, r.error());
      }
      // unshare(CLONE_NEWTIME) puts only future children in the new time namespace; a
      // single-threaded process may join it itself.
      auto time = nsfun::NsFd::open(::getpid(), nsfun::NsLink::time_for_children);
      if (!time) {
        fail(env, slot, Step::open_time, time.error());
      }
      if (auto r = nsfun::enter(time.value()); !r) {
        fail(env, slot, Step::setns, r.error());
      }
      break;
    }
  }
  send(env, Report{slot, Event::ready, 0, Step::setup, 0});
  sleep_forever();
}

// A failure: printed as "<what>: <strerror(err)>", or just "<what>" when err is 0 (what then
// says it all, e.g. the step and error a child reported).
struct Failure {
  std::string what;
  int err = 0;
};

std::string describe(int code) {
  if (code >= 0) {
    return std::strerror(code);
  }
  return nsfun::make_error_code(static_cast<nsfun::errc>(-code)).message();
}

std::string describe_status(int status) {
  if (WIFEXITED(status)) {
    return fmt::format("exited with status {}", WEXITSTATUS(status));
  }
  if (WIFSIGNALED(status)) {
    return fmt::format("killed by signal {} ({})", WTERMSIG(status), ::strsignal(WTERMSIG(status)));
  }
  return fmt::format("wait status {:#x}", status);
}

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Writes all of `s` to the file at `path`; errno on failure.
int write_file(const std::string& path, std::string_view s) noexcept {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    return errno;
  }
  int err = 0;
  if (::write(fd, s.data(), s.size()) != static_cast<ssize_t>(s.size())) {
    err = errno != 0 ? errno : EIO;
  }
  if (::close(fd) < 0 && err == 0) {
    err = errno;
  }
  return err;
}

struct Slot {
  pid_t pid = 0;   // 0 once reaped (or never started)
  pid_t init = 0;  // kind pid: the namespace's init; 0 once reaped
  Kind kind = Kind::plain;
  int pending = 0;  // reports (or map writes) still missing before the slot is ready
};

class Generator {
 public:
  Generator(std::size_t n, int ready_fd, bool until_stdin_eof)
      : n_(n), ready_fd_(ready_fd), until_stdin_eof_(until_stdin_eof) {}

  Generator(const Generator&) = delete;
  Generator& operator=(const Generator&) = delete;

  // Runs everything; returns the exit status.
  int run() {
    auto failure = setup();
    if (!failure) {
      failure = start_all();
    }
    if (!failure) {
      failure = announce();
    }
    if (!failure) {
      failure = wait_for_stop();
    }
    std::size_t reaped = stop_all();
    if (failure) {
      if (failure->err != 0) {
        fmt::print(stderr, "load_gen: {}: {}\n", failure->what, std::strerror(failure->err));
      } else {
        fmt::print(stderr, "load_gen: {}\n", failure->what);
      }
      return 1;
    }
    fmt::print(stderr, "load_gen: stopped: killed and reaped {} processes in {:.2f} s\n", reaped,
               seconds_since(stop_started_));
    return 0;
  }

 private:
  std::optional<Failure> setup() {
    // The children are forked from this (single) thread; every signal load_gen waits for is
    // blocked and read from a signalfd, so nothing interrupts a fork half-way.
    sigset_t wanted;
    sigemptyset(&wanted);
    sigaddset(&wanted, SIGINT);
    sigaddset(&wanted, SIGTERM);
    sigaddset(&wanted, SIGCHLD);
    if (::sigprocmask(SIG_BLOCK, &wanted, &env_.mask) < 0) {
      return Failure{"sigprocmask", errno};
    }
    sigfd_ = ::signalfd(-1, &wanted, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sigfd_ < 0) {
      return Failure{"signalfd", errno};
    }
    std::signal(SIGPIPE, SIG_IGN);  // a closed stdout is reported as an error, not a death
    // Orphaned pid namespace inits come to us, so that every process we made is reaped here.
    if (::prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
      return Failure{"prctl PR_SET_CHILD_SUBREAPER", errno};
    }
    int p[2];
    if (::pipe2(p, O_CLOEXEC) < 0) {
      return Failure{"pipe2", errno};
    }
    status_r_ = p[0];
    env_.status_fd = p[1];
    // Room for every report, so that children never block on a full pipe (best effort: the
    // size is capped by /proc/sys/fs/pipe-max-size; a smaller pipe only makes them wait).
    (void)::fcntl(status_r_, F_SETPIPE_SZ, 1 << 20);
    if (::fcntl(status_r_, F_SETFL, O_NONBLOCK) < 0) {
      return Failure{"fcntl O_NONBLOCK", errno};
    }
    env_.devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (env_.devnull < 0) {
      return Failure{"open /dev/null", errno};
    }
    env_.parent = ::getpid();
    uid_ = ::getuid();
    gid_ = ::getgid();
    slots_.resize(n_);
    return std::nullopt;
  }

  std::optional<Failure> start_all() {
    t0_ = Clock::now();
    for (std::size_t i = 0; i < n_; ++i) {
      if (i % 64 == 0) {
        if (auto f = poll_events(0)) {
          return f;
        }
      }
      Slot& s = slots_[i];
      s.kind = kind_of(i);
      s.pending = s.kind == Kind::pid ? 2 : 1;
      pid_t pid = ::fork();
      if (pid < 0) {
        return Failure{fmt::format("fork (process {} of {})", i + 1, n_), errno};
      }
      if (pid == 0) {
        child_main(env_, static_cast<std::int32_t>(i), s.kind);
      }
      s.pid = pid;
      ++processes_;
    }
    forked_ = seconds_since(t0_);
    while (ready_ < n_) {
      if (auto f = poll_events(-1)) {
        return f;
      }
    }
    return std::nullopt;
  }

  std::optional<Failure> announce() {
    std::array<std::size_t, kind_names.size()> per_kind{};
    for (const Slot& s : slots_) {
      ++per_kind[static_cast<std::size_t>(s.kind)];
    }
    std::string kinds;
    for (std::size_t k = 0; k < per_kind.size(); ++k) {
      kinds += fmt::format("{}{} {}", k == 0 ? "" : ", ", per_kind[k], kind_names[k]);
    }
    fmt::print(stderr, "load_gen: {} processes ready in {:.2f} s (forked in {:.2f} s): {}\n",
               processes_, seconds_since(t0_), forked_, kinds);
    fmt::print("ready {} {}\n", n_, ::getpid());
    if (std::fflush(stdout) != 0 || std::ferror(stdout) != 0) {
      return Failure{"write ready line to stdout", errno != 0 ? errno : EIO};
    }
    if (ready_fd_ >= 0) {
      constexpr std::string_view msg = "ready\n";
      if (::write(ready_fd_, msg.data(), msg.size()) != static_cast<ssize_t>(msg.size())) {
        return Failure{fmt::format("write to --ready-fd {}", ready_fd_), errno != 0 ? errno : EIO};
      }
      ::close(ready_fd_);
      ready_fd_ = -1;
    }
    return std::nullopt;
  }

  std::optional<Failure> wait_for_stop() {
    while (!stop_) {
      if (auto f = poll_events(-1)) {
        return f;
      }
    }
    return std::nullopt;
  }

  // Waits up to timeout_ms (-1: until something happens) for reports, signals and, with
  // --until-stdin-eof, stdin; handles what arrived.
  std::optional<Failure> poll_events(int timeout_ms) {
    std::array<pollfd, 3> fds{{{status_r_, POLLIN, 0}, {sigfd_, POLLIN, 0}, {0, POLLIN, 0}}};
    // stdin counts only once everything runs: `load_gen N --until-stdin-eof </dev/null` starts
    // all processes, says ready, and stops them at once.
    nfds_t nfds = until_stdin_eof_ && !stdin_eof_ && ready_ == n_ ? 3 : 2;
    if (::poll(fds.data(), nfds, timeout_ms) < 0) {
      if (errno == EINTR) {
        return std::nullopt;
      }
      return Failure{"poll", errno};
    }
    // Reports first: a child that failed wrote why before it exited.
    if (auto f = read_reports()) {
      return f;
    }
    if (auto f = read_signals()) {
      return f;
    }
    if (nfds == 3 && fds[2].revents != 0) {
      char buf[4096];
      ssize_t got = ::read(0, buf, sizeof(buf));
      if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN)) {
        stdin_eof_ = true;
        stop_ = true;
      }
    }
    if (stop_ && ready_ < n_) {
      return Failure{
          fmt::format("stopped by a signal before all processes were ready ({} of {})", ready_, n_),
          0};
    }
    return std::nullopt;
  }

  std::optional<Failure> read_reports() {
    std::array<Report, 256> buf;
    for (;;) {
      ssize_t got = ::read(status_r_, buf.data(), sizeof(buf));
      if (got < 0) {
        if (errno == EINTR) {
          continue;
        }
        if (errno == EAGAIN) {
          return std::nullopt;
        }
        return Failure{"read status pipe", errno};
      }
      // Reports are written whole and atomically, so reads return whole reports.
      auto count = static_cast<std::size_t>(got) / sizeof(Report);
      for (std::size_t i = 0; i < count; ++i) {
        if (auto f = handle(buf[i])) {
          return f;
        }
      }
      if (count < buf.size()) {
        return std::nullopt;
      }
    }
  }

  std::optional<Failure> handle(const Report& r) {
    if (r.slot < 0 || static_cast<std::size_t>(r.slot) >= n_) {
      return Failure{"bad report on the status pipe", EPROTO};
    }
    Slot& s = slots_[static_cast<std::size_t>(r.slot)];
    if (draining_) {
      if (r.event == Event::init_forked && s.init == 0) {
        s.init = r.pid;
        ++processes_;
      }
      return std::nullopt;
    }
    switch (r.event) {
      case Event::ready:
        break;
      case Event::init_forked:
        s.init = r.pid;
        ++processes_;
        break;
      case Event::user_unshared: {
        if (s.pid == 0) {  // already reaped: it died, which is reported as such
          break;
        }
        std::string proc = fmt::format("/proc/{}/", s.pid);
        for (auto [file, text] : std::array<std::pair<const char*, std::string>, 3>{{
                 {"setgroups", "deny"},
                 {"uid_map", fmt::format("0 {} 1", uid_)},
                 {"gid_map", fmt::format("0 {} 1", gid_)},
             }}) {
          if (int err = write_file(proc + file, text); err != 0) {
            return Failure{fmt::format("write {}{}", proc, file), err};
          }
        }
        break;
      }
      case Event::failed: {
        auto step = static_cast<std::size_t>(r.step);
        return Failure{
            fmt::format("process {} ({}): {}: {}", r.slot, kind_name(s.kind),
                        step < step_names.size() ? step_names[step] : "?", describe(r.code)),
            0};
      }
      default:
        return Failure{"bad report on the status pipe", EPROTO};
    }
    if (--s.pending == 0) {
      ++ready_;
      if (ready_ % 1000 == 0 && ready_ < n_) {
        fmt::print(stderr, "load_gen: {}/{} ready after {:.2f} s\n", ready_, n_,
                   seconds_since(t0_));
      }
    }
    return std::nullopt;
  }

  std::optional<Failure> read_signals() {
    signalfd_siginfo si;
    for (;;) {
      ssize_t got = ::read(sigfd_, &si, sizeof(si));
      if (got < 0) {
        if (errno == EINTR) {
          continue;
        }
        if (errno == EAGAIN) {
          return std::nullopt;
        }
        return Failure{"read signalfd", errno};
      }
      if (si.ssi_signo == SIGCHLD) {
        if (auto f = reap_unexpected()) {
          return f;
        }
      } else {
        stop_ = true;
      }
    }
  }

  // Every process we made should sleep until we kill it: one that ended is a failure.
  std::optional<Failure> reap_unexpected() {
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid <= 0) {
      return std::nullopt;
    }
    ++reaped_early_;
    std::string who = fmt::format("pid {}", pid);
    for (std::size_t i = 0; i < n_; ++i) {
      Slot& s = slots_[i];
      if (s.pid == pid || s.init == pid) {
        who = fmt::format("process {} ({}{}, pid {})", i, kind_name(s.kind),
                          s.init == pid ? " init" : "", pid);
        (s.pid == pid ? s.pid : s.init) = 0;  // reaped: its pid must not be killed any more
        break;
      }
    }
    // A child that failed wrote why before it exited: its report is the better message.
    if (auto f = read_reports()) {
      return f;
    }
    return Failure{fmt::format("{} {} before it was stopped", who, describe_status(status)), 0};
  }

  // SIGKILLs every recorded process and reaps all our children (orphaned pid namespace inits
  // included) until none is left. Returns how many were reaped.
  std::size_t stop_all() {
    stop_started_ = Clock::now();
    draining_ = true;  // from now on reports only tell which inits exist
    (void)read_reports();
    // The inits first: they are not our children until their parent dies.
    for (const Slot& s : slots_) {
      if (s.init > 0) {
        ::kill(s.init, SIGKILL);
      }
    }
    for (const Slot& s : slots_) {
      if (s.pid > 0) {
        ::kill(s.pid, SIGKILL);
      }
    }
    std::size_t reaped = reaped_early_;
    for (;;) {
      int status = 0;
      pid_t pid = ::waitpid(-1, &status, 0);
      if (pid > 0) {
        ++reaped;
      } else if (errno != EINTR) {
        break;  // ECHILD: nothing of ours is left
      }
    }
    // An init forked just before the end was reaped above (it came to us when its parent
    // died) but perhaps not yet counted: its parent's report is still in the pipe.
    (void)read_reports();
    if (reaped != processes_) {
      fmt::print(stderr, "load_gen: warning: started {} processes but reaped {}\n", processes_,
                 reaped);
    }
    return reaped;
  }

  std::size_t n_;
  int ready_fd_;
  bool until_stdin_eof_;
  ChildEnv env_;
  int sigfd_ = -1;
  int status_r_ = -1;
  uid_t uid_ = 0;
  gid_t gid_ = 0;
  std::vector<Slot> slots_;
  std::size_t processes_ = 0;  // the sleepers plus the pid namespace inits
  std::size_t ready_ = 0;
  std::size_t reaped_early_ = 0;
  bool stop_ = false;
  bool draining_ = false;
  bool stdin_eof_ = false;
  Clock::time_point t0_;
  Clock::time_point stop_started_;
  double forked_ = 0;
};

[[noreturn]] void usage(int status) {
  fmt::print(status == 0 ? stdout : stderr,
             "usage: load_gen N [--ready-fd FD] [--until-stdin-eof]\n"
             "  Starts N sleeping processes (half plain, half in new namespaces; the pid kind\n"
             "  adds its namespace's init), prints 'ready N PID' once all run, and kills them\n"
             "  on SIGINT or SIGTERM (or at EOF on stdin with --until-stdin-eof).\n");
  std::exit(status);
}

std::optional<long> parse_number(const char* s) {
  char* end = nullptr;
  errno = 0;
  long v = std::strtol(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < 0) {
    return std::nullopt;
  }
  return v;
}

}  // namespace

// Exceptions (the NOLINT): only fmt's errors (a failed write) can escape; they end the
// program with terminate's message.
// NOLINTNEXTLINE(bugprone-exception-escape)
int main(int argc, char** argv) {
  std::optional<long> n;
  int ready_fd = -1;
  bool until_stdin_eof = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      usage(0);
    } else if (arg == "--ready-fd" && i + 1 < argc) {
      auto fd = parse_number(argv[++i]);
      if (!fd || *fd > 1 << 20 || ::fcntl(static_cast<int>(*fd), F_GETFD) < 0) {
        fmt::print(stderr, "load_gen: --ready-fd {}: not an open file descriptor\n", argv[i]);
        return 2;
      }
      ready_fd = static_cast<int>(*fd);
    } else if (arg == "--until-stdin-eof") {
      until_stdin_eof = true;
    } else if (!n && !arg.empty() && arg[0] != '-') {
      n = parse_number(argv[i]);
      if (!n) {
        fmt::print(stderr, "load_gen: N must be a number, not '{}'\n", arg);
        return 2;
      }
    } else {
      usage(2);
    }
  }
  if (!n) {
    usage(2);
  }
  Generator gen(static_cast<std::size_t>(*n), ready_fd, until_stdin_eof);
  return gen.run();
}
