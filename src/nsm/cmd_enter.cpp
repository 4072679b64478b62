// SPDX-License-Identifier: MIT
// nsm enter / nsm exec – run a command in a named set or in the namespaces of a process; with
// nsenter's options (util-linux), so that `nsm enter` is a drop-in for it.
//
// The arguments are parsed here, not by CLI11: nsenter's namespace options take an optional
// argument only when it is attached (-nFILE, --net=FILE), and the first word that is not an
// option (after the target) starts the command, whose own options are left alone
// (`nsm enter web ls -l`). CLI11 sees only --help and hands over the rest.

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fmt/format.h>

#include <nsfun/cgroup.hpp>
#include <nsfun/enter.hpp>
#include <nsfun/ns_fd.hpp>
#include <nsfun/pidfd.hpp>
#include <nsfun/spawn.hpp>

#include "cli.hpp"
#include "named.hpp"

namespace nsm {
namespace {

// One of nsenter's namespace options: -n, --net[=FILE], ...
struct TypeOption {
  char letter;
  std::string_view name;
  nsfun::NsType type;
};

constexpr TypeOption type_options[] = {
    {'m', "mount", nsfun::NsType::mnt}, {'u', "uts", nsfun::NsType::uts},
    {'i', "ipc", nsfun::NsType::ipc},   {'n', "net", nsfun::NsType::net},
    {'p', "pid", nsfun::NsType::pid},   {'C', "cgroup", nsfun::NsType::cgroup},
    {'U', "user", nsfun::NsType::user}, {'T', "time", nsfun::NsType::time},
};

struct Options {
  std::string command;                // "enter" or "exec", for messages
  std::optional<std::string> target;  // NAME or PID, as a word
  std::optional<pid_t> target_pid;    // -t/--target PID
  nsfun::NsTypeSet types;             // --type, and the namespace options without FILE
  bool all = false;                   // -a/--all
  std::vector<std::pair<nsfun::NsType, std::string>> files;  // --net=FILE, ...
  std::optional<uid_t> setuid;
  std::optional<gid_t> setgid;
  bool preserve_credentials = false;
  bool keep_caps = false;
  std::optional<std::string> root;  // -r DIR; "" for the target's root
  std::optional<std::string> wd;    // -w DIR; "" for the target's cwd
  std::optional<std::string> wdns;  // -W DIR
  bool no_fork = false;
  bool join_cgroup = false;
  bool env = false;
  std::vector<std::string> cmd;
};

bool all_digits(std::string_view s) {
  return !s.empty() && s.size() <= 10 && s.find_first_not_of("0123456789") == std::string::npos;
}

pid_t parse_pid(const Options& o, std::string_view what, const std::string& s) {
  if (all_digits(s)) {
    const long pid = std::strtol(s.c_str(), nullptr, 10);
    if (pid > 0 && pid <= 4194304) {
      return static_cast<pid_t>(pid);
    }
  }
  throw UsageError(o.command, fmt::format("{}: '{}' is not a process id", what, s));
}

std::uint32_t parse_id(const Options& o, std::string_view what, const std::string& s) {
  if (all_digits(s)) {
    const unsigned long long v = std::strtoull(s.c_str(), nullptr, 10);
    if (v < 0xffffffffULL) {
      return static_cast<std::uint32_t>(v);
    }
  }
  throw UsageError(o.command, fmt::format("{}: '{}' is not a user or group id", what, s));
}

// Whether the first word that is not an option is the command itself (nsenter: -t PID or a
// namespace file was given) rather than the target NAME|PID.
bool has_target(const Options& o) {
  return o.target_pid.has_value() || !o.files.empty() || o.target.has_value();
}

// An option that takes an argument, in any of getopt's spellings: `-S 1`, `-S1`, `--setuid 1`,
// `--setuid=1`. `attached` is what followed the option in the same word, if anything.
std::string required_arg(const Options& o,
                         std::string_view option,
                         std::optional<std::string> attached,
                         const std::vector<std::string>& args,
                         std::size_t& i) {
  if (attached) {
    return *attached;
  }
  if (i + 1 >= args.size()) {
    throw UsageError(o.command, fmt::format("option {} requires an argument", option));
  }
  return args[++i];
}

// Applies one long option (`name` without the dashes, `value` after '=' if any).
void long_option(Options& o,
                 std::string_view name,
                 std::optional<std::string> value,
                 const std::vector<std::string>& args,
                 std::size_t& i) {
  const std::string dashed = "--" + std::string(name);
  auto flag = [&](bool& b) {
    if (value) {
      throw UsageError(o.command, fmt::format("option {} takes no argument", dashed));
    }
    b = true;
  };
  for (const TypeOption& t : type_options) {
    if (name == t.name) {
      if (value) {
        o.files.emplace_back(t.type, *value);
      } else {
        o.types.insert(t.type);
      }
      return;
    }
  }
  if (name == "all") {
    flag(o.all);
  } else if (name == "target") {
    std::string v = required_arg(o, dashed, std::move(value), args, i);
    if (o.target_pid) {
      throw UsageError(o.command, "option --target may be given only once");
    }
    o.target_pid = parse_pid(o, dashed, v);
  } else if (name == "type") {
    std::string v = required_arg(o, dashed, std::move(value), args, i);
    o.types = o.types | parse_types(o.command, {v});
  } else if (name == "setuid") {
    o.setuid = parse_id(o, dashed, required_arg(o, dashed, std::move(value), args, i));
  } else if (name == "setgid") {
    o.setgid = parse_id(o, dashed, required_arg(o, dashed, std::move(value), args, i));
  } else if (name == "preserve-credentials") {
    flag(o.preserve_credentials);
  } else if (name == "keep-caps") {
    flag(o.keep_caps);
  } else if (name == "root") {
    o.root = value.value_or("");
  } else if (name == "wd") {
    o.wd = value.value_or("");
  } else if (name == "wdns") {
    // nsenter 2.38's getopt takes -W DIR but only --wdns=DIR: a detached DIR would be run as
    // the command there, so it is refused here instead.
    if (!value || value->empty()) {
      throw UsageError(o.command, "option --wdns needs its DIR attached: --wdns=DIR or -W DIR");
    }
    o.wdns = *value;
  } else if (name == "no-fork") {
    flag(o.no_fork);
  } else if (name == "join-cgroup") {
    flag(o.join_cgroup);
  } else if (name == "env") {
    flag(o.env);
  } else {
    throw UsageError(o.command, fmt::format("unrecognized option '{}'", dashed));
  }
}

// Applies a cluster of short options ("-an", "-nFILE", "-t 42", "-S0"): getopt's rules, where
// an optional argument is only ever the rest of the same word.
void short_options(Options& o,
                   const std::string& word,
                   const std::vector<std::string>& args,
                   std::size_t& i) {
  for (std::size_t k = 1; k < word.size(); ++k) {
    const char c = word[k];
    std::optional<std::string> rest;
    if (k + 1 < word.size()) {
      rest = word.substr(k + 1);
    }
    const std::string option = std::string("-") + c;
    const auto* type = std::find_if(std::begin(type_options), std::end(type_options),
                                    [c](const TypeOption& t) { return t.letter == c; });
    if (type != std::end(type_options)) {
      if (rest) {
        o.files.emplace_back(type->type, *rest);
        return;
      }
      o.types.insert(type->type);
    } else if (c == 'a' || c == 'F' || c == 'c' || c == 'e') {
      (c == 'a' ? o.all : c == 'F' ? o.no_fork : c == 'c' ? o.join_cgroup : o.env) = true;
    } else if (c == 'r' || c == 'w') {
      (c == 'r' ? o.root : o.wd) = rest.value_or("");
      if (rest) {
        return;
      }
    } else if (c == 't' || c == 'S' || c == 'G' || c == 'W') {
      std::string v = required_arg(o, option, rest, args, i);
      if (c == 't' && !all_digits(v)) {
        // nsm's own -t TYPES, from before nsenter's -t PID: a type list is never a number.
        o.types = o.types | parse_types(o.command, {v});
      } else if (c == 't') {
        if (o.target_pid) {
          throw UsageError(o.command, "option --target may be given only once");
        }
        o.target_pid = parse_pid(o, option, v);
      } else if (c == 'S') {
        o.setuid = parse_id(o, option, v);
      } else if (c == 'G') {
        o.setgid = parse_id(o, option, v);
      } else {
        o.wdns = v;
      }
      return;
    } else {
      throw UsageError(o.command, fmt::format("invalid option -- '{}'", c));
    }
  }
}

// Parses what CLI11 left: options, the target (unless -t or a namespace file names it), then
// the command, whose words are never read as options.
Options parse(std::string command, const std::vector<std::string>& args) {
  Options o;
  o.command = std::move(command);
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& w = args[i];
    if (w == "--") {
      std::size_t from = i + 1;
      if (!has_target(o) && from < args.size()) {
        o.target = args[from++];
      }
      o.cmd.assign(args.begin() + static_cast<std::ptrdiff_t>(from), args.end());
      break;
    }
    if (w == "-h" || w == "--help") {
      throw CLI::CallForHelp();
    }
    if (w.size() > 2 && w.compare(0, 2, "--") == 0) {
      const std::size_t eq = w.find('=');
      std::optional<std::string> value;
      if (eq != std::string::npos) {
        value = w.substr(eq + 1);
      }
      long_option(o, std::string_view(w).substr(2, eq == std::string::npos ? eq : eq - 2),
                  std::move(value), args, i);
      continue;
    }
    if (w.size() > 1 && w[0] == '-') {
      short_options(o, w, args, i);
      continue;
    }
    if (!has_target(o)) {
      o.target = w;
      continue;
    }
    o.cmd.assign(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
    break;
  }
  return o;
}

// The namespaces of process `pid` that differ from ours (of `types`, or all).
nsfun::NsFdSet open_process(pid_t pid, std::optional<nsfun::NsTypeSet> types) {
  auto pidfd = nsfun::pidfd_open(pid);
  if (!pidfd) {
    fail_pid(pid, pidfd.error());
  }
  nsfun::NsFdSet out;
  for (nsfun::NsType t : types.value_or(nsfun::NsTypeSet::all())) {
    auto theirs = nsfun::NsFd::open_pidfd(pidfd.value().ref(), nsfun::link_of(t));
    if (!theirs) {
      if (theirs.error().code == std::errc::no_such_process ||
          theirs.error().code == std::errc::permission_denied ||
          theirs.error().code == std::errc::operation_not_permitted) {
        // Not "enter nothing and run CMD here": a process we may not look into is an error.
        fail_pid(pid, theirs.error());
      }
      if (!types) {
        continue;  // e.g. time on an old kernel
      }
      throw Failure(fmt::format("pid {}", pid),
                    fmt::format("{} namespace: {}", nsfun::name(t), why(theirs.error())));
    }
    auto ours = nsfun::NsFd::current(t);
    if (ours && ours.value().identity() == theirs.value().identity()) {
      continue;  // joining our own namespace changes nothing (and is refused for user)
    }
    out.insert(std::move(theirs).value());
  }
  return out;
}

// An fd on a directory: DIR as given, or /proc/PID/<link> of the target (root, cwd).
nsfun::UniqueFd open_dir(const Options& o,
                         std::optional<pid_t> pid,
                         std::string_view option,
                         const std::string& dir,
                         std::string_view link) {
  std::string path = dir;
  if (path.empty()) {
    if (!pid) {
      throw UsageError(o.command,
                       fmt::format("{} without DIR needs a process (-t PID or PID)", option));
    }
    path = fmt::format("/proc/{}/{}", *pid, link);
  }
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    throw Failure(fmt::format("{} {}", option, path), std::strerror(errno));
  }
  return nsfun::UniqueFd::adopt(fd);  // owns: just opened
}

std::string read_file(const std::string& path, std::string_view option) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw Failure(fmt::format("{} {}", option, path), std::strerror(errno));
  }
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The cgroup v2 directory of process `pid` (its "0::" line), opened for CLONE_INTO_CGROUP.
nsfun::UniqueFd open_cgroup_of(pid_t pid) {
  const std::string path = fmt::format("/proc/{}/cgroup", pid);
  std::istringstream lines(read_file(path, "--join-cgroup"));
  std::string line;
  std::optional<std::string> rel;
  while (std::getline(lines, line)) {
    if (line.rfind("0::", 0) == 0) {
      rel = line.substr(3);
    }
  }
  if (!rel) {
    throw Failure(fmt::format("--join-cgroup pid {}", pid), "it is in no cgroup v2 hierarchy");
  }
  auto mount = nsfun::cgroup2_mount();
  if (!mount) {
    throw Failure("--join-cgroup", why(mount.error()));
  }
  const std::string dir = mount.value() + *rel;
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    throw Failure(fmt::format("--join-cgroup {}", dir), std::strerror(errno));
  }
  return nsfun::UniqueFd::adopt(fd);  // owns: just opened
}

// /proc/PID/environ as KEY=VALUE strings.
std::vector<std::string> environ_of(pid_t pid) {
  const std::string text = read_file(fmt::format("/proc/{}/environ", pid), "--env");
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at < text.size()) {
    std::size_t end = text.find('\0', at);
    if (end == std::string::npos) {
      end = text.size();
    }
    if (end > at) {
      out.push_back(text.substr(at, end - at));
    }
    at = end + 1;
  }
  return out;
}

// What to run and with what, once the options are resolved.
struct Plan {
  nsfun::NsFdSet ns;
  std::optional<std::string> netns_name;  // a set with a net namespace: ip netns exec's /sys, /etc
  std::optional<pid_t> pid;               // the target process, if any
  nsfun::UniqueFd root;
  nsfun::UniqueFd wd;
  nsfun::UniqueFd cgroup;
  std::optional<std::vector<std::string>> env;
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
  bool drop_groups = false;
  bool uid_by_default = false;  // uid 0 because a user namespace is entered (no -S)
  bool gid_by_default = false;  // gid 0 because a user namespace is entered (no -G)
  bool keep_caps = false;
  std::vector<std::string> cmd;
};

Plan resolve(Options& o, bool exec) {
  Plan p;
  if (o.wd && o.wdns) {
    throw UsageError(o.command, "options --wd and --wdns are mutually exclusive");
  }
  std::optional<nsfun::NsTypeSet> types;
  if (!o.types.empty() && !o.all) {
    types = o.types;
  }
  if (o.target_pid && o.target) {
    throw UsageError(o.command, fmt::format("both --target {} and '{}': give one target",
                                            *o.target_pid, *o.target));
  }
  if (o.target && !exec && all_digits(*o.target)) {
    o.target_pid = parse_pid(o, "PID", *o.target);
    o.target.reset();
  }
  if (!o.target_pid) {
    // Checked before anything is opened: these read the target process.
    for (auto [given, option] :
         {std::pair{o.env, "--env"}, std::pair{o.join_cgroup, "--join-cgroup"},
          std::pair{o.root && o.root->empty(), "--root"},
          std::pair{o.wd && o.wd->empty(), "--wd"}}) {
      if (given) {
        throw UsageError(o.command, fmt::format("{} needs a process (-t PID or PID)", option));
      }
    }
  }
  if (o.target) {
    p.ns = named::open_for_enter(o.command, *o.target, types);
    if (p.ns.get(nsfun::NsType::net) != nullptr) {
      p.netns_name = *o.target;
    }
  } else if (o.target_pid) {
    p.pid = o.target_pid;
    // Only the namespace options without a FILE come from the process, once FILEs are given.
    if (types || o.all || o.files.empty()) {
      p.ns = open_process(*o.target_pid, types);
    }
  } else if (o.files.empty()) {
    throw UsageError(o.command, exec ? "a named set is required: nsm exec NAME -- CMD..."
                                     : "a target is required: NAME, PID or -t PID");
  } else if (!o.types.empty() || o.all) {
    throw UsageError(o.command, "no target for the namespace options without FILE (-t PID)");
  }
  for (const auto& [type, file] : o.files) {
    auto ns = nsfun::NsFd::open_path(file.c_str(), type);
    if (!ns) {
      throw Failure(fmt::format("--{}={}", nsfun::name(type), file), why(ns.error()));
    }
    auto ours = nsfun::NsFd::current(type);
    if (type == nsfun::NsType::user && ours && ours.value().identity() == ns.value().identity()) {
      (void)p.ns.take(type);  // our own user namespace: setns would refuse it
      continue;
    }
    p.ns.insert(std::move(ns).value());
  }
  if (exec && o.cmd.empty()) {
    throw UsageError(o.command, "a command is required: nsm exec NAME -- CMD...");
  }
  if (o.root) {
    p.root = open_dir(o, p.pid, "--root", *o.root, "root");
  }
  if (o.wd) {
    p.wd = open_dir(o, p.pid, "--wd", *o.wd, "cwd");
  } else if (o.root && !o.wdns && p.ns.get(nsfun::NsType::mnt) == nullptr) {
    // As nsenter: --root keeps the working directory (a joined mount namespace's root, or ours).
    p.wd = open_dir(o, p.pid, "--root", ".", "");
  }
  if (o.env) {
    p.env = environ_of(*p.pid);
  }
  if (o.join_cgroup) {
    p.cgroup = open_cgroup_of(*p.pid);
  }
  // As nsenter: in a user namespace the command becomes root (or -S/-G) with no supplementary
  // groups, unless --preserve-credentials; outside one, only what -S/-G ask for.
  const bool user = p.ns.get(nsfun::NsType::user) != nullptr;
  if (user && !o.preserve_credentials) {
    p.uid = o.setuid.value_or(0);
    p.gid = o.setgid.value_or(0);
    p.drop_groups = true;
    p.uid_by_default = !o.setuid;
    p.gid_by_default = !o.setgid;
  } else {
    p.uid = o.setuid;
    p.gid = o.setgid;
    p.drop_groups = o.setgid.has_value();
  }
  p.keep_caps = o.keep_caps && user;  // nsenter ignores it without a user namespace
  p.cmd = o.cmd;
  if (p.cmd.empty()) {
    const char* shell = std::getenv("SHELL");
    p.cmd.emplace_back(shell != nullptr && *shell != '\0' ? shell : "/bin/sh");
  }
  return p;
}

[[noreturn]] void run_forked(const Plan& p, const std::optional<std::string>& wdns) {
  nsfun::Command c(p.cmd.front());
  c.args(std::vector<std::string>(p.cmd.begin() + 1, p.cmd.end()));
  std::optional<nsfun::NetNs> net;
  for (nsfun::NsType t : p.ns.types()) {
    if (t == nsfun::NsType::net && p.netns_name) {
      auto dup = p.ns.get(t)->clone();
      if (!dup) {
        throw Failure(*p.netns_name, why(dup.error()));
      }
      auto typed = nsfun::NetNs::from(std::move(dup).value());
      if (!typed) {
        throw Failure(*p.netns_name, why(typed.error()));
      }
      net = std::move(typed).value();
      c.netns(*net, *p.netns_name);  // as ip netns exec: its own /sys, /etc/netns/NAME
      continue;
    }
    c.join(*p.ns.get(t));
  }
  if (p.root) {
    c.chroot(p.root.ref());
  }
  if (p.wd) {
    c.cwd(p.wd.ref());
  } else if (wdns) {
    c.cwd(*wdns);
  }
  if (p.cgroup) {
    c.cgroup(p.cgroup.ref());
  }
  if (p.env) {
    c.clear_env();
    for (const std::string& kv : *p.env) {
      const std::size_t eq = kv.find('=');
      c.env(kv.substr(0, eq), eq == std::string::npos ? std::string() : kv.substr(eq + 1));
    }
  }
  if (p.drop_groups) {
    c.groups({});
  }
  if (p.gid) {
    c.gid(*p.gid);
  }
  if (p.uid) {
    c.uid(*p.uid);
  }
  c.keep_caps(p.keep_caps);
  auto child = nsfun::spawn(c);
  if (!child) {
    const nsfun::error& e = child.error();
    if (e.code == std::errc::invalid_argument && ((e.what == "setresuid" && p.uid_by_default) ||
                                                  (e.what == "setresgid" && p.gid_by_default))) {
      // A user namespace without a map for root (nsm create --no-map, say).
      throw Failure(p.cmd.front(), why(e) + " (--preserve-credentials keeps nsm's own ids)");
    }
    throw Failure(p.cmd.front(), why(e));
  }
  // Like a shell waiting for a foreground job: the terminal's signals are for the child.
  std::signal(SIGINT, SIG_IGN);
  std::signal(SIGQUIT, SIG_IGN);
  auto status = child.value().wait();
  if (!status) {
    throw Failure(p.cmd.front(), "wait: " + why(status.error()));
  }
  const nsfun::ExitStatus& s = status.value();
  throw ExitWith{s.exited() ? s.code : 128 + s.signal};
}

[[noreturn]] void fail_errno(const std::string& what) {
  throw Failure(what, std::strerror(errno));
}

// -F with a set's net namespace: what Command::netns does for a spawned child, here in nsm
// itself (single-threaded, after the joins): a mount namespace of its own, a recursive slave,
// with a fresh sysfs on /sys and the entries of /etc/netns/NAME bound over /etc.
void ip_netns_mounts(const std::string& name) {
  struct statvfs sys {};

  const unsigned long flags =
      ::statvfs("/sys", &sys) == 0 && (sys.f_flag & ST_RDONLY) != 0 ? MS_RDONLY : 0;
  if (::unshare(CLONE_NEWNS) < 0 ||
      ::mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) < 0) {
    fail_errno(name + ": a mount namespace for /sys");
  }
  (void)::umount2("/sys", MNT_DETACH);
  if (::mount(name.c_str(), "/sys", "sysfs", flags, nullptr) < 0) {
    fail_errno(name + ": mount sysfs on /sys");
  }
  std::error_code ec;
  const std::filesystem::path etc = std::filesystem::path("/etc/netns") / name;
  for (const auto& entry : std::filesystem::directory_iterator(etc, ec)) {
    const std::string target = "/etc/" + entry.path().filename().string();
    if (::mount(entry.path().c_str(), target.c_str(), nullptr, MS_BIND, nullptr) < 0) {
      fail_errno(fmt::format("mount --bind {} on {}", entry.path().string(), target));
    }
  }
}

// -F: nsm itself enters the namespaces and executes the command (a pid namespace then applies
// only to the command's children, as with nsenter -F).
[[noreturn]] void run_in_place(Plan& p, const std::optional<std::string>& wdns) {
  // As nsenter: drop the groups before entering too, where a user namespace's setgroups "deny"
  // does not apply yet; only both refusals fail.
  const bool dropped = p.drop_groups && ::setgroups(0, nullptr) == 0;
  if (auto r = nsfun::enter(p.ns); !r) {
    throw Failure("enter", why(r.error()));
  }
  if (p.netns_name) {
    ip_netns_mounts(*p.netns_name);
  }
  if (p.root) {
    if (::fchdir(p.root.get()) < 0 || ::chroot(".") < 0) {
      fail_errno("--root");
    }
  }
  if (p.wd) {
    if (::fchdir(p.wd.get()) < 0) {
      fail_errno("--wd");
    }
  } else if (wdns) {
    if (::chdir(wdns->c_str()) < 0) {
      fail_errno("--wdns " + *wdns);
    }
  } else if (p.root && ::chdir("/") < 0) {
    fail_errno("--root: chdir /");
  }
  if (p.cgroup) {
    const int procs = ::openat(p.cgroup.get(), "cgroup.procs", O_WRONLY | O_CLOEXEC);
    const std::string pid = std::to_string(::getpid());
    if (procs < 0 || ::write(procs, pid.data(), pid.size()) < 0) {
      fail_errno("--join-cgroup: write cgroup.procs");
    }
    ::close(procs);
  }
  if (p.env) {
    ::clearenv();
    for (const std::string& kv : *p.env) {
      const std::size_t eq = kv.find('=');
      ::setenv(kv.substr(0, eq).c_str(), eq == std::string::npos ? "" : kv.c_str() + eq + 1, 1);
    }
  }
  if (p.drop_groups && ::setgroups(0, nullptr) < 0 && !(errno == EPERM && dropped)) {
    fail_errno("setgroups");
  }
  if (p.gid && ::setresgid(*p.gid, *p.gid, *p.gid) < 0) {
    fail_errno(fmt::format("setresgid gid {}", *p.gid));
  }
  if (p.keep_caps) {
    ::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0);
  }
  if (p.uid && ::setresuid(*p.uid, *p.uid, *p.uid) < 0) {
    fail_errno(fmt::format("setresuid uid {}", *p.uid));
  }
  if (p.keep_caps) {
    struct {
      std::uint32_t version = 0x20080522;  // _LINUX_CAPABILITY_VERSION_3
      int pid = 0;
    } head;

    struct {
      std::uint32_t effective, permitted, inheritable;
    } data[2] = {};

    if (::syscall(SYS_capget, &head, data) < 0) {
      fail_errno("capget");
    }
    data[0].inheritable = data[0].permitted;
    data[1].inheritable = data[1].permitted;
    if (::syscall(SYS_capset, &head, data) < 0) {
      fail_errno("capset");
    }
    for (unsigned cap = 0; cap < 64; ++cap) {
      if ((data[cap / 32].permitted & (1U << (cap % 32))) != 0) {
        (void)::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0);
      }
    }
  }
  std::vector<char*> argv;
  for (std::string& a : p.cmd) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  std::fflush(stdout);
  ::execvp(argv[0], argv.data());
  throw Failure("execvp " + p.cmd.front(), std::strerror(errno));
}

void run(const std::string& command, CLI::App* sub, bool exec) {
  Options o = parse(command, sub->remaining());
  Plan p = resolve(o, exec);
  if (o.no_fork) {
    run_in_place(p, o.wdns);
  }
  run_forked(p, o.wdns);
}

constexpr const char* options_help =
    "Options (as nsenter's; the first word that is not an option after the target starts CMD):\n"
    "  -t, --target PID        the process whose namespaces to enter (also: PID as TARGET)\n"
    "      --type TYPES        only these types, comma-separated (-t TYPES, not a number, too)\n"
    "  -a, --all               all the target's namespaces (the default)\n"
    "  -m, --mount[=FILE]      the mount namespace (of the target, or FILE)\n"
    "  -u, --uts[=FILE]        the uts namespace\n"
    "  -i, --ipc[=FILE]        the ipc namespace\n"
    "  -n, --net[=FILE]        the network namespace\n"
    "  -p, --pid[=FILE]        the pid namespace\n"
    "  -C, --cgroup[=FILE]     the cgroup namespace\n"
    "  -U, --user[=FILE]       the user namespace (then uid and gid 0 there, no groups)\n"
    "  -T, --time[=FILE]       the time namespace\n"
    "  -S, --setuid UID        the uid in the entered namespaces\n"
    "  -G, --setgid GID        the gid in the entered namespaces (and no groups)\n"
    "      --preserve-credentials  keep nsm's uid, gid and groups in a user namespace\n"
    "      --keep-caps         keep the capabilities of the user namespace (ambient) with -S\n"
    "  -r, --root[=DIR]        chroot to the target's root, or DIR\n"
    "  -w, --wd[=DIR]          the working directory: the target's, or DIR\n"
    "  -W, --wdns DIR          the working directory, as seen inside the namespaces\n"
    "  -e, --env               the target's environment instead of nsm's\n"
    "  -c, --join-cgroup       run in the target's cgroup (cgroup v2)\n"
    "  -F, --no-fork           nsm itself enters and executes CMD (pid: only its children)\n";

}  // namespace

void register_enter(CLI::App& app) {
  CLI::App* sub = app.add_subcommand(
      "enter", "Run a shell or command in a named set or a process's namespaces");
  sub->prefix_command();
  sub->allow_extras();
  sub->footer(
      std::string("Usage: nsm enter [OPTIONS] NAME|PID [CMD [ARG...]]\n"
                  "       nsm enter [OPTIONS] -t PID [CMD [ARG...]]\n\n") +
      options_help +
      "\nJoins the namespaces of the set NAME, or those of process PID that differ from nsm's\n"
      "own, then runs CMD (or $SHELL) and exits with its status (128+N for signal N). A set\n"
      "with a network namespace is entered as `ip netns exec` does: /sys shows its devices\n"
      "and /etc/netns/NAME/* is bound over /etc, in a mount namespace of the command's own.\n\n"
      "Examples:\n  nsm enter web\n  nsm enter 1234 --type net ip addr\n"
      "  nsm enter -t 1234 -n -u hostname\n  nsm enter --net=/run/netns/blue ip link");
  sub->callback([sub] { run("enter", sub, false); });

  CLI::App* sx = app.add_subcommand("exec", "Run a command in a named set of namespaces");
  sx->prefix_command();
  sx->allow_extras();
  sx->footer(std::string("Usage: nsm exec [OPTIONS] NAME [--] CMD [ARG...]\n\n") + options_help +
             "\nRuns CMD in every namespace of the set (as `ip netns exec` for its network\n"
             "namespace) and exits with its status (128+N for signal N).\n\n"
             "Example:\n  nsm exec web -- hostname\n  nsm exec web ip -br link");
  sx->callback([sx] { run("exec", sx, true); });
}

}  // namespace nsm
