// SPDX-License-Identifier: MIT
// nsm diff – two processes' namespaces side by side.

#include <string>
#include <vector>

#include <fmt/format.h>

#include <nsfun/proc_scan.hpp>
#include <nsfun/snapshot.hpp>

#include "cli.hpp"

namespace nsm {
namespace {

struct Options {
  pid_t a = 0;
  pid_t b = 0;
  bool json = false;
};

// The links and command line of one side. A process of another user has none readable without
// privileges: its links are then unknown (shown as ?) rather than an error, so `nsm diff 1 $$`
// works for anyone.
nsfun::ProcEntry read_side(pid_t pid) {
  nsfun::ProcScanOptions po;
  po.cmdline = true;
  po.ppid = true;  // the command name too, for a kernel thread's empty command line
  auto e = nsfun::scan_proc(pid, po);
  if (e) {
    return std::move(e).value();
  }
  if (e.error().code != std::errc::permission_denied) {
    fail_pid(pid, e.error());
  }
  // The command line is world-readable even when the links are not.
  po.types = nsfun::NsTypeSet{};
  po.for_children = false;
  auto cmd = nsfun::scan_proc(pid, po);
  nsfun::ProcEntry none = cmd ? std::move(cmd).value() : nsfun::ProcEntry{};
  none.pid = pid;
  return none;
}

// The command line as the table shows it: "?" when it could not be read, the command name in
// brackets for a kernel thread (whose line is empty), as ps does.
std::string command_text(const nsfun::ProcEntry& e) {
  if (!e.cmdline.empty()) {
    return e.cmdline;
  }
  return e.comm.empty() ? "?" : fmt::format("[{}]", e.comm);
}

Json command_json(const nsfun::ProcEntry& e) {
  return e.cmdline.empty() && e.comm.empty() ? Json() : Json(command_text(e));
}

void run(const Options& o) {
  const nsfun::ProcEntry pa = read_side(o.a);
  const nsfun::ProcEntry pb = read_side(o.b);
  std::vector<nsfun::NsDiffEntry> entries;
  entries.reserve(nsfun::all_ns_links.size());
  for (nsfun::NsLink l : nsfun::all_ns_links) {
    entries.push_back({l, pa.ns(l, 0), pb.ns(l, 0)});  // dev 0: only the inodes are compared
  }
  std::size_t differ = 0;
  std::size_t unknown = 0;
  for (const nsfun::NsDiffEntry& e : entries) {
    differ += e.same() ? 0U : 1U;
    unknown += e.a.empty() || e.b.empty() ? 1U : 0U;
  }
  const std::size_t total = entries.size();
  if (o.json) {
    Json arr = Json::array();
    for (const nsfun::NsDiffEntry& e : entries) {
      arr.push_back({{"link", std::string(nsfun::name(e.link))},
                     {"same", e.same()},
                     {"ns1", e.a.empty() ? Json() : Json(e.a.ino())},
                     {"ns2", e.b.empty() ? Json() : Json(e.b.ino())}});
    }
    print_json(Json{{"pid1", o.a},
                    {"pid2", o.b},
                    {"command1", command_json(pa)},
                    {"command2", command_json(pb)},
                    {"links", std::move(arr)},
                    {"differ", differ},
                    {"unknown", unknown},
                    {"total", total}});
    return;
  }
  Table t({{"LINK"},
           {"STATE"},
           {fmt::format("PID {}", o.a), true},
           {fmt::format("PID {}", o.b), true}});
  for (const nsfun::NsDiffEntry& e : entries) {
    std::string state = e.same() ? "same" : (e.a.empty() || e.b.empty() ? "unknown" : "different");
    t.add({std::string(nsfun::name(e.link)), state, e.a.empty() ? "?" : std::to_string(e.a.ino()),
           e.b.empty() ? "?" : std::to_string(e.b.ino())});
  }
  std::string summary = fmt::format("{} of {} differ", differ, total);
  if (unknown != 0) {
    summary += fmt::format(" ({} not readable)", unknown);
  }
  print(fmt::format("PID {}: {}\nPID {}: {}\n\n", o.a, command_text(pa), o.b, command_text(pb)) +
        t.render(true, false) + summary + "\n");
}

}  // namespace

void register_diff(CLI::App& app) {
  auto o = std::make_shared<Options>();
  CLI::App* sub = app.add_subcommand("diff", "Compare the namespaces of two processes");
  sub->add_option("PID1", o->a, "The first process")->required()->check(pid_check());
  sub->add_option("PID2", o->b, "The second process")->required()->check(pid_check());
  add_json_flag(*sub, o->json);
  sub->footer(
      "Every /proc/PID/ns link, pid_for_children and time_for_children included. A link\n"
      "that cannot be read (another user's process, without root) is shown as ? and counts\n"
      "as different. The exit status is 0 either way.\n\n"
      "Example:\n  nsm diff 1 $$");
  sub->callback([o] { run(*o); });
}

}  // namespace nsm
