// SPDX-License-Identifier: MIT
// nsfun tests – spawn.hpp's container settings (issue 15): no_new_privs, rlimit, oom_score_adj,
// setsid, controlling_terminal, the captured stdout and stderr, the minimal init's name; each
// read back from the kernel inside the child, as root and rootless, compared with the
// util-linux tool that does the same (setpriv, prlimit, choom, setsid), and each refusal
// checked to leave no process and no fd behind.

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <fcntl.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <nsfun/spawn.hpp>
#include <nsfun/user_map.hpp>

#include "test_support.hpp"

using nsfun::Command;
using nsfun::NsType;

namespace {

Command shell(const std::string& script) {
  return std::move(Command("/bin/sh").arg("-c").arg(script));
}

// Spawns `cmd` with stdout captured and waits: what it printed, or "spawn: <error>".
std::string output_of(Command cmd) {
  auto child = nsfun::spawn(cmd.capture_stdout());
  if (!child) {
    return "spawn: " + child.error().message();
  }
  auto out = child.value().wait_with_output();
  if (!out) {
    return "wait: " + out.error().message();
  }
  return out.value().out;
}

// The line of `text` that starts with `prefix`, without its newline; empty when none does.
std::string line_of(const std::string& text, std::string_view prefix) {
  for (std::size_t pos = 0; pos < text.size();) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) {
      end = text.size();
    }
    if (text.compare(pos, prefix.size(), prefix) == 0) {
      return text.substr(pos, end - pos);
    }
    pos = end + 1;
  }
  return {};
}

// Fields of a /proc/PID/stat text by their number in proc(5) (1: pid, 5: pgrp, 6: session,
// 7: tty_nr); 0 when missing.
long long stat_field(const std::string& stat, int field) {
  if (field == 1) {
    return std::atoll(stat.c_str());
  }
  std::size_t pos = stat.rfind(')');
  if (pos == std::string::npos) {
    return 0;
  }
  pos += 2;
  for (int f = 3; f < field; ++f) {
    pos = stat.find(' ', pos);
    if (pos == std::string::npos) {
      return 0;
    }
    ++pos;
  }
  return std::atoll(stat.c_str() + pos);
}

// Whether this process has CAP_SYS_RESOURCE in its effective set (the kernel checks it in the
// initial user namespace to raise a hard rlimit or lower oom_score_adj; a sandbox may lack it
// even as root).
bool has_sys_resource() {
  const std::string eff = line_of(nsfun::test::read_text("/proc/self/status"), "CapEff:");
  const auto words = nsfun::test::split_words(eff);
  return words.size() == 2 && ((std::stoull(words[1], nullptr, 16) >> 24U) & 1U) != 0;
}

// In a forked child: true when this process has no child left (nothing was started, or all
// were reaped).
bool no_children() {
  return ::waitpid(-1, nullptr, WNOHANG) < 0 && errno == ECHILD;
}

// In a forked child: `cmd` is refused with `code` and exactly `message`, leaving no process
// and no fd. 0 when so.
int refused(const Command& cmd, std::error_code code, const std::string& message) {
  const std::size_t fds = nsfun::test::open_fd_count();
  auto r = nsfun::spawn(cmd);
  NSFUN_EXPECT(!r);
  if (r.error().message() != message) {
    std::fprintf(stderr, "got \"%s\"\nwant \"%s\"\n", r.error().message().c_str(), message.c_str());
    return 2;
  }
  NSFUN_EXPECT(r.error().code == code);
  NSFUN_EXPECT(no_children());
  NSFUN_EXPECT(nsfun::test::open_fd_count() == fds);
  return 0;
}

// A rootless container's namespaces: the caller (nobody, after drop_privileges()) is root inside.
Command rootless(Command cmd) {
  cmd.namespaces({NsType::user, NsType::mnt, NsType::pid})
      .user_map(nsfun::UserMap::root_is(65534, 65534).value());
  return cmd;
}

}  // namespace

TEST_SUITE("spawn container") {
  TEST_CASE("no_new_privs: the child's NoNewPrivs is 1, as setpriv --no-new-privs makes it") {
    const std::string script = "grep NoNewPrivs /proc/self/status";
    const std::string with = output_of(shell(script).no_new_privs());
    CHECK(with == "NoNewPrivs:\t1\n");
    CHECK(output_of(shell(script)) == "NoNewPrivs:\t0\n");
    if (nsfun::test::have_program("setpriv")) {
      CHECK(with == nsfun::test::run("setpriv --no-new-privs sh -c '" + script + "'").out);
    }
  }

  TEST_CASE("rlimit: /proc/self/limits shows the limits, as prlimit(1) sets them") {
    struct rlimit own {};

    REQUIRE(::getrlimit(RLIMIT_NOFILE, &own) == 0);
    REQUIRE(own.rlim_max >= 200);
    const std::string limits = output_of(
        shell("cat /proc/self/limits").rlimit(RLIMIT_NOFILE, 100, 200).rlimit(RLIMIT_CORE, 0, 0));
    const std::string nofile = line_of(limits, "Max open files");
    CHECK(nsfun::test::split_words(nofile) ==
          std::vector<std::string>{"Max", "open", "files", "100", "200", "files"});
    const std::string core = line_of(limits, "Max core file size");
    CHECK(nsfun::test::split_words(core) ==
          std::vector<std::string>{"Max", "core", "file", "size", "0", "0", "bytes"});
    if (nsfun::test::have_program("prlimit")) {
      const std::string tool =
          nsfun::test::run("prlimit --nofile=100:200 --core=0:0 cat /proc/self/limits").out;
      CHECK(nofile == line_of(tool, "Max open files"));
      CHECK(core == line_of(tool, "Max core file size"));
    }
  }

  TEST_CASE("rlimit: set in a new user namespace, the init included") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::user, NsType::pid, NsType::mnt}), "needs root");

    struct rlimit own {};

    REQUIRE(::getrlimit(RLIMIT_NOFILE, &own) == 0);
    const long long nr_open = std::atoll(nsfun::test::read_text("/proc/sys/fs/nr_open").c_str());
    REQUIRE(own.rlim_max < static_cast<rlim_t>(nr_open));
    // Raised where the caller may (the child, in a user namespace of its own, may not: the
    // parent sets it); lowered otherwise.
    const rlim_t hard = has_sys_resource() ? own.rlim_max + 1 : own.rlim_max - 1;
    const std::string limits =
        output_of(shell("grep 'Max open files' /proc/self/limits /proc/1/limits")
                      .namespaces({NsType::user, NsType::pid, NsType::mnt})
                      .user_map(nsfun::UserMap::root_is(0, 0).value())
                      .mount_proc()
                      .init()
                      .rlimit(RLIMIT_NOFILE, 64, hard));
    for (const char* file : {"/proc/self/limits:Max", "/proc/1/limits:Max"}) {
      auto words = nsfun::test::split_words(line_of(limits, file));
      CHECK_MESSAGE(words == (std::vector<std::string>{file, "open", "files", "64",
                                                       std::to_string(hard), "files"}),
                    limits);
    }
  }

  TEST_CASE("rlimit: without CAP_SYS_RESOURCE a hard limit above the caller's is refused") {
    NSFUN_REQUIRE(!has_sys_resource(), "has CAP_SYS_RESOURCE");
    NSFUN_CHECK_CHILD([] {
      struct rlimit own {};

      NSFUN_EXPECT(::getrlimit(RLIMIT_NOFILE, &own) == 0);
      NSFUN_EXPECT(refused(Command("/bin/true").rlimit(RLIMIT_NOFILE, 1, own.rlim_max + 1),
                           std::make_error_code(std::errc::operation_not_permitted),
                           "spawn: rlimit RLIMIT_NOFILE: hard limit " +
                               std::to_string(own.rlim_max + 1) + " above the caller's " +
                               std::to_string(own.rlim_max) + " needs CAP_SYS_RESOURCE") == 0);
      return 0;
    });
  }

  TEST_CASE("rlimit: refusals name the setting and start nothing") {
    NSFUN_CHECK_CHILD([] {
      const std::error_code einval = std::make_error_code(std::errc::invalid_argument);
      NSFUN_EXPECT(refused(Command("/bin/true").rlimit(99, 1, 1), einval,
                           "spawn: rlimit 99: not a resource") == 0);
      NSFUN_EXPECT(refused(Command("/bin/true").rlimit(-1, 1, 1), einval,
                           "spawn: rlimit -1: not a resource") == 0);
      NSFUN_EXPECT(refused(Command("/bin/true").rlimit(RLIMIT_NOFILE, 10, 5), einval,
                           "spawn: rlimit RLIMIT_NOFILE: soft limit 10 above hard limit 5") == 0);
      NSFUN_EXPECT(refused(Command("/bin/true").rlimit(RLIMIT_CORE, RLIM_INFINITY, 5), einval,
                           "spawn: rlimit RLIMIT_CORE: soft limit unlimited above hard limit 5") ==
                   0);
      const std::string nr_open =
          nsfun::test::split_words(nsfun::test::read_text("/proc/sys/fs/nr_open")).at(0);
      const rlim_t above = std::strtoull(nr_open.c_str(), nullptr, 10) + 1;
      NSFUN_EXPECT(refused(Command("/bin/true").rlimit(RLIMIT_NOFILE, 1, above), einval,
                           "spawn: rlimit RLIMIT_NOFILE: hard limit " + std::to_string(above) +
                               " above /proc/sys/fs/nr_open (" + nr_open + ")") == 0);
      return 0;
    });
  }

  TEST_CASE("rlimit: an unprivileged caller cannot raise a hard limit, even as root of a userns") {
    NSFUN_REQUIRE(nsfun::test::can_unshare_unprivileged({NsType::user, NsType::mnt, NsType::pid}),
                  "needs unprivileged user namespaces (and root to become nobody)");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(nsfun::test::drop_privileges() == 0);
      struct rlimit own {};

      NSFUN_EXPECT(::getrlimit(RLIMIT_CORE, &own) == 0);
      // Lower the caller's own hard limit first, so that one above it exists.
      own.rlim_max = own.rlim_cur = 1000;
      NSFUN_EXPECT(::setrlimit(RLIMIT_CORE, &own) == 0);
      NSFUN_EXPECT(refused(rootless(Command("/bin/true")).rlimit(RLIMIT_CORE, 0, 2000),
                           std::make_error_code(std::errc::operation_not_permitted),
                           "spawn: rlimit RLIMIT_CORE: hard limit 2000 above the caller's 1000 "
                           "needs CAP_SYS_RESOURCE") == 0);
      // Lowering is anyone's right.
      const std::string limits =
          output_of(rootless(shell("grep 'Max core file size' /proc/self/limits"))
                        .rlimit(RLIMIT_CORE, 0, 500));
      NSFUN_EXPECT(nsfun::test::split_words(limits) ==
                   (std::vector<std::string>{"Max", "core", "file", "size", "0", "500", "bytes"}));
      return 0;
    });
  }

  TEST_CASE("oom_score_adj: the child and its init have it, as choom -n sets it") {
    const std::string mine = output_of(shell("cat /proc/self/oom_score_adj").oom_score_adj(500));
    CHECK(mine == "500\n");
    if (nsfun::test::have_program("choom")) {
      CHECK(mine == nsfun::test::run("choom -n 500 -- cat /proc/self/oom_score_adj").out);
    }
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::user, NsType::pid, NsType::mnt}), "needs root");
    // Negative where the caller may lower it (CAP_SYS_RESOURCE); a sandbox's root may not.
    const int value = has_sys_resource() ? -500 : 300;
    const std::string text = std::to_string(value) + "\n";
    CHECK(output_of(shell("cat /proc/self/oom_score_adj /proc/1/oom_score_adj")
                        .namespaces({NsType::user, NsType::pid, NsType::mnt})
                        .user_map(nsfun::UserMap::root_is(0, 0).value())
                        .mount_proc()
                        .init()
                        .oom_score_adj(value)) == text + text);
  }

  TEST_CASE("oom_score_adj: refusals name the setting and start nothing") {
    NSFUN_CHECK_CHILD([] {
      const std::error_code einval = std::make_error_code(std::errc::invalid_argument);
      NSFUN_EXPECT(refused(Command("/bin/true").oom_score_adj(1001), einval,
                           "spawn: oom_score_adj 1001: outside -1000..1000") == 0);
      NSFUN_EXPECT(refused(Command("/bin/true").oom_score_adj(-1001), einval,
                           "spawn: oom_score_adj -1001: outside -1000..1000") == 0);
      return 0;
    });
  }

  TEST_CASE("oom_score_adj: lowering it unprivileged fails with the kernel's word, nothing left") {
    NSFUN_REQUIRE(nsfun::test::can_unshare_unprivileged({NsType::user, NsType::mnt, NsType::pid}),
                  "needs unprivileged user namespaces (and root to become nobody)");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(nsfun::test::drop_privileges() == 0);
      // Raise it first: lowering back to the start is allowed, below is not.
      std::FILE* f = std::fopen("/proc/self/oom_score_adj", "we");
      NSFUN_EXPECT(f != nullptr);
      std::fputs("100", f);
      NSFUN_EXPECT(std::fclose(f) == 0);
      NSFUN_EXPECT(output_of(shell("cat /proc/self/oom_score_adj").oom_score_adj(50)) == "50\n");
      const std::size_t fds = nsfun::test::open_fd_count();
      auto r = nsfun::spawn(rootless(Command("/bin/true")).oom_score_adj(-500));
      NSFUN_EXPECT(!r);
      NSFUN_EXPECT(r.error() == std::errc::permission_denied);
      const std::string m = r.error().message();
      NSFUN_EXPECT(m.rfind("write /proc/", 0) == 0);
      NSFUN_EXPECT(m.find("/oom_score_adj -500: below the lowest value the caller had, which "
                          "needs CAP_SYS_RESOURCE") != std::string::npos);
      NSFUN_EXPECT(no_children());
      NSFUN_EXPECT(nsfun::test::open_fd_count() == fds);
      return 0;
    });
  }

  TEST_CASE("setsid: the child leads a new session and process group, as setsid(1)") {
    const std::string stat = output_of(Command("/bin/cat").arg("/proc/self/stat").setsid());
    const long long pid = stat_field(stat, 1);
    REQUIRE(pid > 0);
    CHECK(stat_field(stat, 5) == pid);
    CHECK(stat_field(stat, 6) == pid);
    CHECK(stat_field(stat, 7) == 0);  // no controlling terminal
    const std::string plain = output_of(Command("/bin/cat").arg("/proc/self/stat"));
    CHECK(stat_field(plain, 6) == ::getsid(0));
    if (nsfun::test::have_program("setsid")) {
      // setsid(1) forks when it is a process group leader; either way its program leads.
      const std::string tool = nsfun::test::run("setsid cat /proc/self/stat").out;
      CHECK(stat_field(tool, 6) == stat_field(tool, 1));
    }
  }

  TEST_CASE("controlling_terminal: a pty becomes the child's terminal, a non-tty is refused") {
    const int master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    REQUIRE(master >= 0);
    auto m = nsfun::UniqueFd::adopt(master);  // owns: just opened
    REQUIRE(::grantpt(master) == 0);
    REQUIRE(::unlockpt(master) == 0);
    const char* name = ::ptsname(master);
    REQUIRE(name != nullptr);
    auto slave = nsfun::UniqueFd::adopt(::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC));  // owns
    REQUIRE(slave);

    struct stat st {};

    REQUIRE(::fstat(slave.get(), &st) == 0);
    const std::string stat =
        output_of(Command("/bin/cat").arg("/proc/self/stat").controlling_terminal(slave));
    const long long pid = stat_field(stat, 1);
    REQUIRE(pid > 0);
    CHECK(stat_field(stat, 6) == pid);
    CHECK(stat_field(stat, 7) == static_cast<long long>(st.st_rdev));
    // A second session cannot take it while the first... has ended: it is free again.
    CHECK(output_of(Command("/bin/true").controlling_terminal(slave)).empty());

    NSFUN_CHECK_CHILD([] {
      int p[2];
      NSFUN_EXPECT(::pipe2(p, O_CLOEXEC) == 0);
      auto r = nsfun::UniqueFd::adopt(p[0]);  // owns: just made
      auto w = nsfun::UniqueFd::adopt(p[1]);  // owns: just made
      NSFUN_EXPECT(refused(Command("/bin/true").controlling_terminal(r),
                           std::make_error_code(std::errc::inappropriate_io_control_operation),
                           "spawn controlling_terminal fd " + std::to_string(r.get()) +
                               ": not a terminal") == 0);
      NSFUN_EXPECT(refused(Command("/bin/true").controlling_terminal(nsfun::FdRef(900)),
                           std::make_error_code(std::errc::bad_file_descriptor),
                           "spawn controlling_terminal fd 900: not an open fd") == 0);
      return 0;
    });
  }

  TEST_CASE("capture: both streams, a megabyte each, stderr first, without a deadlock") {
    // 1 MB on stderr before anything on stdout: a caller that read stdout to its end first would
    // wait forever on a child blocked writing to a full stderr pipe.
    auto child = nsfun::spawn(
        shell("head -c 1000000 /dev/zero | tr '\\0' e >&2; head -c 1000000 /dev/zero | tr "
              "'\\0' o; exit 3")
            .capture_stdout()
            .capture_stderr());
    REQUIRE(child);
    CHECK(child.value().stdout_pipe().get() >= 0);
    CHECK(child.value().stderr_pipe().get() >= 0);
    auto out = child.value().wait_with_output();
    REQUIRE(out);
    CHECK(out.value().status == nsfun::ExitStatus{3, 0});
    CHECK(out.value().out == std::string(1000000, 'o'));
    CHECK(out.value().err == std::string(1000000, 'e'));
    CHECK(child.value().stdout_pipe().get() == -1);
    CHECK(child.value().stderr_pipe().get() == -1);
  }

  TEST_CASE("capture: a function's writes, a stream not captured, and the fds left") {
    const std::size_t fds = nsfun::test::open_fd_count();
    {
      auto child = nsfun::spawn(Command(std::function<int()>([] {
                                  (void)!::write(2, "to err\n", 7);
                                  return 0;
                                })).capture_stderr());
      REQUIRE(child);
      CHECK(child.value().stdout_pipe().get() == -1);
      auto out = child.value().wait_with_output();
      REQUIRE(out);
      CHECK(out.value().status.success());
      CHECK(out.value().out.empty());
      CHECK(out.value().err == "to err\n");
    }
    {
      auto child = nsfun::spawn(Command("/bin/true"));
      REQUIRE(child);
      auto out = child.value().wait_with_output();
      REQUIRE(out);
      CHECK(out.value().status.success());
      CHECK(child.value().wait_with_output().error() == std::errc::no_child_process);
    }
    {
      // Dropped without reading: the destructor kills, reaps and closes.
      auto child = nsfun::spawn(Command("/bin/sleep").arg("60").capture_stdout().capture_stderr());
      REQUIRE(child);
    }
    CHECK(nsfun::test::open_fd_count() == fds);
  }

  TEST_CASE("capture: the output ends with the program under a minimal init") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::pid, NsType::mnt}), "needs CAP_SYS_ADMIN");
    auto child = nsfun::spawn(Command("/bin/echo")
                                  .arg("hello")
                                  .namespaces({NsType::pid, NsType::mnt})
                                  .init()
                                  .capture_stdout());
    REQUIRE(child);
    auto out = child.value().wait_with_output();
    REQUIRE(out);
    CHECK(out.value().status.success());
    CHECK(out.value().out == "hello\n");
  }

  TEST_CASE("capture: refused with a redirect of the same fd") {
    NSFUN_CHECK_CHILD([] {
      const std::error_code einval = std::make_error_code(std::errc::invalid_argument);
      NSFUN_EXPECT(
          refused(Command("/bin/true").capture_stdout().redirect(1, nsfun::FdRef(2)), einval,
                  "spawn: capture_stdout cannot be combined with a redirect of fd 1") == 0);
      NSFUN_EXPECT(
          refused(Command("/bin/true").capture_stderr().redirect(2, nsfun::FdRef(1)), einval,
                  "spawn: capture_stderr cannot be combined with a redirect of fd 2") == 0);
      return 0;
    });
  }

  TEST_CASE("init: PID 1 is called init, without the launcher's command line or environment") {
    auto check = [](Command cmd) {
      const std::string out = output_of(
          std::move(cmd.arg("-c")
                        .arg("cat /proc/1/comm; od -An -c /proc/1/cmdline; "
                             "wc -c < /proc/1/environ; tr -d '\\0' < /proc/1/environ | wc -c")
                        .mount_proc()
                        .init()));
      const auto words = nsfun::test::split_words(out);
      // comm, then the cmdline's characters as od prints them, then the environ's sizes: its
      // length as the kernel gives it, and what is left without the NULs (nothing).
      CHECK_MESSAGE(words == (std::vector<std::string>{"init", "i", "n", "i", "t", "\\0",
                                                       words.size() > 6 ? words[6] : "", "0"}),
                    out);
      CHECK(out.find("nsfun") == std::string::npos);
    };
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::pid, NsType::mnt}), "needs CAP_SYS_ADMIN");
    check(Command("/bin/sh").namespaces({NsType::pid, NsType::mnt}));
    NSFUN_REQUIRE(nsfun::test::can_unshare_unprivileged({NsType::user, NsType::mnt, NsType::pid}),
                  "needs unprivileged user namespaces (and root to become nobody)");
    NSFUN_CHECK_CHILD([&check] {
      NSFUN_EXPECT(nsfun::test::drop_privileges() == 0);
      check(rootless(Command("/bin/sh")));
      return 0;
    });
  }
}
