// SPDX-License-Identifier: MIT
// nsm tests – util-linux's own lsns tests (tests/ts/lsns: ioctl_ns, nsfs, netnsid,
// netnsid-for-persistent-namespaces, filedesc, filter, netns-from-sock) replayed against
// `nsm list`, each compared with the installed lsns where that lsns has the feature (2.38: PNS,
// ONS, NSFS, NETNSID of a process's namespace, a namespace argument), and checked against what
// util-linux's test expects of a newer lsns where only that has it: namespaces held by an fd or
// a socket and -Q/--filter (2.41), NETNSID of a namespace no process is in (2.42); 2.38 also
// lists no namespace without a process (2.39+).
//
// Every case runs in a forked child with its own mount namespace and a private /run (so that
// `ip netns add` and bind mounts never reach the host) and, where it makes links or ids, its own
// network namespace; the processes it starts are killed by pid before it returns. What it made
// is removed explicitly, and in any case dies with the child's namespaces.

#include <csignal>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include <fcntl.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include "nsm_support.hpp"
#include "test_support.hpp"

namespace {

namespace t = nsfun::test;
using nsm_test::nsm_out;

constexpr const char* no_root = "needs root (a private /run, ip netns add)";

// Each line with its leading and trailing blanks cut (as the util-linux tests' `read VAL; echo
// $VAL`), joined by '\n', without a trailing newline.
std::string trimmed_lines(std::string_view text) {
  std::string out;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    std::size_t first = line.find_first_not_of(" \t");
    std::size_t last = line.find_last_not_of(" \t");
    if (!out.empty()) {
      out += '\n';
    }
    if (first != std::string_view::npos) {
      out += line.substr(first, last - first + 1);
    }
  }
  return out;
}

// The words of `text` joined by single spaces ("a  b\n" -> "a b").
std::string words(std::string_view text) {
  std::string out;
  for (const std::string& w : t::split_words(text)) {
    out += out.empty() ? w : " " + w;
  }
  return out;
}

// Prints what two tools said when they disagree; true when they agree.
bool same(const std::string& what, const std::string& nsm, const std::string& theirs) {
  if (nsm != theirs) {
    std::fprintf(stderr, "%s:\n  nsm:    '%s'\n  theirs: '%s'\n", what.c_str(), nsm.c_str(),
                 theirs.c_str());
    return false;
  }
  return true;
}

bool have_lsns() {
  return t::have_program("lsns");
}

// In the (forked) case: a private /run; with `net`, a network namespace of its own too.
bool isolate(bool net) {
  if (t::private_run() != 0) {
    return false;
  }
  return !net || ::unshare(CLONE_NEWNET) == 0;
}

// A process in the network namespace bind-mounted at `path` (as `ip netns exec NAME dd` in the
// util-linux tests).
bool enter_netns_at(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  bool ok = fd >= 0 && ::setns(fd, CLONE_NEWNET) == 0;
  if (fd >= 0) {
    ::close(fd);
  }
  return ok;
}

std::uint64_t inode_of(const std::string& path) {
  struct stat st {};

  return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

}  // namespace

TEST_SUITE("lsns ts") {
  // tests/ts/lsns/ioctl_ns: PNS and ONS of a child user namespace and a pid namespace it owns.
  TEST_CASE("ioctl_ns: PNS and ONS of a user and a pid namespace, as lsns shows them") {
    NSFUN_REQUIRE(t::can_unshare({nsfun::NsType::user, nsfun::NsType::pid}), "needs userns, pidns");
    NSFUN_CHECK_CHILD([] {
      // unshare --user --pid --fork: a process in a new user namespace whose child is PID 1 of
      // a new pid namespace owned by it.
      t::PausedChild holder([] {
        if (::unshare(CLONE_NEWUSER | CLONE_NEWPID) < 0) {
          return false;
        }
        pid_t init = ::fork();
        if (init == 0) {
          ::prctl(PR_SET_PDEATHSIG, SIGKILL);
          ::pause();
          ::_exit(0);
        }
        return init > 0;
      });
      NSFUN_EXPECT(holder);
      const std::string child_userns = std::to_string(t::link_ino(holder.pid(), "user"));
      const std::string child_pidns = std::to_string(t::link_ino(holder.pid(), "pid_for_children"));
      const std::string my_userns = std::to_string(t::link_ino(::getpid(), "user"));
      const std::string my_pidns = std::to_string(t::link_ino(::getpid(), "pid"));

      const std::string user_expected = child_userns + " " + my_userns + " " + my_userns;
      auto user_nsm = nsm_out("list -t user -n -o NS,PNS,ONS " + child_userns + " | uniq");
      NSFUN_EXPECT(user_nsm.status == 0);
      NSFUN_EXPECT(same("userns", words(user_nsm.out), user_expected));
      const std::string pid_expected = child_pidns + " " + my_pidns + " " + child_userns;
      auto pid_nsm = nsm_out("list -t pid -n -o NS,PNS,ONS " + child_pidns + " | uniq");
      NSFUN_EXPECT(pid_nsm.status == 0);
      NSFUN_EXPECT(same("pidns", words(pid_nsm.out), pid_expected));
      if (have_lsns()) {
        auto user_lsns = t::run("lsns -t user -n -o NS,PNS,ONS " + child_userns + " | uniq");
        NSFUN_EXPECT(same("userns vs lsns", words(user_nsm.out), words(user_lsns.out)));
        auto pid_lsns = t::run("lsns -t pid -n -o NS,PNS,ONS " + child_pidns + " | uniq");
        NSFUN_EXPECT(same("pidns vs lsns", words(pid_nsm.out), words(pid_lsns.out)));
      }
      return 0;
    });
  }

  // tests/ts/lsns/nsfs: NSFS of a namespace made by ip netns add and bind-mounted once more.
  TEST_CASE("nsfs: every bind mount of a namespace, one per line, or joined by , with --nowrap") {
    NSFUN_REQUIRE(t::can_private_run(), no_root);
    NSFUN_REQUIRE(t::have_program("ip"), "no ip");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(isolate(/*net=*/false));
      const std::string name = t::unique_name();
      const std::string path1 = "/run/netns/" + name;
      const std::string path2 = "/run/" + t::unique_name("nsfun-test-xyz-");
      NSFUN_EXPECT(t::run("ip netns add " + name).status == 0);
      NSFUN_EXPECT(t::run("touch " + path2 + " && mount --bind " + path1 + " " + path2).status ==
                   0);
      t::PausedChild in_ns([&] { return enter_netns_at(path1); });
      NSFUN_EXPECT(in_ns);
      const std::string pid = std::to_string(in_ns.pid());

      auto lines = nsm_out("list -n -o NSFS --type net --task " + pid);
      auto one_line = nsm_out("list -n -o NSFS --nowrap --type net --task " + pid);
      NSFUN_EXPECT(lines.status == 0 && one_line.status == 0);
      NSFUN_EXPECT(same("multi-line", trimmed_lines(lines.out), path1 + "\n" + path2));
      NSFUN_EXPECT(same("--nowrap", trimmed_lines(one_line.out), path1 + "," + path2));
      if (have_lsns()) {
        auto theirs = t::run("lsns -n -o NSFS --type net --task " + pid);
        auto theirs_one = t::run("lsns -n -o NSFS --nowrap --type net --task " + pid);
        NSFUN_EXPECT(
            same("multi-line vs lsns", trimmed_lines(lines.out), trimmed_lines(theirs.out)));
        NSFUN_EXPECT(
            same("--nowrap vs lsns", trimmed_lines(one_line.out), trimmed_lines(theirs_one.out)));
      }
      in_ns.stop();
      NSFUN_EXPECT(t::run("umount " + path2 + " && rm -f " + path2).status == 0);
      NSFUN_EXPECT(t::run("ip netns delete " + name).status == 0);
      return 0;
    });
  }

  // tests/ts/lsns/netnsid: NETNSID of a process's namespace is the link-netnsid ip link shows.
  TEST_CASE("netnsid: NETNSID of a namespace a veth end was moved to is ip link's link-netnsid") {
    NSFUN_REQUIRE(t::can_private_run(), no_root);
    NSFUN_REQUIRE(t::can_unshare({nsfun::NsType::net}), no_root);
    NSFUN_REQUIRE(t::have_program("ip"), "no ip");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(isolate(/*net=*/true));  // the veth's first end lives in this private netns
      const std::string name = t::unique_name();
      NSFUN_EXPECT(t::run("ip netns add " + name).status == 0);
      NSFUN_EXPECT(t::run("ip link add name nsftls0 type veth peer name nsftls1 && "
                          "ip link set nsftls1 netns " +
                          name)
                       .status == 0);
      t::PausedChild in_ns([&] { return enter_netns_at("/run/netns/" + name); });
      NSFUN_EXPECT(in_ns);
      const std::string pid = std::to_string(in_ns.pid());

      auto link =
          t::run("ip -o link show dev nsftls0 | sed -ne 's/.* *link-netnsid *\\([0-9]*\\)/\\1/p'");
      std::string ip_id = words(link.out);
      if (ip_id.empty()) {
        // link-netns NAME instead when the id has a name under /run/netns: then the id from
        // ip netns list-id, as the util-linux test does.
        auto ids = t::run("ip netns list-id | awk '/name: " + name + "/ { print $2 }'");
        ip_id = words(ids.out);
      }
      NSFUN_EXPECT(!ip_id.empty());
      auto ours = nsm_out("list -n -o NETNSID --type net --task " + pid);
      NSFUN_EXPECT(ours.status == 0);
      NSFUN_EXPECT(same("NETNSID vs ip link", words(ours.out), ip_id));
      if (have_lsns()) {
        auto theirs = t::run("lsns -n -o NETNSID --type net --task " + pid);
        NSFUN_EXPECT(same("NETNSID vs lsns", words(ours.out), words(theirs.out)));
      }
      in_ns.stop();
      NSFUN_EXPECT(t::run("ip link delete nsftls0").status == 0);
      NSFUN_EXPECT(t::run("ip netns delete " + name).status == 0);
      return 0;
    });
  }

  // tests/ts/lsns/netnsid-for-persistent-namespaces (util-linux 2.42): a namespace no process
  // is in, with an id set by ip netns set, selected with -Q. lsns 2.38 lists no such namespace
  // and has no -Q: nsm alone.
  TEST_CASE("netnsid-for-persistent-namespaces: -Q on NETNSID finds a namespace no process is in") {
    NSFUN_REQUIRE(t::can_private_run(), no_root);
    NSFUN_REQUIRE(t::can_unshare({nsfun::NsType::net}), no_root);
    NSFUN_REQUIRE(t::have_program("ip"), "no ip");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(isolate(/*net=*/true));  // the id lives in this private netns
      const std::string name = t::unique_name();
      const std::string id = std::to_string(::getpid() % 100000);
      NSFUN_EXPECT(t::run("ip netns add " + name + " && ip netns set " + name + " " + id).status ==
                   0);
      const std::string filter = " -Q \"NETNSID == '" + id + "'\" -o ";
      auto netnsid = nsm_out("list --raw --noheadings" + filter + "NETNSID");
      NSFUN_EXPECT(netnsid.status == 0);
      NSFUN_EXPECT(same("NETNSID", trimmed_lines(netnsid.out), id));
      auto type = nsm_out("list --raw --noheadings" + filter + "TYPE");
      NSFUN_EXPECT(same("TYPE", trimmed_lines(type.out), "net"));
      auto nsfs = nsm_out("list --raw --noheadings" + filter + "NSFS");
      NSFUN_EXPECT(same("NSFS", trimmed_lines(nsfs.out), "/run/netns/" + name));
      NSFUN_EXPECT(t::run("ip netns delete " + name).status == 0);
      return 0;
    });
  }

  // tests/ts/lsns/filedesc (util-linux 2.41): a namespace whose only hold is an fd a process
  // opened on /run/netns/NAME before ip netns delete NAME: TYPE NPROCS USER "net 0 root".
  TEST_CASE("filedesc: a namespace held only by an open fd is listed as net 0 root") {
    NSFUN_REQUIRE(t::can_private_run(), no_root);
    NSFUN_REQUIRE(t::have_program("ip"), "no ip");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(isolate(/*net=*/false));
      const std::string name = t::unique_name();
      const std::string file = "/run/netns/" + name;
      NSFUN_EXPECT(t::run("ip netns add " + name).status == 0);
      const std::string ino = std::to_string(inode_of(file));
      // test_mkfds ro-regular-file 4 file=/run/netns/NAME (here fd 40)
      t::PausedChild holder([&] {
        int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
        return fd >= 0 && ::dup2(fd, 40) == 40;  // 4 may be the ready pipe
      });
      NSFUN_EXPECT(holder);
      NSFUN_EXPECT(t::run("ip netns delete " + name).status == 0);  // invisible in the tree now

      auto row = nsm_out("list -n --raw -o TYPE,NPROCS,USER -Q \"NS == " + ino + "\"");
      NSFUN_EXPECT(row.status == 0);
      NSFUN_EXPECT(same("TYPE,NPROCS,USER", trimmed_lines(row.out), "net 0 root"));
      // The same row without -Q.
      auto all = nsm_out("list -n --raw -o NS,TYPE,NPROCS,USER");
      NSFUN_EXPECT(("\n" + all.out).find("\n" + ino + " net 0 root\n") != std::string::npos);
      return 0;
    });
  }

  // tests/ts/lsns/filter (util-linux 2.41): -Q and --filter select the one process of a user
  // namespace by NS and NPROCS. lsns 2.38 has no -Q: compared with its namespace argument.
  TEST_CASE("filter: -Q and --filter select a user namespace by NS and NPROCS") {
    NSFUN_REQUIRE(t::can_unshare({nsfun::NsType::user}), "needs user namespaces");
    NSFUN_CHECK_CHILD([] {
      // test_mkfds --comm ABC userns 4
      t::PausedChild abc([] {
        ::prctl(PR_SET_NAME, "ABC");
        return ::unshare(CLONE_NEWUSER) == 0;
      });
      NSFUN_EXPECT(abc);
      const std::string pid = std::to_string(abc.pid());
      const std::string ino = std::to_string(t::link_ino(abc.pid(), "user"));
      for (const char* opt : {"-Q", "--filter"}) {
        auto got = nsm_out("list -n --raw -o PID " + std::string(opt) + " \"NS == " + ino +
                           " && NPROCS == 1\"");
        NSFUN_EXPECT(got.status == 0);
        NSFUN_EXPECT(same(opt, trimmed_lines(got.out), pid));
      }
      if (have_lsns()) {
        auto theirs = t::run("lsns -n --raw -o PID " + ino);
        NSFUN_EXPECT(same("PID vs lsns " + ino, trimmed_lines(theirs.out), pid));
      }
      return 0;
    });
  }

  // tests/ts/lsns/netns-from-sock (util-linux 2.41): a network namespace held only by sockets
  // (test_mkfds foreign-sockets): NS TYPE NPROCS PID USER COMMAND.
  TEST_CASE("netns-from-sock: a network namespace held only by sockets") {
    NSFUN_REQUIRE(t::can_unshare({nsfun::NsType::net}), no_root);
    NSFUN_CHECK_CHILD([] {
      int home = ::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
      NSFUN_EXPECT(home >= 0);
      NSFUN_EXPECT(::unshare(CLONE_NEWNET) == 0);
      int s1 = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      int s2 = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      NSFUN_EXPECT(s1 >= 0 && s2 >= 0);
      const std::string netns = std::to_string(t::link_ino(::getpid(), "net"));
      NSFUN_EXPECT(::setns(home, CLONE_NEWNET) == 0);  // back: no process is in it now
      ::close(home);

      const std::vector<std::pair<const char*, std::string>> cases = {
          {"COMMAND", ""}, {"NPROCS", "0"}, {"NS", netns},
          {"PID", ""},     {"TYPE", "net"}, {"USER", "root"},
      };
      for (const auto& [column, expected] : cases) {
        auto got = nsm_out(std::string("list --noheadings --raw --output ") + column +
                           " --filter \"NS == " + netns + "\"");
        NSFUN_EXPECT(got.status == 0);
        NSFUN_EXPECT(same(column, trimmed_lines(got.out), expected));
      }
      ::close(s1);
      ::close(s2);
      return 0;
    });
  }
}
