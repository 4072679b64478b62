// SPDX-License-Identifier: MIT
// nsm tests – `nsm list` as a drop-in for util-linux lsns: its options and output, each compared
// with the installed lsns (2.38) for the namespaces of children the test makes, where that lsns
// has the option; the options only lsns 2.40 has (-P, -Q, -H) are checked for what 2.40 does.

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <string>
#include <thread>
#include <utility>
#include <vector>

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

// The lines of `text`, trailing blanks and carriage returns cut (lsns pads some lines, and a
// pseudo-terminal adds \r).
std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t nl = text.find('\n', start);
    std::string line = text.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) {
      line.pop_back();
    }
    out.push_back(std::move(line));
    if (nl == std::string::npos) {
      break;
    }
    start = nl + 1;
  }
  return out;
}

// The line that starts (after blanks) with `first` and the lines after it that start with a
// blank (a multi-line cell's continuation), as words.
std::vector<std::vector<std::string>> row_of(const std::string& text, const std::string& first) {
  std::vector<std::vector<std::string>> out;
  const std::vector<std::string> ls = lines_of(text);
  for (std::size_t i = 0; i < ls.size(); ++i) {
    auto words = split_words(ls[i]);
    if (words.empty() || words[0] != first) {
      continue;
    }
    out.push_back(words);
    for (std::size_t j = i + 1;
         j < ls.size() && !ls[j].empty() && ls[j][0] == ' ' && split_words(ls[j]).size() == 1;
         ++j) {
      out.push_back(split_words(ls[j]));
    }
    break;
  }
  return out;
}

// Waits until `pid`'s command line starts with `want` (NULs between the words).
void wait_exec(pid_t pid, const std::string& want) {
  for (int i = 0; i < 300; ++i) {
    if (read_text("/proc/" + std::to_string(pid) + "/cmdline").rfind(want, 0) == 0) {
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

// The first child of `pid`, 0 when none.
pid_t first_child(pid_t pid) {
  const std::string text =
      read_text("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children");
  auto words = split_words(text);
  return words.empty() ? 0 : static_cast<pid_t>(std::stol(words[0]));
}

const bool can_isolate = nsfun::test::can_unshare({NsType::uts, NsType::ipc, NsType::net});

// `argv` in new uts, ipc and net namespaces; killed and reaped when the test ends.
struct Isolated {
  nsfun::Child child;

  explicit Isolated(const std::vector<std::string>& argv) {
    nsfun::Command c(argv.at(0));
    for (std::size_t i = 1; i < argv.size(); ++i) {
      c.arg(argv[i]);
    }
    auto r = nsfun::spawn(c.namespaces({NsType::uts, NsType::ipc, NsType::net}).die_with_parent());
    REQUIRE(r);
    child = std::move(r).value();
    std::string want;
    for (const std::string& a : argv) {
      want += a;
      want += '\0';
    }
    wait_exec(pid(), want);
  }

  Isolated(const Isolated&) = delete;
  Isolated& operator=(const Isolated&) = delete;

  ~Isolated() {
    (void)child.kill();
    (void)child.wait();
  }

  [[nodiscard]] pid_t pid() const { return child.pid(); }

  [[nodiscard]] std::uint64_t ino(const char* type) const { return link_ino(pid(), type); }
};

// A shell in new uts, ipc and net namespaces whose child runs `unshare --ipc sleep 120`: the
// sleep's ipc namespace goes under the shell in lsns's process tree.
struct ShellAndSleep {
  Isolated sh{{"/bin/sh", "-c", "unshare --ipc /bin/sleep 120 & wait"}};
  pid_t sleep = 0;

  ShellAndSleep() {
    for (int i = 0; i < 300 && sleep == 0; ++i) {
      const pid_t kid = first_child(sh.pid());
      if (kid != 0 &&
          read_text("/proc/" + std::to_string(kid) + "/cmdline").rfind("/bin/sleep", 0) == 0 &&
          link_ino(kid, "ipc") != sh.ino("ipc")) {
        sleep = kid;
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
    REQUIRE(sleep != 0);
  }

  ShellAndSleep(const ShellAndSleep&) = delete;
  ShellAndSleep& operator=(const ShellAndSleep&) = delete;

  // The sleep is the shell's child, not ours: without this it outlives the test by two minutes
  // (and ctest waits for it, as it holds the output pipe). It is still running, so its pid is
  // still its own.
  ~ShellAndSleep() {
    if (sleep > 0) {
      ::kill(sleep, SIGKILL);
    }
  }
};

// A bind mount of a namespace at a fresh path under /tmp, removed when the test ends.
struct Pin {
  std::string path = "/tmp/" + nsfun::test::unique_name("nsfun-test-lsns-");
  bool made = false;
  bool denied = false;

  Pin(pid_t pid, NsType type) {
    auto ns = nsfun::NsFd::open(pid, type);
    REQUIRE(ns);
    auto r = nsfun::pin(ns.value(), path.c_str());
    denied = !r && (r.error() == std::errc::operation_not_permitted ||
                    r.error() == std::errc::permission_denied);
    made = static_cast<bool>(r);
  }

  Pin(const Pin&) = delete;
  Pin& operator=(const Pin&) = delete;

  ~Pin() {
    if (made) {
      (void)nsfun::unpin(path.c_str());
    }
  }
};

// Both tools' JSON object of namespace `ino`, anywhere in a tree.
template <class Json>
const Json* find_row(const Json& rows, std::uint64_t ino) {
  for (const Json& r : rows) {
    if (r.at("ns").template get<std::uint64_t>() == ino) {
      return &r;
    }
    if (r.contains("children")) {
      if (const Json* c = find_row(r.at("children"), ino)) {
        return c;
      }
    }
  }
  return nullptr;
}

// A command run on a pseudo-terminal `cols` wide (script(1)); its output.
std::string on_terminal(const std::string& command, int cols) {
  return nsfun::test::run("script -qec \"stty cols " + std::to_string(cols) + "; " + command +
                          "\" /dev/null 2>/dev/null")
      .out;
}

}  // namespace

TEST_SUITE("nsm list lsns options") {
  TEST_CASE(
      "list NETNSID and NSFS as lsns: multi-line, -W and -r joined by commas, JSON by newlines") {
    NSFUN_REQUIRE(can_isolate, "cannot unshare uts ipc net");
    NSFUN_REQUIRE(nsfun::test::have_program("lsns"), "no lsns");
    Isolated s({"/bin/sleep", "120"});
    Pin a(s.pid(), NsType::net);
    NSFUN_REQUIRE(!a.denied, "cannot bind-mount a namespace here");
    REQUIRE(a.made);
    Pin b(s.pid(), NsType::net);
    REQUIRE(b.made);
    const std::string ino = std::to_string(s.ino("net"));

    // The default columns of -t net, both rows of the two-line cell.
    auto ours = nsm_out("list -t net");
    auto theirs = nsfun::test::run("lsns -t net 2>/dev/null");
    REQUIRE(ours.status == 0);
    REQUIRE(theirs.status == 0);
    CHECK(split_words(lines_of(ours.out).at(0)) == split_words(lines_of(theirs.out).at(0)));
    CHECK(split_words(lines_of(ours.out).at(0)) ==
          std::vector<std::string>{"NS", "TYPE", "NPROCS", "PID", "USER", "NETNSID", "NSFS",
                                   "COMMAND"});
    const auto row = row_of(ours.out, ino);
    CHECK(row.size() == 2);
    CHECK(row == row_of(theirs.out, ino));

    for (const char* opts : {"-W", "-r", "-n -W", "-r -n"}) {
      const std::string cols = std::string(" ") + opts + " -t net -o NS,TYPE,NETNSID,NSFS,PID";
      auto o = nsm_out("list" + cols);
      auto t = nsfun::test::run("lsns" + cols + " 2>/dev/null");
      CAPTURE(opts);
      CHECK(row_of(o.out, ino) == row_of(t.out, ino));
      CHECK(o.out.find(a.path + "," + b.path) != std::string::npos);
    }

    auto oj = nsm_out("list -J -t net -o NS,TYPE,NPROCS,NETNSID,NSFS");
    auto tj = nsfun::test::run("lsns -J -t net -o NS,TYPE,NPROCS,NETNSID,NSFS 2>/dev/null");
    const json ojs = json::parse(oj.out);
    const json tjs = json::parse(tj.out);
    const json* x = find_row(ojs.at("namespaces"), s.ino("net"));
    const json* y = find_row(tjs.at("namespaces"), s.ino("net"));
    REQUIRE(x != nullptr);
    REQUIRE(y != nullptr);
    CHECK(*x == *y);
    CHECK(x->at("nsfs") == a.path + "\n" + b.path);
  }

  TEST_CASE("list <namespace> lists its processes as lsns <namespace>, in a process tree") {
    NSFUN_REQUIRE(can_isolate, "cannot unshare uts ipc net");
    NSFUN_REQUIRE(nsfun::test::have_program("lsns"), "no lsns");
    NSFUN_REQUIRE(nsfun::test::have_program("unshare"), "no unshare");
    ShellAndSleep f;
    const std::string uts = std::to_string(f.sh.ino("uts"));
    for (const char* opts : {"", "-l ", "-r ", "-n ", "-o PID,COMMAND,NS,TYPE,NPROCS,PATH ",
                             "-o PID,UID,USER,PPID -r "}) {
      auto o = nsm_out(std::string("list ") + opts + uts);
      auto t = nsfun::test::run(std::string("lsns ") + opts + uts + " 2>/dev/null");
      CAPTURE(opts);
      REQUIRE(o.status == 0);
      REQUIRE(t.status == 0);
      if (std::string(opts).rfind("-r", 0) == 0 ||
          std::string(opts).find(" -r") != std::string::npos) {
        // lsns -r escapes its tree characters into the COMMAND cell; nsm -r draws no tree.
        CHECK(lines_of(o.out).size() == lines_of(t.out).size());
        CHECK(o.out.find(std::to_string(f.sleep)) != std::string::npos);
      } else {
        CHECK(lines_of(o.out) == lines_of(t.out));
      }
    }
    // The sleep is the shell's child in both tools' JSON.
    auto oj = nsm_out("list -J " + uts);
    auto tj = nsfun::test::run("lsns -J " + uts + " 2>/dev/null");
    CHECK(json::parse(oj.out) == json::parse(tj.out));
    CHECK(oj.out.find("children") != std::string::npos);
    auto flat = nsm_out("list -J -l " + uts);
    CHECK(json::parse(flat.out).at("namespaces").size() == 2);

    auto gone = nsm_err("list 1");
    CHECK(gone.status == 1);
    CHECK(gone.out == "nsm: namespace 1: not found\n");
  }

  TEST_CASE("list draws lsns's process tree in the default table, -l and -o make it flat") {
    NSFUN_REQUIRE(can_isolate, "cannot unshare uts ipc net");
    NSFUN_REQUIRE(nsfun::test::have_program("lsns"), "no lsns");
    NSFUN_REQUIRE(nsfun::test::have_program("unshare"), "no unshare");
    ShellAndSleep f;
    const std::string ipc = std::to_string(link_ino(f.sleep, "ipc"));
    auto o = nsm_out("list");
    auto t = nsfun::test::run("lsns 2>/dev/null");
    const auto ours = row_of(o.out, ipc);
    REQUIRE(ours.size() == 1);
    CHECK(ours[0].at(5) == "└─/bin/sleep");
    // lsns nests it only when the shell's row comes first (its namespaces have lower inodes;
    // after inode reuse they may not): then the rows are the same.
    if (f.sh.ino("uts") < link_ino(f.sleep, "ipc")) {
      CHECK(ours == row_of(t.out, ipc));
    }
    auto l = nsm_out("list -l");
    auto tl = nsfun::test::run("lsns -l 2>/dev/null");
    CHECK(row_of(l.out, ipc) == row_of(tl.out, ipc));
    CHECK(row_of(l.out, ipc).at(0).at(5) == "/bin/sleep");
    // -o, -r and JSON are flat (lsns 2.40 with -o; 2.38 nests there too).
    auto custom = nsm_out("list -o NS,COMMAND");
    CHECK(row_of(custom.out, ipc).at(0).at(1) == "/bin/sleep");
    CHECK(nsm_out("list -J").out.find("children") == std::string::npos);
  }

  TEST_CASE("list --output-all shows lsns's columns in lsns's order, then NSID") {
    NSFUN_REQUIRE(can_isolate, "cannot unshare uts ipc net");
    NSFUN_REQUIRE(nsfun::test::have_program("lsns"), "no lsns");
    Isolated s({"/bin/sleep", "120"});
    auto o = nsm_out("list --output-all -J");
    auto t = nsfun::test::run("lsns --output-all -J 2>/dev/null");
    REQUIRE(o.status == 0);
    REQUIRE(t.status == 0);
    // Parsed keeping the key order each tool wrote.
    const nlohmann::ordered_json ours_all = nlohmann::ordered_json::parse(o.out);
    const nlohmann::ordered_json theirs_all = nlohmann::ordered_json::parse(t.out);
    for (const char* type : {"uts", "ipc", "net"}) {
      const nlohmann::ordered_json* x = find_row(ours_all.at("namespaces"), s.ino(type));
      const nlohmann::ordered_json* y = find_row(theirs_all.at("namespaces"), s.ino(type));
      REQUIRE(x != nullptr);
      REQUIRE(y != nullptr);
      std::vector<std::string> keys;
      for (const auto& item : y->items()) {
        if (item.key() == "children") {
          continue;
        }
        keys.push_back(item.key());
        CHECK_MESSAGE(x->at(item.key()) == item.value(), type << " " << item.key());
      }
      std::vector<std::string> ours;
      for (const auto& item : x->items()) {
        ours.push_back(item.key());
      }
      keys.emplace_back("nsid");
      CHECK(ours == keys);
    }
    // Headings: lsns's, then NSID.
    auto text = nsm_out("list --output-all -r -t uts");
    auto theirs = nsfun::test::run("lsns --output-all -r -t uts 2>/dev/null");
    CHECK(lines_of(text.out).at(0) == lines_of(theirs.out).at(0) + " NSID");
  }

  TEST_CASE("list cuts COMMAND to the terminal as lsns does, not with -u or into a pipe") {
    NSFUN_REQUIRE(can_isolate, "cannot unshare uts ipc net");
    NSFUN_REQUIRE(nsfun::test::have_program("lsns"), "no lsns");
    NSFUN_REQUIRE(nsfun::test::have_program("script"), "no script");
    std::vector<std::string> argv{"/bin/sleep", "100"};
    for (int i = 0; i < 30; ++i) {
      argv.emplace_back("1");
    }
    Isolated s(argv);
    const std::string uts = std::to_string(s.ino("uts"));
    std::string full = "/bin/sleep 100";
    for (int i = 0; i < 30; ++i) {
      full += " 1";
    }
    for (int cols : {40, 60}) {
      const std::string args = "-o PID,USER,COMMAND " + uts;
      std::string ours = "NO_COLOR=1 " + nsm;  // no bold heading: lsns 2.38 has none
      ours += " list ";
      auto o = lines_of(on_terminal(ours + args, cols));
      auto t = lines_of(on_terminal("lsns " + args, cols));
      CAPTURE(cols);
      CHECK(o == t);
      REQUIRE(o.size() == 2);
      CHECK(o[1].size() <= static_cast<std::size_t>(cols));
      ours += "-u ";
      auto ou = lines_of(on_terminal(ours + args, cols));
      auto tu = lines_of(on_terminal("lsns -u " + args, cols));
      CHECK(ou == tu);
      CHECK(ou.at(1).find(full) != std::string::npos);
    }
    // Into a pipe nothing is cut.
    CHECK(nsm_out("list -o PID,COMMAND " + uts).out.find(full) != std::string::npos);
  }

  TEST_CASE("list -P shows only the namespaces no process is in (lsns 2.40 --persistent)") {
    NSFUN_REQUIRE(can_isolate, "cannot unshare uts ipc net");
    std::string path;
    std::uint64_t ino = 0;
    std::uint64_t uts = 0;
    {
      Isolated s({"/bin/sleep", "120"});
      ino = s.ino("net");
      uts = s.ino("uts");
      auto ns = nsfun::NsFd::open(s.pid(), NsType::net);
      REQUIRE(ns);
      path = "/tmp/" + nsfun::test::unique_name("nsfun-test-lsns-");
      auto r = nsfun::pin(ns.value(), path.c_str());
      NSFUN_REQUIRE(r || (r.error() != std::errc::operation_not_permitted &&
                          r.error() != std::errc::permission_denied),
                    "cannot bind-mount a namespace here");
      REQUIRE(r);
    }
    auto p = nsm_out("list -P -J --output-all");
    auto all = nsm_out("list -r -n -o NS");
    auto q = nsm_out("list -Q 'NPROCS == 0' -J --output-all");
    (void)nsfun::unpin(path.c_str());
    REQUIRE(p.status == 0);
    const json rows = json::parse(p.out).at("namespaces");
    const json* e = find_row(rows, ino);
    REQUIRE(e != nullptr);
    CHECK(e->at("nprocs") == 0);
    CHECK(e->at("nsfs") == path);
    CHECK(find_row(rows, uts) == nullptr);
    for (const json& r : rows) {
      CHECK(r.at("nprocs") == 0);
    }
    CHECK(rows == json::parse(q.out).at("namespaces"));
    CHECK(all.out.find(std::to_string(ino)) != std::string::npos);
    CHECK(nsm_err("list -P -p 1").status == 2);
  }

  TEST_CASE("list -Q filters rows with lsns 2.40's expression syntax") {
    NSFUN_REQUIRE(can_isolate, "cannot unshare uts ipc net");
    Isolated s({"/bin/sleep", "120"});
    const std::string pid = std::to_string(s.pid());
    const std::string uts = std::to_string(s.ino("uts"));
    const std::string net = std::to_string(s.ino("net"));
    auto nss = [](const std::string& expr) {
      auto r = nsm_out("list -r -n -o NS -Q '" + expr + "'");
      CAPTURE(expr);
      CHECK(r.status == 0);
      auto words = split_words(r.out);
      std::sort(words.begin(), words.end());
      return words;
    };
    std::vector<std::string> three{uts, net, std::to_string(s.ino("ipc"))};
    std::sort(three.begin(), three.end());
    CHECK(nss("PID == " + pid) == three);
    CHECK(nss("pid eq " + pid) == three);
    CHECK(nss("NS == " + uts) == std::vector<std::string>{uts});
    CHECK(nss("PID == " + pid + " && TYPE == \"uts\"") == std::vector<std::string>{uts});
    CHECK(nss("PID == " + pid + " and (TYPE == \"uts\" or type == \"net\")") ==
          std::vector<std::string>{std::min(uts, net), std::max(uts, net)});
    CHECK(nss("PID == " + pid + " && !(TYPE != \"uts\")") == std::vector<std::string>{uts});
    CHECK(nss("PID == " + pid + " && not (TYPE =~ \"^(ipc|net)$\")") ==
          std::vector<std::string>{uts});
    CHECK(nss("COMMAND =~ \"^/bin/sleep 120$\" && PID == " + pid + " && TYPE !~ \"t\"") ==
          std::vector<std::string>{std::to_string(s.ino("ipc"))});
    CHECK(nss("NS > " + uts + " && NS <= " + uts) == std::vector<std::string>{});
    CHECK(nss("NS >= " + uts + " && NS < " + uts + " || NS == " + uts) ==
          std::vector<std::string>{uts});
    CHECK(nss("NPROCS ge 1 && PID le " + pid + " && PID gt 0 && PID lt 1 && NS ne 0").empty());
    CHECK(nss("false").empty());
    // libsmartcols's precedence: && and || bind equally, from the left.
    CHECK(nss("NS == " + uts + " || NS == " + net + " && TYPE == \"ipc\"").empty());
    CHECK(nss("NS == " + uts + " || (NS == " + net + " && TYPE == \"ipc\")") ==
          std::vector<std::string>{uts});
    CHECK(nss("NS == " + uts + " && true") == std::vector<std::string>{uts});
    // A column that is only tested is not shown; one shown is still there.
    auto r = nsm_out("list -o NS,TYPE -Q 'PPID > 0 && NS == " + uts + "'");
    CHECK(lines_of(r.out) == std::vector<std::string>{"        NS TYPE", uts + " uts"});
  }

  TEST_CASE("list -H lists lsns's columns with their descriptions, -J as JSON") {
    NSFUN_REQUIRE(nsfun::test::have_program("lsns"), "no lsns");
    auto h = nsm_out("list -H");
    REQUIRE(h.status == 0);
    auto help = nsfun::test::run("lsns --help");
    // lsns 2.38's --help lists "NAME  description" under "Available output columns:".
    const std::size_t at = help.out.find("Available output columns:");
    REQUIRE(at != std::string::npos);
    std::size_t n = 0;
    for (const std::string& line : lines_of(help.out.substr(at))) {
      auto words = split_words(line);
      if (line.empty() || line[0] != ' ' || words.size() < 2) {
        continue;
      }
      std::string desc = line.substr(line.find(words[0]) + words[0].size());
      desc.erase(0, desc.find_first_not_of(' '));
      bool found = false;
      for (const std::string& l : lines_of(h.out)) {
        auto w = split_words(l);
        found = found || (!w.empty() && w[0] == words[0] && l.find(desc) != std::string::npos);
      }
      CHECK_MESSAGE(found, line);
      ++n;
    }
    CHECK(n == 13);
    auto j = nsm_out("list -H -J");
    const json cols = json::parse(j.out).at("lsns-columns");
    CHECK(cols.size() == 14);
    CHECK(cols.at(0).at("holder") == "NS");
    CHECK(cols.at(0).at("type") == "<integer>");
  }

  TEST_CASE("list option errors are one line and exit 2") {
    const std::vector<std::pair<std::string, std::string>> cases{
        {"-p -t net", "nsm: --task: '-t' is not a process id (a whole number from 1)"},
        {"-p 0", "nsm: --task: '0' is not a process id (a whole number from 1)"},
        {"-p -5", "nsm: --task: '-5' is not a process id (a whole number from 1)"},
        {"-p 99999999999",
         "nsm: --task: '99999999999' is not a process id (a whole number from 1)"},
        {"-p abc", "nsm: --task: 'abc' is not a process id (a whole number from 1)"},
        {"-p", "nsm: '--task' needs a value"},
        {"-t", "nsm: '--type' needs a value"},
        {"-t foo",
         "nsm: unknown namespace type in 'foo' (known: "
         "user,mnt,uts,ipc,pid,net,cgroup,time or all)"},
        {"-o", "nsm: '--output' needs a value"},
        {"-o NS,FOO",
         "nsm: unknown column: 'FOO' (known: NS TYPE PATH NPROCS PID PPID COMMAND "
         "UID USER NETNSID NSFS PNS ONS NSID)"},
        {"-T bad", "nsm: --tree: 'bad' is not a tree kind (owner, parent or process)"},
        {"-Q", "nsm: '--filter' needs a value"},
        {"-Q 'PID =='",
         "nsm: bad filter 'PID ==': at character 7, unexpected end (expected a column, a value, "
         "'!' or '(')"},
        {"-Q 'FOO == 1'", "nsm: bad filter 'FOO == 1': at character 1, unknown column 'FOO'"},
        {"-Q '(PID == 1'",
         "nsm: bad filter '(PID == 1': at character 10, unexpected end (expected ')')"},
        {"-Q 'PID == 1 )'",
         "nsm: bad filter 'PID == 1 )': at character 10, unexpected ')' (expected an operator or "
         "the end)"},
        {"-Q 'TYPE =~ net'",
         "nsm: bad filter 'TYPE =~ net': at character 9, unexpected 'net' (expected a quoted "
         "regular expression after '=~')"},
        {"-Q 'TYPE == \"net'",
         "nsm: bad filter 'TYPE == \"net': at character 9, unterminated string starting with \""},
        {"-Q 'PID = 1'", "nsm: bad filter 'PID = 1': at character 5, unexpected character '='"},
        {"-Q 'PID == 99999999999999999999999'",
         "nsm: bad filter 'PID == 99999999999999999999999': at character 8, number "
         "99999999999999999999999 is too large"},
        {"-Q ''", "nsm: bad filter '': at character 1, the expression is empty"},
        {"abc", "nsm: 'abc' is not a namespace (an inode number, as the NS column shows)"},
        {"-5", "nsm: '-5' is not a namespace (an inode number, as the NS column shows)"},
        {"99999999999999999999999",
         "nsm: '99999999999999999999999' is not a namespace (an inode "
         "number, as the NS column shows)"},
        {"-p 1 4026531835", "nsm: -p/--task and a <namespace> argument exclude each other"},
        {"-P -p 1", "nsm: --task excludes --persistent"},
        {"-l -T", "nsm: --list excludes --tree"},
        {"-J -r", "nsm: --json excludes --raw"},
        {"-T owner 4026531835",
         "nsm: with a <namespace> argument the rows are processes: only -T process applies"},
        {"4026531835 4026531836", "nsm: unexpected argument '4026531836'"},
    };
    for (const auto& c : cases) {
      auto r = nsm_err("list " + c.first);
      CAPTURE(c.first);
      CHECK(r.status == 2);
      CHECK(r.out == c.second + "\nTry 'nsm list --help' for more information.\n");
    }
  }
}
