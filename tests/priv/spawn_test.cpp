// SPDX-License-Identifier: MIT
// nsfun tests – spawn.hpp: each option observed from inside the child, and the failure paths.

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <nsfun/acquire.hpp>
#include <nsfun/cgroup.hpp>
#include <nsfun/format.hpp>
#include <nsfun/ns_fd.hpp>
#include <nsfun/spawn.hpp>

#include "test_support.hpp"

using nsfun::Command;
using nsfun::NsType;

namespace {

// In a forked child: /etc/subuid and /etc/subgid giving nobody 400000-400999, for this child
// only (bound over the host's in a private mount namespace, where the setuid newuidmap and
// newgidmap read them); then the child drops to nobody. 0 on success.
int become_nobody_with_subids() {
  NSFUN_EXPECT(nsfun::test::private_run() == 0);
  for (const char* file : {"/run/subuid", "/run/subgid"}) {
    std::FILE* f = std::fopen(file, "we");
    NSFUN_EXPECT(f != nullptr);
    std::fputs("65534:400000:1000\n", f);
    std::fclose(f);
  }
  NSFUN_EXPECT(::mount("/run/subuid", "/etc/subuid", nullptr, MS_BIND, nullptr) == 0);
  NSFUN_EXPECT(::mount("/run/subgid", "/etc/subgid", nullptr, MS_BIND, nullptr) == 0);
  NSFUN_EXPECT(nsfun::test::drop_privileges() == 0);
  return 0;
}

struct Output {
  nsfun::ExitStatus status;
  std::string out;
  bool ok = false;
};

// Spawns `cmd` with stdout captured; waits for it.
Output run(Command cmd) {
  Output o;
  int p[2];
  if (::pipe2(p, O_CLOEXEC) < 0) {
    return o;
  }
  auto w = nsfun::UniqueFd::adopt(p[1]);
  auto r = nsfun::UniqueFd::adopt(p[0]);
  cmd.redirect(1, w);
  auto child = nsfun::spawn(cmd);
  w.reset();
  if (!child) {
    std::fprintf(stderr, "spawn: %s\n", child.error().message().c_str());
    return o;
  }
  char buf[4096];
  ssize_t n = 0;
  while ((n = ::read(r.get(), buf, sizeof(buf))) > 0) {
    o.out.append(buf, static_cast<std::size_t>(n));
  }
  auto st = child.value().wait();
  o.ok = static_cast<bool>(st);
  if (st) {
    o.status = st.value();
  }
  while (!o.out.empty() && o.out.back() == '\n') {
    o.out.pop_back();
  }
  return o;
}

// Running (a zombie waiting for a reaper does not count).
bool alive(pid_t pid) {
  std::string path = "/proc/" + std::to_string(pid) + "/stat";
  std::FILE* f = std::fopen(path.c_str(), "re");
  if (f == nullptr) {
    return false;
  }
  char buf[512] = {};
  std::size_t n = std::fread(buf, 1, sizeof(buf) - 1, f);
  std::fclose(f);
  std::string stat(buf, n);
  std::size_t close = stat.rfind(')');
  return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] != 'Z';
}

// A directory holding a static busybox: a rootfs that needs nothing from the host.
struct BusyboxRoot {
  std::filesystem::path dir;

  BusyboxRoot() {
    char tmpl[] = "/tmp/nsfun-test-root-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) {
      return;
    }
    dir = tmpl;
    std::filesystem::create_directories(dir / "bin");
    std::filesystem::create_directories(dir / "proc");
    std::filesystem::copy_file("/bin/busybox", dir / "bin" / "busybox");
    std::filesystem::create_symlink("busybox", dir / "bin" / "sh");
  }

  BusyboxRoot(const BusyboxRoot&) = delete;
  BusyboxRoot& operator=(const BusyboxRoot&) = delete;

  ~BusyboxRoot() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

bool have_busybox() {
  return ::access("/bin/busybox", X_OK) == 0;
}

// The hostname of the calling process's uts namespace.
std::string hostname_here() {
  char name[256] = {};
  ::gethostname(name, sizeof(name) - 1);
  return name;
}

// Runs spawn(cmd) in a forked child that first made mount (private) and uts namespaces of its
// own, so that if spawn() failed to refuse, whatever it applied (a hostname, a mount) would land
// there and never on the host. Exits 0 when spawn refused before starting anything, with
// nsfun::errc::namespace_not_new and the message `want`, and the hostname is untouched.
int refused_in_sandbox(const Command& cmd, const std::string& want) {
  return nsfun::test::in_child([&] {
    NSFUN_EXPECT(nsfun::test::private_run() == 0);
    NSFUN_EXPECT(::unshare(CLONE_NEWUTS) == 0);
    const std::string before = hostname_here();
    auto r = nsfun::spawn(cmd);
    if (r) {
      std::fprintf(stderr, "spawn was not refused: want \"%s\"\n", want.c_str());
      (void)r.value().wait();
      return 1;
    }
    NSFUN_EXPECT(r.error() == nsfun::errc::namespace_not_new);
    if (r.error().message() != want) {
      std::fprintf(stderr, "refused with \"%s\", want \"%s\"\n", r.error().message().c_str(),
                   want.c_str());
      return 2;
    }
    NSFUN_EXPECT(hostname_here() == before);
    // Nothing was started: this process has no child.
    NSFUN_EXPECT(::waitpid(-1, nullptr, WNOHANG) < 0 && errno == ECHILD);
    return 0;
  });
}

bool can_sandbox() {
  return nsfun::test::can_private_run() && nsfun::test::can_unshare({NsType::uts});
}

constexpr const char* no_sandbox = "needs CAP_SYS_ADMIN (a private mount and uts namespace)";

}  // namespace

TEST_SUITE("spawn") {
  TEST_CASE("spawn runs a program and reports its exit status") {
    auto t = run(Command("true"));
    CHECK(t.ok);
    CHECK(t.status.success());
    auto f = run(Command("/bin/sh").arg("-c").arg("exit 3"));
    CHECK(f.ok);
    CHECK(f.status.code == 3);
    auto e = run(Command("/bin/echo").arg("a b").arg("c"));
    CHECK(e.out == "a b c");
    auto env = run(Command("/bin/sh").arg("-c").arg("echo $NSFUN_X").env("NSFUN_X", "42"));
    CHECK(env.out == "42");
    auto clear = run(Command("/bin/sh").arg("-c").arg("echo ${HOME:-none}").clear_env());
    CHECK(clear.out == "none");
    auto cwd = run(Command("/bin/pwd").cwd("/proc"));
    CHECK(cwd.out == "/proc");
  }

  TEST_CASE("a missing program is a clear error and leaves no process") {
    std::size_t fds = nsfun::test::open_fd_count();
    auto r = nsfun::spawn(Command("nsfun-no-such-program"));
    REQUIRE_FALSE(r);
    CHECK(r.error() == std::errc::no_such_file_or_directory);
    CHECK(r.error().message() ==
          "find program nsfun-no-such-program in PATH: No such file or directory");
    auto abs = nsfun::spawn(Command("/nonexistent/nsfun"));
    REQUIRE_FALSE(abs);
    CHECK(abs.error() == std::errc::no_such_file_or_directory);
    // The child's report names the program, not only the step.
    CHECK(abs.error().message() == "execve /nonexistent/nsfun: No such file or directory");
    // The failed child was reaped: nothing left to wait for.
    CHECK(::waitpid(-1, nullptr, WNOHANG) == -1);
    CHECK(errno == ECHILD);
    CHECK(nsfun::test::open_fd_count() == fds);
  }

  TEST_CASE("a function runs in the child and its return value is the exit code") {
    auto c = nsfun::spawn(Command([] { return ::getpid() > 0 ? 7 : 0; }));
    REQUIRE(c);
    auto st = c.value().wait();
    REQUIRE(st);
    CHECK(st.value().code == 7);
  }

  TEST_CASE("only fds 0 1 2 reach the program") {
    int leaky = ::open("/dev/null", O_RDONLY);  // NOLINT(android-cloexec-open): leaked on purpose
    REQUIRE(leaky >= 0);
    auto ls = run(Command("/bin/ls").arg("/proc/self/fd"));
    ::close(leaky);
    CHECK(ls.ok);
    CHECK(ls.out == "0\n1\n2\n3");  // 3: the directory ls is reading
  }

  TEST_CASE("the destructor kills and reaps and detach lets go") {
    pid_t pid = 0;
    {
      auto c = nsfun::spawn(Command("/bin/sleep").arg("100"));
      REQUIRE(c);
      pid = c.value().pid();
      CHECK(alive(pid));
    }
    CHECK_FALSE(alive(pid));
    auto c = nsfun::spawn(Command("/bin/sleep").arg("100"));
    REQUIRE(c);
    CHECK(c.value().signal(SIGTERM));
    auto st = c.value().wait();
    REQUIRE(st);
    CHECK(st.value().signal == SIGTERM);
    CHECK_FALSE(c.value().signal(SIGTERM));  // reaped: nothing to signal
    auto running = c.value().try_wait();
    CHECK_FALSE(running);
  }

  TEST_CASE("try_wait says whether the child has ended") {
    auto c = nsfun::spawn(Command("/bin/sleep").arg("0.2"));
    REQUIRE(c);
    auto now = c.value().try_wait();
    REQUIRE(now);
    CHECK_FALSE(now.value().has_value());
    auto st = c.value().wait();
    REQUIRE(st);
    CHECK(st.value().success());
  }

  TEST_CASE("uts namespace with hostname and domainname") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::uts}), "needs CAP_SYS_ADMIN");
    auto o = run(Command("/bin/sh")
                     .args({"-c",
                            "hostname; domainname 2>/dev/null || cat "
                            "/proc/sys/kernel/domainname"})
                     .namespaces({NsType::uts})
                     .hostname("nsfun-test-box")
                     .domainname("nsfun.test"));
    CHECK(o.ok);
    CHECK(o.out == "nsfun-test-box\nnsfun.test");
    char mine[256] = {};
    ::gethostname(mine, sizeof(mine));
    CHECK(std::string(mine) != "nsfun-test-box");
  }

  TEST_CASE("pid namespace with a fresh proc and the minimal init") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::pid, NsType::mnt}), "needs CAP_SYS_ADMIN");
    // With init: init is PID 1 and the program PID 2; /proc shows only the new namespace. The
    // shell expands the glob itself: no other process races with the count.
    auto o = run(Command("/bin/sh")
                     .args({"-c", "echo $$; set -- /proc/[0-9]*; echo $#"})
                     .namespaces({NsType::pid})
                     .mount_proc()
                     .init());
    CHECK(o.ok);
    CHECK(o.out == "2\n2");  // init and sh
    auto no_init =
        run(Command("/bin/sh").args({"-c", "echo $$"}).namespaces({NsType::pid}).mount_proc());
    CHECK(no_init.out == "1");
  }

  TEST_CASE("the init reaps orphans so no zombie piles up") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::pid, NsType::mnt}), "needs CAP_SYS_ADMIN");
    // Each ( … & ) leaves an orphan that exits at once; it is reparented to PID 1.
    auto o = run(Command("/bin/sh")
                     .args({"-c",
                            "for i in 1 2 3 4 5; do (sh -c 'exit 0' &); done; sleep 0.5; "
                            "grep -l '^State:.*Z' /proc/[0-9]*/status 2>/dev/null | wc -l"})
                     .namespaces({NsType::pid})
                     .mount_proc()
                     .init());
    CHECK(o.ok);
    CHECK(o.out == "0");
  }

  TEST_CASE("the init forwards signals and exits with the program status") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::pid}), "needs CAP_SYS_ADMIN");
    auto c = nsfun::spawn(Command("/bin/sleep").arg("100").namespaces({NsType::pid}).init());
    REQUIRE(c);
    ::usleep(100000);
    CHECK(c.value().signal(SIGTERM));
    auto st = c.value().wait();
    REQUIRE(st);
    CHECK(st.value().code == 128 + SIGTERM);
    auto code = run(Command("/bin/sh").args({"-c", "exit 5"}).namespaces({NsType::pid}).init());
    CHECK(code.status.code == 5);
  }

  TEST_CASE("user namespace with root mapped to the caller") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::user}), "needs user namespaces");
    auto map = nsfun::UserMap::root_is(::geteuid(), ::getegid()).value();
    auto o = run(Command("/bin/sh")
                     .args({"-c", "id -u; id -g; cat /proc/self/uid_map"})
                     .namespaces({NsType::user})
                     .user_map(map));
    CHECK(o.ok);
    CHECK(o.out.rfind("0\n0\n", 0) == 0);
    // The third line, the uid map: inside 0, outside our euid, one id.
    std::istringstream fields(o.out.substr(o.out.find('\n', 2) + 1));
    std::vector<std::string> words{std::istream_iterator<std::string>(fields), {}};
    CHECK(words == std::vector<std::string>{"0", std::to_string(::geteuid()), "1"});
  }

  TEST_CASE("issue #12: user_map without a new user namespace is refused") {
    // Nothing to protect here (the maps of the caller's user namespace are written once, long
    // ago), but the refusal comes before anything starts, like the others.
    auto r = nsfun::spawn(Command("true").user_map(nsfun::UserMap::root_is(0, 0).value()));
    REQUIRE_FALSE(r);
    CHECK(r.error() == nsfun::errc::namespace_not_new);
    CHECK(r.error().message() == "spawn: user_map needs a new user namespace");
  }

  TEST_CASE("an unprivileged user maps itself and cannot map others") {
    NSFUN_REQUIRE(nsfun::test::can_unshare_unprivileged({NsType::user}),
                  "needs unprivileged user namespaces (and root to become nobody)");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(nsfun::test::drop_privileges() == 0);
      auto ok = nsfun::spawn(Command("true")
                                 .namespaces({NsType::user})
                                 .user_map(nsfun::UserMap::root_is(65534, 65534).value()));
      NSFUN_EXPECT_OK(ok);
      NSFUN_EXPECT(ok.value().wait().value().success());
      auto bad = nsfun::spawn(Command("true")
                                  .namespaces({NsType::user})
                                  .user_map(nsfun::UserMap::root_is(0, 0).value()));
      NSFUN_EXPECT(!bad);
      NSFUN_EXPECT(bad.error() == std::errc::operation_not_permitted);
      return 0;
    });
  }

  TEST_CASE("a rootfs with pivot_root shows only the new root") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::mnt, NsType::pid}), "needs CAP_SYS_ADMIN");
    NSFUN_REQUIRE(have_busybox(), "needs busybox-static");
    BusyboxRoot root;
    REQUIRE_FALSE(root.dir.empty());
    auto o = run(Command("/bin/busybox")
                     .args({"sh", "-c",
                            "ls /; ls /proc | grep -c '^[0-9]'; cat /proc/mounts | "
                            "grep -c ' / '"})
                     .namespaces({NsType::pid})
                     .rootfs(root.dir.string())
                     .mount_proc());
    CHECK(o.ok);
    CHECK(o.status.success());
    CHECK(o.out.rfind("bin\nproc\n", 0) == 0);
    // PATH is searched inside the rootfs.
    auto named = run(Command("sh").args({"-c", "echo inside"}).rootfs(root.dir.string()));
    CHECK(named.out == "inside");
  }

  TEST_CASE("a rootfs that is not a directory is a clear error") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::mnt}), "needs CAP_SYS_ADMIN");
    auto r = nsfun::spawn(Command("/bin/true").rootfs("/etc/hostname"));
    REQUIRE_FALSE(r);
    CHECK(r.error() == std::errc::not_a_directory);
    CHECK(r.error().message() == "check rootfs /etc/hostname: Not a directory");
    auto missing = nsfun::spawn(Command("/bin/true").rootfs("/nonexistent/nsfun"));
    REQUIRE_FALSE(missing);
    CHECK(missing.error() == std::errc::no_such_file_or_directory);
    CHECK(missing.error().message() ==
          "check rootfs /nonexistent/nsfun: No such file or directory");
  }

  TEST_CASE("time namespace offsets shift the child clocks") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::time}), "needs CAP_SYS_ADMIN");
    using namespace std::chrono_literals;
    auto o = run(
        Command("/bin/cat").arg("/proc/uptime").namespaces({NsType::time}).time_offsets(0s, 24h));
    CHECK(o.ok);
    double uptime = std::stod(o.out);
    CHECK(uptime >= 86400.0);
    auto offsets = run(Command("/bin/cat")
                           .arg("/proc/self/timens_offsets")
                           .namespaces({NsType::time})
                           .time_offsets(-1s, 2s));
    CHECK(offsets.ok);
    // "monotonic -1 0" and "boottime 2 0", however the kernel aligns the columns.
    std::istringstream fields(offsets.out);
    std::vector<std::string> words{std::istream_iterator<std::string>(fields), {}};
    REQUIRE(words.size() == 6);
    CHECK(words[1] == "-1");
    CHECK(words[2] == "0");
    CHECK(words[4] == "2");
    CHECK(words[5] == "0");
  }

  TEST_CASE("time namespace offsets reach a program under the minimal init") {
    // The init forks the program before the time namespace is made: the program sets it up.
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::time, NsType::pid}), "needs CAP_SYS_ADMIN");
    using namespace std::chrono_literals;
    auto o = run(Command("/bin/cat")
                     .arg("/proc/uptime")
                     .namespaces({NsType::time, NsType::pid})
                     .init()
                     .time_offsets(0s, 24h));
    CHECK(o.ok);
    CHECK(o.status.success());
    CHECK(std::stod(o.out.empty() ? "0" : o.out) >= 86400.0);
  }

  TEST_CASE("join an existing namespace") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::net}), "needs CAP_SYS_ADMIN");
    auto net = nsfun::acquire<NsType::net>();
    REQUIRE(net);
    auto o = run(Command("/bin/readlink").arg("/proc/self/ns/net").join(net.value()));
    CHECK(o.out == fmt::format("{}", net.value()));
  }

  TEST_CASE("die_with_parent kills the child when its parent dies") {
    NSFUN_CHECK_CHILD([] {
      int p[2];
      NSFUN_EXPECT(::pipe2(p, O_CLOEXEC) == 0);
      pid_t middle = ::fork();
      if (middle == 0) {
        auto c = nsfun::spawn(Command("/bin/sleep").arg("100").die_with_parent());
        if (!c) {
          ::_exit(1);
        }
        pid_t pid = c.value().pid();
        (void)!::write(p[1], &pid, sizeof(pid));
        c.value().detach();
        ::_exit(0);  // without the destructor: only PDEATHSIG can end the sleep
      }
      pid_t grandchild = 0;
      NSFUN_EXPECT(::read(p[0], &grandchild, sizeof(grandchild)) == sizeof(grandchild));
      ::waitpid(middle, nullptr, 0);
      for (int i = 0; i < 50 && alive(grandchild); ++i) {
        ::usleep(20000);
      }
      NSFUN_EXPECT(!alive(grandchild));
      return 0;
    });
  }
  TEST_CASE("a child started into a cgroup sees itself there") {
    NSFUN_REQUIRE(nsfun::test::can_private_run(), "needs CAP_SYS_ADMIN");
    NSFUN_REQUIRE(nsfun::cgroup2_mount().has_value(), "no cgroup2 hierarchy on this host");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(nsfun::test::private_run() == 0);
      NSFUN_EXPECT(::mkdir("/run/cgroup2", 0755) == 0);
      NSFUN_EXPECT(::mount("cgroup2", "/run/cgroup2", "cgroup2", 0, nullptr) == 0);
      auto root = nsfun::CgroupDir::open("/run/cgroup2");
      NSFUN_EXPECT_OK(root);
      std::string name = nsfun::test::unique_name();
      auto cg = nsfun::CgroupDir::create(root.value(), name);
      NSFUN_EXPECT_OK(cg);
      auto o = run(Command("/bin/cat").arg("/proc/self/cgroup").cgroup(cg.value().fd()));
      NSFUN_EXPECT(o.ok);
      NSFUN_EXPECT(o.out.find("0::/" + name) != std::string::npos);
      // A child kept running is in procs() and goes with the cgroup.
      auto sleeper = nsfun::spawn(Command("/bin/sleep").arg("100").cgroup(cg.value().fd()));
      NSFUN_EXPECT_OK(sleeper);
      auto procs = cg.value().procs();
      NSFUN_EXPECT_OK(procs);
      NSFUN_EXPECT(procs.value().size() == 1 && procs.value()[0] == sleeper.value().pid());
      NSFUN_EXPECT_OK(cg.value().remove());
      auto st = sleeper.value().wait();
      NSFUN_EXPECT_OK(st);
      NSFUN_EXPECT(st.value().signal == SIGKILL);
      return 0;
    });
  }

  TEST_CASE("an unprivileged user maps subordinate ranges through newuidmap") {
    NSFUN_REQUIRE(nsfun::test::can_private_run(), "needs CAP_SYS_ADMIN");
    NSFUN_REQUIRE(nsfun::test::can_unshare_unprivileged({NsType::user}),
                  "needs unprivileged user namespaces (and root to become nobody)");
    NSFUN_REQUIRE(nsfun::test::have_program("newuidmap"), "needs newuidmap (package uidmap)");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(become_nobody_with_subids() == 0);
      auto map = nsfun::UserMap::subordinate("nobody", 65534, 65534);
      NSFUN_EXPECT_OK(map);
      auto o = run(Command("/bin/cat")
                       .arg("/proc/self/uid_map")
                       .namespaces({NsType::user})
                       .user_map(map.value()));
      NSFUN_EXPECT(o.ok);
      NSFUN_EXPECT(o.out.find("400000") != std::string::npos);
      NSFUN_EXPECT(o.out.find("65534") != std::string::npos);
      return 0;
    });
  }

  TEST_CASE("issue #13: newuidmap is a spawned program, also with another thread running") {
    NSFUN_REQUIRE(nsfun::test::can_private_run(), "needs CAP_SYS_ADMIN");
    NSFUN_REQUIRE(nsfun::test::can_unshare_unprivileged({NsType::user}),
                  "needs unprivileged user namespaces (and root to become nobody)");
    NSFUN_REQUIRE(nsfun::test::have_program("newuidmap"), "needs newuidmap (package uidmap)");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(become_nobody_with_subids() == 0);
      // Another thread, blocked on a pipe for the whole test: the caller is multithreaded.
      int gate[2];
      NSFUN_EXPECT(::pipe2(gate, O_CLOEXEC) == 0);
      std::thread other([fd = gate[0]] {
        char c = 0;
        (void)!::read(fd, &c, 1);
      });
      auto map = nsfun::UserMap::subordinate("nobody", 65534, 65534);
      NSFUN_EXPECT_OK(map);
      auto o = run(Command("/bin/cat")
                       .arg("/proc/self/uid_map")
                       .namespaces({NsType::user})
                       .user_map(map.value()));
      // A map the helper refuses (no subordinate range covers uid 0 outside): its exit status
      // comes back, which only a helper that ran can give.
      auto refused = nsfun::spawn(Command("/bin/true")
                                      .namespaces({NsType::user})
                                      .user_map(nsfun::UserMap::root_is(0, 0).value()));
      (void)!::write(gate[1], "x", 1);
      other.join();
      ::close(gate[0]);
      ::close(gate[1]);
      NSFUN_EXPECT(o.ok);
      NSFUN_EXPECT(o.out.find("400000") != std::string::npos);
      NSFUN_EXPECT(!refused);
      NSFUN_EXPECT(refused.error() == std::errc::operation_not_permitted);
      NSFUN_EXPECT(refused.error().what == "newuidmap");
      NSFUN_EXPECT(refused.error().reason().rfind("refused the map (exit status ", 0) == 0);
      NSFUN_EXPECT(::waitpid(-1, nullptr, WNOHANG) == -1);  // no helper left behind
      return 0;
    });
  }

  TEST_CASE("issue #13: Command::hold keeps its namespaces and no fd until it is killed") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::uts}), "needs CAP_SYS_ADMIN");
    NSFUN_CHECK_CHILD([] {
      auto mine = nsfun::NsFd::current(NsType::uts);
      NSFUN_EXPECT_OK(mine);
      auto held = nsfun::spawn(Command::hold().namespaces({NsType::uts}).hostname("nsfun-held"));
      NSFUN_EXPECT_OK(held);
      nsfun::Child& h = held.value();
      auto theirs = nsfun::NsFd::open(h.pid(), nsfun::NsLink::uts);
      NSFUN_EXPECT_OK(theirs);
      NSFUN_EXPECT(theirs.value().identity() != mine.value().identity());
      // Only 0, 1 and 2 are open in the holder (no exec closes the rest: hold does).
      std::size_t fds = 0;
      for (int i = 0; i < 50 && fds != 3; ++i) {
        fds = 0;
        for ([[maybe_unused]] const auto& e :
             std::filesystem::directory_iterator("/proc/" + std::to_string(h.pid()) + "/fd")) {
          ++fds;
        }
        if (fds != 3) {
          ::usleep(10000);
        }
      }
      NSFUN_EXPECT(fds == 3);
      auto still = h.try_wait();
      NSFUN_EXPECT_OK(still);
      NSFUN_EXPECT(!still.value().has_value());
      NSFUN_EXPECT(h.kill());
      auto st = h.wait();
      NSFUN_EXPECT_OK(st);
      NSFUN_EXPECT(st.value().signal == SIGKILL);
      return 0;
    });
  }

  TEST_CASE("a new mount namespace is made private unless asked to keep propagation") {
    NSFUN_REQUIRE(nsfun::test::can_private_run(), "needs CAP_SYS_ADMIN");
    NSFUN_CHECK_CHILD([] {
      // In a mount namespace of the test's own, make / shared; spawned children copy that.
      NSFUN_EXPECT(nsfun::test::private_run() == 0);
      NSFUN_EXPECT(::mount(nullptr, "/", nullptr, MS_REC | MS_SHARED, nullptr) == 0);
      const char* root_line = "grep -E '^[0-9]+ [0-9]+ [0-9:]+ / / ' /proc/self/mountinfo";
      auto fresh = run(Command("/bin/sh").args({"-c", root_line}).namespaces({NsType::mnt}));
      NSFUN_EXPECT(fresh.ok);
      NSFUN_EXPECT(!fresh.out.empty());
      NSFUN_EXPECT(fresh.out.find("shared:") == std::string::npos);
      auto kept = run(
          Command("/bin/sh").args({"-c", root_line}).namespaces({NsType::mnt}).keep_propagation());
      NSFUN_EXPECT(kept.out.find("shared:") != std::string::npos);
      return 0;
    });
  }

  // Issue #12: a setting that acts in a namespace is refused, before anything starts, when the
  // child would share that namespace with the caller. Each runs in a sandbox (see
  // refused_in_sandbox) so that a missing refusal fails the test without touching the host.
  TEST_CASE("issue #12: hostname without a new or joined uts namespace is refused") {
    NSFUN_REQUIRE(can_sandbox(), no_sandbox);
    const std::string want = "spawn: hostname needs a new or joined uts namespace";
    CHECK(refused_in_sandbox(Command("/bin/true").hostname("nsfun-test-box"), want) == 0);
    // Other new namespaces are not a uts namespace.
    CHECK(
        refused_in_sandbox(
            Command("/bin/true").namespaces({NsType::mnt, NsType::net}).hostname("nsfun-test-box"),
            want) == 0);
  }

  TEST_CASE("issue #12: domainname without a new or joined uts namespace is refused") {
    NSFUN_REQUIRE(can_sandbox(), no_sandbox);
    CHECK(refused_in_sandbox(Command("/bin/true").domainname("nsfun.test"),
                             "spawn: domainname needs a new or joined uts namespace") == 0);
  }

  TEST_CASE("issue #12: mount_proc without a new or joined pid namespace is refused") {
    NSFUN_REQUIRE(can_sandbox(), no_sandbox);
    const std::string want = "spawn: mount_proc needs a new or joined pid namespace";
    CHECK(refused_in_sandbox(Command("/bin/true").mount_proc(), want) == 0);
    CHECK(refused_in_sandbox(Command("/bin/true").namespaces({NsType::mnt}).mount_proc(), want) ==
          0);
  }

  TEST_CASE("issue #12: keep_propagation without a new mount namespace is refused") {
    NSFUN_REQUIRE(can_sandbox(), no_sandbox);
    CHECK(refused_in_sandbox(Command("/bin/true").keep_propagation(),
                             "spawn: keep_propagation needs a new mnt namespace") == 0);
  }

  TEST_CASE("issue #12: time_offsets without a new time namespace is refused") {
    NSFUN_REQUIRE(can_sandbox(), no_sandbox);
    using namespace std::chrono_literals;
    CHECK(refused_in_sandbox(Command("/bin/true").time_offsets(0s, 1s),
                             "spawn: time_offsets needs a new time namespace") == 0);
  }

  TEST_CASE("issue #12: init without a new pid namespace is refused") {
    NSFUN_REQUIRE(can_sandbox(), no_sandbox);
    CHECK(refused_in_sandbox(Command("/bin/true").namespaces({NsType::mnt}).init(),
                             "spawn: init needs a new pid namespace") == 0);
  }

  TEST_CASE("issue #12: user_map without a new user namespace is refused in a sandbox too") {
    NSFUN_REQUIRE(can_sandbox(), no_sandbox);
    CHECK(refused_in_sandbox(Command("/bin/true").user_map(nsfun::UserMap::root_is(0, 0).value()),
                             "spawn: user_map needs a new user namespace") == 0);
  }

  TEST_CASE("issue #12: hostname and domainname apply in a joined uts namespace") {
    NSFUN_REQUIRE(can_sandbox(), no_sandbox);
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(::unshare(CLONE_NEWUTS) == 0);  // a sandbox, should the join go wrong
      const std::string before = hostname_here();
      auto uts = nsfun::acquire<NsType::uts>();
      NSFUN_EXPECT_OK(uts);
      auto set = run(Command("/bin/hostname")
                         .join(uts.value())
                         .hostname("nsfun-test-joined")
                         .domainname("nsfun.joined"));
      NSFUN_EXPECT(set.ok && set.status.success());
      NSFUN_EXPECT(set.out == "nsfun-test-joined");
      // The names stay in the joined namespace, not in the caller's.
      auto seen = run(Command("/bin/cat")
                          .args({"/proc/sys/kernel/hostname", "/proc/sys/kernel/domainname"})
                          .join(uts.value()));
      NSFUN_EXPECT(seen.out == "nsfun-test-joined\nnsfun.joined");
      NSFUN_EXPECT(hostname_here() == before);
      return 0;
    });
  }

  TEST_CASE("issue #12: mount_proc in a joined pid namespace shows that namespace") {
    NSFUN_REQUIRE(
        nsfun::test::can_private_run() && nsfun::test::can_unshare({NsType::pid, NsType::mnt}),
        "needs CAP_SYS_ADMIN");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(nsfun::test::private_run() == 0);
      auto holder = nsfun::spawn(Command("/bin/sleep").arg("100").namespaces({NsType::pid}));
      NSFUN_EXPECT_OK(holder);
      auto pid_ns = nsfun::NsFd::open(holder.value().pid(), NsType::pid);
      NSFUN_EXPECT_OK(pid_ns);
      // The program is the second process of the joined namespace, and its /proc is that
      // namespace's: PID 1 is the sleep, and nothing else is there.
      auto o = run(Command("/bin/sh")
                       .args({"-c", "echo $$; cat /proc/1/comm; set -- /proc/[0-9]*; echo $#"})
                       .join(pid_ns.value())
                       .mount_proc());
      NSFUN_EXPECT(o.ok && o.status.success());
      if (o.out != "2\nsleep\n2") {
        std::fprintf(stderr, "got \"%s\"\n", o.out.c_str());
        return 1;
      }
      return 0;
    });
  }

  TEST_CASE("issue #12: a joined mount namespace takes mount_proc and keeps its propagation") {
    NSFUN_REQUIRE(
        nsfun::test::can_private_run() && nsfun::test::can_unshare({NsType::pid, NsType::mnt}),
        "needs CAP_SYS_ADMIN");
    NSFUN_CHECK_CHILD([] {
      // A shared root in the test's own mount namespace; the acquired one copies it.
      NSFUN_EXPECT(nsfun::test::private_run() == 0);
      NSFUN_EXPECT(::mount(nullptr, "/", nullptr, MS_REC | MS_SHARED, nullptr) == 0);
      auto mnt = nsfun::acquire<NsType::mnt>();
      NSFUN_EXPECT_OK(mnt);
      // mount_proc implies a new mount namespace only when none is joined: /proc is mounted in
      // the joined one, whose propagation spawn does not make private.
      auto o = run(
          Command("/bin/sh")
              .args({"-c", "echo $$; grep -E '^[0-9]+ [0-9]+ [0-9:]+ / / ' /proc/self/mountinfo"})
              .join(mnt.value())
              .namespaces({NsType::pid})
              .mount_proc());
      NSFUN_EXPECT(o.ok && o.status.success());
      NSFUN_EXPECT(o.out.rfind("1\n", 0) == 0);
      NSFUN_EXPECT(o.out.find("shared:") != std::string::npos);
      return 0;
    });
  }

  TEST_CASE("issue #12: netns with a network namespace or a rootfs says which") {
    // Refused before the named namespace is even opened: nothing under /run/netns is needed.
    auto fresh =
        nsfun::spawn(Command("/bin/true").netns("nsfun-test-none").namespaces({NsType::net}));
    REQUIRE_FALSE(fresh);
    CHECK(fresh.error() == std::errc::invalid_argument);
    CHECK(fresh.error().message() ==
          "spawn: netns nsfun-test-none cannot be combined with a new net namespace");
    auto rooted = nsfun::spawn(Command("/bin/true").netns("nsfun-test-none").rootfs("/"));
    REQUIRE_FALSE(rooted);
    CHECK(rooted.error().message() ==
          "spawn: netns nsfun-test-none cannot be combined with rootfs");
  }

  TEST_CASE("issue #12: a step that fails in the child names what it failed on") {
    // chdir, dup2 and execve fail in the child; the report through the pipe carries the object.
    auto cwd = nsfun::spawn(Command("/bin/true").cwd("/nonexistent/nsfun"));
    REQUIRE_FALSE(cwd);
    CHECK(cwd.error() == std::errc::no_such_file_or_directory);
    CHECK(cwd.error().message() == "chdir /nonexistent/nsfun: No such file or directory");
    auto dup = nsfun::spawn(Command("/bin/true").redirect(1, nsfun::FdRef(987)));
    REQUIRE_FALSE(dup);
    CHECK(dup.error().message() == "dup2 fd 987 to fd 1: Bad file descriptor");
    // A long object is cut at what an error holds, and says so.
    const std::string deep = "/nonexistent/" + std::string(400, 'd');
    auto cut = nsfun::spawn(Command("/bin/true").cwd(deep));
    REQUIRE_FALSE(cut);
    CHECK(cut.error().what == "chdir");
    CHECK(cut.error().object().size() <= nsfun::error::capacity());
    CHECK(cut.error().object().size() > 200);
    CHECK(deep.rfind(cut.error().object().substr(0, 200), 0) == 0);
    CHECK(cut.error().object().substr(cut.error().object().size() - 3) == "...");
    CHECK(::waitpid(-1, nullptr, WNOHANG) == -1);
  }

  TEST_CASE("issue #12: sethostname in the child names the hostname it refused") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::uts}), "needs CAP_SYS_ADMIN");
    const std::string too_long(70, 'x');  // beyond HOST_NAME_MAX (64)
    auto r = nsfun::spawn(Command("/bin/true").namespaces({NsType::uts}).hostname(too_long));
    REQUIRE_FALSE(r);
    CHECK(r.error() == std::errc::invalid_argument);
    CHECK(r.error().message() == "sethostname " + too_long + ": Invalid argument");
  }

  TEST_CASE("issue #12: waiting for or signalling no process says why") {
    auto c = nsfun::spawn(Command("/bin/true"));
    REQUIRE(c);
    const std::string pid = std::to_string(c.value().pid());
    REQUIRE(c.value().wait());
    auto again = c.value().wait();
    REQUIRE_FALSE(again);
    CHECK(again.error() == std::errc::no_child_process);
    CHECK(again.error().message() == "waitid pid " + pid + ": already waited for");
    auto sig = c.value().signal(SIGTERM);
    REQUIRE_FALSE(sig);
    CHECK(sig.error() == std::errc::no_such_process);
    CHECK(sig.error().message() == "pidfd_send_signal pid " + pid + ": already waited for");
    nsfun::Child empty;
    auto none = empty.wait();
    REQUIRE_FALSE(none);
    CHECK(none.error().message() == "waitid: no process (an empty, moved-from or detached Child)");
  }
}
