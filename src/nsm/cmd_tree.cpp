// SPDX-License-Identifier: MIT
// nsm tree – the pid and user namespace hierarchies, and a count per type.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include <nsfun/snapshot.hpp>

#include "cli.hpp"
#include "tree.hpp"

namespace nsm {
namespace {

struct Options {
  bool json = false;
};

// The namespaces of type `t`, in snapshot order.
std::vector<const nsfun::NsSummary*> of_type(const nsfun::Snapshot& snap, nsfun::NsType t) {
  std::vector<const nsfun::NsSummary*> list;
  for (const nsfun::NsSummary& s : snap.namespaces()) {
    if (s.ns.type() == t) {
      list.push_back(&s);
    }
  }
  return list;
}

std::string label(const nsfun::NsSummary& s) {
  std::string text = fmt::format("{}:[{}]  {} process{}", nsfun::name(s.ns.type()), s.ns.ino(),
                                 s.nprocs, s.nprocs == 1 ? "" : "es");
  if (s.pid != 0) {
    text += fmt::format("  (pid {}: {})", s.pid, s.command);
  } else if (!s.path.empty()) {
    text += fmt::format("  ({})", s.path);
  }
  return text;
}

Json to_json(const nsfun::NsSummary& s) {
  return Json{{"ns", s.ns.ino()},
              {"type", std::string(nsfun::name(s.ns.type()))},
              {"nprocs", s.nprocs},
              {"pid", s.pid != 0 ? Json(s.pid) : Json()},
              {"command", s.pid != 0 ? Json(s.command) : Json()},
              {"pns", s.parent}};
}

// One hierarchy: the namespaces of a type, each under its parent (PNS) when that one is visible.
struct Hierarchy {
  std::vector<const nsfun::NsSummary*> list;
  tree::Forest forest;
};

Hierarchy hierarchy(const nsfun::Snapshot& snap, nsfun::NsType t) {
  Hierarchy h{of_type(snap, t), {}};
  h.forest = tree::build(h.list, tree::By::parent);
  return h;
}

void run(const Options& o) {
  nsfun::SnapshotOptions so;
  so.hierarchy = true;
  auto snap = nsfun::Snapshot::take(so);
  if (!snap) {
    throw Failure("scan /proc", why(snap.error()));
  }
  std::map<nsfun::NsType, std::size_t> counts;
  for (const nsfun::NsSummary& s : snap.value().namespaces()) {
    ++counts[s.ns.type()];
  }
  const Hierarchy user = hierarchy(snap.value(), nsfun::NsType::user);
  const Hierarchy pid = hierarchy(snap.value(), nsfun::NsType::pid);
  if (o.json) {
    Json j;
    for (const auto& [key, h] : {std::pair{"user", &user}, std::pair{"pid", &pid}}) {
      j[key] = tree::to_json(
          h->forest, [h = h](std::size_t i) { return to_json(*h->list[i]); },
          tree::Children::always);
    }
    Json summary = Json::object();
    for (nsfun::NsType t : nsfun::all_ns_types) {
      summary[std::string(nsfun::name(t))] = counts[t];
    }
    j["summary"] = std::move(summary);
    print_json(j);
    return;
  }
  std::string out;
  for (const auto& [title, h] :
       {std::pair{"User namespaces", &user}, std::pair{"PID namespaces", &pid}}) {
    out += heading(title) + "\n";
    tree::draw(h->forest, false, [&, h = h](std::size_t i, std::string_view indent) {
      out += indent;
      out += label(*h->list[i]);
      out += '\n';
    });
    out += '\n';
  }
  out += heading("Summary") + "\n";
  Table t({{"TYPE"}, {"COUNT", true}});
  for (nsfun::NsType t2 : nsfun::all_ns_types) {
    t.add({std::string(nsfun::name(t2)), std::to_string(counts[t2])});
  }
  out += t.render(true, false);
  print(out);
}

}  // namespace

void register_tree(CLI::App& app) {
  auto o = std::make_shared<Options>();
  CLI::App* sub =
      app.add_subcommand("tree", "Show the user and pid namespace hierarchies with process counts");
  add_json_flag(*sub, o->json);
  sub->footer(
      "Each namespace is shown under its parent (PNS); a parent outside the caller's view\n"
      "makes it a root. Then the number of namespaces of each type.\n\n"
      "Example:\n  nsm tree");
  sub->callback([o] { run(*o); });
}

}  // namespace nsm
