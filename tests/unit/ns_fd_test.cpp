// SPDX-License-Identifier: MIT
// nsfun tests – ns_fd.hpp without privileges: opening, checking, identity, errors.

#include <cstdio>
#include <string>
#include <type_traits>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <nsfun/format.hpp>
#include <nsfun/ns_fd.hpp>
#include <nsfun/pidfd.hpp>

#include "test_support.hpp"

using nsfun::NsFd;
using nsfun::NsType;

TEST_SUITE("ns_fd") {
  TEST_CASE("current opens every type and matches the proc link") {
    std::size_t before = nsfun::test::open_fd_count();
    for (nsfun::NsLink l : nsfun::all_ns_links) {
      auto ns = NsFd::current(l);
      REQUIRE(ns);
      CHECK(ns.value().type() == nsfun::type_of(l));
      CHECK(fmt::format("{}", ns.value()) ==
            nsfun::test::ns_link_text("/proc/thread-self", nsfun::name(l)));
      CHECK((::fcntl(ns.value().get(), F_GETFD) & FD_CLOEXEC) != 0);
      auto current = ns.value().is_current();
      REQUIRE(current);
      CHECK(current.value());
    }
    CHECK(nsfun::test::open_fd_count() == before);
  }

  TEST_CASE("identity carries the nsfs device and the kernel id where available") {
    auto ns = NsFd::current(NsType::net);
    REQUIRE(ns);

    struct stat st {};

    REQUIRE(::stat("/proc/self/ns/net", &st) == 0);
    CHECK(ns.value().identity().dev() == st.st_dev);
    CHECK(ns.value().identity().ino() == st.st_ino);
    // NS_GET_ID exists from Linux 6.18; on older kernels the id is 0 and identity is (dev, ino).
    auto again = NsFd::current(NsType::net);
    CHECK(again.value().identity().id() == ns.value().identity().id());
    CHECK(again.value().identity() == ns.value().identity());
  }

  TEST_CASE("open by pid equals current for our own pid") {
    for (NsType t : nsfun::all_ns_types) {
      auto a = NsFd::open(::getpid(), t);
      auto b = NsFd::current(t);
      REQUIRE(a);
      REQUIRE(b);
      CHECK(a.value().identity() == b.value().identity());
    }
  }

  TEST_CASE("open of a pid that does not exist is ESRCH") {
    auto r = NsFd::open(0x3ffffff0, NsType::net);
    REQUIRE_FALSE(r);
    CHECK(r.error() == std::errc::no_such_process);
    CHECK(NsFd::open(0, NsType::net).error() == std::errc::no_such_process);
    CHECK(NsFd::open(-1, NsType::net).error() == std::errc::no_such_process);
  }

  TEST_CASE("open by pid names the proc path it failed on") {
    auto r = NsFd::open(0x3ffffff0, NsType::net);
    REQUIRE_FALSE(r);
    CHECK(fmt::format("{}", r.error()) == "open /proc/1073741808/ns/net: No such process");
    auto link = NsFd::open(0x3ffffff0, nsfun::NsLink::pid_for_children);
    REQUIRE_FALSE(link);
    CHECK(link.error().message() == "open /proc/1073741808/ns/pid_for_children: No such process");
    auto zero = NsFd::open(0, NsType::uts);
    REQUIRE_FALSE(zero);
    CHECK(zero.error().message() == "open /proc/0/ns/uts: no process has pid 0");
  }

  TEST_CASE("open of a zombie is ESRCH") {
    pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      ::_exit(0);
    }
    siginfo_t info{};
    REQUIRE(::waitid(P_PID, static_cast<id_t>(child), &info, WEXITED | WNOWAIT) == 0);
    auto r = NsFd::open(child, NsType::net);
    ::waitpid(child, nullptr, 0);
    REQUIRE_FALSE(r);
    CHECK(r.error() == std::errc::no_such_process);
    CHECK(r.error().message() == fmt::format("open /proc/{}/ns/net: No such process", child));
  }

  TEST_CASE("open_path refuses a regular file a directory and a missing path") {
    char tmpl[] = "/tmp/nsfun-test-XXXXXX";
    int fd = ::mkstemp(tmpl);
    REQUIRE(fd >= 0);
    ::close(fd);
    auto file = NsFd::open_path(tmpl);
    ::unlink(tmpl);
    REQUIRE_FALSE(file);
    CHECK(file.error() == nsfun::errc::not_a_namespace);

    auto dir = NsFd::open_path("/proc/self/ns");
    REQUIRE_FALSE(dir);
    CHECK(dir.error() == nsfun::errc::not_a_namespace);

    auto missing = NsFd::open_path("/nonexistent/nsfun");
    REQUIRE_FALSE(missing);
    CHECK(missing.error() == std::errc::no_such_file_or_directory);
  }

  TEST_CASE("open_path errors name the path") {
    char tmpl[] = "/tmp/nsfun-test-XXXXXX";
    int fd = ::mkstemp(tmpl);
    REQUIRE(fd >= 0);
    ::close(fd);
    auto file = NsFd::open_path(tmpl);
    ::unlink(tmpl);
    REQUIRE_FALSE(file);
    CHECK(fmt::format("{}", file.error()) ==
          fmt::format("NS_GET_NSTYPE {}: Not a namespace file", tmpl));

    auto dir = NsFd::open_path("/proc/self/ns");
    REQUIRE_FALSE(dir);
    CHECK(dir.error().message() == "stat /proc/self/ns: a directory, not a namespace file");

    auto missing = NsFd::open_path("/nonexistent/nsfun");
    REQUIRE_FALSE(missing);
    CHECK(missing.error().message() == "stat /nonexistent/nsfun: No such file or directory");

    auto device = NsFd::open_path("/dev/null");
    REQUIRE_FALSE(device);
    CHECK(device.error().message() ==
          "stat /dev/null: not a regular file, so not a namespace file");
  }

  TEST_CASE("open_path does not block on a FIFO") {
    char dir[] = "/tmp/nsfun-test-XXXXXX";
    REQUIRE(::mkdtemp(dir) != nullptr);
    std::string fifo = std::string(dir) + "/fifo";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    auto r = NsFd::open_path(fifo.c_str());
    ::unlink(fifo.c_str());
    ::rmdir(dir);
    REQUIRE_FALSE(r);
    CHECK(r.error() == nsfun::errc::not_a_namespace);
  }

  TEST_CASE("open_path checks the expected type") {
    auto ok = NsFd::open_path("/proc/self/ns/uts", NsType::uts);
    REQUIRE(ok);
    CHECK(ok.value().type() == NsType::uts);
    auto wrong = NsFd::open_path("/proc/self/ns/uts", NsType::net);
    REQUIRE_FALSE(wrong);
    CHECK(wrong.error() == nsfun::errc::wrong_namespace_type);
  }

  TEST_CASE("the type check names both types and the path") {
    auto wrong = NsFd::open_path("/proc/self/ns/uts", NsType::net);
    REQUIRE_FALSE(wrong);
    CHECK(fmt::format("{}", wrong.error()) ==
          "namespace type /proc/self/ns/uts: expected net, got uts");
    auto typed = nsfun::MntNs::open_path("/proc/self/ns/ipc");
    REQUIRE_FALSE(typed);
    CHECK(typed.error().message() == "namespace type /proc/self/ns/ipc: expected mnt, got ipc");

    auto uts = NsFd::current(NsType::uts);
    REQUIRE(uts);
    const auto ino = uts.value().identity().ino();
    auto from = nsfun::NetNs::from(std::move(uts).value());
    REQUIRE_FALSE(from);
    CHECK(from.error() == nsfun::errc::wrong_namespace_type);
    CHECK(from.error().message() ==
          fmt::format("namespace type uts:[{}]: expected net, got uts", ino));

    auto empty = nsfun::UserNs::from(NsFd());
    REQUIRE_FALSE(empty);
    CHECK(empty.error() == std::errc::bad_file_descriptor);
    CHECK(empty.error().message() == "namespace type: expected user, got an empty NsFd");

    int raw = ::open("/proc/self/ns/cgroup", O_RDONLY | O_CLOEXEC);
    REQUIRE(raw >= 0);
    auto adopted = NsFd::adopt(nsfun::UniqueFd::adopt(raw), NsType::time);
    REQUIRE_FALSE(adopted);
    CHECK(adopted.error().message() ==
          fmt::format("namespace type fd {}: expected time, got cgroup", raw));
  }

  TEST_CASE("typed handles refuse other types") {
    auto net = nsfun::NetNs::current();
    REQUIRE(net);
    CHECK(net.value().identity().type() == NsType::net);
    const NsFd& any = net.value();  // a typed handle is usable wherever an NsFd is
    CHECK(any.type() == NsType::net);
    auto uts = NsFd::current(NsType::uts);
    REQUIRE(uts);
    auto as_net = nsfun::NetNs::from(std::move(uts).value());
    REQUIRE_FALSE(as_net);
    CHECK(as_net.error() == nsfun::errc::wrong_namespace_type);
    auto by_path = nsfun::NetNs::open_path("/proc/self/ns/mnt");
    REQUIRE_FALSE(by_path);
    CHECK(by_path.error() == nsfun::errc::wrong_namespace_type);
    static_assert(nsfun::NetNs::type_v == NsType::net);
    static_assert(!std::is_convertible_v<nsfun::NetNs, nsfun::PidNs>);
  }

  TEST_CASE("adopt checks the fd and closes it on error") {
    int raw = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    REQUIRE(raw >= 0);
    auto r = NsFd::adopt(nsfun::UniqueFd::adopt(raw));
    REQUIRE_FALSE(r);
    CHECK(r.error() == nsfun::errc::not_a_namespace);
    CHECK(r.error().message() == fmt::format("NS_GET_NSTYPE fd {}: Not a namespace file", raw));
    CHECK(::fcntl(raw, F_GETFD) < 0);  // closed with the failed result

    int ns_raw = ::open("/proc/self/ns/ipc", O_RDONLY | O_CLOEXEC);
    auto ns = NsFd::adopt(nsfun::UniqueFd::adopt(ns_raw), NsType::ipc);
    REQUIRE(ns);
    CHECK(ns.value().get() == ns_raw);
  }

  TEST_CASE("open_pidfd matches open by pid") {
    auto pidfd = nsfun::pidfd_open(::getpid());
    REQUIRE(pidfd);
    for (nsfun::NsLink l : nsfun::all_ns_links) {
      auto a = NsFd::open_pidfd(pidfd.value(), l);
      auto b = NsFd::open(::getpid(), l);
      REQUIRE(a);
      REQUIRE(b);
      CHECK(a.value().identity() == b.value().identity());
    }
  }

  TEST_CASE("open_pidfd of an exited process is ESRCH") {
    pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      ::_exit(0);
    }
    auto pidfd = nsfun::pidfd_open(child);
    REQUIRE(pidfd);
    ::waitpid(child, nullptr, 0);
    auto r = NsFd::open_pidfd(pidfd.value(), nsfun::NsLink::net);
    REQUIRE_FALSE(r);
    CHECK(r.error() == std::errc::no_such_process);
    // PIDFD_GET_NET_NAMESPACE on Linux 6.11+, else the pid from fdinfo: either names the pidfd.
    const std::string text = r.error().message();
    CHECK_MESSAGE(text.find(fmt::format("pidfd {}", pidfd.value().get())) != std::string::npos,
                  text);
  }

  TEST_CASE("owner of an initial namespace is the initial user namespace") {
    auto net = NsFd::current(NsType::net);
    auto user = NsFd::current(NsType::user);
    REQUIRE(net);
    REQUIRE(user);
    auto owner = net.value().owner();
    if (!owner) {
      // Inside a container whose user namespace is not visible to us.
      CHECK(owner.error() == std::errc::operation_not_permitted);
      return;
    }
    CHECK(owner.value().type() == NsType::user);
    CHECK(owner.value().identity() == user.value().identity());
  }

  TEST_CASE("owner_uid is for user namespaces only") {
    auto user = NsFd::current(NsType::user);
    REQUIRE(user);
    auto uid = user.value().owner_uid();
    REQUIRE(uid);
    auto net = NsFd::current(NsType::net);
    auto bad = net.value().owner_uid();
    REQUIRE_FALSE(bad);
    CHECK(bad.error() == nsfun::errc::wrong_namespace_type);
    CHECK(bad.error().message() ==
          fmt::format("NS_GET_OWNER_UID {}: expected user, got net", net.value().identity()));
  }

  TEST_CASE("parent of a namespace without hierarchy is EINVAL") {
    auto net = NsFd::current(NsType::net);
    REQUIRE(net);
    auto p = net.value().parent();
    REQUIRE_FALSE(p);
    CHECK(p.error() == std::errc::invalid_argument);
  }

  TEST_CASE("ioctl errors name the namespace") {
    auto net = NsFd::current(NsType::net);
    REQUIRE(net);
    auto p = net.value().parent();
    REQUIRE_FALSE(p);
    CHECK(fmt::format("{}", p.error()) ==
          fmt::format("NS_GET_PARENT net:[{}]: Invalid argument", net.value().identity().ino()));
    const NsFd empty;
    auto owner = empty.owner();
    REQUIRE_FALSE(owner);
    CHECK(owner.error().message() == "NS_GET_USERNS empty NsFd: Bad file descriptor");
  }

  TEST_CASE("clone gives a second handle on the same namespace") {
    auto ns = NsFd::current(NsType::mnt);
    REQUIRE(ns);
    auto copy = ns.value().clone();
    REQUIRE(copy);
    CHECK(copy.value().get() != ns.value().get());
    CHECK(copy.value().identity() == ns.value().identity());
    auto raw = copy.value().release();
    CHECK_FALSE(copy.value());
    CHECK(raw);
  }

  TEST_CASE("a moved-from NsFd is empty: no fd and no identity") {
    static_assert(std::is_nothrow_move_constructible_v<NsFd>);
    static_assert(std::is_nothrow_move_assignable_v<NsFd>);
    static_assert(std::is_nothrow_destructible_v<NsFd>);
    auto a = NsFd::current(NsType::net);
    REQUIRE(a);
    const int fd = a.value().get();
    const nsfun::Namespace id = a.value().identity();

    NsFd b(std::move(a).value());
    CHECK(b.get() == fd);
    CHECK(b.identity() == id);
    CHECK_FALSE(a.value());  // NOLINT(bugprone-use-after-move): the moved-from state
    CHECK(a.value().get() == -1);
    CHECK(a.value().identity().empty());

    // Move-assignment closes the target's own fd first and empties the source.
    auto c = NsFd::current(NsType::uts);
    REQUIRE(c);
    const int uts_fd = c.value().get();
    c.value() = std::move(b);
    CHECK(::fcntl(uts_fd, F_GETFD) < 0);
    CHECK(c.value().get() == fd);
    CHECK(c.value().identity() == id);
    CHECK(b.get() == -1);  // NOLINT(bugprone-use-after-move)
    CHECK(b.identity().empty());

    // Moving onto itself keeps the fd open and the identity.
    NsFd& self = c.value();
    c.value() = std::move(self);
    CHECK(c.value().get() == fd);
    CHECK(::fcntl(fd, F_GETFD) >= 0);
    CHECK(c.value().identity() == id);

    // release() empties the same way.
    nsfun::UniqueFd raw = c.value().release();
    CHECK(raw.get() == fd);
    CHECK(c.value().get() == -1);
    CHECK(c.value().identity().empty());
  }

  TEST_CASE("a moved-from typed handle is empty") {
    static_assert(std::is_nothrow_move_constructible_v<nsfun::NetNs>);
    static_assert(std::is_nothrow_move_assignable_v<nsfun::NetNs>);
    static_assert(std::is_nothrow_destructible_v<nsfun::NetNs>);
    auto a = nsfun::NetNs::current();
    REQUIRE(a);
    const int fd = a.value().get();
    const nsfun::Namespace id = a.value().identity();
    nsfun::NetNs b(std::move(a).value());
    CHECK(b.get() == fd);
    CHECK_FALSE(a.value());  // NOLINT(bugprone-use-after-move)
    CHECK(a.value().identity().empty());

    auto c = nsfun::NetNs::current();
    REQUIRE(c);
    const int other = c.value().get();
    c.value() = std::move(b);
    CHECK(::fcntl(other, F_GETFD) < 0);
    CHECK(c.value().get() == fd);
    CHECK(c.value().identity() == id);
    CHECK(b.identity().empty());  // NOLINT(bugprone-use-after-move)

    nsfun::NetNs& self = c.value();
    c.value() = std::move(self);
    CHECK(c.value().get() == fd);
    CHECK(c.value().identity() == id);

    // Taking the NsFd out of a typed handle empties it too.
    NsFd plain = std::move(c.value()).ns();
    CHECK(plain.get() == fd);
    CHECK_FALSE(c.value());
    CHECK(c.value().identity().empty());
  }

  TEST_CASE("a moved-from NsFdSet is empty") {
    auto a = nsfun::NsFdSet::current(nsfun::NsTypeSet{NsType::net, NsType::uts});
    REQUIRE(a);
    nsfun::NsFdSet b(std::move(a).value());
    CHECK(b.types() == nsfun::NsTypeSet{NsType::net, NsType::uts});
    CHECK(a.value().empty());  // NOLINT(bugprone-use-after-move)
    CHECK(a.value().get(NsType::net) == nullptr);
    CHECK(a.value().take(NsType::net).identity().empty());
    const int net_fd = b.get(NsType::net)->get();
    auto c = nsfun::NsFdSet::current(nsfun::NsTypeSet{NsType::ipc});
    REQUIRE(c);
    const int ipc_fd = c.value().get(NsType::ipc)->get();
    c.value() = std::move(b);
    CHECK(::fcntl(ipc_fd, F_GETFD) < 0);
    CHECK(c.value().get(NsType::net)->get() == net_fd);
    CHECK(b.empty());  // NOLINT(bugprone-use-after-move)
  }

  TEST_CASE("NsFdSet opens several types and reports what it holds") {
    auto set = nsfun::NsFdSet::current(nsfun::NsTypeSet{NsType::net, NsType::uts});
    REQUIRE(set);
    CHECK(set.value().types() == nsfun::NsTypeSet{NsType::net, NsType::uts});
    REQUIRE(set.value().get(NsType::net) != nullptr);
    CHECK(set.value().get(NsType::pid) == nullptr);
    auto by_pid = nsfun::NsFdSet::open(::getpid(), nsfun::NsTypeSet::all());
    REQUIRE(by_pid);
    CHECK(by_pid.value().types() == nsfun::NsTypeSet::all());
    NsFd net = by_pid.value().take(NsType::net);
    CHECK(net);
    CHECK_FALSE(by_pid.value().types().contains(NsType::net));
  }
}
