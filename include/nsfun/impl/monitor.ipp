// SPDX-License-Identifier: MIT
// nsfun – NsMonitor: the implementation (see <nsfun/config.hpp>). This file holds the monitor
// itself (backend choice, the wait on an epoll fd, pull and push delivery), the liveness check
// every backend uses, and the poll backend; the BPF and connector backends are in
// <nsfun/impl/monitor_bpf.ipp> and <nsfun/impl/monitor_connector.ipp>, included at the end.
#pragma once

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <deque>
#include <new>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <nsfun/config.hpp>
#include <nsfun/detail/monitor_source.hpp>
#include <nsfun/detail/proc_util.hpp>
#include <nsfun/detail/scan_internal.hpp>
#include <nsfun/detail/sys.hpp>
#include <nsfun/detail/task_iter.hpp>
#include <nsfun/monitor.hpp>
#include <nsfun/proc_scan.hpp>
#include <nsfun/unique_fd.hpp>

namespace nsfun {

NSFUN_INLINE std::string_view name(MonitorBackend b) noexcept {
  switch (b) {
    case MonitorBackend::automatic:
      return "auto";
    case MonitorBackend::bpf:
      return "bpf";
    case MonitorBackend::connector:
      return "connector";
    case MonitorBackend::poll:
      return "poll";
  }
  return "?";
}

NSFUN_INLINE std::optional<MonitorBackend> monitor_backend_from_name(std::string_view s) noexcept {
  for (MonitorBackend b : {MonitorBackend::automatic, MonitorBackend::bpf,
                           MonitorBackend::connector, MonitorBackend::poll}) {
    if (s == name(b)) {
      return b;
    }
  }
  return std::nullopt;
}

NSFUN_INLINE std::string_view name(NsEventKind k) noexcept {
  switch (k) {
    case NsEventKind::appeared:
      return "NEW";
    case NsEventKind::gone:
      return "GONE";
    case NsEventKind::join:
      return "JOIN";
    case NsEventKind::leave:
      return "LEAVE";
    case NsEventKind::lost:
      return "LOST";
  }
  return "?";
}

// ---- what the backends share ----------------------------------------------------------------

namespace detail::monitor {

// nsfs file handles (linux/nsfs.h, linux/exportfs.h; Linux 6.18+).
inline constexpr int fileid_nsfs = 0xf1;
inline constexpr int fd_nsfs_root = -10003;

struct NsfsHandle {
  std::uint64_t ns_id;
  std::uint32_t ns_type;  // the CLONE_NEW* flag
  std::uint32_t ns_inum;
};

}  // namespace detail::monitor

NSFUN_INLINE detail::Liveness detail::ns_liveness(const Namespace& ns) noexcept {
  if (ns.id() == 0) {
    return Liveness::unknown;
  }
  alignas(file_handle) unsigned char storage[sizeof(file_handle) + sizeof(monitor::NsfsHandle)];
  auto* fh = reinterpret_cast<file_handle*>(storage);
  fh->handle_bytes = sizeof(monitor::NsfsHandle);
  fh->handle_type = monitor::fileid_nsfs;
  monitor::NsfsHandle h{ns.id(), static_cast<std::uint32_t>(clone_flag(ns.type())),
                        static_cast<std::uint32_t>(ns.ino())};
  std::memcpy(storage + sizeof(file_handle), &h, sizeof(h));
  int fd = ::open_by_handle_at(monitor::fd_nsfs_root, fh, O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    // close_range, not close: the BPF backend's programs hint at each close(2) of an nsfs fd
    // (the last holder may have let go), and a hint for each check would ask for the next check
    // without end. close where close_range is missing (before Linux 5.9).
#ifdef SYS_close_range
    if (::syscall(SYS_close_range, fd, fd, 0) == 0) {
      return Liveness::alive;
    }
#endif
    ::close(fd);
    return Liveness::alive;
  }
  return errno == ESTALE || errno == ENOENT ? Liveness::gone : Liveness::unknown;
}

NSFUN_INLINE std::uint64_t detail::ns_id_of(int nsfs_fd) noexcept {
  std::uint64_t id = 0;
  if (::ioctl(nsfs_fd, sys::ns_get_id, &id) < 0) {
    return 0;
  }
  return id;
}

NSFUN_INLINE Namespace detail::read_ns_with_id(int proc_fd,
                                               std::uint64_t nsfs_dev,
                                               pid_t pid,
                                               NsLink link) noexcept {
  sys::PathBuf path;
  path.add(static_cast<long>(pid)).add("/ns/").add(name(link));
  alignas(file_handle) unsigned char storage[sizeof(file_handle) + 64] = {};
  auto* fh = reinterpret_cast<file_handle*>(storage);
  fh->handle_bytes = 64;
  int mount_id = 0;
  if (::name_to_handle_at(proc_fd, path.c_str(), fh, &mount_id, AT_SYMLINK_FOLLOW) == 0) {
    if (fh->handle_type == monitor::fileid_nsfs &&
        fh->handle_bytes >= sizeof(monitor::NsfsHandle)) {
      monitor::NsfsHandle h{};
      std::memcpy(&h, storage + sizeof(file_handle), sizeof(h));
      return Namespace(type_of(link), nsfs_dev, h.ns_inum, h.ns_id);
    }
  } else if (errno == ENOENT || errno == ESRCH || errno == EACCES || errno == EPERM) {
    return {};
  }
  // No nsfs file handles (before Linux 6.18): open it and ask.
  int fd = ::openat(proc_fd, path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    return {};
  }

  struct stat st {};

  Namespace ns;
  if (::fstat(fd, &st) == 0) {
    ns = Namespace(type_of(link), st.st_dev, st.st_ino, ns_id_of(fd));
  }
  ::close(fd);
  return ns;
}

NSFUN_INLINE std::uint64_t detail::owner_of(int proc_fd, pid_t pid, NsLink link) noexcept {
  sys::PathBuf path;
  path.add(static_cast<long>(pid)).add("/ns/").add(name(link));
  int fd = ::openat(proc_fd, path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    return 0;
  }
  int owner = ::ioctl(fd, type_of(link) == NsType::user ? sys::ns_get_parent : sys::ns_get_userns);
  ::close(fd);
  if (owner < 0) {
    return 0;
  }

  struct stat st {};

  std::uint64_t ino = ::fstat(owner, &st) == 0 ? std::uint64_t{st.st_ino} : 0;
  ::close(owner);
  return ino;
}

namespace detail::monitor {

// /proc/PID/comm, or "" when the process is gone.
[[nodiscard]] inline std::string read_comm(int proc_fd, pid_t pid) {
  sys::PathBuf path;
  path.add(static_cast<long>(pid)).add("/comm");
  int fd = ::openat(proc_fd, path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return {};
  }
  char buf[64];
  ssize_t n = ::read(fd, buf, sizeof(buf));
  ::close(fd);
  if (n <= 0) {
    return {};
  }
  std::string s(buf, static_cast<std::size_t>(n));
  if (!s.empty() && s.back() == '\n') {
    s.pop_back();
  }
  return s;
}

// What a rescan reads: every process's links, by the scanner, on one thread (a monitor's rescan
// is background work: no helper threads to start each time). Where the BPF task iterator may be
// loaded, it is loaded once and kept attached for the monitor's life (a BPF link, nothing pinned:
// closed with the monitor), so that a rescan is one pass of the iterator plus a listing of /proc
// (about 1 ms for 1,000 processes here) instead of a load and verification of the program each
// time, or ten readlinkat calls a process. A process the pass missed (one started after it) is
// read from /proc, as the scanner always does.
class Rescanner {
 public:
  Rescanner(int proc_fd, std::uint64_t nsfs_dev) noexcept
      : proc_fd_(proc_fd), nsfs_dev_(nsfs_dev), iter_(TaskIterLink::open()) {}

  [[nodiscard]] result<ProcScan> scan(ProcScanOptions so) {
    so.workers = 1;
    NSFUN_TRY(ProcScan scan, scan_procs_at(proc_fd_, nsfs_dev_, so, iter_ ? &iter_ : nullptr));
    if (iter_ && so.task_iter && !scan.stats.task_iter) {
      iter_ = TaskIterLink();  // it does not answer here (another pid namespace): /proc from now on
    }
    return scan;
  }

 private:
  int proc_fd_;
  std::uint64_t nsfs_dev_;
  TaskIterLink iter_;
};

// The key of an inode some process shows, within one rescan.
[[nodiscard]] inline std::uint64_t shown_key(NsType t, std::uint64_t ino) noexcept {
  return ino * 8U + static_cast<std::uint64_t>(t);
}

// One rescan against what a backend knows (the poll and connector backends share it). A known
// namespace is GONE when the kernel says its id is stale, or, where the kernel cannot tell (no
// ids, or not permitted), when no process shows it any longer (the bash tool's rule); one that
// only a bind mount or an fd still holds stays alive where ids answer. A namespace seen for the
// first time is NEW (unless `primed` is false: the first look learns what exists), with the
// lowest pid showing it, its comm and the owning user namespace. An id reported GONE while a
// process still shows it is buried: never NEW again, forgotten once no process shows it.
// Returns the namespace (with its id) behind each inode a process shows, by shown_key().
[[nodiscard]] inline std::unordered_map<std::uint64_t, Namespace> reconcile(
    const ProcScan& scan,
    NsTypeSet types,
    int proc_fd,
    std::uint64_t nsfs_dev,
    LiveSet& live,
    Buried& buried,
    bool primed,
    std::uint64_t now,
    std::deque<NsEvent>& out,
    std::uint64_t& rechecks) {
  struct Seen {
    pid_t pid;
    NsLink link;
    bool matched;
  };

  // Every namespace a process shows, with the lowest pid in it.
  std::unordered_map<std::uint64_t, Seen> seen;
  seen.reserve(live.size() + 16);
  for (const ProcEntry& p : scan.procs) {
    for (NsLink l : all_ns_links) {
      std::uint64_t ino = p.ino[static_cast<std::size_t>(l)];
      if (ino != 0 && types.contains(type_of(l))) {
        seen.try_emplace(shown_key(type_of(l), ino), Seen{p.pid, l, false});
      }
    }
  }

  // The known ones: still alive?
  std::unordered_map<std::uint64_t, Namespace> resolved;
  resolved.reserve(seen.size());
  live.erase_if([&](LiveSet::Entry& e) {
    auto it = seen.find(shown_key(e.ns.type(), e.ns.ino()));
    bool present = it != seen.end();
    Liveness lv = Liveness::unknown;
    if (e.ns.id() != 0) {
      ++rechecks;
      lv = ns_liveness(e.ns);
    }
    if (lv == Liveness::alive || (lv == Liveness::unknown && present)) {
      if (present) {
        it->second.matched = true;
        resolved[it->first] = e.ns;
      }
      e.in_procs = present;
      return false;
    }
    out.push_back(LiveSet::gone_event(e, now));
    if (e.ns.id() != 0) {
      buried.insert(key_of(e.ns));
    }
    return true;  // a process showing its inode now is in a new namespace that reuses it
  });

  // The new ones.
  Buried still_shown;
  for (auto& [key, s] : seen) {
    if (s.matched) {
      continue;
    }
    Namespace ns = read_ns_with_id(proc_fd, nsfs_dev, s.pid, s.link);
    std::uint64_t ino = key / 8U;
    if (ns.empty() || ns.ino() != ino) {  // the process left it meanwhile: no id
      ns = Namespace(type_of(s.link), nsfs_dev, ino);
    }
    resolved[key] = ns;
    if (ns.id() != 0 && buried.count(key_of(ns)) != 0) {
      still_shown.insert(key_of(ns));
      continue;
    }
    if (live.add(ns, primed ? now : 0) && primed) {
      NsEvent e = make_event(NsEventKind::appeared, ns, now);
      e.pid = s.pid;
      e.tid = s.pid;
      e.comm = read_comm(proc_fd, s.pid);
      e.owner = owner_of(proc_fd, s.pid, s.link);
      out.push_back(std::move(e));
    }
  }
  for (auto it = buried.begin(); it != buried.end();) {
    it = still_shown.count(*it) != 0 ? std::next(it) : buried.erase(it);
  }
  return resolved;
}

// ---- the poll backend: rescans of /proc -----------------------------------------------------
//
// Each `interval`, one pass of the scanner (with its BPF task iterator where allowed) over every
// process's links, reconciled with what is known (reconcile() above), and JOIN/LEAVE from the
// difference to the previous pass.
class PollSource final : public MonitorSource {
 public:
  PollSource(const MonitorOptions& options, UniqueFd proc, std::uint64_t nsfs_dev) noexcept
      : options_(options),
        proc_(std::move(proc)),
        nsfs_dev_(nsfs_dev),
        rescanner_(proc_.get(), nsfs_dev) {}

  [[nodiscard]] int fd() const noexcept override { return -1; }

  [[nodiscard]] std::uint64_t deadline() const noexcept override { return next_; }

  void add_stats(MonitorStats& s) const noexcept override {
    s.rescans += rescans_;
    s.rechecks += rechecks_;
  }

  [[nodiscard]] result<void> pump(std::deque<NsEvent>& out, std::uint64_t now) noexcept override {
    if (now < next_) {
      return success();
    }
    auto period = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(options_.interval).count());
    next_ = now + std::max<std::uint64_t>(period, 1'000'000);
    try {
      return rescan(out, now);
    } catch (const std::bad_alloc&) {
      return errno_error(ENOMEM, "monitor rescan");
    }
  }

  // The first rescan: what exists now is known, not NEW.
  [[nodiscard]] result<void> prime() noexcept {
    std::deque<NsEvent> ignored;
    NSFUN_TRYV(pump(ignored, monotonic_ns()));
    return success();
  }

 private:
  [[nodiscard]] result<void> rescan(std::deque<NsEvent>& out, std::uint64_t now) {
    ProcScanOptions so;
    so.types = options_.types;
    so.for_children = true;
    so.ppid = options_.processes;  // comm for JOIN/LEAVE
    NSFUN_TRY(ProcScan scan, rescanner_.scan(so));
    ++rescans_;
    (void)reconcile(scan, options_.types, proc_.get(), nsfs_dev_, live_, buried_, primed_, now, out,
                    rechecks_);
    if (options_.processes) {
      track_processes(scan, out, now);
    }
    primed_ = true;
    return success();
  }

  // JOIN and LEAVE: a process in a namespace it was not in at the last rescan (fork, clone,
  // setns, unshare), or no longer in one it was in (setns, unshare, exit).
  void track_processes(const ProcScan& scan, std::deque<NsEvent>& out, std::uint64_t now) {
    std::unordered_map<pid_t, Member> next;
    next.reserve(scan.procs.size());
    auto emit = [&](NsEventKind k, NsType t, std::uint64_t ino, pid_t pid,
                    const std::string& comm) {
      NsEvent e = make_event(k, Namespace(t, nsfs_dev_, ino), now);
      e.pid = pid;
      e.tid = pid;
      e.comm = comm;
      out.push_back(std::move(e));
    };
    for (const ProcEntry& p : scan.procs) {
      if (p.tid != p.pid) {
        continue;
      }
      Member m{{}, p.comm};
      for (NsType t : all_ns_types) {
        m.ino[static_cast<std::size_t>(t)] = p.ino[static_cast<std::size_t>(link_of(t))];
      }
      if (primed_) {
        auto old = members_.find(p.pid);
        for (NsType t : all_ns_types) {
          if (!options_.types.contains(t)) {
            continue;
          }
          auto i = static_cast<std::size_t>(t);
          std::uint64_t before = old == members_.end() ? 0 : old->second.ino[i];
          if (before == m.ino[i]) {
            continue;
          }
          if (before != 0) {
            emit(NsEventKind::leave, t, before, p.pid, p.comm);
          }
          if (m.ino[i] != 0) {
            emit(NsEventKind::join, t, m.ino[i], p.pid, p.comm);
          }
        }
      }
      next.emplace(p.pid, std::move(m));
    }
    if (primed_) {
      for (const auto& [pid, m] : members_) {
        if (next.count(pid) != 0) {
          continue;
        }
        for (NsType t : all_ns_types) {
          auto i = static_cast<std::size_t>(t);
          if (options_.types.contains(t) && m.ino[i] != 0) {
            emit(NsEventKind::leave, t, m.ino[i], pid, m.comm);
          }
        }
      }
    }
    members_ = std::move(next);
  }

  struct Member {
    std::array<std::uint64_t, ns_type_count> ino;
    std::string comm;
  };

  MonitorOptions options_;
  UniqueFd proc_;
  std::uint64_t nsfs_dev_;
  Rescanner rescanner_;
  LiveSet live_;
  std::unordered_map<pid_t, Member> members_;
  Buried buried_;
  std::uint64_t next_ = 0;
  bool primed_ = false;
  std::uint64_t rescans_ = 0;
  std::uint64_t rechecks_ = 0;
};

}  // namespace detail::monitor

NSFUN_INLINE result<std::unique_ptr<detail::MonitorSource>> detail::open_poll_source(
    const MonitorOptions& options) noexcept {
  NSFUN_TRY(UniqueFd proc, open_proc());
  NSFUN_TRY(std::uint64_t dev, nsfs_dev(proc.get()));
  try {
    auto src = std::make_unique<monitor::PollSource>(options, std::move(proc), dev);
    NSFUN_TRYV(src->prime());
    return std::unique_ptr<MonitorSource>(std::move(src));
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "start the poll monitor");
  }
}

// ---- NsMonitor --------------------------------------------------------------------------------

struct NsMonitor::Impl {
  MonitorBackend backend = MonitorBackend::poll;
  std::string why;
  std::unique_ptr<detail::MonitorSource> source;
  UniqueFd epoll;
  UniqueFd timer;
  std::deque<NsEvent> queue;
  std::uint64_t events = 0;

  // Sets the timer to the source's deadline (or disarms it).
  void arm() noexcept {
    std::uint64_t d = source->deadline();
    itimerspec its{};
    if (d != 0) {
      its.it_value.tv_sec = static_cast<time_t>(d / 1'000'000'000U);
      its.it_value.tv_nsec = static_cast<long>(d % 1'000'000'000U);
      if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0) {
        its.it_value.tv_nsec = 1;
      }
    }
    ::timerfd_settime(timer.get(), TFD_TIMER_ABSTIME, &its, nullptr);
  }

  [[nodiscard]] result<void> pump() noexcept {
    std::uint64_t expirations = 0;
    (void)!::read(timer.get(), &expirations, sizeof(expirations));  // EAGAIN when not due
    NSFUN_TRYV(source->pump(queue, detail::monotonic_ns()));
    arm();
    return success();
  }
};

NSFUN_INLINE NsMonitor::NsMonitor(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}

NSFUN_INLINE NsMonitor::NsMonitor(NsMonitor&&) noexcept = default;
NSFUN_INLINE NsMonitor& NsMonitor::operator=(NsMonitor&&) noexcept = default;
NSFUN_INLINE NsMonitor::~NsMonitor() = default;

NSFUN_INLINE result<NsMonitor> NsMonitor::open(const MonitorOptions& options) noexcept {
  if (options.types.empty()) {
    return nsfun_error(errc::empty_namespace_type_list, "start a monitor").on("types");
  }
  if (options.interval.count() <= 0) {
    return errno_error(EINVAL, "start a monitor")
        .on("interval ", options.interval.count(), " ms")
        .because("the interval must be at least 1 ms");
  }
  auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  if (options.ring_bytes < page || (options.ring_bytes & (options.ring_bytes - 1)) != 0) {
    return errno_error(EINVAL, "start a monitor")
        .on("ring_bytes ", options.ring_bytes)
        .because("the ring buffer size must be a power of two of at least one page");
  }
  try {
    auto impl = std::make_unique<Impl>();
    using Opener =
        result<std::unique_ptr<detail::MonitorSource>> (*)(const MonitorOptions&) noexcept;

    struct Choice {
      MonitorBackend backend;
      Opener open;
    };

    constexpr std::array<Choice, 3> choices{{
        {MonitorBackend::bpf, &detail::open_bpf_source},
        {MonitorBackend::connector, &detail::open_connector_source},
        {MonitorBackend::poll, &detail::open_poll_source},
    }};
    std::optional<error> last;
    for (const Choice& c : choices) {
      if (options.backend != MonitorBackend::automatic && options.backend != c.backend) {
        continue;
      }
      auto src = c.open(options);
      if (!src) {
        if (options.backend != MonitorBackend::automatic) {
          return std::move(src).error().with_context("monitor with backend ", name(c.backend));
        }
        impl->why += name(c.backend);
        impl->why += " unavailable (";
        impl->why += src.error().message();
        impl->why += "); ";
        last = src.error();
        continue;
      }
      impl->backend = c.backend;
      impl->source = std::move(src).value();
      impl->why += options.backend == MonitorBackend::automatic ? "using " : "using (as asked) ";
      impl->why += name(c.backend);
      break;
    }
    if (!impl->source) {
      return std::move(*last).with_context("start a monitor");
    }
    int ep = ::epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) {
      return detail::sys::last_error("epoll_create1").on("monitor");
    }
    impl->epoll = UniqueFd::adopt(ep);
    int tf = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (tf < 0) {
      return detail::sys::last_error("timerfd_create").on("monitor");
    }
    impl->timer = UniqueFd::adopt(tf);
    for (int fd : {impl->timer.get(), impl->source->fd()}) {
      if (fd < 0) {
        continue;
      }
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.fd = fd;
      if (::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
        return detail::sys::last_error("epoll_ctl").on("monitor");
      }
    }
    impl->arm();
    return NsMonitor(std::move(impl));
  } catch (const std::bad_alloc&) {
    return errno_error(ENOMEM, "start a monitor");
  }
}

NSFUN_INLINE MonitorBackend NsMonitor::backend() const noexcept {
  return impl_->backend;
}

NSFUN_INLINE const std::string& NsMonitor::why() const noexcept {
  return impl_->why;
}

NSFUN_INLINE int NsMonitor::fd() const noexcept {
  return impl_->epoll.get();
}

NSFUN_INLINE result<std::optional<NsEvent>> NsMonitor::next(
    std::chrono::milliseconds timeout) noexcept {
  Impl& m = *impl_;
  std::uint64_t start = detail::monotonic_ns();
  auto limit = timeout.count() < 0
                   ? ~std::uint64_t{0}
                   : start + static_cast<std::uint64_t>(timeout.count()) * 1'000'000U;
  for (;;) {
    if (!m.queue.empty()) {
      std::optional<NsEvent> e(std::move(m.queue.front()));
      m.queue.pop_front();
      ++m.events;
      return e;
    }
    NSFUN_TRYV(m.pump());
    if (!m.queue.empty()) {
      continue;
    }
    std::uint64_t now = detail::monotonic_ns();
    if (now >= limit) {
      return std::optional<NsEvent>{};
    }
    int wait_ms = -1;
    if (limit != ~std::uint64_t{0}) {
      wait_ms =
          static_cast<int>(std::min<std::uint64_t>((limit - now + 999'999U) / 1'000'000U, 60'000U));
    }
    epoll_event evs[4];
    int n = ::epoll_wait(m.epoll.get(), evs, 4, wait_ms);
    if (n < 0 && errno != EINTR) {
      return detail::sys::last_error("epoll_wait").on("monitor");
    }
    if (n < 0) {
      return std::optional<NsEvent>{};  // a signal: let the caller look at its flags
    }
  }
}

NSFUN_INLINE result<void> NsMonitor::run(const std::function<bool(const NsEvent&)>& fn,
                                         int stop_fd) noexcept {
  for (;;) {
    for (;;) {
      NSFUN_TRY(std::optional<NsEvent> e, next(std::chrono::milliseconds(0)));
      if (!e) {
        break;
      }
      if (!fn(*e)) {
        return success();
      }
    }
    pollfd pfd[2] = {{fd(), POLLIN, 0}, {stop_fd, POLLIN, 0}};
    int n = ::poll(pfd, stop_fd < 0 ? 1 : 2, -1);
    if (n < 0 && errno != EINTR) {
      return detail::sys::last_error("poll").on("monitor");
    }
    if (stop_fd >= 0 && (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      return success();
    }
  }
}

NSFUN_INLINE MonitorStats NsMonitor::stats() const noexcept {
  MonitorStats s;
  s.events = impl_->events;
  impl_->source->add_stats(s);
  return s;
}

NSFUN_INLINE result<MonitorThreadPriority> favor_monitor_thread(int nice) noexcept {
  if (nice < -20 || nice > 19) {
    return errno_error(EINVAL, "favor the monitor thread")
        .on("nice ", nice)
        .because("a nice value is -20 to 19");
  }

  // struct sched_attr (linux/sched/types.h), spelled out: glibc 2.36 has no wrapper.
  struct SchedAttr {
    std::uint32_t size;
    std::uint32_t sched_policy;
    std::uint64_t sched_flags;
    std::int32_t sched_nice;
    std::uint32_t sched_priority;
    std::uint64_t sched_runtime;
    std::uint64_t sched_deadline;
    std::uint64_t sched_period;
  };

  constexpr std::uint64_t slice_ns = 100'000;
  SchedAttr a{};
  a.size = sizeof(a);
  a.sched_policy = SCHED_OTHER;
  a.sched_nice = nice;
  a.sched_runtime = slice_ns;
  if (::syscall(SYS_sched_setattr, 0, &a, 0U) == 0) {
    return MonitorThreadPriority{nice, std::chrono::microseconds(slice_ns / 1000)};
  }
  if (errno != EPERM && errno != EACCES) {
    return errno_error(errno, "sched_setattr").on("nice ", nice, ", slice 100 us");
  }
  // Not permitted to raise the priority: the slice alone, at the thread's own nice value.
  errno = 0;
  int own = ::getpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()));
  if (own == -1 && errno != 0) {
    return errno_error(errno, "getpriority").on("the calling thread");
  }
  a.sched_nice = own;
  if (::syscall(SYS_sched_setattr, 0, &a, 0U) == 0) {
    return MonitorThreadPriority{own, std::chrono::microseconds(slice_ns / 1000)};
  }
  return errno_error(errno, "sched_setattr").on("nice ", own, ", slice 100 us");
}

}  // namespace nsfun

#include <nsfun/impl/monitor_bpf.ipp>
#include <nsfun/impl/monitor_connector.ipp>
