// SPDX-License-Identifier: MIT
// nsm create – a persistent named set of namespaces under /run/nsm/NAME (nsfun::NamedSet).

#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <nsfun/named_set.hpp>

#include "cli.hpp"
#include "named.hpp"

namespace nsm {
namespace {

constexpr const char* default_types = "mnt,uts,ipc,pid,net,cgroup";

struct Options {
  std::string name;
  std::vector<std::string> types;
  bool map_root = false;
  bool no_map = false;
};

void run(const Options& o) {
  const std::string command = "create";
  named::check_name(command, o.name);
  if (o.map_root && o.no_map) {
    throw UsageError(command, "--map-root-user and --no-map exclude each other");
  }
  nsfun::NamedSetOptions options;
  options.types =
      parse_types(command, o.types.empty() ? std::vector<std::string>{default_types} : o.types);
  if (o.map_root) {
    options.types.insert(nsfun::NsType::user);
  }
  options.map_user = !o.no_map;
  options.base = named::run_dir;
  named::require_root(command);

  auto set = nsfun::NamedSet::create(o.name, options);
  if (!set) {
    named::fail_set(o.name, set.error());
  }
}

}  // namespace

void register_create(CLI::App& app) {
  auto o = std::make_shared<Options>();
  CLI::App* sub = app.add_subcommand("create", "Create a persistent named set of namespaces");
  sub->add_option("NAME", o->name, "Name of the set (A-Z a-z 0-9 _ . -, up to 64)")->required();
  sub->add_option(
         "-t,--type", o->types,
         fmt::format("Namespace types, comma-separated, or all (default {})", default_types))
      ->allow_extra_args(false);
  sub->add_flag("-r,--map-root-user", o->map_root,
                "Add a user namespace in which root is the caller (the default map for any "
                "user namespace)");
  sub->add_flag("--no-map", o->no_map,
                "Leave a new user namespace without a uid/gid map (everyone in it is nobody)");
  sub->footer(
      "The namespaces are kept by bind mounts in /run/nsm/NAME/ (one per type, plus meta.json).\n"
      "A pid namespace gets a holder process as its PID 1 and a fresh /proc in the new mount\n"
      "namespace. A user namespace maps the caller to root unless --no-map is given. A net\n"
      "namespace is also visible to 'ip netns' as NAME (so NAME must not be in /run/netns\n"
      "yet). Needs root.\n\n"
      "Example:\n  nsm create web --type net,uts,ipc,pid");
  sub->callback([o] { run(*o); });
}

}  // namespace nsm
