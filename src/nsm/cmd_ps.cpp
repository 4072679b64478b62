// SPDX-License-Identifier: MIT
// nsm ps – processes grouped by their namespace of one type.

#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <nsfun/proc_scan.hpp>

#include "cli.hpp"

namespace nsm {
namespace {

struct Options {
  std::string type;        // --ns-type
  std::string positional;  // TYPE, as the bash nsm takes it
  bool json = false;
};

// The link to group by: a namespace type, or pid_for_children / time_for_children.
nsfun::NsLink parse_link(const std::string& text) {
  for (nsfun::NsLink l : {nsfun::NsLink::pid_for_children, nsfun::NsLink::time_for_children}) {
    if (text == nsfun::name(l)) {
      return l;
    }
  }
  auto type = nsfun::parse_ns_type(text);
  if (!type) {
    throw UsageError("ps", fmt::format("unknown namespace type '{}' (known: user,mnt,uts,ipc,pid,"
                                       "net,cgroup,time,pid_for_children,time_for_children)",
                                       text.substr(0, 64)));
  }
  return nsfun::link_of(type.value());
}

void run(const Options& o) {
  if (!o.type.empty() && !o.positional.empty() && o.type != o.positional) {
    throw UsageError("ps", fmt::format("two types given, '{}' and --ns-type '{}'",
                                       o.positional.substr(0, 64), o.type.substr(0, 64)));
  }
  const std::string& text = !o.positional.empty() ? o.positional : o.type;
  const nsfun::NsLink link = parse_link(text.empty() ? std::string("pid") : text);
  const nsfun::NsType t = nsfun::type_of(link);
  nsfun::ProcScanOptions po;
  po.types = {t};
  po.for_children = link != nsfun::link_of(t);
  po.ppid = true;  // the command name, for processes without a command line
  po.cmdline = true;
  auto scan = nsfun::scan_procs(po);
  if (!scan) {
    throw Failure("scan /proc", why(scan.error()));
  }
  std::map<std::uint64_t, std::vector<const nsfun::ProcEntry*>> groups;
  for (const nsfun::ProcEntry& e : scan.value().procs) {
    std::uint64_t ino = e.ino[static_cast<std::size_t>(link)];
    if (ino != 0) {
      groups[ino].push_back(&e);
    }
  }
  auto command = [](const nsfun::ProcEntry& e) {
    return e.cmdline.empty() ? fmt::format("[{}]", e.comm) : e.cmdline;
  };
  if (o.json) {
    Json arr = Json::array();
    for (const auto& [ino, procs] : groups) {
      Json ps = Json::array();
      for (const nsfun::ProcEntry* e : procs) {
        ps.push_back({{"pid", e->pid}, {"command", command(*e)}});
      }
      arr.push_back({{"ns", ino},
                     {"type", std::string(nsfun::name(link))},
                     {"nprocs", procs.size()},
                     {"processes", std::move(ps)}});
    }
    print_json(Json{{"type", std::string(nsfun::name(link))}, {"groups", std::move(arr)}});
    return;
  }
  std::string out;
  for (const auto& [ino, procs] : groups) {
    if (!out.empty()) {
      out += '\n';
    }
    out += heading(fmt::format("{}:[{}]", nsfun::name(link), ino)) +
           fmt::format("  {} process{}\n", procs.size(), procs.size() == 1 ? "" : "es");
    Table table({{"PID", true}, {"COMMAND"}});
    for (const nsfun::ProcEntry* e : procs) {
      table.add({std::to_string(e->pid), command(*e)});
    }
    std::string body = table.render(true, false);
    // Indent the group's table under its heading.
    std::size_t start = 0;
    while (start < body.size()) {
      std::size_t nl = body.find('\n', start);
      out += "  " + body.substr(start, nl - start + 1);
      start = nl + 1;
    }
  }
  print(out);
}

}  // namespace

void register_ps(CLI::App& app) {
  auto o = std::make_shared<Options>();
  CLI::App* sub = app.add_subcommand("ps", "List processes grouped by namespace");
  sub->add_option("TYPE", o->positional,
                  "The namespace type to group by (default: pid; also pid_for_children, "
                  "time_for_children)");
  sub->add_option("--ns-type", o->type, "The same as TYPE")->type_name("TYPE");
  add_json_flag(*sub, o->json);
  sub->footer("Examples:\n  nsm ps net\n  nsm ps --ns-type pid_for_children");
  sub->callback([o] { run(*o); });
}

}  // namespace nsm
