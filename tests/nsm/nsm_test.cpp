// SPDX-License-Identifier: MIT
// End-to-end tests of nsm: they run the built binary and check its output against lsns and
// readlink of /proc/PID/ns/*.

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <grp.h>
#include <sched.h>
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

using nlohmann::json;
using nsfun::NsType;
using nsfun::test::link_ino;
using nsfun::test::read_text;
using nsfun::test::split_words;

using nsm_test::nsm;
using nsm_test::nsm_err;
using nsm_test::nsm_out;

std::size_t lines(const std::string& s) {
  return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n'));
}

const bool can_isolate = nsfun::test::can_unshare({NsType::uts, NsType::ipc, NsType::net});

// A `sleep` in new uts, ipc and net namespaces; killed and reaped when the test ends.
struct Sleeper {
  nsfun::Child child;

  Sleeper() {
    auto c = nsfun::spawn(nsfun::Command("/bin/sleep")
                              .arg("120")
                              .namespaces({NsType::uts, NsType::ipc, NsType::net})
                              .die_with_parent());
    REQUIRE(c);
    child = std::move(c).value();
    // Wait for the exec, so that every tool sees the same command line.
    std::string want(
        "/bin/sleep\0"
        "120",
        14);
    for (int i = 0; i < 200; ++i) {
      const std::string got = read_text("/proc/" + std::to_string(pid()) + "/cmdline");
      if (got.rfind(want, 0) == 0) {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  Sleeper(const Sleeper&) = delete;
  Sleeper& operator=(const Sleeper&) = delete;

  ~Sleeper() {
    (void)child.kill();
    (void)child.wait();
  }

  [[nodiscard]] pid_t pid() const { return child.pid(); }
};

// In a forked child (nsfun::test::PausedChild): a new net namespace, then uid/gid 65534 without
// exec and non-dumpable, as a daemon worker does after setuid(): the kernel makes its /proc/PID
// files root-owned.
bool become_non_dumpable_nobody() {
  return ::unshare(CLONE_NEWNET) == 0 && ::setgroups(0, nullptr) == 0 &&
         ::setresgid(65534, 65534, 65534) == 0 && ::setresuid(65534, 65534, 65534) == 0 &&
         ::prctl(PR_SET_DUMPABLE, 0) == 0;
}

const json* find_ns(const json& list, std::uint64_t ino, std::string_view type) {
  for (const json& e : list) {
    if (e.at("ns").get<std::uint64_t>() == ino && e.at("type").get<std::string>() == type) {
      return &e;
    }
  }
  return nullptr;
}

// Runs a shell command line as nobody, in a forked child that dropped its privileges; its exit
// status and what it wrote to stdout (through a file, so that a long output cannot block).
nsfun::test::CommandResult run_as_nobody(const std::string& command) {
  const std::string out = "/tmp/" + nsfun::test::unique_name("nsm-nobody-");
  nsfun::test::CommandResult r;
  r.status = nsfun::test::in_child([&] {
    if (nsfun::test::drop_privileges() != 0) {
      return 90;
    }
    auto res = nsfun::test::run(command);
    std::FILE* f = std::fopen(out.c_str(), "we");
    if (f == nullptr) {
      return 91;
    }
    std::fwrite(res.out.data(), 1, res.out.size(), f);
    std::fclose(f);
    return res.status;
  });
  r.out = read_text(out);
  ::unlink(out.c_str());
  return r;
}

// Process tree for -T process: a shell in new net and pid namespaces (their PID 1, so killing it
// ends everything in them) that runs `unshare -ui sleep 120`, so a child of the shell has new
// uts and ipc namespaces. Killed and reaped when the test ends.
struct Family {
  nsfun::Child sh;
  pid_t sleeper = 0;

  Family() {
    auto c = nsfun::spawn(nsfun::Command("/bin/sh")
                              .arg("-c")
                              .arg("unshare -ui sleep 120 & wait")
                              .namespaces({NsType::net, NsType::pid})
                              .die_with_parent());
    REQUIRE(c);
    sh = std::move(c).value();
    const std::string children =
        "/proc/" + std::to_string(sh.pid()) + "/task/" + std::to_string(sh.pid()) + "/children";
    const std::string want(
        "sleep\0"
        "120",
        9);
    // Until the child has exec'd sleep in its own uts and ipc namespaces.
    for (int i = 0; i < 500 && sleeper == 0; ++i) {
      std::ifstream in(children);
      pid_t kid = 0;
      if (in >> kid && read_text("/proc/" + std::to_string(kid) + "/cmdline").rfind(want, 0) == 0 &&
          link_ino(kid, "uts") != link_ino(sh.pid(), "uts") &&
          link_ino(kid, "ipc") != link_ino(sh.pid(), "ipc")) {
        sleeper = kid;
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
    REQUIRE(sleeper != 0);
  }

  Family(const Family&) = delete;
  Family& operator=(const Family&) = delete;

  ~Family() {
    (void)sh.kill();
    (void)sh.wait();
  }
};

using NsKey = std::pair<std::string, std::uint64_t>;  // type, inode

// The parent of every node of a -T JSON tree (lsns's or nsm's); roots map to {"", 0}.
void tree_parents(const json& nodes, const NsKey& parent, std::map<NsKey, NsKey>& out) {
  for (const json& n : nodes) {
    NsKey key{n.at("type").get<std::string>(), n.at("ns").get<std::uint64_t>()};
    out[key] = parent;
    if (n.contains("children")) {
      tree_parents(n.at("children"), key, out);
    }
  }
}

// Nested pid namespaces: a shell that is PID 1 of a new pid namespace (`outer`) runs
// `unshare -pf sleep 120`, whose sleep is PID 1 of a second one (`inner`) under the first.
// Killing the shell ends both; it is killed and reaped when the test ends.
struct PidNest {
  nsfun::Child sh;
  std::uint64_t outer = 0;
  std::uint64_t inner = 0;

  PidNest() {
    auto c = nsfun::spawn(nsfun::Command("/bin/sh")
                              .arg("-c")
                              .arg("unshare -pf sleep 120 & wait")
                              .namespaces({NsType::pid})
                              .die_with_parent());
    REQUIRE(c);
    sh = std::move(c).value();
    outer = link_ino(sh.pid(), "pid");
    auto first_child = [](pid_t p) {
      std::ifstream in("/proc/" + std::to_string(p) + "/task/" + std::to_string(p) + "/children");
      pid_t kid = 0;
      in >> kid;
      return kid;
    };
    const std::string want(
        "sleep\0"
        "120",
        9);
    // Until unshare's child has exec'd sleep in its own pid namespace.
    for (int i = 0; i < 500 && inner == 0; ++i) {
      const pid_t unshare = first_child(sh.pid());
      const pid_t sleep = unshare != 0 ? first_child(unshare) : 0;
      if (sleep != 0 &&
          read_text("/proc/" + std::to_string(sleep) + "/cmdline").rfind(want, 0) == 0 &&
          link_ino(sleep, "pid") != outer) {
        inner = link_ino(sleep, "pid");
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
    REQUIRE(outer != 0);
    REQUIRE(inner != 0);
  }

  PidNest(const PidNest&) = delete;
  PidNest& operator=(const PidNest&) = delete;

  ~PidNest() {
    (void)sh.kill();
    (void)sh.wait();
  }
};

// The node of namespace `ino` anywhere in a JSON tree, or nullptr.
const json* find_node(const json& nodes, std::uint64_t ino) {
  for (const json& n : nodes) {
    if (n.at("ns").get<std::uint64_t>() == ino) {
      return &n;
    }
    if (n.contains("children")) {
      if (const json* found = find_node(n.at("children"), ino)) {
        return found;
      }
    }
  }
  return nullptr;
}

// The whole line of `text` that contains `needle`, "" when none does.
std::string line_with(const std::string& text, const std::string& needle) {
  const std::size_t at = text.find(needle);
  if (at == std::string::npos) {
    return {};
  }
  const std::size_t newline = text.rfind('\n', at);
  const std::size_t begin = newline == std::string::npos ? 0 : newline + 1;
  return text.substr(begin, text.find('\n', at) - begin);
}

// In a text tree: `outer` (a child of a root) drawn with a branch, then right after it `inner`,
// its only child, one level deeper.
void check_drawn_nested(const std::string& text,
                        const std::string& outer,
                        const std::string& inner) {
  const std::string lo = line_with(text, outer);
  const std::string li = line_with(text, inner);
  INFO(text);
  const bool last = lo.rfind("└─" + outer, 0) == 0;
  CHECK((last || lo.rfind("├─" + outer, 0) == 0));
  CHECK(li.rfind((last ? "  " : "│ ") + std::string("└─") + inner, 0) == 0);
  CHECK(text.find(lo + "\n" + li + "\n") != std::string::npos);
}

}  // namespace

TEST_SUITE("nsm list") {
  TEST_CASE("list json agrees with lsns json for the namespaces of a test child") {
    NSFUN_REQUIRE(can_isolate, "cannot unshare uts ipc net");
    NSFUN_REQUIRE(nsfun::test::have_program("lsns"), "no lsns");
    Sleeper s;
    const std::string cols = "NS,TYPE,NPROCS,PID,PPID,USER,COMMAND";
    auto ours = nsm_out("list -J -o " + cols);
    auto theirs = nsfun::test::run("lsns -J -o " + cols + " 2>/dev/null");
    REQUIRE(ours.status == 0);
    REQUIRE(theirs.status == 0);
    json a = json::parse(ours.out).at("namespaces");
    json b = json::parse(theirs.out).at("namespaces");
    for (const char* type : {"uts", "ipc", "net"}) {
      std::uint64_t ino = link_ino(s.pid(), type);
      REQUIRE(ino != 0);
      const json* x = find_ns(a, ino, type);
      const json* y = find_ns(b, ino, type);
      REQUIRE(x != nullptr);
      REQUIRE(y != nullptr);
      for (const char* key : {"ns", "type", "nprocs", "pid", "ppid", "user", "command"}) {
        CHECK_MESSAGE((*x).at(key) == (*y).at(key), type << " " << key);
      }
      CHECK((*x).at("pid").get<pid_t>() == s.pid());
      CHECK((*x).at("nprocs").get<int>() == 1);
    }
  }

  TEST_CASE("issue #12: list shows the euid of a non-dumpable process, as lsns does") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::net}), "cannot unshare net");
    NSFUN_REQUIRE(nsfun::test::can_drop_privileges(), "cannot switch to uid 65534");
    NSFUN_REQUIRE(nsfun::test::have_program("lsns"), "no lsns");
    nsfun::test::PausedChild p(become_non_dumpable_nobody);  // killed when the test ends
    REQUIRE(p.pid() > 0);
    std::uint64_t ino = link_ino(p.pid(), "net");
    REQUIRE(ino != 0);

    // Its files are root's; the directory keeps the euid.
    struct stat file {};

    REQUIRE(::stat(("/proc/" + std::to_string(p.pid()) + "/cmdline").c_str(), &file) == 0);
    CHECK(file.st_uid == 0);
    const std::string cols = "NS,TYPE,PID,UID,USER";
    auto ours = nsm_out("list -J -t net -o " + cols);
    auto theirs = nsfun::test::run("lsns -J -t net -o " + cols + " 2>/dev/null");
    REQUIRE(ours.status == 0);
    REQUIRE(theirs.status == 0);
    const json a = json::parse(ours.out).at("namespaces");
    const json b = json::parse(theirs.out).at("namespaces");
    const json* x = find_ns(a, ino, "net");
    const json* y = find_ns(b, ino, "net");
    REQUIRE(x != nullptr);
    REQUIRE(y != nullptr);
    CHECK((*y).at("uid").get<int>() == 65534);
    CHECK((*x).at("uid") == (*y).at("uid"));
    CHECK((*x).at("user") == (*y).at("user"));
    // The scanner's own uid field says the same.
    nsfun::ProcScanOptions o;
    o.uid = true;
    auto procs = nsfun::scan_procs(o);
    REQUIRE(procs);
    auto it = std::find_if(procs.value().procs.begin(), procs.value().procs.end(),
                           [&](const nsfun::ProcEntry& e) { return e.pid == p.pid(); });
    REQUIRE(it != procs.value().procs.end());
    CHECK(it->uid == 65534);
    o.cmdline = true;
    auto with_files = nsfun::scan_procs(o);
    REQUIRE(with_files);
    it = std::find_if(with_files.value().procs.begin(), with_files.value().procs.end(),
                      [&](const nsfun::ProcEntry& e) { return e.pid == p.pid(); });
    REQUIRE(it != with_files.value().procs.end());
    CHECK(it->uid == 65534);
  }

  TEST_CASE("list task shows every namespace of that process") {
    auto r = nsm_out("list -J -p " + std::to_string(::getpid()));
    REQUIRE(r.status == 0);
    json list = json::parse(r.out).at("namespaces");
    std::size_t readable = 0;
    for (NsType t : nsfun::all_ns_types) {
      std::uint64_t ino = link_ino(::getpid(), nsfun::name(t));
      if (ino != 0) {
        ++readable;
        CHECK_MESSAGE(find_ns(list, ino, nsfun::name(t)) != nullptr, nsfun::name(t));
      }
    }
    CHECK(list.size() == readable);
  }

  TEST_CASE("list task of an isolated child counts one process in its new namespaces") {
    NSFUN_REQUIRE(can_isolate, "cannot unshare uts ipc net");
    Sleeper s;
    auto r = nsm_out("list -J -t net -p " + std::to_string(s.pid()));
    REQUIRE(r.status == 0);
    json list = json::parse(r.out).at("namespaces");
    REQUIRE(list.size() == 1);
    CHECK(list[0].at("ns").get<std::uint64_t>() == link_ino(s.pid(), "net"));
    CHECK(list[0].at("nprocs").get<int>() == 1);
  }

  TEST_CASE("list type accepts repeated options and comma lists") {
    auto r = nsm_out("list -J -t net -t uts,ipc");
    REQUIRE(r.status == 0);
    json list = json::parse(r.out).at("namespaces");
    CHECK(!list.empty());
    for (const json& e : list) {
      std::string t = e.at("type");
      CHECK((t == "net" || t == "uts" || t == "ipc"));
    }
  }

  TEST_CASE("list output with a plus extends the default columns in order") {
    auto r = nsm_out("list -J -o +PPID,pns,ONS,PATH,NSID -p " + std::to_string(::getpid()));
    REQUIRE(r.status == 0);
    // Parsed keeping the key order nsm wrote.
    nlohmann::ordered_json first = nlohmann::ordered_json::parse(r.out).at("namespaces").at(0);
    std::vector<std::string> keys;
    for (const auto& item : first.items()) {
      keys.push_back(item.key());
    }
    CHECK(keys == std::vector<std::string>{"ns", "type", "nprocs", "pid", "user", "command", "ppid",
                                           "pns", "ons", "path", "nsid"});
  }

  TEST_CASE("list lays out columns with lsns's width hints, as libsmartcols does") {
    NSFUN_REQUIRE(nsfun::test::have_program("lsns"), "no lsns");
    // kthreadd: pid 2, ppid 0, shorter than the PID heading (no hint then), and TYPE "user" as
    // wide as its heading (widened to the hint of 5) but "uts" narrower (not widened).
    for (const char* type : {"user", "uts"}) {
      const std::string args = std::string(" -p 2 -t ") + type + " -o NS,TYPE,PID,PPID,NPROCS";
      // NPROCS counts every process: one that starts or ends between the two runs changes it,
      // so a difference is retried (up to 5 times) before it counts.
      nsfun::test::CommandResult theirs;
      nsfun::test::CommandResult ours;
      for (int attempt = 0; attempt < 5; ++attempt) {
        theirs = nsfun::test::run("lsns" + args + " 2>/dev/null");
        NSFUN_REQUIRE(theirs.status == 0 && !theirs.out.empty(), "lsns cannot read pid 2");
        ours = nsm_out("list" + args);
        REQUIRE(ours.status == 0);
        if (ours.out == theirs.out) {
          break;
        }
      }
      CHECK_MESSAGE(ours.out == theirs.out, type);
    }
    CHECK(nsm_out("list -p 2 -t user -o NS,TYPE,PID").out.rfind("        NS TYPE  PID\n", 0) == 0);
  }

  TEST_CASE("list raw and noheadings print one line per namespace") {
    const std::string self = std::to_string(::getpid());
    auto with = nsm_out("list -r -p " + self);
    auto without = nsm_out("list -r -n -p " + self);
    auto as_json = nsm_out("list -J -p " + self);
    REQUIRE(with.status == 0);
    REQUIRE(without.status == 0);
    CHECK(with.out.rfind("NS TYPE NPROCS PID USER COMMAND\n", 0) == 0);
    CHECK(lines(with.out) == lines(without.out) + 1);
    CHECK(lines(without.out) == json::parse(as_json.out).at("namespaces").size());
    // Raw output escapes blanks, so every line has exactly six fields.
    std::size_t start = 0;
    while (start < without.out.size()) {
      std::size_t nl = without.out.find('\n', start);
      std::string line = without.out.substr(start, nl - start);
      CHECK(std::count(line.begin(), line.end(), ' ') == 5);
      start = nl + 1;
    }
  }

  TEST_CASE("list shows a namespace held only by a bind mount") {
    NSFUN_REQUIRE(can_isolate, "cannot unshare uts ipc net");
    std::string path = "/tmp/" + nsfun::test::unique_name("nsm-pin-");
    std::uint64_t ino = 0;
    {
      Sleeper s;
      auto ns = nsfun::NsFd::open(s.pid(), NsType::net);
      REQUIRE(ns);
      auto pinned = nsfun::pin(ns.value(), path.c_str());
      // Skipped only when not allowed to mount; any other failure of pin fails the test.
      const bool denied = !pinned && (pinned.error() == std::errc::operation_not_permitted ||
                                      pinned.error() == std::errc::permission_denied);
      NSFUN_REQUIRE(!denied, "cannot bind-mount a namespace here");
      REQUIRE(pinned);
      ino = ns.value().identity().ino();
    }
    auto r = nsm_out("list -J -t net -o NS,TYPE,NPROCS,PID,PATH");
    auto table = nsm_out("list -t net");
    (void)nsfun::unpin(path.c_str());
    REQUIRE(r.status == 0);
    const json list = json::parse(r.out).at("namespaces");
    const json* e = find_ns(list, ino, "net");
    REQUIRE(e != nullptr);
    CHECK(e->at("nprocs").get<int>() == 0);
    CHECK(e->at("pid").is_null());
    CHECK(e->at("path").get<std::string>() == path);
    CHECK(table.out.find(path) != std::string::npos);
  }

  TEST_CASE("list tree nests namespaces under their owner") {
    auto r = nsm_out("list -J -T owner -p " + std::to_string(::getpid()));
    REQUIRE(r.status == 0);
    json list = json::parse(r.out).at("namespaces");
    REQUIRE(list.size() == 1);
    CHECK(list[0].at("type") == "user");
    CHECK(list[0].at("children").size() >= 6);
    auto parent = nsm_out("list -T parent -t pid,user");
    CHECK(parent.status == 0);
  }

  TEST_CASE("list works unprivileged and shows the callers own processes") {
    NSFUN_REQUIRE(nsfun::test::can_drop_privileges(), "cannot drop privileges");
    auto r = run_as_nobody("sh -c 'sleep 30 & " + nsm + " list -J -o NS,TYPE,PID,USER; kill $!'");
    REQUIRE(r.status == 0);
    json list = json::parse(r.out).at("namespaces");
    CHECK(!list.empty());
    bool own = std::any_of(list.begin(), list.end(),
                           [](const json& e) { return e.at("user") == "nobody"; });
    CHECK(own);
  }

  TEST_CASE("list tree process nests namespaces under those of the parent process") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::net, NsType::pid, NsType::uts, NsType::ipc}),
                  "cannot unshare net pid uts ipc");
    NSFUN_REQUIRE(nsfun::test::have_program("unshare"), "no unshare");
    Family f;
    NSFUN_REQUIRE(f.sleeper > f.sh.pid(), "pids wrapped around: the sleep is not the higher pid");
    const NsKey net{"net", link_ino(f.sh.pid(), "net")};
    const NsKey pid{"pid", link_ino(f.sh.pid(), "pid")};
    const NsKey uts{"uts", link_ino(f.sleeper, "uts")};
    const NsKey ipc{"ipc", link_ino(f.sleeper, "ipc")};

    auto r = nsm_out("list -J -T process -o NS,TYPE,PID,PPID,COMMAND");
    REQUIRE(r.status == 0);
    std::map<NsKey, NsKey> ours;
    tree_parents(json::parse(r.out).at("namespaces"), {"", 0}, ours);
    // The sleep's namespaces go under one of the shell's, the namespaces whose lowest pid is the
    // shell; the shell's own stay at the top, since the test runner is nobody's lowest pid.
    for (const NsKey& k : {uts, ipc}) {
      REQUIRE_MESSAGE(ours.count(k) == 1, k.first);
      CHECK_MESSAGE((ours[k] == net || ours[k] == pid), k.first);
    }
    CHECK(ours.at(net) == NsKey{"", 0});
    CHECK(ours.at(pid) == NsKey{"", 0});
    // Host namespaces are at the top or under another host namespace, never under ours.
    // No structured binding: CHECK_MESSAGE captures in a lambda, which clang 14 (the clang-tidy
    // run) refuses for a binding.
    for (const auto& entry : ours) {
      const NsKey& k = entry.first;
      const NsKey& parent = entry.second;
      if (k != uts && k != ipc) {
        CHECK_MESSAGE((parent != net && parent != pid), k.first << " " << k.second);
      }
    }

    // Where lsns nests one of these namespaces, nsm nests it under the same one. (lsns leaves
    // one at the top when the parent process's namespaces all have higher inodes.)
    if (nsfun::test::have_program("lsns")) {
      auto l = nsfun::test::run("lsns -J --tree=process -o NS,TYPE,PID,PPID,COMMAND 2>/dev/null");
      if (l.status == 0) {
        std::map<NsKey, NsKey> theirs;
        tree_parents(json::parse(l.out).at("namespaces"), {"", 0}, theirs);
        for (const NsKey& k : {net, pid, uts, ipc}) {
          if (theirs.count(k) == 1 && theirs[k] != NsKey{"", 0}) {
            CHECK_MESSAGE(ours[k] == theirs[k], k.first);
          }
        }
      }
    }

    // The table draws the tree in the COMMAND column; raw output has no tree characters.
    auto text = nsm_out("list -T process -o NS,TYPE,PID,COMMAND");
    REQUIRE(text.status == 0);
    for (const NsKey& k : {uts, ipc}) {
      const std::size_t at = text.out.find(std::to_string(k.second) + " " + k.first);
      REQUIRE(at != std::string::npos);
      const std::string line = text.out.substr(at, text.out.find('\n', at) - at);
      CHECK_MESSAGE(line.find("─sleep 120") != std::string::npos, line);
    }
    auto raw = nsm_out("list -r -T process");
    REQUIRE(raw.status == 0);
    CHECK(raw.out.find("─") == std::string::npos);
    CHECK(raw.out.find("sleep\\x20120") != std::string::npos);
  }
}

TEST_SUITE("nsm inspect and diff") {
  TEST_CASE("inspect json matches readlink of every proc ns link") {
    NSFUN_REQUIRE(can_isolate, "cannot unshare uts ipc net");
    Sleeper s;
    auto r = nsm_out("inspect -J " + std::to_string(s.pid()));
    REQUIRE(r.status == 0);
    json j = json::parse(r.out);
    CHECK(j.at("pid").get<pid_t>() == s.pid());
    CHECK(j.at("nspid").at(0).get<pid_t>() == s.pid());
    json links = j.at("namespaces");
    REQUIRE(links.size() == 10);
    for (const json& e : links) {
      std::string link = e.at("link");
      CHECK_MESSAGE(e.at("ns").get<std::uint64_t>() == link_ino(s.pid(), link), link);
      // The test runs in the host's namespaces, and so does nsm: whichever reference nsm
      // took (PID 1, or itself where PID 1 is unreadable), the sleeper's new ones differ.
      std::string state = e.at("state");
      const bool made = link == "net" || link == "uts" || link == "ipc";
      CHECK_MESSAGE(state == (made ? "isolated" : "host"), link);
    }
    const std::string kind = j.at("reference");
    CHECK((kind == "init" || kind == "nsm"));
    CHECK((kind == "init") == (j.at("reference_pid").get<pid_t>() == 1));
    auto text = nsm_out("inspect " + std::to_string(s.pid()));
    CHECK(text.status == 0);
    CHECK(text.out.find("pid_for_children") != std::string::npos);
    CHECK(text.out.find(kind == "init" ? "\nHOST pid 1 (init)\n" : "\nHOST nsm itself (pid ") !=
          std::string::npos);
  }

  TEST_CASE("inspect shows the cgroup, a non-identity id map and the owners of a process") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::user, NsType::uts}), "cannot unshare user");
    auto c = nsfun::spawn(nsfun::Command("/bin/sleep")
                              .arg("120")
                              .namespaces({NsType::user, NsType::uts})
                              .user_map(nsfun::UserMap::root_is(::getuid(), ::getgid()).value())
                              .die_with_parent());
    REQUIRE(c);

    struct Reap {
      nsfun::Child child;

      ~Reap() {
        (void)child.kill();
        (void)child.wait();
      }
    } guard{std::move(c).value()};

    const pid_t pid = guard.child.pid();
    auto r = nsm_out("inspect -J " + std::to_string(pid));
    REQUIRE(r.status == 0);
    json j = json::parse(r.out);

    std::vector<std::string> cgroup;
    std::ifstream in("/proc/" + std::to_string(pid) + "/cgroup");
    for (std::string line; std::getline(in, line);) {
      cgroup.push_back(line);
    }
    CHECK(!cgroup.empty());
    CHECK(j.at("cgroup") == json(cgroup));
    CHECK(j.at("uid_map") == json::parse(R"([{"inside": 0, "outside": )" +
                                         std::to_string(::getuid()) + R"(, "count": 1}])"));
    CHECK(j.at("gid_map") == json::parse(R"([{"inside": 0, "outside": )" +
                                         std::to_string(::getgid()) + R"(, "count": 1}])"));
    // Its uts namespace belongs to its new user namespace; the rest (and that user namespace
    // itself) to ours.
    const std::uint64_t ours = link_ino(::getpid(), "user");
    const std::uint64_t theirs = link_ino(pid, "user");
    for (const json& e : j.at("namespaces")) {
      const std::string link = e.at("link");
      CHECK_MESSAGE(e.at("ons").get<std::uint64_t>() == (link == "uts" ? theirs : ours), link);
    }

    auto text = nsm_out("inspect " + std::to_string(pid));
    CHECK(text.out.find("CGROUP " + cgroup.front() + "\n") != std::string::npos);
    CHECK(text.out.find("UID MAP ") != std::string::npos);
    CHECK(text.out.find("GID MAP ") != std::string::npos);
    // The identity maps of a process in the initial user namespace are not shown.
    auto self = nsm_out("inspect -J " + std::to_string(::getpid()));
    REQUIRE(self.status == 0);
    CHECK(json::parse(self.out).at("uid_map").is_null());
    CHECK(json::parse(self.out).at("gid_map").is_null());
  }

  TEST_CASE("diff of a child in three new namespaces counts three differences") {
    NSFUN_REQUIRE(can_isolate, "cannot unshare uts ipc net");
    Sleeper s;
    const pid_t self = ::getpid();
    auto r = nsm_out("diff -J " + std::to_string(self) + " " + std::to_string(s.pid()));
    REQUIRE(r.status == 0);
    json j = json::parse(r.out);
    CHECK(j.at("differ").get<int>() == 3);
    CHECK(j.at("total").get<int>() == 10);
    CHECK(j.at("command2") == "/bin/sleep 120");
    const std::string argv0 = read_text("/proc/self/cmdline").c_str();  // up to the first NUL
    CHECK(j.at("command1").get<std::string>().rfind(argv0, 0) == 0);
    for (const json& e : j.at("links")) {
      std::string link = e.at("link");
      CHECK(e.at("ns1").get<std::uint64_t>() == link_ino(self, link));
      CHECK(e.at("ns2").get<std::uint64_t>() == link_ino(s.pid(), link));
      bool differs = link == "net" || link == "uts" || link == "ipc";
      CHECK_MESSAGE(e.at("same").get<bool>() == !differs, link);
    }
    auto text = nsm_out("diff " + std::to_string(self) + " " + std::to_string(s.pid()));
    CHECK(text.status == 0);
    CHECK(text.out.find("3 of 10 differ") != std::string::npos);
    // Both command lines come first, as the bash nsm's compare shows them.
    CHECK(text.out.find("PID " + std::to_string(s.pid()) + ": /bin/sleep 120\n") !=
          std::string::npos);
  }

  TEST_CASE("diff of a process with itself finds nothing and exits 0") {
    const std::string self = std::to_string(::getpid());
    auto r = nsm_out("diff " + self + " " + self);
    CHECK(r.status == 0);
    CHECK(r.out.find("0 of 10 differ") != std::string::npos);
  }
}

TEST_SUITE("nsm tree and ps") {
  TEST_CASE("tree and list -T parent draw a nested pid namespace one level under its parent") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::pid}), "cannot unshare pid");
    NSFUN_REQUIRE(nsfun::test::have_program("unshare"), "no unshare");
    PidNest n;
    const std::string outer = std::to_string(n.outer);
    const std::string inner = std::to_string(n.inner);

    auto text = nsm_out("tree");
    REQUIRE(text.status == 0);
    check_drawn_nested(text.out, "pid:[" + outer + "]", "pid:[" + inner + "]");
    auto list = nsm_out("list -T parent -t pid -o NS,TYPE");
    REQUIRE(list.status == 0);
    check_drawn_nested(list.out, outer + " ", inner + " ");
    auto raw = nsm_out("list -r -T parent -t pid -o NS,TYPE");
    REQUIRE(raw.status == 0);
    CHECK(raw.out.find("\n" + inner + " pid\n") != std::string::npos);

    // JSON: tree gives every node a "children" array, list only a node that has children.
    auto tj = nsm_out("tree -J");
    REQUIRE(tj.status == 0);
    const json tree_pid = json::parse(tj.out).at("pid");
    const json* to = find_node(tree_pid, n.outer);
    REQUIRE(to != nullptr);
    REQUIRE(to->at("children").size() == 1);
    CHECK(to->at("children")[0].at("ns").get<std::uint64_t>() == n.inner);
    CHECK(to->at("children")[0].at("children") == json::array());
    auto lj = nsm_out("list -J -T parent -t pid");
    REQUIRE(lj.status == 0);
    const json list_ns = json::parse(lj.out).at("namespaces");
    const json* lo = find_node(list_ns, n.outer);
    REQUIRE(lo != nullptr);
    REQUIRE(lo->at("children").size() == 1);
    CHECK(lo->at("children")[0].at("ns").get<std::uint64_t>() == n.inner);
    CHECK(!lo->at("children")[0].contains("children"));
    CHECK(find_node(list_ns, n.inner) == &lo->at("children")[0]);
  }

  TEST_CASE("tree json has both hierarchies and a summary") {
    auto r = nsm_out("tree -J");
    REQUIRE(r.status == 0);
    json j = json::parse(r.out);
    CHECK(!j.at("user").empty());
    CHECK(!j.at("pid").empty());
    CHECK(j.at("summary").size() == 8);
  }

  TEST_CASE("ps groups an isolated child alone in its network namespace") {
    NSFUN_REQUIRE(can_isolate, "cannot unshare uts ipc net");
    Sleeper s;
    auto r = nsm_out("ps -J --ns-type net");
    REQUIRE(r.status == 0);
    json j = json::parse(r.out);
    CHECK(j.at("type") == "net");
    bool found = false;
    for (const json& g : j.at("groups")) {
      if (g.at("ns").get<std::uint64_t>() == link_ino(s.pid(), "net")) {
        found = true;
        CHECK(g.at("nprocs").get<int>() == 1);
        CHECK(g.at("processes").at(0).at("pid").get<pid_t>() == s.pid());
        CHECK(g.at("processes").at(0).at("command") == "/bin/sleep 120");
      }
    }
    CHECK(found);
    // The type as a positional (the bash nsm's `nsm ps net`) is the same listing.
    auto positional = nsm_out("ps -J net");
    REQUIRE(positional.status == 0);
    json p = json::parse(positional.out);
    CHECK(p.at("type") == "net");
    bool found_again = false;
    for (const json& g : p.at("groups")) {
      found_again = found_again || g.at("ns").get<std::uint64_t>() == link_ino(s.pid(), "net");
    }
    CHECK(found_again);
  }

  TEST_CASE("ps groups by pid_for_children and time_for_children") {
    for (const char* link : {"pid_for_children", "time_for_children"}) {
      auto r = nsm_out(std::string("ps -J ") + link);
      REQUIRE_MESSAGE(r.status == 0, link);
      json j = json::parse(r.out);
      CHECK(j.at("type") == link);
      // This test's own process is in the group of its own link's namespace.
      const std::uint64_t mine = link_ino(::getpid(), link);
      bool found = false;
      for (const json& g : j.at("groups")) {
        if (g.at("ns").get<std::uint64_t>() != mine) {
          continue;
        }
        CHECK(g.at("type") == link);
        for (const json& proc : g.at("processes")) {
          found = found || proc.at("pid").get<pid_t>() == ::getpid();
        }
      }
      CHECK_MESSAGE(found, link);
    }
  }
}

TEST_SUITE("nsm unprivileged") {
  TEST_CASE("read-only commands work as nobody and show what nobody can see") {
    NSFUN_REQUIRE(nsfun::test::can_drop_privileges(), "cannot drop privileges");
    // $$ is the shell that popen starts for the command line, a process of nobody.
    auto inspect = run_as_nobody(nsm + " inspect -J $$");
    REQUIRE(inspect.status == 0);
    json i = json::parse(inspect.out);
    CHECK(i.at("user") == "nobody");
    CHECK(!i.at("cgroup").empty());
    REQUIRE(i.at("namespaces").size() == 10);
    for (const json& e : i.at("namespaces")) {
      CHECK_MESSAGE(!e.at("ns").is_null(), e.at("link"));
    }

    // PID 1's links are closed to nobody: shown as unknown, not an error.
    auto diff = run_as_nobody(nsm + " diff -J 1 $$");
    REQUIRE(diff.status == 0);
    json d = json::parse(diff.out);
    CHECK(d.at("unknown").get<int>() == 10);
    CHECK(d.at("differ").get<int>() == 10);
    for (const json& e : d.at("links")) {
      CHECK(e.at("ns1").is_null());
      CHECK(!e.at("ns2").is_null());
    }
    auto self = run_as_nobody(nsm + " diff $$ $$");
    CHECK(self.status == 0);
    CHECK(self.out.find("0 of 10 differ\n") != std::string::npos);

    auto tree = run_as_nobody(nsm + " tree -J");
    REQUIRE(tree.status == 0);
    json t = json::parse(tree.out);
    CHECK(!t.at("user").empty());
    CHECK(t.at("summary").size() == 8);

    auto ps = run_as_nobody(nsm + " ps -J");
    REQUIRE(ps.status == 0);
    bool seen = false;
    const json groups = json::parse(ps.out).at("groups");
    for (const json& g : groups) {
      for (const json& p : g.at("processes")) {
        seen = seen || p.at("command").get<std::string>().find("nsm ps -J") != std::string::npos;
      }
    }
    CHECK_MESSAGE(seen, ps.out);

    auto process_tree = run_as_nobody(nsm + " list -J -T process");
    REQUIRE(process_tree.status == 0);
    CHECK(!json::parse(process_tree.out).at("namespaces").empty());
  }

  TEST_CASE("enter of a process whose namespaces nobody may open fails instead of running here") {
    NSFUN_REQUIRE(nsfun::test::can_drop_privileges(), "cannot drop privileges");
    auto r = run_as_nobody(nsm + " enter 1 -- echo ran 2>&1; echo status $?");
    CHECK(r.out.find("ran") == std::string::npos);
    // One line naming the pid, the step that was refused, and why.
    const std::string first = r.out.substr(0, r.out.find('\n'));
    CHECK_MESSAGE(first.rfind("nsm: pid 1: ", 0) == 0, first);
    CHECK_MESSAGE(first.size() > std::string("nsm: pid 1: Permission denied").size(), first);
    CHECK_MESSAGE(first.find(": Permission denied") != std::string::npos, first);
    CHECK(r.out.find("status 1\n") != std::string::npos);
  }
}

TEST_SUITE("nsm errors") {
  TEST_CASE("an unknown pid fails with exit 1 and one line") {
    for (const char* args : {"list -p 999999", "inspect 999999", "diff 1 999999"}) {
      auto r = nsm_err(args);
      CHECK_MESSAGE(r.status == 1, args);
      CHECK_MESSAGE(r.out == "nsm: pid 999999: No such process\n", args);
    }
  }

  TEST_CASE("the bash nsm's command names are aliases of the same commands") {
    const std::string self = std::to_string(::getpid());
    for (const auto& names :
         {std::pair{"info", "inspect"}, std::pair{"new", "create"}, std::pair{"shell", "enter"},
          std::pair{"run", "exec"}, std::pair{"compare", "diff"}, std::pair{"rm", "destroy"},
          std::pair{"del", "destroy"}, std::pair{"procs", "ps"}}) {
      // (Named copies: clang 14 cannot capture a structured binding in CHECK's lambda.)
      const std::string alias = names.first;
      const std::string name = names.second;
      auto a = nsm_out(alias + " --help");
      CHECK_MESSAGE(a.status == 0, alias);
      CHECK_MESSAGE(a.out == nsm_out(name + " --help").out, alias);
    }
    // And they run: the same output as the command they stand for (less inspect's HOST line,
    // which names nsm's own pid where PID 1 is unreadable).
    auto without_host = [](std::string text) {
      const std::size_t at = text.find("\nHOST ");
      if (at != std::string::npos) {
        text.erase(at, text.find('\n', at + 1) - at);
      }
      return text;
    };
    auto info = nsm_out("info " + self);
    CHECK(info.status == 0);
    CHECK(info.out.rfind("PID " + self + "\n", 0) == 0);
    CHECK(without_host(info.out) == without_host(nsm_out("inspect " + self).out));
    CHECK(nsm_out("compare 1 " + self).out == nsm_out("diff 1 " + self).out);
    auto procs = nsm_out("procs --ns-type uts");
    CHECK(procs.status == 0);
    CHECK(procs.out.find("uts:[") != std::string::npos);
  }

  TEST_CASE("the bash completion offers the aliases, the new options and ps's link types") {
    // Completes the words as bash would and prints COMPREPLY, one per line.
    auto complete = [](const std::string& words) {
      return nsfun::test::run("bash -c 'source " NSM_COMPLETION "; COMP_WORDS=(" + words +
                              "); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _nsm; "
                              "printf \"%s\\n\" \"${COMPREPLY[@]}\"' 2>&1");
    };
    auto commands = split_words(complete("nsm \"\"").out);
    for (const char* name : {"info", "new", "shell", "run", "compare", "rm", "del", "procs", "help",
                             "list", "destroy", "monitor", "watch"}) {
      CHECK_MESSAGE(std::find(commands.begin(), commands.end(), name) != commands.end(), name);
    }
    CHECK(split_words(complete("nsm list --na").out) == std::vector<std::string>{"--named"});
    CHECK(split_words(complete("nsm monitor --back").out) == std::vector<std::string>{"--backend"});
    CHECK(split_words(complete("nsm watch --backend c").out) ==
          std::vector<std::string>{"connector"});
    CHECK(split_words(complete("nsm monitor -t ne").out) == std::vector<std::string>{"net"});
    CHECK(split_words(complete("nsm watch --proc").out) == std::vector<std::string>{"--processes"});
    CHECK(split_words(complete("nsm procs pid_").out) ==
          std::vector<std::string>{"pid_for_children"});
    CHECK(split_words(complete("nsm ps --ns-type time").out) ==
          std::vector<std::string>{"time", "time_for_children"});
    // enter takes nsenter's options, and its -t is a pid there; create has --no-map.
    CHECK(split_words(complete("nsm enter --preserve").out) ==
          std::vector<std::string>{"--preserve-credentials"});
    CHECK(split_words(complete("nsm enter --join").out) ==
          std::vector<std::string>{"--join-cgroup"});
    const std::string self = std::to_string(::getpid());
    auto pids = split_words(complete("nsm enter -t " + self).out);
    CHECK(std::find(pids.begin(), pids.end(), self) != pids.end());
    CHECK(split_words(complete("nsm list -t ne").out) == std::vector<std::string>{"net"});
    CHECK(split_words(complete("nsm create --no").out) == std::vector<std::string>{"--no-map"});
  }

  TEST_CASE("bad input is a usage error with exit 2 one line and a hint") {
    for (const char* args : {"list -t bogus",
                             "list -o NS,BOGUS",
                             "list -p",
                             "list -p abc",
                             "inspect",
                             "diff 1",
                             "ps --ns-type bogus",
                             "list -T sideways",
                             "frobnicate x",
                             "",
                             "list --bogus",
                             "inspect 0",
                             "inspect 99999999999",
                             "inspect a/b",
                             "inspect ..",
                             "list -p -t net",
                             "list -p 0",
                             "diff 1 x",
                             "diff 0 1",
                             "ps bogus",
                             "ps net --ns-type uts",
                             "tree -T bogus",
                             "tree --json=3",
                             "ps net uts",
                             "--bogus",
                             "diff 1 1 -x"}) {
      auto r = nsm_err(args);
      CHECK_MESSAGE(r.status == 2, args);
      CHECK_MESSAGE(lines(r.out) == 2, args << ": " << r.out);
      CHECK_MESSAGE(r.out.rfind("nsm: ", 0) == 0, args);
      CHECK_MESSAGE(r.out.find("--help' for more information.") != std::string::npos, args);
      // One short line in the words of the rest, never the argument parser's own range text.
      CHECK_MESSAGE(r.out.find('\n') < 160, args << ": " << r.out);
      CHECK_MESSAGE(r.out.find("not in range") == std::string::npos, args << ": " << r.out);
    }
    // A PID argument that is not one says so, and quotes what was given.
    CHECK(nsm_err("list -p -t net").out.rfind("nsm: --task: '-t' is not a process id", 0) == 0);
    CHECK(nsm_err("diff 1 x").out.rfind("nsm: PID2: 'x' is not a process id", 0) == 0);
    // The argument parser's own messages, said as util-linux says them.
    CHECK(nsm_err("").out.rfind("nsm: a command is required\n", 0) == 0);
    CHECK(nsm_err("--bogus").out.rfind("nsm: unknown option '--bogus'\n", 0) == 0);
    CHECK(nsm_err("tree -T bogus").out.rfind("nsm: unknown option '-T'\n", 0) == 0);
    CHECK(nsm_err("ps net uts").out.rfind("nsm: unexpected argument 'uts'\n", 0) == 0);
    CHECK(nsm_err("list -p").out.rfind("nsm: '--task' needs a value\n", 0) == 0);
    CHECK(nsm_err("tree --json=3").out.rfind("nsm: '--json' takes no value\n", 0) == 0);
  }

  TEST_CASE("help and version exit 0") {
    auto v = nsm_out("--version");
    CHECK(v.status == 0);
    CHECK(v.out.rfind("nsm ", 0) == 0);
    // -v as the bash nsm has it.
    CHECK(nsm_out("-v").out == v.out);
    // nsm help [COMMAND] is nsm [COMMAND] --help.
    CHECK(nsm_out("help").status == 0);
    CHECK(nsm_out("help").out == nsm_out("--help").out);
    CHECK(nsm_out("help list").out == nsm_out("list --help").out);
    CHECK(nsm_out("help rm").out == nsm_out("destroy --help").out);
    auto unknown = nsm_err("help bogus");
    CHECK(unknown.status == 2);
    CHECK(unknown.out.rfind("nsm: unknown command 'bogus'\n", 0) == 0);
    for (const char* sub : {"list", "tree", "inspect", "diff", "ps"}) {
      auto h = nsm_out(std::string(sub) + " --help");
      CHECK_MESSAGE(h.status == 0, sub);
      CHECK_MESSAGE(h.out.find("Example") != std::string::npos, sub);
    }
  }
}
