// SPDX-License-Identifier: MIT
// nsm destroy – stop the holder, unpin, and remove a named set (also a stale one).

#include <memory>
#include <string>

#include <fmt/format.h>

#include <nsfun/named_set.hpp>
#include <nsfun/persist.hpp>

#include "cli.hpp"
#include "named.hpp"

namespace nsm {
namespace {

struct Options {
  std::string name;
};

void run(const Options& o) {
  const std::string command = "destroy";
  named::check_name(command, o.name);
  named::require_root(command);
  if (auto r = nsfun::NamedSet::destroy(o.name, named::run_dir); !r) {
    if (r.error() == std::errc::no_such_file_or_directory && nsfun::NamedSet::open_netns(o.name)) {
      throw Failure(o.name, fmt::format("no such named namespace set ({}/{} was made by ip netns "
                                        "add: remove it with 'ip netns del {}')",
                                        nsfun::netns::run_dir, o.name, o.name));
    }
    named::fail_set(o.name, r.error());
  }
}

}  // namespace

void register_destroy(CLI::App& app) {
  auto o = std::make_shared<Options>();
  CLI::App* sub = app.add_subcommand("destroy", "Remove a named set of namespaces");
  sub->add_option("NAME", o->name, "The named set")->required();
  sub->footer(
      "Stops the holder of its pid namespace (only when it is proven to be PID 1 of the set's\n"
      "own pid namespace), unmounts every pin, removes /run/netns/NAME when it is the set's, and\n"
      "removes /run/nsm/NAME. A stale set (holder gone) is cleaned too. A name made by\n"
      "'ip netns add' is not a set: remove it with 'ip netns del'.\n\n"
      "Example:\n  nsm destroy web");
  sub->callback([o] { run(*o); });
}

}  // namespace nsm
