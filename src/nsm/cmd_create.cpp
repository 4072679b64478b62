// SPDX-License-Identifier: MIT
// nsm create – a persistent named set of namespaces under /run/nsm/NAME.

#include <cerrno>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <nsfun/acquire.hpp>
#include <nsfun/ns_fd.hpp>
#include <nsfun/persist.hpp>
#include <nsfun/spawn.hpp>
#include <nsfun/user_map.hpp>

#include "cli.hpp"
#include "named.hpp"

namespace nsm {
namespace {

constexpr const char* default_types = "mnt,uts,ipc,pid,net,cgroup";

struct Options {
  std::string name;
  std::vector<std::string> types;
  bool map_root = false;
};

// Undo steps, run newest first unless commit() was called.
class Rollback {
 public:
  Rollback() = default;
  Rollback(const Rollback&) = delete;
  Rollback& operator=(const Rollback&) = delete;

  ~Rollback() {
    if (committed_) {
      return;
    }
    for (auto it = steps_.rbegin(); it != steps_.rend(); ++it) {
      (*it)();
    }
  }

  void add(std::function<void()> step) { steps_.push_back(std::move(step)); }

  void commit() { committed_ = true; }

 private:
  std::vector<std::function<void()>> steps_;
  bool committed_ = false;
};

void run(const Options& o) {
  const std::string command = "create";
  named::check_name(command, o.name);
  nsfun::NsTypeSet types =
      parse_types(command, o.types.empty() ? std::vector<std::string>{default_types} : o.types);
  if (o.map_root) {
    types.insert(nsfun::NsType::user);
  }
  const bool with_pid = types.contains(nsfun::NsType::pid);
  if (with_pid) {
    types.insert(nsfun::NsType::mnt);  // for the fresh /proc of the new pid namespace
  }
  named::require_root(command);

  if (named::open_set_dir(named::open_run_dir(false), o.name)) {
    throw Failure(o.name, "already exists");
  }
  const std::string netns_path = std::string(nsfun::netns::run_dir) + "/" + o.name;
  if (types.contains(nsfun::NsType::net)) {
    struct stat st {};

    if (::lstat(netns_path.c_str(), &st) == 0) {
      throw Failure(o.name, fmt::format("{} already exists", netns_path));
    }
  }

  // Declared before the rollback, which uses them (paths through /proc/self/fd).
  nsfun::UniqueFd run_dir = named::open_run_dir(true);
  nsfun::UniqueFd set;
  Rollback undo;
  undo.add([] { named::tidy_run_dir(); });
  {
    const mode_t old = ::umask(077);
    const int rc = ::mkdirat(run_dir.get(), o.name.c_str(), 0700);
    const int err = errno;
    ::umask(old);
    if (rc != 0) {
      throw Failure(o.name, err == EEXIST ? std::string("already exists") : std::strerror(err));
    }
  }
  const int dirfd = run_dir.get();
  const std::string name = o.name;
  undo.add([dirfd, name] { ::unlinkat(dirfd, name.c_str(), AT_REMOVEDIR); });
  set = named::open_set_dir(run_dir, o.name);
  if (!set) {
    throw Failure(o.name, "vanished while being created");
  }

  // Make the namespaces: a holder process for a pid namespace (it lives only while its init
  // does) or when maps must be written; acquire() otherwise.
  nsfun::Child holder;
  nsfun::NsFdSet fds;
  std::optional<nsfun::UserMap> map;
  if (o.map_root) {
    auto root = nsfun::UserMap::root_is(::getuid(), ::getgid());
    if (!root) {
      throw Failure(o.name, "map root: " + why(root.error()));
    }
    map = std::move(root).value();
  }
  auto make = [&] {
    if (with_pid || map) {
      nsfun::UniqueFd devnull = nsfun::UniqueFd::adopt(::open("/dev/null", O_RDWR | O_CLOEXEC));
      if (!devnull) {
        throw Failure("/dev/null", std::strerror(errno));
      }
      // spawn's hold: PID 1 of the pid namespace reaping its orphans, or (without one) a
      // short-lived owner of the fresh namespaces while they are pinned.
      nsfun::Command cmd = nsfun::Command::hold();
      cmd.namespaces(types).die_with_parent(false);
      for (int target = 0; target <= 2; ++target) {
        cmd.redirect(target, devnull.ref());
      }
      if (with_pid) {
        cmd.mount_proc();
      }
      if (map) {
        cmd.user_map(*map);
      }
      auto child = nsfun::spawn(cmd);
      if (!child) {
        throw Failure(o.name, "start holder: " + why(child.error()));
      }
      holder = std::move(child).value();  // kills and reaps an earlier attempt's holder
      auto opened = nsfun::NsFdSet::open(holder.pid(), types);
      if (!opened) {
        throw Failure(o.name, "open namespaces of the holder: " + why(opened.error()));
      }
      fds = std::move(opened).value();
    } else {
      auto acquired = nsfun::acquire(types);
      if (!acquired) {
        throw Failure(o.name, "create namespaces: " + why(acquired.error()));
      }
      fds = std::move(acquired).value();
    }
  };

  // The mount namespace is pinned first: the kernel (seen on 6.18, and with unshare(1) as well)
  // now and then refuses to bind a fresh mount namespace with EINVAL; a new one then usually
  // works, so the namespaces are made again a few times.
  cpu_set_t cpus_before;
  const bool have_cpus = ::sched_getaffinity(0, sizeof cpus_before, &cpus_before) == 0;
  for (int attempt = 1;; ++attempt) {
    if (attempt > 1 && have_cpus) {
      // Namespace ids come from per-CPU batches on recent kernels: try another CPU.
      int nth = attempt % CPU_COUNT(&cpus_before);
      for (std::size_t cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
        if (CPU_ISSET(cpu, &cpus_before) && nth-- == 0) {
          cpu_set_t one;
          CPU_ZERO(&one);
          CPU_SET(cpu, &one);
          (void)::sched_setaffinity(0, sizeof one, &one);
          break;
        }
      }
    }
    make();
    if (!types.contains(nsfun::NsType::mnt)) {
      break;
    }
    const std::string path = named::entry_path(set, "mnt");
    auto r = nsfun::pin(*fds.get(nsfun::NsType::mnt), path.c_str());
    if (r) {
      undo.add([path] { (void)nsfun::unpin(path.c_str()); });
      break;
    }
    if (attempt == 16 || r.error().code != std::errc::invalid_argument) {
      throw Failure(o.name, "pin mnt: " + why(r.error()));
    }
  }

  if (have_cpus) {
    (void)::sched_setaffinity(0, sizeof cpus_before, &cpus_before);
  }

  for (nsfun::NsType t : types - nsfun::NsTypeSet{nsfun::NsType::mnt}) {
    const nsfun::NsFd* ns = fds.get(t);
    if (ns == nullptr) {
      throw Failure(o.name, fmt::format("no {} namespace was made", nsfun::name(t)));
    }
    const std::string path = named::entry_path(set, nsfun::name(t));
    if (auto r = nsfun::pin(*ns, path.c_str()); !r) {
      throw Failure(o.name, fmt::format("pin {}: {}", nsfun::name(t), why(r.error())));
    }
    undo.add([path] { (void)nsfun::unpin(path.c_str()); });
  }

  if (nsfun::NsFd net = fds.take(nsfun::NsType::net)) {
    auto typed = nsfun::NetNs::from(std::move(net));
    if (!typed) {
      throw Failure(o.name, why(typed.error()));
    }
    if (auto r = nsfun::netns::attach(o.name, typed.value()); !r) {
      throw Failure(o.name, fmt::format("{}: {}", netns_path, why(r.error())));
    }
    undo.add([name] { (void)nsfun::netns::remove(name); });
  }

  named::Meta meta;
  meta.name = o.name;
  meta.types = types;
  meta.created = named::now_iso8601();
  meta.creator = ::getuid();
  if (with_pid) {
    meta.holder = holder.pid();
  }
  undo.add([&set] { ::unlinkat(set.get(), named::meta_file, 0); });
  named::write_meta(set, meta);

  if (with_pid) {
    holder.detach();
  } else if (holder) {
    (void)holder.kill();
    (void)holder.wait();
  }
  undo.commit();
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
                "Add a user namespace in which root is the caller");
  sub->footer(
      "The namespaces are kept by bind mounts in /run/nsm/NAME/ (one per type, plus meta.json).\n"
      "A pid namespace gets a holder process as its PID 1 and a fresh /proc in the new mount\n"
      "namespace. A net namespace is also visible to 'ip netns' as NAME. Needs root.\n\n"
      "Example:\n  nsm create web --type net,uts,ipc,pid");
  sub->callback([o] { run(*o); });
}

}  // namespace nsm
