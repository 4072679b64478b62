// SPDX-License-Identifier: MIT
// Exhaustion (issue 17): a namespace count limit of /proc/sys/user, the process limit and the
// open file limit each give a clear error naming the limit, and leave nothing half-made: no
// process, no fd.

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <string>

#include <dlfcn.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <nsfun/acquire.hpp>
#include <nsfun/enter.hpp>
#include <nsfun/ns_fd.hpp>
#include <nsfun/spawn.hpp>

#include "test_support.hpp"

namespace {

using nsfun::NsType;

// Writes `value` to /proc/sys/user/`file` (of the caller's user namespace). 0 or errno.
int write_user_limit(const char* file, const char* value) {
  std::string path = std::string("/proc/sys/user/") + file;
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    return errno;
  }
  ssize_t n = ::write(fd, value, std::char_traits<char>::length(value));
  int err = n < 0 ? errno : 0;
  ::close(fd);
  return err;
}

// The number of children this process has (every thread's), from /proc.
std::size_t children_count() {
  std::size_t n = 0;
  for (const auto& t : std::filesystem::directory_iterator("/proc/self/task")) {
    n += nsfun::test::split_words(nsfun::test::read_text(t.path().string() + "/children")).size();
  }
  return n;
}

bool contains(const std::string& s, const char* part) {
  return s.find(part) != std::string::npos;
}

// In a forked child: a user namespace of its own (full capabilities there) with `file` set to 0.
int in_limited_userns(const char* file, int (*body)()) {
  return nsfun::test::in_child([file, body] {
    if (::unshare(CLONE_NEWUSER) != 0) {
      std::fprintf(stderr, "unshare CLONE_NEWUSER: %s\n", std::strerror(errno));
      return 3;
    }
    if (int err = write_user_limit(file, "0"); err != 0) {
      std::fprintf(stderr, "write %s: %s\n", file, std::strerror(err));
      return 3;
    }
    return body();
  });
}

}  // namespace

TEST_CASE("exhaustion: max_net_namespaces = 0 names the limit, in unshare, acquire and spawn") {
  NSFUN_REQUIRE(nsfun::test::can_unshare(nsfun::NsTypeSet{NsType::user}), "needs user namespaces");
  int st = in_limited_userns("max_net_namespaces", [] {
    const std::size_t fds = nsfun::test::open_fd_count();
    auto u = nsfun::unshare({NsType::net});
    NSFUN_EXPECT(!u);
    NSFUN_EXPECT(u.error().code == std::errc::no_space_on_device);
    NSFUN_EXPECT(contains(u.error().message(), "unshare net"));
    NSFUN_EXPECT(contains(u.error().message(), "max_net_namespaces"));
    auto a = nsfun::acquire({NsType::net});
    NSFUN_EXPECT(!a);
    NSFUN_EXPECT(contains(a.error().message(), "max_net_namespaces"));
    auto s = nsfun::spawn(nsfun::Command("/bin/true").namespaces({NsType::net}));
    NSFUN_EXPECT(!s);
    NSFUN_EXPECT(s.error().code == std::errc::no_space_on_device);
    NSFUN_EXPECT(contains(s.error().message(), "max_net_namespaces"));
    // Other types are still allowed: only the limit set is hit.
    NSFUN_EXPECT(nsfun::unshare({NsType::uts}).has_value());
    NSFUN_EXPECT(children_count() == 0);
    NSFUN_EXPECT(nsfun::test::open_fd_count() == fds);
    return 0;
  });
  CHECK(st == 0);
}

TEST_CASE("exhaustion: max_user_namespaces = 0 names the limit") {
  NSFUN_REQUIRE(nsfun::test::can_unshare(nsfun::NsTypeSet{NsType::user}), "needs user namespaces");
  int st = in_limited_userns("max_user_namespaces", [] {
    auto u = nsfun::unshare({NsType::user, NsType::uts});
    NSFUN_EXPECT(!u);
    NSFUN_EXPECT(u.error().code == std::errc::no_space_on_device);
    NSFUN_EXPECT(contains(u.error().message(), "max_user_namespaces, max_uts_namespaces"));
    auto s = nsfun::spawn(nsfun::Command("/bin/true").namespaces({NsType::user}));
    NSFUN_EXPECT(!s);
    NSFUN_EXPECT(contains(s.error().message(), "max_user_namespaces"));
    NSFUN_EXPECT(children_count() == 0);
    return 0;
  });
  CHECK(st == 0);
}

TEST_CASE("exhaustion: RLIMIT_NOFILE reached names the limit, and spawn leaves nothing") {
  // UBSan's vptr check (-fsanitize=undefined) probes memory through a pipe: with no fd left it
  // reports every virtual call (error_category's here) as made on an invalid object.
  NSFUN_REQUIRE(::dlsym(RTLD_DEFAULT, "__ubsan_handle_dynamic_type_cache_miss") == nullptr,
                "UBSan's vptr check needs a free fd (it probes memory with pipe2)");
  int st = nsfun::test::in_child([] {
    const std::size_t fds = nsfun::test::open_fd_count();
    // No fd beyond those open now (one fewer than the count: directory_iterator's own is gone).
    rlimit rl{};
    NSFUN_EXPECT(::getrlimit(RLIMIT_NOFILE, &rl) == 0);
    int top = 0;
    for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
      top = std::max(top, std::stoi(e.path().filename().string()));
    }
    rlimit low = rl;
    low.rlim_cur = static_cast<rlim_t>(top) + 1;
    NSFUN_EXPECT(::setrlimit(RLIMIT_NOFILE, &low) == 0);
    // Fill any gap below the limit, so that the next fd has nowhere to go.
    std::vector<int> fillers;
    for (;;) {
      int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        break;
      }
      fillers.push_back(fd);
    }
    auto ns = nsfun::NsFd::current(nsfun::NsLink::net);
    NSFUN_EXPECT(!ns);
    NSFUN_EXPECT(ns.error().code == std::errc::too_many_files_open);
    NSFUN_EXPECT(
        contains(ns.error().message(), ("RLIMIT_NOFILE " + std::to_string(low.rlim_cur)).c_str()));
    auto s = nsfun::spawn(nsfun::Command("/bin/true").namespaces({NsType::uts}));
    NSFUN_EXPECT(!s);
    NSFUN_EXPECT(contains(s.error().message(), "RLIMIT_NOFILE"));
    for (int fd : fillers) {
      ::close(fd);
    }
    NSFUN_EXPECT(children_count() == 0);
    NSFUN_EXPECT(::setrlimit(RLIMIT_NOFILE, &rl) == 0);
    NSFUN_EXPECT(nsfun::test::open_fd_count() == fds);
    return 0;
  });
  CHECK(st == 0);
}

TEST_CASE("exhaustion: RLIMIT_NPROC reached names the process limit, and spawn leaves nothing") {
  NSFUN_REQUIRE(nsfun::test::can_drop_privileges(), "needs to drop to nobody");
  int st = nsfun::test::in_child([] {
    NSFUN_EXPECT(nsfun::test::drop_privileges() == 0);
    // nobody runs this process only (or a few more): no room for one more.
    rlimit rl{1, 1};
    NSFUN_EXPECT(::setrlimit(RLIMIT_NPROC, &rl) == 0);
    auto s = nsfun::spawn(nsfun::Command("/bin/true"));
    NSFUN_EXPECT(!s);
    NSFUN_EXPECT(s.error().code == std::errc::resource_unavailable_try_again);
    NSFUN_EXPECT(contains(s.error().message(), "RLIMIT_NPROC 1"));
    NSFUN_EXPECT(children_count() == 0);
    return 0;
  });
  CHECK(st == 0);
}
