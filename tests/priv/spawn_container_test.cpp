// SPDX-License-Identifier: MIT
// nsfun tests – spawn.hpp's container settings (issue 15): no_new_privs, rlimit, oom_score_adj,
// setsid, controlling_terminal, the captured stdout and stderr, the minimal init's name; each
// read back from the kernel inside the child, as root and rootless, compared with the
// util-linux tool that does the same (setpriv, prlimit, choom, setsid), and each refusal
// checked to leave no process and no fd behind.

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
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

#include <nsfun/capabilities.hpp>
#include <nsfun/container_fs.hpp>
#include <nsfun/ns_fd.hpp>
#include <nsfun/seccomp.hpp>
#include <nsfun/spawn.hpp>
#include <nsfun/user_map.hpp>

#include "busybox_rootfs.hpp"
#include "test_support.hpp"

using nsfun::Capabilities;
using nsfun::CapSet;
using nsfun::Command;
using nsfun::ContainerFs;
using nsfun::NsType;
using nsfun::SeccompFilter;

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

// The number of lines of /proc/self/mountinfo: the caller's mounts.
std::size_t mount_count() {
  const std::string text = nsfun::test::read_text("/proc/self/mountinfo");
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

// A capability set as /proc/PID/status prints it: "00000000a80425fb".
std::string hex(CapSet set) {
  char text[24];
  std::snprintf(text, sizeof(text), "%016llx", static_cast<unsigned long long>(set.bits()));
  return text;
}

// A host directory with one file, for a bind into the container; removed at the end.
struct HostData {
  std::filesystem::path dir;

  HostData() {
    char tmpl[] = "/tmp/nsfun-test-data-XXXXXX";
    if (::mkdtemp(tmpl) != nullptr) {
      dir = tmpl;
      ::chmod(tmpl, 0755);
      std::ofstream(dir / "file") << "from the host\n";
      ::chmod((dir / "file").c_str(), 0644);
    }
  }

  HostData(const HostData&) = delete;
  HostData& operator=(const HostData&) = delete;

  ~HostData() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

// What the container reports about itself, one fact a line, read from the kernel.
constexpr const char* readback_script =
    "grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):' /proc/self/status; "
    "echo \"id: $(id)\"; "
    "echo \"nofile: $(grep 'Max open files' /proc/self/limits)\"; "
    "echo \"oom: $(cat /proc/self/oom_score_adj)\"; "
    "echo \"root: $(grep -E '^[0-9]+ [0-9]+ [0-9:]+ [^ ]+ / ' /proc/self/mountinfo)\"; "
    "echo \"dev: $(ls /dev | tr '\\n' ' ')\"; "
    "echo \"devtypes: $(ls -l /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty | "
    "cut -c1 | tr -d '\\n')\"; "
    "echo \"write root: $(touch /newfile 2>&1)\"; "
    "echo \"write tmp: $(touch /tmp/x 2>&1 && echo ok)\"; "
    "echo \"data: $(cat /data/file)\"; "
    "echo \"write data: $(touch /data/new 2>&1)\"; "
    "echo \"keys: $(wc -c < /proc/keys)\"; "
    "echo \"procsys: $( (echo x > /proc/sys/kernel/domainname) 2>&1)\"; "
    "echo \"denied: $(hostname nsfun-denied 2>&1)\"; "
    "echo \"pid1: $(cat /proc/1/comm)\"";

// The container every readback test starts: a busybox root with all of issue 15's settings.
Command container(const nsfun::test::BusyboxRootfs& root, const HostData& data) {
  return std::move(
      Command("/bin/sh")
          .arg("-c")
          .arg(readback_script)
          .namespaces({NsType::mnt, NsType::pid, NsType::uts, NsType::ipc})
          .rootfs(root.path())
          .mount_proc()
          .init()
          .clear_env()
          .env("PATH", "/bin")
          .filesystem(std::move(ContainerFs()
                                    .read_only_root()
                                    .minimal_dev()
                                    .default_masks()
                                    .tmpfs("/tmp", "mode=1777")
                                    .bind(data.dir.string(), "/data", {.read_only = true})))
          .capabilities(Capabilities::container_default())
          .no_new_privs()
          .seccomp(std::move(SeccompFilter::container_default().deny("sethostname", EXDEV)))
          .rlimit(RLIMIT_NOFILE, 256, 512)
          .oom_score_adj(200)
          .capture_stdout()
          .capture_stderr());
}

// The facts of readback_script as a map from their label to the rest of the line.
std::map<std::string, std::string> facts(const std::string& out) {
  std::map<std::string, std::string> m;
  for (std::size_t pos = 0; pos < out.size();) {
    std::size_t end = out.find('\n', pos);
    if (end == std::string::npos) {
      end = out.size();
    }
    const std::string line = out.substr(pos, end - pos);
    const std::size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::size_t value = line.find_first_not_of(" \t", colon + 1);
      m[line.substr(0, colon)] = value == std::string::npos ? "" : line.substr(value);
    }
    pos = end + 1;
  }
  return m;
}

// Checks what a container of container() reported; `rootless`: made by nobody in a user
// namespace (the same facts, where /dev's nodes are bound from the host).
void check_readback(const nsfun::Output& o, bool rootless) {
  INFO("rootless: " << rootless << "\nstdout:\n" << o.out << "stderr:\n" << o.err);
  CHECK(o.status.success());
  auto f = facts(o.out);
  const std::string keep = hex(CapSet::container_default());
  CHECK(f["CapBnd"] == keep);
  CHECK(f["CapEff"] == keep);
  CHECK(f["CapPrm"] == keep);
  CHECK(f["CapInh"] == "0000000000000000");
  CHECK(f["CapAmb"] == "0000000000000000");
  CHECK(keep == "00000000a80425fb");  // what docker run shows
  CHECK(f["NoNewPrivs"] == "1");
  CHECK(f["Seccomp"] == "2");
  CHECK(f["id"] == "uid=0(root) gid=0(root)");
  CHECK(nsfun::test::split_words(f["nofile"]) ==
        std::vector<std::string>{"Max", "open", "files", "256", "512", "files"});
  CHECK(f["oom"] == "200");
  // The root's mount options (field 6) start with ro.
  const auto root_fields = nsfun::test::split_words(f["root"]);
  REQUIRE(root_fields.size() > 5);
  CHECK(root_fields[5].rfind("ro,", 0) == 0);
  for (const char* node : {"null", "zero", "full", "random", "urandom", "tty", "pts", "shm", "ptmx",
                           "fd", "stdin", "stdout", "stderr"}) {
    CHECK_MESSAGE(f["dev"].find(std::string(node) + " ") != std::string::npos, node);
  }
  CHECK(f["devtypes"] == "cccccc");
  CHECK(f["write root"] == "touch: /newfile: Read-only file system");
  CHECK(f["write tmp"] == "ok");
  CHECK(f["data"] == "from the host");
  CHECK(f["write data"] == "touch: /data/new: Read-only file system");
  CHECK(f["keys"] == "0");  // masked: /dev/null bound over it
  CHECK(f["procsys"] == "/bin/sh: can't create /proc/sys/kernel/domainname: Read-only file system");
  CHECK(f["denied"] == "hostname: sethostname: Invalid cross-device link");  // EXDEV, the filter's
  CHECK(f["pid1"] == "init");
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
    // setsid(false) after it cannot take away the session the terminal needs.
    const std::string again = output_of(
        Command("/bin/cat").arg("/proc/self/stat").controlling_terminal(slave).setsid(false));
    CHECK(stat_field(again, 7) == static_cast<long long>(st.st_rdev));
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

  TEST_CASE("a container from scratch as root: every setting read back from the kernel") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::mnt, NsType::pid, NsType::uts, NsType::ipc}),
                  "needs root");
    NSFUN_REQUIRE(nsfun::test::BusyboxRootfs::available(), "needs busybox-static");
    nsfun::test::BusyboxRootfs root;
    REQUIRE(root);
    HostData data;
    const std::size_t mounts = mount_count();
    const std::size_t fds = nsfun::test::open_fd_count();
    {
      auto child = nsfun::spawn(container(root, data));
      REQUIRE_MESSAGE(child, child.error().message());
      auto out = child.value().wait_with_output();
      REQUIRE(out);
      check_readback(out.value(), /*rootless=*/false);
    }
    CHECK(mount_count() == mounts);
    CHECK(nsfun::test::open_fd_count() == fds);
    CHECK_FALSE(root.has_mounts_inside());
  }

  TEST_CASE("a container from scratch rootless: nobody with a user namespace, read back") {
    NSFUN_REQUIRE(nsfun::test::can_unshare_unprivileged(
                      {NsType::user, NsType::mnt, NsType::pid, NsType::uts, NsType::ipc}),
                  "needs unprivileged user namespaces (and root to become nobody)");
    NSFUN_REQUIRE(nsfun::test::BusyboxRootfs::available(), "needs busybox-static");
    nsfun::test::BusyboxRootfs root;
    REQUIRE(root);
    // A rootless runtime's rootfs belongs to its user (root of the user namespace).
    for (const auto& e : std::filesystem::recursive_directory_iterator(root.dir())) {
      REQUIRE(::lchown(e.path().c_str(), 65534, 65534) == 0);
    }
    REQUIRE(::lchown(root.path().c_str(), 65534, 65534) == 0);
    HostData data;
    const std::size_t mounts = mount_count();
    NSFUN_CHECK_CHILD([&] {
      NSFUN_EXPECT(nsfun::test::drop_privileges() == 0);
      const std::size_t fds = nsfun::test::open_fd_count();
      Command cmd = container(root, data);
      cmd.namespaces({NsType::user, NsType::mnt, NsType::pid, NsType::uts, NsType::ipc})
          .user_map(nsfun::UserMap::root_is(65534, 65534).value());
      {
        auto child = nsfun::spawn(cmd);
        NSFUN_EXPECT_OK(child);
        auto out = child.value().wait_with_output();
        NSFUN_EXPECT_OK(out);
        check_readback(out.value(), /*rootless=*/true);
      }
      NSFUN_EXPECT(no_children());
      NSFUN_EXPECT(nsfun::test::open_fd_count() == fds);
      return 0;
    });
    CHECK(mount_count() == mounts);
    CHECK_FALSE(root.has_mounts_inside());
  }

  TEST_CASE("a non-root user keeps an ambient capability across its exec, as only asked") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::user, NsType::mnt, NsType::pid}), "needs root");
    const CapSet keep = CapSet::parse("cap_net_bind_service").value();
    const std::string out =
        output_of(shell("id -u; grep -E '^Cap(Eff|Prm|Inh|Amb|Bnd):' /proc/self/status")
                      .namespaces({NsType::user, NsType::mnt, NsType::pid})
                      .user_map(nsfun::UserMap{nsfun::IdMap::single(0, 0, 65536).value(),
                                               nsfun::IdMap::single(0, 0, 65536).value(), false})
                      .uid(1000)
                      .gid(1000)
                      .groups({})
                      .capabilities(Capabilities{keep, keep, keep, keep, keep}));
    auto f = facts("uid: " + out);
    CHECK(f["uid"] == "1000");
    for (const char* set : {"CapEff", "CapPrm", "CapInh", "CapAmb", "CapBnd"}) {
      CHECK_MESSAGE(f[set] == hex(keep), set);
    }
  }

  TEST_CASE("container settings: refusals name the setting, start nothing, leave no fd") {
    NSFUN_REQUIRE(nsfun::test::BusyboxRootfs::available(), "needs busybox-static");
    nsfun::test::BusyboxRootfs root;
    REQUIRE(root);
    const std::size_t mounts = mount_count();
    NSFUN_CHECK_CHILD([&] {
      const std::error_code einval = std::make_error_code(std::errc::invalid_argument);
      NSFUN_EXPECT(refused(Command("/bin/true").filesystem(ContainerFs().read_only_root()), einval,
                           "spawn: filesystem needs rootfs() (the mounts would land on the "
                           "caller's tree)") == 0);
      NSFUN_EXPECT(refused(
                       Command("/bin/true")
                           .capabilities(Capabilities{CapSet::all(), CapSet::all(), CapSet::all(),
                                                      CapSet::none(), CapSet::all()}),
                       einval, "spawn: " + [] {
                         auto r = Capabilities{CapSet::all(), CapSet::all(), CapSet::all(),
                                               CapSet::none(), CapSet::all()}
                                      .check();
                         return r ? std::string("(accepted)") : r.error().message();
                       }()) == 0);
      NSFUN_EXPECT(refused(Command("/bin/true")
                               .capabilities(Capabilities::container_default())
                               .namespaces({NsType::user})
                               .keep_caps(),
                           einval,
                           "spawn: keep_caps cannot be combined with capabilities (its ambient "
                           "set says what is kept)") == 0);
      NSFUN_EXPECT(refused(Command("/bin/true")
                               .capabilities(Capabilities::container_default())
                               .seccomp(SeccompFilter::container_default()),
                           einval,
                           "spawn: seccomp needs no_new_privs() or CAP_SYS_ADMIN kept "
                           "(capabilities() drops it)") == 0);
      NSFUN_EXPECT(refused(Command("/bin/true").uid(65534).seccomp(SeccompFilter::deny_list()),
                           einval,
                           "spawn: seccomp needs no_new_privs() or CAP_SYS_ADMIN kept (uid() "
                           "drops it)") == 0);
      NSFUN_EXPECT(refused(Command("/bin/true")
                               .no_new_privs()
                               .seccomp(std::move(SeccompFilter::deny_list().deny("no_such_call"))),
                           nsfun::make_error_code(nsfun::errc::invalid_name), [] {
                             auto r = SeccompFilter::deny_list().deny("no_such_call").compile();
                             return r ? std::string("(accepted)") : "spawn: " + r.error().message();
                           }()) == 0);
      // A bind source that does not exist: the parent's check, named by the setting.
      const std::size_t fds = nsfun::test::open_fd_count();
      auto r =
          nsfun::spawn(Command("/bin/sh")
                           .namespaces({NsType::mnt})
                           .rootfs(root.path())
                           .filesystem(ContainerFs().bind("/nonexistent-nsfun-test", "/data")));
      NSFUN_EXPECT(!r);
      const std::string m = r.error().message();
      NSFUN_EXPECT(m.rfind("spawn: ", 0) == 0);
      NSFUN_EXPECT(m.find("/nonexistent-nsfun-test") != std::string::npos);
      NSFUN_EXPECT(m.find("bind") != std::string::npos);
      NSFUN_EXPECT(r.error() == std::errc::no_such_file_or_directory);
      NSFUN_EXPECT(no_children());
      NSFUN_EXPECT(nsfun::test::open_fd_count() == fds);
      return 0;
    });
    CHECK(mount_count() == mounts);
    CHECK_FALSE(root.has_mounts_inside());
  }

  TEST_CASE("filesystem with a joined mount namespace is refused: its processes would see it") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::mnt}), "needs CAP_SYS_ADMIN");
    NSFUN_REQUIRE(nsfun::test::BusyboxRootfs::available(), "needs busybox-static");
    nsfun::test::BusyboxRootfs root;
    REQUIRE(root);
    auto holder = nsfun::spawn(Command::hold().namespaces({NsType::mnt}));
    REQUIRE(holder);
    auto mnt = nsfun::NsFd::open(holder.value().pid(), NsType::mnt);
    REQUIRE(mnt);
    NSFUN_CHECK_CHILD([&] {
      return refused(Command("/bin/true")
                         .join(mnt.value())
                         .rootfs(root.path())
                         .filesystem(ContainerFs().minimal_dev()),
                     nsfun::errc::namespace_not_new, "spawn: filesystem needs a new mnt namespace");
    });
  }

  TEST_CASE("a failure in the child leaves no process, mount or fd: seccomp without the right") {
    NSFUN_REQUIRE(nsfun::test::can_drop_privileges(), "needs root to become nobody");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(nsfun::test::drop_privileges() == 0);
      // nobody without a user namespace has no CAP_SYS_ADMIN: the kernel refuses the filter.
      const std::size_t fds = nsfun::test::open_fd_count();
      auto r = nsfun::spawn(Command("/bin/true").seccomp(SeccompFilter::container_default()));
      NSFUN_EXPECT(!r);
      NSFUN_EXPECT(r.error() == std::errc::permission_denied);
      const std::string m = r.error().message();
      NSFUN_EXPECT(m.rfind("seccomp", 0) == 0);
      NSFUN_EXPECT(no_children());
      NSFUN_EXPECT(nsfun::test::open_fd_count() == fds);
      return 0;
    });
  }

  TEST_CASE("a failure in a container's child leaves no process, mount or fd: a refused bind") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::mnt, NsType::pid}), "needs CAP_SYS_ADMIN");
    NSFUN_REQUIRE(nsfun::test::BusyboxRootfs::available(), "needs busybox-static");
    nsfun::test::BusyboxRootfs root;
    REQUIRE(root);
    HostData data;
    const std::size_t mounts = mount_count();
    NSFUN_CHECK_CHILD([&] {
      const std::size_t fds = nsfun::test::open_fd_count();
      // The program does not exist in the root: everything is mounted, then execve fails.
      auto r =
          nsfun::spawn(Command("/bin/nsfun-no-such-program")
                           .namespaces({NsType::mnt, NsType::pid})
                           .rootfs(root.path())
                           .mount_proc()
                           .init()
                           .filesystem(std::move(
                               ContainerFs().read_only_root().minimal_dev().default_masks().bind(
                                   data.dir.string(), "/data")))
                           .capabilities(Capabilities::container_default())
                           .no_new_privs()
                           .seccomp(SeccompFilter::container_default()));
      NSFUN_EXPECT(!r);
      NSFUN_EXPECT(r.error() == std::errc::no_such_file_or_directory);
      NSFUN_EXPECT(no_children());
      NSFUN_EXPECT(nsfun::test::open_fd_count() == fds);
      return 0;
    });
    CHECK(mount_count() == mounts);
    CHECK_FALSE(root.has_mounts_inside());
  }

  TEST_CASE("Command(fn) runs after every step: in the root, with the identity, caps and filter") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::mnt, NsType::pid}), "needs CAP_SYS_ADMIN");
    NSFUN_REQUIRE(nsfun::test::BusyboxRootfs::available(), "needs busybox-static");
    nsfun::test::BusyboxRootfs root;
    REQUIRE(root);
    NSFUN_CHECK_CHILD([&] {
      // The caller's environment is the function's (the init renames only its own copy).
      NSFUN_EXPECT(::setenv("NSFUN_TEST_FN", "kept", 1) == 0);
      auto child = nsfun::spawn(
          Command(std::function<int()>([] {
            // Single-threaded caller: the function may allocate and use stdio.
            const std::string status = nsfun::test::read_text("/proc/self/status");
            const std::string report =
                line_of(status, "CapEff:") + "\n" + line_of(status, "NoNewPrivs:") + "\n" +
                line_of(status, "Seccomp:") + "\nuid: " + std::to_string(::getuid()) +
                "\nbusybox: " + (::access("/bin/busybox", X_OK) == 0 ? "yes" : "no") + "\nenv: " +
                (::getenv("NSFUN_TEST_FN") != nullptr ? ::getenv("NSFUN_TEST_FN") : "") +
                "\npid: " + std::to_string(::getpid()) +
                "\nsethostname: " + (::sethostname("x", 1) < 0 ? std::strerror(errno) : "ok") +
                "\n";
            (void)!::write(1, report.data(), report.size());
            return 0;
          }))
              .namespaces({NsType::mnt, NsType::pid, NsType::uts})
              .rootfs(root.path())
              .mount_proc()
              .init()
              .capabilities(Capabilities::only(CapSet::parse("cap_kill,cap_setuid").value()))
              .no_new_privs()
              .seccomp(std::move(SeccompFilter::deny_list().deny("sethostname", EXDEV)))
              .capture_stdout());
      NSFUN_EXPECT_OK(child);
      auto out = child.value().wait_with_output();
      NSFUN_EXPECT_OK(out);
      NSFUN_EXPECT(out.value().status.success());
      auto f = facts(out.value().out);
      NSFUN_EXPECT(f["CapEff"] == hex(CapSet::parse("cap_kill,cap_setuid").value()));
      NSFUN_EXPECT(f["NoNewPrivs"] == "1");
      NSFUN_EXPECT(f["Seccomp"] == "2");
      NSFUN_EXPECT(f["uid"] == "0");
      NSFUN_EXPECT(f["busybox"] == "yes");  // the new root
      NSFUN_EXPECT(f["env"] == "kept");
      NSFUN_EXPECT(f["pid"] == "2");                           // the init is 1
      NSFUN_EXPECT(f["sethostname"] == std::strerror(EXDEV));  // the filter, not the kernel
      return 0;
    });
    CHECK_FALSE(root.has_mounts_inside());
  }
}
