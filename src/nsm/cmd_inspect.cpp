// SPDX-License-Identifier: MIT
// nsm inspect – everything about one process's namespaces.

#include <array>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <poll.h>

#include <fmt/format.h>

#include <nsfun/ns_fd.hpp>
#include <nsfun/pidfd.hpp>
#include <nsfun/proc_scan.hpp>
#include <nsfun/user_map.hpp>

#include "cli.hpp"

namespace nsm {
namespace {

struct Options {
  pid_t pid = 0;
  bool json = false;
};

bool exited(const nsfun::UniqueFd& pidfd) {
  pollfd p{pidfd.get(), POLLIN, 0};
  return ::poll(&p, 1, 0) > 0 && (p.revents & POLLIN) != 0;
}

bool is_identity(const nsfun::IdMap& m) {
  return m == nsfun::IdMap::single(0, 0, 4294967295U);
}

Json map_json(const nsfun::IdMap& m) {
  Json arr = Json::array();
  for (const nsfun::IdRange& r : m.ranges()) {
    arr.push_back({{"inside", r.inside}, {"outside", r.outside}, {"count", r.count}});
  }
  return arr;
}

void run(const Options& o) {
  const pid_t pid = o.pid;
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

  // PID 1 as the host reference; often unreadable (EACCES) even for root.
  nsfun::ProcScanOptions ro;
  ro.for_children = true;
  auto host = nsfun::scan_proc(1, ro);
  const bool host_readable = host.has_value();

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
    std::uint64_t href = host_readable ? host.value().ino[static_cast<std::size_t>(l)] : 0;
    if (r.ino == 0) {
      r.state = "unknown";
    } else if (href == 0) {
      r.state = "unknown (PID 1 not readable)";
    } else {
      r.state = href == r.ino ? "host" : "isolated";
    }
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
  if (o.json) {
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
    j["host_readable"] = host_readable;
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
  out += fmt::format("{} {}\n", heading("PID"), pid);
  out += fmt::format("{} {}\n", heading("PPID"), e.ppid);
  out += fmt::format("{} {}\n", heading("USER"), user_name(e.uid));
  out += fmt::format("{} {}\n", heading("COMMAND"), command);
  out += fmt::format("{} {}\n", heading("NSPID"), fmt::join(e.nspid, " "));
  for (const std::string& c : cgroups) {
    out += fmt::format("{} {}\n", heading("CGROUP"), c);
  }
  if (show_uid_map) {
    out += fmt::format("{} {}\n", heading("UID MAP"), maps->uid.to_string());
  }
  if (show_gid_map) {
    out += fmt::format("{} {}\n", heading("GID MAP"), maps->gid.to_string());
  }
  out += '\n';
  Table t({{"LINK"}, {"NS", true}, {"HOST"}, {"ONS", true}});
  for (const Row& r : rows) {
    t.add({std::string(nsfun::name(r.link)), r.ino != 0 ? std::to_string(r.ino) : "?", r.state,
           r.owner != 0 ? std::to_string(r.owner) : "?"});
  }
  out += t.render(true, false);
  print(out);
}

}  // namespace

void register_inspect(CLI::App& app) {
  auto o = std::make_shared<Options>();
  CLI::App* sub = app.add_subcommand("inspect", "Show every namespace of a process");
  sub->add_option("PID", o->pid, "The process")->required()->check(CLI::PositiveNumber);
  add_json_flag(*sub, o->json);
  sub->footer(
      "For each /proc/PID/ns link: the namespace, whether PID 1 (the host) shares it, and the\n"
      "owning user namespace (ONS). Also the NSpid chain, the cgroup and non-identity id maps.\n\n"
      "Example:\n  nsm inspect $$");
  sub->callback([o] { run(*o); });
}

}  // namespace nsm
