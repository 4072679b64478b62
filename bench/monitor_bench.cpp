// SPDX-License-Identifier: MIT
// monitor_bench – how good NsMonitor's backends are (issue 16, "How good"): every backend watches
// the same namespaces, made by a workload at a controlled rate and lifetime, in one run. Needs
// root.
//
//   monitor_bench [--backends LIST] [--workloads LIST] [--duration S] [--drain S] [--idle S]
//                 [--sleepers N] [--workers N] [--max-inflight N] [--types LIST]
//                 [--interval MS] [--no-bpf-stats]
//
// The backends (--backends, default bpf,connector,poll,reference) each run in a child process of
// their own, side by side: NsMonitor with the backend asked for by name (poll at --interval,
// default 1000 ms, its default), and `reference`, the bash tool's method (nsm monitor of
// hed0rah/namespaces-fun: sleep 1 s, read every /proc/*/ns/* link, report a type:[inode] not in
// the last scan as NEW and one no longer in it as GONE) done in-process with readlinkat instead
// of a fork per link. A backend NsMonitor::open refuses is reported as "unavailable: <why>".
//
// The run: start --sleepers sleeping processes (default 1000, one process group, killed and
// reaped at the end whatever happens); start the monitors; measure each monitor's CPU time over
// --idle seconds with no namespace activity (the threads' on-CPU time from
// /proc/PID/task/*/schedstat; for bpf, plus the run time of the BPF programs it holds, read with
// BPF_ENABLE_STATS while the bench runs); then run each workload for --duration seconds, and
// wait --drain seconds for late GONE events.
//
// A workload (--workloads, comma-separated MODE:LIFETIME:RATE) is --workers processes that fork
// one child per namespace, cycling through the types (--types, default all eight). The child
// unshares one type, stamps CLOCK_MONOTONIC (NEW), reads the namespace's id (NS_GET_ID) and inode
// from /proc/self/ns/TYPE (pid_for_children, time_for_children; a new pid namespace first gets an
// init that exits at once, as the link opens only after that), reports them, and then:
//   MODE fork  lives LIFETIME and exits: unshare in a process that never execs;
//   MODE exec  execs this program, which lives LIFETIME and exits (what the proc connector sees);
//   MODE clone is born in the namespace (clone(2) with the CLONE_NEW* flag), then execs as exec.
// LIFETIME: `us` (exit at once: created and gone within ~100 µs), or a duration (50ms, 1s).
// RATE: namespaces per second over all workers, or `max` (as fast as the workers manage with
// at most --max-inflight children alive; the achieved rate is reported). The worker stamps
// CLOCK_MONOTONIC when it has reaped the child (GONE). Latency is the CLOCK_MONOTONIC time the
// monitor delivered the event minus the stamp. Events are matched by the namespace's 64-bit id;
// an event without an id (the reference's, which has only inodes) by type and inode, while the
// namespace was alive.
//
// Output: a markdown table per workload and backend, and one of idle cost, on stdout; progress on
// stderr. Exit status 0 when the run completed (whatever the figures, unless --require), 1 on a
// failure, 2 on a usage error, 3 when a --require'd backend missed a namespace, 77 without root.

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <dirent.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <nsfun/monitor.hpp>
#include <nsfun/ns_type.hpp>

namespace {

using nsfun::NsType;

// NS_GET_ID (linux/nsfs.h, Linux 6.18+; older headers lack it).
constexpr unsigned long ns_get_id = _IOR(0xb7, 13, std::uint64_t);

std::uint64_t mono_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000U +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

void sleep_ns(std::uint64_t ns) noexcept {
  timespec ts{static_cast<time_t>(ns / 1'000'000'000U), static_cast<long>(ns % 1'000'000'000U)};
  while (::clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR) {
  }
}

void sleep_until(std::uint64_t t) noexcept {
  timespec ts{static_cast<time_t>(t / 1'000'000'000U), static_cast<long>(t % 1'000'000'000U)};
  while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
}

// ---- options --------------------------------------------------------------------------------

enum class Backend : std::uint8_t { bpf, connector, poll, reference, bash_nsm };

constexpr std::array<std::string_view, 5> backend_names{"bpf", "connector", "poll", "reference",
                                                        "bash-nsm"};

std::string_view name(Backend b) {
  return backend_names[static_cast<std::size_t>(b)];
}

// fork: fork, unshare, no exec; exec: fork, unshare, exec; clone: clone with the CLONE_NEW* flag
// (the new process is born in the namespace), exec.
enum class Mode : std::uint8_t { fork_only, exec, clone };

struct Workload {
  Mode mode = Mode::fork_only;
  std::uint64_t lifetime_ns = 0;  // 0: exit at once
  double rate = 0;                // namespaces per second; 0: as fast as possible
  std::string label;
};

struct Options {
  std::vector<Backend> backends{Backend::bpf, Backend::connector, Backend::poll,
                                Backend::reference};
  std::vector<Workload> workloads;
  double duration_s = 5;
  double drain_s = 3;
  double idle_s = 10;
  int sleepers = 1000;
  int workers = 4;
  int max_inflight = 256;
  std::vector<NsType> types{nsfun::all_ns_types.begin(), nsfun::all_ns_types.end()};
  int interval_ms = 1000;
  bool bpf_stats = true;
  std::string dump_dir;
  std::vector<Backend> required;  // must see 100% NEW and GONE in every workload
  bool separate = false;          // each backend alone, the workloads repeated
};

// --bash-nsm: the bash tool's script (read by the bash-nsm monitor child).
std::string g_bash_nsm;

constexpr std::string_view default_workloads =
    "fork:us:1000,fork:50ms:1000,fork:1s:1000,exec:us:1000,exec:50ms:1000,exec:1s:1000,"
    "clone:us:1000,clone:50ms:1000,clone:1s:1000,fork:us:max,exec:us:max";

[[noreturn]] void usage(int status) {
  fmt::print(
      status == 0 ? stdout : stderr,
      "usage: monitor_bench [--backends LIST] [--workloads LIST] [--duration S] [--drain S]\n"
      "                     [--idle S] [--sleepers N] [--workers N] [--max-inflight N]\n"
      "                     [--types LIST] [--interval MS] [--no-bpf-stats] [--dump DIR]\n"
      "                     [--require LIST] [--bash-nsm PATH] [--separate]\n"
      "  --backends   bpf,connector,poll,reference (default: all four), bash-nsm\n"
      "  --workloads  MODE:LIFETIME:RATE,... with MODE fork|exec|clone, LIFETIME us|<n>ms|<n>s,\n"
      "               RATE namespaces/s or max (default: {})\n"
      "  --duration   seconds each workload makes namespaces (default 5)\n"
      "  --drain      seconds to wait after each workload for late events (default 3)\n"
      "  --idle       seconds of idle CPU measurement, 0 to skip (default 10)\n"
      "  --sleepers   extra sleeping processes during the whole run (default 1000)\n"
      "  --workers    processes making namespaces (default 4)\n"
      "  --max-inflight  children alive at once at RATE max, over all workers (default 256)\n"
      "  --types      namespace types made, cycled (default: all eight)\n"
      "  --interval   the poll backend's rescan period in ms (default 1000)\n"
      "  --no-bpf-stats  do not enable BPF run-time statistics (BPF_ENABLE_STATS)\n"
      "  --dump DIR   write what was made (made.tsv) and each backend's events (BACKEND.tsv)\n"
      "  --require LIST  exit 3 unless each of these backends (when available) saw 100%\n"
      "               NEW and GONE in every workload\n"
      "  --bash-nsm PATH  also run the bash tool itself (`bash PATH monitor`, the nsm script of\n"
      "               hed0rah/namespaces-fun) as backend bash-nsm; it forks per link, so it\n"
      "               loads the machine: best with few --sleepers\n"
      "  --separate   run each backend alone, repeating the idle measurement and the workloads\n"
      "               for each (default: all at the same time on the same workloads)\n",
      default_workloads);
  std::exit(status);
}

[[noreturn]] void usage_error(const std::string& msg) {
  fmt::print(stderr, "monitor_bench: {}\n", msg);
  std::exit(2);
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  for (;;) {
    auto pos = s.find(sep);
    out.push_back(s.substr(0, pos));
    if (pos == std::string_view::npos) {
      return out;
    }
    s.remove_prefix(pos + 1);
  }
}

std::optional<double> parse_number(std::string_view s) {
  if (s.empty()) {
    return std::nullopt;
  }
  std::string tmp(s);
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(tmp.c_str(), &end);
  if (errno != 0 || end != tmp.c_str() + tmp.size() || !std::isfinite(v) || v < 0) {
    return std::nullopt;
  }
  return v;
}

// "us" (0), "50ms", "1s", "250us".
std::optional<std::uint64_t> parse_lifetime(std::string_view s) {
  if (s == "us" || s == "0") {
    return 0;
  }

  struct Unit {
    std::string_view suffix;
    double ns;
  };

  for (Unit u : {Unit{"us", 1e3}, Unit{"ms", 1e6}, Unit{"s", 1e9}}) {
    if (s.size() > u.suffix.size() && s.substr(s.size() - u.suffix.size()) == u.suffix) {
      auto v = parse_number(s.substr(0, s.size() - u.suffix.size()));
      if (!v || *v * u.ns > 3600e9) {
        return std::nullopt;
      }
      return static_cast<std::uint64_t>(*v * u.ns);
    }
  }
  return std::nullopt;
}

Workload parse_workload(std::string_view spec) {
  auto parts = split(spec, ':');
  if (parts.size() != 3) {
    usage_error(fmt::format("workload '{}': expected MODE:LIFETIME:RATE", spec));
  }
  Workload w;
  if (parts[0] == "fork") {
    w.mode = Mode::fork_only;
  } else if (parts[0] == "exec") {
    w.mode = Mode::exec;
  } else if (parts[0] == "clone") {
    w.mode = Mode::clone;
  } else {
    usage_error(
        fmt::format("workload '{}': mode must be fork, exec or clone, not '{}'", spec, parts[0]));
  }
  auto life = parse_lifetime(parts[1]);
  if (!life) {
    usage_error(
        fmt::format("workload '{}': lifetime must be us or a duration such as 50ms or 1s", spec));
  }
  w.lifetime_ns = *life;
  if (parts[2] == "max") {
    w.rate = 0;
  } else {
    auto r = parse_number(parts[2]);
    if (!r || *r < 1 || *r > 1e6) {
      usage_error(fmt::format("workload '{}': rate must be 1..1000000 or max", spec));
    }
    w.rate = *r;
  }
  std::string life_text = w.lifetime_ns == 0 ? std::string("~µs")
                          : w.lifetime_ns % 1'000'000'000U == 0
                              ? fmt::format("{} s", w.lifetime_ns / 1'000'000'000U)
                              : fmt::format("{} ms", static_cast<double>(w.lifetime_ns) / 1e6);
  w.label =
      fmt::format("{}, {}, {}",
                  w.mode == Mode::fork_only ? "unshare, no exec"
                  : w.mode == Mode::exec    ? "unshare+exec"
                                            : "clone+exec",
                  life_text, w.rate == 0 ? std::string("max") : fmt::format("{:g}/s", w.rate));
  return w;
}

double parse_seconds(std::string_view opt, const char* s, double min, double max) {
  auto v = parse_number(s);
  if (!v || *v < min || *v > max) {
    usage_error(
        fmt::format("{} needs a number of seconds in {:g}..{:g}, not '{}'", opt, min, max, s));
  }
  return *v;
}

int parse_int(std::string_view opt, const char* s, int min, int max) {
  int v = 0;
  std::string_view sv(s);
  auto [p, ec] = std::from_chars(sv.data(), sv.data() + sv.size(), v);
  if (ec != std::errc{} || p != sv.data() + sv.size() || v < min || v > max) {
    usage_error(fmt::format("{} needs a number in {}..{}, not '{}'", opt, min, max, s));
  }
  return v;
}

Options parse_args(int argc, char** argv) {
  Options o;
  std::string_view workloads = default_workloads;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) {
        usage_error(fmt::format("{} needs a value", arg));
      }
      return argv[++i];
    };
    if (arg == "-h" || arg == "--help") {
      usage(0);
    } else if (arg == "--backends" || arg == "--require") {
      auto& list = arg == "--backends" ? o.backends : o.required;
      list.clear();
      for (std::string_view b : split(value(), ',')) {
        auto it = std::find(backend_names.begin(), backend_names.end(), b);
        if (it == backend_names.end()) {
          usage_error(
              fmt::format("unknown backend '{}' (bpf, connector, poll, reference, bash-nsm)", b));
        }
        list.push_back(static_cast<Backend>(it - backend_names.begin()));
      }
    } else if (arg == "--workloads") {
      workloads = value();
    } else if (arg == "--duration") {
      o.duration_s = parse_seconds(arg, value(), 0.1, 3600);
    } else if (arg == "--drain") {
      o.drain_s = parse_seconds(arg, value(), 0, 3600);
    } else if (arg == "--idle") {
      o.idle_s = parse_seconds(arg, value(), 0, 3600);
    } else if (arg == "--sleepers") {
      o.sleepers = parse_int(arg, value(), 0, 100000);
    } else if (arg == "--workers") {
      o.workers = parse_int(arg, value(), 1, 64);
    } else if (arg == "--max-inflight") {
      o.max_inflight = parse_int(arg, value(), 1, 100000);
    } else if (arg == "--interval") {
      o.interval_ms = parse_int(arg, value(), 1, 3'600'000);
    } else if (arg == "--types") {
      o.types.clear();
      for (std::string_view t : split(value(), ',')) {
        auto it = std::find_if(nsfun::all_ns_types.begin(), nsfun::all_ns_types.end(),
                               [&](NsType x) { return nsfun::name(x) == t; });
        if (it == nsfun::all_ns_types.end()) {
          usage_error(fmt::format("unknown namespace type '{}'", t));
        }
        o.types.push_back(*it);
      }
    } else if (arg == "--separate") {
      o.separate = true;
    } else if (arg == "--bash-nsm") {
      g_bash_nsm = value();
    } else if (arg == "--dump") {
      o.dump_dir = value();
    } else if (arg == "--no-bpf-stats") {
      o.bpf_stats = false;
    } else {
      usage_error(fmt::format("unknown argument '{}' (--help)", arg));
    }
  }
  for (std::string_view w : split(workloads, ',')) {
    o.workloads.push_back(parse_workload(w));
  }
  bool has_bash =
      std::find(o.backends.begin(), o.backends.end(), Backend::bash_nsm) != o.backends.end();
  if (!g_bash_nsm.empty() && !has_bash) {
    o.backends.push_back(Backend::bash_nsm);
  } else if (g_bash_nsm.empty() && has_bash) {
    usage_error("backend bash-nsm needs --bash-nsm PATH (the bash tool's nsm script)");
  }
  return o;
}

// ---- shared memory --------------------------------------------------------------------------

// An anonymous shared mapping of `bytes` (pages touched only when written).
void* shared_alloc(std::size_t bytes) {
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) {
    fmt::print(stderr, "monitor_bench: mmap {} bytes: {}\n", bytes, std::strerror(errno));
    std::exit(1);
  }
  return p;
}

// One namespace the workload made, as its worker recorded it.
struct Made {
  std::uint64_t id = 0;
  std::uint64_t ino = 0;
  std::uint64_t t_new = 0;   // CLOCK_MONOTONIC ns after unshare returned
  std::uint64_t t_gone = 0;  // after its process was reaped
  NsType type = NsType::user;
  std::uint8_t state = 0;  // see made_*
  std::int32_t err = 0;    // made_failed: errno
};

constexpr std::uint8_t made_forked = 0;  // forked, no report (yet)
constexpr std::uint8_t made_ok = 1;      // made and reported
constexpr std::uint8_t made_failed = 2;  // unshare failed

struct WorkerShm {
  std::uint64_t count = 0;  // entries of made[] used
  std::int32_t err = 0;     // a failure of the worker itself (errno), with `what`
  char what[96] = {};
  Made made[1];  // really `cap` entries
};

// What a workload's child reports to its worker (one write, < PIPE_BUF).
struct ChildReport {
  std::uint64_t seq;
  std::uint64_t id;
  std::uint64_t ino;
  std::uint64_t t_new;
  std::int32_t err;
};

// One event a monitor delivered.
struct Ev {
  std::uint64_t id;
  std::uint64_t ino;
  std::uint64_t obs;        // when the backend says it happened / was seen (CLOCK_MONOTONIC)
  std::uint64_t delivered;  // when next() returned it (CLOCK_MONOTONIC)
  std::uint64_t lost;
  nsfun::NsEventKind kind;
  NsType type;
};

constexpr std::uint8_t mon_starting = 0;
constexpr std::uint8_t mon_ready = 1;
constexpr std::uint8_t mon_unavailable = 2;
constexpr std::uint8_t mon_failed = 3;
constexpr std::uint8_t mon_done = 4;

struct MonitorShm {
  std::atomic<std::uint64_t> count{0};  // entries of ev[] used
  std::uint64_t dropped = 0;            // events beyond the capacity
  nsfun::MonitorStats stats{};
  pid_t helper = 0;  // bash-nsm: the bash process (its CPU time is the backend's)
  std::uint8_t state = mon_starting;
  char why[512] = {};
  Ev ev[1];  // really `cap` entries
};

void copy_text(char* dst, std::size_t size, std::string_view s) {
  std::size_t n = std::min(size - 1, s.size());
  std::memcpy(dst, s.data(), n);
  dst[n] = '\0';
}

// ---- process bookkeeping and cleanup ---------------------------------------------------------

// Everything main started, for the cleanup on any exit (also from a signal handler: plain
// arrays, async-signal-safe calls only).
constexpr std::size_t max_children = 256;
pid_t g_children[max_children];
std::atomic<std::size_t> g_nchildren{0};
volatile pid_t g_sleeper_pgid = 0;
std::vector<pid_t> g_sleepers;  // not touched by the signal handler

void track(pid_t pid) {
  std::size_t n = g_nchildren.load();
  if (n < max_children) {
    g_children[n] = pid;
    g_nchildren.store(n + 1);
  }
}

void untrack(pid_t pid) {
  std::size_t n = g_nchildren.load();
  for (std::size_t i = 0; i < n; ++i) {
    if (g_children[i] == pid) {
      g_children[i] = g_children[n - 1];
      g_nchildren.store(n - 1);
      return;
    }
  }
}

// SIGKILLs the sleepers (by the process group main made) and every tracked child, and reaps
// them all. Async-signal-safe.
void kill_everything() noexcept {
  if (g_sleeper_pgid > 0) {
    ::kill(-g_sleeper_pgid, SIGKILL);
  }
  std::size_t n = g_nchildren.load();
  for (std::size_t i = 0; i < n; ++i) {
    ::kill(g_children[i], SIGKILL);
  }
  // Every child main has is one of those: reap until none is left.
  while (::waitpid(-1, nullptr, 0) > 0 || errno == EINTR) {
  }
  g_sleeper_pgid = 0;
  g_nchildren.store(0);
}

extern "C" void on_signal(int sig) {
  kill_everything();
  ::_exit(128 + sig);
}

[[noreturn]] void die(const std::string& msg) {
  fmt::print(stderr, "monitor_bench: {}\n", msg);
  kill_everything();
  std::exit(1);
}

// The start of every child of main: die with main, keep only what the child needs.
void child_start(pid_t parent) noexcept {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) {
    ::_exit(0);
  }
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  std::signal(SIGHUP, SIG_DFL);
}

// ---- sleepers -------------------------------------------------------------------------------

void start_sleepers(int n) {
  pid_t self = ::getpid();
  pid_t leader = 0;
  g_sleepers.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    pid_t pid = ::fork();
    if (pid < 0) {
      die(fmt::format("fork sleeper {} of {}: {}", i + 1, n, std::strerror(errno)));
    }
    if (pid == 0) {
      child_start(self);
      ::setpgid(0, leader);  // leader 0: a group of its own, named by its pid
      ::close_range(3, ~0U, 0);
      for (;;) {
        ::pause();
      }
    }
    // Both sides set the group, so that it is set whichever runs first.
    if (::setpgid(pid, leader == 0 ? pid : leader) < 0 && errno != EACCES) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      die(fmt::format("setpgid sleeper {}: {}", pid, std::strerror(errno)));
    }
    if (leader == 0) {
      leader = pid;
      g_sleeper_pgid = pid;
    }
    g_sleepers.push_back(pid);
  }
}

// Kills the sleepers' process group and reaps each of them.
std::size_t stop_sleepers() {
  if (g_sleeper_pgid > 0) {
    ::kill(-g_sleeper_pgid, SIGKILL);
  }
  std::size_t reaped = 0;
  for (pid_t pid : g_sleepers) {
    while (::waitpid(pid, nullptr, 0) < 0) {
      if (errno != EINTR) {
        break;
      }
    }
    ++reaped;
  }
  g_sleepers.clear();
  g_sleeper_pgid = 0;
  return reaped;
}

// ---- monitors -------------------------------------------------------------------------------

struct MonitorProc {
  Backend backend{};
  pid_t pid = 0;
  int stop_w = -1;   // a byte written here stops it
  int ready_r = -1;  // it writes a byte here once ready (or unavailable)
  MonitorShm* shm = nullptr;
  std::size_t cap = 0;
};

void record(MonitorShm* shm, std::size_t cap, const Ev& e) noexcept {
  std::uint64_t n = shm->count.load(std::memory_order_relaxed);
  if (n >= cap) {
    ++shm->dropped;
    return;
  }
  shm->ev[n] = e;
  shm->count.store(n + 1, std::memory_order_release);
}

std::optional<NsType> type_named(std::string_view s) {
  for (NsType t : nsfun::all_ns_types) {
    if (nsfun::name(t) == s) {
      return t;
    }
  }
  return std::nullopt;
}

// The reference: the bash tool's method, in-process. Sleep, then read every /proc/PID/ns/* link;
// a type:[inode] not in the previous scan is NEW (when its link was read), one in the previous
// scan and not in this one is GONE (after the scan).
void reference_loop(
    MonitorShm* shm, std::size_t cap, int stop_fd, int ready_fd, std::uint64_t interval_ns) {
  static constexpr std::array<const char*, 10> links{"user",
                                                     "mnt",
                                                     "uts",
                                                     "ipc",
                                                     "pid",
                                                     "net",
                                                     "cgroup",
                                                     "time",
                                                     "pid_for_children",
                                                     "time_for_children"};
  using Key = std::uint64_t;  // ino * 8 + type
  std::unordered_set<Key> known;
  auto scan = [&](bool report) {
    std::unordered_set<Key> current;
    current.reserve(known.size() + 64);
    DIR* d = ::opendir("/proc");
    if (d == nullptr) {
      return;
    }
    int proc = ::dirfd(d);
    char path[320];
    char buf[64];
    while (dirent* de = ::readdir(d)) {
      if (de->d_name[0] < '1' || de->d_name[0] > '9') {
        continue;
      }
      for (const char* l : links) {
        std::snprintf(path, sizeof(path), "%s/ns/%s", de->d_name, l);
        ssize_t n = ::readlinkat(proc, path, buf, sizeof(buf) - 1);
        if (n <= 0) {
          continue;
        }
        std::uint64_t seen_at = mono_ns();
        std::string_view text(buf, static_cast<std::size_t>(n));  // "net:[4026531840]"
        auto colon = text.find(":[");
        if (colon == std::string_view::npos || text.back() != ']') {
          continue;
        }
        auto type = type_named(text.substr(0, colon));
        std::uint64_t ino = 0;
        auto digits = text.substr(colon + 2, text.size() - colon - 3);
        std::from_chars(digits.data(), digits.data() + digits.size(), ino);
        if (!type || ino == 0) {
          continue;
        }
        Key k = ino * 8U + static_cast<std::uint64_t>(*type);
        if (!current.insert(k).second) {
          continue;
        }
        if (report && known.count(k) == 0) {
          record(shm, cap, Ev{0, ino, seen_at, mono_ns(), 0, nsfun::NsEventKind::appeared, *type});
        }
      }
    }
    ::closedir(d);
    if (report) {
      for (Key k : known) {
        if (current.count(k) == 0) {
          record(shm, cap,
                 Ev{0, k / 8U, mono_ns(), mono_ns(), 0, nsfun::NsEventKind::gone,
                    static_cast<NsType>(k % 8U)});
        }
      }
    }
    known = std::move(current);
    ++shm->stats.rescans;
  };
  scan(false);
  shm->state = mon_ready;
  (void)!::write(ready_fd, "r", 1);
  for (;;) {
    pollfd p{stop_fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(interval_ns / 1'000'000U)) > 0) {
      break;
    }
    scan(true);
  }
  shm->stats.events = shm->count.load();
  shm->state = mon_done;
}

// True when process `pid` has a child named `comm` (/proc/PID/task/PID/children).
bool has_child_named(pid_t pid, std::string_view comm) {
  std::FILE* f = std::fopen(fmt::format("/proc/{}/task/{}/children", pid, pid).c_str(), "re");
  if (f == nullptr) {
    return false;
  }
  std::vector<pid_t> kids;
  long k = 0;
  while (std::fscanf(f, "%ld", &k) == 1) {
    kids.push_back(static_cast<pid_t>(k));
  }
  std::fclose(f);
  for (pid_t kid : kids) {
    std::FILE* c = std::fopen(fmt::format("/proc/{}/comm", kid).c_str(), "re");
    if (c == nullptr) {
      continue;
    }
    char buf[64] = {};
    bool ok = std::fgets(buf, sizeof(buf), c) != nullptr;
    std::fclose(c);
    std::string_view name(buf);
    if (ok && name.substr(0, name.find('\n')) == comm) {
      return true;
    }
  }
  return false;
}

// One line of the bash tool's monitor, its colours removed: "HH:MM:SS + NEW LINK TYPE:[INO] pid=…"
// or "HH:MM:SS - GONE LINK:TYPE:[INO]".
void parse_bash_line(std::string_view line, MonitorShm* shm, std::size_t cap, std::uint64_t now) {
  std::string plain;
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '\x1b') {
      while (i < line.size() && line[i] != 'm') {
        ++i;
      }
      continue;
    }
    plain += line[i];
  }
  std::string_view v(plain);
  nsfun::NsEventKind kind{};
  std::string_view ref;  // "TYPE:[INO]"
  if (auto p = v.find("+ NEW "); p != std::string_view::npos) {
    kind = nsfun::NsEventKind::appeared;
    auto rest = split(v.substr(p + 6), ' ');
    if (rest.size() < 2) {
      return;
    }
    ref = rest[1];
  } else if (auto g = v.find("- GONE "); g != std::string_view::npos) {
    kind = nsfun::NsEventKind::gone;
    ref = split(v.substr(g + 7), ' ')[0];  // "LINK:TYPE:[INO]"
    auto bracket = ref.find(":[");
    if (bracket == std::string_view::npos || bracket == 0) {
      return;
    }
    auto colon = ref.rfind(':', bracket - 1);
    if (colon == std::string_view::npos) {
      return;
    }
    ref.remove_prefix(colon + 1);
  } else {
    return;
  }
  auto bracket = ref.find(":[");
  if (bracket == std::string_view::npos || ref.size() < bracket + 4 || ref.back() != ']') {
    return;
  }
  auto type = type_named(ref.substr(0, bracket));
  std::uint64_t ino = 0;
  auto digits = ref.substr(bracket + 2, ref.size() - bracket - 3);
  std::from_chars(digits.data(), digits.data() + digits.size(), ino);
  if (type && ino != 0) {
    record(shm, cap, Ev{0, ino, now, now, 0, kind, *type});
  }
}

[[noreturn]] void bash_nsm_unavailable(MonitorShm* shm, int ready_fd, std::string_view why) {
  copy_text(shm->why, sizeof(shm->why), why);
  shm->state = mon_unavailable;
  (void)!::write(ready_fd, "u", 1);
  ::_exit(0);
}

// bash-nsm: `bash PATH monitor` in a process group of its own (killed by that pgid at the end),
// its output read line by line. Ready once its baseline scan is done (its first `sleep 1`).
[[noreturn]] void bash_nsm_child(MonitorShm* shm, std::size_t cap, int stop_fd, int ready_fd) {
  if (::access(g_bash_nsm.c_str(), R_OK) < 0) {
    bash_nsm_unavailable(shm, ready_fd, fmt::format("{}: {}", g_bash_nsm, std::strerror(errno)));
  }
  int out[2];
  if (::pipe2(out, O_CLOEXEC) < 0) {
    bash_nsm_unavailable(shm, ready_fd, fmt::format("pipe2: {}", std::strerror(errno)));
  }
  pid_t self = ::getpid();
  pid_t bash = ::fork();
  if (bash == 0) {
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != self) {
      ::_exit(0);
    }
    int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    ::dup2(devnull, 0);
    ::dup2(out[1], 1);
    ::dup2(devnull, 2);
    ::execl("/bin/bash", "bash", g_bash_nsm.c_str(), "monitor", nullptr);
    ::_exit(127);
  }
  if (bash < 0) {
    bash_nsm_unavailable(shm, ready_fd, fmt::format("fork: {}", std::strerror(errno)));
  }
  ::setpgid(bash, bash);
  ::close(out[1]);
  shm->helper = bash;
  auto stop = [&](std::uint8_t state) {
    ::kill(-bash, SIGKILL);
    ::waitpid(bash, nullptr, 0);
    shm->stats.events = shm->count.load();
    shm->state = state;
    ::_exit(0);
  };
  std::string pending;
  bool ready = false;
  std::uint64_t give_up = mono_ns() + 600'000'000'000U;
  for (;;) {
    std::array<pollfd, 2> fds{{{stop_fd, POLLIN, 0}, {out[0], POLLIN, 0}}};
    int n = ::poll(fds.data(), fds.size(), ready ? -1 : 100);
    if (n > 0 && (fds[0].revents & POLLIN) != 0) {
      stop(ready ? mon_done : mon_failed);
    }
    if (n > 0 && (fds[1].revents & (POLLIN | POLLHUP)) != 0) {
      char buf[4096];
      ssize_t got = ::read(out[0], buf, sizeof(buf));
      if (got <= 0) {
        copy_text(shm->why, sizeof(shm->why), "bash nsm monitor ended");
        if (!ready) {
          shm->state = mon_unavailable;
          (void)!::write(ready_fd, "u", 1);
        }
        stop(ready ? mon_failed : mon_unavailable);
      }
      std::uint64_t now = mono_ns();
      pending.append(buf, static_cast<std::size_t>(got));
      for (auto nl = pending.find('\n'); nl != std::string::npos; nl = pending.find('\n')) {
        if (ready) {
          parse_bash_line(std::string_view(pending).substr(0, nl), shm, cap, now);
        }
        pending.erase(0, nl + 1);
      }
    }
    if (!ready) {
      if (has_child_named(bash, "sleep")) {
        ready = true;
        copy_text(shm->why, sizeof(shm->why), fmt::format("bash {} monitor", g_bash_nsm));
        shm->state = mon_ready;
        (void)!::write(ready_fd, "r", 1);
      } else if (mono_ns() > give_up) {
        copy_text(shm->why, sizeof(shm->why), "its first scan took more than 600 s");
        shm->state = mon_unavailable;
        (void)!::write(ready_fd, "u", 1);
        stop(mon_unavailable);
      }
    }
  }
}

[[noreturn]] void monitor_child(
    Backend b, MonitorShm* shm, std::size_t cap, int stop_fd, int ready_fd, int interval_ms) {
  // As nsm monitor does, every monitor (the reference too) asks to run soon after it wakes.
  (void)nsfun::favor_monitor_thread();
  if (b == Backend::reference) {
    reference_loop(shm, cap, stop_fd, ready_fd, 1'000'000'000U);
    ::_exit(0);
  }
  if (b == Backend::bash_nsm) {
    bash_nsm_child(shm, cap, stop_fd, ready_fd);
  }
  nsfun::MonitorOptions o;
  o.backend = b == Backend::bpf         ? nsfun::MonitorBackend::bpf
              : b == Backend::connector ? nsfun::MonitorBackend::connector
                                        : nsfun::MonitorBackend::poll;
  o.interval = std::chrono::milliseconds(interval_ms);
  auto m = nsfun::NsMonitor::open(o);
  if (!m) {
    copy_text(shm->why, sizeof(shm->why), m.error().message());
    shm->state = mon_unavailable;
    (void)!::write(ready_fd, "u", 1);
    ::_exit(0);
  }
  nsfun::NsMonitor mon = std::move(m).value();
  copy_text(shm->why, sizeof(shm->why), mon.why());
  shm->state = mon_ready;
  (void)!::write(ready_fd, "r", 1);
  auto r = mon.run(
      [&](const nsfun::NsEvent& e) {
        std::uint64_t now = mono_ns();
        record(shm, cap,
               Ev{e.ns.id(), e.ns.ino(), e.monotonic_ns, now, e.lost, e.kind, e.ns.type()});
        return true;
      },
      stop_fd);
  shm->stats = mon.stats();
  if (!r) {
    copy_text(shm->why, sizeof(shm->why), r.error().message());
    shm->state = mon_failed;
    ::_exit(1);
  }
  shm->state = mon_done;
  ::_exit(0);
}

MonitorProc start_monitor(Backend b, std::size_t cap, int interval_ms) {
  MonitorProc m;
  m.backend = b;
  m.cap = cap;
  m.shm = new (shared_alloc(sizeof(MonitorShm) + cap * sizeof(Ev))) MonitorShm;
  int stop[2];
  int ready[2];
  if (::pipe2(stop, O_CLOEXEC) < 0 || ::pipe2(ready, O_CLOEXEC) < 0) {
    die(fmt::format("pipe2: {}", std::strerror(errno)));
  }
  pid_t self = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    die(fmt::format("fork monitor {}: {}", name(b), std::strerror(errno)));
  }
  if (pid == 0) {
    child_start(self);
    ::close(stop[1]);
    ::close(ready[0]);
    monitor_child(b, m.shm, cap, stop[0], ready[1], interval_ms);
  }
  track(pid);
  ::close(stop[0]);
  ::close(ready[1]);
  m.pid = pid;
  m.stop_w = stop[1];
  m.ready_r = ready[0];
  return m;
}

// Waits until the monitor says it is ready or unavailable.
void wait_ready(MonitorProc& m) {
  pollfd p{m.ready_r, POLLIN, 0};
  int n = ::poll(&p, 1, 660'000);
  char c = 0;
  if (n <= 0 || ::read(m.ready_r, &c, 1) != 1) {
    die(fmt::format("monitor {} (pid {}) did not start within 660 s", name(m.backend), m.pid));
  }
}

void stop_monitor(MonitorProc& m) {
  (void)!::write(m.stop_w, "s", 1);
  int status = 0;
  // A monitor that does not stop within 10 s is killed (by pid: our unreaped child).
  std::uint64_t give_up = mono_ns() + 10'000'000'000U;
  pid_t got = 0;
  while ((got = ::waitpid(m.pid, &status, WNOHANG)) == 0 && mono_ns() < give_up) {
    sleep_ns(10'000'000U);
  }
  if (got == 0) {
    fmt::print(stderr, "monitor_bench: {} (pid {}) did not stop within 10 s: killing it\n",
               name(m.backend), m.pid);
    ::kill(m.pid, SIGKILL);
    while (::waitpid(m.pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  untrack(m.pid);
  ::close(m.stop_w);
  ::close(m.ready_r);
  if (m.shm->state == mon_ready) {  // died without saying why
    m.shm->state = mon_failed;
    copy_text(m.shm->why, sizeof(m.shm->why), fmt::format("exited with wait status {:#x}", status));
  }
}

// On-CPU time of all threads of `pid` so far (ns), from /proc/PID/task/*/schedstat.
std::uint64_t cpu_ns(pid_t pid) {
  std::uint64_t total = 0;
  std::string dir = fmt::format("/proc/{}/task", pid);
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    return 0;
  }
  while (dirent* de = ::readdir(d)) {
    if (de->d_name[0] == '.') {
      continue;
    }
    std::string path = fmt::format("{}/{}/schedstat", dir, de->d_name);
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      continue;
    }
    char buf[128];
    ssize_t n = ::read(fd, buf, sizeof(buf) - 1);
    ::close(fd);
    if (n > 0) {
      std::uint64_t v = 0;
      std::from_chars(buf, buf + n, v);
      total += v;
    }
  }
  ::closedir(d);
  return total;
}

// CPU time of process `pid` and its reaped children so far (ns), from /proc/PID/stat (in clock
// ticks): the bash tool's cost is mostly in the programs it forks.
std::uint64_t cpu_with_children_ns(pid_t pid) {
  std::FILE* f = std::fopen(fmt::format("/proc/{}/stat", pid).c_str(), "re");
  if (f == nullptr) {
    return 0;
  }
  char buf[1024] = {};
  bool ok = std::fgets(buf, sizeof(buf), f) != nullptr;
  std::fclose(f);
  std::string_view v(buf);
  auto paren = v.rfind(") ");
  if (!ok || paren == std::string_view::npos) {
    return 0;
  }
  auto fields = split(v.substr(paren + 2), ' ');  // fields[0] is field 3 (state)
  if (fields.size() < 15) {
    return 0;
  }
  std::uint64_t ticks = 0;
  for (std::size_t i = 11; i <= 14; ++i) {  // utime stime cutime cstime: fields 14-17
    std::uint64_t x = 0;
    std::from_chars(fields[i].data(), fields[i].data() + fields[i].size(), x);
    ticks += x;
  }
  return ticks * 1'000'000'000U / static_cast<std::uint64_t>(::sysconf(_SC_CLK_TCK));
}

// The CPU time a monitor has used so far.
std::uint64_t monitor_cpu_ns(const MonitorProc& m) {
  if (m.backend == Backend::bash_nsm && m.shm->helper > 0) {
    return cpu_with_children_ns(m.shm->helper);
  }
  return cpu_ns(m.pid);
}

// ---- BPF program run time ---------------------------------------------------------------------

long bpf_call(int cmd, bpf_attr& attr) noexcept {
  return ::syscall(SYS_bpf, cmd, &attr, sizeof(attr));
}

// Turns on run_time_ns accounting of every BPF program while the returned fd is open (-1 when
// the kernel refuses).
int enable_bpf_stats() noexcept {
  bpf_attr attr{};
  attr.enable_stats.type = BPF_STATS_RUN_TIME;
  return static_cast<int>(bpf_call(BPF_ENABLE_STATS, attr));
}

struct BpfCost {
  std::uint64_t run_ns = 0;
  std::uint64_t runs = 0;
  int programs = 0;
};

// The run time of the BPF programs process `pid` holds, through program or link fds (their
// fdinfo's prog_id).
BpfCost bpf_cost(pid_t pid) {
  std::unordered_set<std::uint32_t> ids;
  std::string dir = fmt::format("/proc/{}/fdinfo", pid);
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    return {};
  }
  while (dirent* de = ::readdir(d)) {
    if (de->d_name[0] == '.') {
      continue;
    }
    std::string path = fmt::format("{}/{}", dir, de->d_name);
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      continue;
    }
    char buf[4096];
    ssize_t n = ::read(fd, buf, sizeof(buf) - 1);
    ::close(fd);
    if (n <= 0) {
      continue;
    }
    std::string_view text(buf, static_cast<std::size_t>(n));
    for (auto pos = text.find("prog_id:"); pos != std::string_view::npos;
         pos = text.find("prog_id:", pos + 1)) {
      auto v = text.substr(pos + 8);
      while (!v.empty() && (v.front() == '\t' || v.front() == ' ')) {
        v.remove_prefix(1);
      }
      std::uint32_t id = 0;
      std::from_chars(v.data(), v.data() + v.size(), id);
      if (id != 0) {
        ids.insert(id);
      }
    }
  }
  ::closedir(d);
  BpfCost cost;
  for (std::uint32_t id : ids) {
    bpf_attr attr{};
    attr.prog_id = id;
    int fd = static_cast<int>(bpf_call(BPF_PROG_GET_FD_BY_ID, attr));
    if (fd < 0) {
      continue;
    }
    bpf_prog_info info{};
    bpf_attr q{};
    q.info.bpf_fd = static_cast<std::uint32_t>(fd);
    q.info.info_len = sizeof(info);
    q.info.info = reinterpret_cast<std::uint64_t>(&info);
    if (bpf_call(BPF_OBJ_GET_INFO_BY_FD, q) == 0) {
      cost.run_ns += info.run_time_ns;
      cost.runs += info.run_cnt;
      ++cost.programs;
    }
    ::close(fd);
  }
  return cost;
}

// ---- workload -----------------------------------------------------------------------------------

const char* link_for(NsType t) {
  switch (t) {
    case NsType::pid:
      return "/proc/self/ns/pid_for_children";
    case NsType::time:
      return "/proc/self/ns/time_for_children";
    default:
      break;
  }
  static std::array<std::string, nsfun::ns_type_count> paths = [] {
    std::array<std::string, nsfun::ns_type_count> a;
    for (NsType x : nsfun::all_ns_types) {
      a[static_cast<std::size_t>(x)] = fmt::format("/proc/self/ns/{}", nsfun::name(x));
    }
    return a;
  }();
  return paths[static_cast<std::size_t>(t)].c_str();
}

struct WorkerPlan {
  const Workload* w = nullptr;
  const std::vector<NsType>* types = nullptr;
  int index = 0;
  int workers = 1;
  int max_inflight = 1;
  std::uint64_t t0 = 0;
  std::uint64_t t_end = 0;
  std::size_t cap = 0;
  const char* self_exe = nullptr;
  const char* const* link_paths = nullptr;  // per type, resolved before forking
};

// A child of a worker: one namespace, reported on `report_fd`, then gone after its lifetime.
[[noreturn]] void make_namespace(const WorkerPlan& p,
                                 std::uint64_t seq,
                                 NsType type,
                                 int report_fd) noexcept {
  ChildReport r{seq, 0, 0, 0, 0};
  const bool cloned = p.w->mode == Mode::clone;  // born in the namespace
  if (!cloned && ::unshare(nsfun::clone_flag(type)) < 0) {
    r.err = errno;
    (void)!::write(report_fd, &r, sizeof(r));
    ::_exit(1);
  }
  r.t_new = mono_ns();
  if (type == NsType::pid && !cloned) {
    // pid_for_children opens only once the namespace has had an init (the kernel's
    // pidns_for_children_get): fork one that exits at once, as a pid namespace always gets one.
    pid_t init = ::fork();
    if (init == 0) {
      ::_exit(0);
    }
    if (init > 0) {
      ::waitpid(init, nullptr, 0);
    }
  }
  const char* link = p.link_paths[static_cast<std::size_t>(type)];
  if (cloned && type == NsType::pid) {
    link = "/proc/self/ns/pid";
  } else if (cloned && type == NsType::time) {
    link = "/proc/self/ns/time";
  }
  int fd = ::open(link, O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    struct stat st {};

    if (::fstat(fd, &st) == 0) {
      r.ino = st.st_ino;
    }
    (void)::ioctl(fd, ns_get_id, &r.id);
    ::close(fd);
  }
  (void)!::write(report_fd, &r, sizeof(r));
  if (p.w->mode != Mode::fork_only) {
    std::string life = std::to_string(p.w->lifetime_ns);
    const char* argv[] = {"monitor_bench", "--hold-ns", life.c_str(), nullptr};
    ::execv(p.self_exe, const_cast<char* const*>(argv));  // execv's signature; it does not write
    ::_exit(127);
  }
  if (p.w->lifetime_ns != 0) {
    sleep_ns(p.w->lifetime_ns);
  }
  ::_exit(0);
}

void worker_fail(WorkerShm* shm, std::string_view what) noexcept {
  shm->err = errno;
  copy_text(shm->what, sizeof(shm->what), what);
}

[[noreturn]] void worker_main(const WorkerPlan& p, WorkerShm* shm) {
  pid_t self = ::getpid();
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  ::sigprocmask(SIG_BLOCK, &chld, nullptr);
  int sfd = ::signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
  int rp[2];
  if (sfd < 0 || ::pipe2(rp, O_CLOEXEC) < 0) {
    worker_fail(shm, "signalfd/pipe2");
    ::_exit(1);
  }
  (void)::fcntl(rp[0], F_SETPIPE_SZ, 1 << 20);
  (void)::fcntl(rp[0], F_SETFL, O_NONBLOCK);
  std::unordered_map<pid_t, std::uint64_t> inflight;  // pid -> seq
  const auto ntypes = p.types->size();
  const std::uint64_t period =
      p.w->rate > 0 ? static_cast<std::uint64_t>(1e9 * p.workers / p.w->rate) : 0;
  std::uint64_t next =
      p.t0 + period * static_cast<std::uint64_t>(p.index) / static_cast<std::uint64_t>(p.workers);
  const std::size_t max_inflight =
      p.w->rate > 0 ? ~std::size_t{0}
                    : static_cast<std::size_t>(std::max(1, p.max_inflight / p.workers));
  std::uint64_t seq = 0;

  auto handle = [&]() {
    ChildReport r{};
    while (::read(rp[0], &r, sizeof(r)) == static_cast<ssize_t>(sizeof(r))) {
      if (r.seq < seq) {
        Made& m = shm->made[r.seq];
        if (r.err != 0) {
          m.state = made_failed;
          m.err = r.err;
        } else {
          m.id = r.id;
          m.ino = r.ino;
          m.t_new = r.t_new;
          m.state = made_ok;
        }
      }
    }
    signalfd_siginfo si{};
    while (::read(sfd, &si, sizeof(si)) > 0) {
    }
    for (;;) {
      pid_t pid = ::waitpid(-1, nullptr, WNOHANG);
      if (pid <= 0) {
        break;
      }
      std::uint64_t t = mono_ns();
      auto it = inflight.find(pid);
      if (it != inflight.end()) {
        shm->made[it->second].t_gone = t;
        inflight.erase(it);
      }
    }
  };
  auto wait_events = [&](std::uint64_t until) {
    std::uint64_t now = mono_ns();
    timespec ts{};
    if (until > now) {
      ts.tv_sec = static_cast<time_t>((until - now) / 1'000'000'000U);
      ts.tv_nsec = static_cast<long>((until - now) % 1'000'000'000U);
    }
    std::array<pollfd, 2> fds{{{sfd, POLLIN, 0}, {rp[0], POLLIN, 0}}};
    (void)::ppoll(fds.data(), fds.size(), &ts, nullptr);
    handle();
  };

  sleep_until(p.t0);
  for (;;) {
    std::uint64_t now = mono_ns();
    if (now >= p.t_end || seq >= p.cap) {
      break;
    }
    if (period != 0 && now < next) {
      wait_events(std::min(next, p.t_end));
      continue;
    }
    if (inflight.size() >= max_inflight) {
      wait_events(std::min(now + 10'000'000U, p.t_end));
      continue;
    }
    NsType type = (*p.types)[(seq * static_cast<std::uint64_t>(p.workers) +
                              static_cast<std::uint64_t>(p.index)) %
                             ntypes];
    Made& m = shm->made[seq];
    m.type = type;
    m.state = made_forked;
    pid_t pid = 0;
    if (p.w->mode == Mode::clone) {
      // clone3 without a stack: the child goes on like fork's, in the new namespace (clone3, as
      // CLONE_NEWTIME is in clone(2)'s exit-signal bits).
      clone_args args{};
      args.flags = static_cast<__u64>(static_cast<unsigned>(nsfun::clone_flag(type)));
      args.exit_signal = SIGCHLD;
      pid = static_cast<pid_t>(::syscall(SYS_clone3, &args, sizeof(args)));
      if (pid < 0 && errno != EAGAIN && errno != ENOMEM) {
        m.state = made_failed;
        m.err = errno;
        ++seq;
        shm->count = seq;
        next += period;
        continue;
      }
    } else {
      pid = ::fork();
    }
    if (pid < 0) {
      worker_fail(shm, "fork");
      break;
    }
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      // The parent of a new pid namespace's init is outside it: getppid() says 0.
      if (pid_t pp = ::getppid(); pp != self && pp != 0) {
        ::_exit(0);
      }
      ::sigprocmask(SIG_UNBLOCK, &chld, nullptr);
      make_namespace(p, seq, type, rp[1]);
    }
    inflight.emplace(pid, seq);
    ++seq;
    shm->count = seq;
    next += period;
    handle();
  }
  // Let the children live their lifetimes, then reap them; any still alive a while after that
  // is killed (by pid: each is our unreaped child).
  std::uint64_t deadline = mono_ns() + p.w->lifetime_ns + 10'000'000'000U;
  while (!inflight.empty() && mono_ns() < deadline) {
    wait_events(std::min(mono_ns() + 100'000'000U, deadline));
  }
  for (auto& [pid, s] : inflight) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    shm->made[s].t_gone = 0;
  }
  handle();
  ::_exit(0);
}

struct WorkloadResult {
  std::vector<Made> made;  // made_ok ones
  std::size_t failed = 0;
  std::size_t unreported = 0;
  std::string worker_errors;
  std::uint64_t t_start = 0;
  std::uint64_t t_end = 0;            // the end of the drain
  double rate = 0;                    // achieved, namespaces per second
  std::map<int, std::size_t> errors;  // errno -> count
};

WorkloadResult run_workload(const Options& o,
                            const Workload& w,
                            const std::string& self_exe,
                            const char* const* link_paths) {
  WorkloadResult res;
  const double nominal = w.rate > 0 ? w.rate : 20000;
  const auto cap = static_cast<std::size_t>(nominal * o.duration_s / o.workers * 1.5) + 1000;
  const std::size_t bytes = sizeof(WorkerShm) + cap * sizeof(Made);
  std::vector<WorkerShm*> shms;
  std::vector<pid_t> pids;
  const std::uint64_t t0 = mono_ns() + 200'000'000U;
  const auto t_end = t0 + static_cast<std::uint64_t>(o.duration_s * 1e9);
  pid_t self = ::getpid();
  for (int i = 0; i < o.workers; ++i) {
    auto* shm = new (shared_alloc(bytes)) WorkerShm;
    shms.push_back(shm);
    WorkerPlan p{&w, &o.types, i,   o.workers,        o.max_inflight,
                 t0, t_end,    cap, self_exe.c_str(), link_paths};
    pid_t pid = ::fork();
    if (pid < 0) {
      die(fmt::format("fork worker: {}", std::strerror(errno)));
    }
    if (pid == 0) {
      child_start(self);
      ::close_range(3, ~0U, 0);
      worker_main(p, shm);
    }
    track(pid);
    pids.push_back(pid);
  }
  res.t_start = t0;
  for (std::size_t i = 0; i < pids.size(); ++i) {
    int status = 0;
    while (::waitpid(pids[i], &status, 0) < 0 && errno == EINTR) {
    }
    untrack(pids[i]);
    if (status != 0 || shms[i]->err != 0) {
      res.worker_errors += fmt::format("worker {} ({:#x}): {}: {}; ", i, status, shms[i]->what,
                                       std::strerror(shms[i]->err));
    }
  }
  std::uint64_t first = ~std::uint64_t{0};
  std::uint64_t last = 0;
  for (WorkerShm* shm : shms) {
    for (std::uint64_t i = 0; i < shm->count; ++i) {
      const Made& m = shm->made[i];
      if (m.state == made_ok) {
        res.made.push_back(m);
        first = std::min(first, m.t_new);
        last = std::max(last, m.t_new);
      } else if (m.state == made_failed) {
        ++res.failed;
        ++res.errors[m.err];
      } else {
        ++res.unreported;
      }
    }
    ::munmap(shm, bytes);
  }
  if (res.made.size() > 1 && last > first) {
    res.rate = static_cast<double>(res.made.size() - 1) / (static_cast<double>(last - first) / 1e9);
  }
  sleep_ns(static_cast<std::uint64_t>(o.drain_s * 1e9));
  res.t_end = mono_ns();
  return res;
}

// ---- analysis -----------------------------------------------------------------------------------

double quantile(std::vector<double> v, double q) {
  if (v.empty()) {
    return NAN;
  }
  std::sort(v.begin(), v.end());
  double pos = q * static_cast<double>(v.size() - 1);
  auto lo = static_cast<std::size_t>(std::floor(pos));
  std::size_t hi = std::min(lo + 1, v.size() - 1);
  double frac = pos - static_cast<double>(lo);
  return v[lo] + (v[hi] - v[lo]) * frac;
}

std::uint64_t type_key(NsType t, std::uint64_t x) {
  return x * 8U + static_cast<std::uint64_t>(t);
}

// What one monitor delivered, indexed for matching.
struct Index {
  std::unordered_map<std::uint64_t, std::uint64_t> new_by_id;  // type_key(id) -> delivered
  std::unordered_map<std::uint64_t, std::uint64_t> gone_by_id;

  // Events without an id, paired NEW..GONE per type:[inode] in delivery order.
  struct Instance {
    std::uint64_t obs = 0;
    std::uint64_t new_delivered = 0;
    std::uint64_t gone_delivered = 0;  // 0: no GONE
    bool claimed = false;
  };

  std::vector<Instance> instances;
  std::unordered_map<std::uint64_t, std::vector<std::size_t>> by_ino;  // type_key(ino) -> instances
  std::vector<std::pair<std::uint64_t, std::uint64_t>> lost;           // (delivered, count)
};

Index build_index(const MonitorShm* shm) {
  Index ix;
  std::uint64_t n = shm->count.load(std::memory_order_acquire);
  std::unordered_map<std::uint64_t, std::size_t> open;  // type_key(ino) -> instance
  for (std::uint64_t i = 0; i < n; ++i) {
    const Ev& e = shm->ev[i];
    switch (e.kind) {
      case nsfun::NsEventKind::lost:
        ix.lost.emplace_back(e.delivered, e.lost);
        break;
      case nsfun::NsEventKind::appeared:
        if (e.id != 0) {
          ix.new_by_id.try_emplace(type_key(e.type, e.id), e.delivered);
        } else {
          auto k = type_key(e.type, e.ino);
          ix.instances.push_back({e.obs, e.delivered, 0, false});
          open[k] = ix.instances.size() - 1;
          ix.by_ino[k].push_back(ix.instances.size() - 1);
        }
        break;
      case nsfun::NsEventKind::gone:
        if (e.id != 0) {
          ix.gone_by_id.try_emplace(type_key(e.type, e.id), e.delivered);
        } else if (auto it = open.find(type_key(e.type, e.ino)); it != open.end()) {
          ix.instances[it->second].gone_delivered = e.delivered;
          open.erase(it);
        }
        break;
      default:
        break;
    }
  }
  return ix;
}

struct Row {
  std::size_t made = 0;
  std::size_t seen_new = 0;
  std::size_t seen_gone = 0;
  std::size_t gone_expected = 0;  // made with a GONE stamp
  std::size_t by_inode = 0;       // matched by type and inode (no id)
  std::vector<double> lat_new_ms;
  std::vector<double> lat_gone_ms;
  std::uint64_t lost = 0;
  std::array<std::size_t, nsfun::ns_type_count> miss_new{};
  std::array<std::size_t, nsfun::ns_type_count> miss_gone{};
};

Row analyse(Index& ix, const WorkloadResult& wr, Backend b) {
  Row row;
  // An id-less event matches a namespace when it was seen while that was alive: the reference
  // stamps the read of the link; the bash tool's line comes a few forks after its read; a
  // backend's rescan stamps its start.
  const std::uint64_t before =
      b == Backend::reference || b == Backend::bash_nsm ? 1'000'000U : 200'000'000U;
  const std::uint64_t after = b == Backend::bash_nsm ? 100'000'000U : 2'000'000U;
  for (const Made& m : wr.made) {
    ++row.made;
    auto t = static_cast<std::size_t>(m.type);
    std::optional<std::uint64_t> new_at;
    std::optional<std::uint64_t> gone_at;
    if (m.id != 0) {
      if (auto it = ix.new_by_id.find(type_key(m.type, m.id)); it != ix.new_by_id.end()) {
        new_at = it->second;
      }
      if (auto it = ix.gone_by_id.find(type_key(m.type, m.id)); it != ix.gone_by_id.end()) {
        gone_at = it->second;
      }
    }
    if (!new_at) {
      if (auto it = ix.by_ino.find(type_key(m.type, m.ino)); it != ix.by_ino.end()) {
        std::uint64_t hi = m.t_gone != 0 ? m.t_gone + after : ~std::uint64_t{0};
        for (std::size_t i : it->second) {
          Index::Instance& in = ix.instances[i];
          if (!in.claimed && in.obs + before >= m.t_new && in.obs <= hi) {
            in.claimed = true;
            new_at = in.new_delivered;
            if (in.gone_delivered != 0) {
              gone_at = in.gone_delivered;
            }
            ++row.by_inode;
            break;
          }
        }
      }
    }
    if (new_at) {
      ++row.seen_new;
      row.lat_new_ms.push_back((static_cast<double>(*new_at) - static_cast<double>(m.t_new)) / 1e6);
    } else {
      ++row.miss_new[t];
    }
    if (m.t_gone != 0) {
      ++row.gone_expected;
      if (gone_at) {
        ++row.seen_gone;
        row.lat_gone_ms.push_back((static_cast<double>(*gone_at) - static_cast<double>(m.t_gone)) /
                                  1e6);
      } else {
        ++row.miss_gone[t];
      }
    }
  }
  for (auto [at, count] : ix.lost) {
    if (at >= wr.t_start && at < wr.t_end) {
      row.lost += count;
    }
  }
  return row;
}

std::string percent(std::size_t part, std::size_t whole) {
  if (whole == 0) {
    return "–";
  }
  double p = 100.0 * static_cast<double>(part) / static_cast<double>(whole);
  if (part == whole) {
    return "100%";
  }
  return fmt::format("{:.{}f}%", p, p >= 99.0 ? 2 : 1);
}

std::string ms_text(double v) {
  if (std::isnan(v)) {
    return "–";
  }
  if (std::fabs(v) >= 100) {
    return fmt::format("{:.0f}", v);
  }
  if (std::fabs(v) >= 10) {
    return fmt::format("{:.1f}", v);
  }
  return fmt::format("{:.2f}", v);
}

std::string latency_text(const std::vector<double>& v) {
  if (v.empty()) {
    return "–";
  }
  return fmt::format("{} / {}", ms_text(quantile(v, 0.5)), ms_text(quantile(v, 0.99)));
}

std::string misses_text(const Row& r) {
  std::string s;
  for (NsType t : nsfun::all_ns_types) {
    auto i = static_cast<std::size_t>(t);
    if (r.miss_new[i] != 0 || r.miss_gone[i] != 0) {
      s += fmt::format("{}{} {}/{}", s.empty() ? "" : ", ", nsfun::name(t), r.miss_new[i],
                       r.miss_gone[i]);
    }
  }
  return s.empty() ? "–" : s;
}

std::string shell_quote(std::string_view s) {
  if (!s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                        "0123456789-_./:,=+@%") == std::string_view::npos) {
    return std::string(s);
  }
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

// --dump: made.tsv (workload, type, id, inode, t_new, t_gone) and BACKEND.tsv (kind, type, id,
// inode, obs, delivered, lost), times in CLOCK_MONOTONIC ns.
void dump(const std::string& dir,
          const std::vector<WorkloadResult>& results,
          const std::vector<MonitorProc>& mons,
          const std::string& made_file) {
  auto open_out = [&](const std::string& file) {
    std::string path = dir + "/" + file;
    std::FILE* f = std::fopen(path.c_str(), "we");
    if (f == nullptr) {
      fmt::print(stderr, "monitor_bench: --dump: {}: {}\n", path, std::strerror(errno));
    }
    return f;
  };
  if (std::FILE* f = open_out(made_file)) {
    fmt::print(f, "workload\ttype\tid\tino\tt_new\tt_gone\n");
    for (std::size_t j = 0; j < results.size(); ++j) {
      for (const Made& m : results[j].made) {
        fmt::print(f, "{}\t{}\t{}\t{}\t{}\t{}\n", j, nsfun::name(m.type), m.id, m.ino, m.t_new,
                   m.t_gone);
      }
    }
    std::fclose(f);
  }
  for (const MonitorProc& m : mons) {
    std::FILE* f = open_out(fmt::format("{}.tsv", name(m.backend)));
    if (f == nullptr) {
      continue;
    }
    fmt::print(f, "kind\ttype\tid\tino\tobs\tdelivered\tlost\n");
    std::uint64_t n = m.shm->count.load(std::memory_order_acquire);
    for (std::uint64_t i = 0; i < n; ++i) {
      const Ev& e = m.shm->ev[i];
      fmt::print(f, "{}\t{}\t{}\t{}\t{}\t{}\t{}\n", nsfun::name(e.kind),
                 e.kind == nsfun::NsEventKind::lost ? "-" : nsfun::name(e.type), e.id, e.ino, e.obs,
                 e.delivered, e.lost);
    }
    std::fclose(f);
  }
}

// The first three fields of /proc/loadavg.
std::string loadavg() {
  std::FILE* f = std::fopen("/proc/loadavg", "re");
  if (f == nullptr) {
    return "?";
  }
  char buf[128] = {};
  bool ok = std::fgets(buf, sizeof(buf), f) != nullptr;
  std::fclose(f);
  if (!ok) {
    return "?";
  }
  auto parts = split(buf, ' ');
  return parts.size() >= 3 ? fmt::format("{} {} {}", parts[0], parts[1], parts[2]) : "?";
}

[[noreturn]] void hold(const char* lifetime) {
  std::uint64_t ns = 0;
  std::string_view s(lifetime);
  std::from_chars(s.data(), s.data() + s.size(), ns);
  if (ns != 0) {
    sleep_ns(ns);
  }
  ::_exit(0);
}

// The idle cost of one monitor.
struct Idle {
  double cpu_percent = NAN;
  double bpf_percent = NAN;
  BpfCost bpf_after;
  std::uint64_t events = 0;  // delivered during the idle time (someone else's namespaces)
};

// Monitors run together on the same workloads.
struct Group {
  std::vector<MonitorProc> mons;
  std::vector<Idle> idle;
  std::vector<WorkloadResult> results;
  std::vector<Index> indexes;
};

Group run_group(const Options& o,
                const std::vector<Backend>& backends,
                std::size_t cap,
                bool bpf_stats,
                const std::string& self_exe,
                const char* const* link_paths) {
  Group g;
  for (Backend b : backends) {
    g.mons.push_back(start_monitor(b, cap, o.interval_ms));
  }
  for (MonitorProc& m : g.mons) {
    wait_ready(m);
    fmt::print(stderr, "monitor_bench: {}: {}{}\n", name(m.backend),
               m.shm->state == mon_ready ? "ready: " : "unavailable: ", m.shm->why);
  }

  g.idle.resize(g.mons.size());
  if (o.idle_s > 0) {
    fmt::print(stderr, "monitor_bench: idle for {:g} s ({} sleepers, no namespace activity)\n",
               o.idle_s, o.sleepers);
    sleep_ns(1'000'000'000U);  // let the start settle
    std::vector<std::uint64_t> cpu0(g.mons.size());
    std::vector<BpfCost> bpf0(g.mons.size());
    std::vector<std::uint64_t> ev0(g.mons.size());
    std::uint64_t w0 = mono_ns();
    for (std::size_t i = 0; i < g.mons.size(); ++i) {
      cpu0[i] = monitor_cpu_ns(g.mons[i]);
      bpf0[i] = bpf_cost(g.mons[i].pid);
      ev0[i] = g.mons[i].shm->count.load();
    }
    sleep_ns(static_cast<std::uint64_t>(o.idle_s * 1e9));
    double wall = static_cast<double>(mono_ns() - w0);
    for (std::size_t i = 0; i < g.mons.size(); ++i) {
      if (g.mons[i].shm->state != mon_ready) {
        continue;
      }
      Idle& idle = g.idle[i];
      idle.events = g.mons[i].shm->count.load() - ev0[i];
      idle.cpu_percent = 100.0 * static_cast<double>(monitor_cpu_ns(g.mons[i]) - cpu0[i]) / wall;
      BpfCost b1 = bpf_cost(g.mons[i].pid);
      if (bpf_stats && b1.programs > 0) {
        idle.bpf_percent = 100.0 * static_cast<double>(b1.run_ns - bpf0[i].run_ns) / wall;
      }
      idle.bpf_after = b1;
    }
  }

  for (const Workload& w : o.workloads) {
    fmt::print(stderr, "monitor_bench: workload {} for {:g} s (+{:g} s drain)\n", w.label,
               o.duration_s, o.drain_s);
    g.results.push_back(run_workload(o, w, self_exe, link_paths));
    const WorkloadResult& r = g.results.back();
    fmt::print(stderr, "monitor_bench:   made {} namespaces at {:.0f}/s{}{}{}\n", r.made.size(),
               r.rate, r.failed != 0 ? fmt::format(", {} failed", r.failed) : std::string(),
               r.unreported != 0 ? fmt::format(", {} unreported", r.unreported) : std::string(),
               r.worker_errors.empty() ? std::string() : "; " + r.worker_errors);
    for (auto [err, count] : r.errors) {
      fmt::print(stderr, "monitor_bench:   {} unshare failed: {}\n", count, std::strerror(err));
    }
  }

  for (MonitorProc& m : g.mons) {
    stop_monitor(m);
    g.indexes.push_back(build_index(m.shm));
  }
  return g;
}

// The idle cost of a monitor: its threads, and for bpf its programs, which run in the context
// of the tasks that hit their tracepoints.
double idle_total(const MonitorProc& m, const Idle& idle) {
  double total = idle.cpu_percent;
  if (m.backend == Backend::bpf && !std::isnan(idle.bpf_percent)) {
    total += idle.bpf_percent;
  }
  return total;
}

// One backend's row for one workload.
struct Seen {
  const Workload* w;
  Row row;
};

// The targets, each met or not, with the worst case.
void print_targets(const std::vector<std::pair<Group*, std::size_t>>& members,
                   const std::vector<std::vector<Seen>>& seen) {
  fmt::print("\nTargets of issue 16:\n");
  auto find = [&](Backend b) -> std::optional<std::size_t> {
    for (std::size_t k = 0; k < members.size(); ++k) {
      if (members[k].first->mons[members[k].second].backend == b) {
        return k;
      }
    }
    return std::nullopt;
  };
  auto state = [&](std::size_t k) -> std::optional<std::string> {
    const MonitorProc& m = members[k].first->mons[members[k].second];
    if (m.shm->state == mon_unavailable) {
      return fmt::format("not measured (unavailable: {})", m.shm->why);
    }
    if (seen[k].empty()) {
      return std::string("not measured (no workload)");
    }
    return std::nullopt;
  };
  auto verdict = [](bool met) {
    return met ? "met" : "NOT met";
  };
  auto fraction = [](std::size_t part, std::size_t whole) {
    return whole == 0 ? 1.0 : static_cast<double>(part) / static_cast<double>(whole);
  };
  // The lowest share seen NEW or GONE over the rows that `pick` takes.
  auto worst_seen = [&](std::size_t k, auto pick) {
    double worst = 2;  // above any share: the first row taken sets it
    std::string where;
    for (const Seen& x : seen[k]) {
      double f = std::min(fraction(x.row.seen_new, x.row.made),
                          fraction(x.row.seen_gone, x.row.gone_expected));
      if (pick(*x.w) && f < worst) {
        worst = f;
        where = x.w->label;
      }
    }
    return std::pair{std::min(worst, 1.0), where};
  };
  if (auto k = find(Backend::bpf)) {
    if (auto st = state(*k)) {
      fmt::print("- bpf: {}\n", *st);
    } else {
      auto [worst, where] = worst_seen(*k, [](const Workload&) { return true; });
      fmt::print(
          "- bpf, 100% of every type NEW and GONE at any lifetime and rate: {} (lowest {:.2f}% "
          "in {})\n",
          verdict(worst == 1), 100 * worst, where);
      // The highest median NEW latency, over all workloads and over those at up to 1,000/s.
      double lat = 0;
      std::string lat_where;
      double lat_1k = 0;
      std::string lat_1k_where;
      std::uint64_t lost = 0;
      for (const Seen& x : seen[*k]) {
        double med = quantile(x.row.lat_new_ms, 0.5);
        bool paced = x.w->rate > 0 && x.w->rate <= 1000;
        if (!std::isnan(med) && (lat_where.empty() || med > lat)) {
          lat = med;
          lat_where = x.w->label;
        }
        if (paced && !std::isnan(med) && (lat_1k_where.empty() || med > lat_1k)) {
          lat_1k = med;
          lat_1k_where = x.w->label;
        }
        if (paced) {
          lost += x.row.lost;
        }
      }
      fmt::print("- bpf, median NEW latency under 5 ms: {} (highest median {} ms in {})\n",
                 verdict(lat < 5), ms_text(lat), lat_where);
      if (!lat_1k_where.empty()) {
        fmt::print(
            "- bpf, median NEW latency under 5 ms at up to 1,000/s: {} (highest median {} "
            "ms in {})\n",
            verdict(lat_1k < 5), ms_text(lat_1k), lat_1k_where);
      }
      fmt::print("- bpf, no events lost at up to 1,000/s: {} ({} lost)\n", verdict(lost == 0),
                 lost);
    }
  }
  if (auto k = find(Backend::connector)) {
    if (auto st = state(*k)) {
      fmt::print("- connector: {}\n", *st);
    } else {
      auto pick = [](const Workload& w) {
        return w.mode != Mode::fork_only && w.lifetime_ns >= 50'000'000U;
      };
      auto [worst, where] = worst_seen(*k, pick);
      fmt::print(
          "- connector, 100% of namespaces made by a new process (clone or unshare + exec) "
          "that live 50 ms or more: {} (lowest {:.2f}% in {})\n",
          verdict(worst == 1), 100 * worst, where.empty() ? "no such workload" : where);
    }
  }
  for (std::size_t k = 0; k < members.size(); ++k) {
    const MonitorProc& m = members[k].first->mons[members[k].second];
    if (m.backend == Backend::reference || m.backend == Backend::bash_nsm ||
        m.shm->state == mon_unavailable) {
      continue;
    }
    double total = idle_total(m, members[k].first->idle[members[k].second]);
    if (std::isnan(total)) {
      continue;
    }
    fmt::print("- {}, idle under 0.5% of one core: {} ({:.3f}%)\n", name(m.backend),
               verdict(total < 0.5), total);
  }
}

}  // namespace

// Exceptions (the NOLINT): only allocation failures and fmt's errors (a failed write) can
// escape; they end the program with terminate's message, and the children die with it
// (PR_SET_PDEATHSIG).
// NOLINTNEXTLINE(bugprone-exception-escape)
int main(int argc, char** argv) {
  if (argc == 3 && std::string_view(argv[1]) == "--hold-ns") {
    hold(argv[2]);  // a workload's child after exec
  }
  Options o = parse_args(argc, argv);
  if (::geteuid() != 0) {
    fmt::print(stderr, "monitor_bench: needs root (it makes namespaces of every type)\n");
    return 77;
  }
  std::string command = "monitor_bench";
  for (int i = 1; i < argc; ++i) {
    command += ' ';
    command += shell_quote(argv[i]);
  }
  char exe[4096];
  ssize_t exe_len = ::readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (exe_len <= 0) {
    fmt::print(stderr, "monitor_bench: readlink /proc/self/exe: {}\n", std::strerror(errno));
    return 1;
  }
  std::string self_exe(exe, static_cast<std::size_t>(exe_len));
  std::array<const char*, nsfun::ns_type_count> link_paths{};
  for (NsType t : nsfun::all_ns_types) {
    link_paths[static_cast<std::size_t>(t)] = link_for(t);
  }

  struct sigaction sa {};

  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    ::sigaction(sig, &sa, nullptr);
  }
  std::signal(SIGPIPE, SIG_IGN);

  utsname u{};
  ::uname(&u);
  std::string load_before = loadavg();
  fmt::print(stderr, "monitor_bench: {} {}, {} CPUs\n", u.sysname, u.release,
             ::sysconf(_SC_NPROCESSORS_ONLN));

  // The sleepers first: they must not inherit the monitors' pipes.
  std::uint64_t t = mono_ns();
  start_sleepers(o.sleepers);
  fmt::print(stderr, "monitor_bench: {} sleepers started in {:.2f} s (process group {})\n",
             o.sleepers, static_cast<double>(mono_ns() - t) / 1e9,
             static_cast<pid_t>(g_sleeper_pgid));

  int stats_fd = -1;
  if (o.bpf_stats) {
    stats_fd = enable_bpf_stats();
  }

  // Capacity per monitor: two events per namespace of every workload, plenty to spare.
  double expected = 0;
  for (const Workload& w : o.workloads) {
    expected += (w.rate > 0 ? w.rate : 20000) * o.duration_s;
  }
  auto cap = static_cast<std::size_t>(expected * 3) + 200000;

  std::vector<Group> groups;
  if (o.separate) {
    for (Backend b : o.backends) {
      groups.push_back(run_group(o, {b}, cap, stats_fd >= 0, self_exe, link_paths.data()));
    }
  } else {
    groups.push_back(run_group(o, o.backends, cap, stats_fd >= 0, self_exe, link_paths.data()));
  }
  if (stats_fd >= 0) {
    ::close(stats_fd);
  }
  std::uint64_t ts = mono_ns();
  std::size_t reaped = stop_sleepers();
  fmt::print(stderr, "monitor_bench: killed and reaped {} sleepers in {:.2f} s\n", reaped,
             static_cast<double>(mono_ns() - ts) / 1e9);

  std::string load_after = loadavg();
  if (!o.dump_dir.empty()) {
    for (const Group& g : groups) {
      dump(o.dump_dir, g.results, g.mons,
           o.separate ? fmt::format("made.{}.tsv", name(g.mons[0].backend)) : "made.tsv");
    }
  }

  // The tables: one row per backend (in --backends order) and workload.
  std::vector<std::pair<Group*, std::size_t>> members;
  for (Group& g : groups) {
    for (std::size_t i = 0; i < g.mons.size(); ++i) {
      members.emplace_back(&g, i);
    }
  }
  fmt::print("Command: `{}`  \n", command);
  fmt::print(
      "Kernel {} {}, {} CPUs, load average {} before and {} after; {} sleeping processes during "
      "the whole run; {} workers; types {}; {:g} s per workload, {:g} s drain; {}.\n\n",
      u.sysname, u.release, ::sysconf(_SC_NPROCESSORS_ONLN), load_before, load_after, o.sleepers,
      o.workers,
      [&] {
        std::string s;
        for (NsType x : o.types) {
          s += (s.empty() ? "" : ",") + std::string(nsfun::name(x));
        }
        return s;
      }(),
      o.duration_s, o.drain_s,
      o.separate ? "each backend alone, the workloads repeated for each (--separate)"
                 : "all backends at the same time, each in a process of its own, on the same "
                   "workloads");
  fmt::print(
      "| backend | workload | made (rate) | NEW seen | GONE seen | NEW latency ms "
      "median / p99 | GONE latency ms median / p99 | lost | missed NEW/GONE by type |\n");
  fmt::print("|---|---|---|---|---|---|---|---|---|\n");
  std::string unmet;
  std::vector<std::vector<Seen>> seen(members.size());
  for (std::size_t k = 0; k < members.size(); ++k) {
    auto [g, i] = members[k];
    const MonitorProc& m = g->mons[i];
    const std::vector<WorkloadResult>& results = g->results;
    bool required = std::find(o.required.begin(), o.required.end(), m.backend) != o.required.end();
    if (required && m.shm->state == mon_failed) {
      unmet += fmt::format("{}: failed: {}; ", name(m.backend), m.shm->why);
    }
    if (m.shm->state == mon_unavailable) {
      fmt::print("| {} | all | unavailable: {} | | | | | | |\n", name(m.backend), m.shm->why);
      continue;
    }
    for (std::size_t j = 0; j < results.size(); ++j) {
      Row r = analyse(g->indexes[i], results[j], m.backend);
      seen[k].push_back({&o.workloads[j], r});
      if (required && (r.seen_new != r.made || r.seen_gone != r.gone_expected || r.made == 0)) {
        unmet += fmt::format("{} saw {} NEW and {} GONE of {} in workload {}; ", name(m.backend),
                             r.seen_new, r.seen_gone, r.made, o.workloads[j].label);
      }
      std::string made = fmt::format("{} ({:.0f}/s)", r.made, results[j].rate);
      std::string seen_new = percent(r.seen_new, r.made);
      if (r.by_inode != 0) {
        seen_new += fmt::format(" ({} by inode)", r.by_inode);
      }
      fmt::print("| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n", name(m.backend),
                 o.workloads[j].label, made, seen_new, percent(r.seen_gone, r.gone_expected),
                 latency_text(r.lat_new_ms), latency_text(r.lat_gone_ms),
                 m.backend >= Backend::reference ? std::string("–") : std::to_string(r.lost),
                 misses_text(r));
    }
    if (m.shm->state == mon_failed) {
      fmt::print("| {} | | failed: {} | | | | | | |\n", name(m.backend), m.shm->why);
    }
  }
  fmt::print(
      "\n| backend | idle CPU, % of one core | of which BPF programs | events while idle | "
      "events in all | lost | rescans | dropped |\n");
  fmt::print("|---|---|---|---|---|---|---|---|\n");
  for (auto [g, i] : members) {
    const MonitorProc& m = g->mons[i];
    const Idle& idle = g->idle[i];
    if (m.shm->state == mon_unavailable) {
      fmt::print("| {} | unavailable | | | | | | |\n", name(m.backend));
      continue;
    }
    double total = idle_total(m, idle);
    std::string bpf = "–";
    if (!std::isnan(idle.bpf_percent)) {
      bpf = fmt::format("{:.3f}% ({} programs)", idle.bpf_percent, idle.bpf_after.programs);
    }
    fmt::print(
        "| {} | {} | {} | {} | {} | {} | {} | {} |\n", name(m.backend),
        std::isnan(total) ? std::string("–") : fmt::format("{:.3f}%", total), bpf,
        std::isnan(total) ? std::string("–") : std::to_string(idle.events), m.shm->stats.events,
        m.backend >= Backend::reference ? std::string("–") : std::to_string(m.shm->stats.lost),
        m.shm->stats.rescans, m.shm->dropped);
  }
  print_targets(members, seen);
  fmt::print(
      "\nNEW latency: when the monitor delivered the event minus when unshare returned; GONE "
      "latency: minus when the workload had reaped the namespace's only process (a kernel that "
      "frees a namespace later, as net and user namespaces are freed from a work queue, adds "
      "that delay). reference: the bash tool's method (sleep 1 s, read every /proc/*/ns/* link, "
      "NEW/GONE by type:[inode]), measured in-process with readlinkat (no fork per link), so "
      "its figures are the method's, and better than the script's own; as it knows inodes only, "
      "a namespace that gets the inode of one gone since the last scan is never seen, nor the "
      "old one's GONE (\"by inode\": matched by type and inode while alive, not by id).{} Idle "
      "CPU: on-CPU time of the monitor's threads{}.\n",
      g_bash_nsm.empty() ? ""
                         : " bash-nsm: the bash tool's own `nsm monitor`, its lines stamped when "
                           "read; its idle CPU includes the programs it forks (clock ticks).",
      stats_fd >= 0 ? "; for bpf plus the run time of its BPF programs (BPF_ENABLE_STATS)" : "");
  if (std::fflush(stdout) != 0) {
    return 1;
  }
  if (!unmet.empty()) {
    unmet.resize(unmet.size() - 2);
    fmt::print(stderr, "monitor_bench: --require not met: {}\n", unmet);
    return 3;
  }
  return 0;
}
