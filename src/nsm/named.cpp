// SPDX-License-Identifier: MIT
// nsm – named namespace sets: the CLI glue over nsfun::NamedSet.

#include "named.hpp"

#include <string>

#include <unistd.h>

#include <fmt/format.h>

namespace nsm::named {

bool valid_name(std::string_view name) noexcept {
  return nsfun::NamedSet::is_valid_name(name);
}

void check_name(const std::string& command, const std::string& name) {
  if (!valid_name(name)) {
    throw UsageError(command, fmt::format("invalid name '{}' (1 to 64 of A-Z a-z 0-9 _ . -, "
                                          "not . or ..)",
                                          name));
  }
}

void require_root(const std::string& command) {
  if (::geteuid() != 0) {
    throw Failure(command, "needs root (CAP_SYS_ADMIN)");
  }
}

void no_such_set(const std::string& name) {
  throw Failure(name, "no such named namespace set");
}

void fail_set(const std::string& name, const nsfun::error& e) {
  // The set itself ("already exists"): its reason is the whole story.
  if (e.object() == name && !e.reason().empty() && e.context().empty()) {
    throw Failure(name, std::string(e.reason()));
  }
  throw Failure(name, why(e));
}

std::vector<SetView> list_sets() {
  auto sets = nsfun::NamedSet::list(run_dir);
  if (!sets) {
    return {};
  }
  return std::move(sets).value();
}

nsfun::NsFdSet open_for_enter(const std::string& command,
                              const std::string& name,
                              std::optional<nsfun::NsTypeSet> types) {
  check_name(command, name);
  require_root(command);
  auto set = nsfun::NamedSet::open(name, run_dir);
  if (!set && set.error() == std::errc::no_such_file_or_directory) {
    // Not ours: a name made by `ip netns add` is a set of its net namespace.
    if (auto netns = nsfun::NamedSet::open_netns(name)) {
      set = std::move(netns);
    } else if (netns.error() != std::errc::no_such_file_or_directory) {
      fail_set(name, netns.error());
    }
  }
  if (!set) {
    fail_set(name, set.error());
  }
  nsfun::NsFdSet pins = std::move(set).value().pins();
  if (types) {
    for (nsfun::NsType t : *types) {
      if (pins.get(t) == nullptr) {
        throw Failure(name, fmt::format("has no {} namespace", nsfun::name(t)));
      }
    }
    for (nsfun::NsType t : pins.types() - *types) {
      (void)pins.take(t);
    }
  }
  return pins;
}

}  // namespace nsm::named
