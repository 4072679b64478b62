// SPDX-License-Identifier: MIT
// Tests of the examples of recipes 1-7 and 11-14: each runs the built program and checks what it
// printed against what the test sees itself (its own /proc, hostname, `ip`, `lsns`, `unshare`,
// `nsenter`), and that it left nothing behind (no process, no mount, no /run/netns entry).
#include <algorithm>
#include <array>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <dirent.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>
// Header-only; tests/CMakeLists.txt finds it (on Debian in /usr/include).
#include <nlohmann/json.hpp>

#include <nsfun/spawn.hpp>

#include "example_tests.hpp"
#include "test_support.hpp"

namespace {

using nsfun::test::examples::examples_dir;
using nsfun::test::examples::host_name;

using nsfun::NsType;
using nsfun::NsTypeSet;
namespace test = nsfun::test;

// The ten /proc/PID/ns links, as the examples print them.
const std::array<std::string, 10> all_links{"user",
                                            "mnt",
                                            "uts",
                                            "ipc",
                                            "pid",
                                            "net",
                                            "cgroup",
                                            "time",
                                            "pid_for_children",
                                            "time_for_children"};

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    out.push_back(line);
  }
  return out;
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// The rest of the first line that starts with `prefix`; "<missing>" when there is none.
std::string value_after(const std::string& text, std::string_view prefix) {
  for (const std::string& line : lines_of(text)) {
    if (starts_with(line, prefix)) {
      return line.substr(prefix.size());
    }
  }
  return "<missing>";
}

// The lines after the first line that starts with `title`, up to an empty line or the next
// title (a line ending in ':').
std::vector<std::string> section(const std::string& text, std::string_view title) {
  std::vector<std::string> out;
  bool in = false;
  for (const std::string& line : lines_of(text)) {
    if (in && (line.empty() || line.back() == ':')) {
      break;
    }
    if (in) {
      out.push_back(line);
    } else if (starts_with(line, title)) {
      in = true;
    }
  }
  return out;
}

// The pids of this process's children (from every /proc/PID/stat's ppid).
std::set<pid_t> children_of_self() {
  std::set<pid_t> out;
  DIR* dir = ::opendir("/proc");
  if (dir == nullptr) {
    return out;
  }
  while (const dirent* e = ::readdir(dir)) {
    const pid_t pid = std::atoi(e->d_name);
    if (pid <= 0) {
      continue;
    }
    const std::string stat = test::read_text("/proc/" + std::to_string(pid) + "/stat");
    const std::size_t close = stat.rfind(')');
    if (close == std::string::npos) {
      continue;
    }
    std::istringstream rest(stat.substr(close + 2));
    std::string state;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid == ::getpid()) {
      out.insert(pid);
    }
  }
  ::closedir(dir);
  return out;
}

// What running an example gave: exit status, stdout, and how many processes it left behind.
struct Ran {
  int status = -1;
  std::string out;
  std::size_t left_behind = 0;
};

// Runs `command` (an example with its arguments, or a wrapper around it) with this process as a
// child subreaper, so that any process the example leaves behind becomes our child; those are
// counted, then killed and reaped (they are our children: their pids cannot be reused before).
// The test's own children (`ours`) are left alone.
Ran run_example(const std::string& command, const std::set<pid_t>& ours = {}) {
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  test::CommandResult r = test::run(command);
  ::usleep(20'000);  // a process the example orphaned on its way out is reparented by now
  ::prctl(PR_SET_CHILD_SUBREAPER, 0);
  Ran ran{r.status, r.out, 0};
  for (pid_t pid : children_of_self()) {
    if (ours.count(pid) == 0) {
      ++ran.left_behind;
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
  return ran;
}

std::string example(const std::string& name) {
  return examples_dir + "/" + name;
}

// The link texts of process `dir` ("/proc/self", "/proc/42") for every link.
std::map<std::string, std::string> links_of(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const std::string& l : all_links) {
    out[l] = test::ns_link_text(dir, l);
  }
  return out;
}

// The reference the isolation examples use: PID 1 when all its links are readable, else us.
std::string reference_dir() {
  for (const std::string& l : all_links) {
    if (test::ns_link_text("/proc/1", l).empty()) {
      return "/proc/self";
    }
  }
  return "/proc/1";
}

// A table row of the_works, inspect_proc and find_debug: LINK OURS THEIRS STATE.
struct LinkRow {
  std::string link, a, b, state;
};

std::map<std::string, LinkRow> link_rows(const std::vector<std::string>& lines) {
  std::map<std::string, LinkRow> out;
  for (const std::string& line : lines) {
    std::istringstream in(line);
    LinkRow r;
    if (in >> r.link >> r.a >> r.b >> r.state) {
      out[r.link] = r;
    }
  }
  return out;
}

// The output of `ip -br link` (or the example's own rows) reduced to the interface names.
std::vector<std::string> first_words(const std::vector<std::string>& lines) {
  std::vector<std::string> out;
  for (const std::string& line : lines) {
    std::vector<std::string> words = test::split_words(line);
    if (!words.empty()) {
      out.push_back(words.front());
    }
  }
  return out;
}

// A process that holds new namespaces of `flags` (and the hostname `name` with a new UTS one).
test::PausedChild holder(int flags, const std::string& name = {}) {
  return test::PausedChild([flags, name] {
    return ::unshare(flags) == 0 && (name.empty() || ::sethostname(name.data(), name.size()) == 0);
  });
}

}  // namespace

TEST_CASE("uts_hostname: the child's hostname is its own, the host's is untouched") {
  NSFUN_REQUIRE(test::can_unshare({NsType::uts}), "cannot unshare a UTS namespace here");
  const std::string before = host_name();
  Ran r = run_example(example("uts_hostname"));
  INFO(r.out);
  CHECK(r.status == 0);
  CHECK(r.out == "hostname inside:  nsfun-box\nhostname outside: " + before + "\n");
  CHECK(host_name() == before);
  CHECK(r.left_behind == 0);
}

TEST_CASE("pid_namespace: PID 1 inside, a host pid outside (NSpid), ps sees only its tree") {
  NSFUN_REQUIRE(test::can_unshare({NsType::pid, NsType::mnt}),
                "cannot unshare pid and mount namespaces here");
  NSFUN_REQUIRE(test::have_program("ps") && test::have_program("unshare"),
                "ps or unshare(1) is missing");
  const std::size_t mounts = test::mount_count();
  Ran r = run_example(example("pid_namespace"));
  INFO(r.out);
  CHECK(r.status == 0);
  const std::string here = value_after(r.out, "the child's pid here: ");
  CHECK(value_after(r.out, "the child's pid inside: ") == "1");
  const long host_pid = std::atol(here.c_str());
  CHECK(host_pid > 1);
  CHECK(host_pid != ::getpid());
  // ps inside: the shell as 1 and ps as 2, exactly what unshare(1) shows for the same line.
  std::vector<std::string> ps = section(r.out, "ps inside the new pid namespace:");
  REQUIRE(!ps.empty());
  ps.erase(ps.begin());  // the heading
  test::CommandResult ref =
      test::run("unshare --pid --fork --mount-proc sh -c 'read go </dev/null; ps -o pid,comm'");
  std::vector<std::string> ref_lines = lines_of(ref.out);
  REQUIRE(ref.status == 0);
  REQUIRE(!ref_lines.empty());
  ref_lines.erase(ref_lines.begin());
  CHECK(ps == ref_lines);
  CHECK(ps == std::vector<std::string>{"      1 sh", "      2 ps"});
  // The child is gone: no process with that NSpid pair.
  CHECK(test::read_text("/proc/" + here + "/status").find("NSpid:\t" + here + "\t1\n") ==
        std::string::npos);
  CHECK(test::mount_count() == mounts);
  CHECK(r.left_behind == 0);
}

TEST_CASE("blank_network: a new network namespace has only lo, down, as unshare --net shows") {
  NSFUN_REQUIRE(std::filesystem::exists(example("blank_network")),
                "blank_network is not built (no nsfun::net)");
  NSFUN_REQUIRE(test::can_unshare({NsType::net}), "cannot unshare a network namespace here");
  NSFUN_REQUIRE(test::have_program("ip") && test::have_program("unshare"),
                "ip or unshare(1) is missing");
  Ran r = run_example(example("blank_network"));
  INFO(r.out);
  CHECK(r.status == 0);
  const std::string ours = test::ns_link_text("/proc/self", "net");
  CHECK(value_after(r.out, "our network namespace: ") == ours);
  const std::string fresh = value_after(r.out, "the new one:           ");
  CHECK(starts_with(fresh, "net:["));
  CHECK(fresh != ours);
  const std::vector<std::string> links = section(r.out, "its interfaces:");
  CHECK(links == std::vector<std::string>{"1: lo mtu 65536 DOWN"});
  // The same namespace seen by ip(8): one interface, lo, not up.
  test::CommandResult ref = test::run("unshare --net ip -o link");
  REQUIRE(ref.status == 0);
  const std::vector<std::string> ref_lines = lines_of(ref.out);
  REQUIRE(ref_lines.size() == 1);
  CHECK(starts_with(ref_lines[0], "1: lo: <LOOPBACK> mtu 65536 "));
  CHECK(ref_lines[0].find("state DOWN") != std::string::npos);
  CHECK(r.left_behind == 0);
}

TEST_CASE("the_works: six new namespaces at once, only user and time shared, as with unshare") {
  const NsTypeSet works{NsType::pid, NsType::uts, NsType::mnt,
                        NsType::ipc, NsType::net, NsType::cgroup};
  NSFUN_REQUIRE(test::can_unshare(works), "cannot unshare pid, uts, mnt, ipc, net and cgroup");
  NSFUN_REQUIRE(test::have_program("unshare"), "unshare(1) is missing");
  Ran r = run_example(example("the_works"));
  INFO(r.out);
  CHECK(r.status == 0);
  std::map<std::string, LinkRow> rows = link_rows(lines_of(r.out));
  const std::map<std::string, std::string> ours = links_of("/proc/self");
  for (const std::string& l : all_links) {
    CAPTURE(l);
    REQUIRE(rows.count(l) == 1);
    CHECK(rows[l].a == ours.at(l));  // the example's own namespaces are the test's
    const bool shared = l == "user" || l == "time" || l == "time_for_children";
    CHECK(rows[l].state == (shared ? "same" : "differs"));
    CHECK((rows[l].b == ours.at(l)) == shared);
  }
  CHECK(value_after(r.out, "new namespaces of the child: ") == "mnt,uts,ipc,pid,net,cgroup");
  // unshare(1) with the same flags: the same types differ from ours.
  test::CommandResult ref = test::run(
      "unshare --pid --uts --mount --ipc --net --cgroup --fork sh -c "
      "'for t in user mnt uts ipc pid net cgroup time; do echo $t $(readlink /proc/self/ns/$t); "
      "done'");
  REQUIRE(ref.status == 0);
  std::string differ;
  for (const std::string& line : lines_of(ref.out)) {
    std::vector<std::string> w = test::split_words(line);
    if (w.size() == 2 && w[1] != ours.at(w[0])) {
      differ += (differ.empty() ? "" : ",") + w[0];
    }
  }
  CHECK(differ == "mnt,uts,ipc,pid,net,cgroup");
  CHECK(r.left_behind == 0);
}

TEST_CASE("rootless: uid 0 inside is the caller's uid outside (as root)") {
  NSFUN_REQUIRE(test::can_unshare({NsType::user}), "cannot unshare a user namespace here");
  Ran r = run_example(example("rootless"));
  INFO(r.out);
  CHECK(r.status == 0);
  const std::string uid = std::to_string(::getuid());
  const std::string gid = std::to_string(::getgid());
  CHECK(value_after(r.out, "outside: ") == "uid " + uid + ", gid " + gid);
  CHECK(value_after(r.out, "uid ") == "0, gid 0");
  CHECK(value_after(r.out, "uid_map ") == "0 " + uid + " 1");
  CHECK(r.left_behind == 0);
}

TEST_CASE("rootless: works for an unprivileged user (nobody), like unshare --map-root-user") {
  NSFUN_REQUIRE(test::have_program("setpriv"), "setpriv is missing");
  NSFUN_REQUIRE(test::can_unshare_unprivileged({NsType::user}),
                "unprivileged user namespaces are off here");
  const std::string as_nobody = "setpriv --reuid 65534 --regid 65534 --clear-groups ";
  Ran r = run_example(as_nobody + example("rootless"));
  INFO(r.out);
  CHECK(r.status == 0);
  CHECK(value_after(r.out, "outside: ") == "uid 65534, gid 65534");
  CHECK(value_after(r.out, "uid ") == "0, gid 0");
  CHECK(value_after(r.out, "uid_map ") == "0 65534 1");
  // unshare(1) run by nobody maps the same.
  test::CommandResult ref = test::run(
      as_nobody + "unshare --user --map-root-user sh -c 'echo uid_map $(cat /proc/self/uid_map)'");
  CHECK(ref.out == "uid_map 0 65534 1\n");
  CHECK(r.left_behind == 0);
}

TEST_CASE("join_by_pid: joins its own target: --all sees its hostname, pid 2 and only lo") {
  NSFUN_REQUIRE(
      test::can_unshare({NsType::uts, NsType::ipc, NsType::net, NsType::pid, NsType::mnt}),
      "cannot unshare uts, ipc, net, pid and mnt namespaces here");
  NSFUN_REQUIRE(test::have_program("ip"), "ip is missing");
  const std::string before = host_name();
  Ran r = run_example(example("join_by_pid"));
  INFO(r.out);
  CHECK(r.status == 0);
  const std::string target = value_after(r.out, "target: pid ");
  const std::string nsenter = "nsenter --target " + target;
  std::vector<std::string> all = section(r.out, nsenter + " --all (joins mnt,uts,ipc,pid,net):");
  REQUIRE(all.size() >= 3);
  CHECK(all[0] == "hostname nsfun-target");
  CHECK(all[1] == "pid 2");
  CHECK(first_words({all.begin() + 2, all.end()}) == std::vector<std::string>{"lo"});
  std::vector<std::string> net = section(r.out, nsenter + " --net:");
  REQUIRE(net.size() >= 3);
  CHECK(net[0] == "hostname " + before);
  CHECK(net[1] != "pid 2");
  CHECK(first_words({net.begin() + 2, net.end()}) == std::vector<std::string>{"lo"});
  CHECK(host_name() == before);
  CHECK(r.left_behind == 0);
}

TEST_CASE("join_by_pid PID: what it sees in a test process's namespaces is what nsenter sees") {
  NSFUN_REQUIRE(test::can_unshare({NsType::uts, NsType::net}),
                "cannot unshare uts and net namespaces here");
  NSFUN_REQUIRE(test::have_program("ip") && test::have_program("nsenter"),
                "ip or nsenter is missing");
  const std::string name = test::unique_name("nsfun-test-");
  test::PausedChild target = holder(CLONE_NEWUTS | CLONE_NEWNET, name);
  REQUIRE(target);
  const std::string pid = std::to_string(target.pid());
  Ran r = run_example(example("join_by_pid") + " " + pid, {target.pid()});
  INFO(r.out);
  CHECK(r.status == 0);
  CHECK(value_after(r.out, "target: pid ") == pid);
  const std::string show = " sh -c 'echo \"hostname $(hostname)\"; echo \"pid $$\"; ip -br link'";
  for (const char* how : {"--all", "--net"}) {
    CAPTURE(how);
    const std::string title = "nsenter --target " + pid + " " + how;
    std::vector<std::string> ours =
        section(r.out, title + (how == std::string("--all") ? " (joins uts,net):" : ":"));
    test::CommandResult ref = test::run(title + show);
    REQUIRE(ref.status == 0);
    std::vector<std::string> theirs = lines_of(ref.out);
    REQUIRE(ours.size() == theirs.size());
    REQUIRE(ours.size() >= 3);
    CHECK(ours[0] == theirs[0]);  // the hostname (the pid line differs: two processes)
    CHECK(std::vector<std::string>(ours.begin() + 2, ours.end()) ==
          std::vector<std::string>(theirs.begin() + 2, theirs.end()));
    CHECK(ours[0] == "hostname " + (how == std::string("--all") ? name : host_name()));
  }
  CHECK(r.left_behind == 0);
}

namespace {

// The checks of named_netns's run `r`, in the child with a private /run: 0 when all hold.
// `seen`: what the test's own `ip netns list` printed each time the example ran ip.
int check_named_netns(const Ran& r, std::size_t mounts, const std::string& seen) {
  NSFUN_EXPECT(r.status == 0);
  const std::string added = value_after(r.out, "added ");
  const std::string name = added.substr(0, added.find(':'));
  NSFUN_EXPECT(starts_with(name, "nsfun-example-"));
  // The test's own `ip netns list`, run while the example was at work, saw it.
  const std::vector<std::string> seen_words = test::split_words(seen);
  NSFUN_EXPECT(std::find(seen_words.begin(), seen_words.end(), name) != seen_words.end());
  NSFUN_EXPECT(starts_with(added.substr(name.size()), ": net:["));
  // nsfun's list and iproute2's own both had it while it existed.
  const std::vector<std::string> listed =
      test::split_words(value_after(r.out, "nsfun::netns::list():"));
  NSFUN_EXPECT(std::set<std::string>(listed.begin(), listed.end()).count(name) == 1);
  const std::vector<std::string> ip_listed = first_words(section(r.out, "`ip netns list`:"));
  NSFUN_EXPECT(std::set<std::string>(ip_listed.begin(), ip_listed.end()).count(name) == 1);
  // ip netns exec: only lo in there.
  NSFUN_EXPECT(first_words(section(r.out, "ip netns exec " + name + " ip -br link:")) ==
               std::vector<std::string>{"lo"});
  // Gone: from `ip netns list` as the example and the test see it, from /run/netns, from the
  // mount table (which gained at most the self-bind of /run/netns that the first add makes).
  NSFUN_EXPECT(section(r.out, "deleted; `ip netns list` now:") ==
               std::vector<std::string>{"(none)"});
  test::CommandResult ip_after = test::run("ip netns list");
  NSFUN_EXPECT(ip_after.status == 0);
  NSFUN_EXPECT(ip_after.out.find(name) == std::string::npos);
  NSFUN_EXPECT(!std::filesystem::exists("/run/netns/" + name));
  NSFUN_EXPECT(test::read_text("/proc/self/mountinfo").find(name) == std::string::npos);
  NSFUN_EXPECT(test::mount_count() <= mounts + 1);
  NSFUN_EXPECT(r.left_behind == 0);
  return 0;
}

}  // namespace

TEST_CASE("named_netns: ip netns list sees what nsfun added, and nothing is left after") {
  NSFUN_REQUIRE(test::can_private_run(), "cannot make a private mount namespace with /run");
  NSFUN_REQUIRE(test::have_program("ip"), "ip is missing");
  // In a child with a /run of its own, so that nothing reaches the host's /run/netns.
  NSFUN_CHECK_CHILD([] {
    NSFUN_EXPECT(test::private_run() == 0);
    // The example finds `ip` on PATH: first a wrapper, in the private /run, that has the real ip
    // list /run/netns into a file before it does what it was asked (`ip netns exec` runs it
    // while the name exists).
    const std::string bin = "/run/nsfun-test-bin";
    const std::string real_ip = test::run("command -v ip").out;
    NSFUN_EXPECT(std::filesystem::create_directory(bin));
    {
      std::ofstream wrapper(bin + "/ip");
      wrapper << "#!/bin/sh\n"
              << real_ip.substr(0, real_ip.find('\n')) << " netns list >>" << bin << "/seen\n"
              << "exec " << real_ip.substr(0, real_ip.find('\n')) << " \"$@\"\n";
    }
    std::filesystem::permissions(bin + "/ip", std::filesystem::perms::owner_all);
    const std::size_t mounts = test::mount_count();
    Ran r = run_example("PATH=" + bin + ":$PATH " + example("named_netns"));
    const int status = check_named_netns(r, mounts, test::read_text(bin + "/seen"));
    if (status != 0) {
      std::fprintf(stderr, "named_netns printed:\n%s", r.out.c_str());
    }
    return status;
  });
}

TEST_CASE("inspect_proc: our links are the test's, a child's differ in uts and net only") {
  NSFUN_REQUIRE(test::can_unshare({NsType::uts, NsType::net}),
                "cannot unshare uts and net namespaces here");
  Ran r = run_example(example("inspect_proc"));
  INFO(r.out);
  CHECK(r.status == 0);
  const std::map<std::string, std::string> ours = links_of("/proc/self");
  std::map<std::string, std::string> printed;
  for (const std::string& line : section(r.out, "our namespaces (/proc/self/ns):")) {
    std::vector<std::string> w = test::split_words(line);
    REQUIRE(w.size() == 2);
    printed[w[0]] = w[1];
  }
  CHECK(printed == ours);
  std::map<std::string, LinkRow> rows = link_rows(section(r.out, "ours against pid "));
  for (const std::string& l : all_links) {
    CAPTURE(l);
    REQUIRE(rows.count(l) == 1);
    CHECK(rows[l].a == ours.at(l));
    const bool differs = l == "uts" || l == "net";
    CHECK(rows[l].state == (differs ? "different" : "same"));
    CHECK((rows[l].a != rows[l].b) == differs);
  }
  CHECK(r.left_behind == 0);
}

TEST_CASE("inspect_proc PID: the other process's links are what the test reads in /proc") {
  NSFUN_REQUIRE(test::can_unshare({NsType::ipc}), "cannot unshare an IPC namespace here");
  test::PausedChild other = holder(CLONE_NEWIPC);
  REQUIRE(other);
  const std::string dir = "/proc/" + std::to_string(other.pid());
  Ran r = run_example(example("inspect_proc") + " " + std::to_string(other.pid()), {other.pid()});
  INFO(r.out);
  CHECK(r.status == 0);
  const std::map<std::string, std::string> ours = links_of("/proc/self");
  const std::map<std::string, std::string> theirs = links_of(dir);
  std::map<std::string, LinkRow> rows =
      link_rows(section(r.out, "ours against pid " + std::to_string(other.pid())));
  for (const std::string& l : all_links) {
    CAPTURE(l);
    REQUIRE(rows.count(l) == 1);
    CHECK(rows[l].a == ours.at(l));
    CHECK(rows[l].b == theirs.at(l));
    CHECK(rows[l].state == (l == "ipc" ? "different" : "same"));
  }
  CHECK(r.left_behind == 0);
}

namespace {

struct LsnsRow {
  std::string type;
  std::uint64_t nprocs = 0;
  std::int64_t pid = 0;
  std::string user;
  std::string command;
};

// lsns -J: the namespaces with processes, by inode.
std::map<std::uint64_t, LsnsRow> lsns_json() {
  std::map<std::uint64_t, LsnsRow> out;
  test::CommandResult r = test::run("lsns -J");
  REQUIRE(r.status == 0);
  nlohmann::json doc = nlohmann::json::parse(r.out);
  for (const auto& n : doc.at("namespaces")) {
    LsnsRow row{n.at("type").get<std::string>(), n.at("nprocs").get<std::uint64_t>(),
                n.at("pid").is_number() ? n.at("pid").get<std::int64_t>() : 0,
                n.at("user").is_string() ? n.at("user").get<std::string>() : "",
                n.at("command").is_string() ? n.at("command").get<std::string>() : ""};
    if (row.nprocs > 0) {
      out[n.at("ns").get<std::uint64_t>()] = row;
    }
  }
  return out;
}

// The example's table rows (NS TYPE NPROCS PID USER COMMAND), by inode.
std::map<std::uint64_t, LsnsRow> lsns_rows(const std::vector<std::string>& lines) {
  std::map<std::uint64_t, LsnsRow> out;
  for (const std::string& line : lines) {
    std::istringstream in(line);
    std::uint64_t ns = 0;
    LsnsRow row;
    if (in >> ns >> row.type >> row.nprocs >> row.pid >> row.user) {
      std::getline(in >> std::ws, row.command);
      out[ns] = row;
    }
  }
  return out;
}

}  // namespace

namespace {

// What differs between the example's output and lsns -J run just before and just after it, for
// the namespaces lsns listed both times with the same lowest pid (`compared` counts them).
std::vector<std::string> lsns_differences(const std::string& out,
                                          const std::map<std::uint64_t, LsnsRow>& before,
                                          const std::map<std::uint64_t, LsnsRow>& after,
                                          std::size_t& compared) {
  std::vector<std::string> diffs;
  const std::map<std::uint64_t, LsnsRow> all = lsns_rows(section(out, "lsns:"));
  const std::map<std::uint64_t, LsnsRow> net = lsns_rows(section(out, "lsns -t net:"));
  // The namespaces the test is in hold its own short-lived processes: their NPROCS moves.
  std::set<std::string> ours;
  for (const std::string& l : all_links) {
    ours.insert(test::ns_link_text("/proc/self", l));
  }
  compared = 0;
  for (const auto& [ns, b] : before) {
    auto a = after.find(ns);
    if (a == after.end() || a->second.pid != b.pid) {
      continue;  // came or went, or its lowest pid changed, while the test ran: not stable
    }
    ++compared;
    const std::string what = b.type + ":[" + std::to_string(ns) + "]";
    auto mine = all.find(ns);
    if (mine == all.end()) {
      diffs.push_back(what + ": not listed");
      continue;
    }
    const LsnsRow& m = mine->second;
    if (m.type != b.type || m.pid != b.pid || m.user != b.user || m.command != b.command) {
      diffs.push_back(what + ": " + m.type + " " + std::to_string(m.pid) + " " + m.user + " " +
                      m.command + " where lsns says " + b.type + " " + std::to_string(b.pid) + " " +
                      b.user + " " + b.command);
    }
    if (a->second.nprocs == b.nprocs && ours.count(what) == 0 && m.nprocs != b.nprocs) {
      diffs.push_back(what + ": NPROCS " + std::to_string(m.nprocs) + " where lsns says " +
                      std::to_string(b.nprocs));
    }
    // lsns -t net: every net namespace, and nothing else.
    if (net.count(ns) != (b.type == "net" ? 1U : 0U)) {
      diffs.push_back(what + (b.type == "net" ? ": not" : ": also") + " listed by -t net");
    }
  }
  for (const auto& [ns, row] : net) {
    if (row.type != "net") {
      diffs.push_back(row.type + ":[" + std::to_string(ns) + "] listed by -t net");
    }
  }
  return diffs;
}

}  // namespace

TEST_CASE("lsns: the namespaces lsns -J lists before and after, with the same rows") {
  NSFUN_REQUIRE(test::have_program("lsns"), "lsns is missing");
  // Processes of other programs come and go between the three scans: a difference is retried
  // twice before it counts.
  std::vector<std::string> diffs;
  std::size_t compared = 0;
  for (int attempt = 0; attempt < 3; ++attempt) {
    const std::map<std::uint64_t, LsnsRow> before = lsns_json();
    Ran r = run_example(example("lsns"));
    const std::map<std::uint64_t, LsnsRow> after = lsns_json();
    INFO(r.out);
    REQUIRE(r.status == 0);
    CHECK(r.left_behind == 0);
    CHECK(lsns_rows(section(r.out, "lsns:")).size() >= 8);
    diffs = lsns_differences(r.out, before, after, compared);
    if (diffs.empty()) {
      break;
    }
  }
  std::string text;
  for (const std::string& d : diffs) {
    text += d + "\n";
  }
  INFO(text);
  CHECK(diffs.empty());
  CHECK(compared >= 8);
}

namespace {

// The test's own reading of /proc: every process whose pid link is readable and not `ref_pidns`,
// with that link.
std::map<pid_t, std::string> isolated_processes(const std::string& ref_pidns) {
  std::map<pid_t, std::string> out;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    const std::string pidns = test::ns_link_text(entry.path(), "pid");
    if (!pidns.empty() && pidns != ref_pidns) {
      out[std::atoi(name.c_str())] = pidns;
    }
  }
  return out;
}

}  // namespace

TEST_CASE("find_isolated: lists its own isolated process and the test's, and no host process") {
  NSFUN_REQUIRE(test::can_unshare({NsType::pid}), "cannot unshare a pid namespace here");
  // The test's own process in a new pid namespace (killed and reaped when `mine` goes).
  auto mine = nsfun::spawn(nsfun::Command::hold().namespaces({NsType::pid}));
  REQUIRE(mine);
  const pid_t my_pid = mine.value().pid();
  const std::string ref_dir = reference_dir();
  const std::string ref_pidns = test::ns_link_text(ref_dir, "pid");
  const std::map<pid_t, std::string> before = isolated_processes(ref_pidns);
  Ran r = run_example(example("find_isolated"), {my_pid});
  const std::map<pid_t, std::string> after = isolated_processes(ref_pidns);
  INFO(r.out);
  CHECK(r.status == 0);
  CHECK(value_after(r.out, "reference: ") ==
        (ref_dir == "/proc/1" ? "PID 1, " : "this process, ") + ref_pidns);
  std::map<pid_t, std::string> listed;  // pid -> its pid namespace as printed
  for (const std::string& line :
       section(r.out, "isolated processes (PID, pid namespace, command):")) {
    std::vector<std::string> w = test::split_words(line);
    REQUIRE(w.size() >= 2);
    listed[static_cast<pid_t>(std::atol(w[0].c_str()))] = w[1];
    CHECK(w[1] != ref_pidns);
  }
  const pid_t started = static_cast<pid_t>(std::atol(value_after(r.out, "started pid ").c_str()));
  CHECK(listed.count(started) == 1);
  REQUIRE(listed.count(my_pid) == 1);
  CHECK(listed[my_pid] == test::ns_link_text("/proc/" + std::to_string(my_pid), "pid"));
  // Every process the test's own reading of /proc finds isolated before and after (the same
  // one: same pid namespace) is listed, with that namespace.
  std::size_t stable = 0;
  for (const auto& [pid, pidns] : before) {
    auto a = after.find(pid);
    if (a != after.end() && a->second == pidns) {
      ++stable;
      const pid_t p = pid;
      CAPTURE(p);
      CHECK(listed.count(pid) == 1);
      CHECK(listed[pid] == pidns);
    }
  }
  CHECK(stable >= 1);  // at least the test's own
  CHECK(r.left_behind == 0);
}

TEST_CASE("find_debug: its own process is isolated in uts and net only") {
  NSFUN_REQUIRE(test::can_unshare({NsType::uts, NsType::net}),
                "cannot unshare uts and net namespaces here");
  Ran r = run_example(example("find_debug"));
  INFO(r.out);
  CHECK(r.status == 0);
  const std::map<std::string, std::string> ref = links_of(reference_dir());
  std::map<std::string, LinkRow> rows = link_rows(section(r.out, "pid "));
  for (const std::string& l : all_links) {
    CAPTURE(l);
    REQUIRE(rows.count(l) == 1);
    CHECK(rows[l].a == ref.at(l));
    CHECK(rows[l].state == (l == "uts" || l == "net" ? "isolated" : "same"));
  }
  CHECK(value_after(r.out, "isolated in: ") == "uts,net");
  CHECK(r.left_behind == 0);
}

TEST_CASE("find_debug PID: the types it names are those whose links the test sees differ") {
  NSFUN_REQUIRE(test::can_unshare({NsType::uts, NsType::ipc}),
                "cannot unshare uts and ipc namespaces here");
  test::PausedChild other = holder(CLONE_NEWUTS | CLONE_NEWIPC, test::unique_name());
  REQUIRE(other);
  const std::string pid = std::to_string(other.pid());
  Ran r = run_example(example("find_debug") + " " + pid, {other.pid()});
  INFO(r.out);
  CHECK(r.status == 0);
  const std::map<std::string, std::string> ref = links_of(reference_dir());
  const std::map<std::string, std::string> theirs = links_of("/proc/" + pid);
  std::map<std::string, LinkRow> rows = link_rows(section(r.out, "pid " + pid + " against "));
  for (const std::string& l : all_links) {
    CAPTURE(l);
    REQUIRE(rows.count(l) == 1);
    CHECK(rows[l].a == ref.at(l));
    CHECK(rows[l].b == theirs.at(l));
    CHECK(rows[l].state == (ref.at(l) == theirs.at(l) ? "same" : "isolated"));
  }
  CHECK(value_after(r.out, "isolated in: ") == "uts,ipc");
  CHECK(r.left_behind == 0);
}
