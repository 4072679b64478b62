// SPDX-License-Identifier: MIT
// End-to-end tests of nsm: they run the built binary and check its output against lsns and
// readlink of /proc/PID/ns/*.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>

#include <unistd.h>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <nsfun/nsfun.hpp>

#include "test_support.hpp"

namespace {

using nlohmann::json;
using nsfun::NsType;

const std::string nsm = NSM_PATH;

// Runs nsm with `args`; stdout only.
nsfun::test::CommandResult nsm_out(const std::string& args) {
  return nsfun::test::run(nsm + " " + args + " 2>/dev/null");
}

// Runs nsm with `args`; stderr only.
nsfun::test::CommandResult nsm_err(const std::string& args) {
  return nsfun::test::run(nsm + " " + args + " 2>&1 >/dev/null");
}

std::size_t lines(const std::string& s) {
  return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n'));
}

// The inode behind /proc/PID/ns/LINK, 0 if it cannot be read.
std::uint64_t link_ino(pid_t pid, std::string_view link) {
  std::string path = "/proc/" + std::to_string(pid) + "/ns/" + std::string(link);
  char buf[64] = {};
  ssize_t n = ::readlink(path.c_str(), buf, sizeof(buf) - 1);
  if (n <= 0) {
    return 0;
  }
  std::string s(buf, static_cast<std::size_t>(n));
  std::size_t open = s.find('[');
  return open == std::string::npos ? 0 : std::stoull(s.substr(open + 1));
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
      std::ifstream in("/proc/" + std::to_string(pid()) + "/cmdline");
      std::string got((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
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

const json* find_ns(const json& list, std::uint64_t ino, std::string_view type) {
  for (const json& e : list) {
    if (e.at("ns").get<std::uint64_t>() == ino && e.at("type").get<std::string>() == type) {
      return &e;
    }
  }
  return nullptr;
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
      NSFUN_REQUIRE(pinned.has_value(), "cannot bind-mount a namespace here");
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
    std::string out = "/tmp/" + nsfun::test::unique_name("nsm-unpriv-");
    int status = nsfun::test::in_child([&] {
      if (nsfun::test::drop_privileges() != 0) {
        return 90;
      }
      auto r =
          nsfun::test::run("sh -c 'sleep 30 & " + nsm + " list -J -o NS,TYPE,PID,USER; kill $!'");
      std::FILE* f = std::fopen(out.c_str(), "we");
      if (f == nullptr) {
        return 91;
      }
      std::fwrite(r.out.data(), 1, r.out.size(), f);
      std::fclose(f);
      return r.status;
    });
    std::ifstream in(out);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ::unlink(out.c_str());
    REQUIRE(status == 0);
    json list = json::parse(text).at("namespaces");
    CHECK(!list.empty());
    bool own = std::any_of(list.begin(), list.end(),
                           [](const json& e) { return e.at("user") == "nobody"; });
    CHECK(own);
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
      std::string state = e.at("state");
      if (j.at("host_readable").get<bool>() && (link == "net" || link == "uts" || link == "ipc")) {
        CHECK(state == "isolated");
      }
    }
    auto text = nsm_out("inspect " + std::to_string(s.pid()));
    CHECK(text.status == 0);
    CHECK(text.out.find("pid_for_children") != std::string::npos);
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
  }

  TEST_CASE("diff of a process with itself finds nothing and exits 0") {
    const std::string self = std::to_string(::getpid());
    auto r = nsm_out("diff " + self + " " + self);
    CHECK(r.status == 0);
    CHECK(r.out.find("0 of 10 differ") != std::string::npos);
  }
}

TEST_SUITE("nsm tree and ps") {
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

  TEST_CASE("bad input is a usage error with exit 2 one line and a hint") {
    for (const char* args :
         {"list -t bogus", "list -o NS,BOGUS", "list -p", "list -p abc", "inspect", "diff 1",
          "ps --ns-type bogus", "list -T sideways", "frobnicate x", "", "list --bogus"}) {
      auto r = nsm_err(args);
      CHECK_MESSAGE(r.status == 2, args);
      CHECK_MESSAGE(lines(r.out) == 2, args << ": " << r.out);
      CHECK_MESSAGE(r.out.rfind("nsm: ", 0) == 0, args);
      CHECK_MESSAGE(r.out.find("--help' for more information.") != std::string::npos, args);
    }
  }

  TEST_CASE("help and version exit 0") {
    auto v = nsm_out("--version");
    CHECK(v.status == 0);
    CHECK(v.out.rfind("nsm ", 0) == 0);
    for (const char* sub : {"list", "tree", "inspect", "diff", "ps"}) {
      auto h = nsm_out(std::string(sub) + " --help");
      CHECK_MESSAGE(h.status == 0, sub);
      CHECK_MESSAGE(h.out.find("Example") != std::string::npos, sub);
    }
  }
}
