// SPDX-License-Identifier: MIT
// nsfun tests – named_set.hpp: NamedSet create/open/inspect/list/destroy and Pin, against the
// real kernel, in a private base directory, with hostile state (symbolic links, other owners,
// foreign holders, FIFOs) and a count of fds, mounts and processes before and after.
//
// Every case works in a forked child that first made a private mount namespace with its own
// tmpfs on /run (nsfun::test::private_run()), so no pin, set or /run/netns entry reaches the host.

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <nsfun/acquire.hpp>
#include <nsfun/enter.hpp>
#include <nsfun/named_set.hpp>
#include <nsfun/ns_fd.hpp>
#include <nsfun/persist.hpp>
#include <nsfun/pidfd.hpp>
#include <nsfun/spawn.hpp>

#include "test_support.hpp"

namespace {

namespace t = nsfun::test;
using nsfun::NamedSet;
using nsfun::NsType;

constexpr const char* base = "/run/nsfun-test-sets";

bool exists(const std::string& path) {
  struct stat st {};

  return ::lstat(path.c_str(), &st) == 0;
}

bool alive(pid_t pid) {
  return ::waitpid(pid, nullptr, WNOHANG) == 0;
}

void kill_and_reap(pid_t pid) {
  if (pid > 0) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
}

nsfun::NamedSetOptions options(const char* types) {
  nsfun::NamedSetOptions o;
  o.types = nsfun::NsTypeSet::parse(types).value();
  o.base = base;
  o.netns = false;
  return o;
}

bool has_problem(const nsfun::NamedSetInfo& v, const std::string& text) {
  for (const std::string& p : v.problems) {
    if (p == text) {
      return true;
    }
  }
  std::fprintf(stderr, "problems of %s:", v.name.c_str());
  for (const std::string& p : v.problems) {
    std::fprintf(stderr, " [%s]", p.c_str());
  }
  std::fprintf(stderr, "; wanted [%s]\n", text.c_str());
  return false;
}

// Replaces meta.json of a set (as another program might).
bool write_file(const std::string& path, const std::string& text) {
  ::unlink(path.c_str());
  std::ofstream out(path);
  out << text;
  return static_cast<bool>(out);
}

const bool can_run = t::can_private_run() && t::can_unshare({NsType::mnt, NsType::uts, NsType::ipc,
                                                             NsType::pid, NsType::net});

}  // namespace

TEST_SUITE("named_set") {
  TEST_CASE("create, open, inspect, list and destroy leave no fd, mount or process behind") {
    NSFUN_REQUIRE(can_run, "needs root and private mounts");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(nsfun::test::private_run_reaper() == 0);
      const std::size_t fds = t::open_fd_count();
      const std::size_t mounts = nsfun::test::mount_count();
      const std::string a = t::unique_name();
      const std::string b = t::unique_name();
      {
        auto made = NamedSet::create(a, options("uts,ipc,net"));
        NSFUN_EXPECT_OK(made);
        NSFUN_EXPECT(made.value().name() == a);
        NSFUN_EXPECT(made.value().pins().types() == nsfun::NsTypeSet::parse("uts,ipc,net").value());
        NSFUN_EXPECT(!made.value().meta().holder);
        auto pid_set = NamedSet::create(b, options("pid,uts"));
        NSFUN_EXPECT_OK(pid_set);
        NSFUN_EXPECT(pid_set.value().meta().holder.has_value());
        NSFUN_EXPECT(pid_set.value().meta().types ==
                     nsfun::NsTypeSet::parse("mnt,uts,pid").value());
        // The base was made 0700 and is a private mount.
        struct stat st {};

        NSFUN_EXPECT(::stat(base, &st) == 0 && (st.st_mode & 07777) == 0700);
        NSFUN_EXPECT(nsfun::test::mount_count() > mounts);

        // open gives the same namespaces as create did.
        auto opened = NamedSet::open(a, base);
        NSFUN_EXPECT_OK(opened);
        for (NsType type : {NsType::uts, NsType::ipc, NsType::net}) {
          NSFUN_EXPECT(opened.value().pins().get(type)->identity() ==
                       made.value().pins().get(type)->identity());
        }
        NSFUN_EXPECT(opened.value().meta().created == made.value().meta().created);
        NSFUN_EXPECT(opened.value().meta().creator == ::getuid());

        // The holder is PID 1 of the pinned pid namespace.
        const pid_t holder = *pid_set.value().meta().holder;
        auto holder_pidns = nsfun::NsFd::open(holder, NsType::pid);
        NSFUN_EXPECT_OK(holder_pidns);
        NSFUN_EXPECT(holder_pidns.value().identity() ==
                     pid_set.value().pins().get(NsType::pid)->identity());
        const std::string status = t::read_text("/proc/" + std::to_string(holder) + "/status");
        NSFUN_EXPECT(status.find("\nNSpid:\t" + std::to_string(holder) + "\t1\n") !=
                     std::string::npos);

        auto list = NamedSet::list(base);
        NSFUN_EXPECT_OK(list);
        NSFUN_EXPECT(list.value().size() == 2);
        const bool a_first = a < b;
        const auto& va = list.value()[a_first ? 0 : 1];
        const auto& vb = list.value()[a_first ? 1 : 0];
        NSFUN_EXPECT(va.name == a && va.running() && va.pins.size() == 3);
        NSFUN_EXPECT(vb.name == b && vb.running() && vb.meta && vb.meta->holder == holder);

        auto info = NamedSet::inspect(b, base);
        NSFUN_EXPECT_OK(info);
        NSFUN_EXPECT(std::string(info.value().state()) == "running");
        for (const auto& pin : info.value().pins) {
          NSFUN_EXPECT(pin.pinned);
          NSFUN_EXPECT(pin.ns == pid_set.value().pins().get(pin.type)->identity());
        }

        NSFUN_EXPECT_OK(NamedSet::destroy(a, base));
        NSFUN_EXPECT_OK(NamedSet::destroy(b, base));
        NSFUN_EXPECT(::waitpid(holder, nullptr, 0) == holder);
        auto again = NamedSet::open(a, base);
        NSFUN_EXPECT(!again && again.error() == std::errc::no_such_file_or_directory);
        NSFUN_EXPECT(again.error().reason() == "no such named namespace set");
      }
      NSFUN_EXPECT(!exists(base));
      NSFUN_EXPECT(t::open_fd_count() == fds);
      NSFUN_EXPECT(nsfun::test::mount_count() == mounts);
      NSFUN_EXPECT(nsfun::test::no_children());
      auto none = NamedSet::list(base);
      NSFUN_EXPECT(none && none.value().empty());
      return 0;
    });
  }

  TEST_CASE("a failed create leaves nothing: existing name, bad name, no types, ip netns name") {
    NSFUN_REQUIRE(can_run, "needs root and private mounts");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(nsfun::test::private_run_reaper() == 0);
      const std::size_t fds = t::open_fd_count();
      const std::string name = t::unique_name();
      for (const char* bad : {"", ".", "..", "a/b", "a b"}) {
        auto r = NamedSet::create(bad, options("uts"));
        NSFUN_EXPECT(!r && r.error() == nsfun::errc::invalid_name);
      }
      nsfun::NamedSetOptions no_types = options("uts");
      no_types.types = {};
      auto r = NamedSet::create(name, no_types);
      NSFUN_EXPECT(!r && r.error() == nsfun::errc::empty_namespace_type_list);
      NSFUN_EXPECT(!exists(base));

      auto first = NamedSet::create(name, options("pid,uts"));
      NSFUN_EXPECT_OK(first);
      const pid_t first_holder = *first.value().meta().holder;
      first.value() = NamedSet();  // the set's fds closed
      const std::size_t with_set = nsfun::test::mount_count();
      auto twice = NamedSet::create(name, options("pid,uts"));
      NSFUN_EXPECT(!twice && twice.error() == std::errc::file_exists);
      NSFUN_EXPECT(twice.error().reason() == "already exists");
      NSFUN_EXPECT(nsfun::test::mount_count() == with_set);
      NSFUN_EXPECT_OK(NamedSet::destroy(name, base));
      NSFUN_EXPECT(::waitpid(first_holder, nullptr, 0) == first_holder);

      // A net namespace whose name `ip netns` already has: refused before anything is made.
      if (t::have_program("ip")) {
        NSFUN_EXPECT(t::run("ip netns add " + name).status == 0);
        nsfun::NamedSetOptions with_netns = options("pid,net");
        with_netns.netns = true;
        auto taken = NamedSet::create(name, with_netns);
        NSFUN_EXPECT(!taken && taken.error() == std::errc::file_exists);
        NSFUN_EXPECT(taken.error().reason() ==
                     "exists in /run/netns (made by ip netns add); choose another name or 'ip "
                     "netns del " +
                         name + "'");
        NSFUN_EXPECT(!exists(std::string(base) + "/" + name));
        NSFUN_EXPECT(t::run("ip netns del " + name).status == 0);
      }
      NSFUN_EXPECT(!exists(base));
      NSFUN_EXPECT(t::open_fd_count() == fds);
      NSFUN_EXPECT(nsfun::test::no_children());
      return 0;
    });
  }

  TEST_CASE("a create that fails after the holder started and the pins were made undoes it all") {
    NSFUN_REQUIRE(can_run, "needs root and private mounts");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(nsfun::test::private_run_reaper() == 0);
      // /run/netns read-only: the last step (attaching the net namespace there) fails.
      NSFUN_EXPECT(::mkdir("/run/netns", 0755) == 0);
      NSFUN_EXPECT(::mount("tmpfs", "/run/netns", "tmpfs", MS_RDONLY, nullptr) == 0);
      const std::size_t fds = t::open_fd_count();
      const std::size_t mounts = nsfun::test::mount_count();
      const std::string name = t::unique_name();
      nsfun::NamedSetOptions o = options("pid,uts,ipc,net");
      o.netns = true;
      auto r = NamedSet::create(name, o);
      NSFUN_EXPECT(!r && r.error() == std::errc::read_only_file_system);
      NSFUN_EXPECT(!exists(base));
      NSFUN_EXPECT(t::open_fd_count() == fds);
      NSFUN_EXPECT(nsfun::test::mount_count() == mounts);
      NSFUN_EXPECT(nsfun::test::no_children());
      return 0;
    });
  }

  TEST_CASE("a user namespace maps the caller to root by default, and to nobody without a map") {
    NSFUN_REQUIRE(can_run && t::can_unshare({NsType::user}), "needs user namespaces");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(nsfun::test::private_run_reaper() == 0);
      const std::string mapped = t::unique_name();
      const std::string bare = t::unique_name();
      NSFUN_EXPECT_OK(NamedSet::create(mapped, options("user,uts")));
      nsfun::NamedSetOptions no_map = options("user,uts");
      no_map.map_user = false;
      NSFUN_EXPECT_OK(NamedSet::create(bare, no_map));
      auto in_set = [](const std::string& name, bool want_root) {
        return t::in_child([&] {
          auto set = NamedSet::open(name, base);
          NSFUN_EXPECT_OK(set);
          NSFUN_EXPECT_OK(nsfun::enter(set.value().pins()));
          // setns gives this process every capability in the user namespace; a program it
          // runs keeps them only as root there (a mapped uid 0).
          if (want_root) {
            NSFUN_EXPECT(::getuid() == 0 && ::geteuid() == 0);
            NSFUN_EXPECT(t::run("hostname foo && id -u").out == "0\n");
            NSFUN_EXPECT(t::run("hostname").out == "foo\n");
          } else {
            NSFUN_EXPECT(::getuid() == 65534);
            NSFUN_EXPECT(t::run("hostname foo 2>/dev/null").status != 0);
          }
          return 0;
        });
      };
      NSFUN_EXPECT(in_set(mapped, true) == 0);
      NSFUN_EXPECT(in_set(bare, false) == 0);
      NSFUN_EXPECT_OK(NamedSet::destroy(mapped, base));
      NSFUN_EXPECT_OK(NamedSet::destroy(bare, base));
      NSFUN_EXPECT(nsfun::test::no_children());
      return 0;
    });
  }

  TEST_CASE("a symbolic link in place of a pin is never followed") {
    NSFUN_REQUIRE(can_run, "needs root and private mounts");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(nsfun::test::private_run_reaper() == 0);
      const std::string name = t::unique_name();
      NSFUN_EXPECT_OK(NamedSet::create(name, options("uts,ipc")));
      const std::string pin = std::string(base) + "/" + name + "/ipc";
      NSFUN_EXPECT_OK(nsfun::unpin(pin.c_str()));
      NSFUN_EXPECT(::symlink("/proc/self/ns/ipc", pin.c_str()) == 0);
      auto set = NamedSet::open(name, base);
      NSFUN_EXPECT(!set && set.error() == nsfun::errc::not_a_namespace);
      auto info = NamedSet::inspect(name, base);
      NSFUN_EXPECT_OK(info);
      NSFUN_EXPECT(!info.value().running());
      NSFUN_EXPECT(has_problem(info.value(), "ipc: a symbolic link, not a pin; not followed"));
      NSFUN_EXPECT(has_problem(info.value(), "not pinned: ipc"));
      // destroy removes the link, not what it points to.
      NSFUN_EXPECT_OK(NamedSet::destroy(name, base));
      NSFUN_EXPECT(!exists(base));
      NSFUN_EXPECT(exists("/proc/self/ns/ipc"));

      // A symbolic link in place of the set's directory, or of the base.
      NSFUN_EXPECT(::mkdir(base, 0700) == 0);
      NSFUN_EXPECT(::mkdir("/run/elsewhere", 0700) == 0);
      NSFUN_EXPECT(::symlink("/run/elsewhere", (std::string(base) + "/" + name).c_str()) == 0);
      auto linked = NamedSet::open(name, base);
      NSFUN_EXPECT(!linked && linked.error() == std::errc::operation_not_permitted);
      NSFUN_EXPECT(linked.error().reason() == "a symbolic link; refusing to follow it");
      auto listed = NamedSet::list(base);
      NSFUN_EXPECT_OK(listed);
      NSFUN_EXPECT(listed.value().size() == 1 && !listed.value()[0].running());
      NSFUN_EXPECT(!NamedSet::destroy(name, base));
      NSFUN_EXPECT(exists("/run/elsewhere"));
      NSFUN_EXPECT(::unlink((std::string(base) + "/" + name).c_str()) == 0);
      NSFUN_EXPECT(::rmdir(base) == 0);
      NSFUN_EXPECT(::symlink("/run/elsewhere", base) == 0);
      auto through_link = NamedSet::create(name, options("uts"));
      NSFUN_EXPECT(!through_link && through_link.error() == std::errc::operation_not_permitted);
      NSFUN_EXPECT(through_link.error().reason() == "a symbolic link; refusing to follow it");
      NSFUN_EXPECT(::rmdir("/run/elsewhere") == 0);  // still empty
      return 0;
    });
  }

  TEST_CASE("the base directory: root's 0755 is tightened, unsafe ones are refused and named") {
    NSFUN_REQUIRE(can_run, "needs root and private mounts");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(nsfun::test::private_run_reaper() == 0);
      const std::string name = t::unique_name();
      // As the bash nsm makes it: root-owned, 0755.
      NSFUN_EXPECT(::mkdir(base, 0755) == 0 && ::chmod(base, 0755) == 0);
      NSFUN_EXPECT_OK(NamedSet::create(name, options("uts")));

      struct stat st {};

      NSFUN_EXPECT(::stat(base, &st) == 0 && (st.st_mode & 07777) == 0700);
      NSFUN_EXPECT_OK(NamedSet::destroy(name, base));

      auto refused = [&](mode_t mode, uid_t owner, const std::string& reason) {
        ::mkdir(base, 0700);
        if (::chmod(base, mode) != 0 || ::chown(base, owner, 0) != 0) {
          return false;
        }
        auto r = NamedSet::create(name, options("uts"));
        const bool ok = !r && r.error() == std::errc::operation_not_permitted &&
                        r.error().reason() == reason && !exists(std::string(base) + "/" + name);
        if (!ok) {
          std::fprintf(stderr, "mode %o owner %u: got: %s\n", mode, owner,
                       r ? "success" : r.error().message().c_str());
        }
        auto l = NamedSet::list(base);
        if (l) {
          std::fprintf(stderr, "list of an unsafe base succeeded\n");
        }
        return ok && !l && ::rmdir(base) == 0;
      };
      NSFUN_EXPECT(refused(0777, 0, "world-writable (mode 0777); refusing to use it"));
      NSFUN_EXPECT(refused(0770, 0, "group-writable (mode 0770); refusing to use it"));
      NSFUN_EXPECT(refused(0700, 1000, "owned by uid 1000, not by uid 0; refusing to use it"));
      NSFUN_EXPECT(::close(::open(base, O_CREAT | O_WRONLY | O_CLOEXEC, 0600)) == 0);
      auto file = NamedSet::create(name, options("uts"));
      NSFUN_EXPECT(!file && file.error().reason() == "not a directory; refusing to use it");
      NSFUN_EXPECT(::unlink(base) == 0);
      return 0;
    });
  }

  TEST_CASE("a set directory owned by another uid is listed as stale and never used") {
    NSFUN_REQUIRE(can_run, "needs root and private mounts");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(nsfun::test::private_run_reaper() == 0);
      const std::string name = t::unique_name();
      const std::string dir = std::string(base) + "/" + name;
      NSFUN_EXPECT(::mkdir(base, 0700) == 0 && ::mkdir(dir.c_str(), 0700) == 0);
      NSFUN_EXPECT(::chown(dir.c_str(), 1000, 1000) == 0);
      auto set = NamedSet::open(name, base);
      NSFUN_EXPECT(!set && set.error() == std::errc::operation_not_permitted);
      NSFUN_EXPECT(set.error().reason() == "owned by uid 1000, not by uid 0; refusing to use it");
      auto list = NamedSet::list(base);
      NSFUN_EXPECT_OK(list);
      NSFUN_EXPECT(list.value().size() == 1 && list.value()[0].name == name);
      NSFUN_EXPECT(
          has_problem(list.value()[0], "owned by uid 1000, not by uid 0; refusing to use it"));
      NSFUN_EXPECT(!NamedSet::destroy(name, base));
      NSFUN_EXPECT(exists(dir));
      auto create = NamedSet::create(name, options("uts"));
      NSFUN_EXPECT(!create && create.error().reason() == "already exists");
      // An empty directory of our own (a create killed half-way) is stale, and destroy cleans it.
      NSFUN_EXPECT(::rmdir(dir.c_str()) == 0 && ::mkdir(dir.c_str(), 0700) == 0);
      auto half = NamedSet::inspect(name, base);
      NSFUN_EXPECT_OK(half);
      NSFUN_EXPECT(has_problem(half.value(), "meta.json is missing"));
      NSFUN_EXPECT_OK(NamedSet::destroy(name, base));
      NSFUN_EXPECT(!exists(base));
      return 0;
    });
  }

  TEST_CASE("a holder that is not the set's PID 1 is never killed") {
    NSFUN_REQUIRE(can_run, "needs root and private mounts");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(nsfun::test::private_run_reaper() == 0);
      const std::string name = t::unique_name();
      const std::string dir = std::string(base) + "/" + name;
      auto set = NamedSet::create(name, options("pid,uts"));
      NSFUN_EXPECT_OK(set);
      const pid_t holder = *set.value().meta().holder;
      set.value() = NamedSet();  // our fds closed: only the pins hold the namespaces
      // A bystander of ours, and meta.json naming it as the holder.
      auto sleeper = nsfun::spawn(nsfun::Command("sleep").arg("100"));
      NSFUN_EXPECT_OK(sleeper);
      const pid_t other = sleeper.value().pid();
      std::string meta = t::read_text(dir + "/meta.json");
      const std::string old = "\"holder\": " + std::to_string(holder);
      NSFUN_EXPECT(meta.find(old) != std::string::npos);
      meta.replace(meta.find(old), old.size(), "\"holder\": " + std::to_string(other));
      NSFUN_EXPECT(write_file(dir + "/meta.json", meta));
      auto info = NamedSet::inspect(name, base);
      NSFUN_EXPECT_OK(info);
      NSFUN_EXPECT(has_problem(
          info.value(), "holder " + std::to_string(other) + " is not in the set's pid namespace"));

      // The pid pin replaced by a bind mount of our own pid namespace (the host's, to a
      // process on the host): the holder must still not be killed.
      const std::string pid_pin = dir + "/pid";
      NSFUN_EXPECT_OK(nsfun::unpin(pid_pin.c_str()));
      auto own = nsfun::NsFd::current(NsType::pid);
      NSFUN_EXPECT_OK(own);
      NSFUN_EXPECT_OK(nsfun::pin(own.value(), pid_pin.c_str()));
      auto foreign = NamedSet::inspect(name, base);
      NSFUN_EXPECT_OK(foreign);
      NSFUN_EXPECT(has_problem(
          foreign.value(),
          "the pinned pid namespace is the caller's own or an ancestor, not the set's"));
      NSFUN_EXPECT_OK(NamedSet::destroy(name, base));
      NSFUN_EXPECT(!exists(base));
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      NSFUN_EXPECT(alive(other));
      // The real holder was not named: it is ours to stop (it holds nothing any more).
      NSFUN_EXPECT(alive(holder));
      kill_and_reap(holder);
      NSFUN_EXPECT_OK(sleeper.value().kill());
      (void)sleeper.value().wait();
      NSFUN_EXPECT(nsfun::test::no_children());
      return 0;
    });
  }

  TEST_CASE("destroy after the holder died, and a FIFO or a huge meta.json, do not hang") {
    NSFUN_REQUIRE(can_run, "needs root and private mounts");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(nsfun::test::private_run_reaper() == 0);
      const std::size_t fds = t::open_fd_count();
      const std::size_t mounts = nsfun::test::mount_count();
      const std::string name = t::unique_name();
      const std::string dir = std::string(base) + "/" + name;
      {
        auto set = NamedSet::create(name, options("pid,uts,ipc"));
        NSFUN_EXPECT_OK(set);
        const pid_t holder = *set.value().meta().holder;
        kill_and_reap(holder);
        auto info = NamedSet::inspect(name, base);
        NSFUN_EXPECT_OK(info);
        NSFUN_EXPECT(std::string(info.value().state()) == "stale");
        NSFUN_EXPECT(has_problem(info.value(), "holder " + std::to_string(holder) + " is gone"));

        NSFUN_EXPECT(::unlink((dir + "/meta.json").c_str()) == 0);
        NSFUN_EXPECT(::mkfifo((dir + "/meta.json").c_str(), 0600) == 0);
        auto fifo = NamedSet::inspect(name, base);
        NSFUN_EXPECT_OK(fifo);
        NSFUN_EXPECT(has_problem(fifo.value(), "meta.json: not a regular file"));
        NSFUN_EXPECT(::unlink((dir + "/meta.json").c_str()) == 0);
        NSFUN_EXPECT(write_file(dir + "/meta.json", std::string(100000, ' ')));
        auto huge = NamedSet::inspect(name, base);
        NSFUN_EXPECT_OK(huge);
        NSFUN_EXPECT(has_problem(huge.value(), "meta.json: larger than 4096 bytes"));
        NSFUN_EXPECT(write_file(dir + "/meta.json",
                                R"({"name": "x", "types": ["uts"], "holder": 4294967297})"));
        auto range = NamedSet::inspect(name, base);
        NSFUN_EXPECT_OK(range);
        NSFUN_EXPECT(has_problem(range.value(), "meta.json: \"holder\" is not a pid or null"));
        NSFUN_EXPECT_OK(NamedSet::destroy(name, base));
      }
      NSFUN_EXPECT(!exists(base));
      NSFUN_EXPECT(t::open_fd_count() == fds);
      NSFUN_EXPECT(nsfun::test::mount_count() == mounts);
      NSFUN_EXPECT(nsfun::test::no_children());
      return 0;
    });
  }

  TEST_CASE("ip netns: the set's net namespace is ip netns NAME, stale after ip netns del") {
    NSFUN_REQUIRE(can_run && t::have_program("ip"), "needs root, private mounts and ip");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(nsfun::test::private_run_reaper() == 0);
      const std::string name = t::unique_name();
      nsfun::NamedSetOptions o = options("net,uts");
      o.netns = true;
      auto set = NamedSet::create(name, o);
      NSFUN_EXPECT_OK(set);
      NSFUN_EXPECT(set.value().meta().netns);
      const std::string ip_inode =
          t::run("ip netns exec " + name + " stat -L -c %i /proc/self/ns/net").out;
      NSFUN_EXPECT(ip_inode ==
                   std::to_string(set.value().pins().get(NsType::net)->identity().ino()) + "\n");
      NSFUN_EXPECT(NamedSet::inspect(name, base).value().running());
      NSFUN_EXPECT(t::run("ip netns del " + name).status == 0);
      auto info = NamedSet::inspect(name, base);
      NSFUN_EXPECT_OK(info);
      NSFUN_EXPECT(
          has_problem(info.value(), "net: /run/netns/" + name + " is gone (ip netns del?)"));
      NSFUN_EXPECT_OK(NamedSet::destroy(name, base));

      // A name made by `ip netns add` opens as a net-only set.
      NSFUN_EXPECT(t::run("ip netns add " + name).status == 0);
      auto netns = NamedSet::open_netns(name);
      NSFUN_EXPECT_OK(netns);
      NSFUN_EXPECT(netns.value().pins().types() == nsfun::NsTypeSet{NsType::net});
      auto ip_view = NamedSet::inspect_netns(name);
      NSFUN_EXPECT_OK(ip_view);
      NSFUN_EXPECT(ip_view.value().from_netns && ip_view.value().running());
      NSFUN_EXPECT(ip_view.value().pins.at(0).ns ==
                   netns.value().pins().get(NsType::net)->identity());
      NSFUN_EXPECT(t::run("ip netns del " + name).status == 0);
      auto gone = NamedSet::open_netns(name);
      NSFUN_EXPECT(!gone && gone.error() == std::errc::no_such_file_or_directory);
      NSFUN_EXPECT(nsfun::test::no_children());
      return 0;
    });
  }
}

TEST_SUITE("named_set: issue 17") {
  TEST_CASE("issue 17 defect 4: destroy stops the real holder whatever meta.json says of it") {
    NSFUN_REQUIRE(can_run, "needs root and private mounts");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(nsfun::test::private_run_reaper() == 0);
      auto sleeper = nsfun::spawn(nsfun::Command("sleep").arg("100"));
      NSFUN_EXPECT_OK(sleeper);
      const pid_t other = sleeper.value().pid();
      const std::string name = t::unique_name();
      const std::string meta_path = std::string(base) + "/" + name + "/meta.json";
      // meta.json with the holder as null, as a bystander's pid, and missing (a create killed
      // before it wrote it): the PID 1 of the pinned pid namespace is found and stopped anyway.
      for (int tamper = 0; tamper < 3; ++tamper) {
        auto set = NamedSet::create(name, options("pid,uts"));
        NSFUN_EXPECT_OK(set);
        const pid_t holder = *set.value().meta().holder;
        set.value() = NamedSet();
        std::string meta = t::read_text(meta_path);
        const std::string field = "\"holder\": " + std::to_string(holder);
        NSFUN_EXPECT(meta.find(field) != std::string::npos);
        if (tamper < 2) {
          meta.replace(meta.find(field), field.size(),
                       tamper == 0 ? "\"holder\": null" : "\"holder\": " + std::to_string(other));
          NSFUN_EXPECT(write_file(meta_path, meta));
        } else {
          NSFUN_EXPECT(::unlink(meta_path.c_str()) == 0);
        }
        NSFUN_EXPECT_OK(NamedSet::destroy(name, base));
        NSFUN_EXPECT(::waitpid(holder, nullptr, 0) == holder);  // killed: it is reaped at once
        NSFUN_EXPECT(alive(other));
        NSFUN_EXPECT(!exists(base));
      }
      NSFUN_EXPECT_OK(sleeper.value().kill());
      (void)sleeper.value().wait();
      NSFUN_EXPECT(nsfun::test::no_children());
      return 0;
    });
  }

  TEST_CASE("issue 17 defect 6: destroy removes the unmounted /run/netns/NAME a killed one left") {
    NSFUN_REQUIRE(can_run, "needs root and private mounts");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(nsfun::test::private_run_reaper() == 0);
      const std::size_t mounts = nsfun::test::mount_count();
      const std::string name = t::unique_name();
      const std::string netns_pin = "/run/netns/" + name;
      nsfun::NamedSetOptions o = options("net,uts");
      o.netns = true;
      // A destroy killed between the umount and the unlink of /run/netns/NAME (with meta.json),
      // and a create killed between making that file and mounting on it (no meta.json yet).
      for (bool with_meta : {true, false}) {
        NSFUN_EXPECT_OK(NamedSet::create(name, o));
        NSFUN_EXPECT(::umount2(netns_pin.c_str(), MNT_DETACH) == 0);
        if (!with_meta) {
          NSFUN_EXPECT(::unlink((std::string(base) + "/" + name + "/meta.json").c_str()) == 0);
        }
        NSFUN_EXPECT(exists(netns_pin));
        NSFUN_EXPECT_OK(NamedSet::destroy(name, base));
        NSFUN_EXPECT(!exists(netns_pin));
        NSFUN_EXPECT(!exists(base));
        if (t::have_program("ip")) {
          NSFUN_EXPECT(t::run("ip netns list 2>&1").out.find("invalid") == std::string::npos);
        }
      }
      // What is not such a leftover stays: a pin of another namespace under the name.
      NSFUN_EXPECT_OK(NamedSet::create(name, o));
      NSFUN_EXPECT_OK(nsfun::netns::remove(name));
      auto other = nsfun::netns::add(name);
      NSFUN_EXPECT_OK(other);
      NSFUN_EXPECT_OK(NamedSet::destroy(name, base));
      auto still = nsfun::netns::open(name);
      NSFUN_EXPECT_OK(still);
      NSFUN_EXPECT(still.value().identity() == other.value().identity());
      NSFUN_EXPECT_OK(nsfun::netns::remove(name));
      NSFUN_EXPECT(!exists(netns_pin));
      // /run/netns itself stays a mount, as ip netns leaves it.
      NSFUN_EXPECT(nsfun::test::mount_count() <= mounts + 1);
      NSFUN_EXPECT(nsfun::test::no_children());
      return 0;
    });
  }

  TEST_CASE("issue 17 defect 10: a created time with control characters makes the set stale") {
    NSFUN_REQUIRE(can_run, "needs root and private mounts");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(nsfun::test::private_run_reaper() == 0);
      const std::string name = t::unique_name();
      const std::string meta_path = std::string(base) + "/" + name + "/meta.json";
      NSFUN_EXPECT_OK(NamedSet::create(name, options("uts")));
      NSFUN_EXPECT(NamedSet::inspect(name, base).value().running());
      // An escape sequence, and a fake row after a newline: never shown, the set is stale.
      for (const char* created : {R"(2025-01-01T00:00:00Z\u001b[2J)",
                                  R"(2025-01-01T00:00:00Z\nfake running)", "2025 01 01"}) {
        NSFUN_EXPECT(write_file(meta_path, std::string(R"({"name": ")") + name +
                                               R"(", "types": ["uts"], "created": ")" + created +
                                               R"("})"));
        auto info = NamedSet::inspect(name, base);
        NSFUN_EXPECT_OK(info);
        NSFUN_EXPECT(!info.value().meta);
        NSFUN_EXPECT(has_problem(info.value(), "meta.json: \"created\" is not an ISO 8601 time"));
      }
      NSFUN_EXPECT_OK(NamedSet::destroy(name, base));
      NSFUN_EXPECT(!exists(base));
      return 0;
    });
  }

  TEST_CASE("issue 17 defect 8: destroy tidies the empty self-bind a killed destroy left") {
    NSFUN_REQUIRE(can_run, "needs root and private mounts");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(nsfun::test::private_run_reaper() == 0);
      const std::size_t mounts = nsfun::test::mount_count();
      const std::string name = t::unique_name();
      const std::string dir = std::string(base) + "/" + name;
      // A destroy killed after it removed the set's directory, before it undid BASE's self-bind.
      NSFUN_EXPECT_OK(NamedSet::create(name, options("uts,ipc")));
      NSFUN_EXPECT(nsfun::test::mount_count() == mounts + 3);
      for (const char* type : {"uts", "ipc"}) {
        NSFUN_EXPECT_OK(nsfun::unpin((dir + "/" + type).c_str()));
      }
      NSFUN_EXPECT(::unlink((dir + "/meta.json").c_str()) == 0 && ::rmdir(dir.c_str()) == 0);
      NSFUN_EXPECT(nsfun::test::mount_count() == mounts + 1);
      auto gone = NamedSet::destroy(name, base);
      NSFUN_EXPECT(!gone && gone.error() == std::errc::no_such_file_or_directory);
      NSFUN_EXPECT(!exists(base));
      NSFUN_EXPECT(nsfun::test::mount_count() == mounts);
      // Two stacked self-binds (what two first creates could make before the lock): both go.
      NSFUN_EXPECT(::mkdir(base, 0700) == 0);
      for (int i = 0; i < 2; ++i) {
        NSFUN_EXPECT(::mount(base, base, nullptr, MS_BIND, nullptr) == 0);
      }
      NSFUN_EXPECT(nsfun::test::mount_count() == mounts + 2);
      NSFUN_EXPECT(!NamedSet::destroy(name, base));
      NSFUN_EXPECT(!exists(base));
      NSFUN_EXPECT(nsfun::test::mount_count() == mounts);
      // A base with something else in it is left alone.
      NSFUN_EXPECT(::mkdir(base, 0700) == 0);
      NSFUN_EXPECT(::mkdir((std::string(base) + "/other").c_str(), 0700) == 0);
      NSFUN_EXPECT(!NamedSet::destroy(name, base));
      NSFUN_EXPECT(exists(std::string(base) + "/other"));
      return 0;
    });
  }
}

TEST_SUITE("pidfd") {
  TEST_CASE("pidfd_send_signal names the pid and never hits a reused pid") {
    NSFUN_CHECK_CHILD([] {
      auto child = nsfun::spawn(nsfun::Command("sleep").arg("100"));
      NSFUN_EXPECT_OK(child);
      const pid_t pid = child.value().pid();
      auto pidfd = nsfun::pidfd_open(pid);
      NSFUN_EXPECT_OK(pidfd);
      NSFUN_EXPECT_OK(nsfun::pidfd_send_signal(pidfd.value().ref(), SIGKILL, pid));
      auto status = child.value().wait();
      NSFUN_EXPECT(status && status.value().signal == SIGKILL);
      auto again = nsfun::pidfd_send_signal(pidfd.value().ref(), SIGKILL, pid);
      NSFUN_EXPECT(!again && again.error() == std::errc::no_such_process);
      NSFUN_EXPECT(again.error().message() ==
                   "pidfd_send_signal SIGKILL to pid " + std::to_string(pid) + ": No such process");
      return 0;
    });
  }
}
