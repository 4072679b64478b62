// SPDX-License-Identifier: MIT
// nsm destroy – stop the holder, unpin, and remove a named set (also a stale one).

#include <cerrno>
#include <csignal>
#include <cstring>
#include <memory>
#include <string>

#include <fcntl.h>
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fmt/format.h>

#include <nsfun/ns_fd.hpp>
#include <nsfun/persist.hpp>
#include <nsfun/pidfd.hpp>

#include "cli.hpp"
#include "named.hpp"

namespace nsm {
namespace {

struct Options {
  std::string name;
};

// Kills the holder `pid` only if it still is the process that holds `pidns` (a reused pid is
// left alone), and waits up to a few seconds for it to end. A holder already gone is fine.
void stop_holder(const std::string& name, pid_t pid, const nsfun::NsFd* pidns) {
  auto pidfd = nsfun::pidfd_open(pid);
  if (!pidfd) {
    return;  // gone: a stale entry
  }
  if (pidns == nullptr) {
    return;  // no pin to prove it is ours
  }
  auto theirs = nsfun::NsFd::open_pidfd(pidfd.value().ref(), nsfun::NsLink::pid);
  if (!theirs || !(theirs.value().identity() == pidns->identity())) {
    return;  // exited meanwhile, or a different process now has that pid
  }
  if (::syscall(SYS_pidfd_send_signal, pidfd.value().get(), SIGKILL, nullptr, 0) != 0 &&
      errno != ESRCH) {
    throw Failure(name, fmt::format("kill holder {}: {}", pid, std::strerror(errno)));
  }
  pollfd p{pidfd.value().get(), POLLIN, 0};
  (void)::poll(&p, 1, 5000);
}

void run(const Options& o) {
  const std::string command = "destroy";
  named::check_name(command, o.name);
  named::require_root(command);
  nsfun::UniqueFd run_dir = named::open_run_dir(false);
  nsfun::UniqueFd set = named::open_set_dir(run_dir, o.name);
  if (!set) {
    named::no_such_set(o.name);
  }
  auto meta = named::read_meta(set);

  // Pins that no longer open (a stale or half-made entry) are still removed below.
  nsfun::NsFdSet pins;
  for (nsfun::NsType t : nsfun::all_ns_types) {
    const std::string path = named::entry_path(set, nsfun::name(t));
    if (auto ns = nsfun::NsFd::open_path(path.c_str(), t)) {
      pins.insert(std::move(ns).value());
    }
  }

  if (meta && meta->holder) {
    stop_holder(o.name, *meta->holder, pins.get(nsfun::NsType::pid));
  }

  // /run/netns/NAME, only when it is our net namespace.
  if (const nsfun::NsFd* net = pins.get(nsfun::NsType::net)) {
    auto theirs = nsfun::netns::open(o.name);
    if (theirs && theirs.value().identity() == net->identity()) {
      if (auto r = nsfun::netns::remove(o.name); !r) {
        throw Failure(o.name,
                      fmt::format("{}/{}: {}", nsfun::netns::run_dir, o.name, why(r.error())));
      }
    }
  }
  pins = {};

  for (nsfun::NsType t : nsfun::all_ns_types) {
    const std::string path = named::entry_path(set, nsfun::name(t));
    if (auto r = nsfun::unpin(path.c_str());
        !r && r.error().code != std::errc::no_such_file_or_directory) {
      throw Failure(o.name, fmt::format("unpin {}: {}", nsfun::name(t), why(r.error())));
    }
  }
  if (::unlinkat(set.get(), named::meta_file, 0) != 0 && errno != ENOENT) {
    throw Failure(o.name, fmt::format("remove {}: {}", named::meta_file, std::strerror(errno)));
  }
  set = {};
  if (::unlinkat(run_dir.get(), o.name.c_str(), AT_REMOVEDIR) != 0) {
    throw Failure(o.name,
                  fmt::format("remove {}/{}: {}", named::run_dir, o.name, std::strerror(errno)));
  }
  run_dir = {};
  named::tidy_run_dir();
}

}  // namespace

void register_destroy(CLI::App& app) {
  auto o = std::make_shared<Options>();
  CLI::App* sub = app.add_subcommand("destroy", "Remove a named set of namespaces");
  sub->add_option("NAME", o->name, "The named set")->required();
  sub->footer(
      "Stops the holder of its pid namespace, unmounts every pin, removes /run/netns/NAME when\n"
      "it is the set's, and removes /run/nsm/NAME. A stale set (holder gone) is cleaned too.\n\n"
      "Example:\n  nsm destroy web");
  sub->callback([o] { run(*o); });
}

}  // namespace nsm
