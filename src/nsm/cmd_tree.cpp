// SPDX-License-Identifier: MIT
// nsm tree – the pid and user namespace hierarchies, and a count per type.

#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <nsfun/snapshot.hpp>

#include "cli.hpp"

namespace nsm {
namespace {

struct Options {
  bool json = false;
};

struct Forest {
  std::vector<const nsfun::NsSummary*> nodes;
  std::vector<std::vector<std::size_t>> children;
  std::vector<std::size_t> roots;
};

// The namespaces of type `t`, each under its parent (PNS) when that one is visible.
Forest build(const nsfun::Snapshot& snap, nsfun::NsType t) {
  Forest f;
  std::map<std::uint64_t, std::size_t> index;
  for (const nsfun::NsSummary& s : snap.namespaces()) {
    if (s.ns.type() == t) {
      index.emplace(s.ns.ino(), f.nodes.size());
      f.nodes.push_back(&s);
    }
  }
  f.children.resize(f.nodes.size());
  for (std::size_t i = 0; i < f.nodes.size(); ++i) {
    auto it = index.find(f.nodes[i]->parent);
    if (f.nodes[i]->parent != 0 && it != index.end() && it->second != i) {
      f.children[it->second].push_back(i);
    } else {
      f.roots.push_back(i);
    }
  }
  return f;
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

void render(const Forest& f,
            std::size_t i,
            const std::string& prefix,
            bool last,
            bool root,
            std::string& out) {
  out += prefix + (root ? "" : (last ? "└─" : "├─")) + label(*f.nodes[i]) + "\n";
  std::string next = root ? prefix : prefix + (last ? "  " : "│ ");
  for (std::size_t k = 0; k < f.children[i].size(); ++k) {
    render(f, f.children[i][k], next, k + 1 == f.children[i].size(), false, out);
  }
}

Json to_json(const Forest& f, std::size_t i) {
  const nsfun::NsSummary& s = *f.nodes[i];
  Json j{{"ns", s.ns.ino()},
         {"type", std::string(nsfun::name(s.ns.type()))},
         {"nprocs", s.nprocs},
         {"pid", s.pid != 0 ? Json(s.pid) : Json()},
         {"command", s.pid != 0 ? Json(s.command) : Json()},
         {"pns", s.parent}};
  Json kids = Json::array();
  for (std::size_t k : f.children[i]) {
    kids.push_back(to_json(f, k));
  }
  j["children"] = std::move(kids);
  return j;
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
  const Forest user = build(snap.value(), nsfun::NsType::user);
  const Forest pid = build(snap.value(), nsfun::NsType::pid);
  if (o.json) {
    Json j;
    for (const auto& [key, forest] : {std::pair{"user", &user}, std::pair{"pid", &pid}}) {
      Json arr = Json::array();
      for (std::size_t r : forest->roots) {
        arr.push_back(to_json(*forest, r));
      }
      j[key] = std::move(arr);
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
  for (const auto& [title, forest] :
       {std::pair{"User namespaces", &user}, std::pair{"PID namespaces", &pid}}) {
    out += heading(title) + "\n";
    for (std::size_t r : forest->roots) {
      render(*forest, r, "", true, true, out);
    }
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
