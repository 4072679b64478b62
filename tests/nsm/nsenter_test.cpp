// SPDX-License-Identifier: MIT
// End-to-end tests of nsm enter/exec as a drop-in for nsenter(1) (util-linux) and for
// `ip netns exec` (iproute2): each case runs nsm and the real tool on the same target and
// compares what the command saw. The targets are processes this test starts (sleep in new
// namespaces), killed when the case ends; named sets and `ip netns` names are nsfun-test-…,
// made inside a child with a private /run and removed again.

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include <fcntl.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <nsfun/nsfun.hpp>

#include "nsm_support.hpp"
#include "test_support.hpp"

namespace {

using nsfun::Command;
using nsfun::NsType;
using nsfun::test::read_text;
using nsfun::test::run;

using nsm_test::nsm;

// A sleeping process in new namespaces, killed and reaped when the test ends.
struct Target {
  nsfun::Child child;

  explicit Target(Command cmd) {
    auto c = nsfun::spawn(cmd.arg("1000"));
    if (c) {
      child = std::move(c).value();
    }
  }

  [[nodiscard]] std::string pid() const { return std::to_string(child.pid()); }
};

Command sleeper() {
  return Command("/bin/sleep");
}

// A user namespace where 0..65535 are 100000..165535 outside: the caller (root outside) is
// unmapped there, so that only a setuid/setgid inside makes it root.
nsfun::UserMap shifted_map() {
  auto ids = nsfun::IdMap::single(0, 100000, 65536);
  return nsfun::UserMap{ids.value(), ids.value(), false};
}

// `nsm enter ARGS` and `nsenter ARGS`, both with stderr; true when they print the same and exit
// the same. Prints both when they differ.
bool same_as_nsenter(const std::string& args) {
  auto ours = run(nsm + " enter " + args + " 2>&1");
  auto theirs = run("nsenter " + args + " 2>&1");
  if (ours.out != theirs.out || ours.status != theirs.status) {
    std::fprintf(stderr, "nsm enter %s: status %d\n%s\nnsenter: status %d\n%s\n", args.c_str(),
                 ours.status, ours.out.c_str(), theirs.status, theirs.out.c_str());
    return false;
  }
  return true;
}

// The words joined by single spaces.
std::string words(std::initializer_list<std::string_view> ws) {
  std::string out;
  for (std::string_view w : ws) {
    if (!out.empty()) {
      out += ' ';
    }
    out += w;
  }
  return out;
}

// Whether the installed nsenter knows `option` (-e, -c and --keep-caps came after 2.38).
bool nsenter_has(const std::string& option) {
  return run("nsenter --help 2>/dev/null | grep -q -- '" + option + "'").status == 0;
}

// The sorted lines of `text`.
std::vector<std::string> sorted_lines(const std::string& text) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at < text.size()) {
    std::size_t end = text.find('\n', at);
    if (end == std::string::npos) {
      end = text.size();
    }
    out.push_back(text.substr(at, end - at));
    at = end + 1;
  }
  std::sort(out.begin(), out.end());
  return out;
}

// What a shell prints about who it is.
constexpr const char* identity = "'id; grep -E \"^(Groups|CapEff|CapAmb):\" /proc/self/status'";

const bool root_with_nsenter = ::geteuid() == 0 && nsfun::test::have_program("nsenter") &&
                               nsfun::test::can_unshare({NsType::user, NsType::uts});

const bool can_netns = ::geteuid() == 0 && nsfun::test::have_program("ip") &&
                       nsfun::test::can_private_run() &&
                       nsfun::test::can_unshare({NsType::net, NsType::mnt, NsType::uts});

}  // namespace

TEST_SUITE("nsm enter as nsenter") {
  TEST_CASE("entering a user namespace makes the command root there, as nsenter") {
    NSFUN_REQUIRE(root_with_nsenter, "needs root, user namespaces and nsenter");
    Target t(sleeper().namespaces({NsType::user, NsType::uts}).user_map(shifted_map()));
    REQUIRE(t.child);
    const std::string p = t.pid();
    // Before: nsm enter PID ran the command as nobody (65534) with no capabilities.
    CHECK(run(nsm + " enter " + p + " sh -c " + identity).out ==
          run("nsenter -t " + p + " -a sh -c " + identity).out);
    CHECK(run(nsm + " enter " + p + " id -u").out == "0\n");
    CHECK(same_as_nsenter("-t " + p + " -a sh -c " + identity));
    CHECK(same_as_nsenter("-t " + p + " -U sh -c " + identity));
    CHECK(same_as_nsenter("-t " + p + " -a -F sh -c " + identity));
    CHECK(same_as_nsenter("-t " + p + " -a --preserve-credentials sh -c " + identity));
    CHECK(run(nsm + " enter " + p + " --preserve-credentials id -u").out == "65534\n");
    CHECK(same_as_nsenter("-t " + p + " -a -S 1000 -G 1000 sh -c " + identity));
    CHECK(same_as_nsenter("-t " + p + " -U --setuid=7 --setgid=8 sh -c " + identity));
    // An id the namespace does not map: both fail; nsm names the id.
    auto unmapped = run(nsm + " enter -t " + p + " -U -S 70000 true 2>&1");
    CHECK(unmapped.status == 1);
    CHECK(unmapped.out ==
          "nsm: true: setresuid uid 70000: not mapped in the child's user namespace\n");
    CHECK(run("nsenter -t " + p + " -U -S 70000 true 2>/dev/null").status != 0);
  }

  TEST_CASE("--keep-caps keeps the user namespace's capabilities for a non-root uid") {
    NSFUN_REQUIRE(root_with_nsenter, "needs root, user namespaces and nsenter");
    Target t(sleeper().namespaces({NsType::user}).user_map(shifted_map()));
    REQUIRE(t.child);
    const std::string p = t.pid();
    const std::string full = run(nsm + " enter " + p + " grep CapEff /proc/self/status").out;
    CHECK(full.find("CapEff:\t0000000000000000") == std::string::npos);
    const std::string kept =
        run(nsm + " enter -t " + p + " -U -S 1000 -G 1000 --keep-caps sh -c " + identity).out;
    CHECK(kept.rfind("uid=1000", 0) == 0);
    CHECK(kept.find(full.substr(std::string("CapEff:").size(), 17)) != std::string::npos);
    CHECK(kept.find("CapAmb:\t0000000000000000") == std::string::npos);
    const std::string dropped =
        run(nsm + " enter -t " + p + " -U -S 1000 -G 1000 sh -c " + identity).out;
    CHECK(dropped.find("CapEff:\t0000000000000000") != std::string::npos);
    if (nsenter_has("--keep-caps")) {
      CHECK(same_as_nsenter("-t " + p + " -U -S 1000 -G 1000 --keep-caps sh -c " + identity));
    }
  }

  TEST_CASE("namespace options of every type, with -t PID, a FILE, or clustered, as nsenter") {
    NSFUN_REQUIRE(
        root_with_nsenter && nsfun::test::can_unshare({NsType::mnt, NsType::ipc, NsType::net,
                                                       NsType::pid, NsType::cgroup}),
        "needs root and nsenter");
    Target t(sleeper()
                 .namespaces({NsType::mnt, NsType::uts, NsType::ipc, NsType::net, NsType::pid,
                              NsType::cgroup})
                 .hostname("nsft-target"));
    REQUIRE(t.child);
    const std::string p = t.pid();
    const std::string links =
        "sh -c 'for l in mnt uts ipc net pid cgroup user time pid_for_children; do "
        "readlink /proc/self/ns/$l; done'";
    for (const char* opts :
         {"-m", "-u", "-i", "-n", "-p", "-C", "-T", "-a", "-u -n", "-aF", "--uts --net",
          "--mount --pid", "--all", "-a -F", "-p -F", "-m -u -i -n -p -C"}) {
      CAPTURE(opts);
      CHECK(same_as_nsenter(words({"-t", p, opts, links})));
      CHECK(same_as_nsenter(words({"--target", p, opts, "hostname"})));
      CHECK(same_as_nsenter(words({"--target=" + p, opts, "hostname"})));
    }
    const std::string dir = "/proc/" + p + "/ns/";
    const std::vector<std::string> with_files = {
        words({"--uts=" + dir + "uts"}),
        words({"-u" + dir + "uts"}),
        words({"--net=" + dir + "net", "--uts=" + dir + "uts"}),
        words({"-t", p, "-u", "--net=" + dir + "net"}),
        words({"--mount=" + dir + "mnt"}),
        words({"--pid=" + dir + "pid"})};
    for (const std::string& opts : with_files) {
      CAPTURE(opts);
      CHECK(same_as_nsenter(words({opts, links})));
      CHECK(same_as_nsenter(words({opts, "hostname"})));
    }
    // The command's own options are its own, with or without --.
    CHECK(same_as_nsenter("-t " + p + " -u uname -n"));
    CHECK(same_as_nsenter("-t " + p + " -u -- uname -n"));
    CHECK(same_as_nsenter("-t " + p + " -n ip -br link"));
    CHECK(same_as_nsenter("-t " + p + " -a -S 1000 -G 1000 id"));
    CHECK(same_as_nsenter("-t " + p + " -u -F sh -c 'exit 3'"));
    CHECK(run(nsm + " enter -t " + p + " -p sh -c 'kill -9 $$'").status == 137);
  }

  TEST_CASE("nsm's own forms: PID or NAME first, --type, -t TYPES, and the command after it") {
    NSFUN_REQUIRE(root_with_nsenter, "needs root and nsenter");
    Target t(sleeper().namespaces({NsType::uts}).hostname("nsft-target"));
    REQUIRE(t.child);
    const std::string p = t.pid();
    CHECK(run(nsm + " enter " + p + " hostname").out == "nsft-target\n");
    CHECK(run(nsm + " enter " + p + " -- hostname").out == "nsft-target\n");
    CHECK(run(nsm + " enter " + p + " --type uts hostname -s").out == "nsft-target\n");
    CHECK(run(nsm + " enter " + p + " --type=uts -- hostname").out == "nsft-target\n");
    CHECK(run(nsm + " enter " + p + " -t uts uname -n").out == "nsft-target\n");
    CHECK(run(nsm + " enter " + p + " -u ls -d /").out == "/\n");
    CHECK(run(nsm + " shell " + p + " sh -c 'echo $0' -x").out == "-x\n");
    CHECK(run(nsm + " enter " + p + " echo -n -e --help").out == "--help");
    auto help = run(nsm + " enter --help");
    CHECK(help.status == 0);
    CHECK(help.out.find("--target PID") != std::string::npos);
    CHECK(help.out.find("--wd[=DIR]") != std::string::npos);
    CHECK(run(nsm + " enter " + p + " --help").out.find("--target PID") != std::string::npos);
  }

  TEST_CASE("--root, --wd and --wdns, as nsenter") {
    NSFUN_REQUIRE(root_with_nsenter && nsfun::test::can_unshare({NsType::mnt}),
                  "needs root and nsenter");
    Target t(sleeper().namespaces({NsType::mnt, NsType::uts}).cwd("/usr/share"));
    REQUIRE(t.child);
    const std::string p = t.pid();
    for (const char* opts : {"-w", "--wd", "-m -w", "-w/proc", "--wd=/proc", "-r", "-m -r", "-r -w",
                             "-r/ -w/etc", "--root=/ --wd=/etc", "-W /etc", "-m --wdns=/usr",
                             "--wdns=/usr", "-W/etc", "-r -W /usr", "-r/usr -W /share"}) {
      CAPTURE(opts);
      CHECK(same_as_nsenter("-t " + p + " -u " + opts + " pwd"));
    }
    CHECK(same_as_nsenter("-t " + p + " -u -r/usr ls -d /share /bin"));
    // Bad directories: one line, nothing run.
    auto missing = run(nsm + " enter -t " + p + " -u --root=/nsfun-test-none true 2>&1");
    CHECK(missing.status == 1);
    CHECK(missing.out == "nsm: --root /nsfun-test-none: No such file or directory\n");
    auto file = run(nsm + " enter -t " + p + " -u -w/etc/passwd true 2>&1");
    CHECK(file.status == 1);
    CHECK(file.out == "nsm: --wd /etc/passwd: Not a directory\n");
    auto both = run(nsm + " enter -t " + p + " -w -W / true 2>&1");
    CHECK(both.status == 2);
  }

  TEST_CASE("--env takes the target's environment") {
    NSFUN_REQUIRE(root_with_nsenter, "needs root and nsenter");
    Target t(
        sleeper().namespaces({NsType::uts}).clear_env().env("NSFT_A", "1 2").env("PATH", "/bin"));
    REQUIRE(t.child);
    const std::string p = t.pid();
    auto env = run(nsm + " enter -t " + p + " -u -e /usr/bin/env");
    CHECK(env.status == 0);
    CHECK(sorted_lines(env.out) == std::vector<std::string>{"NSFT_A=1 2", "PATH=/bin"});
    CHECK(run(nsm + " enter " + p + " --env /usr/bin/env").out == env.out);
    if (nsenter_has("--env")) {
      CHECK(same_as_nsenter("-t " + p + " -u -e /usr/bin/env"));
    }
    CHECK(run(nsm + " enter --uts=/proc/" + p + "/ns/uts -e true 2>&1").status == 2);
  }

  TEST_CASE("--join-cgroup runs the command in the target's cgroup v2") {
    NSFUN_REQUIRE(::geteuid() == 0 && nsfun::cgroup2_mount().has_value(), "needs root, cgroup2");
    auto root = nsfun::CgroupDir::open(nsfun::cgroup2_mount().value().c_str());
    REQUIRE(root);
    const std::string name = nsfun::test::unique_name();
    auto cg = nsfun::CgroupDir::create(root.value(), name.c_str());
    REQUIRE(cg);
    {
      Target t(sleeper().namespaces({NsType::uts}).cgroup(cg.value().fd()));
      REQUIRE(t.child);
      const std::string p = t.pid();
      const std::string theirs = read_text("/proc/" + p + "/cgroup");
      CHECK(theirs.find("0::/" + name + "\n") != std::string::npos);
      auto ours = run(nsm + " enter -t " + p + " -u -c grep ^0:: /proc/self/cgroup");
      CHECK(ours.out == "0::/" + name + "\n");
      CHECK(run(nsm + " enter -t " + p + " -u -c -F grep ^0:: /proc/self/cgroup").out ==
            "0::/" + name + "\n");
      // Without -c the command stays in ours.
      CHECK(run(nsm + " enter -t " + p + " -u grep ^0:: /proc/self/cgroup").out ==
            run("grep ^0:: /proc/self/cgroup").out);
    }
  }

  TEST_CASE("usage errors are one line and exit 2, bad files exit 1") {
    for (const char* args :
         {"-t", "-t 0", "-S x -t 1 true", "-G -1 -t 1 true", "-x 1", "--bogus 1", "--all=x -t 1",
          "-t 1 --target 1 true", "--type nope 1", "-e --net=/proc/self/ns/net true",
          "-r --net=/proc/self/ns/net true", "-t 1 --wdns /usr pwd", ""}) {
      CAPTURE(args);
      auto r = run(nsm + " enter " + args + " 2>&1");
      CHECK(r.status == 2);
      CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 2);  // the error and the hint
      CHECK(r.out.rfind("nsm: ", 0) == 0);
    }
    auto notns = run(nsm + " enter --net=/etc/passwd true 2>&1");
    CHECK(notns.status == 1);
    CHECK(notns.out.rfind("nsm: --net=/etc/passwd: ", 0) == 0);
    auto wrong = run(nsm + " enter --net=/proc/self/ns/uts true 2>&1");
    CHECK(wrong.status == 1);
  }
}

TEST_SUITE("nsm exec as ip netns exec") {
  TEST_CASE("a set with a network namespace: its /sys and /etc/netns/NAME, as ip netns exec") {
    NSFUN_REQUIRE(can_netns, "needs root, ip and private mounts");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(nsfun::test::private_run() == 0);
      const std::string name = nsfun::test::unique_name();
      NSFUN_EXPECT(run(nsm + " create " + name + " --type net,uts 2>&1").status == 0);
      const nsfun::test::EtcNetns etc_dir(name);
      const std::string& etc = etc_dir.dir;
      std::FILE* f = std::fopen((etc + "/hosts").c_str(), "we");
      NSFUN_EXPECT(f != nullptr);
      std::fputs("10.9.9.9 nsfun-test-host\n", f);
      std::fclose(f);
      const std::string mounts = read_text("/proc/self/mountinfo");
      const std::string script = "'ls /sys/class/net; cat /etc/hosts'";
      auto theirs = run("ip netns exec " + name + " sh -c " + script);
      NSFUN_EXPECT(theirs.out == "lo\n10.9.9.9 nsfun-test-host\n");
      NSFUN_EXPECT(run(nsm + " exec " + name + " -- sh -c " + script).out == theirs.out);
      NSFUN_EXPECT(run(nsm + " exec " + name + " sh -c " + script).out == theirs.out);
      NSFUN_EXPECT(run(nsm + " enter " + name + " sh -c " + script).out == theirs.out);
      NSFUN_EXPECT(run(nsm + " enter -F " + name + " sh -c " + script).out == theirs.out);
      NSFUN_EXPECT(run(nsm + " run " + name + " ls /sys/class/net").out == "lo\n");
      // Only its mount namespace of its own saw the binds.
      NSFUN_EXPECT(read_text("/proc/self/mountinfo") == mounts);
      // --type without net: nothing of ip netns exec.
      NSFUN_EXPECT(run(nsm + " enter " + name + " --type uts ls /sys/class/net").out ==
                   run("ls /sys/class/net").out);
      NSFUN_EXPECT(run(nsm + " destroy " + name).status == 0);
      return 0;
    });
  }

  TEST_CASE("a set with mount and network namespaces: the /sys remount stays out of its mounts") {
    NSFUN_REQUIRE(can_netns, "needs root, ip and private mounts");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(nsfun::test::private_run() == 0);
      NSFUN_EXPECT(::prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
      const std::string name = nsfun::test::unique_name();
      NSFUN_EXPECT(run(nsm + " create " + name + " --type mnt,net,uts 2>&1").status == 0);
      const std::string host = run("ls /sys/class/net").out;
      NSFUN_EXPECT(run(nsm + " exec " + name + " -- ls /sys/class/net").out == "lo\n");
      NSFUN_EXPECT(run("ip netns exec " + name + " ls /sys/class/net").out == "lo\n");
      NSFUN_EXPECT(run(nsm + " exec -F " + name + " -- ls /sys/class/net").out == "lo\n");
      // The set's own mount namespace still has the /sys it was made with.
      NSFUN_EXPECT(run(nsm + " exec " + name + " --type mnt ls /sys/class/net").out == host);
      NSFUN_EXPECT(run(nsm + " destroy " + name).status == 0);
      return 0;
    });
  }

  TEST_CASE("a name made by ip netns add: nsm exec as ip netns exec") {
    NSFUN_REQUIRE(can_netns, "needs root, ip and private mounts");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(nsfun::test::private_run() == 0);
      const std::string name = nsfun::test::unique_name();
      NSFUN_EXPECT(run("ip netns add " + name).status == 0);
      NSFUN_EXPECT(run("ip netns exec " + name + " ls /sys/class/net").out == "lo\n");
      NSFUN_EXPECT(run(nsm + " exec " + name + " -- ls /sys/class/net").out == "lo\n");
      NSFUN_EXPECT(run(nsm + " enter " + name + " readlink /proc/self/ns/net").out ==
                   run("ip netns exec " + name + " readlink /proc/self/ns/net").out);
      // nsenter's way to the same namespace, and nsm's: the host's /sys, as nsenter.
      NSFUN_EXPECT(run(nsm + " enter --net=/run/netns/" + name + " ls /sys/class/net").out ==
                   run("nsenter --net=/run/netns/" + name + " ls /sys/class/net").out);
      NSFUN_EXPECT(run("ip netns del " + name).status == 0);
      return 0;
    });
  }
}
