// SPDX-License-Identifier: MIT
// nsm – the namespace trees of `list -T` and `tree`.

#include "tree.hpp"

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <utility>

namespace nsm::tree {
namespace {

// For By::process (lsns's rule): a namespace goes under a namespace of the parent process of its
// lowest-pid process, when that process is the lowest pid of any (a "representative"). Of
// several, the last one listed before it, as lsns does; lsns leaves it at the top when all of
// them come later in the list, nsm takes the first of them then.
std::vector<std::ptrdiff_t> process_parents(const std::vector<const nsfun::NsSummary*>& list) {
  std::map<pid_t, std::vector<std::size_t>> represented;  // pid -> indices, in list order
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (list[i]->pid != 0) {
      represented[list[i]->pid].push_back(i);
    }
  }
  std::vector<std::ptrdiff_t> parent(list.size(), -1);
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (list[i]->pid == 0 || list[i]->ppid == 0) {
      continue;
    }
    auto it = represented.find(list[i]->ppid);
    if (it == represented.end()) {
      continue;
    }
    const std::vector<std::size_t>& of = it->second;
    auto after = std::upper_bound(of.begin(), of.end(), i);
    parent[i] = static_cast<std::ptrdiff_t>(after == of.begin() ? of.front() : *(after - 1));
  }
  return parent;
}

// For By::owner and By::parent: the namespace whose (type, inode) is the owner's or the parent's.
std::vector<std::ptrdiff_t> namespace_parents(const std::vector<const nsfun::NsSummary*>& list,
                                              By by) {
  std::map<std::pair<nsfun::NsType, std::uint64_t>, std::ptrdiff_t> index;
  for (std::size_t i = 0; i < list.size(); ++i) {
    index.emplace(std::pair(list[i]->ns.type(), list[i]->ns.ino()), static_cast<std::ptrdiff_t>(i));
  }
  std::vector<std::ptrdiff_t> parent(list.size(), -1);
  for (std::size_t i = 0; i < list.size(); ++i) {
    const nsfun::NsSummary& s = *list[i];
    const std::pair<nsfun::NsType, std::uint64_t> key =
        by == By::owner ? std::pair(nsfun::NsType::user, s.owner)
                        : std::pair(s.ns.type(), s.parent);
    if (key.second == 0) {
      continue;
    }
    auto it = index.find(key);
    if (it != index.end() && it->second != static_cast<std::ptrdiff_t>(i)) {
      parent[i] = it->second;
    }
  }
  return parent;
}

void draw_node(const Forest& f,
               std::size_t i,
               bool root,
               bool last,
               bool plain,
               std::string& indent,
               const std::function<void(std::size_t, std::string_view)>& line) {
  const std::size_t base = indent.size();
  const bool branch = !root && !plain;
  if (branch) {
    indent += last ? "└─" : "├─";
  }
  line(i, indent);
  indent.resize(base);
  if (branch) {
    indent += last ? "  " : "│ ";
  }
  const std::vector<std::size_t>& kids = f.children[i];
  for (std::size_t k = 0; k < kids.size(); ++k) {
    draw_node(f, kids[k], false, k + 1 == kids.size(), plain, indent, line);
  }
  indent.resize(base);
}

Json node_json(const Forest& f,
               std::size_t i,
               const std::function<Json(std::size_t)>& node,
               Children children) {
  Json j = node(i);
  if (children == Children::always || !f.children[i].empty()) {
    Json kids = Json::array();
    for (std::size_t k : f.children[i]) {
      kids.push_back(node_json(f, k, node, children));
    }
    j["children"] = std::move(kids);
  }
  return j;
}

}  // namespace

By by_name(std::string_view name) noexcept {
  if (name == "parent") {
    return By::parent;
  }
  if (name == "process") {
    return By::process;
  }
  return By::owner;
}

Forest build(const std::vector<const nsfun::NsSummary*>& list, By by) {
  std::vector<std::ptrdiff_t> parent =
      by == By::process ? process_parents(list) : namespace_parents(list, by);
  // Break any cycle (a namespace cannot own its owner, and a process is not its own ancestor,
  // but a scan racing with pid reuse can see odd things).
  for (std::size_t i = 0; i < list.size(); ++i) {
    std::ptrdiff_t at = parent[i];
    for (std::size_t steps = 0; at >= 0; ++steps) {
      if (steps > list.size()) {
        parent[i] = -1;
        break;
      }
      at = parent[static_cast<std::size_t>(at)];
    }
  }
  Forest f;
  f.children.resize(list.size());
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (parent[i] < 0) {
      f.roots.push_back(i);
    } else {
      f.children[static_cast<std::size_t>(parent[i])].push_back(i);
    }
  }
  return f;
}

Forest flat(std::size_t n) {
  Forest f;
  f.children.resize(n);
  f.roots.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    f.roots.push_back(i);
  }
  return f;
}

void draw(const Forest& f,
          bool plain,
          const std::function<void(std::size_t i, std::string_view indent)>& line) {
  std::string indent;
  for (std::size_t r : f.roots) {
    draw_node(f, r, true, true, plain, indent, line);
  }
}

Json to_json(const Forest& f, const std::function<Json(std::size_t i)>& node, Children children) {
  Json arr = Json::array();
  for (std::size_t r : f.roots) {
    arr.push_back(node_json(f, r, node, children));
  }
  return arr;
}

}  // namespace nsm::tree
