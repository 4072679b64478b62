// SPDX-License-Identifier: MIT
// End-to-end tests of nsm monitor (watch): the built binary runs with its stdout on a pipe, a
// forked child makes namespaces and is killed, and every line nsm wrote is parsed (-J: by a JSON
// parser) and checked against readlink of the child's /proc/PID/ns links (issue 16).

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <nsfun/ns_type.hpp>

#include "nsm_support.hpp"
#include "test_support.hpp"

namespace {

// Keys in the order nsm wrote them (the order is part of the format).
using json = nlohmann::ordered_json;
using nsfun::NsType;
using nsfun::NsTypeSet;
using nsfun::test::link_ino;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

using nsm_test::nsm;
using nsm_test::nsm_err;

// ---- nsm monitor as a child with its stdout and stderr on pipes ------------------------------

class Monitor {
 public:
  // Starts `nsm ARGS…`; as uid/gid 65534 without capabilities when `as_nobody`; with TZ=`tz`
  // when given.
  explicit Monitor(const std::vector<std::string>& args,
                   bool as_nobody = false,
                   const char* tz = nullptr) {
    int out[2];
    int err[2];
    REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
    REQUIRE(::pipe2(err, O_CLOEXEC) == 0);
    ::fcntl(err[0], F_SETFL, O_NONBLOCK);  // errors() reads what there is, never waits
    std::vector<std::string> words{nsm};
    words.insert(words.end(), args.begin(), args.end());
    std::vector<char*> argv;
    argv.reserve(words.size() + 1);
    for (std::string& w : words) {
      argv.push_back(w.data());
    }
    argv.push_back(nullptr);
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      if (tz != nullptr) {
        ::setenv("TZ", tz, 1);
      }
      if (as_nobody && nsfun::test::drop_privileges() != 0) {
        ::_exit(90);
      }
      ::dup2(out[1], STDOUT_FILENO);
      ::dup2(err[1], STDERR_FILENO);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(out[1]);
    ::close(err[1]);
    out_ = out[0];
    err_ = err[0];
  }

  Monitor(const Monitor&) = delete;
  Monitor& operator=(const Monitor&) = delete;

  ~Monitor() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    close_stdout();
    if (err_ >= 0) {
      ::close(err_);
    }
  }

  [[nodiscard]] pid_t pid() const noexcept { return pid_; }

  // The next whole line of stdout (without its newline), waiting up to `timeout`; none when the
  // time ran out or nsm closed its stdout.
  std::optional<std::string> line(milliseconds timeout) {
    const auto limit = Clock::now() + timeout;
    for (;;) {
      const std::size_t nl = buf_.find('\n');
      if (nl != std::string::npos) {
        std::string l = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        return l;
      }
      const auto left = std::chrono::duration_cast<milliseconds>(limit - Clock::now()).count();
      if (left <= 0 || out_ < 0) {
        return std::nullopt;
      }
      pollfd p{out_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left)) <= 0) {
        continue;
      }
      char chunk[4096];
      const ssize_t n = ::read(out_, chunk, sizeof(chunk));
      if (n <= 0) {
        return std::nullopt;
      }
      buf_.append(chunk, static_cast<std::size_t>(n));
    }
  }

  // The reader goes away, as `head -n 1` does after its line.
  void close_stdout() {
    if (out_ >= 0) {
      ::close(out_);
      out_ = -1;
    }
  }

  void signal(int sig) const { ::kill(pid_, sig); }

  // Its exit status (128 + signal when killed), waiting up to `timeout`; none when it still runs.
  std::optional<int> wait(milliseconds timeout) {
    const auto limit = Clock::now() + timeout;
    for (;;) {
      int status = 0;
      const pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      if (r < 0 || Clock::now() >= limit) {
        return std::nullopt;
      }
      std::this_thread::sleep_for(milliseconds(2));
    }
  }

  // What it wrote on stderr so far.
  std::string errors() const {
    std::string s;
    char chunk[4096];
    ssize_t n = 0;
    while ((n = ::read(err_, chunk, sizeof(chunk))) > 0) {
      s.append(chunk, static_cast<std::size_t>(n));
    }
    return s;
  }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  int err_ = -1;
  std::string buf_;
};

// Every -J line is one JSON object; a line that is not fails the test.
json parse_line(const std::string& l) {
  json j;
  CHECK_NOTHROW(j = json::parse(l));
  CHECK_MESSAGE(j.is_object(), l);
  return j.is_object() ? j : json::object();
}

// The keys every event line has, in this order (null where unknown).
const std::vector<std::string> event_keys{"time", "event", "type",  "ns",       "nsid",
                                          "pid",  "comm",  "owner", "lived_ns", "lost"};

void check_event_keys(const json& e) {
  std::vector<std::string> keys;
  for (const auto& [k, v] : e.items()) {
    keys.push_back(k);
  }
  CHECK_MESSAGE(keys == event_keys, e.dump());
  static const std::regex iso(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d)");
  CHECK_MESSAGE(std::regex_match(e.value("time", std::string()), iso), e.dump());
}

// The START line of a -J run.
json start_line(Monitor& m) {
  auto l = m.line(milliseconds(10'000));
  REQUIRE_MESSAGE(l.has_value(), "no START line; stderr: " << m.errors());
  json j = parse_line(*l);
  CHECK(j.value("event", "") == "START");
  for (const char* k : {"time", "backend", "asked", "why", "types", "interval_ms", "processes"}) {
    CHECK_MESSAGE(j.contains(k), k);
  }
  return j;
}

// Event lines (each parsed and checked) until `done` holds for the events so far or `timeout`
// passes.
std::vector<json> events_until(Monitor& m,
                               const std::function<bool(const std::vector<json>&)>& done,
                               milliseconds timeout) {
  std::vector<json> events;
  const auto limit = Clock::now() + timeout;
  while (!done(events)) {
    const auto left = std::chrono::duration_cast<milliseconds>(limit - Clock::now());
    if (left.count() <= 0) {
      break;
    }
    auto l = m.line(left);
    if (!l) {
      break;
    }
    json e = parse_line(*l);
    check_event_keys(e);
    events.push_back(std::move(e));
  }
  return events;
}

const json* find_event(const std::vector<json>& events,
                       std::string_view kind,
                       std::string_view type,
                       std::uint64_t ino) {
  for (const json& e : events) {
    if (e.at("event") == kind && e.at("type") == type && e.at("ns") == ino) {
      return &e;
    }
  }
  return nullptr;
}

// The namespaces a child made: type and inode (pid and time through their *_for_children links).
struct Made {
  NsType type;
  std::uint64_t ino;
};

std::vector<Made> made_by(pid_t pid, NsTypeSet types) {
  std::vector<Made> made;
  for (NsType t : types) {
    const std::string_view link = t == NsType::pid    ? "pid_for_children"
                                  : t == NsType::time ? "time_for_children"
                                                      : nsfun::name(t);
    const std::uint64_t ino = link_ino(pid, link);
    REQUIRE_MESSAGE(ino != 0, link);
    REQUIRE_MESSAGE(ino != link_ino(::getpid(), link), "the child did not unshare " << link);
    made.push_back({t, ino});
  }
  return made;
}

bool all_seen(const std::vector<json>& events,
              const std::vector<Made>& made,
              std::string_view kind) {
  return std::all_of(made.begin(), made.end(), [&](const Made& m) {
    return find_event(events, kind, nsfun::name(m.type), m.ino) != nullptr;
  });
}

// In a PausedChild: unshare(flags); with CLONE_NEWPID also a first process in the new pid
// namespace (the kernel shows pid_for_children only once the namespace has its init), which
// exits when the child dies (its pipe's write end closes).
bool unshare_all(int flags) {
  if (::unshare(flags) != 0) {
    return false;
  }
  if ((flags & CLONE_NEWPID) == 0) {
    return true;
  }
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) {
    return false;
  }
  const pid_t init = ::fork();
  if (init == 0) {
    ::close(p[1]);
    char c = 0;
    (void)!::read(p[0], &c, 1);
    ::_exit(0);
  }
  ::close(p[0]);
  return init > 0;  // p[1] stays open until this process dies
}

// NEW and GONE, with the right type and pid, for each namespace a child makes with unshare of
// `types` while `args` monitors.
void check_new_and_gone(const std::vector<std::string>& args, NsTypeSet types) {
  Monitor m(args);
  json start = start_line(m);
  nsfun::test::PausedChild child([flags = types.clone_flags()] { return unshare_all(flags); });
  REQUIRE(child);
  const pid_t pid = child.pid();
  const std::vector<Made> made = made_by(pid, types);
  auto news = events_until(
      m, [&](const std::vector<json>& ev) { return all_seen(ev, made, "NEW"); },
      milliseconds(10'000));
  for (const Made& n : made) {
    CAPTURE(nsfun::name(n.type));
    const json* e = find_event(news, "NEW", nsfun::name(n.type), n.ino);
    REQUIRE_MESSAGE(e != nullptr, "backend " << start.at("backend"));
    CHECK(e->at("pid") == pid);
    CHECK(e->at("comm").is_string());
    CHECK((e->at("nsid").is_null() || e->at("nsid").get<std::uint64_t>() > 0));
    CHECK(e->at("lived_ns").is_null());
    CHECK(e->at("lost").is_null());
  }
  child.stop();
  auto gone = events_until(
      m, [&](const std::vector<json>& ev) { return all_seen(ev, made, "GONE"); },
      nsfun::test::gone_wait(types.contains(NsType::user) ? NsType::user : NsType::net));
  for (const Made& n : made) {
    CAPTURE(nsfun::name(n.type));
    const json* e = find_event(gone, "GONE", nsfun::name(n.type), n.ino);
    REQUIRE_MESSAGE(e != nullptr, "backend " << start.at("backend"));
    // It was seen born, so its life is known; and the id, where there is one, is the NEW's.
    CHECK(e->at("lived_ns").is_number_unsigned());
    const json* born = find_event(news, "NEW", nsfun::name(n.type), n.ino);
    CHECK(e->at("nsid") == born->at("nsid"));
  }
  m.signal(SIGTERM);
  CHECK(m.wait(milliseconds(2000)) == 0);
  CHECK(m.errors().empty());
}

const NsTypeSet every_type = NsTypeSet::all();

}  // namespace

TEST_SUITE("nsm monitor") {
  TEST_CASE("monitor -J with the poll backend reports NEW and GONE of all eight types") {
    NSFUN_REQUIRE(nsfun::test::can_unshare(every_type), "cannot unshare every namespace type");
    check_new_and_gone({"monitor", "-J", "--backend", "poll", "--interval", "50"}, every_type);
  }

  TEST_CASE("monitor -J with the automatic backend reports NEW and GONE of all eight types") {
    NSFUN_REQUIRE(::geteuid() == 0, "the best backends need root");
    NSFUN_REQUIRE(nsfun::test::can_unshare(every_type), "cannot unshare every namespace type");
    check_new_and_gone({"monitor", "-J", "--interval", "50"}, every_type);
  }

  TEST_CASE("the START line names the backend asked for, and every backend ends cleanly") {
    for (const char* backend : {"auto", "bpf", "connector", "poll"}) {
      CAPTURE(backend);
      Monitor m({"monitor", "-J", "--backend", backend, "--interval", "50"});
      auto first = m.line(milliseconds(10'000));
      if (!first) {
        // A backend this run may not use: one line naming it, exit 1.
        CHECK(m.wait(milliseconds(2000)) == 1);
        std::string err = m.errors();
        CHECK(std::count(err.begin(), err.end(), '\n') == 1);
        CHECK(err.rfind(std::string("nsm: monitor with backend ") + backend + ": ", 0) == 0);
        continue;
      }
      json start = parse_line(*first);
      CHECK(start.at("event") == "START");
      if (std::string_view(backend) != "auto") {
        CHECK(start.at("backend") == backend);
        CHECK(start.at("asked") == true);
      } else {
        CHECK(start.at("asked") == false);
      }
      CHECK(start.at("interval_ms") == 50);
      CHECK(start.at("types").size() == 8);
      m.signal(SIGINT);
      CHECK(m.wait(milliseconds(1000)) == 0);
      CHECK(m.errors().empty());
    }
  }

  TEST_CASE("monitor text lines: time, marker, type:[inode], pid and cmd, lived in human units") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::uts}), "cannot unshare uts");
    Monitor m({"monitor", "--backend", "poll", "--interval", "50"});
    auto first = m.line(milliseconds(10'000));
    REQUIRE(first);
    CHECK(*first == "# backend: poll (as asked)");
    // A command name with a blank, which the line shows as \x20 (as lsns -r).
    nsfun::test::PausedChild child(
        [] { return ::prctl(PR_SET_NAME, "nsft mon") == 0 && ::unshare(CLONE_NEWUTS) == 0; });
    REQUIRE(child);
    const pid_t pid = child.pid();
    const std::string ns = R"(uts:\[)" + std::to_string(link_ino(pid, "uts")) + R"(\])";
    const std::string time = R"(\d\d:\d\d:\d\d\.\d{3} )";
    const std::regex made(time + R"(\+ NEW )" + ns + " pid=" + std::to_string(pid) +
                          R"( cmd=nsft\\x20mon( owner=user:\[\d+\])?( id=\d+)?)");
    const std::regex gone(time + R"(- GONE )" + ns +
                          R"( lived \d+(\.\d)?(ns|µs|ms|s|min|h)( id=\d+)?)");
    const std::regex any(time + R"([-+<>!] (NEW|GONE|JOIN|LEAVE|LOST) .*)");
    bool seen_new = false;
    bool seen_gone = false;
    const auto limit = Clock::now() + milliseconds(10'000);
    while (!seen_gone && Clock::now() < limit) {
      auto l = m.line(milliseconds(10'000));
      if (!l) {
        break;
      }
      CHECK_MESSAGE(std::regex_match(*l, any), *l);
      if (std::regex_match(*l, made)) {
        seen_new = true;
        child.stop();
      }
      seen_gone = seen_gone || std::regex_match(*l, gone);
    }
    CHECK(seen_new);
    CHECK(seen_gone);
  }

  TEST_CASE("monitor -J times are local, with the offset from UTC") {
    for (const auto& zone : {std::pair{"NSFT-5:30", "+05:30"}, std::pair{"NSFT+3", "-03:00"},
                             std::pair{"UTC0", "+00:00"}}) {
      // (Named copies: clang 14 cannot capture a structured binding in CAPTURE's lambda.)
      const char* tz = zone.first;
      const std::string offset = zone.second;
      CAPTURE(tz);
      Monitor m({"monitor", "-J", "--backend", "poll"}, false, tz);
      const std::string time = start_line(m).at("time").get<std::string>();
      CHECK_MESSAGE(time.size() == 29, time);
      CHECK_MESSAGE(time.substr(23) == offset, time);
      m.signal(SIGTERM);
      CHECK(m.wait(milliseconds(1000)) == 0);
    }
  }

  TEST_CASE("the bpf backend leaves no program, link or map behind when it ends") {
    NSFUN_REQUIRE(::geteuid() == 0, "the bpf backend needs root");
    NSFUN_REQUIRE(nsfun::test::have_program("bpftool"), "bpftool is not installed");
    Monitor m({"monitor", "-J", "--backend", "bpf"});
    auto first = m.line(milliseconds(10'000));
    if (!first) {
      nsfun::test::skip("the bpf backend cannot start here");
      return;
    }
    CHECK(parse_line(*first).at("backend") == "bpf");
    // The ids of what it holds, from its fds' fdinfo.
    std::vector<std::pair<std::string, std::string>> held;  // (bpftool object, id)
    const std::string fdinfo = "/proc/" + std::to_string(m.pid()) + "/fdinfo";
    for (const auto& entry : std::filesystem::directory_iterator(fdinfo)) {
      const std::vector<std::string> words =
          nsfun::test::split_words(nsfun::test::read_text(entry.path()));
      for (std::size_t i = 0; i + 1 < words.size(); ++i) {
        for (const char* kind : {"prog", "link", "map"}) {
          if (words[i] == std::string(kind) + "_id:") {
            held.emplace_back(kind, words[i + 1]);
          }
        }
      }
    }
    auto exists = [](const std::pair<std::string, std::string>& o) {
      return nsfun::test::run("bpftool " + o.first + " show id " + o.second + " >/dev/null 2>&1")
                 .status == 0;
    };
    const auto count = [&](const char* kind) {
      return std::count_if(held.begin(), held.end(),
                           [&](const auto& o) { return o.first == kind; });
    };
    CHECK(count("prog") > 0);
    CHECK(count("link") > 0);
    CHECK(count("map") > 0);
    for (const auto& o : held) {
      CHECK_MESSAGE(exists(o), o.first << " " << o.second);
    }
    m.signal(SIGTERM);
    CHECK(m.wait(milliseconds(1000)) == 0);
    // Freed after an RCU grace period: give it a moment.
    for (const auto& o : held) {
      bool gone = false;
      for (int i = 0; i < 100 && !gone; ++i) {
        gone = !exists(o);
        if (!gone) {
          std::this_thread::sleep_for(milliseconds(20));
        }
      }
      CHECK_MESSAGE(gone, o.first << " " << o.second << " is still there");
    }
  }

  TEST_CASE("monitor -t reports only the types asked for") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::net, NsType::uts, NsType::ipc}),
                  "cannot unshare net uts ipc");
    Monitor m({"monitor", "-J", "--backend", "poll", "--interval", "50", "-t", "uts", "-t", "ipc"});
    json start = start_line(m);
    CHECK(start.at("types") == json::array({"uts", "ipc"}));
    nsfun::test::PausedChild child(
        [] { return ::unshare(CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC) == 0; });
    REQUIRE(child);
    const std::vector<Made> made = made_by(child.pid(), {NsType::uts, NsType::ipc});
    const std::uint64_t net = link_ino(child.pid(), "net");
    auto events = events_until(
        m, [&](const std::vector<json>& ev) { return all_seen(ev, made, "NEW"); },
        milliseconds(10'000));
    CHECK(all_seen(events, made, "NEW"));
    child.stop();
    auto more = events_until(
        m, [&](const std::vector<json>& ev) { return all_seen(ev, made, "GONE"); },
        milliseconds(10'000));
    CHECK(all_seen(more, made, "GONE"));
    // A few more rescans: still nothing of another type.
    auto late = events_until(
        m, [](const std::vector<json>&) { return false; }, milliseconds(200));
    events.insert(events.end(), more.begin(), more.end());
    events.insert(events.end(), late.begin(), late.end());
    for (const json& e : events) {
      CHECK_MESSAGE((e.at("type") == "uts" || e.at("type") == "ipc"), e.dump());
      CHECK(e.at("ns") != net);
    }
    m.signal(SIGTERM);
    CHECK(m.wait(milliseconds(1000)) == 0);
  }

  TEST_CASE("monitor --processes reports a new process JOIN and LEAVE its namespaces") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::uts}), "cannot unshare uts");
    Monitor m(
        {"monitor", "-J", "--backend", "poll", "--interval", "50", "--processes", "-t", "uts"});
    CHECK(start_line(m).at("processes") == true);
    nsfun::test::PausedChild child([] { return ::unshare(CLONE_NEWUTS) == 0; });
    REQUIRE(child);
    const pid_t pid = child.pid();
    const std::uint64_t uts = link_ino(pid, "uts");
    auto has = [&](const std::vector<json>& ev, std::string_view kind) {
      return std::any_of(ev.begin(), ev.end(), [&](const json& e) {
        return e.at("event") == kind && e.at("ns") == uts && e.at("pid") == pid;
      });
    };
    auto events = events_until(
        m, [&](const std::vector<json>& ev) { return has(ev, "JOIN"); }, milliseconds(10'000));
    CHECK(has(events, "JOIN"));
    child.stop();
    events = events_until(
        m, [&](const std::vector<json>& ev) { return has(ev, "LEAVE"); }, milliseconds(10'000));
    CHECK(has(events, "LEAVE"));
    m.signal(SIGTERM);
    CHECK(m.wait(milliseconds(1000)) == 0);
  }

  TEST_CASE("watch is monitor") {
    Monitor m({"watch", "-J", "--backend", "poll", "--interval", "50", "-t", "net"});
    json start = start_line(m);
    CHECK(start.at("backend") == "poll");
    CHECK(start.at("types") == json::array({"net"}));
    m.signal(SIGTERM);
    CHECK(m.wait(milliseconds(1000)) == 0);
    auto help = nsfun::test::run(nsm + " watch --help");
    CHECK(help.status == 0);
    CHECK(help.out == nsfun::test::run(nsm + " monitor --help").out);
    CHECK(help.out.find("watch") != std::string::npos);
    CHECK(nsfun::test::run(nsm + " --help").out.find("monitor (watch)") != std::string::npos);
  }

  TEST_CASE("the monitor asks to run soon after it wakes: nice -10 as root, a 100 us slice") {
    Monitor m({"monitor", "-J", "--backend", "poll", "-t", "net"});
    CHECK(start_line(m).at("backend") == "poll");
    // /proc/PID/stat: the nice value is field 19 (after the parenthesised comm).
    const std::string stat = nsfun::test::read_text("/proc/" + std::to_string(m.pid()) + "/stat");
    const std::vector<std::string> f = nsfun::test::split_words(stat.substr(stat.rfind(')') + 2));
    REQUIRE(f.size() > 16);
    CHECK(f[16] == (::geteuid() == 0 ? "-10" : std::to_string(::getpriority(PRIO_PROCESS, 0))));
    const std::string sched = nsfun::test::read_text("/proc/" + std::to_string(m.pid()) + "/sched");
    if (sched.find("se.slice") != std::string::npos) {
      const std::vector<std::string> w = nsfun::test::split_words(sched);
      auto it = std::find(w.begin(), w.end(), "se.slice");
      REQUIRE(std::distance(it, w.end()) > 2);
      CHECK(*(it + 2) == "100000");
    }
    m.signal(SIGTERM);
    CHECK(m.wait(milliseconds(1000)) == 0);
  }

  TEST_CASE("SIGTERM and SIGINT end the monitor at once with exit 0, on every backend") {
    for (const char* backend : {"auto", "poll"}) {
      for (int sig : {SIGTERM, SIGINT}) {
        CAPTURE(backend);
        CAPTURE(sig);
        // A long interval: the end must not wait for the next rescan.
        Monitor m({"monitor", "--backend", backend, "--interval", "60000"});
        REQUIRE(m.line(milliseconds(10'000)));
        const auto sent = Clock::now();
        m.signal(sig);
        CHECK(m.wait(milliseconds(1000)) == 0);
        CHECK(Clock::now() - sent < milliseconds(1000));
        CHECK(m.errors().empty());
      }
    }
  }

  TEST_CASE("a reader that goes away ends the monitor quietly, with or without events") {
    for (const char* mode : {"-J", "--processes"}) {
      CAPTURE(mode);
      // `nsm monitor | head -n 1`: the first line read, then the pipe closed; no event needed.
      Monitor m({"monitor", mode, "--backend", "poll", "--interval", "60000"});
      REQUIRE(m.line(milliseconds(10'000)));
      m.close_stdout();
      CHECK(m.wait(milliseconds(1000)) == 0);
      CHECK(m.errors().empty());
    }
    // The same through a shell: head's one line, and nothing on stderr.
    auto r = nsfun::test::run(nsm + " monitor --backend poll --interval 50 2>&1 | head -n 1");
    CHECK(r.status == 0);
    CHECK(r.out == "# backend: poll (as asked)\n");
  }

  TEST_CASE("unprivileged, the monitor falls back from bpf and says why on its first line") {
    NSFUN_REQUIRE(nsfun::test::can_drop_privileges(), "cannot drop privileges");
    // The proc connector serves unprivileged listeners on some kernels (Linux 6.6+): then the
    // fallback is the connector, else poll, and the line says why each better one was not taken.
    {
      Monitor m({"monitor", "--interval", "50"}, true);
      auto first = m.line(milliseconds(10'000));
      REQUIRE_MESSAGE(first, m.errors());
      const bool poll = first->rfind("# backend: poll (bpf unavailable (", 0) == 0;
      const bool conn = first->rfind("# backend: connector (bpf unavailable (", 0) == 0;
      CHECK_MESSAGE((poll || conn), *first);
      if (poll) {
        CHECK(first->find("; connector unavailable (") != std::string::npos);
      }
      m.signal(SIGTERM);
      CHECK(m.wait(milliseconds(1000)) == 0);
      CHECK(m.errors().empty());
    }
    {
      Monitor m({"watch", "-J", "--interval", "50"}, true);
      json start = start_line(m);
      CHECK((start.at("backend") == "poll" || start.at("backend") == "connector"));
      CHECK(start.at("asked") == false);
      CHECK(start.at("why").get<std::string>().rfind("bpf unavailable (", 0) == 0);
      m.signal(SIGINT);
      CHECK(m.wait(milliseconds(1000)) == 0);
    }
    // Asked for by name, a backend it may not use is an error naming it.
    Monitor m({"monitor", "--backend", "bpf"}, true);
    CHECK(m.wait(milliseconds(10'000)) == 1);
    CHECK(!m.line(milliseconds(0)));
    std::string err = m.errors();
    CHECK(std::count(err.begin(), err.end(), '\n') == 1);
    CHECK(err.rfind("nsm: monitor with backend bpf: ", 0) == 0);
  }

  TEST_CASE("unprivileged, the poll backend sees the user namespace nobody makes") {
    NSFUN_REQUIRE(nsfun::test::can_drop_privileges(), "cannot drop privileges");
    NSFUN_REQUIRE(nsfun::test::can_unshare_unprivileged({NsType::user}),
                  "unprivileged user namespaces are not allowed");
    Monitor m({"monitor", "-J", "--backend", "poll", "--interval", "50", "-t", "user"}, true);
    CHECK(start_line(m).at("backend") == "poll");
    nsfun::test::PausedChild child(
        [] { return nsfun::test::drop_privileges() == 0 && ::unshare(CLONE_NEWUSER) == 0; });
    REQUIRE(child);
    const std::vector<Made> made = made_by(child.pid(), {NsType::user});
    auto events = events_until(
        m, [&](const std::vector<json>& ev) { return all_seen(ev, made, "NEW"); },
        milliseconds(10'000));
    REQUIRE(all_seen(events, made, "NEW"));
    CHECK(find_event(events, "NEW", "user", made[0].ino)->at("pid") == child.pid());
    child.stop();
    events = events_until(
        m, [&](const std::vector<json>& ev) { return all_seen(ev, made, "GONE"); },
        nsfun::test::gone_wait(NsType::user));
    CHECK(all_seen(events, made, "GONE"));
    m.signal(SIGTERM);
    CHECK(m.wait(milliseconds(1000)) == 0);
  }

  TEST_CASE("monitor bad options are usage errors with exit 2, one line and a hint") {
    for (const char* args :
         {"monitor -t bogus", "monitor -t net,bogus", "monitor --interval 0",
          "monitor --interval -5", "monitor --interval abc", "monitor --interval 1.5",
          "monitor --interval 99999999999", "monitor --interval", "monitor --backend bogus",
          "monitor --backend", "monitor extra", "monitor --json=1", "watch --bogus"}) {
      CAPTURE(args);
      auto r = nsm_err(args);
      CHECK(r.status == 2);
      CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 2);
      CHECK(r.out.rfind("nsm: ", 0) == 0);
      CHECK(r.out.find("Try 'nsm ") != std::string::npos);
      CHECK(r.out.find('\n') < 160);
    }
    CHECK(nsm_err("monitor --interval 0").out.rfind("nsm: --interval: '0' is not a period", 0) ==
          0);
    CHECK(
        nsm_err("monitor --backend bpf2").out.rfind("nsm: --backend: 'bpf2' is not a backend", 0) ==
        0);
    CHECK(nsm_err("monitor -t bogus").out.rfind("nsm: unknown namespace type in 'bogus'", 0) == 0);
  }
}
