// SPDX-License-Identifier: MIT
// nsm – the namespace trees of `list -T` and `tree`: who goes under whom (build), and how a tree
// is shown (draw: box-drawing indents for text, nested "children" arrays for JSON).
#pragma once

#include <cstddef>
#include <functional>
#include <string_view>
#include <vector>

#include <nsfun/snapshot.hpp>

#include "cli.hpp"

namespace nsm::tree {

/// What a namespace goes under.
enum class By {
  owner,    ///< its owning user namespace (ONS)
  parent,   ///< its parent namespace of the same type (PNS: pid and user)
  process,  ///< a namespace of the parent process of its lowest-pid process (lsns -T process)
};

/// By's name on the command line ("owner", "parent", "process"); owner for anything else.
[[nodiscard]] By by_name(std::string_view name) noexcept;

/// A forest over a list of namespaces, by index into that list: the roots and the children of
/// each, both in list order.
struct Forest {
  std::vector<std::size_t> roots;
  std::vector<std::vector<std::size_t>> children;  ///< one entry per namespace of the list
};

/// The namespaces of `list` as a forest, each under the one `by` names when that one is in the
/// list too, else a root. Needs the snapshot's hierarchy (owner, parent) or commands and ppid
/// (process). A cycle (a scan racing with pid or inode reuse) is broken by making its
/// namespaces roots.
[[nodiscard]] Forest build(const std::vector<const nsfun::NsSummary*>& list, By by);

/// No tree: the `n` namespaces of a list, each a root.
[[nodiscard]] Forest flat(std::size_t n);

/// Walks `f` depth first, roots in order, each namespace before its children, calling
/// line(i, indent) with the box-drawing indent to put before its text ("│ ├─"; "" for a root).
/// With `plain` (lsns -r) every indent is "".
void draw(const Forest& f,
          bool plain,
          const std::function<void(std::size_t i, std::string_view indent)>& line);

/// When a JSON node gets its "children" array.
enum class Children {
  always,    ///< an empty array for a leaf
  when_any,  ///< no key for a leaf
};

/// `f` as a JSON array of its roots: node(i) makes the object of one namespace, to which the
/// objects of its children are added as "children".
[[nodiscard]] Json to_json(const Forest& f,
                           const std::function<Json(std::size_t i)>& node,
                           Children children);

}  // namespace nsm::tree
