// SPDX-License-Identifier: MIT
// nsfun tests – persist.hpp: pin/unpin and /run/netns, against the real kernel and `ip netns`.
//
// Every case works in a forked child that first made a private mount namespace with its own
// tmpfs on /run (nsfun::test::private_run()), so no pin and no /run/netns ever reaches the host.

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <nsfun/acquire.hpp>
#include <nsfun/enter.hpp>
#include <nsfun/format.hpp>
#include <nsfun/ns_fd.hpp>
#include <nsfun/persist.hpp>
#include <nsfun/spawn.hpp>

#include "test_support.hpp"

namespace {

namespace t = nsfun::test;

constexpr const char* no_private_run = "needs CAP_SYS_ADMIN for a private mount namespace";

// True when something (file, directory, dangling link) is at `path`.
bool exists(const std::string& path) {
  struct stat st {};

  return ::lstat(path.c_str(), &st) == 0;
}

// The names in a directory, sorted, without "." and ".."; empty when it cannot be read.
std::vector<std::string> dir_entries(const std::string& path) {
  std::vector<std::string> names;
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) {
    return names;
  }
  while (const dirent* e = ::readdir(dir)) {
    std::string_view n(e->d_name);
    if (n != "." && n != "..") {
      names.emplace_back(n);
    }
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

bool write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  return static_cast<bool>(out);
}

// The /proc/self/mountinfo lines whose mount point (5th field) is `path`, oldest first.
std::vector<std::string> mount_lines(const std::string& path) {
  std::vector<std::string> found;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, devno, root, mount_point;
    fields >> id >> parent >> devno >> root >> mount_point;
    if (mount_point == path) {
      found.push_back(line);
    }
  }
  return found;
}

bool is_mount_point(const std::string& path) {
  return !mount_lines(path).empty();
}

// True when the topmost mount on `path` has a "shared:N" optional field.
bool is_shared_mount(const std::string& path) {
  auto lines = mount_lines(path);
  if (lines.empty()) {
    return false;
  }
  const std::string& top = lines.back();
  auto optional_end = top.find(" - ");
  return top.substr(0, optional_end).find(" shared:") != std::string::npos;
}

// True when `ip netns list` output has a line naming `name` ("NAME" or "NAME (id: N)").
bool ip_lists(const std::string& out, const std::string& name) {
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    if (line == name || line.rfind(name + " ", 0) == 0) {
      return true;
    }
  }
  return false;
}

// What `ip netns exec NAME readlink /proc/self/ns/net` prints, without the newline; the status
// is stored in `status`.
std::string ip_exec_netns_link(const std::string& name, int& status) {
  auto r = t::run("ip netns exec " + name + " readlink /proc/self/ns/net");
  status = r.status;
  while (!r.out.empty() && r.out.back() == '\n') {
    r.out.pop_back();
  }
  return r.out;
}

// A stand-in /etc for Command::netns cases, made on the private /run and bound over /etc in the
// test's own mount namespace: the host has no /etc/netns, and its /etc must not be touched.
// resolv.conf names 192.0.2.1 outside and 192.0.2.53 in /etc/netns/NAME.
bool fake_etc(const std::string& name) {
  const std::string netns_dir = "/run/etc/netns/" + name;
  return ::mkdir("/run/etc", 0755) == 0 && ::mkdir("/run/etc/netns", 0755) == 0 &&
         ::mkdir(netns_dir.c_str(), 0755) == 0 &&
         write_file("/run/etc/resolv.conf", "nameserver 192.0.2.1\n") &&
         write_file(netns_dir + "/resolv.conf", "nameserver 192.0.2.53\n") &&
         ::mount("/run/etc", "/etc", nullptr, MS_BIND, nullptr) == 0;
}

// Runs `cmd` with stdout into a pipe; its output, or "exit N" when it did not exit with 0.
std::string output_of(nsfun::Command cmd) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) < 0) {
    return "pipe2 failed";
  }
  nsfun::UniqueFd r = nsfun::UniqueFd::adopt(fds[0]);  // owns: just made
  nsfun::UniqueFd w = nsfun::UniqueFd::adopt(fds[1]);  // owns: just made
  auto child = nsfun::spawn(cmd.redirect(1, w));
  w.reset();
  if (!child) {
    return child.error().message();
  }
  std::string out;
  char buf[256];
  ssize_t n = 0;
  while ((n = ::read(r.get(), buf, sizeof(buf))) > 0) {
    out.append(buf, static_cast<std::size_t>(n));
  }
  auto status = child.value().wait();
  if (!status || status.value().code != 0 || status.value().signal != 0) {
    return "exit " + std::to_string(status ? status.value().code : -1);
  }
  return out;
}

// True when the error prints exactly `expected`; otherwise says what it printed instead.
bool prints(const nsfun::error& e, const std::string& expected) {
  const std::string text = fmt::format("{}", e);
  if (text != expected) {
    std::fprintf(stderr, "error text:\n  got      %s\n  expected %s\n", text.c_str(),
                 expected.c_str());
    return false;
  }
  return true;
}

bool is_denied(const nsfun::error& e) {
  return e == std::errc::operation_not_permitted || e == std::errc::permission_denied;
}

// The number of mounts in this mount namespace.
std::size_t mount_lines() {
  std::ifstream in("/proc/self/mountinfo");
  std::size_t n = 0;
  for (std::string line; std::getline(in, line);) {
    ++n;
  }
  return n;
}

}  // namespace

TEST_SUITE("persist") {
  TEST_CASE("pin binds a namespace onto a new file and unpin removes it") {
    NSFUN_REQUIRE(t::can_private_run(), no_private_run);
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(t::private_run() == 0);
      auto net = nsfun::acquire<nsfun::NsType::net>();
      NSFUN_EXPECT_OK(net);
      const std::string path = "/run/" + t::unique_name();

      NSFUN_EXPECT(nsfun::pin(net.value(), path.c_str()));
      NSFUN_EXPECT(exists(path));
      NSFUN_EXPECT(is_mount_point(path));
      {
        auto back = nsfun::NsFd::open_path(path.c_str());
        NSFUN_EXPECT_OK(back);
        NSFUN_EXPECT(back.value().type() == nsfun::NsType::net);
        NSFUN_EXPECT(back.value().identity() == net.value().identity());
        NSFUN_EXPECT(back.value().identity().ino() == net.value().identity().ino());
        NSFUN_EXPECT(back.value().identity().id() == net.value().identity().id());
        auto typed = nsfun::NetNs::open_path(path.c_str());
        NSFUN_EXPECT_OK(typed);
        NSFUN_EXPECT(typed.value().identity() == net.value().identity());
      }

      NSFUN_EXPECT(nsfun::unpin(path.c_str()));
      NSFUN_EXPECT(!is_mount_point(path));
      NSFUN_EXPECT(!exists(path));

      auto again = nsfun::unpin(path.c_str());
      NSFUN_EXPECT(!again);
      NSFUN_EXPECT(again.error() == std::errc::no_such_file_or_directory);
      auto reopened = nsfun::NsFd::open_path(path.c_str());
      NSFUN_EXPECT(!reopened);
      NSFUN_EXPECT(reopened.error() == std::errc::no_such_file_or_directory);
      return 0;
    });
  }

  TEST_CASE("pin refuses an existing path and leaves the file untouched") {
    NSFUN_REQUIRE(t::can_private_run(), no_private_run);
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(t::private_run() == 0);
      auto net = nsfun::acquire<nsfun::NsType::net>();
      NSFUN_EXPECT_OK(net);
      const std::string path = "/run/" + t::unique_name();
      NSFUN_EXPECT(write_file(path, "keep me\n"));

      auto r = nsfun::pin(net.value(), path.c_str());
      NSFUN_EXPECT(!r);
      NSFUN_EXPECT(r.error() == std::errc::file_exists);
      NSFUN_EXPECT(t::read_text(path) == "keep me\n");
      NSFUN_EXPECT(!is_mount_point(path));
      auto open = nsfun::NsFd::open_path(path.c_str());
      NSFUN_EXPECT(!open);
      NSFUN_EXPECT(open.error() == nsfun::errc::not_a_namespace);

      // A second pin onto a pinned path is refused too, and the first pin stays.
      const std::string pinned = "/run/" + t::unique_name();
      NSFUN_EXPECT(nsfun::pin(net.value(), pinned.c_str()));
      auto other = nsfun::acquire<nsfun::NsType::net>();
      NSFUN_EXPECT_OK(other);
      auto twice = nsfun::pin(other.value(), pinned.c_str());
      NSFUN_EXPECT(!twice);
      NSFUN_EXPECT(twice.error() == std::errc::file_exists);
      NSFUN_EXPECT(mount_lines(pinned).size() == 1);
      auto back = nsfun::NsFd::open_path(pinned.c_str());
      NSFUN_EXPECT_OK(back);
      NSFUN_EXPECT(back.value().identity() == net.value().identity());
      NSFUN_EXPECT(nsfun::unpin(pinned.c_str()));
      return 0;
    });
  }

  TEST_CASE("pin into a missing directory fails and leaves nothing") {
    NSFUN_REQUIRE(t::can_private_run(), no_private_run);
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(t::private_run() == 0);
      auto net = nsfun::acquire<nsfun::NsType::net>();
      NSFUN_EXPECT_OK(net);
      const std::string dir = "/run/" + t::unique_name();
      const std::string path = dir + "/pin";
      const auto before = dir_entries("/run");

      auto r = nsfun::pin(net.value(), path.c_str());
      NSFUN_EXPECT(!r);
      NSFUN_EXPECT(r.error() == std::errc::no_such_file_or_directory);
      NSFUN_EXPECT(!exists(dir));
      NSFUN_EXPECT(!is_mount_point(path));
      NSFUN_EXPECT(dir_entries("/run") == before);
      return 0;
    });
  }

  TEST_CASE("pin of an empty handle fails and leaves nothing") {
    NSFUN_REQUIRE(t::can_private_run(), no_private_run);
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(t::private_run() == 0);
      const std::string path = "/run/" + t::unique_name();
      const nsfun::NsFd none;
      auto r = nsfun::pin(none, path.c_str());
      NSFUN_EXPECT(!r);
      NSFUN_EXPECT(!exists(path));
      NSFUN_EXPECT(!is_mount_point(path));
      return 0;
    });
  }

  TEST_CASE("unpin removes a plain file that is not a mount point") {
    NSFUN_REQUIRE(t::can_private_run(), no_private_run);
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(t::private_run() == 0);
      const std::string path = "/run/" + t::unique_name();
      NSFUN_EXPECT(write_file(path, ""));
      NSFUN_EXPECT(nsfun::unpin(path.c_str()));
      NSFUN_EXPECT(!exists(path));
      return 0;
    });
  }

  TEST_CASE("a pinned namespace outlives its last fd") {
    NSFUN_REQUIRE(t::can_private_run(), no_private_run);
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(t::private_run() == 0);
      const std::string path = "/run/" + t::unique_name();
      nsfun::Namespace original;
      {
        auto net = nsfun::acquire<nsfun::NsType::net>();
        NSFUN_EXPECT_OK(net);
        original = net.value().identity();
        NSFUN_EXPECT(!original.empty());
        NSFUN_EXPECT(nsfun::pin(net.value(), path.c_str()));
      }  // the only fd on the namespace is closed here

      auto back = nsfun::NetNs::open_path(path.c_str());
      NSFUN_EXPECT_OK(back);
      NSFUN_EXPECT(back.value().identity() == original);
      NSFUN_EXPECT(back.value().identity().ino() == original.ino());
      NSFUN_EXPECT(back.value().identity().id() == original.id());

      // It is a live namespace: a thread can enter it and finds itself there.
      auto inside =
          nsfun::run_in(back.value(), [] { return nsfun::NsFd::current(nsfun::NsType::net); });
      NSFUN_EXPECT_OK(inside);
      NSFUN_EXPECT(inside.value().identity() == original);

      NSFUN_EXPECT(nsfun::unpin(path.c_str()));
      return 0;
    });
  }

  TEST_CASE("netns add open list and remove manage /run/netns") {
    NSFUN_REQUIRE(t::can_private_run(), no_private_run);
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(t::private_run() == 0);
      auto empty = nsfun::netns::list();
      NSFUN_EXPECT_OK(empty);
      NSFUN_EXPECT(empty.value().empty());

      const std::string name = t::unique_name();
      const std::string path = std::string(nsfun::netns::run_dir) + "/" + name;
      auto added = nsfun::netns::add(name);
      NSFUN_EXPECT_OK(added);
      NSFUN_EXPECT(exists(path));
      NSFUN_EXPECT(is_mount_point(path));
      NSFUN_EXPECT(is_shared_mount(nsfun::netns::run_dir));

      // The new namespace is not the caller's.
      auto mine = nsfun::NsFd::current(nsfun::NsType::net);
      NSFUN_EXPECT_OK(mine);
      NSFUN_EXPECT(!(mine.value().identity() == added.value().identity()));

      // Names come back sorted.
      const std::string second = "a-" + name;
      const std::string third = "z-" + name;
      NSFUN_EXPECT(nsfun::netns::add(third));
      NSFUN_EXPECT(nsfun::netns::add(second));
      auto names = nsfun::netns::list();
      NSFUN_EXPECT_OK(names);
      NSFUN_EXPECT(names.value().size() == 3);
      NSFUN_EXPECT(std::is_sorted(names.value().begin(), names.value().end()));
      NSFUN_EXPECT(std::find(names.value().begin(), names.value().end(), name) !=
                   names.value().end());
      NSFUN_EXPECT(names.value() == dir_entries(nsfun::netns::run_dir));

      auto opened = nsfun::netns::open(name);
      NSFUN_EXPECT_OK(opened);
      NSFUN_EXPECT(opened.value().identity() == added.value().identity());
      NSFUN_EXPECT(opened.value().identity().id() == added.value().identity().id());

      // Adding the same name again fails and keeps the first namespace where it was.
      auto twice = nsfun::netns::add(name);
      NSFUN_EXPECT(!twice);
      NSFUN_EXPECT(twice.error() == std::errc::file_exists);
      NSFUN_EXPECT(mount_lines(path).size() == 1);
      auto still = nsfun::netns::open(name);
      NSFUN_EXPECT_OK(still);
      NSFUN_EXPECT(still.value().identity() == added.value().identity());

      NSFUN_EXPECT(nsfun::netns::remove(name));
      NSFUN_EXPECT(!exists(path));
      NSFUN_EXPECT(!is_mount_point(path));
      auto gone = nsfun::netns::open(name);
      NSFUN_EXPECT(!gone);
      NSFUN_EXPECT(gone.error() == std::errc::no_such_file_or_directory);
      auto removed_twice = nsfun::netns::remove(name);
      NSFUN_EXPECT(!removed_twice);
      NSFUN_EXPECT(removed_twice.error() == std::errc::no_such_file_or_directory);
      auto after = nsfun::netns::list();
      NSFUN_EXPECT_OK(after);
      NSFUN_EXPECT(std::find(after.value().begin(), after.value().end(), name) ==
                   after.value().end());
      NSFUN_EXPECT((after.value() == std::vector<std::string>{second, third}));

      // The handle add() returned still holds the namespace after remove.
      auto alive =
          nsfun::run_in(added.value(), [] { return nsfun::NsFd::current(nsfun::NsType::net); });
      NSFUN_EXPECT_OK(alive);
      NSFUN_EXPECT(alive.value().identity() == added.value().identity());

      NSFUN_EXPECT(nsfun::netns::remove(second));
      NSFUN_EXPECT(nsfun::netns::remove(third));
      NSFUN_EXPECT(dir_entries(nsfun::netns::run_dir).empty());
      return 0;
    });
  }

  TEST_CASE("netns attach pins an existing network namespace by name") {
    NSFUN_REQUIRE(t::can_private_run(), no_private_run);
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(t::private_run() == 0);
      auto net = nsfun::acquire<nsfun::NsType::net>();
      NSFUN_EXPECT_OK(net);
      const std::string name = t::unique_name();
      NSFUN_EXPECT(nsfun::netns::attach(name, net.value()));
      NSFUN_EXPECT(is_shared_mount(nsfun::netns::run_dir));
      auto opened = nsfun::netns::open(name);
      NSFUN_EXPECT_OK(opened);
      NSFUN_EXPECT(opened.value().identity() == net.value().identity());
      auto twice = nsfun::netns::attach(name, net.value());
      NSFUN_EXPECT(!twice);
      NSFUN_EXPECT(twice.error() == std::errc::file_exists);
      NSFUN_EXPECT(nsfun::netns::remove(name));
      NSFUN_EXPECT(dir_entries(nsfun::netns::run_dir).empty());
      return 0;
    });
  }

  TEST_CASE("pin and unpin errors name the path") {
    NSFUN_REQUIRE(t::can_private_run(), no_private_run);
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(t::private_run() == 0);
      auto net = nsfun::acquire<nsfun::NsType::net>();
      NSFUN_EXPECT_OK(net);

      const std::string taken = "/run/" + t::unique_name();
      NSFUN_EXPECT(write_file(taken, ""));
      auto exists_already = nsfun::pin(net.value(), taken.c_str());
      NSFUN_EXPECT(!exists_already);
      NSFUN_EXPECT(prints(exists_already.error(), "create pin file " + taken + ": File exists"));

      const std::string in_missing_dir = "/run/" + t::unique_name() + "/pin";
      auto no_dir = nsfun::pin(net.value(), in_missing_dir.c_str());
      NSFUN_EXPECT(!no_dir);
      NSFUN_EXPECT(prints(no_dir.error(),
                          "create pin file " + in_missing_dir + ": No such file or directory"));

      const std::string fresh = "/run/" + t::unique_name();
      auto empty = nsfun::pin(nsfun::NsFd(), fresh.c_str());
      NSFUN_EXPECT(!empty);
      NSFUN_EXPECT(prints(empty.error(), "pin " + fresh + ": no namespace to pin (empty NsFd)"));

      auto not_pinned = nsfun::unpin(fresh.c_str());
      NSFUN_EXPECT(!not_pinned);
      NSFUN_EXPECT(prints(not_pinned.error(), "umount " + fresh + ": No such file or directory"));

      // The three names of `ip netns add` are told apart: the one that exists is named.
      const std::string name = t::unique_name();
      NSFUN_EXPECT(nsfun::netns::add(name));
      auto twice = nsfun::netns::add(name);
      NSFUN_EXPECT(!twice);
      NSFUN_EXPECT(prints(twice.error(), "create pin file /run/netns/" + name + ": File exists"));
      auto attached = nsfun::netns::attach(name, net.value());
      NSFUN_EXPECT(!attached);
      NSFUN_EXPECT(
          prints(attached.error(), "create pin file /run/netns/" + name + ": File exists"));
      NSFUN_EXPECT(nsfun::netns::remove(name));
      auto gone = nsfun::netns::open(name);
      NSFUN_EXPECT(!gone);
      NSFUN_EXPECT(prints(gone.error(), "stat /run/netns/" + name + ": No such file or directory"));
      auto removed = nsfun::netns::remove(name);
      NSFUN_EXPECT(!removed);
      NSFUN_EXPECT(
          prints(removed.error(), "umount /run/netns/" + name + ": No such file or directory"));

      // A pin of another type under /run/netns: the type check names the path and both types.
      const std::string uts_name = t::unique_name();
      auto uts = nsfun::acquire<nsfun::NsType::uts>();
      NSFUN_EXPECT_OK(uts);
      const std::string uts_path = std::string(nsfun::netns::run_dir) + "/" + uts_name;
      NSFUN_EXPECT(nsfun::pin(uts.value(), uts_path.c_str()));
      auto wrong = nsfun::netns::open(uts_name);
      NSFUN_EXPECT(!wrong);
      NSFUN_EXPECT(prints(wrong.error(), "namespace type " + uts_path + ": expected net, got uts"));
      NSFUN_EXPECT(nsfun::unpin(uts_path.c_str()));
      NSFUN_EXPECT(::unlink(taken.c_str()) == 0);
      return 0;
    });
  }

  TEST_CASE("invalid netns names are named with the reason") {
    const std::string with_nul("a\0b", 3);
    const std::pair<std::string_view, const char*> cases[] = {
        {"", R"(netns name "": empty)"},
        {"..", R"(netns name "..": not a name but a directory reference)"},
        {"a/b", R"(netns name "a/b": contains '/')"},
        {with_nul, R"(netns name "a...": contains a NUL byte)"},
    };
    for (auto [name, expected] : cases) {
      auto r = nsfun::netns::open(name);
      REQUIRE_FALSE(r);
      CHECK(r.error() == nsfun::errc::invalid_name);
      CHECK(fmt::format("{}", r.error()) == expected);
    }
    auto long_name = nsfun::netns::remove(std::string(256, 'x'));
    REQUIRE_FALSE(long_name);
    CHECK(long_name.error().reason() == "longer than 255 bytes");
    CHECK(long_name.error().object() == "\"" + std::string(64, 'x') + "...\"");
  }

  TEST_CASE("netns refuses invalid names and creates nothing") {
    NSFUN_REQUIRE(t::can_private_run(), no_private_run);
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(t::private_run() == 0);
      // One valid namespace first, so that /run/netns exists and its listing can be compared.
      const std::string valid = t::unique_name();
      NSFUN_EXPECT(nsfun::netns::add(valid));
      const auto run_before = dir_entries("/run");
      const std::vector<std::string> netns_before{valid};
      NSFUN_EXPECT(dir_entries(nsfun::netns::run_dir) == netns_before);

      const std::string too_long(256, 'x');
      const std::string with_nul("a\0b", 3);
      const std::string_view invalid[] = {"", ".", "..", "a/b", "/abs", "a/", too_long, with_nul};
      for (std::string_view name : invalid) {
        NSFUN_EXPECT(!nsfun::is_valid_ns_name(name));
        auto added = nsfun::netns::add(name);
        NSFUN_EXPECT(!added);
        NSFUN_EXPECT(added.error() == nsfun::errc::invalid_name);
        auto opened = nsfun::netns::open(name);
        NSFUN_EXPECT(!opened);
        NSFUN_EXPECT(opened.error() == nsfun::errc::invalid_name);
        auto removed = nsfun::netns::remove(name);
        NSFUN_EXPECT(!removed);
        NSFUN_EXPECT(removed.error() == nsfun::errc::invalid_name);
        auto net = nsfun::acquire<nsfun::NsType::net>();
        NSFUN_EXPECT_OK(net);
        auto attached = nsfun::netns::attach(name, net.value());
        NSFUN_EXPECT(!attached);
        NSFUN_EXPECT(attached.error() == nsfun::errc::invalid_name);
      }
      NSFUN_EXPECT(dir_entries(nsfun::netns::run_dir) == netns_before);
      NSFUN_EXPECT(dir_entries("/run") == run_before);
      NSFUN_EXPECT(!exists("/run/netns/a"));
      NSFUN_EXPECT(!exists("/abs"));
      NSFUN_EXPECT(mount_lines("/run/netns/" + valid).size() == 1);
      return 0;
    });
  }

  TEST_CASE("netns accepts a name of 255 bytes") {
    NSFUN_REQUIRE(t::can_private_run(), no_private_run);
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(t::private_run() == 0);
      const std::string name(255, 'n');
      NSFUN_EXPECT(nsfun::is_valid_ns_name(name));
      auto added = nsfun::netns::add(name);
      NSFUN_EXPECT_OK(added);
      auto opened = nsfun::netns::open(name);
      NSFUN_EXPECT_OK(opened);
      NSFUN_EXPECT(opened.value().identity() == added.value().identity());
      NSFUN_EXPECT(nsfun::netns::remove(name));
      NSFUN_EXPECT(dir_entries(nsfun::netns::run_dir).empty());
      return 0;
    });
  }

  TEST_CASE("a namespace added by nsfun is usable with ip netns") {
    NSFUN_REQUIRE(t::can_private_run(), no_private_run);
    NSFUN_REQUIRE(t::have_program("ip"), "needs the ip program (iproute2)");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(t::private_run() == 0);
      const std::string name = t::unique_name();
      auto added = nsfun::netns::add(name);
      NSFUN_EXPECT_OK(added);

      auto listed = t::run("ip netns list");
      NSFUN_EXPECT(listed.status == 0);
      NSFUN_EXPECT(ip_lists(listed.out, name));

      int status = -1;
      const std::string link = ip_exec_netns_link(name, status);
      NSFUN_EXPECT(status == 0);
      NSFUN_EXPECT(link == fmt::format("{}", added.value().identity()));
      NSFUN_EXPECT(link == "net:[" + std::to_string(added.value().identity().ino()) + "]");

      NSFUN_EXPECT(nsfun::netns::remove(name));
      auto after = t::run("ip netns list");
      NSFUN_EXPECT(after.status == 0);
      NSFUN_EXPECT(!ip_lists(after.out, name));
      return 0;
    });
  }

  TEST_CASE("a namespace added by ip netns opens with nsfun") {
    NSFUN_REQUIRE(t::can_private_run(), no_private_run);
    NSFUN_REQUIRE(t::have_program("ip"), "needs the ip program (iproute2)");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(t::private_run() == 0);
      const std::string name = t::unique_name();
      NSFUN_EXPECT(t::run("ip netns add " + name).status == 0);

      auto names = nsfun::netns::list();
      NSFUN_EXPECT_OK(names);
      NSFUN_EXPECT((names.value() == std::vector<std::string>{name}));

      auto opened = nsfun::netns::open(name);
      NSFUN_EXPECT_OK(opened);
      int status = -1;
      const std::string link = ip_exec_netns_link(name, status);
      NSFUN_EXPECT(status == 0);
      NSFUN_EXPECT(link == fmt::format("{}", opened.value().identity()));

      NSFUN_EXPECT(nsfun::netns::remove(name));
      auto after = t::run("ip netns list");
      NSFUN_EXPECT(after.status == 0);
      NSFUN_EXPECT(!ip_lists(after.out, name));
      NSFUN_EXPECT(!exists(std::string(nsfun::netns::run_dir) + "/" + name));
      return 0;
    });
  }

  TEST_CASE("a namespace added by nsfun and deleted by ip netns is gone") {
    NSFUN_REQUIRE(t::can_private_run(), no_private_run);
    NSFUN_REQUIRE(t::have_program("ip"), "needs the ip program (iproute2)");
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(t::private_run() == 0);
      const std::string name = t::unique_name();
      NSFUN_EXPECT(nsfun::netns::add(name));
      NSFUN_EXPECT(t::run("ip netns delete " + name).status == 0);

      auto opened = nsfun::netns::open(name);
      NSFUN_EXPECT(!opened);
      NSFUN_EXPECT(opened.error() == std::errc::no_such_file_or_directory);
      auto names = nsfun::netns::list();
      NSFUN_EXPECT_OK(names);
      NSFUN_EXPECT(names.value().empty());
      return 0;
    });
  }

  TEST_CASE("netns open refuses a pin of another namespace type") {
    NSFUN_REQUIRE(t::can_private_run(), no_private_run);
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(t::private_run() == 0);
      auto uts = nsfun::acquire<nsfun::NsType::uts>();
      NSFUN_EXPECT_OK(uts);
      NSFUN_EXPECT(::mkdir(nsfun::netns::run_dir, 0755) == 0);
      const std::string name = t::unique_name();
      const std::string path = std::string(nsfun::netns::run_dir) + "/" + name;
      NSFUN_EXPECT(nsfun::pin(uts.value(), path.c_str()));

      auto opened = nsfun::netns::open(name);
      NSFUN_EXPECT(!opened);
      NSFUN_EXPECT(opened.error() == nsfun::errc::wrong_namespace_type);
      // Opened without a type, it is the uts namespace.
      auto any = nsfun::NsFd::open_path(path.c_str());
      NSFUN_EXPECT_OK(any);
      NSFUN_EXPECT(any.value().type() == nsfun::NsType::uts);
      NSFUN_EXPECT(any.value().identity() == uts.value().identity());

      NSFUN_EXPECT(nsfun::unpin(path.c_str()));
      NSFUN_EXPECT(!exists(path));

      // A plain file in /run/netns is not a namespace at all.
      NSFUN_EXPECT(write_file(path, ""));
      auto plain = nsfun::netns::open(name);
      NSFUN_EXPECT(!plain);
      NSFUN_EXPECT(plain.error() == nsfun::errc::not_a_namespace);
      NSFUN_EXPECT(nsfun::netns::remove(name));
      NSFUN_EXPECT(dir_entries(nsfun::netns::run_dir).empty());
      return 0;
    });
  }

  TEST_CASE("netns add without privileges fails and leaves nothing") {
    NSFUN_REQUIRE(t::can_private_run(), no_private_run);
    NSFUN_REQUIRE(t::can_drop_privileges(), "needs to switch to uid 65534");
    // /run/netns missing: the caller may not create it.
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(t::private_run() == 0);
      NSFUN_EXPECT(t::drop_privileges() == 0);
      const std::string name = t::unique_name();
      auto added = nsfun::netns::add(name);
      NSFUN_EXPECT(!added);
      NSFUN_EXPECT(is_denied(added.error()));
      NSFUN_EXPECT(!exists(nsfun::netns::run_dir));
      NSFUN_EXPECT(dir_entries("/run").empty());
      return 0;
    });
    // /run/netns present and world-writable: only the missing privilege stops add and pin.
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(t::private_run() == 0);
      NSFUN_EXPECT(::mkdir(nsfun::netns::run_dir, 0777) == 0);
      NSFUN_EXPECT(::chmod(nsfun::netns::run_dir, 0777) == 0);
      auto net = nsfun::acquire<nsfun::NsType::net>();
      NSFUN_EXPECT_OK(net);
      NSFUN_EXPECT(t::drop_privileges() == 0);
      const std::string name = t::unique_name();

      auto added = nsfun::netns::add(name);
      NSFUN_EXPECT(!added);
      NSFUN_EXPECT(is_denied(added.error()));
      NSFUN_EXPECT(dir_entries(nsfun::netns::run_dir).empty());

      const std::string path = std::string(nsfun::netns::run_dir) + "/" + name;
      auto pinned = nsfun::pin(net.value(), path.c_str());
      NSFUN_EXPECT(!pinned);
      NSFUN_EXPECT(is_denied(pinned.error()));
      NSFUN_EXPECT(!exists(path));
      NSFUN_EXPECT(dir_entries(nsfun::netns::run_dir).empty());
      NSFUN_EXPECT(!is_mount_point(path));
      return 0;
    });
  }

  TEST_CASE("pin and netns calls leak no fd") {
    NSFUN_REQUIRE(t::can_private_run(), no_private_run);
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(t::private_run() == 0);
      // One round first, so that lazily opened library state does not count as a leak.
      {
        auto warm = nsfun::netns::add(t::unique_name());
        NSFUN_EXPECT_OK(warm);
      }
      const std::size_t before = t::open_fd_count();
      for (int i = 0; i < 5; ++i) {
        const std::string name = t::unique_name();
        {
          auto added = nsfun::netns::add(name);
          NSFUN_EXPECT_OK(added);
          auto opened = nsfun::netns::open(name);
          NSFUN_EXPECT_OK(opened);
          auto twice = nsfun::netns::add(name);
          NSFUN_EXPECT(!twice);
          auto names = nsfun::netns::list();
          NSFUN_EXPECT_OK(names);
          auto bad = nsfun::netns::open("a/b");
          NSFUN_EXPECT(!bad);
        }
        NSFUN_EXPECT(nsfun::netns::remove(name));
        auto gone = nsfun::netns::open(name);
        NSFUN_EXPECT(!gone);
        NSFUN_EXPECT(!nsfun::netns::remove(name));

        const std::string path = "/run/" + name;
        {
          auto net = nsfun::acquire<nsfun::NsType::net>();
          NSFUN_EXPECT_OK(net);
          NSFUN_EXPECT(nsfun::pin(net.value(), path.c_str()));
          NSFUN_EXPECT(!nsfun::pin(net.value(), path.c_str()));
          NSFUN_EXPECT(!nsfun::pin(net.value(), "/run/missing/dir"));
        }
        NSFUN_EXPECT(nsfun::unpin(path.c_str()));
      }
      NSFUN_EXPECT(t::open_fd_count() == before);
      return 0;
    });
  }

  TEST_CASE("Command::netns runs a program the way ip netns exec does") {
    NSFUN_REQUIRE(t::can_private_run(), no_private_run);
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(t::private_run() == 0);
      const std::string name = t::unique_name();
      NSFUN_EXPECT(fake_etc(name));
      auto ns = nsfun::netns::add(name);
      NSFUN_EXPECT_OK(ns);

      // /etc/netns/NAME/resolv.conf is what the program sees as /etc/resolv.conf …
      NSFUN_EXPECT(output_of(nsfun::Command("cat").arg("/etc/resolv.conf").netns(name)) ==
                   "nameserver 192.0.2.53\n");
      // … in the named network namespace, with a /sys that shows its devices (only lo) …
      NSFUN_EXPECT(output_of(nsfun::Command("readlink").arg("/proc/self/ns/net").netns(name)) ==
                   fmt::format("net:[{}]\n", ns.value().identity().ino()));
      NSFUN_EXPECT(output_of(nsfun::Command("ls").arg("/sys/class/net").netns(name)) == "lo\n");
      // … while the caller keeps its own /etc, /sys and mount table.
      NSFUN_EXPECT(t::read_text("/etc/resolv.conf") == "nameserver 192.0.2.1\n");
      NSFUN_EXPECT(dir_entries("/sys/class/net") != std::vector<std::string>{"lo"});
      NSFUN_EXPECT(mount_lines("/etc").size() == 1);
      // Nothing goes back even from a shared / with keep_propagation (this namespace's mounts are
      // made shared among themselves only: it was made private from the host's first).
      NSFUN_EXPECT(::mount(nullptr, "/", nullptr, MS_REC | MS_SHARED, nullptr) == 0);
      const std::string mounts = t::read_text("/proc/self/mountinfo");
      NSFUN_EXPECT(
          output_of(nsfun::Command("cat").arg("/etc/resolv.conf").netns(name).keep_propagation()) ==
          "nameserver 192.0.2.53\n");
      NSFUN_EXPECT(t::read_text("/proc/self/mountinfo") == mounts);
      // ip netns exec agrees.
      if (t::have_program("ip")) {
        auto ip = t::run("ip netns exec " + name + " cat /etc/resolv.conf");
        NSFUN_EXPECT(ip.status == 0 && ip.out == "nameserver 192.0.2.53\n");
      }
      NSFUN_EXPECT(nsfun::netns::remove(name));
      return 0;
    });
  }

  TEST_CASE("Command::netns refuses what it cannot do, and leaves no process") {
    NSFUN_REQUIRE(t::can_private_run(), no_private_run);
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(t::private_run() == 0);
      const std::string name = t::unique_name();
      NSFUN_EXPECT(fake_etc(name));

      auto missing = nsfun::spawn(nsfun::Command("true").netns(name));
      NSFUN_EXPECT(!missing && missing.error() == std::errc::no_such_file_or_directory);
      auto invalid = nsfun::spawn(nsfun::Command("true").netns("../x"));
      NSFUN_EXPECT(!invalid && invalid.error() == nsfun::errc::invalid_name);

      auto ns = nsfun::netns::add(name);
      NSFUN_EXPECT_OK(ns);
      auto both = nsfun::spawn(nsfun::Command("true").netns(name).namespaces({nsfun::NsType::net}));
      NSFUN_EXPECT(!both && both.error() == std::errc::invalid_argument);
      auto joined = nsfun::spawn(nsfun::Command("true").netns(name).join(ns.value()));
      NSFUN_EXPECT(!joined && joined.error() == std::errc::invalid_argument);

      // An override for a file /etc does not have: the bind fails, and so does the spawn.
      NSFUN_EXPECT(write_file("/run/etc/netns/" + name + "/nsfun-missing", "x"));
      auto bad_bind = nsfun::spawn(nsfun::Command("true").netns(name));
      NSFUN_EXPECT(!bad_bind && bad_bind.error() == std::errc::no_such_file_or_directory);
      NSFUN_EXPECT(bad_bind.error().message().find("/etc/netns") != std::string::npos);
      // The failed child was reaped: this process has no children left.
      NSFUN_EXPECT(::waitpid(-1, nullptr, WNOHANG) < 0 && errno == ECHILD);
      NSFUN_EXPECT(nsfun::netns::remove(name));
      return 0;
    });
  }

  TEST_CASE("Pin unpins on destruction unless kept") {
    NSFUN_REQUIRE(t::can_private_run(), no_private_run);
    NSFUN_CHECK_CHILD([] {
      NSFUN_EXPECT(t::private_run() == 0);
      auto net = nsfun::acquire<nsfun::NsType::net>();
      NSFUN_EXPECT_OK(net);
      const std::string path = "/run/" + t::unique_name();
      const std::size_t mounts = mount_lines();
      {
        auto pin = nsfun::Pin::create(net.value().ns(), path);
        NSFUN_EXPECT_OK(pin);
        NSFUN_EXPECT(pin.value().path() == path && mount_lines() == mounts + 1);
        nsfun::Pin moved = std::move(pin).value();
        NSFUN_EXPECT(exists(path));
      }
      NSFUN_EXPECT(!exists(path) && mount_lines() == mounts);
      {
        auto pin = nsfun::Pin::create(net.value().ns(), path);
        NSFUN_EXPECT_OK(pin);
        pin.value().keep();
      }
      NSFUN_EXPECT(exists(path));
      auto reopened = nsfun::NetNs::open_path(path.c_str());
      NSFUN_EXPECT_OK(reopened);
      NSFUN_EXPECT(reopened.value().identity() == net.value().identity());
      auto adopted = nsfun::Pin::adopt(path);
      NSFUN_EXPECT_OK(adopted);
      NSFUN_EXPECT_OK(adopted.value().unpin());
      NSFUN_EXPECT(!adopted.value() && !exists(path) && mount_lines() == mounts);
      auto taken = nsfun::Pin::create(net.value().ns(), "/run/missing-dir/x");
      NSFUN_EXPECT(!taken && taken.error() == std::errc::no_such_file_or_directory);
      return 0;
    });
  }
}
