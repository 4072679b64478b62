// SPDX-License-Identifier: MIT
// nsm enter / nsm exec – run a command in a named set or in the namespaces of a process.

#include <csignal>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <nsfun/ns_fd.hpp>
#include <nsfun/pidfd.hpp>
#include <nsfun/spawn.hpp>

#include "cli.hpp"
#include "named.hpp"

namespace nsm {
namespace {

struct Options {
  std::string target;
  std::vector<std::string> types;
  std::vector<std::string> cmd;
};

bool all_digits(const std::string& s) {
  return !s.empty() && s.size() <= 10 && s.find_first_not_of("0123456789") == std::string::npos;
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

[[noreturn]] void run_in(const nsfun::NsFdSet& ns, std::vector<std::string> cmd) {
  if (cmd.empty()) {
    const char* shell = std::getenv("SHELL");
    cmd.emplace_back(shell != nullptr && *shell != '\0' ? shell : "/bin/sh");
  }
  nsfun::Command c(cmd.front());
  c.args(std::vector<std::string>(cmd.begin() + 1, cmd.end()));
  for (nsfun::NsType t : ns.types()) {
    c.join(*ns.get(t));
  }
  auto child = nsfun::spawn(c);
  if (!child) {
    throw Failure(cmd.front(), why(child.error()));
  }
  // Like a shell waiting for a foreground job: the terminal's signals are for the child.
  std::signal(SIGINT, SIG_IGN);
  std::signal(SIGQUIT, SIG_IGN);
  auto status = child.value().wait();
  if (!status) {
    throw Failure(cmd.front(), "wait: " + why(status.error()));
  }
  const nsfun::ExitStatus& s = status.value();
  throw ExitWith{s.exited() ? s.code : 128 + s.signal};
}

void enter(const Options& o) {
  std::optional<nsfun::NsTypeSet> types;
  if (!o.types.empty()) {
    types = parse_types("enter", o.types);
  }
  nsfun::NsFdSet ns;
  if (all_digits(o.target)) {
    const long pid = std::strtol(o.target.c_str(), nullptr, 10);
    if (pid <= 0 || pid > 4194304) {
      throw UsageError("enter", fmt::format("invalid pid '{}'", o.target));
    }
    ns = open_process(static_cast<pid_t>(pid), types);
  } else {
    ns = named::open_for_enter("enter", o.target, types);
  }
  run_in(ns, o.cmd);
}

void exec(const Options& o) {
  if (o.cmd.empty()) {
    throw UsageError("exec", "a command is required: nsm exec NAME -- CMD...");
  }
  run_in(named::open_for_enter("exec", o.target, std::nullopt), o.cmd);
}

}  // namespace

void register_enter(CLI::App& app) {
  auto o = std::make_shared<Options>();
  CLI::App* sub = app.add_subcommand(
      "enter", "Run a shell or command in a named set or a process's namespaces");
  sub->add_option("TARGET", o->target, "A named set, or a PID (all digits)")->required();
  sub->add_option("-t,--type", o->types, "Only these namespace types, comma-separated")
      ->allow_extra_args(false);
  sub->add_option("CMD", o->cmd, "The command and its arguments (default: $SHELL or /bin/sh)");
  sub->footer(
      "Joins the namespaces of the set NAME, or those of process PID that differ from nsm's own,\n"
      "then runs CMD (after --) or the shell, and exits with its status (128+N for signal N).\n\n"
      "Examples:\n  nsm enter web\n  nsm enter 1234 --type net -- ip addr");
  sub->callback([o] { enter(*o); });

  auto x = std::make_shared<Options>();
  CLI::App* sx = app.add_subcommand("exec", "Run a command in a named set of namespaces");
  sx->add_option("NAME", x->target, "The named set")->required();
  sx->add_option("CMD", x->cmd, "The command and its arguments");
  sx->footer(
      "Runs CMD in every namespace of the set and exits with its status (128+N for signal N).\n\n"
      "Example:\n  nsm exec web -- hostname");
  sx->callback([x] { exec(*x); });
}

}  // namespace nsm
