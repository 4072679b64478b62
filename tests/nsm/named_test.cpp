// SPDX-License-Identifier: MIT
// End-to-end tests of nsm's named sets: create, exec, enter, destroy, and how list and inspect
// show them. Every case runs in a child with a private mount namespace and a tmpfs on /run, so
// nothing reaches the host; every set has a unique nsfun-test- name and is destroyed at the end.

#include <cerrno>
#include <chrono>
#include <csignal>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <nsfun/nsfun.hpp>

#include "nsm_support.hpp"
#include "test_support.hpp"

namespace {

using nsfun::NsType;
using nsfun::test::read_text;

using nsm_test::holder_of;
using nsm_test::nsm;
using nsm_test::nsm_err;
using nsm_test::nsm_out;
using nsm_test::reaped;

bool exists(const std::string& path) {
  struct stat st {};

  return ::lstat(path.c_str(), &st) == 0;
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

// No trace of nsm or of the set's ip netns entry in our mount table.
bool mounts_clean(const std::string& name) {
  const std::string mi = read_text("/proc/self/mountinfo");
  return mi.find(" /run/nsm") == std::string::npos &&
         mi.find(" /run/netns/" + name + " ") == std::string::npos;
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

// A set made by a test: a unique name, and destroyed when the test leaves, also after a failed
// check; a holder that destroy could not stop is killed (it is our child, we are its subreaper).
struct TestSet {
  std::string name = nsfun::test::unique_name();
  HolderGuard holder;

  TestSet() = default;
  TestSet(const TestSet&) = delete;
  TestSet& operator=(const TestSet&) = delete;

  ~TestSet() {
    if (exists(dir())) {
      (void)nsm_out("destroy " + name);
    }
  }

  // nsm create NAME ARGS; true when it succeeded (the holder, if any, is then guarded).
  bool create(const std::string& args) {
    if (nsm_out("create " + name + " " + args).status != 0) {
      return false;
    }
    holder.pid = holder_of(name);
    return true;
  }

  [[nodiscard]] std::string dir() const { return "/run/nsm/" + name; }

  [[nodiscard]] std::string pin(const char* type) const { return dir() + "/" + type; }
};

const bool can_run =
    nsfun::test::can_private_run() &&
    nsfun::test::can_unshare({NsType::mnt, NsType::uts, NsType::ipc, NsType::pid, NsType::net});

}  // namespace

TEST_SUITE("nsm named sets") {
  TEST_CASE("create then exec then destroy a set without a pid namespace") {
    NSFUN_REQUIRE(can_run, "needs root and private mounts");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(nsfun::test::private_run_reaper() == 0);
      TestSet s;
      NSFUN_EXPECT(s.create("--type net,uts,ipc"));
      NSFUN_EXPECT(exists(s.dir() + "/meta.json"));
      NSFUN_EXPECT(holder_of(s.name) == 0);
      auto net = nsm_out("exec " + s.name + " -- readlink /proc/self/ns/net");
      NSFUN_EXPECT(net.status == 0);
      NSFUN_EXPECT(net.out == link_text(s.pin("net")));
      auto uts = nsm_out("exec " + s.name + " -- readlink /proc/self/ns/uts");
      NSFUN_EXPECT(uts.out == link_text(s.pin("uts")));
      NSFUN_EXPECT(nsm_out("exec " + s.name + " -- hostname").status == 0);
      const bool have_ip = nsfun::test::have_program("ip");
      if (have_ip) {
        NSFUN_EXPECT(nsfun::test::run("ip netns exec " + s.name + " true 2>/dev/null").status == 0);
      }
      NSFUN_EXPECT(nsm_out("destroy " + s.name).status == 0);
      NSFUN_EXPECT(!exists(s.dir()));
      NSFUN_EXPECT(!exists("/run/netns/" + s.name));
      NSFUN_EXPECT(mounts_clean(s.name));
      if (have_ip) {
        NSFUN_EXPECT(nsfun::test::run("ip netns exec " + s.name + " true 2>/dev/null").status != 0);
      }
      return 0;
    });
  }

  TEST_CASE("a pid set runs commands under its own init and destroy stops the holder") {
    NSFUN_REQUIRE(can_run, "needs root and private mounts");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(nsfun::test::private_run_reaper() == 0);
      TestSet s;
      NSFUN_EXPECT(s.create("--type pid,net,uts"));
      NSFUN_EXPECT(s.holder.pid > 0);
      NSFUN_EXPECT(exists(s.pin("mnt")));
      NSFUN_EXPECT(nsm_out("exec " + s.name + " -- sh -c 'echo $$'").out == "2\n");
      // Only init and ls itself in the set's /proc.
      auto ls = nsm_out("exec " + s.name + " -- ls /proc");
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
      NSFUN_EXPECT(nsm_out("exec " + s.name + " -- readlink /proc/self/ns/pid").out ==
                   link_text(s.pin("pid")));
      NSFUN_EXPECT(nsm_out("destroy " + s.name).status == 0);
      NSFUN_EXPECT(reaped(s.holder.pid));
      NSFUN_EXPECT(!exists(s.dir()));
      NSFUN_EXPECT(mounts_clean(s.name));
      return 0;
    });
  }

  TEST_CASE("enter joins a named set or the namespaces of a process") {
    NSFUN_REQUIRE(can_run, "needs root and private mounts");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(nsfun::test::private_run_reaper() == 0);
      TestSet s;
      NSFUN_EXPECT(s.create("--type pid,uts"));
      NSFUN_EXPECT(nsm_out("enter " + s.name + " -- readlink /proc/self/ns/uts").out ==
                   link_text(s.pin("uts")));
      NSFUN_EXPECT(nsm_out("enter " + s.name + " --type uts -- readlink /proc/self/ns/pid").out ==
                   link_text("/proc/self/ns/pid"));
      const std::string pid = std::to_string(s.holder.pid);
      NSFUN_EXPECT(nsm_out("enter " + pid + " -- readlink /proc/self/ns/uts").out ==
                   link_text(s.pin("uts")));
      NSFUN_EXPECT(nsm_out("enter " + pid + " -- readlink /proc/self/ns/pid").out ==
                   link_text(s.pin("pid")));
      NSFUN_EXPECT(nsm_out("destroy " + s.name).status == 0);
      NSFUN_EXPECT(reaped(s.holder.pid));
      return 0;
    });
  }

  TEST_CASE("exec exits with the status of the command") {
    NSFUN_REQUIRE(can_run, "needs root and private mounts");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(nsfun::test::private_run_reaper() == 0);
      TestSet s;
      NSFUN_EXPECT(s.create("--type uts"));
      NSFUN_EXPECT(nsm_out("exec " + s.name + " -- sh -c 'exit 7'").status == 7);
      NSFUN_EXPECT(nsm_out("exec " + s.name + " -- sh -c 'kill -9 $$'").status == 137);
      NSFUN_EXPECT(nsm_out("exec " + s.name + " -- /nonexistent/program").status == 1);
      NSFUN_EXPECT(nsm_out("destroy " + s.name).status == 0);
      NSFUN_EXPECT(mounts_clean(s.name));
      return 0;
    });
  }

  TEST_CASE("map root user makes the caller root in a new user namespace") {
    NSFUN_REQUIRE(can_run && nsfun::test::can_unshare({NsType::user}), "needs user namespaces");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(nsfun::test::private_run_reaper() == 0);
      TestSet s;
      NSFUN_EXPECT(s.create("--type uts,mnt --map-root-user"));
      NSFUN_EXPECT(exists(s.pin("user")));
      NSFUN_EXPECT(nsm_out("exec " + s.name + " -- readlink /proc/self/ns/user").out ==
                   link_text(s.pin("user")));
      NSFUN_EXPECT(nsm_out("exec " + s.name + " -- id -u").out == "0\n");
      NSFUN_EXPECT(nsm_out("destroy " + s.name).status == 0);
      NSFUN_EXPECT(mounts_clean(s.name));
      return 0;
    });
  }

  TEST_CASE("invalid names are refused before anything is made") {
    NSFUN_REQUIRE(can_run, "needs root and private mounts");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(nsfun::test::private_run_reaper() == 0);
      const std::string long_name(65, 'a');
      for (const std::string& bad : {std::string("../x"), std::string("a/b"), long_name,
                                     std::string("."), std::string(".."), std::string("a b")}) {
        const std::string arg = "'" + bad + "'";
        NSFUN_EXPECT(nsm_out("create " + arg + " --type uts").status == 2);
        NSFUN_EXPECT(nsm_out("exec " + arg + " -- true").status == 2);
        NSFUN_EXPECT(nsm_out("destroy " + arg).status == 2);
        NSFUN_EXPECT(nsm_out("inspect " + arg).status == 2);
      }
      // The longest name: 64 characters.
      TestSet s;
      s.name.resize(64, 'x');
      NSFUN_EXPECT(s.create("--type uts"));
      NSFUN_EXPECT(nsm_out("destroy " + s.name).status == 0);
      NSFUN_EXPECT(!exists("/run/nsm"));
      NSFUN_EXPECT(!exists("/run/x"));
      return 0;
    });
  }

  TEST_CASE("create of an existing name fails and keeps the first set") {
    NSFUN_REQUIRE(can_run, "needs root and private mounts");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(nsfun::test::private_run_reaper() == 0);
      TestSet s;
      NSFUN_EXPECT(s.create("--type net"));
      const std::string before = link_text(s.pin("net"));
      auto again = nsm_err("create " + s.name + " --type net");
      NSFUN_EXPECT(again.status == 1);
      NSFUN_EXPECT(again.out == "nsm: " + s.name + ": already exists\n");
      NSFUN_EXPECT(link_text(s.pin("net")) == before);
      NSFUN_EXPECT(nsm_out("destroy " + s.name).status == 0);
      return 0;
    });
  }

  TEST_CASE("destroy exec enter and inspect of an unknown name fail with one line") {
    NSFUN_REQUIRE(can_run, "needs root and private mounts");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(nsfun::test::private_run_reaper() == 0);
      const std::string name = nsfun::test::unique_name();
      const std::string want = "nsm: " + name + ": no such named namespace set\n";
      // Without /run/nsm, and with it holding another set.
      for (int round = 0; round < 2; ++round) {
        TestSet other;
        if (round == 1) {
          NSFUN_EXPECT(other.create("--type uts"));
        }
        for (const std::string& args : {"destroy " + name, "exec " + name + " -- true",
                                        "enter " + name, "inspect " + name, "inspect -J " + name}) {
          auto r = nsm_err(args);
          NSFUN_EXPECT(r.status == 1);
          NSFUN_EXPECT(r.out == want);
        }
      }
      return 0;
    });
  }

  TEST_CASE("exec without a command is a usage error") {
    NSFUN_REQUIRE(can_run, "needs root and private mounts");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(nsfun::test::private_run_reaper() == 0);
      TestSet s;
      NSFUN_EXPECT(s.create("--type uts"));
      auto r = nsm_err("exec " + s.name);
      NSFUN_EXPECT(r.status == 2);
      NSFUN_EXPECT(r.out.find("Try 'nsm exec --help'") != std::string::npos);
      NSFUN_EXPECT(nsm_out("destroy " + s.name).status == 0);
      return 0;
    });
  }

  TEST_CASE("a failed create leaves nothing behind") {
    NSFUN_REQUIRE(can_run, "needs root and private mounts");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(nsfun::test::private_run_reaper() == 0);
      TestSet bad_type;
      NSFUN_EXPECT(nsm_out("create " + bad_type.name + " --type net,bogus").status == 2);
      NSFUN_EXPECT(!exists("/run/nsm"));
      TestSet s;
      NSFUN_EXPECT(::mkdir("/run/netns", 0755) == 0);
      NSFUN_EXPECT(nsfun::test::run("touch /run/netns/" + s.name).status == 0);
      auto r = nsm_err("create " + s.name + " --type net,uts");
      NSFUN_EXPECT(r.status == 1);
      NSFUN_EXPECT(r.out == "nsm: " + s.name +
                                ": exists in /run/netns (made by ip netns add); choose another "
                                "name or 'ip netns del " +
                                s.name + "'\n");
      NSFUN_EXPECT(!exists(s.dir()));
      NSFUN_EXPECT(mounts_clean(s.name));
      // The check comes before a holder is started: no process is left either.
      auto p = nsm_err("create " + s.name + " --type pid,net");
      NSFUN_EXPECT(p.status == 1);
      NSFUN_EXPECT(!exists(s.dir()));
      errno = 0;
      NSFUN_EXPECT(::waitpid(-1, nullptr, WNOHANG) == -1 && errno == ECHILD);
      return 0;
    });
  }

  TEST_CASE("destroy cleans a stale set whose holder died") {
    NSFUN_REQUIRE(can_run, "needs root and private mounts");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(nsfun::test::private_run_reaper() == 0);
      TestSet s;
      NSFUN_EXPECT(s.create("--type pid"));
      NSFUN_EXPECT(s.holder.pid > 0);
      NSFUN_EXPECT(::kill(s.holder.pid, SIGKILL) == 0);
      NSFUN_EXPECT(reaped(s.holder.pid));
      NSFUN_EXPECT(nsm_out("exec " + s.name + " -- true").status != 0);
      NSFUN_EXPECT(nsm_out("destroy " + s.name).status == 0);
      NSFUN_EXPECT(!exists(s.dir()));
      NSFUN_EXPECT(mounts_clean(s.name));
      return 0;
    });
  }

  TEST_CASE("commands on sets say that they need root, and list shows nobody no sets") {
    NSFUN_REQUIRE(can_run && nsfun::test::can_drop_privileges(), "needs to drop to nobody");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(nsfun::test::private_run_reaper() == 0);
      TestSet s;  // made and destroyed as root; looked at as nobody
      NSFUN_EXPECT(s.create("--type uts"));
      return nsfun::test::in_child([&] {
        NSFUN_EXPECT(nsfun::test::drop_privileges() == 0);
        auto c = nsm_err("create " + s.name + "-2 --type uts");
        NSFUN_EXPECT(c.status == 1);
        NSFUN_EXPECT(c.out == "nsm: create: needs root (CAP_SYS_ADMIN)\n");
        for (const std::string command : {"destroy", "enter", "exec"}) {
          auto r = nsm_err(command + " " + s.name + (command == "destroy" ? "" : " -- true"));
          NSFUN_EXPECT(r.status == 1);
          NSFUN_EXPECT(r.out == "nsm: " + command + ": needs root (CAP_SYS_ADMIN)\n");
        }
        auto i = nsm_err("inspect " + s.name);
        NSFUN_EXPECT(i.status == 1);
        NSFUN_EXPECT(i.out == "nsm: inspect: needs root (CAP_DAC_READ_SEARCH) to read /run/nsm\n");
        // list cannot read /run/nsm: no section, no error, an empty "named".
        auto text = nsfun::test::run(nsm + " list 2>&1");
        NSFUN_EXPECT(text.status == 0);
        NSFUN_EXPECT(text.out.find("Named namespace sets") == std::string::npos);
        NSFUN_EXPECT(text.out.find(s.name + " ") == std::string::npos);
        NSFUN_EXPECT(text.out.find("nsm:") == std::string::npos);
        auto j = nsm_out("list -J");
        NSFUN_EXPECT(j.status == 0);
        auto parsed = nlohmann::json::parse(j.out, nullptr, false);
        NSFUN_EXPECT(!parsed.is_discarded() && parsed.at("named") == nlohmann::json::array());
        return 0;
      });
    });
  }
}

TEST_SUITE("nsm named sets in list and inspect") {
  TEST_CASE("list shows each set after the table, and in JSON under named") {
    NSFUN_REQUIRE(can_run, "needs root and private mounts");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(nsfun::test::private_run_reaper() == 0);
      TestSet a;
      TestSet b;
      NSFUN_EXPECT(a.create("--type pid,net,uts"));
      NSFUN_EXPECT(b.create("--type uts,ipc"));
      NSFUN_EXPECT(a.holder.pid > 0);
      // ordered_json like `doc`: comparing the two kinds of json is ambiguous to clang 14.
      const auto meta_a = nlohmann::ordered_json::parse(read_text(a.dir() + "/meta.json"));
      const auto meta_b = nlohmann::ordered_json::parse(read_text(b.dir() + "/meta.json"));

      // Text: the namespace table, a blank line, the title, then one row per set, by name.
      auto text = nsm_out("list");
      NSFUN_EXPECT(text.status == 0);
      const std::size_t title = text.out.find("\n\nNamed namespace sets (/run/nsm)\n");
      NSFUN_EXPECT(title != std::string::npos);
      NSFUN_EXPECT(text.out.find(" TYPE ") < title);
      const std::string rows = text.out.substr(title);
      NSFUN_EXPECT(rows.find("NAME") != std::string::npos);
      const std::string holder = std::to_string(a.holder.pid);
      const std::size_t row_a = rows.find("\n" + a.name + " ");
      const std::size_t row_b = rows.find("\n" + b.name + " ");
      NSFUN_EXPECT(row_a != std::string::npos && row_b != std::string::npos && row_a < row_b);
      const std::string line_a = rows.substr(row_a + 1, rows.find('\n', row_a + 1) - row_a - 1);
      NSFUN_EXPECT(line_a.find(" mnt,uts,pid,net ") != std::string::npos);
      NSFUN_EXPECT(line_a.find(" " + holder + " running ") != std::string::npos);
      NSFUN_EXPECT(line_a.find(meta_a.at("created").get<std::string>()) != std::string::npos);

      // JSON: "namespaces" as before, and "named" with the sets' keys.
      auto j = nsm_out("list -J");
      NSFUN_EXPECT(j.status == 0);
      const auto doc = nlohmann::ordered_json::parse(j.out);
      NSFUN_EXPECT(doc.size() == 2 && doc.begin().key() == "namespaces");
      NSFUN_EXPECT(doc.at("namespaces").at(0).contains("ns"));
      const auto& named = doc.at("named");
      NSFUN_EXPECT(named.size() == 2);
      std::vector<std::string> keys;
      for (const auto& item : named.at(0).items()) {
        keys.push_back(item.key());
      }
      NSFUN_EXPECT((keys == std::vector<std::string>{"name", "types", "holder", "state", "created",
                                                     "reason"}));
      NSFUN_EXPECT(named.at(0).at("reason").is_null());
      NSFUN_EXPECT(named.at(0).at("name") == a.name);
      NSFUN_EXPECT(named.at(0).at("types") == meta_a.at("types"));
      NSFUN_EXPECT(named.at(0).at("holder") == a.holder.pid);
      NSFUN_EXPECT(named.at(0).at("state") == "running");
      NSFUN_EXPECT(named.at(0).at("created") == meta_a.at("created"));
      NSFUN_EXPECT(named.at(1).at("name") == b.name);
      NSFUN_EXPECT(named.at(1).at("types") == meta_b.at("types"));
      NSFUN_EXPECT(named.at(1).at("holder").is_null());
      NSFUN_EXPECT(named.at(1).at("state") == "running");

      // -t and -p keep the sets that hold a namespace of what is listed.
      auto ipc = nlohmann::json::parse(nsm_out("list -J -t ipc").out).at("named");
      NSFUN_EXPECT(ipc.size() == 1 && ipc.at(0).at("name") == b.name);
      auto of_holder = nlohmann::json::parse(nsm_out("list -J -p " + holder).out).at("named");
      NSFUN_EXPECT(of_holder.size() == 1 && of_holder.at(0).at("name") == a.name);
      auto of_us = nlohmann::json::parse(nsm_out("list -J -p " + std::to_string(::getpid())).out);
      NSFUN_EXPECT(of_us.at("named").empty());
      NSFUN_EXPECT(nsm_out("list -p " + std::to_string(::getpid())).out.find("Named") ==
                   std::string::npos);

      // -r, -n and -o print the namespace rows only, as lsns: an lsns pipeline such as
      // `list -n -r -o NS` gets one inode per line and nothing else.
      for (const char* args : {"list -r", "list -n", "list -r -n", "list -o NS,TYPE"}) {
        auto rows_only = nsm_out(args);
        NSFUN_EXPECT(rows_only.status == 0);
        // (A set's name may stand in a row: the pin's path is the COMMAND of a namespace that
        // only a bind mount holds.)
        NSFUN_EXPECT(rows_only.out.find(a.name + " mnt,uts,pid,net ") == std::string::npos);
        NSFUN_EXPECT(rows_only.out.find(b.name + " uts,ipc ") == std::string::npos);
        NSFUN_EXPECT(rows_only.out.find("HOLDER") == std::string::npos);
        NSFUN_EXPECT(rows_only.out.find("\n\n") == std::string::npos);
      }
      auto inodes = nsm_out("list -n -r -o NS");
      NSFUN_EXPECT(inodes.status == 0 && !inodes.out.empty());
      NSFUN_EXPECT(inodes.out.find("\n\n") == std::string::npos);
      for (const std::string& line : nsfun::test::split_words(inodes.out)) {
        NSFUN_EXPECT(!line.empty() && line.find_first_not_of("0123456789") == std::string::npos);
      }

      // --named brings them back: with -r no title, a blank line still separates the rows.
      auto raw = nsm_out("list -r --named");
      NSFUN_EXPECT(raw.out.find("Named") == std::string::npos);
      NSFUN_EXPECT(raw.out.find("\n\nNAME TYPES HOLDER STATE CREATED REASON\n" + a.name +
                                " mnt,uts,pid,net " + holder + " running ") != std::string::npos);
      auto bare = nsm_out("list -r -n --named");
      NSFUN_EXPECT(bare.out.find("NAME") == std::string::npos);
      NSFUN_EXPECT(bare.out.find("\n\n" + a.name + " ") != std::string::npos);
      NSFUN_EXPECT(bare.out.find("\n" + b.name + " uts,ipc  running ") != std::string::npos);
      auto n = nsm_out("list -n --named");
      NSFUN_EXPECT(n.out.find("Named") == std::string::npos);
      NSFUN_EXPECT(n.out.find("NAME") == std::string::npos);
      NSFUN_EXPECT(n.out.find("\n\n" + a.name + " ") != std::string::npos);

      // Gone with the last set: /run/nsm is removed, and list shows no section again.
      NSFUN_EXPECT(nsm_out("destroy " + a.name).status == 0);
      NSFUN_EXPECT(nsm_out("destroy " + b.name).status == 0);
      NSFUN_EXPECT(!exists("/run/nsm"));
      auto after = nsm_out("list");
      NSFUN_EXPECT(after.status == 0);
      NSFUN_EXPECT(after.out.find("Named") == std::string::npos);
      NSFUN_EXPECT(after.out.find("\n\n") == std::string::npos);
      NSFUN_EXPECT(nlohmann::json::parse(nsm_out("list -J").out).at("named").empty());
      return 0;
    });
  }

  TEST_CASE("inspect NAME shows each pinned namespace, the holder, creation and creator") {
    NSFUN_REQUIRE(can_run, "needs root and private mounts");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(nsfun::test::private_run_reaper() == 0);
      TestSet s;
      NSFUN_EXPECT(s.create("--type pid,net,uts"));
      const auto meta = nlohmann::json::parse(read_text(s.dir() + "/meta.json"));
      auto r = nsm_out("inspect -J " + s.name);
      NSFUN_EXPECT(r.status == 0);
      const auto j = nlohmann::json::parse(r.out);
      NSFUN_EXPECT(j.at("name") == s.name);
      NSFUN_EXPECT(j.at("path") == s.dir());
      NSFUN_EXPECT(j.at("types") == meta.at("types"));
      NSFUN_EXPECT(j.at("state") == "running");
      NSFUN_EXPECT(j.at("problems").empty());
      NSFUN_EXPECT(j.at("holder") == s.holder.pid);
      NSFUN_EXPECT(j.at("created") == meta.at("created"));
      NSFUN_EXPECT(j.at("creator") == 0);
      const auto& list = j.at("namespaces");
      NSFUN_EXPECT(list.size() == 4);  // mnt comes with pid
      const std::uint64_t our_user = nsfun::NsFd::current(NsType::user).value().identity().ino();
      for (const auto& e : list) {
        const std::string type = e.at("type");
        const std::string pin = s.pin(type.c_str());
        NSFUN_EXPECT(e.at("path") == pin);
        NSFUN_EXPECT(link_text(pin) ==
                     type + ":[" + std::to_string(e.at("ns").get<std::uint64_t>()) + "]\n");
        NSFUN_EXPECT(e.at("state") == "isolated");
        NSFUN_EXPECT(e.at("ons") == our_user);
      }

      auto text = nsm_out("inspect " + s.name);
      NSFUN_EXPECT(text.status == 0);
      NSFUN_EXPECT(text.out.rfind("NAME " + s.name + "\n", 0) == 0);
      NSFUN_EXPECT(text.out.find("\nSTATE running\n") != std::string::npos);
      NSFUN_EXPECT(text.out.find("\nHOLDER " + std::to_string(s.holder.pid) + "\n") !=
                   std::string::npos);
      NSFUN_EXPECT(text.out.find("\nCREATED " + meta.at("created").get<std::string>() + "\n") !=
                   std::string::npos);
      NSFUN_EXPECT(text.out.find("\nCREATOR root (0)\n") != std::string::npos);
      const std::string net = link_text(s.pin("net"));  // "net:[N]\n"
      NSFUN_EXPECT(text.out.find("\nnet  " + net.substr(5, net.size() - 7) + " ") !=
                   std::string::npos);
      NSFUN_EXPECT(nsm_out("destroy " + s.name).status == 0);
      return 0;
    });
  }

  TEST_CASE("a set whose holder died or whose pin is gone is stale in list and inspect") {
    NSFUN_REQUIRE(can_run, "needs root and private mounts");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(nsfun::test::private_run_reaper() == 0);
      TestSet held;
      TestSet pinned;
      NSFUN_EXPECT(held.create("--type pid,uts"));
      NSFUN_EXPECT(pinned.create("--type uts,ipc"));
      auto states = [] {
        std::map<std::string, std::string> out;
        auto j = nlohmann::json::parse(nsm_out("list -J").out, nullptr, false);
        if (!j.is_discarded()) {
          for (const auto& e : j.at("named")) {
            out[e.at("name")] = e.at("state");
          }
        }
        return out;
      };
      auto before = states();
      NSFUN_EXPECT(before[held.name] == "running" && before[pinned.name] == "running");

      const pid_t holder = held.holder.pid;
      NSFUN_EXPECT(::kill(holder, SIGKILL) == 0);
      NSFUN_EXPECT(reaped(holder));
      NSFUN_EXPECT(::umount2(pinned.pin("ipc").c_str(), MNT_DETACH) == 0);

      auto after = states();
      NSFUN_EXPECT(after[held.name] == "stale" && after[pinned.name] == "stale");
      // nsm list says why, as inspect does (the REASON column, "reason" in JSON).
      NSFUN_EXPECT(nsm_out("list").out.find(std::to_string(holder) + " stale ") !=
                   std::string::npos);
      NSFUN_EXPECT(nsm_out("list").out.find(" holder " + std::to_string(holder) + " is gone\n") !=
                   std::string::npos);
      auto h = nlohmann::json::parse(nsm_out("inspect -J " + held.name).out);
      NSFUN_EXPECT(h.at("state") == "stale");
      NSFUN_EXPECT(h.at("problems") ==
                   nlohmann::json::array({"holder " + std::to_string(holder) + " is gone"}));
      auto p = nsm_out("inspect -J " + pinned.name);
      NSFUN_EXPECT(p.status == 0);
      auto pj = nlohmann::json::parse(p.out);
      NSFUN_EXPECT(pj.at("problems") == nlohmann::json::array({"not pinned: ipc"}));
      for (const auto& e : pj.at("namespaces")) {
        NSFUN_EXPECT(e.at("ns").is_null() == (e.at("type") == "ipc"));
        NSFUN_EXPECT((e.at("state") == "not pinned") == (e.at("type") == "ipc"));
      }
      NSFUN_EXPECT(
          nsm_out("inspect " + pinned.name).out.find("\nSTATE stale (not pinned: ipc)\n") !=
          std::string::npos);
      // Both are still removed cleanly.
      NSFUN_EXPECT(nsm_out("destroy " + held.name).status == 0);
      NSFUN_EXPECT(nsm_out("destroy " + pinned.name).status == 0);
      NSFUN_EXPECT(mounts_clean(held.name) && mounts_clean(pinned.name));
      return 0;
    });
  }
}

namespace {

// A name made by `ip netns add`, deleted again when the test leaves (also after a failed check).
struct IpNetns {
  std::string name = nsfun::test::unique_name();

  IpNetns() = default;
  IpNetns(const IpNetns&) = delete;
  IpNetns& operator=(const IpNetns&) = delete;

  ~IpNetns() {
    if (exists("/run/netns/" + name)) {
      (void)nsfun::test::run("ip netns del " + name + " 2>/dev/null");
    }
  }

  [[nodiscard]] bool add() const { return nsfun::test::run("ip netns add " + name).status == 0; }

  // The inode of its net namespace as `ip netns exec` sees it ("4026532257\n").
  [[nodiscard]] std::string inode() const {
    return nsfun::test::run("ip netns exec " + name + " stat -L -c %i /proc/self/ns/net").out;
  }
};

const bool can_ip = can_run && nsfun::test::have_program("ip");

}  // namespace

TEST_SUITE("nsm named sets and ip netns") {
  TEST_CASE("a name made by ip netns add is a net-only set to inspect, enter and exec") {
    NSFUN_REQUIRE(can_ip, "needs root, private mounts and ip");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(nsfun::test::private_run_reaper() == 0);
      IpNetns x;
      NSFUN_EXPECT(x.add());
      const std::string ino = x.inode();
      NSFUN_EXPECT(!ino.empty());
      const std::string want = "net:[" + ino.substr(0, ino.size() - 1) + "]\n";
      for (const std::string verb : {"exec", "enter"}) {
        auto r = nsm_out(verb + " " + x.name + " -- readlink /proc/self/ns/net");
        NSFUN_EXPECT(r.status == 0);
        NSFUN_EXPECT(r.out == want);
      }
      NSFUN_EXPECT(nsm_out("enter " + x.name + " --type uts -- true").status == 1);
      auto j = nlohmann::json::parse(nsm_out("inspect -J " + x.name).out, nullptr, false);
      NSFUN_EXPECT(!j.is_discarded());
      NSFUN_EXPECT(j.at("source") == "ip netns");
      NSFUN_EXPECT(j.at("path") == "/run/netns/" + x.name);
      NSFUN_EXPECT(j.at("types") == nlohmann::json::array({"net"}));
      NSFUN_EXPECT(j.at("state") == "running");
      NSFUN_EXPECT(j.at("holder").is_null());
      NSFUN_EXPECT(j.at("namespaces").size() == 1);
      NSFUN_EXPECT(std::to_string(j.at("namespaces").at(0).at("ns").get<std::uint64_t>()) + "\n" ==
                   ino);
      auto text = nsm_out("inspect " + x.name);
      NSFUN_EXPECT(text.status == 0);
      NSFUN_EXPECT(text.out.find("\nSOURCE ip netns (not a set of nsm's)\n") != std::string::npos);

      // create says that ip netns has the name; destroy says how to remove it.
      auto c = nsm_err("create " + x.name + " --type net,uts");
      NSFUN_EXPECT(c.status == 1);
      NSFUN_EXPECT(c.out == "nsm: " + x.name +
                                ": exists in /run/netns (made by ip netns add); choose another "
                                "name or 'ip netns del " +
                                x.name + "'\n");
      NSFUN_EXPECT(!exists("/run/nsm/" + x.name));
      auto d = nsm_err("destroy " + x.name);
      NSFUN_EXPECT(d.status == 1);
      NSFUN_EXPECT(d.out == "nsm: " + x.name + ": no such named namespace set (/run/netns/" +
                                x.name +
                                " was made by ip netns add: remove it with 'ip netns del " +
                                x.name + "')\n");
      NSFUN_EXPECT(x.inode() == ino);
      NSFUN_EXPECT(nsfun::test::run("ip netns del " + x.name).status == 0);
      auto gone = nsm_err("inspect " + x.name);
      NSFUN_EXPECT(gone.status == 1);
      NSFUN_EXPECT(gone.out == "nsm: " + x.name + ": no such named namespace set\n");
      return 0;
    });
  }

  TEST_CASE("after ip netns del of a set's net namespace, inspect and list say it is stale") {
    NSFUN_REQUIRE(can_ip, "needs root, private mounts and ip");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(nsfun::test::private_run_reaper() == 0);
      TestSet s;
      NSFUN_EXPECT(s.create("--type net,uts"));
      NSFUN_EXPECT(nsfun::test::run("ip netns exec " + s.name + " true").status == 0);
      NSFUN_EXPECT(nlohmann::json::parse(nsm_out("inspect -J " + s.name).out).at("state") ==
                   "running");
      NSFUN_EXPECT(nsfun::test::run("ip netns del " + s.name).status == 0);
      const std::string problem = "net: /run/netns/" + s.name + " is gone (ip netns del?)";
      auto j = nlohmann::json::parse(nsm_out("inspect -J " + s.name).out);
      NSFUN_EXPECT(j.at("state") == "stale");
      NSFUN_EXPECT(j.at("problems") == nlohmann::json::array({problem}));
      NSFUN_EXPECT(nsm_out("inspect " + s.name).out.find("\nSTATE stale (" + problem + ")\n") !=
                   std::string::npos);
      auto list = nlohmann::json::parse(nsm_out("list -J").out).at("named");
      NSFUN_EXPECT(list.size() == 1 && list.at(0).at("state") == "stale");
      NSFUN_EXPECT(list.size() == 1 && list.at(0).at("reason") == problem);
      // The set itself still works, and destroy cleans it.
      NSFUN_EXPECT(nsm_out("exec " + s.name + " -- true").status == 0);
      NSFUN_EXPECT(nsm_out("destroy " + s.name).status == 0);
      NSFUN_EXPECT(!exists(s.dir()));
      NSFUN_EXPECT(mounts_clean(s.name));
      return 0;
    });
  }

  TEST_CASE("a root-owned /run/nsm with mode 0755 is used and tightened, unsafe ones named") {
    NSFUN_REQUIRE(can_run, "needs root and private mounts");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(nsfun::test::private_run_reaper() == 0);
      NSFUN_EXPECT(::mkdir("/run/nsm", 0755) == 0 && ::chmod("/run/nsm", 0755) == 0);
      TestSet s;
      NSFUN_EXPECT(s.create("--type uts"));

      struct stat st {};

      NSFUN_EXPECT(::stat("/run/nsm", &st) == 0 && (st.st_mode & 07777) == 0700);
      NSFUN_EXPECT(nsm_out("exec " + s.name + " -- true").status == 0);
      NSFUN_EXPECT(nsm_out("destroy " + s.name).status == 0);
      NSFUN_EXPECT(!exists("/run/nsm"));
      struct Case {
        mode_t mode;
        uid_t owner;
        std::string why;
      };
      for (const Case& c : {Case{0777, 0, "world-writable (mode 0777)"},
                            Case{0775, 0, "group-writable (mode 0775)"},
                            Case{0700, 1000, "owned by uid 1000, not by uid 0"}}) {
        NSFUN_EXPECT(::mkdir("/run/nsm", 0700) == 0);
        NSFUN_EXPECT(::chmod("/run/nsm", c.mode) == 0 && ::chown("/run/nsm", c.owner, 0) == 0);
        auto r = nsm_err("create " + s.name + " --type uts");
        NSFUN_EXPECT(r.status == 1);
        NSFUN_EXPECT(r.out ==
                     "nsm: " + s.name + ": open /run/nsm: " + c.why + "; refusing to use it\n");
        NSFUN_EXPECT(::rmdir("/run/nsm") == 0);  // nothing made in it
      }
      NSFUN_EXPECT(::mkdir("/run/elsewhere", 0700) == 0 &&
                   ::symlink("/run/elsewhere", "/run/nsm") == 0);
      auto link = nsm_err("create " + s.name + " --type uts");
      NSFUN_EXPECT(link.out ==
                   "nsm: " + s.name + ": open /run/nsm: a symbolic link; refusing to follow it\n");
      NSFUN_EXPECT(::unlink("/run/nsm") == 0 && ::rmdir("/run/elsewhere") == 0);
      return 0;
    });
  }

  TEST_CASE("a user namespace maps the caller to root unless --no-map") {
    NSFUN_REQUIRE(can_run && nsfun::test::can_unshare({NsType::user}), "needs user namespaces");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(nsfun::test::private_run_reaper() == 0);
      TestSet s;
      NSFUN_EXPECT(s.create("--type user,uts"));
      NSFUN_EXPECT(nsm_out("exec " + s.name + " -- id -u").out == "0\n");
      NSFUN_EXPECT(nsm_out("exec " + s.name + " -- hostname foo").status == 0);
      NSFUN_EXPECT(nsm_out("exec " + s.name + " -- hostname").out == "foo\n");
      NSFUN_EXPECT(read_text("/proc/" + std::to_string(::getpid()) + "/status").find("foo") ==
                   std::string::npos);
      TestSet bare;
      NSFUN_EXPECT(bare.create("--type user,uts --no-map"));
      // No map: uid 0 does not exist there. exec switches to uid 0 in the user namespace (as
      // nsenter does), so it says so; --preserve-credentials runs it as the overflow uid.
      auto id_err = nsm_err("exec " + bare.name + " -- id -u");
      NSFUN_EXPECT(id_err.status == 1);
      NSFUN_EXPECT(id_err.out.find("not mapped") != std::string::npos);
      NSFUN_EXPECT(nsm_out("exec " + bare.name + " --preserve-credentials -- id -u").out ==
                   "65534\n");
      NSFUN_EXPECT(nsm_out("exec " + bare.name + " -- hostname foo 2>/dev/null").status != 0);
      auto both = nsm_err("create " + s.name + "-2 --map-root-user --no-map");
      NSFUN_EXPECT(both.status == 2);
      NSFUN_EXPECT(both.out.find("--map-root-user and --no-map exclude each other") !=
                   std::string::npos);
      NSFUN_EXPECT(nsm_out("destroy " + s.name).status == 0);
      NSFUN_EXPECT(nsm_out("destroy " + bare.name).status == 0);
      NSFUN_EXPECT(mounts_clean(s.name));
      return 0;
    });
  }
}
