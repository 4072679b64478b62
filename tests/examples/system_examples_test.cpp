// SPDX-License-Identifier: MIT
// Tests of the examples of recipes 10 and 15-20: each runs the built program and checks what it
// printed against what the test sees itself, and that it left nothing behind (no process, no
// mount, no cgroup nsfun-example-*, no /tmp/nsfun-example-*).
#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include <fcntl.h>
#include <mqueue.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include "example_tests.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;

namespace {

using nsfun::test::examples::after;
using nsfun::test::examples::host_name;
using nsfun::test::examples::run_example;

// Where the cgroup2 hierarchy is mounted, from the test's own mountinfo; "" when nowhere.
std::string cgroup2_root() {
  std::ifstream mountinfo("/proc/self/mountinfo");
  for (std::string line; std::getline(mountinfo, line);) {
    if (line.find(" - cgroup2 ") != std::string::npos) {
      const auto words = nsfun::test::split_words(line);
      return words.size() > 4 ? words[4] : "";
    }
  }
  return "";
}

// The names in `dir` that start with `prefix`.
std::vector<std::string> entries(const std::string& dir, std::string_view prefix) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.path().filename().string().starts_with(prefix)) {
      names.push_back(e.path().filename().string());
    }
  }
  return names;
}

// The cgroup v2 line of a /proc/PID/cgroup text ("0::/…").
std::string v2_line(const std::string& text) {
  const std::size_t at = text.rfind("0::");
  return at == std::string::npos ? "" : text.substr(at, text.find('\n', at) - at);
}

// What an example could leave behind: mounts in the test's mount namespace, cgroups
// nsfun-example-PID. (Its temporary directories are named in what it prints: checked there.)
struct Traces {
  std::size_t mounts = nsfun::test::mount_count();
  std::vector<std::string> cgroups = entries(cgroup2_root(), "nsfun-example-");
};

// Checks that the test's mount table is as it was and that no cgroup nsfun-example-PID appeared
// whose process is gone (one of a live process is another run's, still at work).
void check_nothing_left(const Traces& before) {
  const Traces now;
  CHECK(now.mounts == before.mounts);
  for (const std::string& name : now.cgroups) {
    const pid_t pid = std::atoi(name.c_str() + std::strlen("nsfun-example-"));
    CAPTURE(name);
    CHECK((std::ranges::count(before.cgroups, name) == 1 || ::kill(pid, 0) == 0));
  }
  CHECK(nsfun::test::no_children());
}

bool can_make_cgroups() {
  const std::string root = cgroup2_root();
  return !root.empty() && ::access(root.c_str(), W_OK) == 0;
}

// "CapEff:\t000001ffffffffff" of the test itself.
std::string own_cap_eff() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.starts_with("CapEff:")) {
      return line;
    }
  }
  return "?";
}

}  // namespace

TEST_CASE("cgroup_limits: the limits the hierarchy allows, the placement, the cgroups removed") {
  NSFUN_REQUIRE(can_make_cgroups(), "no writable cgroup2 hierarchy here");
  const Traces before;
  const std::string root = cgroup2_root();
  const std::string enabled = nsfun::test::read_text(root + "/cgroup.subtree_control");
  auto r = run_example("cgroup_limits");
  if (r.status == 77) {
    nsfun::test::skip("cgroup_limits: not permitted here");
    return;
  }
  CHECK(r.status == 0);
  CHECK(after(r.out, "cgroup2 hierarchy at ").starts_with(root + ", controllers:"));
  // A limit is set exactly when the test sees its controller enabled for the root's children.
  const auto controllers = nsfun::test::split_words(enabled);
  const bool memory = std::ranges::count(controllers, "memory") == 1;
  const bool pids = std::ranges::count(controllers, "pids") == 1;
  CHECK(after(r.out, "memory.max").starts_with(memory ? " = 67108864" : ": not available here"));
  CHECK(after(r.out, "pids.max").starts_with(pids ? " = 16" : ": not available here"));
  const std::string placed = after(r.out, "the child's cgroup: ");
  CHECK(placed.starts_with("/nsfun-example-"));
  CHECK(placed.ends_with("/job"));
  const std::string removed = after(r.out, "removed ");
  CHECK(removed.starts_with(root + "/nsfun-example-"));
  CHECK(!fs::exists(removed));
  check_nothing_left(before);
}

TEST_CASE("container: hostname, PID 1, capabilities, seccomp, cgroup and root seen from inside") {
  NSFUN_REQUIRE(::access("/bin/busybox", X_OK) == 0, "needs /bin/busybox (busybox-static)");
  NSFUN_REQUIRE(nsfun::test::can_unshare(nsfun::NsTypeSet::all()), "cannot unshare every type");
  NSFUN_REQUIRE(can_make_cgroups(), "no writable cgroup2 hierarchy here");
  const Traces before;
  const std::string hostname = host_name();
  auto r = run_example("container");
  if (r.status == 77) {
    nsfun::test::skip("container: not permitted here");
    return;
  }
  CHECK(r.status == 0);
  CHECK(after(r.out, "hostname: ") == "nsfun-box");
  CHECK(host_name() == hostname);
  CHECK(after(r.out, "pid 1: ") == "init; this shell: pid 2; uid 0");
  // The orphaned sleep was reaped by PID 1: no zombie in the container's ps.
  const std::string ps = r.out.substr(r.out.find("processes:"));
  CHECK(ps.find("    1 S    init") != std::string::npos);
  CHECK(ps.find(" Z ") == std::string::npos);
  // Docker's 14 capabilities inside; the test (root) has more.
  CHECK(after(r.out, "capabilities: CapEff:\t") == "00000000a80425fb");
  CHECK(own_cap_eff() != "CapEff:\t00000000a80425fb");
  CHECK(after(r.out, "outside: pid ").ends_with(own_cap_eff()));
  CHECK(after(r.out, "cgroup: ") == "0::/");
  // unshare(CLONE_NEWUSER) needs no capability: only the seccomp filter refuses it inside.
  CHECK(after(r.out, "unshare -U: ").ends_with("Operation not permitted"));
  if (nsfun::test::have_program("unshare")) {
    CHECK(nsfun::test::run("unshare -U true").status == 0);
  }
  CHECK(after(r.out, "write /: ").ends_with("Read-only file system"));
  // The rootfs and the cgroup it named are gone.
  const std::string inside = after(r.out, "inside (rootfs ");
  const std::string rootfs = inside.substr(0, inside.find(','));
  CHECK(rootfs.starts_with("/tmp/nsfun-example-rootfs-"));
  CHECK(!fs::exists(rootfs));
  check_nothing_left(before);
}

TEST_CASE("mount_propagation: the lab's mount is not ours, private, shared and slave differ") {
  NSFUN_REQUIRE(nsfun::test::can_unshare(nsfun::NsTypeSet{nsfun::NsType::mnt}),
                "cannot unshare a mount namespace here");
  const Traces before;
  auto r = run_example("mount_propagation");
  if (r.status == 77) {
    nsfun::test::skip("mount_propagation: not permitted here");
    return;
  }
  CHECK(r.status == 0);
  const std::string first = after(r.out, "/tmp/nsfun-example-mnt-");
  CHECK(first.ends_with(" is a tmpfs mount in the lab: yes; here: no"));
  CHECK(!fs::exists("/tmp/nsfun-example-mnt-" + first.substr(0, first.find(' '))));
  using words = std::vector<std::string>;
  CHECK(nsfun::test::split_words(after(r.out, "private ")) == words{"no", "no"});
  CHECK(nsfun::test::split_words(after(r.out, "shared ")) == words{"yes", "yes"});
  CHECK(nsfun::test::split_words(after(r.out, "slave ")) == words{"yes", "no"});
  // None of its mounts ever reached the test's mount table, and its directory is gone.
  CHECK(nsfun::test::read_text("/proc/self/mountinfo").find("nsfun-example") == std::string::npos);
  check_nothing_left(before);
}

TEST_CASE("ipc_mqueue: the queue made inside is not in the test's IPC namespace") {
  NSFUN_REQUIRE(nsfun::test::can_unshare(nsfun::NsTypeSet{nsfun::NsType::ipc}),
                "cannot unshare an IPC namespace here");
  const Traces before;
  auto r = run_example("ipc_mqueue");
  if (r.status == 77) {
    nsfun::test::skip("ipc_mqueue: not permitted here");
    return;
  }
  CHECK(r.status == 0);
  const std::string own = nsfun::test::ns_link_text("/proc/self", "ipc");
  CHECK(after(r.out, "outside " + own + ": ") ==
        "/nsfun-example-queue mq_open: No such file or directory");
  const std::string inside = after(r.out, "inside ipc:[");
  CHECK(inside.ends_with("]: /nsfun-example-queue exists, 1 message(s)"));
  CHECK(r.out.find("inside " + own) == std::string::npos);
  // The test's own view: mq_open, and the queue files of its IPC namespace (a fresh mqueue
  // mount in a private mount namespace of a child).
  CHECK(::mq_open("/nsfun-example-queue", O_RDONLY) == -1);
  CHECK(errno == ENOENT);
  NSFUN_CHECK_CHILD([] {
    char dir[] = "/tmp/nsfun-test-mq-XXXXXX";
    NSFUN_EXPECT(::mkdtemp(dir) != nullptr);
    const bool ok = ::unshare(CLONE_NEWNS) == 0 &&
                    ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0 &&
                    ::mount("mqueue", dir, "mqueue", 0, nullptr) == 0;
    const bool absent = ok && !fs::exists(std::string(dir) + "/nsfun-example-queue");
    ::umount2(dir, MNT_DETACH);
    ::rmdir(dir);
    NSFUN_EXPECT(ok);
    NSFUN_EXPECT(absent);
    return 0;
  });
  check_nothing_left(before);
}

TEST_CASE("cgroup_namespace: 0::/ inside, the cgroup's path without, ours unchanged") {
  NSFUN_REQUIRE(can_make_cgroups(), "no writable cgroup2 hierarchy here");
  NSFUN_REQUIRE(nsfun::test::can_unshare(nsfun::NsTypeSet{nsfun::NsType::cgroup}),
                "cannot unshare a cgroup namespace here");
  const Traces before;
  auto r = run_example("cgroup_namespace");
  if (r.status == 77) {
    nsfun::test::skip("cgroup_namespace: not permitted here");
    return;
  }
  CHECK(r.status == 0);
  CHECK(after(r.out, "in its own cgroup namespace a child reads: ") == "0::/");
  const std::string plain = after(r.out, "without a cgroup namespace a child reads: ");
  CHECK(plain.starts_with("0::/nsfun-example-"));
  CHECK(after(r.out, "the children are in ") == cgroup2_root() + plain.substr(3));
  CHECK(!fs::exists(cgroup2_root() + plain.substr(3)));
  // The example ran in the test's cgroup (it is the test's grandchild) and says so.
  CHECK(after(r.out, "this program reads: ") ==
        v2_line(nsfun::test::read_text("/proc/self/cgroup")));
  check_nothing_left(before);
}

TEST_CASE("time_namespace: uptime inside is 10 days ahead of the test's") {
  NSFUN_REQUIRE(nsfun::test::can_unshare(nsfun::NsTypeSet{nsfun::NsType::time}),
                "cannot unshare a time namespace here");
  const Traces before;
  auto r = run_example("time_namespace");
  if (r.status == 77) {
    nsfun::test::skip("time_namespace: not permitted here");
    return;
  }
  CHECK(r.status == 0);
  const double own = std::strtod(nsfun::test::read_text("/proc/uptime").c_str(), nullptr);
  const double inside = std::strtod(after(r.out, "uptime inside: ").c_str(), nullptr);
  const double outside = std::strtod(after(r.out, "uptime outside: ").c_str(), nullptr);
  CHECK(inside - own > 864000 - 60);  // read before own, so a little less than the offset
  CHECK(inside - own < 864000 + 1);
  CHECK(own - outside >= 0);  // the example's own clock is the test's: not shifted
  CHECK(own - outside < 60);
  CHECK(after(r.out, "time namespace time:[").ends_with("]: boottime +864000s, monotonic +3600s"));
  CHECK(r.out.find(nsfun::test::ns_link_text("/proc/self", "time")) == std::string::npos);
  check_nothing_left(before);
}

TEST_CASE("watch_namespaces: NEW and GONE events for exactly the namespaces it made") {
  NSFUN_REQUIRE(nsfun::test::can_unshare(nsfun::NsTypeSet{nsfun::NsType::uts, nsfun::NsType::ipc}),
                "cannot unshare UTS and IPC namespaces here");
  const Traces before;
  auto r = run_example("watch_namespaces");
  if (r.status == 77) {
    nsfun::test::skip("watch_namespaces: not permitted here");
    return;
  }
  CHECK(r.status == 0);
  const std::string program = after(r.out, "this program: pid ");
  std::vector<std::string> made;  // "uts:[…] id N", "ipc:[…] id N"
  std::vector<std::string> holders;
  for (std::string rest = r.out; rest.find("made ") != std::string::npos;) {
    const std::string line = after(rest, "made ");
    const std::size_t comma = line.find(", ");
    const std::size_t in_pid = line.find(" in pid ");
    REQUIRE(comma != std::string::npos);
    REQUIRE(in_pid != std::string::npos);
    made.push_back(line.substr(0, comma));
    made.push_back(line.substr(comma + 2, in_pid - comma - 2));
    holders.push_back(line.substr(in_pid + 8));
    rest = rest.substr(rest.find("made ") + 5);
  }
  REQUIRE(made.size() == 6);
  for (const std::string& ns : made) {
    CAPTURE(ns);
    // NEW names the process that made it: this program (clone3), or the holder it started.
    const std::string created = after(r.out, "event: NEW " + ns + " pid ");
    const std::string pid = created.substr(0, created.find(' '));
    CHECK((pid == program || std::ranges::count(holders, pid) == 1));
    const std::string gone = after(r.out, "event: GONE " + ns);
    CHECK((gone.empty() || gone.starts_with(" lived ")));
  }
  CHECK(after(r.out, "6 of 6 namespaces seen going") != "<missing>");
  check_nothing_left(before);
}
