// SPDX-License-Identifier: MIT
// nsm inspect – everything about one process's namespaces, or about a named set's.

#include <array>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <poll.h>

#include <fmt/format.h>

#include <nsfun/named_set.hpp>
#include <nsfun/ns_fd.hpp>
#include <nsfun/persist.hpp>
#include <nsfun/pidfd.hpp>
#include <nsfun/proc_scan.hpp>
#include <nsfun/snapshot.hpp>
#include <nsfun/user_map.hpp>

#include "cli.hpp"
#include "named.hpp"

namespace nsm {
namespace {

struct Options {
  std::string target;
  bool json = false;
};

// The kernel's limit on pid numbers (PID_MAX_LIMIT on 64-bit).
constexpr long pid_max_limit = 4194304;

// One "HEADING value" line of the text output; an empty value leaves the heading alone on its
// line, with no trailing space.
template <typename T>
void field(std::string& out, std::string_view name, const T& value) {
  std::string text = fmt::format("{}", value);
  out += heading(name);
  if (!text.empty()) {
    out += ' ';
    out += text;
  }
  out += '\n';
}

bool exited(const nsfun::UniqueFd& pidfd) {
  pollfd p{pidfd.get(), POLLIN, 0};
  return ::poll(&p, 1, 0) > 0 && (p.revents & POLLIN) != 0;
}

bool is_identity(const nsfun::IdMap& m) {
  return m.ranges().size() == 1 && m.ranges()[0] == nsfun::IdRange{0, 0, 4294967295U};
}

Json map_json(const nsfun::IdMap& m) {
  Json arr = Json::array();
  for (const nsfun::IdRange& r : m.ranges()) {
    arr.push_back({{"inside", r.inside}, {"outside", r.outside}, {"count", r.count}});
  }
  return arr;
}

// The process the HOST column compares with (nsfun::isolation_reference): PID 1 when its links
// can be read, else nsm itself, which an operator runs on the host.
struct Reference {
  std::optional<nsfun::IsolationReference> ref;

  Reference() {
    if (auto r = nsfun::isolation_reference()) {
      ref = std::move(r).value();
    }
  }

  // Whether namespace `ino` (of link `l`) is the reference's: "host", "isolated" or "unknown".
  [[nodiscard]] std::string state(nsfun::NsLink l, std::uint64_t ino) const {
    std::uint64_t theirs = ref ? ref->proc.ino[static_cast<std::size_t>(l)] : 0;
    if (ino == 0 || theirs == 0) {
      return "unknown";
    }
    return theirs == ino ? "host" : "isolated";
  }

  // "init" or "nsm", as JSON shows it.
  [[nodiscard]] Json kind_json() const {
    if (!ref) {
      return Json();
    }
    return ref->kind == nsfun::Isolation::Reference::init ? "init" : "nsm";
  }

  [[nodiscard]] Json pid_json() const { return ref ? Json(ref->proc.pid) : Json(); }

  // "pid 1 (init)" or "nsm (pid 4242; PID 1 is not readable)", as the text shows it.
  [[nodiscard]] std::string text() const {
    if (!ref) {
      return "none readable";
    }
    if (ref->kind == nsfun::Isolation::Reference::init) {
      return "pid 1 (init)";
    }
    return fmt::format("nsm itself (pid {}; PID 1 is not readable)", ref->proc.pid);
  }
};

void inspect_pid(pid_t pid, bool json) {
  auto pidfd = nsfun::pidfd_open(pid);
  if (!pidfd) {
    fail_pid(pid, pidfd.error());
  }
  nsfun::ProcScanOptions po;
  po.for_children = true;
  po.ppid = true;
  po.uid = true;
  po.cmdline = true;
  po.nspid = true;
  auto entry = nsfun::scan_proc(pid, po);
  if (!entry) {
    fail_pid(pid, entry.error());
  }
  const nsfun::ProcEntry& e = entry.value();

  const Reference host;

  struct Row {
    nsfun::NsLink link = nsfun::NsLink::user;
    std::uint64_t ino = 0;
    std::uint64_t id = 0;
    std::string state;
    std::uint64_t owner = 0;
  };

  std::vector<Row> rows;
  for (nsfun::NsLink l : nsfun::all_ns_links) {
    Row r;
    r.link = l;
    r.ino = e.ino[static_cast<std::size_t>(l)];
    r.state = host.state(l, r.ino);
    if (r.ino != 0) {
      if (auto ns = nsfun::NsFd::open_pidfd(pidfd.value().ref(), l)) {
        r.id = ns.value().identity().id();
        if (auto owner = ns.value().owner()) {
          r.owner = owner.value().identity().ino();
        }
      }
    }
    rows.push_back(r);
  }

  std::vector<std::string> cgroups;
  {
    std::ifstream in(fmt::format("/proc/{}/cgroup", pid));
    for (std::string line; std::getline(in, line);) {
      cgroups.push_back(line);
    }
  }
  std::optional<nsfun::UserMap> maps;
  if (auto m = nsfun::UserMap::read(pid)) {
    maps = std::move(m).value();
  }
  const bool show_uid_map = maps && !is_identity(maps->uid);
  const bool show_gid_map = maps && !is_identity(maps->gid);

  if (exited(pidfd.value())) {
    throw Failure(fmt::format("pid {}", pid), "exited while being inspected");
  }

  std::string command = e.cmdline.empty() ? e.comm : e.cmdline;
  if (json) {
    Json j;
    j["pid"] = pid;
    j["ppid"] = e.ppid;
    j["uid"] = e.uid != static_cast<uid_t>(-1) ? Json(e.uid) : Json();
    j["user"] = e.uid != static_cast<uid_t>(-1) ? Json(user_name(e.uid)) : Json();
    j["command"] = command;
    j["nspid"] = e.nspid;
    j["cgroup"] = cgroups;
    j["uid_map"] = show_uid_map ? map_json(maps->uid) : Json();
    j["gid_map"] = show_gid_map ? map_json(maps->gid) : Json();
    j["reference"] = host.kind_json();
    j["reference_pid"] = host.pid_json();
    Json arr = Json::array();
    for (const Row& r : rows) {
      arr.push_back({{"link", std::string(nsfun::name(r.link))},
                     {"type", std::string(nsfun::name(nsfun::type_of(r.link)))},
                     {"ns", r.ino != 0 ? Json(r.ino) : Json()},
                     {"nsid", r.id != 0 ? Json(r.id) : Json()},
                     {"state", r.state},
                     {"ons", r.owner != 0 ? Json(r.owner) : Json()}});
    }
    j["namespaces"] = std::move(arr);
    print_json(j);
    return;
  }

  std::string out;
  field(out, "PID", pid);
  field(out, "PPID", e.ppid);
  field(out, "USER", user_name(e.uid));
  field(out, "COMMAND", command);
  field(out, "NSPID", fmt::format("{}", fmt::join(e.nspid, " ")));
  for (const std::string& c : cgroups) {
    field(out, "CGROUP", c);
  }
  if (show_uid_map) {
    field(out, "UID MAP", maps->uid.to_string());
  }
  if (show_gid_map) {
    field(out, "GID MAP", maps->gid.to_string());
  }
  field(out, "HOST", host.text());
  out += '\n';
  Table t({{"LINK"}, {"NS", true}, {"HOST"}, {"ONS", true}});
  for (const Row& r : rows) {
    t.add({std::string(nsfun::name(r.link)), r.ino != 0 ? std::to_string(r.ino) : "?", r.state,
           r.owner != 0 ? std::to_string(r.owner) : "?"});
  }
  out += t.render(true, false);
  print(out);
}

// A named set: its state and each pinned namespace. A name that is not in /run/nsm but in
// /run/netns (made by `ip netns add`) shows as a net-only set.
void inspect_set(const std::string& name, bool json) {
  const std::string command = "inspect";
  named::check_name(command, name);
  auto info = nsfun::NamedSet::inspect(name, named::run_dir);
  if (!info && info.error() == std::errc::no_such_file_or_directory) {
    if (auto netns = nsfun::NamedSet::inspect_netns(name)) {
      info = std::move(netns);
    } else if (netns.error() != std::errc::no_such_file_or_directory) {
      named::fail_set(name, netns.error());
    }
  }
  if (!info) {
    if (info.error() == std::errc::permission_denied) {
      throw Failure(command,
                    fmt::format("needs root (CAP_DAC_READ_SEARCH) to read {}", named::run_dir));
    }
    named::fail_set(name, info.error());
  }
  const named::SetView& v = info.value();
  const std::string dir = v.from_netns ? std::string(nsfun::netns::run_dir)
                                       : fmt::format("{}/{}", named::run_dir, name);
  auto pin_path = [&](const named::PinView& p) {
    return v.from_netns ? fmt::format("{}/{}", nsfun::netns::run_dir, name)
                        : fmt::format("{}/{}", dir, nsfun::name(p.type));
  };
  const std::string shown_path = v.from_netns ? pin_path(v.pins.front()) : dir;

  const Reference host;
  auto state_of = [&](const named::PinView& p) {
    if (!p.pinned) {
      return std::string("not pinned");
    }
    return host.state(nsfun::link_of(p.type), p.ns.ino());
  };
  const pid_t holder = v.meta && v.meta->holder ? *v.meta->holder : 0;  // 0: none
  const char* source = v.from_netns ? "ip netns" : "nsm";

  if (json) {
    Json j;
    j["name"] = v.name;
    j["path"] = shown_path;
    j["source"] = source;
    j["types"] = types_json(v.types);
    j["state"] = v.state();
    j["problems"] = v.problems;
    j["holder"] = holder != 0 ? Json(holder) : Json();
    j["created"] = v.meta ? Json(v.meta->created) : Json();
    j["creator"] = v.meta ? Json(v.meta->creator) : Json();
    j["reference"] = host.kind_json();
    j["reference_pid"] = host.pid_json();
    Json arr = Json::array();
    for (const named::PinView& p : v.pins) {
      arr.push_back({{"type", std::string(nsfun::name(p.type))},
                     {"ns", p.pinned ? Json(p.ns.ino()) : Json()},
                     {"nsid", p.pinned && p.ns.id() != 0 ? Json(p.ns.id()) : Json()},
                     {"state", state_of(p)},
                     {"ons", p.owner != 0 ? Json(p.owner) : Json()},
                     {"path", pin_path(p)}});
    }
    j["namespaces"] = std::move(arr);
    print_json(j);
    return;
  }

  std::string out;
  field(out, "NAME", v.name);
  field(out, "PATH", shown_path);
  if (v.from_netns) {
    field(out, "SOURCE", "ip netns (not a set of nsm's)");
  }
  field(out, "TYPES", v.types.empty() ? std::string("none") : v.types.to_string());
  field(out, "STATE",
        v.running() ? std::string(v.state())
                    : fmt::format("{} ({})", v.state(), fmt::join(v.problems, "; ")));
  field(out, "HOLDER", holder != 0 ? std::to_string(holder) : "none");
  if (v.meta) {
    field(out, "CREATED", v.meta->created);
    const std::string user = user_name(v.meta->creator);
    field(out, "CREATOR",
          user.empty() ? std::to_string(v.meta->creator)
                       : fmt::format("{} ({})", user, v.meta->creator));
  }
  field(out, "HOST", host.text());
  out += '\n';
  Table t({{"TYPE"}, {"NS", true}, {"HOST"}, {"ONS", true}});
  for (const named::PinView& p : v.pins) {
    t.add({std::string(nsfun::name(p.type)), p.pinned ? std::to_string(p.ns.ino()) : "?",
           state_of(p), p.owner != 0 ? std::to_string(p.owner) : "?"});
  }
  out += t.render(true, false);
  print(out);
}

void run(const Options& o) {
  const std::string& target = o.target;
  if (!target.empty() && target.find_first_not_of("0123456789") == std::string::npos) {
    const long pid = target.size() > 10 ? 0 : std::strtol(target.c_str(), nullptr, 10);
    if (pid <= 0 || pid > pid_max_limit) {
      throw UsageError("inspect", fmt::format("invalid pid '{}'", target));
    }
    inspect_pid(static_cast<pid_t>(pid), o.json);
  } else {
    inspect_set(target, o.json);
  }
}

}  // namespace

void register_inspect(CLI::App& app) {
  auto o = std::make_shared<Options>();
  CLI::App* sub =
      app.add_subcommand("inspect", "Show every namespace of a process or of a named set");
  sub->add_option("TARGET", o->target, "A PID (all digits), or the name of a set in /run/nsm")
      ->required();
  add_json_flag(*sub, o->json);
  sub->footer(
      "For each /proc/PID/ns link: the namespace, whether the host shares it (PID 1, or nsm\n"
      "itself where PID 1 cannot be read; the HOST line says which), and the\n"
      "owning user namespace (ONS). Also the NSpid chain, the cgroup and non-identity id maps.\n"
      "For a named set: its state (running, or stale and why), holder, creation time and\n"
      "creator, and each pinned namespace the same way. Reading /run/nsm needs root.\n\n"
      "Examples:\n  nsm inspect $$\n  nsm inspect web");
  sub->callback([o] { run(*o); });
}

}  // namespace nsm
