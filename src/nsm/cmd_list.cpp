// SPDX-License-Identifier: MIT
// nsm list – every namespace, as lsns shows them (util-linux 2.40's options and columns).

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <sys/ioctl.h>
#include <unistd.h>

#include <fmt/format.h>

#include <nsfun/proc_scan.hpp>
#include <nsfun/snapshot.hpp>

#include "cli.hpp"
#include "filter.hpp"
#include "named.hpp"
#include "sources.hpp"
#include "tree.hpp"

namespace nsm {
namespace {

// lsns's columns in lsns's order (--output-all, -H), then nsm's own NSID.
enum class Col {
  ns,
  type,
  path,
  nprocs,
  pid,
  ppid,
  command,
  uid,
  user,
  netnsid,
  nsfs,
  pns,
  ons,
  nsid
};

struct ColInfo {
  Col col;
  const char* name;
  bool right;   ///< right-aligned
  bool number;  ///< a number in JSON and in -Q comparisons
  const char* help;
};

constexpr std::array<ColInfo, 14> columns{{
    {Col::ns, "NS", true, true, "namespace identifier (inode number)"},
    {Col::type, "TYPE", false, false, "kind of namespace"},
    {Col::path, "PATH", false, false, "path to the namespace"},
    {Col::nprocs, "NPROCS", true, true, "number of processes in the namespace"},
    {Col::pid, "PID", true, true, "lowest PID in the namespace"},
    {Col::ppid, "PPID", true, true, "PPID of the PID"},
    {Col::command, "COMMAND", false, false, "command line of the PID"},
    {Col::uid, "UID", true, true, "UID of the PID"},
    {Col::user, "USER", false, false, "username of the PID"},
    {Col::netnsid, "NETNSID", true, false, "namespace ID as used by network subsystem"},
    {Col::nsfs, "NSFS", false, false, "nsfs mountpoint (usually used network subsystem)"},
    {Col::pns, "PNS", true, true, "parent namespace identifier (inode number)"},
    {Col::ons, "ONS", true, true, "owner namespace identifier (inode number)"},
    {Col::nsid, "NSID", true, true, "namespace id of the kernel (NS_GET_ID, Linux 6.18+)"},
}};

const ColInfo& info(Col c) {
  return columns[static_cast<std::size_t>(c)];
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string known_columns() {
  std::string out;
  for (const ColInfo& c : columns) {
    out += out.empty() ? "" : " ";
    out += c.name;
  }
  return out;
}

std::optional<Col> find_column(std::string_view name) {
  const std::string l = lower(name);
  auto it = std::find_if(columns.begin(), columns.end(),
                         [&](const ColInfo& c) { return lower(c.name) == l; });
  return it == columns.end() ? std::nullopt : std::optional<Col>(it->col);
}

// -o lists; a first list starting with + extends `defaults`.
std::vector<Col> parse_columns(const std::vector<std::string>& specs,
                               const std::vector<Col>& defaults) {
  std::vector<Col> out;
  bool first = true;
  for (const std::string& spec : specs) {
    std::string_view list = spec;
    if (first && !list.empty() && list.front() == '+') {
      out = defaults;
      list.remove_prefix(1);
    }
    first = false;
    while (true) {
      std::size_t comma = list.find(',');
      std::string_view item = list.substr(0, comma);
      auto col = find_column(item);
      if (!col) {
        throw UsageError("list",
                         fmt::format("unknown column: '{}' (known: {})", item, known_columns()));
      }
      if (std::find(out.begin(), out.end(), *col) == out.end()) {
        out.push_back(*col);
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
  bool output_all = false;
  bool json = false;
  bool raw = false;
  bool noheadings = false;
  bool named = false;
  bool list = false;
  bool nowrap = false;
  bool notruncate = false;
  bool persistent = false;
  bool list_columns = false;
  std::string filter;
  bool filter_given = false;
  std::string tree;
  bool tree_given = false;
  std::string namespace_arg;
  bool namespace_given = false;
};

// One row: a namespace, or with `nsm list NS` one process of it.
struct Row {
  const nsfun::NsSummary* ns = nullptr;
  pid_t pid = 0;  ///< 0: no process (a namespace held by a bind mount or an fd)
  pid_t ppid = 0;
  uid_t uid = static_cast<uid_t>(-1);
  const std::string* command = nullptr;
};

// What the cells of every row share.
struct Context {
  bool no_path_column = false;  // a bind mount's path goes where COMMAND would be empty
  char nsfs_sep = '\n';         // -W, -r: ','
  std::unordered_map<std::uint64_t, std::optional<std::int32_t>> netnsids;

  std::optional<std::int32_t> netnsid(const nsfun::NsSummary& s) {
    auto it = netnsids.find(s.ns.ino());
    if (it == netnsids.end()) {
      it = netnsids.emplace(s.ns.ino(), sources::netnsid(s)).first;
    }
    return it->second;
  }
};

std::string nsfs_text(const nsfun::NsSummary& s, char sep) {
  std::string out;
  const std::string* last = nullptr;
  for (const std::string& p : s.nsfs) {
    if (last != nullptr && *last == p) {
      continue;
    }
    if (!out.empty()) {
      out += sep;
    }
    out += p;
    last = &p;
  }
  return out;
}

std::string netnsid_text(std::optional<std::int32_t> id) {
  if (!id) {
    return {};
  }
  return *id >= 0 ? std::to_string(*id) : std::string("unassigned");
}

// Why a named set is stale (its problems, as nsm inspect shows them); empty when it is running.
std::string stale_reason(const named::SetView& v) {
  return fmt::format("{}", fmt::join(v.problems, "; "));
}

// The text of one cell.
std::string cell(const Row& r, Col c, Context& ctx) {
  const nsfun::NsSummary& s = *r.ns;
  switch (c) {
    case Col::ns:
      return std::to_string(s.ns.ino());
    case Col::type:
      return std::string(nsfun::name(s.ns.type()));
    case Col::nprocs:
      return std::to_string(s.nprocs);
    case Col::pid:
      return r.pid != 0 ? std::to_string(r.pid) : std::string();
    case Col::ppid:
      return r.pid != 0 ? std::to_string(r.ppid) : std::string();
    case Col::user:
      return user_name(r.uid);
    case Col::uid:
      return r.uid != static_cast<uid_t>(-1) ? std::to_string(r.uid) : std::string();
    case Col::command:
      if (r.pid == 0) {
        return ctx.no_path_column ? s.path : std::string();
      }
      return r.command != nullptr ? *r.command : std::string();
    case Col::pns:
      return std::to_string(s.parent);
    case Col::ons:
      return std::to_string(s.owner);
    case Col::path:
      if (r.pid != 0) {
        return fmt::format("/proc/{}/ns/{}", r.pid, nsfun::name(s.ns.type()));
      }
      return s.path;
    case Col::nsid:
      return s.ns.id() != 0 ? std::to_string(s.ns.id()) : std::string();
    case Col::netnsid:
      // Also of a namespace no process is in (lsns 2.42; 2.38 to 2.41 leave it blank).
      return s.ns.type() == nsfun::NsType::net ? netnsid_text(ctx.netnsid(s)) : std::string();
    case Col::nsfs:
      return nsfs_text(s, ctx.nsfs_sep);
  }
  return {};
}

Json json_cell(const Row& r, Col c, Context& ctx) {
  const nsfun::NsSummary& s = *r.ns;
  switch (c) {
    case Col::ns:
      return s.ns.ino();
    case Col::nprocs:
      return s.nprocs;
    case Col::pid:
      return r.pid != 0 ? Json(r.pid) : Json();
    case Col::ppid:
      return r.pid != 0 ? Json(r.ppid) : Json();
    case Col::user:
      return r.uid != static_cast<uid_t>(-1) ? Json(user_name(r.uid)) : Json();
    case Col::uid:
      return r.uid != static_cast<uid_t>(-1) ? Json(r.uid) : Json();
    case Col::command:
      return r.pid != 0 && r.command != nullptr ? Json(*r.command) : Json();
    case Col::pns:
      return s.parent;
    case Col::ons:
      return s.owner;
    case Col::nsid:
      return s.ns.id() != 0 ? Json(s.ns.id()) : Json();
    case Col::type:
    case Col::path:
    case Col::netnsid:
    case Col::nsfs:
      break;
  }
  std::string text = cell(r, c, ctx);
  return text.empty() ? Json() : Json(std::move(text));
}

// The value -Q compares.
filter::Cell filter_cell(const Row& r, Col c, Context& ctx) {
  filter::Cell out;
  out.text = cell(r, c, ctx);
  out.empty = out.text.empty();
  if (info(c).number && !out.empty) {
    (void)std::from_chars(out.text.data(), out.text.data() + out.text.size(), out.num);
  }
  return out;
}

// The width of the terminal on stdout; 0 when stdout is no terminal.
std::size_t terminal_width() {
  if (::isatty(STDOUT_FILENO) != 1) {
    return 0;
  }
  winsize ws{};
  if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
    return ws.ws_col;
  }
  if (const char* env = std::getenv("COLUMNS")) {
    std::size_t n = 0;
    auto [p, ec] = std::from_chars(env, env + std::char_traits<char>::length(env), n);
    if (ec == std::errc() && *p == '\0' && n > 0) {
      return n;
    }
  }
  return 80;
}

// `s` cut to `width` terminal columns (whole UTF-8 sequences).
void cut_to_width(std::string& s, std::size_t width) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0U) != 0x80U) {
      if (n == width) {
        s.resize(i);
        return;
      }
      ++n;
    }
  }
}

// lsns -H: the columns, their JSON types and what they show.
void list_columns(bool json, bool raw) {
  if (json) {
    Json arr = Json::array();
    for (const ColInfo& c : columns) {
      arr.push_back({{"holder", c.name},
                     {"type", c.number ? "<integer>" : "<string>"},
                     {"description", c.help}});
    }
    print_json(Json{{"lsns-columns", std::move(arr)}});
    return;
  }
  Table t({{"COLUMN", true}, {"TYPE"}, {"DESCRIPTION"}});
  for (const ColInfo& c : columns) {
    t.add({c.name, c.number ? "<integer>" : "<string>", c.help});
  }
  t.print(false, raw);
}

// The processes of one namespace, ascending, with what their rows show.
struct ProcRows {
  std::vector<nsfun::ProcEntry> procs;
  std::vector<std::string> commands;
};

std::uint64_t parse_namespace_arg(const std::string& text) {
  std::uint64_t ino = 0;
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, ino);
  if (ec != std::errc() || p != end || ino == 0) {
    std::string shown = text.size() > 64 ? text.substr(0, 64) + "..." : text;
    throw UsageError("list", fmt::format("'{}' is not a namespace (an inode number, as the NS "
                                         "column shows)",
                                         shown));
  }
  return ino;
}

void run(const Options& o) {
  if (o.list_columns) {
    list_columns(o.json, o.raw);
    return;
  }
  const bool by_namespace = o.namespace_given;
  const std::uint64_t wanted_ns = by_namespace ? parse_namespace_arg(o.namespace_arg) : 0;
  if (by_namespace && o.task) {
    throw UsageError("list", "-p/--task and a <namespace> argument exclude each other");
  }
  nsfun::NsTypeSet types = o.types.empty() ? nsfun::NsTypeSet::all() : parse_types("list", o.types);

  // The columns: lsns's defaults (PID PPID USER COMMAND for the processes of one namespace;
  // with -t net also NETNSID and NSFS), --output-all, or -o.
  std::vector<Col> defaults;
  if (by_namespace) {
    defaults = {Col::pid, Col::ppid, Col::user, Col::command};
  } else {
    defaults = {Col::ns, Col::type, Col::nprocs, Col::pid, Col::user};
    if (!o.types.empty() && types.contains(nsfun::NsType::net) &&
        types != nsfun::NsTypeSet::all()) {
      defaults.push_back(Col::netnsid);
      defaults.push_back(Col::nsfs);
    }
    defaults.push_back(Col::command);
  }
  std::vector<Col> cols = defaults;
  if (o.output_all) {
    cols.clear();
    for (const ColInfo& c : columns) {
      cols.push_back(c.col);
    }
  }
  if (!o.output.empty()) {
    std::vector<Col> more = parse_columns(o.output, o.output_all ? cols : defaults);
    if (o.output_all) {
      for (Col c : more) {
        if (!uses(cols, c)) {
          cols.push_back(c);
        }
      }
    } else {
      cols = std::move(more);
    }
  }
  const bool custom_columns = o.output_all || !o.output.empty();

  std::optional<filter::Expr> flt;
  if (o.filter_given) {
    try {
      flt = filter::Expr::parse(o.filter,
                                [](std::string_view name) -> std::optional<filter::ColumnRef> {
                                  auto c = find_column(name);
                                  if (!c) {
                                    return std::nullopt;
                                  }
                                  return filter::ColumnRef{static_cast<int>(*c), info(*c).number};
                                });
    } catch (const filter::Error& e) {
      throw UsageError("list", fmt::format("bad filter '{}': at character {}, {}", o.filter,
                                           e.position(), e.what()));
    }
  }
  // Every column shown or tested.
  std::vector<Col> needed = cols;
  if (flt) {
    for (int id : flt->columns()) {
      if (!uses(needed, static_cast<Col>(id))) {
        needed.push_back(static_cast<Col>(id));
      }
    }
  }

  // The tree: -T, else lsns's default, the process tree (-l turns it off): for the processes of
  // one namespace always, for namespaces in the default table (lsns 2.40: with the default
  // columns), whose JSON and -r output stay flat unless -T asks.
  std::string tree_mode = o.tree_given ? (o.tree.empty() ? "owner" : o.tree) : std::string();
  if (!o.tree_given && !o.list && (by_namespace || (!custom_columns && !o.json && !o.raw))) {
    tree_mode = "process";
  }
  if (by_namespace && !tree_mode.empty() && tree_mode != "process") {
    throw UsageError("list",
                     "with a <namespace> argument the rows are processes: only -T process "
                     "applies");
  }
  const bool process_tree = tree_mode == "process";

  nsfun::SnapshotOptions so;
  so.types = types;
  so.commands =
      !by_namespace && (uses(needed, Col::user) || uses(needed, Col::uid) ||
                        uses(needed, Col::command) || uses(needed, Col::ppid) || process_tree);
  so.ppid = !by_namespace && (uses(needed, Col::ppid) || process_tree);
  so.hierarchy =
      uses(needed, Col::pns) || uses(needed, Col::ons) || (!tree_mode.empty() && !process_tree);
  so.ids = uses(needed, Col::nsid);
  so.mounts = true;
  so.fds = true;  // namespaces held only by an fd or a socket, as lsns 2.40 lists them
  so.keep_procs = by_namespace;

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

  Context ctx;
  ctx.no_path_column = !uses(cols, Col::path) && !uses(cols, Col::nsfs);
  ctx.nsfs_sep = o.nowrap || o.raw ? ',' : '\n';

  std::vector<Row> rows;
  ProcRows procs;
  if (by_namespace) {
    const nsfun::NsSummary* found = nullptr;
    for (const nsfun::NsSummary& s : snap.value().namespaces()) {
      if (s.ns.ino() == wanted_ns && types.contains(s.ns.type())) {
        found = &s;
        break;
      }
    }
    if (found == nullptr) {
      throw Failure(fmt::format("namespace {}", wanted_ns), "not found");
    }
    // Only the processes of this namespace are read further.
    nsfun::ProcScanOptions po;
    po.types = nsfun::NsTypeSet{};
    po.ppid = true;
    po.uid = true;
    po.cmdline = uses(needed, Col::command);
    po.pids = snap.value().processes_in(found->ns);
    auto scanned = nsfun::scan_procs(po);
    if (!scanned) {
      throw Failure("scan /proc", why(scanned.error()));
    }
    procs.procs = std::move(scanned.value().procs);
    procs.commands.reserve(procs.procs.size());
    for (const nsfun::ProcEntry& e : procs.procs) {
      procs.commands.push_back(e.cmdline.empty() ? e.comm : e.cmdline);
    }
    for (std::size_t i = 0; i < procs.procs.size(); ++i) {
      const nsfun::ProcEntry& e = procs.procs[i];
      rows.push_back({found, e.pid, e.ppid, e.uid, &procs.commands[i]});
    }
  } else {
    for (const nsfun::NsSummary& s : snap.value().namespaces()) {
      if (!types.contains(s.ns.type())) {
        continue;
      }
      if (task && task->ino[static_cast<std::size_t>(nsfun::link_of(s.ns.type()))] != s.ns.ino()) {
        continue;
      }
      if (o.persistent && s.nprocs != 0) {
        continue;
      }
      rows.push_back({&s, s.pid, s.ppid, s.uid, &s.command});
    }
  }
  if (flt) {
    std::vector<Row> kept;
    for (const Row& r : rows) {
      if (flt->matches([&](int id) { return filter_cell(r, static_cast<Col>(id), ctx); })) {
        kept.push_back(r);
      }
    }
    rows = std::move(kept);
  }

  tree::Forest forest;
  if (tree_mode.empty()) {
    forest = tree::flat(rows.size());
  } else if (by_namespace) {
    // A process under its parent when that one is in the namespace too.
    forest.children.resize(rows.size());
    std::unordered_map<pid_t, std::size_t> at;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      at.emplace(rows[i].pid, i);
    }
    for (std::size_t i = 0; i < rows.size(); ++i) {
      auto it = at.find(rows[i].ppid);
      if (it != at.end() && it->second != i) {
        forest.children[it->second].push_back(i);
      } else {
        forest.roots.push_back(i);
      }
    }
  } else {
    std::vector<const nsfun::NsSummary*> list;
    list.reserve(rows.size());
    for (const Row& r : rows) {
      list.push_back(r.ns);
    }
    forest = tree::build(list, tree::by_name(tree_mode));
  }

  // The named sets of /run/nsm that share a namespace with what is listed: of the types asked
  // for, and with -p, those holding one of that process's namespaces. Shown in JSON, in the
  // default table, and with --named; -r, -n and -o print the namespace rows only, as lsns does,
  // so that lsns pipelines keep working.
  const bool show_sets = !by_namespace && !o.persistent && !flt &&
                         (o.json || o.named || (!o.raw && !o.noheadings && !custom_columns));
  std::vector<named::SetView> sets;
  if (show_sets) {
    for (named::SetView& v : named::list_sets()) {
      // A set with no pin file at all (a create killed before its first pin, an empty
      // directory) has nothing to match: shown, as stale, unless a filter asks for namespaces.
      const bool shown =
          (v.pins.empty() && !task && o.types.empty()) ||
          std::any_of(v.pins.begin(), v.pins.end(), [&](const named::PinView& p) {
            return types.contains(p.type) &&
                   (!task ||
                    (p.pinned &&
                     task->ino[static_cast<std::size_t>(nsfun::link_of(p.type))] == p.ns.ino()));
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
            j[lower(info(c).name)] = json_cell(rows[i], c, ctx);
          }
          return j;
        },
        tree::Children::when_any);
    if (by_namespace) {
      print_json(Json{{"namespaces", std::move(arr)}});
      return;
    }
    Json named_arr = Json::array();
    for (const named::SetView& v : sets) {
      named_arr.push_back({{"name", v.name},
                           {"types", types_json(v.types)},
                           {"holder", v.meta && v.meta->holder ? Json(*v.meta->holder) : Json()},
                           {"state", v.state()},
                           {"created", v.meta ? Json(v.meta->created) : Json()},
                           {"reason", v.running() ? Json() : Json(stale_reason(v))}});
    }
    print_json(Json{{"namespaces", std::move(arr)}, {"named", std::move(named_arr)}});
    return;
  }

  // The column that carries the tree: COMMAND for -T process (as lsns), else the first one. A
  // process tree without a COMMAND column is not drawn at all, as in lsns (the rows stay flat).
  const bool draw_indent = !process_tree || uses(cols, Col::command);
  std::size_t tree_col = 0;
  if (process_tree && uses(cols, Col::command)) {
    tree_col =
        static_cast<std::size_t>(std::find(cols.begin(), cols.end(), Col::command) - cols.begin());
  }
  const std::size_t ncols = cols.size();
  std::vector<std::string> cells;  // row by row, in drawing order
  cells.reserve(rows.size() * ncols);
  tree::draw(forest, o.raw, [&](std::size_t i, std::string_view indent) {
    for (std::size_t k = 0; k < ncols; ++k) {
      cells.push_back(cell(rows[i], cols[k], ctx));
    }
    if (draw_indent && !indent.empty() && ncols != 0) {
      cells[cells.size() - ncols + tree_col].insert(0, indent);
    }
  });

  // lsns's width hints, which libsmartcols applies as column_width() says.
  auto hint = [](Col c) -> std::size_t {
    switch (c) {
      case Col::ns:
      case Col::pns:
      case Col::ons:
        return 10;
      case Col::type:
      case Col::nprocs:
      case Col::pid:
      case Col::ppid:
        return 5;
      default:
        return 0;
    }
  };
  std::vector<Column> tcols;
  for (std::size_t k = 0; k < ncols; ++k) {
    const bool right = info(cols[k]).right && !(k == tree_col && !tree_mode.empty());
    tcols.push_back({info(cols[k]).name, right, hint(cols[k])});
  }

  // On a terminal lsns cuts COMMAND so that lines fit (not with -u, -r or -J).
  const std::size_t width = o.raw || o.notruncate ? 0 : terminal_width();
  if (width != 0 && uses(cols, Col::command)) {
    const auto cmd =
        static_cast<std::size_t>(std::find(cols.begin(), cols.end(), Col::command) - cols.begin());
    std::vector<std::size_t> w(ncols, 0);
    for (std::size_t k = 0; k < ncols; ++k) {
      w[k] = 0;
    }
    for (std::size_t i = 0; i < cells.size(); ++i) {
      const std::string& c = cells[i];
      std::size_t cw = 0;
      // A multi-line cell is as wide as its widest line.
      std::size_t start = 0;
      while (start <= c.size()) {
        std::size_t nl = c.find('\n', start);
        std::size_t end = nl == std::string::npos ? c.size() : nl;
        cw = std::max(cw, display_width(std::string_view(c).substr(start, end - start)));
        if (nl == std::string::npos) {
          break;
        }
        start = nl + 1;
      }
      w[i % ncols] = std::max(w[i % ncols], cw);
    }
    std::size_t total = ncols - 1;
    for (std::size_t k = 0; k < ncols; ++k) {
      w[k] = column_width(tcols[k], w[k], !o.noheadings);
      total += w[k];
    }
    if (total > width) {
      const std::size_t floor =
          std::min(w[cmd], o.noheadings ? std::size_t{1} : display_width("COMMAND"));
      const std::size_t over = total - width;
      const std::size_t keep = w[cmd] > over + floor ? w[cmd] - over : floor;
      for (std::size_t i = cmd; i < cells.size(); i += ncols) {
        cut_to_width(cells[i], keep);
      }
    }
  }

  Table table(std::move(tcols));
  table.reserve(ncols == 0 ? 0 : cells.size() / ncols);
  std::vector<std::string> row(ncols);
  for (std::size_t r = 0; ncols != 0 && r < cells.size() / ncols; ++r) {
    // A multi-line cell (NSFS) continues on lines of its own, the other cells blank there.
    std::size_t lines = 1;
    for (std::size_t k = 0; k < ncols; ++k) {
      const std::string& c = cells[r * ncols + k];
      lines = std::max(lines, static_cast<std::size_t>(std::count(c.begin(), c.end(), '\n')) + 1);
    }
    if (lines == 1) {
      for (std::size_t k = 0; k < ncols; ++k) {
        row[k] = std::move(cells[r * ncols + k]);
      }
      table.add(row);
      continue;
    }
    std::vector<std::vector<std::string>> parts(ncols);
    for (std::size_t k = 0; k < ncols; ++k) {
      const std::string& c = cells[r * ncols + k];
      std::size_t start = 0;
      while (true) {
        std::size_t nl = c.find('\n', start);
        parts[k].push_back(
            c.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
        if (nl == std::string::npos) {
          break;
        }
        start = nl + 1;
      }
    }
    for (std::size_t l = 0; l < lines; ++l) {
      for (std::size_t k = 0; k < ncols; ++k) {
        row[k] = l < parts[k].size() ? parts[k][l] : std::string();
      }
      table.add(row);
    }
  }
  table.print(!o.noheadings, o.raw);

  // The sets after a blank line; the title line only where headings are for people.
  if (!sets.empty()) {
    std::string out;
    Table st({{"NAME"}, {"TYPES"}, {"HOLDER", true}, {"STATE"}, {"CREATED"}, {"REASON"}});
    for (const named::SetView& v : sets) {
      st.add({v.name, v.types.to_string(),
              v.meta && v.meta->holder ? std::to_string(*v.meta->holder) : std::string(), v.state(),
              v.meta ? v.meta->created : std::string(), stale_reason(v)});
    }
    out += '\n';
    if (!o.raw && !o.noheadings) {
      out += heading(fmt::format("Named namespace sets ({})", named::run_dir)) + "\n";
    }
    out += st.render(!o.noheadings, o.raw);
    print(out);
  }
}

// A check that names the option's value and what it should be, in one line.
CLI::Validator one_of(std::vector<std::string> allowed, std::string what) {
  return CLI::Validator(
      [allowed = std::move(allowed), what = std::move(what)](std::string& text) -> std::string {
        if (std::find(allowed.begin(), allowed.end(), text) != allowed.end()) {
          return {};
        }
        std::string shown = text.size() > 64 ? text.substr(0, 64) + "..." : text;
        return "'" + shown + "' is not " + what;
      },
      "");
}

}  // namespace

void register_list(CLI::App& app) {
  auto o = std::make_shared<Options>();
  CLI::App* sub = app.add_subcommand("list", "List namespaces (like lsns)");
  sub->alias("ls");
  sub->add_option("namespace", o->namespace_arg,
                  "List the processes of this namespace (its inode number, as NS shows)")
      ->type_name("NS");
  sub->add_option("-t,--type", o->types,
                  "Only namespaces of TYPE (user,mnt,uts,ipc,pid,net,cgroup,time; repeatable, "
                  "comma lists allowed); -t net adds NETNSID and NSFS to the default columns")
      ->type_name("TYPE")
      ->expected(1)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  CLI::Option* task = sub->add_option("-p,--task", o->task, "Only the namespaces of process PID")
                          ->type_name("PID")
                          ->check(pid_check());
  sub->add_option(
         "-o,--output", o->output,
         "Columns to show, comma separated; +COL adds to the default. Columns: " + known_columns())
      ->type_name("COLS")
      ->expected(1)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  sub->add_flag("--output-all", o->output_all, "Show every column");
  CLI::Option* json = sub->add_flag("-J,--json", o->json, "Use JSON output format");
  CLI::Option* raw = sub->add_flag("-r,--raw", o->raw, "Use the raw output format");
  sub->add_flag("-n,--noheadings", o->noheadings, "Don't print headings");
  CLI::Option* list = sub->add_flag("-l,--list", o->list, "Use the list format (no process tree)");
  sub->add_flag("-W,--nowrap", o->nowrap,
                "Don't use multi-line cells: NSFS paths joined by commas");
  sub->add_flag("-u,--notruncate", o->notruncate, "Don't cut COMMAND to fit the terminal");
  CLI::Option* persistent =
      sub->add_flag("-P,--persistent", o->persistent,
                    "Only namespaces without processes (held by a bind mount or an open fd)");
  sub->add_option("-Q,--filter", o->filter,
                  "Only rows for which EXPR is true (lsns's syntax: e.g. 'TYPE == \"net\" && "
                  "NPROCS > 1', NSFS =~ \"^/run/netns/\")")
      ->type_name("EXPR");
  sub->add_flag("-H,--list-columns", o->list_columns, "List the available columns");
  sub->add_flag("--named", o->named,
                "Show the named sets after the table also with -r, -n or -o (which otherwise "
                "print the namespace rows only, as lsns)");
  CLI::Option* tree =
      sub->add_option("-T,--tree", o->tree,
                      "Show namespaces as a tree: under their owning user "
                      "namespace (owner, the default), their parent namespace "
                      "(parent), or the namespace of the parent process of "
                      "their lowest-pid process (process)")
          ->type_name("[=owner|parent|process]")
          ->expected(0, 1)
          ->check(one_of({"owner", "parent", "process"}, "a tree kind (owner, parent or process)"));
  persistent->excludes(task);
  list->excludes(tree);
  json->excludes(raw);
  sub->footer(
      "Examples:\n"
      "  nsm list -t net -o +PATH        network namespaces and where they are bind-mounted\n"
      "  nsm list -p $$ -J               the shell's namespaces as JSON\n"
      "  nsm list -T parent -t pid,user  the pid and user namespace hierarchies\n"
      "  nsm list 4026531840             the processes of one namespace\n"
      "  nsm list -Q 'NPROCS == 0'       namespaces no process is in\n\n"
      "The default table nests namespaces by process (as lsns; -l for a flat list); JSON, -r\n"
      "and -o output are flat unless -T asks. The named sets of /run/nsm (nsm create) follow\n"
      "the default table, when there are any and the caller may read /run/nsm: NAME TYPES\n"
      "HOLDER STATE (running, or stale when its holder died or a pin is gone) CREATED REASON (why\n"
      "it is stale); in JSON, the \"named\" array. With -r, -n or -o only with --named.");
  auto filter_opt = sub->get_option("--filter");
  auto ns_opt = sub->get_option("namespace");
  sub->callback([o, tree, filter_opt, ns_opt] {
    o->tree_given = tree->count() > 0;
    o->filter_given = filter_opt->count() > 0;
    o->namespace_given = ns_opt->count() > 0;
    run(*o);
  });
}

}  // namespace nsm
