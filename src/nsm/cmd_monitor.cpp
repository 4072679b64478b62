// SPDX-License-Identifier: MIT
// nsm monitor (watch) – namespaces as they appear and go, one line per event (or JSON lines),
// from the best NsMonitor backend the caller may use (issue 16).
//
// Lines go out with write(2), one whole line per call, so that a pipe sees each event at once.
// SIGINT, SIGTERM and SIGHUP are blocked and read from a signalfd that ends run(), as does a
// reader that went away (the pipe's EPOLLERR, or EPIPE on a write): the monitor is destroyed on
// the way out and nsm exits 0 without a word.

#include <cerrno>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <fmt/format.h>

#include <nsfun/monitor.hpp>
#include <nsfun/unique_fd.hpp>

#include "cli.hpp"

namespace nsm {
namespace {

constexpr long max_interval_ms = 86'400'000;  // a day

struct Options {
  std::vector<std::string> types;
  std::string backend = "auto";
  std::string interval = "1000";
  bool json = false;
  bool processes = false;
};

// ---- time and durations ---------------------------------------------------------------------

struct LocalTime {
  std::tm tm{};
  long ms = 0;
};

LocalTime local_time(std::chrono::system_clock::time_point t) {
  if (t == std::chrono::system_clock::time_point{}) {
    t = std::chrono::system_clock::now();
  }
  auto since = t.time_since_epoch();
  auto secs = std::chrono::floor<std::chrono::seconds>(since);
  LocalTime lt;
  lt.ms = std::chrono::duration_cast<std::chrono::milliseconds>(since - secs).count();
  const std::time_t tt = secs.count();
  ::localtime_r(&tt, &lt.tm);
  return lt;
}

// 14:02:11.318
std::string clock_text(const LocalTime& t) {
  return fmt::format("{:02}:{:02}:{:02}.{:03}", t.tm.tm_hour, t.tm.tm_min, t.tm.tm_sec, t.ms);
}

// 2026-12-02T14:02:11.318+01:00: ISO 8601, local time with its offset from UTC.
std::string iso_text(const LocalTime& t) {
  const long off = t.tm.tm_gmtoff;
  const long abs_off = off < 0 ? -off : off;
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}{}{:02}:{:02}", t.tm.tm_year + 1900,
                     t.tm.tm_mon + 1, t.tm.tm_mday, t.tm.tm_hour, t.tm.tm_min, t.tm.tm_sec, t.ms,
                     off < 0 ? '-' : '+', abs_off / 3600, abs_off % 3600 / 60);
}

// A duration for people: 850ns, 12.5µs, 2.1ms, 3.4s, 5.0min, 2.5h.
std::string human_duration(std::chrono::nanoseconds d) {
  auto ns = static_cast<double>(d.count());
  if (d.count() < 1000) {
    return fmt::format("{}ns", d.count());
  }

  struct Unit {
    double size;
    const char* name;
    double next;  // where the next unit takes over (after rounding to one decimal)
  };

  static constexpr Unit units[] = {{1e3, "µs", 999.95},
                                   {1e6, "ms", 999.95},
                                   {1e9, "s", 59.95},
                                   {60e9, "min", 59.95},
                                   {3600e9, "h", 1e300}};
  for (const Unit& u : units) {
    double v = ns / u.size;
    if (v < u.next) {
      return fmt::format("{:.1f}{}", v, u.name);
    }
  }
  return fmt::format("{:.1f}h", ns / 3600e9);
}

// ---- output ---------------------------------------------------------------------------------

// Writes one whole line; 0, or the errno of a write that failed (EPIPE: the reader went away).
int write_line(std::string line) noexcept {
  try {
    line += '\n';
  } catch (const std::bad_alloc&) {
    return ENOMEM;
  }
  std::string_view rest = line;
  while (!rest.empty()) {
    ssize_t n = ::write(STDOUT_FILENO, rest.data(), rest.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return errno;
    }
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
  return 0;
}

std::string ns_text(nsfun::NsType t, std::uint64_t ino) {
  return fmt::format("{}:[{}]", nsfun::name(t), ino);
}

// "+ NEW" in green and friends, when colour is on.
std::string marker(nsfun::NsEventKind k) {
  const char* sign = "?";
  const char* colour = nullptr;
  switch (k) {
    case nsfun::NsEventKind::appeared:
      sign = "+";
      colour = "32";
      break;
    case nsfun::NsEventKind::gone:
      sign = "-";
      colour = "31";
      break;
    case nsfun::NsEventKind::join:
      sign = ">";
      break;
    case nsfun::NsEventKind::leave:
      sign = "<";
      break;
    case nsfun::NsEventKind::lost:
      sign = "!";
      colour = "33";
      break;
  }
  std::string text = fmt::format("{} {}", sign, nsfun::name(k));
  if (colour != nullptr && colour_enabled()) {
    return fmt::format("\033[{}m{}\033[0m", colour, text);
  }
  return text;
}

// 14:02:11.318 + NEW net:[4026532481] pid=4242 cmd=unshare owner=user:[4026531837] id=8193
std::string text_line(const nsfun::NsEvent& e) {
  std::string line = clock_text(local_time(e.time)) + ' ' + marker(e.kind);
  if (e.kind == nsfun::NsEventKind::lost) {
    line += fmt::format(" {} event{}", e.lost, e.lost == 1 ? "" : "s");
    return line;
  }
  line += ' ' + ns_text(e.ns.type(), e.ns.ino());
  if (e.kind == nsfun::NsEventKind::gone && e.lived) {
    line += " lived " + human_duration(*e.lived);
  }
  if (e.pid != 0) {
    line += fmt::format(" pid={} cmd={}", e.pid, e.comm.empty() ? "?" : raw_escape(e.comm));
  }
  if (e.owner != 0) {
    line += " owner=" + ns_text(nsfun::NsType::user, e.owner);
  }
  if (e.ns.id() != 0) {
    line += fmt::format(" id={}", e.ns.id());
  }
  return line;
}

// Every key on every line, null where unknown.
Json json_event(const nsfun::NsEvent& e) {
  const bool lost = e.kind == nsfun::NsEventKind::lost;
  Json j;
  j["time"] = iso_text(local_time(e.time));
  j["event"] = std::string(nsfun::name(e.kind));
  j["type"] = lost ? Json() : Json(std::string(nsfun::name(e.ns.type())));
  j["ns"] = lost ? Json() : Json(e.ns.ino());
  j["nsid"] = e.ns.id() != 0 ? Json(e.ns.id()) : Json();
  j["pid"] = e.pid != 0 ? Json(e.pid) : Json();
  j["comm"] = e.comm.empty() ? Json() : Json(e.comm);
  j["owner"] = e.owner != 0 ? Json(e.owner) : Json();
  j["lived_ns"] = e.lived ? Json(e.lived->count()) : Json();
  j["lost"] = lost ? Json(e.lost) : Json();
  return j;
}

std::string dump(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// The reasons in why() ("bpf unavailable (…); connector unavailable (…); using poll") without
// the final "using …", which the line says already.
std::string reasons(const std::string& why) {
  const std::size_t at = why.rfind("using ");
  if (at == std::string::npos) {
    return why;
  }
  std::string r = why.substr(0, at);
  while (!r.empty() && (r.back() == ' ' || r.back() == ';')) {
    r.pop_back();
  }
  return r;
}

// ---- the command ----------------------------------------------------------------------------

// SIGINT, SIGTERM and SIGHUP, blocked, as a signalfd.
nsfun::UniqueFd stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGINT, SIGTERM, SIGHUP}) {
    sigaddset(&set, s);
  }
  if (::sigprocmask(SIG_BLOCK, &set, nullptr) < 0) {
    throw Failure("sigprocmask", std::strerror(errno));
  }
  int fd = ::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (fd < 0) {
    throw Failure("signalfd", std::strerror(errno));
  }
  return nsfun::UniqueFd::adopt(fd);
}

// What ends the monitor: the signals, and stdout's reader going away (a pipe whose reader closed
// polls EPOLLERR; a file or /dev/null cannot be watched, and needs not be).
nsfun::UniqueFd stop_set(int signal_fd) {
  int ep = ::epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) {
    throw Failure("epoll_create1", std::strerror(errno));
  }
  nsfun::UniqueFd set = nsfun::UniqueFd::adopt(ep);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = signal_fd;
  if (::epoll_ctl(ep, EPOLL_CTL_ADD, signal_fd, &ev) < 0) {
    throw Failure("epoll_ctl", std::strerror(errno));
  }
  epoll_event out{};  // no events asked: EPOLLERR and EPOLLHUP come anyway
  out.data.fd = STDOUT_FILENO;
  (void)::epoll_ctl(ep, EPOLL_CTL_ADD, STDOUT_FILENO, &out);
  return set;
}

long parse_interval(const std::string& text) {
  long v = 0;
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || p != end || v < 1 || v > max_interval_ms) {
    return 0;
  }
  return v;
}

void run(const Options& o) {
  nsfun::MonitorOptions mo;
  mo.types = o.types.empty() ? nsfun::NsTypeSet::all() : parse_types("monitor", o.types);
  mo.backend =
      nsfun::monitor_backend_from_name(o.backend).value_or(nsfun::MonitorBackend::automatic);
  mo.interval = std::chrono::milliseconds(parse_interval(o.interval));
  mo.processes = o.processes;

  // A reader that goes away is an EPIPE, not a signal that kills nsm before it cleans up.
  std::signal(SIGPIPE, SIG_IGN);
  nsfun::UniqueFd sig = stop_signals();
  nsfun::UniqueFd stop = stop_set(sig.get());

  auto mon = nsfun::NsMonitor::open(mo);
  if (!mon) {
    // "monitor with backend bpf: load BPF programs: Operation not permitted": the context names
    // the backend asked for.
    const std::string msg = why(mon.error());
    const std::string context(mon.error().context());
    if (!context.empty() && msg.rfind(context + ": ", 0) == 0) {
      throw Failure(context, msg.substr(context.size() + 2));
    }
    throw Failure("monitor", msg);
  }
  nsfun::NsMonitor& m = mon.value();
  // Run soon after each event even on a busy machine (nice -10 as root, a short time slice); a
  // refusal changes nothing else.
  (void)nsfun::favor_monitor_thread();
  const bool asked = mo.backend != nsfun::MonitorBackend::automatic;
  const std::string backend(nsfun::name(m.backend()));
  const std::string because = reasons(m.why());
  int err = 0;
  if (o.json) {
    Json start;
    start["time"] = iso_text(local_time(std::chrono::system_clock::now()));
    start["event"] = "START";
    start["backend"] = backend;
    start["asked"] = asked;
    start["why"] = because;
    start["types"] = types_json(mo.types);
    start["interval_ms"] = mo.interval.count();
    start["processes"] = mo.processes;
    err = write_line(dump(start));
  } else if (!because.empty()) {
    err = write_line(fmt::format("# backend: {} ({})", backend, because));
  } else {
    err = write_line(fmt::format("# backend: {}{}", backend, asked ? " (as asked)" : ""));
  }
  if (err == 0) {
    // run() is noexcept: nothing may be thrown from here (a failed allocation ends the run).
    auto done = m.run(
        [&o, &err](const nsfun::NsEvent& e) {
          try {
            err = write_line(o.json ? dump(json_event(e)) : text_line(e));
          } catch (const std::exception&) {
            err = ENOMEM;
          }
          return err == 0;
        },
        stop.get());
    if (!done) {
      throw Failure("monitor", why(done.error()));
    }
  }
  // EPIPE: `nsm monitor | head -1`, the reader has what it wanted.
  if (err != 0 && err != EPIPE) {
    throw Failure("write to stdout", std::strerror(err));
  }
}

// The check of --interval: a whole number of milliseconds from 1 to a day.
CLI::Validator interval_check() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        if (parse_interval(text) != 0) {
          return {};
        }
        std::string shown = text.size() > 64 ? text.substr(0, 64) + "..." : text;
        return fmt::format("'{}' is not a period in milliseconds (a whole number from 1 to {})",
                           shown, max_interval_ms);
      },
      "");
}

CLI::Validator backend_check() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        if (nsfun::monitor_backend_from_name(text)) {
          return {};
        }
        std::string shown = text.size() > 64 ? text.substr(0, 64) + "..." : text;
        return "'" + shown + "' is not a backend (auto, bpf, connector or poll)";
      },
      "");
}

}  // namespace

void register_monitor(CLI::App& app) {
  auto o = std::make_shared<Options>();
  CLI::App* sub =
      app.add_subcommand("monitor", "Watch namespaces appear and go, one line per event");
  sub->alias("watch");
  sub->add_option("-t,--type", o->types,
                  "Only namespaces of TYPE (user,mnt,uts,ipc,pid,net,cgroup,time; repeatable, "
                  "comma lists allowed)")
      ->type_name("TYPE")
      ->expected(1)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  sub->add_option("--backend", o->backend,
                  "Where events come from: auto (the best one permitted: bpf, then connector, "
                  "then poll), bpf (root), connector (the initial namespaces) or poll (anyone)")
      ->type_name("BACKEND")
      ->check(backend_check());
  sub->add_option("--interval", o->interval,
                  "The rescan period of the poll backend and the connector's catch-up rescan, "
                  "in milliseconds (default 1000)")
      ->type_name("MS")
      ->check(interval_check());
  sub->add_flag("--processes", o->processes,
                "Also report processes entering (JOIN) and leaving (LEAVE) namespaces");
  add_json_flag(*sub, o->json);
  sub->footer(
      "Also called 'watch'. Runs until Ctrl-C (SIGINT), SIGTERM or SIGHUP, or until the reader\n"
      "of its output goes away; exits 0 then.\n\n"
      "The first line names the backend and why better ones were not taken:\n"
      "  # backend: poll (bpf unavailable (...); connector unavailable (...))\n"
      "then one line per event (local time):\n"
      "  14:02:11.318 + NEW net:[4026532481] pid=4242 cmd=unshare owner=user:[4026531837] "
      "id=8193\n"
      "  14:02:11.320 - GONE net:[4026532481] lived 2.1ms id=8193\n"
      "  14:02:12.001 > JOIN net:[4026532481] pid=4250 cmd=ip\n"
      "  14:02:12.004 < LEAVE net:[4026532481] pid=4250 cmd=ip\n"
      "  14:02:12.010 ! LOST 17 events\n"
      "With -J, one JSON object per line: a START line (backend, asked, why, types,\n"
      "interval_ms, processes), then events with the keys time (ISO 8601, local, ms), event,\n"
      "type, ns, nsid, pid, comm, owner, lived_ns, lost (null where unknown).\n\n"
      "Examples:\n"
      "  sudo nsm monitor                 everything, from the best backend\n"
      "  nsm watch -t net,user -J         network and user namespaces as JSON lines\n"
      "  nsm monitor --backend poll --interval 200 --processes");
  sub->callback([o] { run(*o); });
}

}  // namespace nsm
