// SPDX-License-Identifier: MIT
// Hostile state under /run/nsm and /run/netns (issue 17): device nodes, sockets and FIFOs in
// place of meta.json, of a pin and of /run/netns/NAME; set directories and meta.json of other
// owners and modes; a set directory that is a symbolic link; meta.json that is a hard link to a
// file elsewhere. What nsm list, inspect and destroy do with each (README, "Hostile state"):
//   - list always succeeds and shows such a set as stale; inspect says why (exit 0);
//   - a set directory that is not the caller's alone (another owner, group/world-writable, a
//     symbolic link) is listed as stale, refused by inspect and destroy (exit 1, naming it) and
//     never changed nor followed;
//   - anything in a set directory that is not a regular file is never opened: as meta.json or a
//     pin it makes the set stale ("not a regular file"), and destroy removes the entry;
//   - meta.json of another owner, group/world-writable or with another name (a hard link) is
//     not used (stale, the reason says which); destroy still stops the set's holder, found
//     through the pinned pid namespace, and removes the name in the set, never the other name;
//   - /run/netns/NAME that is not a pin (a device, a socket, a symbolic link) is never opened or
//     removed: the set is stale, destroy leaves it;
//   - nothing hangs (every command runs under timeout(1)) and nothing but the set's own holder
//     is killed.
// Every case runs in a child with a private mount namespace and its own tmpfs on /run, mounted
// without nodev here so that a device node could be opened: a node with no device behind it
// (ENXIO) shows whether it was.

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <nsfun/named_set.hpp>
#include <nsfun/ns_fd.hpp>

#include "nsm_support.hpp"
#include "test_support.hpp"

namespace {

using nsfun::NsType;
using nsfun::test::read_text;
using nsfun::test::run;
using nsm_test::holder_of;
using nsm_test::nsm;
using nsm_test::reaped;

namespace t = nsfun::test;

bool exists(const std::string& path) {
  struct stat st {};

  return ::lstat(path.c_str(), &st) == 0;
}

// nsm ARGS under timeout(1): a hang is status 137, not a test that never ends.
t::CommandResult nsm_run(const std::string& args, bool with_stderr = false) {
  return run("timeout -s KILL 20 " + nsm + " " + args + (with_stderr ? " 2>&1" : " 2>/dev/null"));
}

// The states `nsm list -J` gives the sets, by name; "" when list failed or printed no JSON.
std::string listed_state(const std::string& name) {
  auto l = nsm_run("list -J");
  if (l.status != 0) {
    std::fprintf(stderr, "nsm list: status %d\n", l.status);
    return "";
  }
  auto j = nlohmann::json::parse(l.out, nullptr, false);
  if (j.is_discarded() || !j.contains("named")) {
    return "";
  }
  for (const auto& e : j.at("named")) {
    if (e.at("name") == name) {
      return e.at("state").get<std::string>();
    }
  }
  return "absent";
}

// `nsm inspect -J NAME`: exit 0 and its problems contain `problem`.
bool inspect_says(const std::string& name, const std::string& problem) {
  auto r = nsm_run("inspect -J " + name);
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  const bool ok = r.status == 0 && !j.is_discarded() && j.at("state") == "stale" &&
                  r.out.find(nlohmann::json(problem).dump()) != std::string::npos;
  if (!ok) {
    std::fprintf(stderr, "inspect %s: status %d, want problem \"%s\": %s\n", name.c_str(), r.status,
                 problem.c_str(), r.out.c_str());
  }
  return ok;
}

// `nsm CMD NAME` fails with exit 1 and one line on stderr that contains `text`.
bool refused(const std::string& cmd, const std::string& name, const std::string& text) {
  auto r = nsm_run(cmd + " " + name, true);
  const bool ok = r.status == 1 && r.out.find(text) != std::string::npos &&
                  r.out.find('\n') == r.out.size() - 1;
  if (!ok) {
    std::fprintf(stderr, "%s %s: status %d, want \"%s\": %s\n", cmd.c_str(), name.c_str(), r.status,
                 text.c_str(), r.out.c_str());
  }
  return ok;
}

// A node of `kind` at `path`: 'c' a character device, 'b' a block device (neither with a
// driver behind it: opening them fails with ENXIO), 's' a bound unix socket, 'p' a FIFO.
bool make_node(char kind, const std::string& path) {
  switch (kind) {
    case 'c':
      // 5:0 is /dev/tty: with no controlling terminal (setsid below) it opens as ENXIO.
      return ::mknod(path.c_str(), S_IFCHR | 0600, ::makedev(5, 0)) == 0;
    case 'b':
      // blkext's last minor: no partition has it.
      return ::mknod(path.c_str(), S_IFBLK | 0600, ::makedev(259, 1048575)) == 0;
    case 's': {
      int s = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_un a{};
      a.sun_family = AF_UNIX;
      if (s < 0 || path.size() >= sizeof a.sun_path) {
        return false;
      }
      path.copy(a.sun_path, path.size());
      const bool ok = ::bind(s, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0;
      ::close(s);  // the socket file stays
      return ok;
    }
    case 'p':
      return ::mkfifo(path.c_str(), 0600) == 0;
    default:
      return false;
  }
}

const char* kind_name(char kind) {
  switch (kind) {
    case 'c':
      return "a character device";
    case 'b':
      return "a block device";
    case 's':
      return "a socket";
    default:
      return "a FIFO";
  }
}

bool write_file(const std::string& path, const std::string& text, mode_t mode = 0600) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) {
    return false;
  }
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  return ::close(fd) == 0 && ok && ::chmod(path.c_str(), mode) == 0;
}

// The child's setting: private mounts with /run a tmpfs that allows device nodes, no
// controlling terminal, and a subreaper for the holders.
int hostile_setup() {
  if (int err = t::private_run_reaper(); err != 0) {
    return err;
  }
  if (::mount(nullptr, "/run", nullptr, MS_REMOUNT | MS_NOSUID, "mode=0755") < 0) {
    return errno;
  }
  if (::setsid() < 0 && errno != EPERM) {
    return errno;
  }
  return 0;
}

// No trace of nsm or of the set's ip netns entry in our mount table.
bool mounts_clean(const std::string& name) {
  const std::string mi = read_text("/proc/self/mountinfo");
  return mi.find(" /run/nsm") == std::string::npos &&
         mi.find(" /run/netns/" + name + " ") == std::string::npos;
}

// Kills a holder a failed check left (our child: we are its subreaper).
struct HolderGuard {
  pid_t pid = 0;

  explicit HolderGuard(pid_t p) : pid(p) {}

  HolderGuard(const HolderGuard&) = delete;
  HolderGuard& operator=(const HolderGuard&) = delete;

  ~HolderGuard() {
    if (pid > 0 && ::waitpid(pid, nullptr, WNOHANG) == 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
};

// A process of ours that must outlive every nsm command of a case.
struct Bystander {
  pid_t pid = -1;

  Bystander() {
    pid = ::fork();
    if (pid == 0) {
      ::pause();
      ::_exit(0);
    }
  }

  Bystander(const Bystander&) = delete;
  Bystander& operator=(const Bystander&) = delete;

  ~Bystander() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }

  [[nodiscard]] bool alive() const { return pid > 0 && ::waitpid(pid, nullptr, WNOHANG) == 0; }
};

const bool can_run =
    t::can_private_run() && t::have_program("timeout") &&
    t::can_unshare({NsType::mnt, NsType::uts, NsType::ipc, NsType::pid, NsType::net});

}  // namespace

TEST_SUITE("nsm hostile state") {
  TEST_CASE("a device node, a socket or a FIFO as meta.json: stale, never opened, destroyed") {
    NSFUN_REQUIRE(can_run, "needs root and private mounts");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(hostile_setup() == 0);
      Bystander other;
      for (char kind : {'c', 'b', 's', 'p'}) {
        std::fprintf(stderr, "meta.json is %s\n", kind_name(kind));
        const std::string name = t::unique_name();
        const std::string dir = "/run/nsm/" + name;
        NSFUN_EXPECT(nsm_run("create " + name + " --type uts,ipc,net").status == 0);
        NSFUN_EXPECT(::unlink((dir + "/meta.json").c_str()) == 0);
        NSFUN_EXPECT(make_node(kind, dir + "/meta.json"));
        NSFUN_EXPECT(listed_state(name) == "stale");
        // Opened, the device would have said "No such device or address".
        NSFUN_EXPECT(inspect_says(name, "meta.json: not a regular file"));
        NSFUN_EXPECT(nsm_run("inspect " + name)
                         .out.find("\nSTATE stale (meta.json: not a "
                                   "regular file)\n") != std::string::npos);
        NSFUN_EXPECT(nsm_run("destroy " + name).status == 0);
        NSFUN_EXPECT(!exists(dir) && !exists("/run/netns/" + name));
        NSFUN_EXPECT(mounts_clean(name));
      }
      NSFUN_EXPECT(other.alive());
      return 0;
    });
  }

  TEST_CASE("a device node, a socket or a FIFO as a pin: stale, never opened, destroyed") {
    NSFUN_REQUIRE(can_run, "needs root and private mounts");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(hostile_setup() == 0);
      Bystander other;
      for (char kind : {'c', 'b', 's', 'p'}) {
        std::fprintf(stderr, "the ipc pin is %s\n", kind_name(kind));
        const std::string name = t::unique_name();
        const std::string pin = "/run/nsm/" + name + "/ipc";
        NSFUN_EXPECT(nsm_run("create " + name + " --type uts,ipc").status == 0);
        NSFUN_EXPECT(::umount2(pin.c_str(), MNT_DETACH) == 0 && ::unlink(pin.c_str()) == 0);
        NSFUN_EXPECT(make_node(kind, pin));
        NSFUN_EXPECT(listed_state(name) == "stale");
        NSFUN_EXPECT(inspect_says(name, "ipc: not a regular file"));
        NSFUN_EXPECT(inspect_says(name, "not pinned: ipc"));
        // exec and enter refuse it, naming the pin.
        NSFUN_EXPECT(refused("exec", name + " -- true", "ipc"));
        NSFUN_EXPECT(nsm_run("destroy " + name).status == 0);
        NSFUN_EXPECT(!exists("/run/nsm/" + name));
        NSFUN_EXPECT(mounts_clean(name));
      }
      NSFUN_EXPECT(other.alive());
      return 0;
    });
  }

  TEST_CASE("a set directory of another owner or world-writable is refused, never changed") {
    NSFUN_REQUIRE(can_run, "needs root and private mounts");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(hostile_setup() == 0);
      const std::string name = t::unique_name();
      const std::string dir = "/run/nsm/" + name;
      NSFUN_EXPECT(nsm_run("create " + name + " --type uts,ipc").status == 0);
      const std::string uid = std::to_string(::geteuid());
      struct Case {
        uid_t owner;
        mode_t mode;
        std::string reason;
      };
      for (const Case& c : {
               Case{1234, 0700, "owned by uid 1234, not by uid " + uid + "; refusing to use it"},
               Case{::geteuid(), 0777, "world-writable (mode 0777); refusing to use it"},
               Case{::geteuid(), 0770, "group-writable (mode 0770); refusing to use it"},
               Case{1234, 0000, "owned by uid 1234, not by uid " + uid + "; refusing to use it"},
           }) {
        std::fprintf(stderr, "set directory: uid %u, mode %04o\n", c.owner, c.mode);
        NSFUN_EXPECT(::chown(dir.c_str(), c.owner, c.owner) == 0);
        NSFUN_EXPECT(::chmod(dir.c_str(), c.mode) == 0);
        NSFUN_EXPECT(listed_state(name) == "stale");
        NSFUN_EXPECT(refused("inspect", name, c.reason));
        NSFUN_EXPECT(refused("destroy", name, c.reason));
        NSFUN_EXPECT(refused("exec", name + " -- true", c.reason));
        // Untouched: still both pins, mounted.
        auto pin = nsfun::NsFd::open_path((dir + "/ipc").c_str());
        NSFUN_EXPECT(pin && pin.value().type() == NsType::ipc);
        NSFUN_EXPECT(exists(dir + "/meta.json"));
      }
      // Ours and mode 0000: root reads it (nobody else can write it): used as it is.
      NSFUN_EXPECT(::chown(dir.c_str(), ::geteuid(), ::getegid()) == 0);
      NSFUN_EXPECT(::chmod(dir.c_str(), 0000) == 0);
      NSFUN_EXPECT(listed_state(name) == "running");
      NSFUN_EXPECT(nsm_run("exec " + name + " -- true").status == 0);
      NSFUN_EXPECT(nsm_run("destroy " + name).status == 0);
      NSFUN_EXPECT(!exists(dir) && mounts_clean(name));
      return 0;
    });
  }

  TEST_CASE("a set directory that is a symbolic link to another set is never followed") {
    NSFUN_REQUIRE(can_run, "needs root and private mounts");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(hostile_setup() == 0);
      const std::string real = t::unique_name();
      const std::string link = t::unique_name();
      NSFUN_EXPECT(nsm_run("create " + real + " --type pid,uts").status == 0);
      const pid_t holder = holder_of(real);
      NSFUN_EXPECT(holder > 0);
      const HolderGuard guard(holder);
      NSFUN_EXPECT(::symlink(("/run/nsm/" + real).c_str(), ("/run/nsm/" + link).c_str()) == 0);
      NSFUN_EXPECT(listed_state(link) == "stale");
      NSFUN_EXPECT(listed_state(real) == "running");
      const std::string why = "a symbolic link; refusing to follow it";
      NSFUN_EXPECT(refused("inspect", link, why));
      NSFUN_EXPECT(refused("destroy", link, why));
      NSFUN_EXPECT(refused("exec", link + " -- true", why));
      // The set it points to is untouched, its holder alive.
      NSFUN_EXPECT(listed_state(real) == "running");
      NSFUN_EXPECT(::waitpid(holder, nullptr, WNOHANG) == 0);
      NSFUN_EXPECT(::unlink(("/run/nsm/" + link).c_str()) == 0);
      NSFUN_EXPECT(nsm_run("destroy " + real).status == 0);
      NSFUN_EXPECT(reaped(holder));
      NSFUN_EXPECT(mounts_clean(real));
      return 0;
    });
  }

  TEST_CASE("meta.json of another owner, writable by others or a hard link is not used") {
    NSFUN_REQUIRE(can_run, "needs root and private mounts");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(hostile_setup() == 0);
      Bystander other;
      const std::string uid = std::to_string(::geteuid());
      struct Case {
        const char* what;
        mode_t mode;         // chmod'ed to it, unless it is a hard link
        uid_t owner;         // chown'ed to it
        bool linked;         // meta.json a hard link to /run/nsm/elsewhere-NAME
        std::string reason;  // empty: used
      };
      const uid_t me = ::geteuid();
      for (const Case& c : {
               Case{"uid 1234", 0600, 1234, false,
                    "meta.json: owned by uid 1234, not by uid " + uid + "; not used"},
               Case{"0666", 0666, me, false, "meta.json: world-writable (mode 0666); not used"},
               Case{"0620", 0620, me, false, "meta.json: group-writable (mode 0620); not used"},
               Case{"a hard link", 0644, me, true, "meta.json: a hard link (2 names); not used"},
               Case{"0000", 0000, me, false, ""},
           }) {
        std::fprintf(stderr, "meta.json: %s\n", c.what);
        const std::string name = t::unique_name();
        const std::string meta = "/run/nsm/" + name + "/meta.json";
        NSFUN_EXPECT(nsm_run("create " + name + " --type pid,uts,net").status == 0);
        const pid_t holder = holder_of(name);
        NSFUN_EXPECT(holder > 0);
        const HolderGuard guard(holder);
        const std::string text = read_text(meta);
        // On the same mount as the set (the self-bind of /run/nsm), not a set: a file.
        const std::string outside = "/run/nsm/elsewhere-" + name;
        if (c.linked) {
          // The other name is where someone else could change it.
          NSFUN_EXPECT(::unlink(meta.c_str()) == 0);
          NSFUN_EXPECT(write_file(outside, text, c.mode));
          NSFUN_EXPECT(::link(outside.c_str(), meta.c_str()) == 0);
        } else {
          NSFUN_EXPECT(::chown(meta.c_str(), c.owner, c.owner) == 0);
          NSFUN_EXPECT(::chmod(meta.c_str(), c.mode) == 0);
        }
        if (c.reason.empty()) {
          NSFUN_EXPECT(listed_state(name) == "running");
        } else {
          NSFUN_EXPECT(listed_state(name) == "stale");
          NSFUN_EXPECT(inspect_says(name, c.reason));
          // Without meta.json, inspect finds no holder to name.
          NSFUN_EXPECT(nsm_run("inspect " + name).out.find("\nHOLDER none\n") != std::string::npos);
        }
        // destroy still finds the holder through the pinned pid namespace, and removes the
        // set's name of the file only.
        NSFUN_EXPECT(nsm_run("destroy " + name).status == 0);
        NSFUN_EXPECT(reaped(holder));
        NSFUN_EXPECT(!exists("/run/nsm/" + name) && !exists("/run/netns/" + name));
        if (c.linked) {
          NSFUN_EXPECT(read_text(outside) == text);
          NSFUN_EXPECT(::unlink(outside.c_str()) == 0);
          // /run/nsm was kept for that file: a destroy of the gone set tidies it now.
          NSFUN_EXPECT(nsm_run("destroy " + name).status == 1);
        }
        NSFUN_EXPECT(mounts_clean(name));
      }
      NSFUN_EXPECT(other.alive());
      return 0;
    });
  }

  TEST_CASE("/run/netns/NAME that is not a pin is never opened nor removed") {
    NSFUN_REQUIRE(can_run, "needs root and private mounts");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(hostile_setup() == 0);
      for (char kind : {'c', 'b', 's', 'p', 'l'}) {
        const char* what = kind == 'l' ? "a symbolic link" : kind_name(kind);
        std::fprintf(stderr, "/run/netns/NAME is %s\n", what);
        const std::string name = t::unique_name();
        const std::string netns = "/run/netns/" + name;
        NSFUN_EXPECT(nsm_run("create " + name + " --type uts,net").status == 0);
        NSFUN_EXPECT(::umount2(netns.c_str(), MNT_DETACH) == 0 && ::unlink(netns.c_str()) == 0);
        if (kind == 'l') {
          NSFUN_EXPECT(::symlink(("/run/nsm/" + name + "/net").c_str(), netns.c_str()) == 0);
        } else {
          NSFUN_EXPECT(make_node(kind, netns));
        }
        NSFUN_EXPECT(listed_state(name) == "stale");
        NSFUN_EXPECT(inspect_says(name, "net: " + netns + " is not a pin"));
        NSFUN_EXPECT(nsm_run("destroy " + name).status == 0);
        NSFUN_EXPECT(!exists("/run/nsm/" + name));
        // Not the set's: left where it is.
        NSFUN_EXPECT(exists(netns));
        NSFUN_EXPECT(mounts_clean(name));

        // Alone (no set of that name): inspect refuses it, naming it; destroy has no set.
        NSFUN_EXPECT(refused(
            "inspect", name,
            netns + ": " + (kind == 'l' ? "a symbolic link; not followed" : "not a regular file")));
        NSFUN_EXPECT(refused("destroy", name, "no such named namespace set"));
        NSFUN_EXPECT(exists(netns));
        NSFUN_EXPECT(::unlink(netns.c_str()) == 0);
      }
      return 0;
    });
  }

  TEST_CASE("an empty set directory (a killed create): stale, inspect prints TYPES none") {
    NSFUN_REQUIRE(can_run, "needs root and private mounts");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(hostile_setup() == 0);
      const std::string name = t::unique_name();
      NSFUN_EXPECT(::mkdir("/run/nsm", 0700) == 0);
      NSFUN_EXPECT(::mkdir(("/run/nsm/" + name).c_str(), 0700) == 0);
      NSFUN_EXPECT(listed_state(name) == "stale");
      NSFUN_EXPECT(inspect_says(name, "meta.json is missing"));
      auto text = nsm_run("inspect " + name);
      NSFUN_EXPECT(text.status == 0);
      NSFUN_EXPECT(text.out.find("\nTYPES none\nSTATE stale (meta.json is missing)\n") !=
                   std::string::npos);
      // No line of the heading part ends in a space (TYPES had one before).
      NSFUN_EXPECT(text.out.find(" \n") == std::string::npos);
      NSFUN_EXPECT(nsm_run("destroy " + name).status == 0);
      NSFUN_EXPECT(!exists("/run/nsm"));
      return 0;
    });
  }
}
