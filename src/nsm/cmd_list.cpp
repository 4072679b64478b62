// SPDX-License-Identifier: MIT
// nsm list – every namespace, as lsns shows them.

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <nsfun/proc_scan.hpp>
#include <nsfun/snapshot.hpp>

#include "cli.hpp"
#include "named.hpp"
#include "tree.hpp"

namespace nsm {
namespace {

enum class Col { ns, type, nprocs, pid, ppid, user, uid, command, pns, ons, path, nsid };

struct ColInfo {
  Col col;
  const char* name;
  bool right;
};

constexpr std::array<ColInfo, 12> columns{{
    {Col::ns, "NS", true},
    {Col::type, "TYPE", false},
    {Col::nprocs, "NPROCS", true},
    {Col::pid, "PID", true},
    {Col::ppid, "PPID", true},
    {Col::user, "USER", false},
    {Col::uid, "UID", true},
    {Col::command, "COMMAND", false},
    {Col::pns, "PNS", true},
    {Col::ons, "ONS", true},
    {Col::path, "PATH", false},
    {Col::nsid, "NSID", true},
}};

const ColInfo& info(Col c) {
  return columns[static_cast<std::size_t>(c)];
}

const std::vector<Col> default_columns{Col::ns,  Col::type, Col::nprocs,
                                       Col::pid, Col::user, Col::command};

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::vector<Col> parse_columns(const std::vector<std::string>& specs) {
  std::vector<Col> out;
  bool first = true;
  for (const std::string& spec : specs) {
    std::string_view list = spec;
    if (first && !list.empty() && list.front() == '+') {
      out = default_columns;
      list.remove_prefix(1);
    }
    first = false;
    while (true) {
      std::size_t comma = list.find(',');
      std::string_view item = list.substr(0, comma);
      std::string name = lower(item);
      auto it = std::find_if(columns.begin(), columns.end(),
                             [&](const ColInfo& c) { return lower(c.name) == name; });
      if (it == columns.end()) {
        throw UsageError("list", fmt::format("unknown column: '{}' (known: NS TYPE NPROCS PID PPID "
                                             "USER UID COMMAND PNS ONS PATH NSID)",
                                             item));
      }
      if (std::find(out.begin(), out.end(), it->col) == out.end()) {
        out.push_back(it->col);
      }
      if (comma == std::string_view::npos) {
        break;
      }
      list.remove_prefix(comma + 1);
    }
  }
  return out;
}

bool uses(const std::vector<Col>& cols, Col c) {
  return std::find(cols.begin(), cols.end(), c) != cols.end();
}

struct Options {
  std::vector<std::string> types;
  std::optional<pid_t> task;
  std::vector<std::string> output;
  bool json = false;
  bool raw = false;
  bool noheadings = false;
  bool named = false;
  std::string tree;
  bool tree_given = false;
};

// The text of one cell; `no_path_column` puts a bind mount's path where COMMAND would be empty.
std::string cell(const nsfun::NsSummary& s, Col c, bool no_path_column) {
  switch (c) {
    case Col::ns:
      return std::to_string(s.ns.ino());
    case Col::type:
      return std::string(nsfun::name(s.ns.type()));
    case Col::nprocs:
      return std::to_string(s.nprocs);
    case Col::pid:
      return s.pid != 0 ? std::to_string(s.pid) : std::string();
    case Col::ppid:
      return s.pid != 0 ? std::to_string(s.ppid) : std::string();
    case Col::user:
      return user_name(s.uid);
    case Col::uid:
      return s.uid != static_cast<uid_t>(-1) ? std::to_string(s.uid) : std::string();
    case Col::command:
      return s.pid == 0 && no_path_column ? s.path : s.command;
    case Col::pns:
      return std::to_string(s.parent);
    case Col::ons:
      return std::to_string(s.owner);
    case Col::path:
      if (s.pid != 0) {
        return fmt::format("/proc/{}/ns/{}", s.pid, nsfun::name(s.ns.type()));
      }
      return s.path;
    case Col::nsid:
      return s.ns.id() != 0 ? std::to_string(s.ns.id()) : std::string();
  }
  return {};
}

Json json_cell(const nsfun::NsSummary& s, Col c) {
  switch (c) {
    case Col::ns:
      return s.ns.ino();
    case Col::type:
      return std::string(nsfun::name(s.ns.type()));
    case Col::nprocs:
      return s.nprocs;
    case Col::pid:
      return s.pid != 0 ? Json(s.pid) : Json();
    case Col::ppid:
      return s.pid != 0 ? Json(s.ppid) : Json();
    case Col::user:
      return s.uid != static_cast<uid_t>(-1) ? Json(user_name(s.uid)) : Json();
    case Col::uid:
      return s.uid != static_cast<uid_t>(-1) ? Json(s.uid) : Json();
    case Col::command:
      return s.pid != 0 ? Json(s.command) : Json();
    case Col::pns:
      return s.parent;
    case Col::ons:
      return s.owner;
    case Col::path: {
      std::string p = cell(s, c, false);
      return p.empty() ? Json() : Json(p);
    }
    case Col::nsid:
      return s.ns.id() != 0 ? Json(s.ns.id()) : Json();
  }
  return {};
}

void run(const Options& o) {
  nsfun::NsTypeSet types = o.types.empty() ? nsfun::NsTypeSet::all() : parse_types("list", o.types);
  std::vector<Col> cols = o.output.empty() ? default_columns : parse_columns(o.output);
  std::string tree_mode = o.tree_given ? (o.tree.empty() ? "owner" : o.tree) : std::string();

  nsfun::SnapshotOptions so;
  so.types = types;
  const bool process_tree = tree_mode == "process";
  so.commands = uses(cols, Col::user) || uses(cols, Col::uid) || uses(cols, Col::command) ||
                uses(cols, Col::ppid) || process_tree;
  so.ppid = uses(cols, Col::ppid) || process_tree;
  so.hierarchy =
      uses(cols, Col::pns) || uses(cols, Col::ons) || (!tree_mode.empty() && !process_tree);
  so.ids = uses(cols, Col::nsid);
  so.mounts = true;

  // -p: the namespaces of one process (read before the scan so a bad pid fails fast).
  std::optional<nsfun::ProcEntry> task;
  if (o.task) {
    nsfun::ProcScanOptions po;
    po.types = types;
    auto e = nsfun::scan_proc(*o.task, po);
    if (!e) {
      fail_pid(*o.task, e.error());
    }
    task = std::move(e).value();
  }

  auto snap = nsfun::Snapshot::take(so);
  if (!snap) {
    throw Failure("scan /proc", why(snap.error()));
  }

  std::vector<const nsfun::NsSummary*> list;
  for (const nsfun::NsSummary& s : snap.value().namespaces()) {
    if (!types.contains(s.ns.type())) {
      continue;
    }
    if (task && task->ino[static_cast<std::size_t>(nsfun::link_of(s.ns.type()))] != s.ns.ino()) {
      continue;
    }
    list.push_back(&s);
  }

  const tree::Forest forest =
      tree_mode.empty() ? tree::flat(list.size()) : tree::build(list, tree::by_name(tree_mode));

  // The named sets of /run/nsm that share a namespace with what is listed: of the types asked
  // for, and with -p, those holding one of that process's namespaces. Shown in JSON, in the
  // default table, and with --named; -r, -n and -o print the namespace rows only, as lsns does,
  // so that lsns pipelines keep working.
  const bool show_sets = o.json || o.named || (!o.raw && !o.noheadings && o.output.empty());
  std::vector<named::SetView> sets;
  if (show_sets) {
    for (named::SetView& v : named::list_sets()) {
      const bool shown = std::any_of(v.pins.begin(), v.pins.end(), [&](const named::PinView& p) {
        return types.contains(p.type) &&
               (!task || (p.pinned && task->ino[static_cast<std::size_t>(nsfun::link_of(p.type))] ==
                                          p.ns.ino()));
      });
      if (shown) {
        sets.push_back(std::move(v));
      }
    }
  }

  if (o.json) {
    Json arr = tree::to_json(
        forest,
        [&](std::size_t i) {
          Json j = Json::object();
          for (Col c : cols) {
            j[lower(info(c).name)] = json_cell(*list[i], c);
          }
          return j;
        },
        tree::Children::when_any);
    Json named_arr = Json::array();
    for (const named::SetView& v : sets) {
      named_arr.push_back({{"name", v.name},
                           {"types", types_json(v.types)},
                           {"holder", v.meta && v.meta->holder ? Json(*v.meta->holder) : Json()},
                           {"state", v.state()},
                           {"created", v.meta ? Json(v.meta->created) : Json()}});
    }
    print_json(Json{{"namespaces", std::move(arr)}, {"named", std::move(named_arr)}});
    return;
  }

  // The column that carries the tree: COMMAND for -T process (as lsns), else the first one.
  std::size_t tree_col = 0;
  if (process_tree && uses(cols, Col::command)) {
    tree_col =
        static_cast<std::size_t>(std::find(cols.begin(), cols.end(), Col::command) - cols.begin());
  }
  std::vector<Column> tcols;
  for (std::size_t k = 0; k < cols.size(); ++k) {
    tcols.push_back(
        {info(cols[k]).name, info(cols[k]).right && !(k == tree_col && !tree_mode.empty())});
  }
  Table table(std::move(tcols));
  table.reserve(list.size());
  const bool no_path_column = !uses(cols, Col::path);
  std::vector<std::string> row(cols.size());  // one for every row
  tree::draw(forest, o.raw, [&](std::size_t i, std::string_view indent) {
    for (std::size_t k = 0; k < cols.size(); ++k) {
      row[k] = cell(*list[i], cols[k], no_path_column);
    }
    if (!indent.empty() && !row.empty()) {
      row[tree_col].insert(0, indent);
    }
    table.add(row);
  });
  table.print(!o.noheadings, o.raw);

  // The sets after a blank line; the title line only where headings are for people.
  if (!sets.empty()) {
    std::string out;
    Table st({{"NAME"}, {"TYPES"}, {"HOLDER", true}, {"STATE"}, {"CREATED"}});
    for (const named::SetView& v : sets) {
      st.add({v.name, v.types.to_string(),
              v.meta && v.meta->holder ? std::to_string(*v.meta->holder) : std::string(), v.state(),
              v.meta ? v.meta->created : std::string()});
    }
    out += '\n';
    if (!o.raw && !o.noheadings) {
      out += heading(fmt::format("Named namespace sets ({})", named::run_dir)) + "\n";
    }
    out += st.render(!o.noheadings, o.raw);
    print(out);
  }
}

}  // namespace

void register_list(CLI::App& app) {
  auto o = std::make_shared<Options>();
  CLI::App* sub = app.add_subcommand("list", "List namespaces (like lsns)");
  sub->alias("ls");
  sub->add_option("-t,--type", o->types,
                  "Only namespaces of TYPE (user,mnt,uts,ipc,pid,net,cgroup,time; repeatable, "
                  "comma lists allowed)")
      ->type_name("TYPE");
  sub->add_option("-p,--task", o->task, "Only the namespaces of process PID")
      ->type_name("PID")
      ->check(pid_check());
  sub->add_option("-o,--output", o->output,
                  "Columns to show, comma separated; +COL adds to the default. Columns: NS TYPE "
                  "NPROCS PID PPID USER UID COMMAND PNS ONS PATH NSID")
      ->type_name("COLS");
  add_json_flag(*sub, o->json);
  sub->add_flag("-r,--raw", o->raw, "Use the raw output format");
  sub->add_flag("-n,--noheadings", o->noheadings, "Don't print headings");
  sub->add_flag("--named", o->named,
                "Show the named sets after the table also with -r, -n or -o (which otherwise "
                "print the namespace rows only, as lsns)");
  CLI::Option* tree = sub->add_option("-T,--tree", o->tree,
                                      "Show namespaces as a tree: under their owning user "
                                      "namespace (owner, the default), their parent namespace "
                                      "(parent), or the namespace of the parent process of "
                                      "their lowest-pid process (process)")
                          ->type_name("[=owner|parent|process]")
                          ->expected(0, 1)
                          ->check(CLI::IsMember({"owner", "parent", "process"}));
  sub->footer(
      "Examples:\n"
      "  nsm list -t net -o +PATH        network namespaces and where they are bind-mounted\n"
      "  nsm list -p $$ -J               the shell's namespaces as JSON\n"
      "  nsm list -T parent -t pid,user  the pid and user namespace hierarchies\n"
      "  nsm list -T process             namespaces under those of the processes that made "
      "them\n\n"
      "The named sets of /run/nsm (nsm create) follow the default table, when there are any\n"
      "and the caller may read /run/nsm: NAME TYPES HOLDER STATE (running, or stale when its\n"
      "holder died or a pin is gone) CREATED; in JSON, the \"named\" array. With -r, -n or -o\n"
      "only with --named.");
  sub->callback([o, tree] {
    o->tree_given = tree->count() > 0;
    run(*o);
  });
}

}  // namespace nsm
