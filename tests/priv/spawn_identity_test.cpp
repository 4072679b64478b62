// SPDX-License-Identifier: MIT
// nsfun tests – spawn.hpp's identity and root settings (uid, gid, groups, keep_caps, chroot,
// cwd(fd)) and netns(NetNs, name): observed from inside the child, compared with nsenter(1)
// where it does the same, and their refusals.

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <nsfun/acquire.hpp>
#include <nsfun/format.hpp>
#include <nsfun/ns_fd.hpp>
#include <nsfun/spawn.hpp>

#include "test_support.hpp"

using nsfun::Command;
using nsfun::NsType;

namespace {

// What a shell in the child prints about its identity: uid, gid, the Groups, CapEff and CapAmb
// lines of /proc/self/status.
constexpr const char* identity_script =
    "id -u; id -g; grep -E '^(Groups|CapEff|CapAmb):' /proc/self/status";

// Spawns `cmd` with stdout captured and waits; the output, or "spawn: <error>".
std::string output_of(Command cmd) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) < 0) {
    return "pipe failed";
  }
  auto w = nsfun::UniqueFd::adopt(p[1]);
  auto r = nsfun::UniqueFd::adopt(p[0]);
  cmd.redirect(1, w);
  auto child = nsfun::spawn(cmd);
  w.reset();
  if (!child) {
    return "spawn: " + child.error().message();
  }
  std::string out;
  char buf[4096];
  ssize_t n = 0;
  while ((n = ::read(r.get(), buf, sizeof(buf))) > 0) {
    out.append(buf, static_cast<std::size_t>(n));
  }
  (void)child.value().wait();
  return out;
}

Command shell(const std::string& script) {
  return std::move(Command("/bin/sh").arg("-c").arg(script));
}

// A process that holds a new user namespace where 0..65535 are 100000..165535 outside (so the
// caller, root outside, is unmapped inside: nobody), and whatever else `more` asks for.
nsfun::result<nsfun::Child> hold_user_ns(nsfun::NsTypeSet more = {}) {
  NSFUN_TRY(auto uids, nsfun::IdMap::single(0, 100000, 65536));
  NSFUN_TRY(auto gids, nsfun::IdMap::single(0, 100000, 65536));
  more.insert(NsType::user);
  return nsfun::spawn(Command::hold().namespaces(more).user_map(nsfun::UserMap{uids, gids, false}));
}

// The CapEff text of a process with every capability the kernel has (0..cap_last_cap), as a
// process gets them in a user namespace it joins: "\t000001ffffffffff".
std::string full_caps() {
  const int last = std::stoi(nsfun::test::read_text("/proc/sys/kernel/cap_last_cap"));
  const unsigned long long all = (1ULL << static_cast<unsigned>(last + 1)) - 1;
  char text[32];
  std::snprintf(text, sizeof(text), "\t%016llx", all);
  return text;
}

bool have_nsenter() {
  return nsfun::test::have_program("nsenter");
}

// Whether the installed nsenter knows `option` (--keep-caps came with util-linux 2.39).
bool nsenter_has(const std::string& option) {
  return nsfun::test::run("nsenter --help 2>/dev/null | grep -q -- '" + option + "'").status == 0;
}

}  // namespace

TEST_SUITE("spawn identity") {
  TEST_CASE("uid 0 gid 0 and no groups in a joined user namespace: root there, as nsenter -U") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::user}) && ::geteuid() == 0, "needs root");
    NSFUN_REQUIRE(have_nsenter(), "needs nsenter (util-linux)");
    auto holder = hold_user_ns();
    REQUIRE(holder);
    const pid_t pid = holder.value().pid();
    auto user = nsfun::NsFd::open(pid, NsType::user);
    REQUIRE(user);
    const std::string ours =
        output_of(shell(identity_script).join(user.value()).uid(0).gid(0).groups({}));
    const std::string theirs = nsfun::test::run("nsenter -t " + std::to_string(pid) +
                                                " -U sh -c \"" + identity_script + "\"")
                                   .out;
    CHECK(ours == theirs);
    CHECK(ours.rfind("0\n0\nGroups:\t \n", 0) == 0);
    CHECK(ours.find("CapEff:" + full_caps()) != std::string::npos);
  }

  TEST_CASE("without uid the child stays unmapped in a joined user namespace: nobody, no caps") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::user}) && ::geteuid() == 0, "needs root");
    NSFUN_REQUIRE(have_nsenter(), "needs nsenter (util-linux)");
    auto holder = hold_user_ns();
    REQUIRE(holder);
    const pid_t pid = holder.value().pid();
    auto user = nsfun::NsFd::open(pid, NsType::user);
    REQUIRE(user);
    const std::string ours = output_of(shell(identity_script).join(user.value()));
    const std::string theirs =
        nsfun::test::run("nsenter -t " + std::to_string(pid) +
                         " -U --preserve-credentials sh -c \"" + identity_script + "\"")
            .out;
    CHECK(ours == theirs);
    CHECK(ours.rfind("65534\n65534\n", 0) == 0);
    CHECK(ours.find("CapEff:\t0000000000000000") != std::string::npos);
  }

  TEST_CASE("uid and gid 1000 drop the capabilities, and keep_caps keeps them ambient") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::user}) && ::geteuid() == 0, "needs root");
    NSFUN_REQUIRE(have_nsenter(), "needs nsenter (util-linux)");
    auto holder = hold_user_ns();
    REQUIRE(holder);
    const pid_t pid = holder.value().pid();
    auto user = nsfun::NsFd::open(pid, NsType::user);
    REQUIRE(user);
    const std::string dropped =
        output_of(shell(identity_script).join(user.value()).uid(1000).gid(1000).groups({}));
    CHECK(dropped == nsfun::test::run("nsenter -t " + std::to_string(pid) +
                                      " -U -S 1000 -G 1000 sh -c \"" + identity_script + "\"")
                         .out);
    CHECK(dropped.rfind("1000\n1000\n", 0) == 0);
    CHECK(dropped.find("CapEff:\t0000000000000000") != std::string::npos);
    const std::string kept = output_of(
        shell(identity_script).join(user.value()).uid(1000).gid(1000).groups({}).keep_caps());
    CHECK(kept.rfind("1000\n1000\n", 0) == 0);
    CHECK(kept.find("CapEff:" + full_caps()) != std::string::npos);
    CHECK(kept.find("CapAmb:" + full_caps()) != std::string::npos);
    if (nsenter_has("--keep-caps")) {
      CHECK(kept ==
            nsfun::test::run("nsenter -t " + std::to_string(pid) +
                             " -U -S 1000 -G 1000 --keep-caps sh -c \"" + identity_script + "\"")
                .out);
    }
  }

  TEST_CASE("groups sets the supplementary groups in a new user namespace that allows it") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::user}) && ::geteuid() == 0, "needs root");
    auto uids = nsfun::IdMap::single(0, 100000, 65536);
    REQUIRE(uids);
    const nsfun::UserMap map{uids.value(), uids.value(), false};
    CHECK(output_of(shell("id -u; id -G")
                        .namespaces({NsType::user})
                        .user_map(map)
                        .uid(7)
                        .gid(8)
                        .groups({8, 9, 10})) == "7\n8 9 10\n");
  }

  TEST_CASE("gid without a user namespace applies in the caller's, and needs CAP_SETGID") {
    NSFUN_REQUIRE(::geteuid() == 0 && nsfun::test::can_drop_privileges(), "needs root");
    CHECK(output_of(shell("id -g; id -G").gid(1234).groups({})) == "1234\n1234\n");
    CHECK(nsfun::test::in_child([] {
            NSFUN_EXPECT(nsfun::test::drop_privileges() == 0);
            auto r = nsfun::spawn(Command("/bin/true").gid(0));
            NSFUN_EXPECT(!r);
            NSFUN_EXPECT(r.error() == std::errc::operation_not_permitted);
            NSFUN_EXPECT(r.error().message() == "setresgid gid 0: Operation not permitted");
            NSFUN_EXPECT(::waitpid(-1, nullptr, WNOHANG) < 0 && errno == ECHILD);
            return 0;
          }) == 0);
  }

  TEST_CASE("ids a new user namespace does not map are refused before anything starts") {
    auto uids = nsfun::IdMap::single(0, 100000, 1);
    REQUIRE(uids);
    const nsfun::UserMap map{uids.value(), uids.value(), false};
    CHECK(nsfun::test::in_child([&map] {
            auto u =
                nsfun::spawn(Command("/bin/true").namespaces({NsType::user}).user_map(map).uid(5));
            NSFUN_EXPECT(!u && u.error() == std::errc::invalid_argument);
            NSFUN_EXPECT(u.error().message() ==
                         "spawn: uid 5 is not mapped in the new user namespace (uid map "
                         "0:100000:1)");
            auto g = nsfun::spawn(
                Command("/bin/true").namespaces({NsType::user}).user_map(map).groups({0, 3}));
            NSFUN_EXPECT(!g && g.error().message() ==
                                   "spawn: gid 3 is not mapped in the new user namespace (gid "
                                   "map 0:100000:1)");
            auto none = nsfun::spawn(Command("/bin/true").namespaces({NsType::user}).uid(0));
            NSFUN_EXPECT(!none && none.error().message() ==
                                      "spawn: uid 0 is not mapped in the new user namespace (it "
                                      "has no uid map)");
            auto never = nsfun::spawn(Command("/bin/true").uid(static_cast<uid_t>(-1)));
            NSFUN_EXPECT(!never && never.error() == std::errc::invalid_argument);
            NSFUN_EXPECT(never.error().message() ==
                         "spawn: uid 4294967295 is never an id ((uid_t)-1)");
            auto many = nsfun::spawn(Command("/bin/true").groups(std::vector<gid_t>(65537, 0)));
            NSFUN_EXPECT(!many && many.error() == std::errc::invalid_argument);
            NSFUN_EXPECT(::waitpid(-1, nullptr, WNOHANG) < 0 && errno == ECHILD);
            return 0;
          }) == 0);
  }

  TEST_CASE("an id a joined user namespace does not map fails in the child, naming it") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::user}) && ::geteuid() == 0, "needs root");
    auto holder = hold_user_ns();
    REQUIRE(holder);
    auto user = nsfun::NsFd::open(holder.value().pid(), NsType::user);
    REQUIRE(user);
    const std::size_t fds = nsfun::test::open_fd_count();
    auto r = nsfun::spawn(Command("/bin/true").join(user.value()).uid(70000));
    REQUIRE_FALSE(r);
    CHECK(r.error() == std::errc::invalid_argument);
    CHECK(r.error().message() == "setresuid uid 70000: not mapped in the child's user namespace");
    auto g = nsfun::spawn(Command("/bin/true").join(user.value()).gid(70000));
    REQUIRE_FALSE(g);
    CHECK(g.error().message() == "setresgid gid 70000: not mapped in the child's user namespace");
    CHECK(nsfun::test::open_fd_count() == fds);
    CHECK((::waitpid(-1, nullptr, WNOHANG) <= 0));
  }

  TEST_CASE("groups in a joined user namespace whose setgroups is deny: empty works, others fail") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::user}) && ::geteuid() == 0, "needs root");
    NSFUN_REQUIRE(have_nsenter(), "needs nsenter (util-linux)");
    auto uids = nsfun::IdMap::single(0, 100000, 65536);
    REQUIRE(uids);
    auto holder = nsfun::spawn(Command::hold()
                                   .namespaces({NsType::user})
                                   .user_map(nsfun::UserMap{uids.value(), uids.value(), true}));
    REQUIRE(holder);
    const pid_t pid = holder.value().pid();
    CHECK(nsfun::test::read_text("/proc/" + std::to_string(pid) + "/setgroups") == "deny\n");
    auto user = nsfun::NsFd::open(pid, NsType::user);
    REQUIRE(user);
    // nsenter also drops the groups before setns and tolerates the refusal after it.
    const std::string ours =
        output_of(shell(identity_script).join(user.value()).uid(0).gid(0).groups({}));
    CHECK(ours.rfind("0\n0\nGroups:\t \n", 0) == 0);
    CHECK(ours == nsfun::test::run("nsenter -t " + std::to_string(pid) + " -U sh -c \"" +
                                   identity_script + "\"")
                      .out);
    auto r = nsfun::spawn(Command("/bin/true").join(user.value()).groups({1}));
    REQUIRE_FALSE(r);
    CHECK(r.error() == std::errc::operation_not_permitted);
    CHECK(r.error().message() == "setgroups 1 groups, from gid 1: Operation not permitted");
  }

  TEST_CASE("keep_caps without a new or joined user namespace is refused") {
    auto r = nsfun::spawn(Command("/bin/true").keep_caps().uid(0));
    REQUIRE_FALSE(r);
    CHECK(r.error() == nsfun::errc::namespace_not_new);
    CHECK(r.error().message() == "spawn: keep_caps needs a new or joined user namespace");
  }

  TEST_CASE("chroot to a directory or an fd changes the root, not the mount namespace") {
    NSFUN_REQUIRE(::geteuid() == 0, "needs root (CAP_SYS_CHROOT)");
    NSFUN_REQUIRE(::access("/bin/busybox", X_OK) == 0, "needs busybox-static");
    char tmpl[] = "/tmp/nsfun-test-chroot-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    const std::filesystem::path dir = tmpl;
    std::filesystem::create_directories(dir / "bin");
    std::filesystem::create_directories(dir / "sub");
    std::filesystem::copy_file("/bin/busybox", dir / "bin" / "busybox");
    std::filesystem::create_symlink("busybox", dir / "bin" / "sh");
    std::filesystem::create_symlink(dir, dir.string() + "-link");
    const std::string mnt = nsfun::test::ns_link_text("/proc/self", "mnt");
    const std::string script =
        "/bin/busybox ls /; /bin/busybox pwd; /bin/busybox readlink /proc/self/ns/mnt 2>&1 || "
        "echo no-proc";
    CHECK(output_of(Command("/bin/sh").arg("-c").arg(script).chroot(dir.string())) ==
          "bin\nsub\n/\nno-proc\n");
    CHECK(output_of(Command("/bin/sh").arg("-c").arg(script).chroot(dir.string() + "-link")) ==
          "bin\nsub\n/\nno-proc\n");
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    auto owned = nsfun::UniqueFd::adopt(fd);  // owns: just opened
    CHECK(
        output_of(
            Command("/bin/sh").arg("-c").arg("/bin/busybox pwd").chroot(owned.ref()).cwd("/sub")) ==
        "/sub\n");
    // The child's mount namespace is still ours: chroot makes none.
    CHECK(output_of(Command("/bin/readlink").arg("/proc/self/ns/mnt").chroot("/")) == mnt + "\n");
    // Hostile roots: missing, a file, a dangling link (refused before anything starts), a file fd
    // (fails in the child).
    auto missing = nsfun::spawn(Command("/bin/true").chroot(dir.string() + "/none"));
    REQUIRE_FALSE(missing);
    CHECK(missing.error() == std::errc::no_such_file_or_directory);
    CHECK(missing.error().message() ==
          "check chroot " + dir.string() + "/none: No such file or directory");
    auto file = nsfun::spawn(Command("/bin/true").chroot(dir.string() + "/bin/busybox"));
    REQUIRE_FALSE(file);
    CHECK(file.error() == std::errc::not_a_directory);
    std::filesystem::create_symlink(dir / "none", dir / "dangling");
    auto dangling = nsfun::spawn(Command("/bin/true").chroot(dir.string() + "/dangling"));
    REQUIRE_FALSE(dangling);
    CHECK(dangling.error() == std::errc::no_such_file_or_directory);
    const int ffd = ::open((dir / "bin" / "busybox").c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(ffd >= 0);
    auto file_fd = nsfun::UniqueFd::adopt(ffd);  // owns: just opened
    auto not_dir = nsfun::spawn(Command("/bin/true").chroot(file_fd.ref()));
    REQUIRE_FALSE(not_dir);
    CHECK(not_dir.error() == std::errc::not_a_directory);
    CHECK(not_dir.error().what == "fchdir");
    std::error_code ec;
    std::filesystem::remove(dir.string() + "-link", ec);
    std::filesystem::remove_all(dir, ec);
  }

  TEST_CASE("cwd of an fd is that directory") {
    const int fd = ::open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    auto owned = nsfun::UniqueFd::adopt(fd);  // owns: just opened
    CHECK(output_of(Command("/bin/pwd").cwd(owned.ref())) == "/proc\n");
  }

  TEST_CASE("netns of a held namespace: its /sys and /etc/netns/NAME, as ip netns exec") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::net, NsType::mnt}) && ::geteuid() == 0,
                  "needs root");
    auto net = nsfun::acquire<NsType::net>();
    REQUIRE(net);
    const std::string name = nsfun::test::unique_name();
    const nsfun::test::EtcNetns etc_dir(name);
    const std::string& etc = etc_dir.dir;
    {
      std::FILE* f = std::fopen((etc + "/hosts").c_str(), "we");
      REQUIRE(f != nullptr);
      std::fputs("10.9.9.9 nsfun-test-host\n", f);
      std::fclose(f);
    }
    const std::string mounts = nsfun::test::read_text("/proc/self/mountinfo");
    CHECK(output_of(shell("ls /sys/class/net; cat /etc/hosts").netns(net.value(), name)) ==
          "lo\n10.9.9.9 nsfun-test-host\n");
    // Without a name: the /sys of the namespace, no /etc overrides.
    CHECK(output_of(shell("ls /sys/class/net").netns(net.value(), "")) == "lo\n");
    auto bad = nsfun::spawn(Command("/bin/true").netns(net.value(), "../x"));
    REQUIRE_FALSE(bad);
    CHECK(bad.error() == std::errc::invalid_argument);
    // With a joined mount namespace: a new one on top of it, which is left unchanged.
    auto holder = nsfun::spawn(Command::hold().namespaces({NsType::mnt}));
    REQUIRE(holder);
    const std::string their_mounts =
        nsfun::test::read_text("/proc/" + std::to_string(holder.value().pid()) + "/mountinfo");
    auto mnt = nsfun::NsFd::open(holder.value().pid(), NsType::mnt);
    REQUIRE(mnt);
    CHECK(output_of(shell("ls /sys/class/net; cat /etc/hosts")
                        .join(mnt.value())
                        .netns(net.value(), name)) == "lo\n10.9.9.9 nsfun-test-host\n");
    CHECK(nsfun::test::read_text("/proc/" + std::to_string(holder.value().pid()) + "/mountinfo") ==
          their_mounts);
    CHECK(nsfun::test::read_text("/proc/self/mountinfo") == mounts);
  }

  TEST_CASE("netns with a joined user namespace mounts in a mount namespace that one owns") {
    NSFUN_REQUIRE(nsfun::test::can_unshare({NsType::user, NsType::net}) && ::geteuid() == 0,
                  "needs root");
    auto holder = hold_user_ns({NsType::net});
    REQUIRE(holder);
    const pid_t pid = holder.value().pid();
    auto user = nsfun::NsFd::open(pid, NsType::user);
    auto net = nsfun::NsFd::open(pid, NsType::net);
    REQUIRE(user);
    REQUIRE(net);
    auto typed = nsfun::NetNs::from(std::move(net).value());
    REQUIRE(typed);
    CHECK(output_of(shell("ls /sys/class/net; id -u")
                        .join(user.value())
                        .netns(typed.value(), "")
                        .uid(0)
                        .gid(0)) == "lo\n0\n");
  }
}
