// SPDX-License-Identifier: MIT
// End-to-end tests of nsm's named sets: create, exec, enter and destroy. Every case runs in a
// child with a private mount namespace and a tmpfs on /run, so nothing reaches the host.

#include <cerrno>
#include <chrono>
#include <csignal>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>

#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <nsfun/nsfun.hpp>

#include "test_support.hpp"

namespace {

using nsfun::NsType;

const std::string nsm = NSM_PATH;

nsfun::test::CommandResult nsm_run(const std::string& args) {
  return nsfun::test::run(nsm + " " + args + " 2>/dev/null");
}

nsfun::test::CommandResult nsm_err(const std::string& args) {
  return nsfun::test::run(nsm + " " + args + " 2>&1 >/dev/null");
}

bool exists(const std::string& path) {
  struct stat st {};

  return ::lstat(path.c_str(), &st) == 0;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// "net:[4026531840]\n", as readlink prints the pin's namespace.
std::string link_text(const std::string& pin) {
  auto ns = nsfun::NsFd::open_path(pin.c_str());
  if (!ns) {
    return "?";
  }
  return std::string(nsfun::name(ns.value().type())) + ":[" +
         std::to_string(ns.value().identity().ino()) + "]\n";
}

pid_t holder_of(const std::string& name) {
  auto j = nlohmann::json::parse(slurp("/run/nsm/" + name + "/meta.json"), nullptr, false);
  if (j.is_discarded() || !j.contains("holder") || !j["holder"].is_number_integer()) {
    return 0;
  }
  return j["holder"].get<pid_t>();
}

// The holder was reparented to us (a subreaper): wait until it is reaped, up to 5 s.
bool reaped(pid_t pid) {
  for (int i = 0; i < 500; ++i) {
    pid_t r = ::waitpid(pid, nullptr, WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD && ::kill(pid, 0) != 0)) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

// No trace of nsm or of the set's ip netns entry in our mount table.
bool mounts_clean(const std::string& name) {
  const std::string mi = slurp("/proc/self/mountinfo");
  return mi.find(" /run/nsm") == std::string::npos &&
         mi.find(" /run/netns/" + name + " ") == std::string::npos;
}

// Sets up the child: private /run, and a subreaper so that holders come back to us.
int prepare() {
  if (int err = nsfun::test::private_run(); err != 0) {
    return err;
  }
  return ::prctl(PR_SET_CHILD_SUBREAPER, 1) == 0 ? 0 : errno;
}

// Kills a holder left behind by a failed check.
struct HolderGuard {
  pid_t pid = 0;

  ~HolderGuard() {
    if (pid > 0 && ::waitpid(pid, nullptr, WNOHANG) == 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
};

const bool can_run =
    nsfun::test::can_private_run() &&
    nsfun::test::can_unshare({NsType::mnt, NsType::uts, NsType::ipc, NsType::pid, NsType::net});

}  // namespace

TEST_SUITE("nsm named sets") {
  TEST_CASE("create then exec then destroy a set without a pid namespace") {
    NSFUN_REQUIRE(can_run, "needs root and private mounts");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(prepare() == 0);
      NSFUN_EXPECT(nsm_run("create s1 --type net,uts,ipc").status == 0);
      NSFUN_EXPECT(exists("/run/nsm/s1/meta.json"));
      NSFUN_EXPECT(holder_of("s1") == 0);
      auto net = nsm_run("exec s1 -- readlink /proc/self/ns/net");
      NSFUN_EXPECT(net.status == 0);
      NSFUN_EXPECT(net.out == link_text("/run/nsm/s1/net"));
      auto uts = nsm_run("exec s1 -- readlink /proc/self/ns/uts");
      NSFUN_EXPECT(uts.out == link_text("/run/nsm/s1/uts"));
      NSFUN_EXPECT(nsm_run("exec s1 -- hostname").status == 0);
      const bool have_ip = nsfun::test::have_program("ip");
      if (have_ip) {
        NSFUN_EXPECT(nsfun::test::run("ip netns exec s1 true 2>/dev/null").status == 0);
      }
      NSFUN_EXPECT(nsm_run("destroy s1").status == 0);
      NSFUN_EXPECT(!exists("/run/nsm/s1"));
      NSFUN_EXPECT(!exists("/run/netns/s1"));
      NSFUN_EXPECT(mounts_clean("s1"));
      if (have_ip) {
        NSFUN_EXPECT(nsfun::test::run("ip netns exec s1 true 2>/dev/null").status != 0);
      }
      return 0;
    });
  }

  TEST_CASE("a pid set runs commands under its own init and destroy stops the holder") {
    NSFUN_REQUIRE(can_run, "needs root and private mounts");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(prepare() == 0);
      NSFUN_EXPECT(nsm_run("create p1 --type pid,net,uts").status == 0);
      HolderGuard guard{holder_of("p1")};
      NSFUN_EXPECT(guard.pid > 0);
      NSFUN_EXPECT(exists("/run/nsm/p1/mnt"));
      NSFUN_EXPECT(nsm_run("exec p1 -- sh -c 'echo $$'").out == "2\n");
      // Only init and ls itself in the set's /proc.
      auto ls = nsm_run("exec p1 -- ls /proc");
      NSFUN_EXPECT(ls.status == 0);
      NSFUN_EXPECT(ls.out.find("\n1\n") != std::string::npos || ls.out.rfind("1\n", 0) == 0);
      std::size_t numeric = 0;
      for (std::size_t at = 0; at < ls.out.size();) {
        std::size_t end = ls.out.find('\n', at);
        const std::string line = ls.out.substr(at, end - at);
        if (!line.empty() && line.find_first_not_of("0123456789") == std::string::npos) {
          ++numeric;
        }
        at = end == std::string::npos ? ls.out.size() : end + 1;
      }
      NSFUN_EXPECT(numeric == 2);
      NSFUN_EXPECT(nsm_run("exec p1 -- readlink /proc/self/ns/pid").out ==
                   link_text("/run/nsm/p1/pid"));
      NSFUN_EXPECT(nsm_run("destroy p1").status == 0);
      NSFUN_EXPECT(reaped(guard.pid));
      NSFUN_EXPECT(!exists("/run/nsm/p1"));
      NSFUN_EXPECT(mounts_clean("p1"));
      return 0;
    });
  }

  TEST_CASE("enter joins a named set or the namespaces of a process") {
    NSFUN_REQUIRE(can_run, "needs root and private mounts");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(prepare() == 0);
      NSFUN_EXPECT(nsm_run("create e1 --type pid,uts").status == 0);
      HolderGuard guard{holder_of("e1")};
      NSFUN_EXPECT(nsm_run("enter e1 -- readlink /proc/self/ns/uts").out ==
                   link_text("/run/nsm/e1/uts"));
      NSFUN_EXPECT(nsm_run("enter e1 --type uts -- readlink /proc/self/ns/pid").out ==
                   link_text("/proc/self/ns/pid"));
      const std::string pid = std::to_string(guard.pid);
      NSFUN_EXPECT(nsm_run("enter " + pid + " -- readlink /proc/self/ns/uts").out ==
                   link_text("/run/nsm/e1/uts"));
      NSFUN_EXPECT(nsm_run("enter " + pid + " -- readlink /proc/self/ns/pid").out ==
                   link_text("/run/nsm/e1/pid"));
      NSFUN_EXPECT(nsm_run("destroy e1").status == 0);
      NSFUN_EXPECT(reaped(guard.pid));
      return 0;
    });
  }

  TEST_CASE("exec exits with the status of the command") {
    NSFUN_REQUIRE(can_run, "needs root and private mounts");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(prepare() == 0);
      NSFUN_EXPECT(nsm_run("create x1 --type uts").status == 0);
      NSFUN_EXPECT(nsm_run("exec x1 -- sh -c 'exit 7'").status == 7);
      NSFUN_EXPECT(nsm_run("exec x1 -- sh -c 'kill -9 $$'").status == 137);
      NSFUN_EXPECT(nsm_run("exec x1 -- /nonexistent/program").status == 1);
      NSFUN_EXPECT(nsm_run("destroy x1").status == 0);
      NSFUN_EXPECT(mounts_clean("x1"));
      return 0;
    });
  }

  TEST_CASE("map root user makes the caller root in a new user namespace") {
    NSFUN_REQUIRE(can_run && nsfun::test::can_unshare({NsType::user}), "needs user namespaces");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(prepare() == 0);
      NSFUN_EXPECT(nsm_run("create u1 --type uts,mnt --map-root-user").status == 0);
      NSFUN_EXPECT(exists("/run/nsm/u1/user"));
      NSFUN_EXPECT(nsm_run("exec u1 -- readlink /proc/self/ns/user").out ==
                   link_text("/run/nsm/u1/user"));
      NSFUN_EXPECT(nsm_run("exec u1 -- id -u").out == "0\n");
      NSFUN_EXPECT(nsm_run("destroy u1").status == 0);
      NSFUN_EXPECT(mounts_clean("u1"));
      return 0;
    });
  }

  TEST_CASE("invalid names are refused before anything is made") {
    NSFUN_REQUIRE(can_run, "needs root and private mounts");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(prepare() == 0);
      const std::string long_name(65, 'a');
      for (const std::string& bad : {std::string("../x"), std::string("a/b"), long_name,
                                     std::string("."), std::string(".."), std::string("a b")}) {
        const std::string arg = "'" + bad + "'";
        NSFUN_EXPECT(nsm_run("create " + arg + " --type uts").status == 2);
        NSFUN_EXPECT(nsm_run("exec " + arg + " -- true").status == 2);
        NSFUN_EXPECT(nsm_run("destroy " + arg).status == 2);
      }
      NSFUN_EXPECT(nsm_run("create " + std::string(64, 'a') + " --type uts").status == 0);
      NSFUN_EXPECT(nsm_run("destroy " + std::string(64, 'a')).status == 0);
      NSFUN_EXPECT(!exists("/run/nsm"));
      NSFUN_EXPECT(!exists("/run/x"));
      return 0;
    });
  }

  TEST_CASE("create of an existing name fails and keeps the first set") {
    NSFUN_REQUIRE(can_run, "needs root and private mounts");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(prepare() == 0);
      NSFUN_EXPECT(nsm_run("create d1 --type net").status == 0);
      const std::string before = link_text("/run/nsm/d1/net");
      auto again = nsm_err("create d1 --type net");
      NSFUN_EXPECT(again.status == 1);
      NSFUN_EXPECT(again.out == "nsm: d1: already exists\n");
      NSFUN_EXPECT(link_text("/run/nsm/d1/net") == before);
      NSFUN_EXPECT(nsm_run("destroy d1").status == 0);
      return 0;
    });
  }

  TEST_CASE("destroy and exec of an unknown name fail with one line") {
    NSFUN_REQUIRE(can_run, "needs root and private mounts");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(prepare() == 0);
      auto d = nsm_err("destroy nosuch");
      NSFUN_EXPECT(d.status == 1);
      NSFUN_EXPECT(d.out == "nsm: nosuch: no such namespace set\n");
      auto x = nsm_err("exec nosuch -- true");
      NSFUN_EXPECT(x.status == 1);
      NSFUN_EXPECT(x.out == "nsm: nosuch: no such namespace set\n");
      NSFUN_EXPECT(nsm_run("enter nosuch").status == 1);
      return 0;
    });
  }

  TEST_CASE("exec without a command is a usage error") {
    NSFUN_REQUIRE(can_run, "needs root and private mounts");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(prepare() == 0);
      NSFUN_EXPECT(nsm_run("create c1 --type uts").status == 0);
      auto r = nsm_err("exec c1");
      NSFUN_EXPECT(r.status == 2);
      NSFUN_EXPECT(r.out.find("Try 'nsm exec --help'") != std::string::npos);
      NSFUN_EXPECT(nsm_run("destroy c1").status == 0);
      return 0;
    });
  }

  TEST_CASE("a failed create leaves nothing behind") {
    NSFUN_REQUIRE(can_run, "needs root and private mounts");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(prepare() == 0);
      NSFUN_EXPECT(nsm_run("create f1 --type net,bogus").status == 2);
      NSFUN_EXPECT(!exists("/run/nsm"));
      NSFUN_EXPECT(::mkdir("/run/netns", 0755) == 0);
      NSFUN_EXPECT(nsfun::test::run("touch /run/netns/f2").status == 0);
      auto r = nsm_err("create f2 --type net,uts");
      NSFUN_EXPECT(r.status == 1);
      NSFUN_EXPECT(r.out == "nsm: f2: /run/netns/f2 already exists\n");
      NSFUN_EXPECT(!exists("/run/nsm/f2"));
      NSFUN_EXPECT(mounts_clean("f2"));
      // The check comes before a holder is started: no process is left either.
      auto p = nsm_err("create f2 --type pid,net");
      NSFUN_EXPECT(p.status == 1);
      NSFUN_EXPECT(!exists("/run/nsm/f2"));
      NSFUN_EXPECT(::waitpid(-1, nullptr, WNOHANG) <= 0);
      return 0;
    });
  }

  TEST_CASE("destroy cleans a stale set whose holder died") {
    NSFUN_REQUIRE(can_run, "needs root and private mounts");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(prepare() == 0);
      NSFUN_EXPECT(nsm_run("create st1 --type pid").status == 0);
      HolderGuard guard{holder_of("st1")};
      NSFUN_EXPECT(guard.pid > 0);
      NSFUN_EXPECT(::kill(guard.pid, SIGKILL) == 0);
      NSFUN_EXPECT(reaped(guard.pid));
      NSFUN_EXPECT(nsm_run("exec st1 -- true").status != 0);
      NSFUN_EXPECT(nsm_run("destroy st1").status == 0);
      NSFUN_EXPECT(!exists("/run/nsm/st1"));
      NSFUN_EXPECT(mounts_clean("st1"));
      return 0;
    });
  }

  TEST_CASE("create and destroy say that they need root") {
    NSFUN_REQUIRE(can_run && nsfun::test::can_drop_privileges(), "needs to drop to nobody");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(prepare() == 0);
      NSFUN_EXPECT(nsfun::test::drop_privileges() == 0);
      auto c = nsm_err("create r1 --type uts");
      NSFUN_EXPECT(c.status == 1);
      NSFUN_EXPECT(c.out == "nsm: create: needs root (CAP_SYS_ADMIN)\n");
      NSFUN_EXPECT(nsm_err("destroy r1").out == "nsm: destroy: needs root (CAP_SYS_ADMIN)\n");
      return 0;
    });
  }
}
