// SPDX-License-Identifier: MIT
// paired – times commands against each other, round by round, so that drift in the machine's
// load hits all of them alike.
//
//   paired [--runs R] [--warmup W] [--json] [--rusage] -- CMD_A ARGS… ::: CMD_B ARGS… [::: …]
//
// Each round runs every command once (fork + execvp, stdout and stderr to /dev/null, stdin from
// /dev/null), starting with command (round mod k) so that no command always runs first, and
// takes its wall time with CLOCK_MONOTONIC. A command that fails aborts the whole run.
// The table gives each command's median, minimum and 90th percentile, its median against the
// first command's, and the median of the per-round ratios (paired: both from the same round).
// --rusage adds each command's peak resident set size (ru_maxrss, the largest over its runs).
// --json prints the same as one JSON object instead; "speedup" is first / this (> 1: faster).
// --sandbox runs every command in a fresh private sandbox of its own: a new network namespace and
// a new mount namespace (all mounts private) with a tmpfs on /run, made by the forked child before
// execvp. Commands that create links and named network namespaces then touch nothing of the
// host's. The clock starts once the sandbox is made and stops when the command has been reaped,
// before the sandbox is torn down, so only the command itself is timed (a wrapper program such as
// unshare(1) would add its own exec, and the kernel's teardown, to every command). Needs root.

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

namespace {

struct Command {
  std::vector<std::string> argv;
  std::string display;  // the program's base name and its arguments
};

struct Sample {
  double wall_ms = 0;
  double user_ms = 0;
  double sys_ms = 0;
  long maxrss_kib = 0;
};

struct Options {
  int runs = 10;
  int warmup = 1;
  bool json = false;
  bool rusage = false;
  bool sandbox = false;
  std::vector<Command> commands;
};

[[noreturn]] void usage(int status) {
  fmt::print(status == 0 ? stdout : stderr,
             "usage: paired [--runs R] [--warmup W] [--json] [--rusage] [--sandbox] -- CMD "
             "ARGS... [::: CMD ARGS...]...\n"
             "  Runs each command once per round (R rounds, default 10, after W warm-up rounds,\n"
             "  default 1) in rotating order and compares wall times against the first command.\n"
             "  --rusage also reports each command's peak RSS; --json prints JSON.\n"
             "  --sandbox runs each command in new network and mount namespaces with its own\n"
             "  /run (tmpfs), so that it cannot touch the host's links or /run/netns.\n");
  std::exit(status);
}

[[noreturn]] void die(const std::string& msg) {
  fmt::print(stderr, "paired: {}\n", msg);
  std::exit(1);
}

int parse_count(std::string_view opt, const char* s, int min) {
  char* end = nullptr;
  errno = 0;
  long v = std::strtol(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < min || v > 1000000) {
    fmt::print(stderr, "paired: {} needs a number >= {}, not '{}'\n", opt, min, s);
    std::exit(2);
  }
  return static_cast<int>(v);
}

Options parse_args(int argc, char** argv) {
  Options o;
  int i = 1;
  for (; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--") {
      ++i;
      break;
    }
    if (arg == "-h" || arg == "--help") {
      usage(0);
    } else if (arg == "--runs" && i + 1 < argc) {
      o.runs = parse_count(arg, argv[++i], 1);
    } else if (arg == "--warmup" && i + 1 < argc) {
      o.warmup = parse_count(arg, argv[++i], 0);
    } else if (arg == "--json") {
      o.json = true;
    } else if (arg == "--rusage") {
      o.rusage = true;
    } else if (arg == "--sandbox") {
      o.sandbox = true;
    } else {
      usage(2);
    }
  }
  Command cur;
  for (; i <= argc; ++i) {
    if (i == argc || std::string_view(argv[i]) == ":::") {
      if (cur.argv.empty()) {
        fmt::print(stderr, "paired: empty command (before or after ':::')\n");
        std::exit(2);
      }
      o.commands.push_back(std::move(cur));
      cur = Command{};
      continue;
    }
    cur.argv.emplace_back(argv[i]);
  }
  if (o.commands.empty()) {
    usage(2);
  }
  for (Command& c : o.commands) {
    std::string_view prog = c.argv[0];
    if (auto slash = prog.rfind('/'); slash != std::string_view::npos && slash + 1 < prog.size()) {
      prog.remove_prefix(slash + 1);
    }
    c.display = prog;
    for (std::size_t a = 1; a < c.argv.size(); ++a) {
      c.display += ' ';
      c.display += c.argv[a];
    }
  }
  return o;
}

double ms_between(const timespec& a, const timespec& b) {
  return static_cast<double>(b.tv_sec - a.tv_sec) * 1e3 +
         static_cast<double>(b.tv_nsec - a.tv_nsec) / 1e6;
}

double ms_of(const timeval& tv) {
  return static_cast<double>(tv.tv_sec) * 1e3 + static_cast<double>(tv.tv_usec) / 1e3;
}

std::string describe_status(int status) {
  if (WIFEXITED(status)) {
    return fmt::format("exited with status {}", WEXITSTATUS(status));
  }
  if (WIFSIGNALED(status)) {
    return fmt::format("was killed by signal {} ({})", WTERMSIG(status),
                       ::strsignal(WTERMSIG(status)));
  }
  return fmt::format("ended with wait status {:#x}", status);
}

class Runner {
 public:
  explicit Runner(bool sandbox) : sandbox_(sandbox) {
    devnull_ = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull_ < 0) {
      die(fmt::format("open /dev/null: {}", std::strerror(errno)));
    }
  }

  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  ~Runner() { ::close(devnull_); }

  // In the forked child: new network and mount namespaces, every mount private, /run a tmpfs.
  static bool enter_sandbox() {
    return ::unshare(CLONE_NEWNS | CLONE_NEWNET) == 0 &&
           ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0 &&
           ::mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") == 0;
  }

  // Runs `c` once and waits for it; dies when it cannot be run or fails.
  Sample run(const Command& c, std::size_t index, int round) const {
    std::vector<char*> argv;
    argv.reserve(c.argv.size() + 1);
    for (const std::string& a : c.argv) {
      argv.push_back(const_cast<char*>(a.c_str()));  // execvp's signature; it does not write
    }
    argv.push_back(nullptr);
    // The child reports a failed exec through this pipe; a successful exec closes it.
    int p[2];
    if (::pipe2(p, O_CLOEXEC) < 0) {
      die(fmt::format("pipe2: {}", std::strerror(errno)));
    }
    // With the sandbox, the child makes it, says so on `ready` and waits for a byte on `go`: the
    // clock starts only then, and the parent holds the sandbox's namespaces until the clock has
    // stopped, so that neither making nor tearing it down is timed.
    int ready[2] = {-1, -1};
    int go[2] = {-1, -1};
    if (sandbox_ && (::pipe2(ready, O_CLOEXEC) < 0 || ::pipe2(go, O_CLOEXEC) < 0)) {
      die(fmt::format("pipe2: {}", std::strerror(errno)));
    }
    timespec start{};
    timespec end{};
    ::clock_gettime(CLOCK_MONOTONIC, &start);
    pid_t pid = ::fork();
    if (pid < 0) {
      die(fmt::format("fork: {}", std::strerror(errno)));
    }
    if (pid == 0) {
      ::close(p[0]);
      bool ok = true;
      if (sandbox_) {
        ::close(ready[0]);
        ::close(go[1]);
        char byte = 0;
        ok = enter_sandbox() && ::write(ready[1], "r", 1) == 1 && ::read(go[0], &byte, 1) == 1;
      }
      if (ok && ::dup2(devnull_, 0) >= 0 && ::dup2(devnull_, 1) >= 0 && ::dup2(devnull_, 2) >= 0) {
        ::execvp(argv[0], argv.data());
      }
      int err = errno;
      (void)!::write(p[1], &err, sizeof(err));
      ::_exit(127);
    }
    std::vector<int> held;  // the sandbox's namespaces, alive until the clock has stopped
    if (sandbox_) {
      ::close(ready[1]);
      ::close(go[0]);
      char byte = 0;
      if (::read(ready[0], &byte, 1) == 1) {
        for (const char* ns : {"mnt", "net"}) {
          int fd = ::open(fmt::format("/proc/{}/ns/{}", pid, ns).c_str(), O_RDONLY | O_CLOEXEC);
          if (fd >= 0) {
            held.push_back(fd);
          }
        }
        ::clock_gettime(CLOCK_MONOTONIC, &start);
        (void)!::write(go[1], "g", 1);
      }
      ::close(ready[0]);
      ::close(go[1]);
    }
    ::close(p[1]);
    int exec_err = 0;
    ssize_t got;
    do {
      got = ::read(p[0], &exec_err, sizeof(exec_err));
    } while (got < 0 && errno == EINTR);
    ::close(p[0]);
    int status = 0;
    rusage ru{};
    while (::wait4(pid, &status, 0, &ru) < 0) {
      if (errno != EINTR) {
        die(fmt::format("wait4: {}", std::strerror(errno)));
      }
    }
    ::clock_gettime(CLOCK_MONOTONIC, &end);
    for (int fd : held) {
      ::close(fd);
    }
    if (got == static_cast<ssize_t>(sizeof(exec_err))) {
      die(fmt::format("cannot run '{}': {}", c.argv[0], std::strerror(exec_err)));
    }
    if (status != 0) {
      die(fmt::format(
          "command {} ({}) {} in {}; run it by hand to see its output", index + 1, c.display,
          describe_status(status),
          round < 0 ? std::string("a warm-up round") : fmt::format("round {}", round + 1)));
    }
    return Sample{ms_between(start, end), ms_of(ru.ru_utime), ms_of(ru.ru_stime), ru.ru_maxrss};
  }

 private:
  int devnull_ = -1;
  bool sandbox_ = false;
};

// The q-quantile (0 ≤ q ≤ 1) of `v`, interpolated between the two nearest ranks.
double quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  double pos = q * static_cast<double>(v.size() - 1);
  auto lo = static_cast<std::size_t>(std::floor(pos));
  std::size_t hi = std::min(lo + 1, v.size() - 1);
  double frac = pos - static_cast<double>(lo);
  return v[lo] + (v[hi] - v[lo]) * frac;
}

double median(const std::vector<double>& v) {
  return quantile(v, 0.5);
}

struct Summary {
  double median_ms = 0;
  double min_ms = 0;
  double p90_ms = 0;
  double max_ms = 0;
  double mean_ms = 0;
  double median_user_ms = 0;
  double median_sys_ms = 0;
  long max_rss_kib = 0;
  double speedup = 1;         // first command's median / this one's
  double paired_speedup = 1;  // median over rounds of first's time / this one's, same round
  std::vector<double> wall_ms;
};

// "1.00x", "11.9x faster", "2.31x slower": `speedup` is first / this.
std::string ratio_text(double speedup, bool first) {
  if (first) {
    return "1.00x";
  }
  bool faster = speedup >= 1;
  double r = faster ? speedup : 1 / speedup;
  return fmt::format("{:.{}f}x {}", r, r >= 10 ? 1 : 2, faster ? "faster" : "slower");
}

std::string rss_text(long kib) {
  if (kib >= 10 * 1024) {
    return fmt::format("{:.1f} MiB", static_cast<double>(kib) / 1024);
  }
  return fmt::format("{} KiB", kib);
}

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20) {
      out += fmt::format("\\u{:04x}", c);
    } else {
      out += ch;
    }
  }
  out += '"';
  return out;
}

std::string json_number(double v) {
  return std::isfinite(v) ? fmt::format("{:.4f}", v) : "null";
}

void print_table(const Options& o, const std::vector<Summary>& sums) {
  std::size_t width = 7;  // "command"
  for (const Command& c : o.commands) {
    width = std::max(width, c.display.size());
  }
  fmt::print("paired: {} rounds after {} warm-up round{}, {} commands in rotating order\n", o.runs,
             o.warmup, o.warmup == 1 ? "" : "s", o.commands.size());
  auto print_row = [&](std::string_view cmd, std::string_view median, std::string_view min,
                       std::string_view p90, std::string_view vs_first, std::string_view paired,
                       std::string_view rss) {
    std::string line = fmt::format("{:<{}}  {:>11}  {:>11}  {:>11}  {:<14}  {:<14}", cmd, width,
                                   median, min, p90, vs_first, paired);
    if (o.rusage) {
      line += fmt::format("  {:>10}", rss);
    }
    line.erase(line.find_last_not_of(' ') + 1);
    fmt::print("{}\n", line);
  };
  print_row("command", "median", "min", "p90", "vs first", "paired", "max RSS");
  auto ms = [](double v) {
    return fmt::format("{:.1f} ms", v);
  };
  for (std::size_t i = 0; i < sums.size(); ++i) {
    const Summary& s = sums[i];
    print_row(o.commands[i].display, ms(s.median_ms), ms(s.min_ms), ms(s.p90_ms),
              ratio_text(s.speedup, i == 0), ratio_text(s.paired_speedup, i == 0),
              rss_text(s.max_rss_kib));
  }
}

void print_json(const Options& o, const std::vector<Summary>& sums) {
  std::string out = fmt::format("{{\"runs\":{},\"warmup\":{},\"commands\":[", o.runs, o.warmup);
  for (std::size_t i = 0; i < sums.size(); ++i) {
    const Summary& s = sums[i];
    const Command& c = o.commands[i];
    out += i == 0 ? "{" : ",{";
    out += "\"argv\":[";
    for (std::size_t a = 0; a < c.argv.size(); ++a) {
      out += (a == 0 ? "" : ",") + json_string(c.argv[a]);
    }
    out += "],\"display\":" + json_string(c.display);
    out += fmt::format(
        ",\"median_ms\":{},\"min_ms\":{},\"p90_ms\":{},\"max_ms\":{},\"mean_ms\":{}"
        ",\"median_user_ms\":{},\"median_sys_ms\":{},\"max_rss_kib\":{}"
        ",\"speedup\":{},\"paired_speedup\":{},\"wall_ms\":[",
        json_number(s.median_ms), json_number(s.min_ms), json_number(s.p90_ms),
        json_number(s.max_ms), json_number(s.mean_ms), json_number(s.median_user_ms),
        json_number(s.median_sys_ms), s.max_rss_kib, json_number(s.speedup),
        json_number(s.paired_speedup));
    for (std::size_t r = 0; r < s.wall_ms.size(); ++r) {
      out += (r == 0 ? "" : ",") + json_number(s.wall_ms[r]);
    }
    out += "]}";
  }
  out += "]}\n";
  fmt::print("{}", out);
}

}  // namespace

// Exceptions (the NOLINT): only fmt's errors (a failed write) can escape; they end the
// program with terminate's message.
// NOLINTNEXTLINE(bugprone-exception-escape)
int main(int argc, char** argv) {
  Options o = parse_args(argc, argv);
  const std::size_t k = o.commands.size();
  Runner runner(o.sandbox);
  for (int round = 0; round < o.warmup; ++round) {
    for (std::size_t j = 0; j < k; ++j) {
      std::size_t c = (static_cast<std::size_t>(round) + j) % k;
      (void)runner.run(o.commands[c], c, -1);
    }
  }
  // samples[c][round]
  std::vector<std::vector<Sample>> samples(k,
                                           std::vector<Sample>(static_cast<std::size_t>(o.runs)));
  for (int round = 0; round < o.runs; ++round) {
    auto r = static_cast<std::size_t>(round);
    for (std::size_t j = 0; j < k; ++j) {
      std::size_t c = (r + j) % k;
      samples[c][r] = runner.run(o.commands[c], c, round);
    }
  }
  std::vector<Summary> sums(k);
  for (std::size_t c = 0; c < k; ++c) {
    Summary& s = sums[c];
    std::vector<double> user;
    std::vector<double> sys;
    std::vector<double> ratios;
    for (std::size_t r = 0; r < samples[c].size(); ++r) {
      const Sample& x = samples[c][r];
      s.wall_ms.push_back(x.wall_ms);
      user.push_back(x.user_ms);
      sys.push_back(x.sys_ms);
      s.max_rss_kib = std::max(s.max_rss_kib, x.maxrss_kib);
      ratios.push_back(samples[0][r].wall_ms / x.wall_ms);
    }
    s.median_ms = median(s.wall_ms);
    s.min_ms = *std::min_element(s.wall_ms.begin(), s.wall_ms.end());
    s.max_ms = *std::max_element(s.wall_ms.begin(), s.wall_ms.end());
    s.p90_ms = quantile(s.wall_ms, 0.9);
    double total = 0;
    for (double v : s.wall_ms) {
      total += v;
    }
    s.mean_ms = total / static_cast<double>(s.wall_ms.size());
    s.median_user_ms = median(user);
    s.median_sys_ms = median(sys);
    s.speedup = sums[0].median_ms / s.median_ms;
    s.paired_speedup = median(ratios);
  }
  if (o.json) {
    print_json(o, sums);
  } else {
    print_table(o, sums);
  }
  return std::fflush(stdout) == 0 ? 0 : 1;
}
