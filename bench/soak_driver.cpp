// SPDX-License-Identifier: MIT
// soak_driver – the soak and churn runs of bench/soak.sh (issue 17). Needs root; meant to run in
// a private mount namespace with its own tmpfs on /run (soak.sh makes one), so that /run/nsm and
// /run/netns of the host are never touched.
//
//   soak_driver nsm CYCLES NSM      CYCLES times: nsm create NAME --type pid,net,uts,ipc,
//                                   nsm exec NAME -- true, nsm destroy NAME
//   soak_driver lib CYCLES          CYCLES times: NamedSet::create, spawn `true` joined to its
//                                   pins and wait, NamedSet::destroy
//   soak_driver churn RUNS NSM [WORKERS] [LOAD_GEN N]
//                                   RUNS times `nsm list -J` (each output must be JSON with a
//                                   non-empty "namespaces") while WORKERS processes fork children
//                                   that unshare namespaces (every type in turn) and exit, as
//                                   fast as they can, and LOAD_GEN keeps N sleepers, half of them
//                                   in namespaces of their own
//
// The names are nsfun-test-soak-PID-I. The driver is a child subreaper, so a holder that a
// destroy left running comes back to it and is counted. It prints one line per run:
//   part=P cycles=N errors=E fds=A->B->C mounts=A->B->C links=A->B->C netns=A->B->C
//   nsm=A->B->C rss_kb=A->B->C children=A->B->C seconds=S [forks=F] [first_error="..."]
// where A is before the first cycle, B after the first (which makes what stays for good: the
// self-bind of /run/netns that ip netns and nsfun make once, the memory of the first use) and
// C after the last: the driver's open fds, the lines of its /proc/self/mountinfo, the host's
// network interfaces (/sys/class/net), the entries of /run/netns and /run/nsm, its resident
// memory (VmRSS), its live children (holders left). Exit status 0 when every cycle succeeded
// and nothing grew from B to C (RSS aside), 1 otherwise, 2 on a usage error.

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <nsfun/named_set.hpp>
#include <nsfun/ns_type.hpp>
#include <nsfun/spawn.hpp>

namespace {

using Clock = std::chrono::steady_clock;

std::size_t entries(const char* dir) {
  DIR* d = ::opendir(dir);
  if (d == nullptr) {
    return 0;
  }
  std::size_t n = 0;
  while (const dirent* e = ::readdir(d)) {
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) {
      ++n;
    }
  }
  ::closedir(d);
  return n;
}

std::size_t lines(const char* path) {
  std::ifstream in(path);
  std::string line;
  std::size_t n = 0;
  while (std::getline(in, line)) {
    ++n;
  }
  return n;
}

long rss_kb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      return std::strtol(line.c_str() + 6, nullptr, 10);
    }
  }
  return -1;
}

// Reaps every child that has ended; returns how many are still alive.
std::size_t live_children() {
  while (::waitpid(-1, nullptr, WNOHANG) > 0) {
  }
  const std::string me = std::to_string(::getpid());
  std::size_t n = 0;
  DIR* d = ::opendir("/proc");
  if (d == nullptr) {
    return 0;
  }
  while (const dirent* e = ::readdir(d)) {
    if (e->d_name[0] < '1' || e->d_name[0] > '9') {
      continue;
    }
    std::ifstream in(std::string("/proc/") + e->d_name + "/status");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("PPid:", 0) == 0) {
        if (line.substr(line.find_first_not_of(" \t", 5)) == me) {
          ++n;
        }
        break;
      }
    }
  }
  ::closedir(d);
  return n;
}

struct Snapshot {
  std::size_t fds = 0;
  std::size_t mounts = 0;
  std::size_t links = 0;
  std::size_t netns = 0;
  std::size_t nsm = 0;
  long rss = 0;
  std::size_t children = 0;
};

Snapshot snapshot() {
  Snapshot s;
  s.fds = entries("/proc/self/fd") - 1;  // less the one opendir holds
  s.mounts = lines("/proc/self/mountinfo");
  s.links = entries("/sys/class/net");
  s.netns = entries("/run/netns");
  s.nsm = entries("/run/nsm");
  s.rss = rss_kb();
  s.children = live_children();
  return s;
}

struct Run {
  std::string part;
  std::size_t cycles = 0;
  std::size_t errors = 0;
  std::string first_error;
  std::uint64_t forks = 0;

  void error(std::string what) {
    if (errors++ == 0) {
      first_error = std::move(what);
    }
  }
};

// Runs argv; its stdout in `out` when given; its status (128+N for signal N), stderr's first
// line in `err`.
int run(const std::vector<std::string>& argv, std::string* out, std::string& err) {
  int o[2] = {-1, -1};
  int e[2] = {-1, -1};
  if (::pipe2(o, O_CLOEXEC) < 0 || ::pipe2(e, O_CLOEXEC) < 0) {
    err = std::strerror(errno);
    return -1;
  }
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(o[1], 1);
    ::dup2(e[1], 2);
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (const std::string& a : argv) {
      args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(o[1]);
  ::close(e[1]);
  std::string text;
  std::string errors;
  char buf[65536];
  // stdout first, then stderr: nsm writes little to stderr (it would not fill the pipe).
  for (int fd : {o[0], e[0]}) {
    ssize_t n = 0;
    while ((n = ::read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
      if (n > 0) {
        (fd == o[0] ? text : errors).append(buf, static_cast<std::size_t>(n));
      }
    }
    ::close(fd);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (out != nullptr) {
    *out = std::move(text);
  }
  err = errors.substr(0, errors.find('\n'));
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void nsm_cycles(Run& r, std::size_t cycles, const std::string& nsm, Snapshot& first) {
  for (std::size_t i = 0; i < cycles; ++i) {
    const std::string name = fmt::format("nsfun-test-soak-{}-{}", ::getpid(), i);
    std::string err;
    for (const std::vector<std::string>& argv : {
             std::vector<std::string>{nsm, "create", name, "--type", "pid,net,uts,ipc"},
             std::vector<std::string>{nsm, "exec", name, "--", "true"},
             std::vector<std::string>{nsm, "destroy", name},
         }) {
      if (int status = run(argv, nullptr, err); status != 0) {
        r.error(fmt::format("cycle {}: nsm {}: status {}: {}", i, argv[1], status, err));
      }
    }
    ++r.cycles;
    (void)live_children();  // reaps the holder destroy killed
    if (i == 0) {
      first = snapshot();
    }
  }
}

void lib_cycles(Run& r, std::size_t cycles, Snapshot& first) {
  using nsfun::NsType;
  nsfun::NamedSetOptions options;
  options.types = nsfun::NsTypeSet{NsType::pid, NsType::net, NsType::uts, NsType::ipc};
  for (std::size_t i = 0; i < cycles; ++i) {
    const std::string name = fmt::format("nsfun-test-soak-{}-{}", ::getpid(), i);
    {
      auto set = nsfun::NamedSet::create(name, options);
      if (!set) {
        r.error(fmt::format("cycle {}: create: {}", i, set.error().message()));
        continue;
      }
      nsfun::Command cmd("/bin/true");
      for (NsType t : set.value().pins().types()) {
        cmd.join(*set.value().pins().get(t));
      }
      auto child = nsfun::spawn(cmd);
      if (!child) {
        r.error(fmt::format("cycle {}: spawn: {}", i, child.error().message()));
      } else if (auto st = child.value().wait(); !st || !st.value().success()) {
        r.error(fmt::format("cycle {}: true in the set did not succeed", i));
      }
    }
    if (auto d = nsfun::NamedSet::destroy(name); !d) {
      r.error(fmt::format("cycle {}: destroy: {}", i, d.error().message()));
    }
    ++r.cycles;
    (void)live_children();
    if (i == 0) {
      first = snapshot();
    }
  }
}

// A churn worker: forks children that unshare one kind of namespace each (in turn) and exit, as
// fast as it can, until killed; counts them in `count`.
[[noreturn]] void churn_worker(std::atomic<std::uint64_t>* count, unsigned seed) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  constexpr int kinds[] = {CLONE_NEWUTS, CLONE_NEWIPC,    CLONE_NEWNS,   CLONE_NEWCGROUP,
                           CLONE_NEWPID, CLONE_NEWUSER,   CLONE_NEWUTS,  CLONE_NEWIPC,
                           CLONE_NEWNS,  CLONE_NEWCGROUP, CLONE_NEWPID,  CLONE_NEWUSER,
                           CLONE_NEWUTS, CLONE_NEWIPC,    CLONE_NEWTIME, CLONE_NEWNET};
  for (unsigned i = seed;; ++i) {
    const int flags = kinds[i % (sizeof kinds / sizeof kinds[0])];
    pid_t pid = ::fork();
    if (pid == 0) {
      ::_exit(::unshare(flags) == 0 ? 0 : 1);
    }
    if (pid > 0) {
      while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
      }
      count->fetch_add(1, std::memory_order_relaxed);
    }
  }
}

void churn(Run& r,
           std::size_t runs,
           const std::string& nsm,
           int workers,
           const std::string& load_gen,
           int load,
           Snapshot& first) {
  void* shared = ::mmap(nullptr, sizeof(std::atomic<std::uint64_t>), PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (shared == MAP_FAILED) {
    r.error(fmt::format("mmap: {}", std::strerror(errno)));
    return;
  }
  auto* count = new (shared) std::atomic<std::uint64_t>(0);
  // The sleepers of load_gen, until its stdin reaches EOF.
  pid_t gen = -1;
  int gen_in = -1;
  if (!load_gen.empty() && load > 0) {
    int p[2];
    int ready[2];
    if (::pipe2(p, O_CLOEXEC) == 0 && ::pipe2(ready, O_CLOEXEC) == 0) {
      gen = ::fork();
      if (gen == 0) {
        ::dup2(p[0], 0);
        ::dup2(ready[1], 3);
        int devnull = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
        ::dup2(devnull, 1);
        const std::string n = std::to_string(load);
        ::execl(load_gen.c_str(), load_gen.c_str(), n.c_str(), "--ready-fd", "3",
                "--until-stdin-eof", static_cast<char*>(nullptr));
        ::_exit(127);
      }
      ::close(p[0]);
      ::close(ready[1]);
      gen_in = p[1];
      char c = 0;
      if (::read(ready[0], &c, 1) != 1) {
        r.error("load_gen did not get ready");
      }
      ::close(ready[0]);
    }
  }
  std::vector<pid_t> pids;
  for (int w = 0; w < workers; ++w) {
    pid_t pid = ::fork();
    if (pid == 0) {
      churn_worker(count, static_cast<unsigned>(w) * 5U);
    }
    if (pid > 0) {
      pids.push_back(pid);
    }
  }
  for (std::size_t i = 0; i < runs; ++i) {
    std::string out;
    std::string err;
    const int status = run({nsm, "list", "-J"}, &out, err);
    auto j = nlohmann::json::parse(out, nullptr, false);
    if (status != 0) {
      r.error(fmt::format("run {}: nsm list: status {}: {}", i, status, err));
    } else if (j.is_discarded() || !j.is_object() || !j.contains("namespaces") ||
               !j["namespaces"].is_array() || j["namespaces"].empty()) {
      r.error(fmt::format("run {}: nsm list -J: malformed output ({} bytes)", i, out.size()));
    }
    ++r.cycles;
    if (i == 0) {
      first = snapshot();
    }
  }
  for (pid_t pid : pids) {
    ::kill(pid, SIGKILL);  // our own workers, by pid
    ::waitpid(pid, nullptr, 0);
  }
  if (gen > 0) {
    ::close(gen_in);
    int status = 0;
    ::waitpid(gen, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      r.error("load_gen failed");
    }
  }
  r.forks = count->load();
  ::munmap(shared, sizeof(std::atomic<std::uint64_t>));
}

int usage() {
  std::fputs(
      "usage: soak_driver nsm CYCLES NSM | lib CYCLES | churn RUNS NSM [WORKERS] [LOAD_GEN N]\n",
      stderr);
  return 2;
}

int soak(int argc, char** argv) {
  if (argc < 3) {
    return usage();
  }
  const std::string_view part = argv[1];
  char* end = nullptr;
  const unsigned long n = std::strtoul(argv[2], &end, 10);
  if (*end != '\0' || n == 0 || (part != "lib" && argc < 4)) {
    return usage();
  }
  if (::geteuid() != 0) {
    std::fputs("soak_driver: needs root\n", stderr);
    return 77;
  }
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  Run r;
  r.part = std::string(part);
  const Snapshot before = snapshot();
  Snapshot first = before;
  const auto start = Clock::now();
  if (part == "nsm") {
    nsm_cycles(r, n, argv[3], first);
  } else if (part == "lib") {
    lib_cycles(r, n, first);
  } else if (part == "churn") {
    const int workers = argc > 4 ? std::atoi(argv[4]) : 2;
    const std::string load_gen = argc > 5 ? argv[5] : "";
    const int load = argc > 6 ? std::atoi(argv[6]) : 0;
    churn(r, n, argv[3], workers, load_gen, load, first);
  } else {
    return usage();
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const Snapshot after = snapshot();
  fmt::print(
      "part={} cycles={} errors={} fds={}->{}->{} mounts={}->{}->{} links={}->{}->{} "
      "netns={}->{}->{} nsm={}->{}->{} rss_kb={}->{}->{} children={}->{}->{} seconds={:.1f}",
      r.part, r.cycles, r.errors, before.fds, first.fds, after.fds, before.mounts, first.mounts,
      after.mounts, before.links, first.links, after.links, before.netns, first.netns, after.netns,
      before.nsm, first.nsm, after.nsm, before.rss, first.rss, after.rss, before.children,
      first.children, after.children, seconds);
  if (r.forks > 0) {
    fmt::print(" forks={}", r.forks);
  }
  if (!r.first_error.empty()) {
    fmt::print(" first_error={}", nlohmann::json(r.first_error).dump());
  }
  fmt::print("\n");
  const bool grew = after.fds > first.fds || after.mounts > first.mounts ||
                    after.links > first.links || after.netns > first.netns ||
                    after.nsm > first.nsm || after.children > first.children;
  return r.errors == 0 && !grew ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return soak(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "soak_driver: %s\n", e.what());
    return 1;
  }
}
